"""Admin for the media library: files, and their media ids with expiry badges."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.html import format_html

from gupshup_admin.models import CommBoxChannel
from media_library import selectors, services
from media_library.models import MediaFile, MediaState, ProviderMedia

_COLOURS = {"ok": "#1e7e34", "soon": "#9a6700", "bad": "#b00020", "wait": "#555"}


def expiry_badge(row: ProviderMedia) -> str:
    """ready · expires in N days · expired · failed · pending, as a coloured pill."""
    if row.state == MediaState.READY and row.expires_at is not None:
        days = row.days_left(timezone.now()) or 0
        if row.expires_at <= timezone.now():
            tone, text = "bad", "expired"
        else:
            tone = "soon" if days < 3 else "ok"
            text = f"ready · expires in {days} day{'s' if days != 1 else ''}"
    elif row.state in (MediaState.FAILED, MediaState.EXPIRED):
        tone, text = "bad", row.get_state_display().lower()
    else:
        tone, text = "wait", row.get_state_display().lower()
    return format_html(
        '<span class="expiry-badge expiry-{}" style="color:{};font-weight:600">'
        "{}</span>",
        tone,
        _COLOURS[tone],
        text,
    )


class ProviderMediaInline(admin.TabularInline):  # type: ignore[type-arg]
    model = ProviderMedia
    extra = 0
    can_delete = False
    _columns = ["target_name", "badge", "media_id", "method", "expires_at"]
    fields = [*_columns, "last_error"]
    readonly_fields = [*_columns, "last_error"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="target")
    def target_name(self, obj: ProviderMedia) -> str:
        return str(obj.target)

    @admin.display(description="state")
    def badge(self, obj: ProviderMedia) -> str:
        return expiry_badge(obj)


@admin.register(MediaFile)
class MediaFileAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["original_name", "kind", "content_type", "size", "dimensions",
                    "keep_fresh", "uploaded_by", "created_at"]  # fmt: skip
    list_filter = ["kind", "keep_fresh", "mirrors__state", "mirrors__partner_app"]
    search_fields = ["original_name", "sha256", "mirrors__media_id"]
    date_hierarchy = "created_at"
    # A public URL typed without a scheme is https (Django 6's default).
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    readonly_fields = ["file", "content_type", "kind", "size", "sha256", "width",
                       "height", "note", "uploaded_by", "created_at"]  # fmt: skip
    fields = ["original_name", "public_url", "keep_fresh", *readonly_fields]
    inlines = [ProviderMediaInline]
    actions = ["mirror_everywhere", "retry_failed"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # uploads go through validation on the upload page

    @admin.display(description="pixels")
    def dimensions(self, obj: MediaFile) -> str:
        return f"{obj.width}×{obj.height}" if obj.width else "—"

    @admin.action(
        description="Mirror to every active app and CommBox channel",
        permissions=["change"],
    )
    def mirror_everywhere(
        self, request: HttpRequest, queryset: QuerySet[MediaFile]
    ) -> None:
        apps = selectors.mirror_target_apps()
        channels = list(CommBoxChannel.objects.filter(is_active=True))
        for media in queryset:
            services.media_mirror_request(
                media_file=media, apps=apps, channels=channels, user_id=request.user.pk
            )
        left_out = ", ".join(map(str, selectors.apps_left_out_of_mirroring()))
        note = f" Left out, not CAPI apps: {left_out}." if left_out else ""
        self.message_user(
            request, f"Mirroring queued for {queryset.count()} file(s).{note}"
        )

    @admin.action(
        description="Retry failed and expired media ids", permissions=["change"]
    )
    def retry_failed(self, request: HttpRequest, queryset: QuerySet[MediaFile]) -> None:
        count = services.media_mirror_retry(
            media_files=list(queryset), user_id=request.user.pk
        )
        self.message_user(request, f"{count} media id(s) queued again.")


@admin.register(ProviderMedia)
class ProviderMediaAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["media_file", "partner_app", "commbox_channel", "badge", "media_id",
                    "method", "expires_at", "attempts", "last_error"]  # fmt: skip
    list_filter = ["state", "partner_app", "commbox_channel", "method"]
    list_select_related = ["media_file", "partner_app", "commbox_channel"]
    search_fields = ["media_id", "media_file__original_name"]
    readonly_fields = [f.name for f in ProviderMedia._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="state", ordering="state")
    def badge(self, obj: ProviderMedia) -> str:
        return expiry_badge(obj)
