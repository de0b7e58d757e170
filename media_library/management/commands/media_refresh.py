"""Refresh media ids that must stay fresh and mark the dead ones expired.

Run it from cron (e.g. hourly): django-tasks has no scheduler of its own.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from media_library import services


class Command(BaseCommand):
    help = "Re-mirror media ids expiring soon (keep-fresh files); expire dead ones."

    def handle(self, *args: Any, **options: Any) -> None:
        result = services.media_refresh_expiring()
        self.stdout.write(str(result))
