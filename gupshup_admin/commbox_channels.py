"""CommBox channel services beyond its secrets: its health, kept by every upload,
and the check that probes it.

A refused key (401/403) or a stream id CommBox does not know (404) makes the
channel unhealthy in CommBox's words; an accepted upload makes it healthy;
other trouble (5xx, 429, the network) says nothing about the channel and leaves
its status alone. Uploads to an unhealthy channel are refused here, before any
request, with what to do: a new key (which resets the status) or a check.
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass
from typing import IO

from django.utils import timezone

from gupshup_admin.exceptions import ApplicationError
from gupshup_admin.models import CommBoxChannel, HealthStatus
from gupshup_admin.providers.commbox import CommBoxMedia
from gupshup_admin.providers.errors import AuthenticationError, ProviderError
from gupshup_admin.services import commbox_client

# A 1x1 white PNG (69 bytes): what the check uploads, CommBox's only endpoint.
PROBE_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR42mP4//8/AAX+Av4zEpUUAAAAA"
    "ElFTkSuQmCC"
)
PROBE_NAME = "gupshup-admin-check.png"


@dataclass(frozen=True)
class ChannelHealthReport:
    healthy: bool
    message: str


def commbox_channel_set_health(
    channel: CommBoxChannel, status: str, message: str
) -> None:
    channel.health_status = status
    channel.health_message = message
    channel.health_checked_at = timezone.now()
    CommBoxChannel.objects.filter(pk=channel.pk).update(
        health_status=status,
        health_message=message,
        health_checked_at=channel.health_checked_at,
    )


def commbox_channel_upload(
    *,
    channel: CommBoxChannel,
    fileobj: IO[bytes],
    size: int,
    filename: str,
    content_type: str,
    user_id: int | None = None,
) -> CommBoxMedia:
    """Upload a file to the channel and keep its health.

    Raises ApplicationError when the channel is unhealthy (nothing is sent) or
    has no key; ProviderError when CommBox refuses.
    """
    if channel.health_status == HealthStatus.UNHEALTHY:
        raise ApplicationError(
            f"CommBox channel {channel} is unhealthy ({channel.health_message}). "
            "Paste a current API key on the channel's page, or press Check there "
            "if the key was fixed in CommBox, then mirror again."
        )
    return _upload(channel, fileobj, size, filename, content_type, user_id)


def commbox_channel_check(
    *, channel: CommBoxChannel, user_id: int | None = None
) -> ChannelHealthReport:
    """Upload a 1x1 PNG to the channel and record what CommBox says. Never raises
    for provider trouble: the report says what went wrong."""
    probe = io.BytesIO(PROBE_PNG)
    try:
        _upload(channel, probe, len(PROBE_PNG), PROBE_NAME, "image/png", user_id)
    except (ProviderError, ApplicationError) as exc:
        return ChannelHealthReport(False, str(exc))
    return ChannelHealthReport(True, channel.health_message)


def _upload(
    channel: CommBoxChannel,
    fileobj: IO[bytes],
    size: int,
    filename: str,
    content_type: str,
    user_id: int | None,
) -> CommBoxMedia:
    client = commbox_client(channel=channel, user_id=user_id)
    try:
        media = client.upload_media(
            fileobj=fileobj, size=size, filename=filename, content_type=content_type
        )
    except ProviderError as exc:
        if isinstance(exc, AuthenticationError):
            commbox_channel_set_health(channel, HealthStatus.UNHEALTHY, str(exc))
        elif exc.status_code == 404:
            commbox_channel_set_health(
                channel,
                HealthStatus.UNHEALTHY,
                f"{exc} CommBox does not know this channel's stream id: copy "
                "ENCRYPTED_STREAM_ID from the channel's CommBox settings.",
            )
        raise
    commbox_channel_set_health(
        channel, HealthStatus.HEALTHY, "CommBox accepted an upload with this key."
    )
    return media
