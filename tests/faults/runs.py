"""A campaign run under faults, and the bookkeeping every fault run must pass.

The run: `WORKERS` `db_worker` processes and a `campaigns_tick --every 0.5`
process on the PostgreSQL test database, the simulator answering the sends and
POSTing delivery callbacks to the app's webhook on the live server.

The bookkeeping (`account`): every recipient in exactly one final state, counts
adding up to the audience, no number accepted twice by the simulator, no
recipient or exchange left "sending", every failure or unknown with a reason,
and every message id the simulator handed out kept by its recipient.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import pytest
import requests
from django.db import connection
from django.db.utils import InterfaceError, OperationalError
from django.urls import reverse

from campaigns.lifecycle import controls
from campaigns.models import (
    Campaign,
    CampaignState,
    Recipient,
    RecipientStatus,
    SendAttempt,
    WebhookEvent,
    WebhookState,
)
from gupshup_admin.models import (
    ApiExchange,
    ExchangeOutcome,
)
from gupshup_admin.simulator import DEMO, Simulator
from tests.factories import sim_app, sim_campaign
from tests.workers import WorkerPool, sent_twice

T = TypeVar("T")
WORKERS = 2
READ_TIMEOUT = 2.0
STALE_SECONDS = 5.0  # > connect (1 s) + read (2 s) timeouts
RUN_ENV = {
    "PROVIDER_CONNECT_TIMEOUT": "1",
    "PROVIDER_READ_TIMEOUT": str(READ_TIMEOUT),
    "CAMPAIGN_STALE_SECONDS": str(STALE_SECONDS),
    "CAMPAIGN_RETRY_BACKOFF_SECONDS": "0.2",
    "CAMPAIGN_THROTTLE_PAUSE_SECONDS": "0.3",
    "CAMPAIGN_SENDER_SLICE_SECONDS": "2",
    "CAMPAIGN_SEND_MAX_RETRIES": "3",
    "CAMPAIGN_SENDERS": str(WORKERS),
}
OPEN = (RecipientStatus.PENDING, RecipientStatus.SENDING)
DEADLINE_SECONDS = 60.0


def start_campaign(
    *,
    sim: Simulator,
    pool: WorkerPool,
    settings: Any,
    live_url: str,
    phones: list[str],
    rate_per_minute: int = 60_000,
) -> Campaign:
    """Workers and the tick running, callbacks wired, the campaign started."""
    pool.env.update(RUN_ENV, GUPSHUP_API_BASE=sim.base_url)
    settings.CAMPAIGN_SENDERS = WORKERS
    settings.CAMPAIGN_STALE_SECONDS = STALE_SECONDS
    app = sim_app(rate_per_minute=rate_per_minute)
    path = reverse("webhooks:gupshup-token", args=[app.pk, app.callback_secret])
    subscribe(sim, f"{live_url}{path}")
    campaign = sim_campaign(phones=phones, app=app)
    for number in range(WORKERS):
        pool.start(f"w{number}")
    pool.run("tick", "campaigns_tick", "--every", "0.5")
    controls.campaign_start(campaign=campaign, user_id=None)
    return campaign


def subscribe(sim: Simulator, url: str) -> None:
    """Subscribe the app's webhook to read and failed events only: one callback
    per message settles it, and the simulator's one callback thread keeps up."""
    app = DEMO.capi_app
    response = requests.post(
        f"{sim.base_url}/partner/app/{app.app_id}/subscription",
        data={"url": url, "modes": "READ,FAILED", "version": "2"},
        headers={"token": app.token},
        timeout=5,
    )
    response.raise_for_status()


def retrying(read: Callable[[], T], default: T) -> T:
    """`read()`, or `default` while the database is unreachable (a restart)."""
    try:
        return read()
    except (OperationalError, InterfaceError):
        connection.close()  # reconnect on the next query
        return default


def statuses(campaign: Campaign) -> Counter[str]:
    return Counter(campaign.recipients.values_list("status", flat=True))


