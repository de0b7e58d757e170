"""The dispatcher in real worker processes, with the simulator's request log as proof.

Four `manage.py db_worker` processes send one campaign on the test database while
the simulator answers 429s (its per-app window, and magic numbers), random and
magic 500s, hangs past the read timeout and dropped connections; one worker is
SIGKILLed while it holds claimed rows and a replacement starts. Afterwards every
recipient has had at most one accepted request, and each one is submitted with
that request's message id, or unknown/failed with a reason.

PostgreSQL only (`make test`): the workers must share the test database.
"""

from __future__ import annotations

import dataclasses
import random
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from campaigns.dispatch import recovery
from campaigns.lifecycle import controls, tick
from campaigns.models import (
    Campaign,
    CampaignState,
    Recipient,
    RecipientStatus,
    SendAttempt,
)
from gupshup_admin.models import ApiExchange, SendRateBucket
from gupshup_admin.simulator import DEMO, Simulator, SimulatorConfig, magic
from tests.factories import phones, sim_app, sim_campaign
from tests.faults.runs import account
from tests.faults.table import FaultTable
from tests.workers import (
    ScriptedAnswers,
    WorkerPool,
    answers,
    campaign_state,
    sent_twice,
    wait_for,
)

WORKERS = 4
READ_TIMEOUT = 2.0  # well above a loaded machine's answer times
STALE_SECONDS = 6.0  # > connect (1 s) + read (2 s) timeouts
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
WINDOW_PER_MINUTE = 120  # the simulator's per-app window until lifted: real 429s
MAGIC_429_TIMES = 2  # a 0429 number meets this many 429s, then goes through
DEADLINE_SECONDS = 120.0
MIX = {  # suffix → how many recipients (docs/simulator.md, "Magic numbers")
    "8888": 280,  # delivered
    "0429": 4,
    "0500": 4,
    "0408": 4,  # hangs past the read timeout: unknown
    "0502": 4,  # accepted, then the connection drops: unknown
    "1002": 3,  # accepted, fails later by callback
    "1012": 3,
}


def mixed_phones() -> list[str]:
    numbers: list[str] = []
    for index, (suffix, count) in enumerate(MIX.items()):
        numbers += phones(count, start=1 + index * 1000, suffix=suffix)
    random.Random(5).shuffle(numbers)
    return numbers


@pytest.fixture
def sim(monkeypatch: pytest.MonkeyPatch) -> Iterator[Simulator]:
    """The simulator with faults; 0429 numbers answer 429 only at first.

    The simulator's 0429 answers 429 forever, and a 429 never fails a
    recipient, so such a campaign could never finish. Here a 0429 number meets
    MAGIC_429_TIMES 429s and is then accepted, like a real window that clears.
    """
    throttled = [p[1:] for p in mixed_phones() if p.endswith("0429")]
    first = [magic.classify("0429")] * MAGIC_429_TIMES
    ScriptedAnswers(
        dict.fromkeys(throttled, first),
        then=lambda d: magic.Outcome("ok") if d.endswith("0429") else magic.classify(d),
    ).install(monkeypatch)
    config = SimulatorConfig(error_rate=0.03, hang_seconds=4, seed=11)
    with Simulator(config) as simulator:
        simulator.add_app(
            dataclasses.replace(DEMO.capi_app, rate_per_minute=WINDOW_PER_MINUTE)
        )
        yield simulator


@dataclasses.dataclass
class Orphan:
    """A row the killed worker held, and whether its request had been logged."""

    pk: int
    had_exchange: bool


