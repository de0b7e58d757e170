"""Provider faults during a campaign, with real workers and the simulator.

Each test sends one campaign through `WORKERS` `db_worker` processes while the
simulator misbehaves, waits until every callback is processed, then checks the
bookkeeping (`runs.account`) and records what it saw in the fault table.
The storms are scripted per number (`ScriptedAnswers`), so the same answers
come every run: the first wave of sends meets a 100 % error rate, later waves
less and less, until the provider has recovered for everyone.
"""

from __future__ import annotations

from typing import Any

import pytest

from campaigns.models import RecipientStatus
from gupshup_admin.models import ApiExchange, SendRateBucket
from gupshup_admin.simulator import Simulator, magic
from tests.factories import phones
from tests.faults.runs import (
    READ_TIMEOUT,
    WORKERS,
    account,
    attempt_refs,
    settle,
    start_campaign,
)
from tests.faults.table import FaultTable
from tests.workers import ScriptedAnswers, WorkerPool

ERROR_500 = magic.classify("0500")
TOO_MANY = magic.classify("0429")


@pytest.mark.parametrize(
    ("suffix", "fault", "what"),
    [
        ("0408", "hang", f"no answer within the {READ_TIMEOUT:g} s read timeout"),
        ("0502", "drop", "connection reset after the request was accepted"),
    ],
    ids=["read-timeout", "connection-reset"],
)
def test_a_lost_answer_makes_the_send_unknown_never_resent_then_its_callback_settles_it(
    suffix: str,
    fault: str,
    what: str,
    sim: Simulator,
    worker_pool: WorkerPool,
    settings: Any,
    live_url: str,
    fault_table: FaultTable,
) -> None:
    lost_answers = phones(4, start=100, suffix=suffix)
    audience = phones(32) + lost_answers
    campaign = start_campaign(
        sim=sim, pool=worker_pool, settings=settings, live_url=live_url, phones=audience
    )
    settle(campaign, sim, worker_pool, {RecipientStatus.READ: len(audience)})

    books = account(campaign, sim)
    faulty = [r for r in books.requests if r["fault"] == fault]
    assert sorted(f"+{r['destination']}" for r in faulty) == sorted(lost_answers)
    rows = campaign.recipients.filter(phone__in=lost_answers)
    unknown = ApiExchange.objects.filter(
        ref__in=attempt_refs(list(rows.values_list("pk", flat=True))),
        error_class="OutcomeUnknownError",
    )
    assert unknown.count() == len(lost_answers), "each was unknown after its answer"
    fault_table.record(
        area="Campaign",
        fault=f"Provider: {what}",
        tried=f"{len(faulty)} of {books.audience} sends ({WORKERS} workers)",
        outcome=(
            f"{unknown.count()} unknown, none re-sent; each resolved by its delivery "
            f"callback. Final: {books.words()}"
        ),
        lost=books.lost,
        sent_twice=books.twice,
    )


def test_a_5xx_storm_is_retried_with_backoff_and_gives_up_with_a_reason(
    monkeypatch: pytest.MonkeyPatch,
    sim: Simulator,
    worker_pool: WorkerPool,
    settings: Any,
    live_url: str,
    fault_table: FaultTable,
) -> None:
    # Every number meets 1, 2, 3 or 4 500s: 4 is past the 3 retries.
    groups = {times: phones(10, start=times * 100) for times in (1, 2, 3, 4)}
    ScriptedAnswers(
        {p[1:]: [ERROR_500] * times for times, ps in groups.items() for p in ps}
    ).install(monkeypatch)
    audience = [p for ps in groups.values() for p in ps]
    campaign = start_campaign(
        sim=sim, pool=worker_pool, settings=settings, live_url=live_url, phones=audience
    )
    settle(
        campaign,
        sim,
        worker_pool,
        {RecipientStatus.READ: 30, RecipientStatus.FAILED: 10},
    )

    books = account(campaign, sim)
    failed = campaign.recipients.filter(status=RecipientStatus.FAILED)
    assert set(failed.values_list("phone", flat=True)) == set(groups[4])
    for row in failed:
        assert row.error_code == "500"
        assert row.error_message.startswith("Gave up after 4 attempts: "), row
        assert "HTTP 500" in row.error_message
    fault_table.record(
        area="Campaign",
        fault="5xx storm: every first send answered 500, then fewer until recovery",
        tried=f"{books.answered(500)} answers 500 to {books.audience} recipients",
        outcome=(
            f"retried with backoff; {books.statuses[RecipientStatus.READ]} sent once "
            f"the provider recovered, {failed.count()} failed "
            '"Gave up after 4 attempts: …" '
            "(500 four times). Final: " + books.words()
        ),
        lost=books.lost,
        sent_twice=books.twice,
    )


def test_a_429_storm_pauses_and_slows_the_app_and_fails_nobody(
    monkeypatch: pytest.MonkeyPatch,
    sim: Simulator,
    worker_pool: WorkerPool,
    settings: Any,
    live_url: str,
    fault_table: FaultTable,
) -> None:
    # Every number's first send is refused 429; a quarter of them twice.
    audience = phones(20)
    ScriptedAnswers(
        {p[1:]: [TOO_MANY] * (2 if i % 4 == 0 else 1) for i, p in enumerate(audience)}
    ).install(monkeypatch)
    campaign = start_campaign(
        sim=sim, pool=worker_pool, settings=settings, live_url=live_url, phones=audience
    )
    settle(campaign, sim, worker_pool, {RecipientStatus.READ: len(audience)})

    books = account(campaign, sim)
    refused = books.answered(429)
    assert refused == 25
    bucket = SendRateBucket.objects.get(app=campaign.partner_app)
    # The 429s of requests in flight together are one storm: one pause, one
    # halving (one per 429 would leave the floor's 5 % after five).
    assert 1 <= bucket.throttle_count < refused, "the app paused per storm"
    assert bucket.slowdown <= 0.5, "and its rate was halved"
    fault_table.record(
        area="Campaign",
        fault="429 storm: every first send answered 429 Too Many Requests",
        tried=f"{refused} answers 429 to {books.audience} recipients",
        outcome=(
            f"the app paused {bucket.throttle_count} times (once per storm of "
            f"requests in flight) and its rate fell to {bucket.slowdown:.0%}; nobody "
            f"failed for it. Final: {books.words()}"
        ),
        lost=books.lost,
        sent_twice=books.twice,
    )
