"""Requests in flight: a sender's threads, which only make HTTP requests.

Everything else (claims, attempts, exchange rows, settling) happens on the
sender's own thread, before a request is handed over and after its answer is
back: a thread touches no database and decides nothing, so a request in flight
changes no guarantee of the sender (see `sender.py`).
"""

from __future__ import annotations

import logging
import math
import threading
import time
from concurrent.futures import (
    ALL_COMPLETED,
    FIRST_COMPLETED,
    Future,
    ThreadPoolExecutor,
    wait,
)
from dataclasses import dataclass, field
from typing import Any

import requests
from django.conf import settings

from campaigns.models import Campaign, Recipient, SendAttempt
from gupshup_admin.exchanges import PreparedRecorder
from gupshup_admin.providers.errors import OutcomeUnknownError, ProviderError
from gupshup_admin.providers.gupshup import Send
from gupshup_admin.providers.http import HttpClient, HttpResponse, http_session

logger = logging.getLogger(__name__)


@dataclass(eq=False)
class Job:
    """One recipient's request, from its claim to its answer."""

    campaign: Campaign
    recipient: Recipient
    attempt: SendAttempt
    send: Send[Any]
    recorder: PreparedRecorder
    not_before: float = 0.0  # monotonic: its rate token falls due then
    pacer: Pacer | None = field(default=None, repr=False)
    refreshed: bool = False  # sent again once with a new token after a 401
    left: bool = False  # its request went on the wire (or was about to)
    answer: HttpResponse[Any] | None = field(default=None, repr=False)
    error: ProviderError | None = None

    def wait_until_due(self) -> None:
        """Sleep until `not_before` and until its pacer lets it go. Its
        exchange row is written: from here on the request always leaves."""
        while True:
            delay = self.not_before - time.monotonic()
            if delay <= 0 and self.pacer is not None:
                delay = self.pacer.depart()
            if delay <= 0:
                self.left = True
                return
            time.sleep(delay)


class Pacer:
    """One app's departures from one sender, at least `spacing` seconds apart.

    The bucket says when each token falls due; a request that left late (a
    busy machine wakes a thread late) must not bring the next ones closer to
    it, or eleven could land in one of Gupshup's seconds where the bucket
    allowed ten: each waits `spacing` after the one before actually left. So
    a late wake delays all later sends a little (80 ms after a 30 s slice at
    10/s): a loaded machine sends a little slower, which keeps the margin that
    absorbs late arrivals. The next slice, pacing from the bucket, would not
    know that lag: the sender writes its last real departure to the bucket
    when its slice ends (`ratelimit.rate_hold`).
    """

    def __init__(self, spacing: float) -> None:
        self.spacing = spacing
        self._last = -math.inf
        self.left_at: float | None = None  # wall clock of the last departure
        self._lock = threading.Lock()

    def depart(self, now: float | None = None) -> float:
        """0 when a request may leave now (and it counts as left), else the
        seconds to wait. `now` (monotonic) is for tests."""
        with self._lock:
            now = time.monotonic() if now is None else now
            wait = self._last + self.spacing - now
            if wait <= 0:
                self._last = now
                self.left_at = time.time()
            return max(wait, 0.0)


# One Session for every sender of the process, and the apps whose connections
# are warm in it: its connection pool is thread-safe and outlives a sender's
# slice, so the next slice finds warm connections (a cold one's first request
# arrives late, by a TLS handshake or more, which would bring it closer to the
# next one).
_SESSION: list[requests.Session] = []
_WARM_UNTIL: dict[int, float] = {}
WARM_SECONDS = 20.0  # connections idle longer may have been closed


def _process_session(size: int) -> requests.Session:
    if not _SESSION:
        _SESSION.append(http_session(pool_size=max(size, 10)))
    return _SESSION[0]


def app_warm(app_id: int) -> bool:
    """Whether this process answered a request of the app a moment ago."""
    return _WARM_UNTIL.get(app_id, 0.0) > time.monotonic()


def app_answered(app_id: int) -> None:
    _WARM_UNTIL[app_id] = time.monotonic() + WARM_SECONDS


class InFlight:
    """A bounded pool of threads making `Job` requests; at most `size` at once,
    so a handed-over request leaves when it falls due (it never waits in a
    queue for a thread, where a stopped sender would leave it unsent but
    logged). A request is handed over a moment before it falls due, its
    exchange row written: it always leaves."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._pool = ThreadPoolExecutor(size, thread_name_prefix="send")
        self._running: dict[Future[None], Job] = {}
        self._session = _process_session(size)

    @property
    def room(self) -> int:
        return self.size - len(self._running)

    def __len__(self) -> int:
        return len(self._running)

    def submit(self, job: Job) -> None:
        if self.room <= 0:
            raise RuntimeError("no room in flight")  # the sender checks first
        self._running[self._pool.submit(self._make, job)] = job

    def done(self, timeout: float = 0.0) -> list[Job]:
        """The jobs whose answers are in, waiting up to `timeout` for a first."""
        if not self._running:
            return []
        finished, _ = wait(list(self._running), timeout, return_when=FIRST_COMPLETED)
        return [self._running.pop(future) for future in finished]

    def done_within(self, seconds: float) -> list[Job]:
        """The jobs whose answers are in after at most `seconds` (sooner when
        every answer is in)."""
        if not self._running:
            return []
        finished, _ = wait(list(self._running), seconds, return_when=ALL_COMPLETED)
        return [self._running.pop(future) for future in finished]

    def wait_departed(self, seconds: float) -> None:
        """Until every request handed over has left (or ended without leaving),
        at most `seconds`: they are due within HAND_OVER_AHEAD."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and any(
            not job.left and not future.done() for future, job in self._running.items()
        ):
            time.sleep(0.002)

    def drain(self, seconds: float) -> list[Job]:
        """The jobs whose answers are in once all are (each request is bounded
        by its timeouts), or after `seconds`: a thread stuck past those is
        left behind, and its row is settled by recovery like a dead worker's."""
        finished, stuck = wait(list(self._running), seconds)
        if stuck:
            logger.warning(
                "%d request(s) still in flight after %.0f s", len(stuck), seconds
            )
        return [self._running.pop(future) for future in finished]

    def close(self) -> None:
        self._pool.shutdown(wait=False)

    def _make(self, job: Job) -> None:
        def leave() -> None:
            # The request is prepared: it goes on the wire when due, so the
            # time spent preparing it cannot delay it past its moment.
            job.wait_until_due()

        http = HttpClient(
            recorder=job.recorder,
            connect_timeout=settings.PROVIDER_CONNECT_TIMEOUT,
            read_timeout=settings.PROVIDER_READ_TIMEOUT,
            session=self._session,
            before_send=leave,
            lean=True,
        )
        try:
            job.answer = http.send(job.send.request, job.send.parse)
        except ProviderError as exc:
            job.error = exc
        except Exception as exc:  # a bug after the request may have left
            job.error = OutcomeUnknownError(
                f"The send stopped with an unexpected error ({type(exc).__name__}); "
                "the provider may have received the request."
            )
            job.error.exchange_id = job.recorder.exchange_id