class Run:
    """Drives the run from the test process: kill, lift the window, tick."""

    def __init__(self, campaign: Campaign, sim: Simulator, pool: WorkerPool) -> None:
        self.campaign, self.sim, self.pool = campaign, sim, pool
        self.total = campaign.recipients.count()
        self.killed = ""
        self.orphans: list[Orphan] = []
        self.lifted = False
        self.next_tick = 0.0

    def until_completed(self) -> float:
        started = time.monotonic()
        while (state := campaign_state(self.campaign)) != CampaignState.COMPLETED:
            assert state == CampaignState.RUNNING, self.campaign.state_reason
            if time.monotonic() - started > DEADLINE_SECONDS:
                pytest.fail(f"not completed in time: {self.counts()}\n{self.logs()}")
            sent = self.sim.requests("template_msg")
            twice = sent_twice(sent)
            assert not twice, f"sent twice (or more): {twice}"
            if not self.killed:
                self.kill_one_holding_claims()
            if not self.lifted and answers(sent)["rate_limited"] >= 3:
                # The window clears: Gupshup accepts again.
                self.sim.add_app(DEMO.capi_app)
                self.lifted = True
            if sent and time.monotonic() >= self.next_tick:
                tick.campaigns_tick()  # what `campaigns_tick --every 0.5` does
                self.next_tick = time.monotonic() + 0.5
            time.sleep(0.2)
        return time.monotonic() - started

    def kill_one_holding_claims(self) -> None:
        """Once a fifth is settled, SIGKILL a worker that holds claimed rows."""
        open_ = self.campaign.recipients.filter(
            status__in=[RecipientStatus.PENDING, RecipientStatus.SENDING]
        )
        if self.total - open_.count() < self.total / 5:
            return
        found = self._worker_with_claims()
        if found is None:
            return
        name, prefix = found
        self.pool.kill(name)
        self.killed = name
        held = self.campaign.recipients.filter(
            status=RecipientStatus.SENDING, claimed_by__startswith=f"{prefix}-"
        )
        self.orphans = [
            Orphan(pk, _exchange_for(pk, claim))
            for pk, claim in held.values_list("pk", "claimed_by")
        ]
        self.pool.start("w-replacement")

    def _worker_with_claims(self) -> tuple[str, str] | None:
        claims = self.campaign.recipients.filter(
            status=RecipientStatus.SENDING
        ).values_list("claimed_by", flat=True)
        prefixes = {claim.split("-", 1)[0] for claim in claims}
        running = DBTaskResult.objects.filter(
            status=TaskResultStatus.RUNNING, task_path__endswith=".run_sender"
        ).values_list("args_kwargs", "worker_ids")
        for args, worker_ids in running:
            token = args["args"][1]  # (slot, token)
            if token[:16] in prefixes and worker_ids[-1] in self.pool.procs:
                return worker_ids[-1], token[:16]
        return None

    def counts(self) -> dict[str, int]:
        return dict(Counter(self.campaign.recipients.values_list("status", flat=True)))

    def logs(self) -> str:
        return self.pool.output()


def _exchange_for(pk: int, claim: str) -> bool:
    """Whether the request of the claim's attempt left (its exchange is written)."""
    attempt = SendAttempt.objects.filter(recipient_id=pk, claim=claim).first()
    return (
        attempt is not None
        and ApiExchange.objects.filter(ref=attempt.exchange_ref).exists()
    )


def start_run(sim: Simulator, pool: WorkerPool, settings: Any) -> Campaign:
    pool.env.update(RUN_ENV, GUPSHUP_API_BASE=sim.base_url)
    settings.CAMPAIGN_SENDERS = WORKERS
    settings.CAMPAIGN_STALE_SECONDS = STALE_SECONDS
    # 1,000 a second: even halved by every 429 down to the floor (5 %), 50 a
    # second are left, so the run ends in seconds.
    app = sim_app(rate_per_minute=60_000)
    campaign = sim_campaign(phones=mixed_phones(), app=app)
    for number in range(WORKERS):
        pool.start(f"w{number}")
    controls.campaign_start(campaign=campaign, user_id=None)
    return campaign


def test_four_workers_with_faults_and_a_killed_one_never_send_anyone_twice(
    sim: Simulator, worker_pool: WorkerPool, settings: Any
) -> None:
    campaign = start_run(sim, worker_pool, settings)
    run = Run(campaign, sim, worker_pool)
    seconds = run.until_completed()
    assert run.killed, "no worker was killed while holding claimed rows"
    requests = sim.requests("template_msg")
    by_phone: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for request in requests:
        by_phone[f"+{request['destination']}"].append(request)
    orphans = {o.pk: o for o in run.orphans}
    rows = list(campaign.recipients.all())
    for row in rows:
        check_recipient(row, by_phone[row.phone], orphans.get(row.pk))
    check_throttling(campaign, requests, rows)
    print_summary(run, requests, rows, seconds)


