"""Process stored callbacks again: all, one app's, or a date range. Idempotent."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from campaigns.statuses.receiving import webhooks_replay
from gupshup_admin.models import PartnerApp


def _when(text: str | None, name: str) -> datetime | None:
    if not text:
        return None
    moment = parse_datetime(text)
    if moment is None:
        day = parse_date(text)
        if day is None:
            raise CommandError(
                f"--{name} {text!r} is not a date (2026-11-23) or a date and time "
                "(2026-11-23T14:00)."
            )
        moment = datetime.combine(day, time.min)
    return moment if timezone.is_aware(moment) else timezone.make_aware(moment)


class Command(BaseCommand):
    help = (
        "Re-process stored delivery callbacks (all, one app's, or those received "
        "in a date range). Safe to run again: nothing is applied twice."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--app", help="Gupshup app id or display name.")
        parser.add_argument("--since", help="Received on or after (date or time).")
        parser.add_argument("--until", help="Received before (date or time).")

    def handle(self, *args: Any, **options: Any) -> None:
        app = None
        if options["app"]:
            wanted = options["app"]
            app = (
                PartnerApp.objects.filter(app_id=wanted).first()
                or PartnerApp.objects.filter(name=wanted).first()
            )
            if app is None:
                raise CommandError(f"No partner app with id or name {wanted!r}.")
        result = webhooks_replay(
            app=app,
            since=_when(options["since"], "since"),
            until=_when(options["until"], "until"),
        )
        self.stdout.write(str(result))
