"""Real worker processes on the test database, and what tests read from a run.

`worker_pool` starts `manage.py db_worker` (or any management command) processes
that share the PostgreSQL test database; the helpers below read the simulator's
request log and wait for conditions. Used by tests/campaigns and tests/faults.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from django.db import connection

from campaigns.models import Campaign
from gupshup_admin.simulator import magic, messages

DB_TASKS_BACKEND = "django_tasks_db.DatabaseBackend"
REPO = Path(__file__).resolve().parents[1]
DB_WORKER = ("db_worker", "--queue-name", "*", "--interval", "0.05")
DB_WORKER_FLAGS = ("--no-startup-delay", "--no-reload", "-v", "0")


@dataclass
class WorkerPool:
    """Management-command processes sharing the test database.

    `env` is what each new process starts with (change it before `start`).
    Every process is killed when the test ends, whatever happened.
    """

    env: dict[str, str]
    logs: Path
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def start(self, name: str) -> subprocess.Popen[bytes]:
        """A `db_worker` for every queue, with `name` as its worker id."""
        return self.run(name, *DB_WORKER, "--worker-id", name, *DB_WORKER_FLAGS)

    def run(self, name: str, *command: str) -> subprocess.Popen[bytes]:
        """Any `manage.py` command, e.g. `campaigns_tick --every 0.5`."""
        log = (self.logs / f"{name}.log").open("wb")
        proc = subprocess.Popen(
            [sys.executable, "manage.py", *command],
            cwd=REPO,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()  # the child holds its own copy
        self.procs[name] = proc
        return proc

    def kill(self, name: str) -> None:
        """SIGKILL: no cleanup at all, as when a machine dies."""
        proc = self.procs[name]
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)

    def dead(self) -> list[str]:
        """The processes that exited by themselves (not killed by `kill`)."""
        return [
            name
            for name, proc in self.procs.items()
            if proc.poll() is not None and proc.returncode != -signal.SIGKILL
        ]

    def stop_all(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
        for proc in self.procs.values():
            proc.wait(10)

    def output(self, lines: int = 15) -> str:
        """The last lines each process wrote (for failure messages)."""
        parts = []
        for name in self.procs:
            text = (self.logs / f"{name}.log").read_text(errors="replace")
            tail = "\n".join(text.splitlines()[-lines:])
            parts.append(f"--- {name} (exit {self.procs[name].poll()}) ---\n{tail}")
        return "\n".join(parts)


def database_url() -> str:
    """The test database as a DATABASE_URL for child processes."""
    db = connection.settings_dict
    user = quote(db["USER"] or "", safe="")
    password = quote(str(db["PASSWORD"] or ""), safe="")
    auth = f"{user}:{password}@" if password else f"{user}@"
    return f"postgres://{auth}{db['HOST']}:{db['PORT']}/{db['NAME']}"


@pytest.fixture
def worker_pool(
    transactional_db: None, settings: Any, tmp_path: Path
) -> Iterator[WorkerPool]:
    """Workers for the test database; tasks enqueued here go to the database.

    Skipped on SQLite: the in-memory test database cannot be shared with other
    processes. `make test` runs it on PostgreSQL.
    """
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: worker processes share the test database")
    # Overriding TASKS fires setting_changed, which makes django_tasks drop its
    # cached backends, so campaign_start enqueues database tasks from now on.
    settings.TASKS = {
        "default": {**settings.TASKS["default"], "BACKEND": DB_TASKS_BACKEND}
    }
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DATABASE_", "PYTEST_"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="gupshup_admin.settings",
        DATABASE_URL=database_url(),
        SECRET_KEY=settings.SECRET_KEY,
        SECRETS_ENCRYPTION_KEYS=",".join(settings.SECRETS_ENCRYPTION_KEYS),
        TASKS_BACKEND="db",
        DEBUG="false",
        LOG_LEVEL="WARNING",
    )
    pool = WorkerPool(env=env, logs=tmp_path)
    try:
        yield pool
    finally:
        pool.stop_all()


# --- Reading a run -------------------------------------------------------------


def wait_for(condition: Callable[[], bool], seconds: float, what: str) -> None:
    """Poll `condition` until true. Fails the test (saying `what`) on timeout."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {seconds:g} s waiting for {what}")
        time.sleep(0.05)


def campaign_state(campaign: Campaign) -> str:
    return Campaign.objects.values_list("state", flat=True).get(pk=campaign.pk)


def sent_twice(requests: list[dict[str, Any]]) -> dict[str, int]:
    """Numbers the simulator accepted more than once, with how many times."""
    accepted = Counter(r["destination"] for r in requests if r["accepted"])
    return {phone: n for phone, n in accepted.items() if n > 1}


def answers(requests: list[dict[str, Any]]) -> Counter[str]:
    """The simulator's answers by fault name, or HTTP status when none."""
    return Counter(r["fault"] or str(r["status"]) for r in requests)


class ScriptedAnswers:
    """Per-number answers the simulator gives before its own.

    `script[number]` (digits, as the simulator sees it) lists the first answers
    for that number, in order; afterwards `then` decides, by default the
    simulator's magic-number table. Install with `install(monkeypatch)`.
    """

    def __init__(
        self,
        script: Mapping[str, Sequence[magic.Outcome]],
        then: Callable[[str], magic.Outcome] = magic.classify,
    ) -> None:
        self.left = {number: list(outcomes) for number, outcomes in script.items()}
        self.then = then
        self.lock = threading.Lock()

    def classify(self, destination: str) -> magic.Outcome:
        with self.lock:
            queue = self.left.get(destination)
            if queue:
                return queue.pop(0)
        return self.then(destination)

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(messages, "classify", self.classify)
