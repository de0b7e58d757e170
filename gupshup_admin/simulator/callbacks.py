"""Delivery callbacks: planning them per message and POSTing them from a worker.

Request threads only plan and enqueue; one background thread owns a heap keyed
by due time and does the HTTP, so a slow receiver never holds up a send answer.
"""

from __future__ import annotations

import copy
import heapq
import itertools
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import requests

from gupshup_admin.simulator.config import SimulatorConfig
from gupshup_admin.simulator.payloads import SentMessage, v2_body, v3_body
from gupshup_admin.simulator.state import SimState, Subscription

USER_AGENT = "Gupshup-Simulator/1.0"


@dataclass(frozen=True)
class CallbackJob:
    """One POST to make (and, after failures, to make again)."""

    url: str
    headers: dict[str, str]
    body: dict[str, Any]
    event: str
    message_id: str
    format: str
    attempt: int = 1
    duplicate: bool = False


@dataclass(frozen=True)
class _Target:
    url: str
    format: str
    headers: dict[str, str]
    subscription: Subscription | None

    def wants(self, event: str) -> bool:
        return self.subscription is None or self.subscription.wants(event)


def plan_callbacks(
    state: SimState, message: SentMessage
) -> list[tuple[float, CallbackJob]]:
    """The (delay in seconds, job) pairs for every callback of an accepted send.

    Event timestamps stay in the real order; with `shuffle` only the moments of
    delivery are permuted, as when Gupshup's events overtake each other.
    """
    config = state.config
    events = message.events()
    now = time.time()
    delays = [
        config.callback_delay + i * config.callback_interval for i in range(len(events))
    ]
    stamps = [now + delay for delay in delays]
    offsets = state.shuffled(delays) if config.shuffle else delays
    planned: list[tuple[float, CallbackJob]] = []
    for target in _targets(state, config, message):
        for event, stamp, offset in zip(events, stamps, offsets, strict=True):
            if not target.wants(event):
                continue
            job = _job(target, message, event, stamp, config)
            planned.append((max(offset, 0.0), job))
            if state.chance(config.duplicate_rate):
                later = offset + max(config.callback_interval / 2, 0.01)
                planned.append((max(later, 0.0), replace(job, duplicate=True)))
    return planned


def _targets(
    state: SimState, config: SimulatorConfig, message: SentMessage
) -> list[_Target]:
    subscriptions = state.subscriptions(message.app.app_id)
    if subscriptions:
        return [
            _Target(s.url, "v3" if s.version == 3 else "v2", s.headers, s)
            for s in subscriptions
        ]
    if config.callback_url:
        return [_Target(config.callback_url, config.callback_format, {}, None)]
    return []


def _job(
    target: _Target,
    message: SentMessage,
    event: str,
    stamp: float,
    config: SimulatorConfig,
) -> CallbackJob:
    if target.format == "v3":
        body = v3_body(message, event, stamp)
    else:
        body = v2_body(message, event, stamp, drop_gsid=config.drop_gsid)
    return CallbackJob(
        url=target.url,
        headers=dict(target.headers),
        body=body,
        event=event,
        message_id=message.gs_id,
        format=target.format,
    )


@dataclass(order=True)
class _Item:
    due: float
    seq: int
    generation: int = field(compare=False)
    job: CallbackJob = field(compare=False)


class CallbackDispatcher:
    """A single worker thread that POSTs due callbacks and retries failures."""

    def __init__(self, get_config: Callable[[], SimulatorConfig]) -> None:
        self._get_config = get_config
        self._cond = threading.Condition()
        self._heap: list[_Item] = []
        self._log: list[dict[str, Any]] = []
        self._counter = itertools.count()
        self._generation = 0
        self._busy = False
        self._stopped = False
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the worker thread (once)."""
        with self._cond:
            if self._thread is not None:
                return
            self._stopped = False
            self._thread = threading.Thread(
                target=self._run, name="sim-callbacks", daemon=True
            )
            self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the worker; callbacks not yet due are dropped."""
        with self._cond:
            self._stopped = True
            self._cond.notify_all()
            thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout)

    def schedule(self, planned: list[tuple[float, CallbackJob]]) -> None:
        """Queue jobs, each after its delay in seconds."""
        now = time.monotonic()
        with self._cond:
            for delay, job in planned:
                self._push(now + delay, job)
            self._cond.notify_all()

    def _push(self, due: float, job: CallbackJob) -> None:
        item = _Item(due, next(self._counter), self._generation, job)
        heapq.heappush(self._heap, item)

    def clear(self) -> None:
        """Drop pending callbacks and the log of sent ones."""
        with self._cond:
            self._heap.clear()
            self._log.clear()
            # A delivery in flight belongs to the old generation: not logged.
            self._generation += 1
            self._cond.notify_all()

    def sent(self) -> list[dict[str, Any]]:
        """A deep copy of every attempt made so far, in order."""
        with self._cond:
            return copy.deepcopy(self._log)

    def pending(self) -> int:
        """Callbacks queued or being delivered right now."""
        with self._cond:
            return len(self._heap) + (1 if self._busy else 0)

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Block until nothing is pending; False if the timeout came first."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._heap or self._busy:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(min(left, 0.05))
            return True

    def _run(self) -> None:
        with requests.Session() as session:
            # Callbacks go to loopback receivers: never through an env proxy.
            session.trust_env = False
            while True:
                item = self._next_due()
                if item is None:
                    return
                try:
                    self._deliver(session, item)
                finally:
                    with self._cond:
                        self._busy = False
                        self._cond.notify_all()

    def _next_due(self) -> _Item | None:
        with self._cond:
            while not self._stopped:
                if self._heap:
                    wait = self._heap[0].due - time.monotonic()
                    if wait <= 0:
                        self._busy = True
                        return heapq.heappop(self._heap)
                    self._cond.wait(wait)
                else:
                    self._cond.wait()
            return None

    def _deliver(self, session: requests.Session, item: _Item) -> None:
        config = self._get_config()
        job = item.job
        status, error = _post(session, job, config.callback_timeout)
        ok = status is not None and 200 <= status < 300
        retry = not ok and job.attempt <= config.callback_retries
        record = {
            "time": time.time(),
            "url": job.url,
            "format": job.format,
            "event": job.event,
            "message_id": job.message_id,
            "headers": {**job.headers, "Content-Type": "application/json"},
            "body": job.body,
            "attempt": job.attempt,
            "duplicate": job.duplicate,
            "status_code": status,
            "error": error,
            "ok": ok,
            "gave_up": not ok and not retry,
        }
        with self._cond:
            if item.generation != self._generation:
                return
            self._log.append(record)
            if retry:
                backoff = config.callback_backoff * 2 ** (job.attempt - 1)
                due = time.monotonic() + backoff
                self._push(due, replace(job, attempt=job.attempt + 1))


def _post(
    session: requests.Session, job: CallbackJob, timeout: float
) -> tuple[int | None, str | None]:
    headers = {
        **job.headers,
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
    }
    try:
        response = session.post(
            job.url, data=json.dumps(job.body), headers=headers, timeout=timeout
        )
    except requests.RequestException as exc:
        return None, f"{type(exc).__name__}: {exc}"
    return response.status_code, None
