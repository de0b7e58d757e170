"""What each provider call leaves behind: who it was for, how it went, and the
recorder that is told before the request leaves and after the answer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from gupshup_admin.providers.errors import ProviderError


@dataclass(frozen=True)
class ExchangeContext:
    """Who the call is for: stored on the exchange row."""

    provider: str
    endpoint: str
    partner_app_id: int | None = None
    commbox_channel_id: int | None = None
    user_id: int | None = None
    # What the call is for, e.g. "attempt:42": lets a crashed send be traced
    # to the exchange that was (or was not) written before its request left.
    ref: str = ""
    # The number a send goes to, E.164 (sends only): the log is searched by it.
    destination: str = ""


@dataclass
class ExchangeResult:
    status_code: int | None
    response_text: str
    duration_ms: int
    error: ProviderError | None
    request_body: dict[str, Any] | None = None


class ExchangeRecorder(Protocol):
    def start(
        self,
        context: ExchangeContext,
        *,
        method: str,
        url: str,
        headers: dict[str, Any],
        body: dict[str, Any],
    ) -> int | None: ...

    def finish(self, exchange_id: int | None, result: ExchangeResult) -> None: ...
