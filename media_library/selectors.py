"""Read-side questions about media, for campaigns and pages."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Q

from gupshup_admin.models import PartnerApp
from media_library.models import MediaFile, MediaState, ProviderMedia


def media_usable_until(when: datetime, *, via: str = "") -> Q:
    """The one rule for "may this media id be sent at `when`": it is ready and
    expires after `when` (its expiry already has the safety margin taken off).
    The dispatcher, the pre-flight, a refresh and the media page's filter all
    ask it. `via` is the lookup path from another model ("mirrors__" from a
    MediaFile)."""
    return Q(**{f"{via}state": MediaState.READY, f"{via}expires_at__gt": when})


def media_id_usable_until(
    *, media_file: MediaFile, partner_app: PartnerApp, until: datetime
) -> str | None:
    """This file's media id for the app, if it may be sent until `until`."""
    usable = ProviderMedia.objects.filter(
        media_usable_until(until), media_file=media_file, partner_app=partner_app
    )
    return usable.values_list("media_id", flat=True).first()


def media_valid_for_app_until(
    *, media_file: MediaFile, partner_app: PartnerApp, until: datetime
) -> bool:
    """Is this file's media id for app X ready and alive until time T?"""
    found = media_id_usable_until(
        media_file=media_file, partner_app=partner_app, until=until
    )
    return found is not None


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
