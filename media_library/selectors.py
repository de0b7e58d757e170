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
