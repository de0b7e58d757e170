"""What each provider call leaves behind: who it was for, how it went, and the
recorder that is told before the request leaves and after the answer."""

from __future__ import annotations

from collections.abc import Callable
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
        self, context: ExchangeContext, logged: Callable[[], dict[str, Any]]
    ) -> int | None:
        """Before the request leaves; `logged()` is what its row shows of it
        (method, url, headers, body; secrets masked), worked out only when
        the recorder needs it."""
        ...

    def finish(self, exchange_id: int | None, result: ExchangeResult) -> None: ...