def settle(
    campaign: Campaign,
    sim: Simulator,
    pool: WorkerPool,
    expected: Mapping[str, int],
    during: Callable[[], None] = lambda: None,
) -> None:
    """Wait until the campaign completed, every callback was processed and the
    statuses are `expected`; meanwhile nobody is sent twice and no process dies.
    `during` runs on every poll (to inject a fault)."""
    started = time.monotonic()
    while True:
        during()
        twice = sent_twice(sim.requests("template_msg"))
        assert not twice, f"sent twice (or more): {twice}"
        assert not pool.dead(), f"a process died:\n{pool.output()}"
        if retrying(lambda: _settled(campaign, sim, expected), False):
            return
        if time.monotonic() - started > DEADLINE_SECONDS:
            counts: dict[str, int] = retrying(lambda: dict(statuses(campaign)), {})
            calls = Counter(
                str(c["status_code"] or c["error"]) for c in sim.callbacks_sent()
            )
            pytest.fail(
                f"not settled in {DEADLINE_SECONDS:g} s: {counts}, expected "
                f"{dict(expected)}; callbacks answered {dict(calls)}\n{pool.output()}"
            )
        time.sleep(0.2)


def _settled(campaign: Campaign, sim: Simulator, expected: Mapping[str, int]) -> bool:
    state = Campaign.objects.values_list("state", flat=True).get(pk=campaign.pk)
    if state != CampaignState.COMPLETED or sim.pending_callbacks():
        return False
    if WebhookEvent.objects.filter(state=WebhookState.RECEIVED).exists():
        return False
    return statuses(campaign) == Counter(expected)


@dataclass(frozen=True)
class Accounting:
    audience: int
    statuses: Counter[str]
    lost: int  # recipients in no final state
    twice: int  # numbers the simulator accepted more than once
    requests: list[dict[str, Any]]

    def answered(self, status: int) -> int:
        return sum(r["status"] == status for r in self.requests)

    def words(self) -> str:
        return ", ".join(f"{n} {s}" for s, n in sorted(self.statuses.items()))


def account(campaign: Campaign, sim: Simulator) -> Accounting:
    """Check the bookkeeping rules (module docstring) and return the counts."""
    rows = list(campaign.recipients.order_by("pk"))
    requests = sim.requests("template_msg")
    counts = Counter(row.status for row in rows)
    final = sum(n for status, n in counts.items() if status not in OPEN)
    result = Accounting(
        len(rows), counts, len(rows) - final, len(sent_twice(requests)), requests
    )
    assert result.lost == 0, f"not settled: {dict(counts)}"
    assert result.twice == 0, f"sent twice: {sent_twice(requests)}"
    accepted: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for request in requests:
        if request["accepted"]:
            accepted[f"+{request['destination']}"].append(request)
    for row in rows:
        _check_row(row, accepted[row.phone])
    refs = attempt_refs([row.pk for row in rows])
    hanging = ApiExchange.objects.filter(ref__in=refs, outcome=ExchangeOutcome.SENDING)
    assert not hanging.exists(), f"exchanges left sending: {list(hanging)}"
    return result


def attempt_refs(recipient_pks: list[int]) -> list[str]:
    """What the exchanges of these recipients' attempts are filed under."""
    attempts = SendAttempt.objects.filter(recipient_id__in=recipient_pks)
    return [attempt.exchange_ref for attempt in attempts]


def _check_row(row: Recipient, accepted: list[dict[str, Any]]) -> None:
    said = f"{row.phone}: {row.status} {row.error_code} {row.error_message!r}"
    if row.status in (RecipientStatus.FAILED, RecipientStatus.UNKNOWN):
        assert row.error_code and row.error_message, f"no reason: {said}"
    if accepted:
        # The message id the simulator handed out is the one the latest attempt
        # keeps (set by the answer, or by its callback for an unknown send).
        latest = row.latest_attempt
        message_id = latest.message_id if latest is not None else ""
        assert message_id in ("", accepted[0]["message_id"]), said
        assert message_id or row.status == RecipientStatus.UNKNOWN, said
    else:
        assert row.status in (RecipientStatus.FAILED, RecipientStatus.CANCELLED), (
            f"never accepted: {said}"
        )
