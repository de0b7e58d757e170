from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.db import DEFAULT_DB_ALIAS
from django.db.models.signals import post_migrate, post_save


class CampaignsConfig(AppConfig):
    name = "campaigns"
    verbose_name = "Campaigns"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from gupshup_admin.models import PartnerApp

        post_migrate.connect(
            drain_row_after_migrate, sender=self, dispatch_uid="campaigns.drain_row"
        )
        post_save.connect(
            forget_callback_secret, sender=PartnerApp, dispatch_uid="campaigns.secret"
        )


def drain_row_after_migrate(using: str = DEFAULT_DB_ALIAS, **kwargs: Any) -> None:
    """The one-row drain flag exists after every `migrate` (and test flush)."""
    if using == DEFAULT_DB_ALIAS:
        from campaigns.statuses.receiving import webhook_drain_row_ensure

        webhook_drain_row_ensure()


def forget_callback_secret(instance: Any, **kwargs: Any) -> None:
    from campaigns.statuses.receiving import callback_secret_forget

    callback_secret_forget(instance.pk)
