"""The Django side of the HTTP choke point: each exchange becomes an ApiExchange row."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils import timezone

from gupshup_admin.models import ApiExchange, ExchangeOutcome
from gupshup_admin.providers.http import HttpClient
from gupshup_admin.providers.recording import ExchangeContext, ExchangeResult

_clients: dict[str, HttpClient] = {}


class DatabaseRecorder:
    """Writes the row before the call and completes it after."""

    def start(
        self,
        context: ExchangeContext,
        *,
        method: str,
        url: str,
        headers: dict[str, Any],
        body: dict[str, Any],
    ) -> int | None:
        row = ApiExchange.objects.create(
            provider=context.provider,
            endpoint=context.endpoint,
            method=method,
            url=url,
            request_headers=headers,
            request_body=body,
            partner_app_id=context.partner_app_id,
            commbox_channel_id=context.commbox_channel_id,
            user_id=context.user_id,
            ref=context.ref,
            destination=context.destination,
            created_at=timezone.now(),
        )
        return row.pk

    def finish(self, exchange_id: int | None, result: ExchangeResult) -> None:
        if exchange_id is None:
            return
        limit = settings.EXCHANGE_BODY_MAX_CHARS
        text = result.response_text
        fields: dict[str, Any] = {
            "status_code": result.status_code,
            "response_body": text[:limit],
            "response_truncated": len(text) > limit,
            "duration_ms": result.duration_ms,
            "outcome": ExchangeOutcome.ERROR if result.error else ExchangeOutcome.OK,
            "error_class": type(result.error).__name__ if result.error else "",
            "error_message": str(result.error) if result.error else "",
        }
        if result.request_body is not None:
            fields["request_body"] = result.request_body
        ApiExchange.objects.filter(pk=exchange_id).update(**fields)


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