def check_recipient(
    row: Recipient, requests: list[dict[str, Any]], orphan: Orphan | None
) -> None:
    """The safety rules, then what its magic number should have led to."""
    accepted = [r for r in requests if r["accepted"]]
    said = f"{row.phone}: {row.status} {row.error_code} {row.error_message!r}"
    assert len(accepted) <= 1, f"sent {len(accepted)} times: {said}"
    assert row.status in (
        RecipientStatus.SUBMITTED,
        RecipientStatus.UNKNOWN,
        RecipientStatus.FAILED,
    ), said
    if row.status == RecipientStatus.SUBMITTED:
        latest = row.latest_attempt
        assert latest is not None, said
        assert accepted and accepted[0]["message_id"] == latest.message_id, said
    else:
        assert row.error_code and row.error_message, f"no reason: {said}"
    if row.status == RecipientStatus.FAILED:
        assert not accepted and row.error_code != "429", said
    if orphan is not None:
        # Settled by the exchange log: logged → unknown, never logged → sent later.
        assert (row.error_code == "worker-stopped") == orphan.had_exchange, said
        if orphan.had_exchange:
            return
    expected = {
        "0408": RecipientStatus.UNKNOWN,
        "0502": RecipientStatus.UNKNOWN,
        "0500": RecipientStatus.FAILED,
    }
    assert row.status == expected.get(row.phone[-4:], RecipientStatus.SUBMITTED), said
    if row.status == RecipientStatus.UNKNOWN:
        assert accepted, said  # the simulator has it: resending would double it


def check_throttling(
    campaign: Campaign, requests: list[dict[str, Any]], rows: list[Recipient]
) -> None:
    faults = answers(requests)
    assert faults["rate_limited"] >= 3 and faults["magic_429"] >= 4, faults
    for row in rows:
        if row.phone.endswith("0429") and row.error_code != "worker-stopped":
            assert row.status == RecipientStatus.SUBMITTED
    bucket = SendRateBucket.objects.get(app=campaign.partner_app)
    assert bucket.throttle_count >= 1


def print_summary(
    run: Run, requests: list[dict[str, Any]], rows: list[Recipient], seconds: float
) -> None:
    unknown_orphans = sum(o.had_exchange for o in run.orphans)
    print(
        f"\n{len(rows)} recipients, {len(requests)} template/msg requests in "
        f"{seconds:.1f} s with {WORKERS} workers; statuses "
        f"{dict(Counter(r.status for r in rows))}; answers "
        f"{dict(answers(requests))}; accepted "
        f"{sum(r['accepted'] for r in requests)}; killed {run.killed} holding "
        f"{len(run.orphans)} claimed rows ({unknown_orphans} with a request "
        f"logged → unknown, {len(run.orphans) - unknown_orphans} → pending)"
    )


