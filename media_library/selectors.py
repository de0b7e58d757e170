"""Read-side questions about media, for campaigns and pages."""

from __future__ import annotations

from datetime import datetime

from gupshup_admin.models import PartnerApp
from media_library.models import MediaFile, MediaState, ProviderMedia


def provider_media_for_app(
    *, media_file: MediaFile, partner_app: PartnerApp
) -> ProviderMedia | None:
    return ProviderMedia.objects.filter(
        media_file=media_file, partner_app=partner_app
    ).first()


def media_valid_for_app_until(
    *, media_file: MediaFile, partner_app: PartnerApp, until: datetime
) -> bool:
    """Is this file's media id for app X ready and alive until time T?"""
    return ProviderMedia.objects.filter(
        media_file=media_file,
        partner_app=partner_app,
        state=MediaState.READY,
        expires_at__gt=until,
    ).exists()


def mirror_refusal(*, app: PartnerApp) -> str:
    """Why `app` cannot be mirrored to ("" when it can): Gupshup makes media ids
    only for Cloud API apps and answers any other with a 400."""
    if app.is_capi:
        return ""
    return (
        f"{app} is not a Cloud API (CAPI) app: Gupshup makes media ids only for "
        "CAPI apps (“Only CAPI apps allowed to generate media ID”). Its campaigns "
        "send the image by its public URL: give the file one on its admin page."
    )


def mirror_choices() -> list[tuple[PartnerApp, str]]:
    """Every active app with why it cannot be mirrored to ("" when it can)."""
    apps = PartnerApp.objects.filter(is_active=True)
    return [(app, mirror_refusal(app=app)) for app in apps]


def mirror_target_apps() -> list[PartnerApp]:
    """The active apps a file can be mirrored to (the CAPI ones)."""
    return list(PartnerApp.objects.filter(is_active=True, is_capi=True))


def apps_left_out_of_mirroring() -> list[PartnerApp]:
    """Active apps that "mirror everywhere" leaves out (not CAPI)."""
    return list(PartnerApp.objects.filter(is_active=True, is_capi=False))
