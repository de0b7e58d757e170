from __future__ import annotations

from django.apps import AppConfig


class GupshupAdminConfig(AppConfig):
    name = "gupshup_admin"
    verbose_name = "Partner apps"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from gupshup_admin import checks  # noqa: F401  (registers the system checks)
