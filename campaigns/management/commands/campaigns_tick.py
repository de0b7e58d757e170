"""Start due campaigns, revive senders of dead workers, settle orphaned sends."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand
from django.db import connections
from django.db.utils import InterfaceError, OperationalError

from campaigns.lifecycle.tick import campaigns_tick


class Command(BaseCommand):
    help = (
        "Start scheduled campaigns that are due, restart the senders of workers "
        "that died, and settle sends they left half-done. Run it every minute "
        "from cron, or keep it running with --every."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--every",
            type=float,
            default=0,
            help="Repeat every this many seconds until stopped (0: run once).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        every = options["every"]
        while True:
            try:
                result = campaigns_tick()
            except (OperationalError, InterfaceError) as exc:
                if not every:
                    raise  # cron runs it again
                # The database restarted or the connection dropped: a loop that
                # died here would leave dead workers' campaigns stuck for good.
                self.stderr.write(f"The database is unavailable ({exc}); retrying.")
                connections.close_all()
            else:
                if options["verbosity"] > 1 or not every or any(vars(result).values()):
                    self.stdout.write(str(result))
            if not every:
                return
            time.sleep(every)
