"""One INSERT or UPDATE for many rows, each with its own values.

Django's `bulk_update` builds a `CASE WHEN` per field and row, and
`bulk_create` a model instance per row; for the dispatcher's batches that cost
more CPU than everything else a send does (bench/dispatch_rate.py: 10 of 16 s
of a worker's time).

On PostgreSQL the rows travel as **one JSON parameter**
(`jsonb_to_recordset(%s) AS v("0" bigint, "1" text, …)`, each column typed as
its field): the statement's text is short and the same for any number of
rows, so psycopg parses it once and caches it, and the rows are encoded by
`json.dumps` (C). A `VALUES` list with a placeholder per value is longer than
psycopg caches (4 kB, 50 parameters): it split every batch's statement anew,
and with each value's `get_db_prep_save` that was a fifth of a sender's CPU.

SQLite (3.33 on) takes `UPDATE … FROM (VALUES …)`, its columns named
`column1`, `column2`, …, every value a parameter cast to its column's type.
"""

# Only table and column names from the models go into the SQL text.
# ruff: noqa: S608

from __future__ import annotations

import datetime
import functools
import json
import uuid
from collections.abc import Callable, Sequence
from decimal import Decimal
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
    if connection.vendor == "postgresql":
        return _update_rows_json(model, fields, rows, same or {}, where or {}, match)
    q = connection.ops.quote_name
    meta = model._meta
    table = q(meta.db_table)

    def column(name: str) -> Field[Any, Any]:
        return _field(model, name)

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
    values = [
        [
            row[f.attname]
            if f.attname in row
            else row[f.name]
            if f.name in row
            else defaults[f.attname]
            for f in fields
        ]
        for row in rows
    ]
    names = ", ".join(q(f.column) for f in fields)
    pk = q(meta.pk.column) if meta.pk is not None else "id"
    if connection.vendor == "postgresql":
        picked = ", ".join(f'v."{n}"' for n in range(len(fields)))
        # In the rows' order (WITH ORDINALITY): RETURNING gives the ids in it.
        sql = (
            f"INSERT INTO {q(meta.db_table)} ({names}) SELECT {picked} FROM "
            f"{_recordset(tuple(fields))} ORDER BY v.n RETURNING {pk}"
        )
        params: list[Any] = [_json_rows(fields, values)]
    else:
        row_sql = "(" + ", ".join(["%s"] * len(fields)) + ")"
        sql = (
            f"INSERT INTO {q(meta.db_table)} ({names}) VALUES "
            f"{', '.join([row_sql] * len(rows))} RETURNING {pk}"
        )
        params = [
            f.get_db_prep_save(value, connection)
            for row in values
            for f, value in zip(fields, row, strict=True)
        ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]


# --- PostgreSQL: the rows as one JSON parameter ---------------------------------


def _field(model: type[Model], name: str) -> Field[Any, Any]:
    found = model._meta.get_field(name)
    assert isinstance(found, Field)
    return found


_BASIC = (str, int, float, bool)


@functools.cache
def _converter(field: Field[Any, Any]) -> Callable[[Any], Any]:
    """How a value of `field` goes into the JSON rows: JSON fields as their
    JSON, aware timestamps as ISO text, plain values as they are, anything
    else as Django binds it (worked out once per field: a batch has
    thousands of values)."""
    if field.get_internal_type() == "JSONField":
        return lambda value: value

    def slow(value: Any) -> Any:
        prepared = field.get_db_prep_save(value, connection)
        if isinstance(prepared, datetime.date | datetime.time):
            return prepared.isoformat()
        if isinstance(prepared, Decimal | uuid.UUID):
            return str(prepared)
        return prepared

    def convert(value: Any) -> Any:
        if value is None or type(value) in _BASIC:
            return value
        if type(value) is datetime.datetime and value.tzinfo is not None:
            return value.isoformat()
        if isinstance(value, str):  # a choices enum
            return str(value)
        return slow(value)

    return convert


@functools.cache
def _recordset(fields: tuple[Field[Any, Any], ...]) -> str:
    """The JSON rows (objects keyed by position) as a table `v("0", "1", …,
    n)`, each column typed as its field, `n` the row's place in the list."""
    typed = ", ".join(
        f'"{n}" {field.db_type(connection)}' for n, field in enumerate(fields)
    )
    named = ", ".join(f'"{n}"' for n in range(len(fields)))
    return (
        f"ROWS FROM (jsonb_to_recordset(%s::jsonb) AS ({typed})) "
        f"WITH ORDINALITY AS v({named}, n)"
    )


def _json_rows(fields: Sequence[Field[Any, Any]], rows: Sequence[Sequence[Any]]) -> str:
    keys = [str(n) for n in range(len(fields))]
    converters = [_converter(field) for field in fields]
    return json.dumps(
        [
            dict(zip(keys, [c(v) for c, v in zip(converters, row)]))  # noqa: B905
            for row in rows
        ],
        ensure_ascii=False,
        allow_nan=False,
    )


def _update_rows_json(
    model: type[Model],
    fields: Sequence[str],
    rows: Sequence[Sequence[Any]],
    same: dict[str, Any],
    where: dict[str, Any],
    match: Sequence[str],
) -> int:
    q = connection.ops.quote_name
    meta = model._meta
    table = q(meta.db_table)
    keyed = [
        _field(model, meta.pk.name),
        *(_field(model, n) for n in (*fields, *match)),
    ]
    sets = [f'{q(keyed[n].column)} = v."{n}"' for n in range(1, len(fields) + 1)]
    params: list[Any] = []
    for name, value in same.items():
        found = _field(model, name)
        sets.append(f"{q(found.column)} = %s")
        params.append(found.get_db_prep_save(value, connection))
    params.append(_json_rows(keyed, rows))
    # The ids again, as an array: the planner cannot see how many rows the
    # JSON holds (it guesses 100) and scanned the whole table for a batch of
    # five; `= ANY(ids)` it estimates from the array, by the primary key.
    params.append([row[0] for row in rows])
    pk_column = f"{table}.{q(keyed[0].column)}"
    pk_type = _CASTS.get(keyed[0].get_internal_type(), "BIGINT")
    conditions = [f'{pk_column} = v."0"', f"{pk_column} = ANY(%s::{pk_type}[])"]
    for n in range(len(fields) + 1, len(keyed)):
        conditions.append(f'{table}.{q(keyed[n].column)} = v."{n}"')
    for name, value in where.items():
        found = _field(model, name)
        conditions.append(f"{table}.{q(found.column)} = %s")
        params.append(found.get_db_prep_value(value, connection))
    sql = (
        f"UPDATE {table} SET {', '.join(sets)} FROM {_recordset(tuple(keyed))} "
        f"WHERE {' AND '.join(conditions)}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return int(cursor.rowcount)
