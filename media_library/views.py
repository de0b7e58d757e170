"""The marketers' media page: drag-and-drop uploads, the library grid, mirroring."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib import admin, messages
from django.core.paginator import Paginator
from django.db.models import Prefetch, Q, QuerySet
from django.http import FileResponse, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from gupshup_admin import uploads
from gupshup_admin.access import permission_required
from gupshup_admin.exceptions import ApplicationError
from gupshup_admin.models import CommBoxChannel, PartnerApp
from media_library import selectors, services, serving
from media_library.models import MediaFile, MediaState, ProviderMedia
from media_library.upload_rules import OTHER_BOX, MediaRejected

PAGE_SIZE = 24
BUSY_RETRY_SECONDS = 5
VIEW = "media_library.view_mediafile"
MIRROR = "media_library.change_mediafile"
STATES = ["ready", "expiring", "expired", "failed", "pending"]


def _state_condition(state: str) -> Q | None:
    now = timezone.now()
    soon = now + timedelta(days=settings.MEDIA_REFRESH_WITHIN_DAYS)
    conditions = {
        "ready": selectors.media_usable_until(now, via="mirrors__"),
        "expiring": Q(
            mirrors__state=MediaState.READY, mirrors__expires_at__range=(now, soon)
        ),
        "expired": Q(mirrors__state=MediaState.EXPIRED)
        | Q(mirrors__state=MediaState.READY, mirrors__expires_at__lte=now),
        "failed": Q(mirrors__state=MediaState.FAILED),
        "pending": Q(mirrors__state__in=[MediaState.PENDING, MediaState.UPLOADING]),
    }
    return conditions.get(state)


def _filtered(request: HttpRequest) -> QuerySet[MediaFile]:
    files = MediaFile.objects.all()
    query = request.GET.get("q", "").strip()
    if query:
        files = files.filter(
            Q(original_name__icontains=query) | Q(mirrors__media_id=query)
        )
    if kind := request.GET.get("kind"):
        files = files.filter(kind=kind)
    if (app := request.GET.get("app", "")).isdigit():
        files = files.filter(mirrors__partner_app_id=int(app))
    condition = _state_condition(request.GET.get("state", ""))
    if condition is not None:
        files = files.filter(condition)
    return files.distinct()


@permission_required(VIEW, doing="see the media library")
@require_GET
def library(request: HttpRequest) -> HttpResponse:
    mirrors = ProviderMedia.objects.select_related("partner_app", "commbox_channel")
    files = _filtered(request).prefetch_related(Prefetch("mirrors", queryset=mirrors))
    page = Paginator(files, PAGE_SIZE).get_page(request.GET.get("page"))
    context: dict[str, Any] = {
        **admin.site.each_context(request),
        "page": page,
        "apps": PartnerApp.objects.filter(is_active=True),
        "app_choices": selectors.mirror_choices(),
        "channels": CommBoxChannel.objects.filter(is_active=True),
        "kinds": ["image", "video", "audio", "document"],
        "states": STATES,
        "filters": request.GET,
        "title": "Media library",
        "image_limit": settings.MEDIA_MAX_IMAGE_BYTES,
        "video_limit": settings.MEDIA_MAX_VIDEO_BYTES,
        "document_limit": settings.MEDIA_MAX_DOCUMENT_BYTES,
        "other_box": OTHER_BOX,
        "now": timezone.now(),
    }
    return render(request, "media_library/library.html", context)


@permission_required("media_library.add_mediafile", doing="upload media")
@require_POST
def upload(request: HttpRequest) -> JsonResponse:
    """One file per request, so the page can show a progress bar per file.

    The body is bounded before and while it is read (gupshup_admin/uploads.py).
    `kind=image` comes from the box that takes images only; without it any
    allowed file is taken.
    """
    uploaded = request.FILES.get("file")
    if uploads.upload_was_too_large(request):
        return uploads.too_large_response()
    if uploaded is None:
        return JsonResponse(
            {"error": "No file was received. Choose a file."}, status=400
        )
    kind = request.POST.get("kind", "")
    if kind not in ("", "image"):
        return JsonResponse(
            {"error": f"Unknown kind {kind!r}: send kind=image or no kind."},
            status=400,
        )
    try:
        result = services.media_file_create(
            fileobj=uploaded,
            name=uploaded.name or "",
            claimed_type=uploaded.content_type or "",
            user_id=request.user.pk,
            images_only=kind == "image",
        )
    except MediaRejected as exc:
        return _refused(exc)
    media = result.media_file
    apps, channels = _targets(request)
    not_mirrored = ""
    if apps or channels:
        try:
            services.media_mirror_request(
                media_file=media, apps=apps, channels=channels, user_id=request.user.pk
            )
        except ApplicationError as exc:  # the file is kept all the same
            not_mirrored = f"Not mirrored: {exc.message}"
    return JsonResponse(
        {
            "id": media.pk,
            "name": media.original_name,
            "created": result.created,
            "note": " ".join(filter(None, [result.note, not_mirrored])),
        },
        status=201 if result.created else 200,
    )


def _refused(exc: MediaRejected) -> JsonResponse:
    """400 for a file that cannot be used; 503 to try again when only the server
    was busy (the page retries it by itself)."""
    busy = exc.code == "busy"
    response = JsonResponse(
        {"error": exc.message, "code": exc.code}, status=503 if busy else 400
    )
    if busy:
        response["Retry-After"] = str(BUSY_RETRY_SECONDS)
    return response


@permission_required(MIRROR, doing="mirror media")
@require_POST
def mirror(request: HttpRequest, pk: int) -> HttpResponse:
    media = get_object_or_404(MediaFile, pk=pk)
    apps, channels = _targets(request)
    if not apps and not channels:
        messages.error(request, "Choose at least one app or channel to mirror to.")
        return _back_to_library(request)
    try:
        rows = services.media_mirror_request(
            media_file=media,
            apps=apps,
            channels=channels,
            user_id=request.user.pk,
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request, f"{media}: mirroring to {len(rows)} target(s) queued."
        )
    return _back_to_library(request)


@permission_required(MIRROR, doing="mirror media")
@require_POST
def retry(request: HttpRequest, pk: int) -> HttpResponse:
    media = get_object_or_404(MediaFile, pk=pk)
    count = services.media_mirror_retry(media_files=[media], user_id=request.user.pk)
    messages.success(request, f"{media}: {count} media id(s) queued again.")
    return _back_to_library(request)


def _back_to_library(request: HttpRequest) -> HttpResponse:
    """Back to the page the form was on; never to another site (open redirect)."""
    target = request.POST.get("next", "")
    safe = url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return redirect(target if safe else "media_library:library")


def _targets(request: HttpRequest) -> tuple[list[PartnerApp], list[CommBoxChannel]]:
    """The active apps and channels ticked in the form (`app`, `channel` ids)."""
    app_ids = [i for i in request.POST.getlist("app") if i.isdigit()]
    channel_ids = [i for i in request.POST.getlist("channel") if i.isdigit()]
    return (
        list(PartnerApp.objects.filter(pk__in=app_ids, is_active=True)),
        list(CommBoxChannel.objects.filter(pk__in=channel_ids, is_active=True)),
    )


@permission_required(VIEW, doing="see the media library")
@require_GET
def thumbnail(request: HttpRequest, pk: int) -> FileResponse:
    """Image bytes with their sniffed type; never served as HTML or SVG."""
    media = get_object_or_404(MediaFile, pk=pk, kind="image")
    return serving.media_file_response(media=media)
