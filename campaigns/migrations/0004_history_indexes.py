"""Indexes for the send history pages on a million recipients (PostgreSQL only).

- A trigram index on Recipient.phone, so that a search for part of a number
  (`LIKE '%…%'`) is an index lookup instead of a scan of every row. It needs the
  pg_trgm extension (trusted since PostgreSQL 13, so a database owner may create
  it); where it cannot be had, the search still works, only slower.
- A partial covering index of the status events that the report's "over time"
  chart counts (delivered, read, failed), so it reads no table rows.

Built CONCURRENTLY (the migration is not atomic), so a live table stays
writable. Not model indexes: Django's state does not know them, so
`makemigrations` has nothing to say; SQLite gets nothing.
"""

from __future__ import annotations

from typing import Any

from django.db import DatabaseError, migrations

PHONE_TRGM = "campaigns_recipient_phone_trgm"
EVENT_SERIES = "campaigns_statusevent_series"


def create(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        try:
            cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        except DatabaseError:
            has_trgm = False
        else:
            has_trgm = True
        if has_trgm:
            cursor.execute(
                f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {PHONE_TRGM} "
                "ON campaigns_recipient USING gin (phone gin_trgm_ops)"
            )
        cursor.execute(
            f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {EVENT_SERIES} "
            "ON campaigns_statusevent (recipient_id) "
            "INCLUDE (status, occurred_at, received_at) "
            "WHERE status IN ('delivered', 'read', 'failed')"
        )


def drop(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        for name in (PHONE_TRGM, EVENT_SERIES):
            cursor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("campaigns", "0003_status_event"),
    ]

    operations = [
        migrations.RunPython(create, drop, elidable=False),
    ]
