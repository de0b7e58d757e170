"""Media library services: store an upload, mirror it to targets, keep ids fresh."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import IO

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from gupshup_admin import commbox_channels
from gupshup_admin import services as app_services
from gupshup_admin.exceptions import ApplicationError
from gupshup_admin.models import CommBoxChannel, PartnerApp
from gupshup_admin.providers.errors import (
    AuthenticationError,
    NotCapiAppError,
    ProviderError,
)
from gupshup_admin.providers.gupshup import GupshupAppClient, MediaId
from gupshup_admin.taskutils import enqueue_later, enqueue_on_commit
from media_library import selectors, tasks
from media_library.models import (
    MediaFile,
    MediaState,
    MirrorMethod,
    ProviderMedia,
    https_only,
)
from media_library.upload_rules import MediaRejected
from media_library.validation import check_upload


@dataclass(frozen=True)
class UploadResult:
    media_file: MediaFile
    created: bool
    note: str


def media_file_create(
    *,
    fileobj: IO[bytes],
    name: str,
    claimed_type: str = "",
    user_id: int | None = None,
    public_url: str = "",
    images_only: bool = False,
) -> UploadResult:
    """Validate and store an upload; the same bytes twice give the existing file,
    also when they arrive at the same moment (the unique sha256 decides).

    Raises MediaRejected (nothing stored) with what was wrong and what is allowed.
    """
    if public_url:
        try:
            https_only(public_url)
        except ValidationError as exc:
            raise MediaRejected(" ".join(exc.messages), code="bad_url") from None
    checked, stream = check_upload(
        fileobj, name=name, claimed_type=claimed_type, images_only=images_only
    )
    existing = MediaFile.objects.filter(sha256=checked.sha256).first()
    if existing is not None:
        return _already_there(existing)
    media = MediaFile(
        original_name=checked.safe_name,
        content_type=checked.content_type,
        kind=checked.kind,
        size=checked.size,
        sha256=checked.sha256,
        width=checked.width,
        height=checked.height,
        public_url=public_url,
        note=checked.note,
        uploaded_by_id=user_id,
    )
    # Store the bytes first; if the row cannot be saved, remove them again.
    media.file.save(checked.safe_name, File(stream), save=False)
    try:
        with transaction.atomic():
            media.save()
    except IntegrityError:
        media.file.delete(save=False)
        # Someone stored the same bytes since the lookup above: theirs is the file.
        existing = MediaFile.objects.filter(sha256=checked.sha256).first()
        if existing is None:
            raise
        return _already_there(existing)
    except Exception:
        media.file.delete(save=False)
        raise
    return UploadResult(media, True, checked.note)


def _already_there(existing: MediaFile) -> UploadResult:
    return UploadResult(existing, False, f"Already in the library as {existing}.")


def media_mirror_request(
    *,
    media_file: MediaFile,
    apps: Sequence[PartnerApp] = (),
    channels: Sequence[CommBoxChannel] = (),
    user_id: int | None = None,
) -> list[ProviderMedia]:
    """Queue mirroring of a file to each target (rows that are ready stay ready).

    Raises ApplicationError, queueing nothing, when an app is not a CAPI app
    (Gupshup would refuse every attempt).
    """
    refusals = [selectors.mirror_refusal(app=app) for app in apps]
    if any(refusals):
        raise ApplicationError(" ".join(filter(None, refusals)))
    rows = []
    for app in apps:
        row, _ = ProviderMedia.objects.get_or_create(
            media_file=media_file, partner_app=app
        )
        rows.append(row)
    for channel in channels:
        row, _ = ProviderMedia.objects.get_or_create(
            media_file=media_file, commbox_channel=channel
        )
        rows.append(row)
    for row in rows:
        if row.state != MediaState.READY:
            enqueue_on_commit(tasks.mirror_media, row.pk, user_id)
    return rows


_CLAIMABLE = [
    MediaState.PENDING,
    MediaState.FAILED,
    MediaState.EXPIRED,
    MediaState.READY,
]


def provider_media_mirror(
    *, provider_media_id: int, user_id: int | None = None
) -> None:
    """Make (or remake) the media id of one row. Safe to run twice at once: only
    the worker that claims the row (→ uploading) calls the provider."""
    claimed = ProviderMedia.objects.filter(
        pk=provider_media_id, state__in=_CLAIMABLE
    ).update(state=MediaState.UPLOADING, attempts=F("attempts") + 1)
    if not claimed:
        return
    row = ProviderMedia.objects.select_related(
        "media_file", "partner_app", "commbox_channel"
    ).get(pk=provider_media_id)
    try:
        media_id, method, exchange_id = _upload(row, user_id)
    except (ProviderError, ApplicationError) as exc:
        _mirror_failed(row, exc, user_id)
        return
    now = timezone.now()
    row.state, row.media_id, row.method = MediaState.READY, media_id, method
    row.uploaded_at = now
    row.expires_at = now + media_id_lifetime()
    row.exchange_id, row.last_error = exchange_id, ""
    row.save()


def media_id_lifetime() -> timedelta:
    """How long a fresh media id is trusted: 30 days minus the safety margin."""
    return timedelta(days=settings.MEDIA_ID_LIFETIME_DAYS) - timedelta(
        hours=settings.MEDIA_EXPIRY_MARGIN_HOURS
    )


def _upload(row: ProviderMedia, user_id: int | None) -> tuple[str, str, int | None]:
    media = row.media_file
    if row.commbox_channel is not None:
        with media.file.open("rb") as fh:
            result = commbox_channels.commbox_channel_upload(
                channel=row.commbox_channel,
                fileobj=fh,
                size=media.size,
                filename=media.original_name,
                content_type=media.content_type,
                user_id=user_id,
            )
        return result.media_id, MirrorMethod.FILE, result.exchange_id
    assert row.partner_app is not None
    if media.public_url:
        gup = app_services.with_app_client(
            app=row.partner_app,
            user_id=user_id,
            call=lambda c: c.media_from_url(
                url=media.public_url, file_type=media.content_type
            ),
        )
        return gup.media_id, MirrorMethod.URL, gup.exchange_id

    def from_file(client: GupshupAppClient) -> MediaId:
        with media.file.open("rb") as fh:
            return client.media_from_file(
                fileobj=fh,
                size=media.size,
                filename=media.original_name,
                file_type=media.content_type,
            )

    gup = app_services.with_app_client(
        app=row.partner_app, user_id=user_id, call=from_file
    )
    return gup.media_id, MirrorMethod.FILE, gup.exchange_id


def _mirror_failed(row: ProviderMedia, exc: Exception, user_id: int | None) -> None:
    message = getattr(exc, "provider_message", "") or str(exc)
    if isinstance(exc, AuthenticationError):
        message = str(exc)  # which credential was refused, and what to do
    if isinstance(exc, NotCapiAppError):
        message = f"{message} — {row.target} is not a Cloud API (CAPI) app."
    retry = (
        isinstance(exc, ProviderError)
        and not exc.permanent
        and row.attempts < settings.MEDIA_MIRROR_MAX_ATTEMPTS
    )
    row.state = MediaState.PENDING if retry else MediaState.FAILED
    row.last_error = message + (f" (attempt {row.attempts}; retrying)" if retry else "")
    row.exchange_id = getattr(exc, "exchange_id", None) or row.exchange_id
    row.save()
    if retry:
        enqueue_later(
            tasks.mirror_media, min(30 * 2**row.attempts, 3600), row.pk, user_id
        )


@dataclass(frozen=True)
class RefreshResult:
    refreshed: int
    expired: int

    def __str__(self) -> str:
        return f"{self.refreshed} media ids queued for refresh, {self.expired} expired"


def media_refresh_expiring(*, needed_file_ids: Sequence[int] = ()) -> RefreshResult:
    """Re-mirror ids that expire soon when their file must stay fresh (marked
    "keep fresh", or named by a scheduled or running campaign); mark the ids that
    are past their expiry as expired."""
    now = timezone.now()
    expired = ProviderMedia.objects.filter(
        state=MediaState.READY, expires_at__lte=now
    ).update(state=MediaState.EXPIRED)
    horizon = now + timedelta(days=settings.MEDIA_REFRESH_WITHIN_DAYS)
    due = ProviderMedia.objects.filter(
        state__in=[MediaState.READY, MediaState.EXPIRED], expires_at__lte=horizon
    ).filter(
        Q(media_file__keep_fresh=True) | Q(media_file_id__in=list(needed_file_ids))
    )
    ids = list(due.values_list("pk", flat=True))
    for pk in ids:
        enqueue_on_commit(tasks.mirror_media, pk, None)
    return RefreshResult(refreshed=len(ids), expired=expired)


def media_mirror_retry(
    *, media_files: Sequence[MediaFile], user_id: int | None = None
) -> int:
    """Queue failed and expired ids of these files again; returns how many."""
    rows = ProviderMedia.objects.filter(
        media_file__in=media_files, state__in=[MediaState.FAILED, MediaState.EXPIRED]
    ).exclude(partner_app__is_capi=False)  # they would only fail again
    ids = list(rows.values_list("pk", flat=True))
    for pk in ids:
        enqueue_on_commit(tasks.mirror_media, pk, user_id)
    return len(ids)


def media_ensure_fresh(
    *, media_file: MediaFile, app: PartnerApp, until: datetime, user_id: int | None
) -> bool:
    """Queue a new media id for `app` unless the current one lives past `until`.

    Returns True when a mirror was queued (one already under way is left alone).
    """
    row, _ = ProviderMedia.objects.get_or_create(media_file=media_file, partner_app=app)
    if row.state == MediaState.UPLOADING:
        return False
    usable = ProviderMedia.objects.filter(
        selectors.media_usable_until(until), pk=row.pk
    )
    if usable.exists():
        return False
    enqueue_on_commit(tasks.mirror_media, row.pk, user_id)
    return True