def test_a_worker_killed_with_requests_in_flight_is_settled_by_the_exchange_log(
    worker_pool: WorkerPool, settings: Any, fault_table: FaultTable
) -> None:
    """SIGKILL while three requests hang in flight: each row whose request was
    logged becomes unknown (never sent again), the rows never claimed are sent
    once by a new worker."""
    first = phones(1)[0]
    hangs = phones(3, start=2, suffix="0408")
    rest = phones(3, start=5)
    with Simulator(SimulatorConfig(hang_seconds=30)) as sim:
        settings.CAMPAIGN_SENDERS = 1
        worker_pool.env.update(
            GUPSHUP_API_BASE=sim.base_url,
            PROVIDER_READ_TIMEOUT="25",
            CAMPAIGN_SENDERS="1",
            CAMPAIGN_APP_IN_FLIGHT="3",
            CAMPAIGN_SEND_BATCH="10",
            CAMPAIGN_STALE_SECONDS="60",
        )
        app = sim_app(rate_per_minute=3000)
        campaign = sim_campaign(phones=[first, *hangs, *rest], app=app)
        controls.campaign_start(campaign=campaign, user_id=None)
        worker_pool.start("w0")
        wait_for(
            lambda: sum(r["fault"] == "hang" for r in sim.requests()) == 3,
            30,
            f"three hanging requests\n{worker_pool.output()}",
        )
        worker_pool.kill("w0")
        status = dict(campaign.recipients.values_list("phone", "status"))
        assert status == (
            {first: RecipientStatus.SUBMITTED}
            | dict.fromkeys(hangs, RecipientStatus.SENDING)
            | dict.fromkeys(rest, RecipientStatus.PENDING)
        ), "three in flight fill the app's room: the rest wait unclaimed"
        in_flight = list(SendAttempt.objects.filter(recipient__phone__in=hangs))
        logged = {
            a.pk: ApiExchange.objects.get(ref=a.exchange_ref).pk for a in in_flight
        }

        later = timezone.now() + timedelta(seconds=settings.CAMPAIGN_STALE_SECONDS + 1)
        ticked = tick.campaigns_tick(now=later)
        assert (ticked.requeued, ticked.unknown, ticked.revived) == (0, 3, 1)
        for attempt in in_flight:
            attempt.refresh_from_db()
            assert attempt.status == "unknown"
            assert attempt.exchange_id == logged[attempt.pk]
            assert attempt.error_code == "worker-stopped"
            assert attempt.recipient.latest_attempt == attempt

        worker_pool.start("w1")
        wait_for(
            lambda: campaign_state(campaign) == CampaignState.COMPLETED,
            30,
            f"the campaign to complete\n{worker_pool.output()}",
        )
        sent = Counter(
            f"+{r['destination']}"
            for r in sim.requests("template_msg")
            if r["accepted"]
        )
    assert sent == Counter([first, *hangs, *rest])
    status = dict(campaign.recipients.values_list("phone", "status"))
    assert status == dict.fromkeys(hangs, RecipientStatus.UNKNOWN) | dict.fromkeys(
        [first, *rest], RecipientStatus.SUBMITTED
    )
    books = account(campaign, sim)  # the hung requests' exchanges are settled too
    fault_table.record(
        area="Campaign",
        fault="Worker SIGKILLed with three requests hanging in flight",
        tried="1 worker killed holding 3 requests in flight, 3 rows not yet claimed",
        outcome=(
            f"settled from the exchange log: {ticked.unknown} requests logged → "
            "unknown (worker-stopped, exchanges closed), the rest sent once by a new "
            "worker. "
            f"Final: {books.words()}"
        ),
        lost=books.lost,
        sent_twice=books.twice,
    )


def test_recovery_spares_a_row_its_live_worker_touched_after_the_scan(
    db: None, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A slow but live worker's row looks stale; it is touched (the request is
    about to leave) between recovery's scan and its update: it must stay claimed,
    or a second worker would send it too."""
    settings.CAMPAIGN_STALE_SECONDS = 60
    campaign = sim_campaign(phones=phones(1))
    row = campaign.recipients.get()
    stale = timezone.now() - timedelta(seconds=120)
    Recipient.objects.filter(pk=row.pk).update(
        status=RecipientStatus.SENDING, claimed_at=stale, claimed_by="live-worker"
    )
    attempt = SendAttempt.objects.create(
        recipient=row,
        campaign=campaign,
        partner_app=campaign.partner_app,
        number=1,
        claim="live-worker",
    )
    exchanges = ApiExchange.objects

    class TouchedMeanwhile:
        class objects:  # stands in for the model's manager
            @staticmethod
            def filter(**lookups: Any) -> Any:
                Recipient.objects.filter(pk=row.pk).update(claimed_at=timezone.now())
                return exchanges.filter(**lookups)

    monkeypatch.setattr(recovery, "ApiExchange", TouchedMeanwhile)
    recovery.recipients_recover_orphans()
    row.refresh_from_db()
    assert (row.status, row.claimed_by) == (RecipientStatus.SENDING, "live-worker")
    assert SendAttempt.objects.filter(pk=attempt.pk).exists()
