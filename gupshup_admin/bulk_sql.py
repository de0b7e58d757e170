"""One UPDATE for many rows, each with its own values: `UPDATE … FROM (VALUES …)`.

Django's `bulk_update` builds a `CASE WHEN` per field and row; for the
dispatcher's batches that cost more CPU than everything else a send does
(bench/dispatch_rate.py: 10 of 16 s of a worker's time). PostgreSQL and SQLite
(3.33 on) both take `UPDATE … FROM`, and both name the columns of a `VALUES`
list `column1`, `column2`, … Every value is a parameter, cast to its column's
type so that PostgreSQL need not guess it from the first row.
"""

# Only table and column names from the models go into the SQL text.
# ruff: noqa: S608

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import connection
from django.db.models import Field, Model

# The SQL type each value is cast to, by the model field's internal type.
_CASTS = {
    "AutoField": "BIGINT",
    "BigAutoField": "BIGINT",
    "BigIntegerField": "BIGINT",
    "ForeignKey": "BIGINT",
    "IntegerField": "INTEGER",
    "PositiveIntegerField": "INTEGER",
    "PositiveSmallIntegerField": "INTEGER",
    "SmallIntegerField": "INTEGER",
    "BooleanField": "BOOLEAN",
    "CharField": "TEXT",
    "TextField": "TEXT",
}


def update_rows(
    model: type[Model],
    fields: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    same: dict[str, Any] | None = None,
    where: dict[str, Any] | None = None,
    match: Sequence[str] = (),
) -> int:
    """For each row `(pk, *values of fields)`, set those fields on that pk.

    `same`: fields set to one value on every row; `where`: fields every row
    must still have (else it is left alone); `match`: fields after `fields` in
    each row that the row must still have too (its own value per row). Returns
    how many rows changed.
    """
    if not rows:
        return 0
    q = connection.ops.quote_name
    meta = model._meta
    table = q(meta.db_table)

    def column(name: str) -> Field[Any, Any]:
        found = meta.get_field(name)
        assert isinstance(found, Field)
        return found

    keyed = [column(meta.pk.name), *(column(name) for name in (*fields, *match))]
    casts = [_CASTS.get(found.get_internal_type(), "TEXT") for found in keyed]
    row_sql = "(" + ", ".join(f"CAST(%s AS {cast})" for cast in casts) + ")"
    sets = [
        f"{q(column(name).column)} = v.column{index + 2}"
        for index, name in enumerate(fields)
    ]
    params: list[Any] = []
    for name, value in (same or {}).items():
        sets.append(f"{q(column(name).column)} = %s")
        params.append(column(name).get_db_prep_save(value, connection))
    conditions = [f"{table}.{q(column(meta.pk.name).column)} = v.column1"]
    for offset, name in enumerate(match, start=len(fields) + 2):
        conditions.append(f"{table}.{q(column(name).column)} = v.column{offset}")
    where_params: list[Any] = []
    for name, value in (where or {}).items():
        conditions.append(f"{table}.{q(column(name).column)} = %s")
        where_params.append(column(name).get_db_prep_value(value, connection))
    values = ", ".join([row_sql] * len(rows))
    sql = (
        f"UPDATE {table} SET {', '.join(sets)} FROM (VALUES {values}) AS v "
        f"WHERE {' AND '.join(conditions)}"
    )
    # The SET constants come first in the text, then the VALUES, then WHERE.
    for row in rows:
        params.extend(row)
    params.extend(where_params)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return int(cursor.rowcount)


def insert_rows(model: type[Model], rows: Sequence[dict[str, Any]]) -> list[int]:
    """INSERT many rows in one statement; returns their ids, in order.

    Each row maps field names (or attnames, `partner_app_id`) to values; a
    field left out gets its default. Django's `bulk_create` builds a model
    instance per row and cost the dispatcher a millisecond or more of CPU per
    row (bench/dispatch_rate.py); this prepares each value once.
    """
    if not rows:
        return []
    q = connection.ops.quote_name
    meta = model._meta
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    defaults = {f.attname: f.get_default() for f in fields}
    names = ", ".join(q(f.column) for f in fields)
    row_sql = "(" + ", ".join(["%s"] * len(fields)) + ")"
    params: list[Any] = []
    for row in rows:
        for f in fields:
            if f.attname in row:
                value = row[f.attname]
            elif f.name in row:
                value = row[f.name]
            else:
                value = defaults[f.attname]
            params.append(f.get_db_prep_save(value, connection))
    pk = q(meta.pk.column) if meta.pk is not None else "id"
    sql = (
        f"INSERT INTO {q(meta.db_table)} ({names}) VALUES "
        f"{', '.join([row_sql] * len(rows))} RETURNING {pk}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]
