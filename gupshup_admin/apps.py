from __future__ import annotations

from typing import Any

from django.apps import AppConfig, apps
from django.db import DEFAULT_DB_ALIAS
from django.db.models.signals import post_migrate


class GupshupAdminConfig(AppConfig):
    name = "gupshup_admin"
    verbose_name = "Partner apps"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from gupshup_admin import checks  # noqa: F401  (registers the system checks)

        post_migrate.connect(roles_after_migrate, dispatch_uid="gupshup_admin.roles")


def roles_after_migrate(
    sender: AppConfig, using: str = DEFAULT_DB_ALIAS, **kwargs: Any
) -> None:
    """Set up the role groups once per `migrate`, at the last app's signal (apps
    without models get none): by then every app's permissions exist."""
    with_models = [c for c in apps.get_app_configs() if c.models_module is not None]
    if using != DEFAULT_DB_ALIAS or sender is not with_models[-1]:
        return
    from gupshup_admin.roles import roles_setup

    roles_setup()
