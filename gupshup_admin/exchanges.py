"""The Django side of the HTTP choke point: each exchange becomes an ApiExchange row."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.conf import settings
from django.utils import timezone

from gupshup_admin.bulk_sql import insert_rows, update_rows
from gupshup_admin.models import ApiExchange, ExchangeOutcome
from gupshup_admin.providers.http import HttpClient, Request
from gupshup_admin.providers.recording import ExchangeContext, ExchangeResult

_clients: dict[str, HttpClient] = {}


class DatabaseRecorder:
    """Writes the row before the call and completes it after."""

    def start(
        self, context: ExchangeContext, logged: Callable[[], dict[str, Any]]
    ) -> int | None:
        row = ApiExchange.objects.create(
            **_request_row(context, **logged(), created_at=timezone.now())
        )
        return row.pk

    def finish(self, exchange_id: int | None, result: ExchangeResult) -> None:
        if exchange_id is None:
            return
        fields = _answer_fields(result)
        if result.request_body is not None:
            fields["request_body"] = result.request_body
        ApiExchange.objects.filter(pk=exchange_id).update(**fields)


def _answer_fields(result: ExchangeResult) -> dict[str, Any]:
    limit = settings.EXCHANGE_BODY_MAX_CHARS
    text = result.response_text
    return {
        "status_code": result.status_code,
        "response_body": text[:limit],
        "response_truncated": len(text) > limit,
        "duration_ms": result.duration_ms,
        "outcome": ExchangeOutcome.ERROR if result.error else ExchangeOutcome.OK,
        "error_class": type(result.error).__name__ if result.error else "",
        "error_message": str(result.error) if result.error else "",
    }


_ANSWER_FIELDS = (
    "status_code", "response_body", "response_truncated", "duration_ms", "outcome",
    "error_class", "error_message",
)  # fmt: skip


def exchanges_begin(requests: list[Request]) -> list[int]:
    """Write the rows of requests about to leave, in one statement (the
    dispatcher's batches). Returns their ids, in order."""
    now = timezone.now()
    rows = [
        _request_row(request.context, **request.logged(), created_at=now)
        for request in requests
    ]
    return insert_rows(ApiExchange, rows)


def _request_row(
    context: ExchangeContext,
    method: str,
    url: str,
    headers: dict[str, Any],
    body: dict[str, Any],
    created_at: datetime,
) -> dict[str, Any]:
    """The fields of a request's row, written before it leaves."""
    return {
        "provider": context.provider,
        "endpoint": context.endpoint,
        "method": method,
        "url": url,
        "request_headers": headers,
        "request_body": body,
        "partner_app_id": context.partner_app_id,
        "commbox_channel_id": context.commbox_channel_id,
        "user_id": context.user_id,
        "ref": context.ref,
        "destination": context.destination,
        "created_at": created_at,
    }


def exchanges_finish(answers: list[tuple[int, ExchangeResult]]) -> None:
    """Record the answers of requests whose rows `exchanges_begin` wrote, in one
    statement."""
    rows = []
    for pk, result in answers:
        fields = _answer_fields(result)
        rows.append((pk, *(fields[name] for name in _ANSWER_FIELDS)))
    update_rows(ApiExchange, _ANSWER_FIELDS, rows)


class PreparedRecorder:
    """The recorder of one request whose row was already written: it touches no
    database (so a thread can make the request) and keeps the answer for the
    caller to record with `exchanges_finish`."""

    def __init__(self, exchange_id: int) -> None:
        self.exchange_id = exchange_id
        self.result: ExchangeResult | None = None

    def start(
        self, context: ExchangeContext, logged: Callable[[], dict[str, Any]]
    ) -> int | None:
        return self.exchange_id  # its row was written from `Request.logged()`

    def finish(self, exchange_id: int | None, result: ExchangeResult) -> None:
        self.result = result


def http_client() -> HttpClient:
    """One client (one requests Session) per process and timeout setting."""
    key = f"{settings.PROVIDER_CONNECT_TIMEOUT}/{settings.PROVIDER_READ_TIMEOUT}"
    client = _clients.get(key)
    if client is None:
        client = HttpClient(
            recorder=DatabaseRecorder(),
            connect_timeout=settings.PROVIDER_CONNECT_TIMEOUT,
            read_timeout=settings.PROVIDER_READ_TIMEOUT,
        )
        _clients[key] = client
    return client
