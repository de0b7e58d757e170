"""PostgreSQL restarted (`pg_ctl restart -m fast`) in the middle of a campaign.

Every connection is cut: the workers', the tick's, the web server's and this
test's own. The workers and the tick must carry on by themselves once the
server is back (production has no supervisor restarting them); sends that were
in flight are settled from the exchange log, and callbacks refused meanwhile
are retried by the provider. Needs the throwaway cluster of
scripts/with-postgres.sh, which exports TEST_PG_BIN and TEST_PG_DATA.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import pytest
from django.core.management import call_command, get_commands
from django.db import connection
from django.db.utils import OperationalError, ProgrammingError
from django_tasks_db.management.commands import db_worker as tasks_db_worker

from campaigns.lifecycle.tick import TickResult
from campaigns.management.commands import campaigns_tick as tick_command
from campaigns.models import Campaign, RecipientStatus
from gupshup_admin.management.commands import db_worker as our_worker
from gupshup_admin.simulator import Simulator
from tests.factories import phones
from tests.faults.runs import (
    OPEN,
    WORKERS,
    account,
    retrying,
    settle,
    start_campaign,
)
from tests.faults.table import FaultTable
from tests.workers import WorkerPool

PG_BIN = os.environ.get("TEST_PG_BIN", "")
PG_DATA = os.environ.get("TEST_PG_DATA", "")


def restart_postgres() -> None:
    """Fast restart: active sessions are terminated, then the server comes back."""
    log = Path(PG_DATA).parent / "postgres.log"
    command = [f"{PG_BIN}/pg_ctl", "-D", PG_DATA, "-l", str(log), "-m", "fast", "-w"]
    command.append("restart")
    if os.getuid() == 0:  # the cluster belongs to postgres (with-postgres.sh)
        command = ["runuser", "-u", "postgres", "--", *command]
    subprocess.run(command, check=True, capture_output=True, timeout=60)
    connection.close()  # ours was cut too


def sent_share(campaign: Campaign) -> float:
    rows = campaign.recipients
    return rows.exclude(status__in=OPEN).count() / rows.count()


def test_a_database_restart_mid_campaign_loses_nobody_and_sends_nobody_twice(
    sim: Simulator,
    worker_pool: WorkerPool,
    settings: Any,
    live_url: str,
    fault_table: FaultTable,
) -> None:
    if not (PG_BIN and PG_DATA):
        pytest.skip("TEST_PG_BIN, TEST_PG_DATA unset: use scripts/with-postgres.sh")
    audience = phones(150)
    campaign = start_campaign(
        sim=sim,
        pool=worker_pool,
        settings=settings,
        live_url=live_url,
        phones=audience,
        rate_per_minute=3000,  # 50 a second: the restart lands mid-campaign
    )
    restarts: list[float] = []

    def restart_once_a_quarter_is_sent() -> None:
        share = retrying(lambda: sent_share(campaign), 0.0)
        if not restarts and share >= 0.25:
            restart_postgres()
            restarts.append(share)

    settle(
        campaign,
        sim,
        worker_pool,
        {RecipientStatus.READ: len(audience)},
        during=restart_once_a_quarter_is_sent,
    )

    assert restarts and restarts[0] < 1, "the restart came mid-campaign"
    books = account(campaign, sim)
    fault_table.record(
        area="Campaign",
        fault="PostgreSQL restarted mid-campaign (pg_ctl restart -m fast)",
        tried=(
            f"{len(restarts)} restart once a quarter of {books.audience} recipients "
            f"were sent ({WORKERS} workers, the tick and the web server connected)"
        ),
        outcome=(
            "every process reconnected by itself; sends cut off mid-request settled "
            "from the exchange log (unknown, then resolved by their callbacks) or "
            f"re-queued; refused callbacks retried by the provider. Final: "
            f"{books.words()}"
        ),
        lost=books.lost,
        sent_twice=books.twice,
    )


# --- the two long-running commands, without a database to restart ---------------


def test_db_worker_is_ours_and_starts_again_when_the_database_is_lost(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert get_commands()["db_worker"] == "gupshup_admin", "INSTALLED_APPS order"
    runs: list[str] = []

    def handle(self: Any, *args: Any, **options: Any) -> None:
        runs.append(options["worker_id"])
        if len(runs) == 1:
            raise OperationalError("terminating connection (administrator command)")

    monkeypatch.setattr(tasks_db_worker.Command, "handle", handle)
    monkeypatch.setattr("time.sleep", lambda seconds: None)
    our_worker.Command().handle(worker_id="w0")
    assert runs == ["w0", "w0"]

    monkeypatch.setattr(tasks_db_worker.Command, "handle", _raise(ProgrammingError()))
    with pytest.raises(ProgrammingError):  # only a lost connection is waited out
        our_worker.Command().handle(worker_id="w0")


def test_the_tick_loop_carries_on_when_the_database_is_unavailable(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    answers: list[Any] = [
        OperationalError("connection refused"),
        TickResult(requeued=2),
        KeyboardInterrupt(),  # stops the loop
    ]

    def tick() -> TickResult:
        answer = answers.pop(0)
        if isinstance(answer, BaseException):
            raise answer
        return cast(TickResult, answer)

    monkeypatch.setattr(tick_command, "campaigns_tick", tick)
    monkeypatch.setattr("time.sleep", lambda seconds: None)
    with pytest.raises(KeyboardInterrupt):
        call_command("campaigns_tick", every=0.5)
    out, err = capsys.readouterr()
    assert "database is unavailable (connection refused)" in err
    assert "2 orphaned send(s) re-queued" in out

    answers[:] = [OperationalError("connection refused")]
    with pytest.raises(OperationalError):  # once, from cron: cron runs it again
        call_command("campaigns_tick")


def _raise(exc: Exception) -> Callable[..., None]:
    def handle(*args: Any, **options: Any) -> None:
        raise exc

    return handle
