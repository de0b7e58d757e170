"""Background tasks: thin interfaces that take ids and call one service."""

from __future__ import annotations

from django_tasks import task

from gupshup_admin import app_sync, commbox_channels
from gupshup_admin.models import CommBoxChannel, PartnerApp


@task()
def check_app_health(app_pk: int, user_id: int | None = None) -> str:
    app = PartnerApp.objects.get(pk=app_pk)
    return app_sync.partner_app_check_health(app=app, user_id=user_id).message


@task()
def sync_app_templates(app_pk: int, user_id: int | None = None) -> str:
    app = PartnerApp.objects.get(pk=app_pk)
    return str(app_sync.partner_app_sync_templates(app=app, user_id=user_id))


@task()
def check_commbox_channel(channel_pk: int, user_id: int | None = None) -> str:
    channel = CommBoxChannel.objects.get(pk=channel_pk)
    return commbox_channels.commbox_channel_check(
        channel=channel, user_id=user_id
    ).message
