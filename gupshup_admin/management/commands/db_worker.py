"""`manage.py db_worker`: django-tasks-db's worker, but a lost database does not
end it.

django-tasks-db's worker exits on any database error that is not SQLite's
"database is locked": a PostgreSQL restart or failover, or a dropped connection,
stopped every worker for good, and nothing here restarts them. This command
(which replaces the one of the same name because gupshup_admin comes before
django_tasks_db in INSTALLED_APPS, as staticfiles does for runserver) starts the
worker again once the database answers. The task that was running when the
connection went stays "running" in its result row; a send's lease goes silent and
`campaigns_tick` gives its slot to a new sender.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from django.db import connections
from django.db.utils import InterfaceError, OperationalError
from django_tasks_db.management.commands import db_worker

logger = logging.getLogger(__name__)
RETRY_SECONDS = 1.0


class Command(db_worker.Command):
    help = (
        "Run a database background worker; it waits for the database and "
        "carries on when the connection is lost."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        while True:
            try:
                return super().handle(*args, **options)
            except (OperationalError, InterfaceError) as exc:
                # Only a lost or refused connection; any other error still ends it.
                said = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
                logger.error(
                    "Worker %s lost the database (%s); starting again in %g s.",
                    options.get("worker_id"),
                    said,
                    RETRY_SECONDS,
                )
                connections.close_all()
                time.sleep(RETRY_SECONDS)
