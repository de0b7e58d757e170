from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from django.db import connection

from campaigns.models import Campaign, CampaignKind
from gupshup_admin.models import PartnerApp, Template
from media_library.models import MediaFile

DB_TASKS_BACKEND = "django_tasks_db.DatabaseBackend"


@pytest.fixture
def template(partner_app: PartnerApp) -> Template:
    return Template.objects.create(
        app=partner_app,
        gupshup_id="9ff51097-48c9-47c7-a4e4-a9bb5801d8ea",
        element_name="spring_sale_image",
        status="APPROVED",
        template_type="IMAGE",
        body="Hi {{1}}, {{2}} off today!",
        slot_count=2,
        header_type="IMAGE",
    )


@pytest.fixture
def campaign(partner_app: PartnerApp, template: Template, settings: Any) -> Campaign:
    media = MediaFile.objects.create(
        original_name="a.png",
        content_type="image/png",
        kind="image",
        size=10,
        sha256="0" * 64,
        file="media/a.png",
    )
    return Campaign.objects.create(
        name="Spring",
        partner_app=partner_app,
        kind=CampaignKind.TEMPLATE,
        template=template,
        media_file=media,
    )


# --- Real worker processes on the test database (PostgreSQL only) -------------

REPO = Path(__file__).resolve().parents[2]


@dataclass
class WorkerPool:
    """`manage.py db_worker` processes sharing the test database.

    `env` is what each new worker starts with (change it before `start`). Every
    process is killed when the test ends, whatever happened.
    """

    env: dict[str, str]
    logs: Path
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def start(self, name: str) -> subprocess.Popen[bytes]:
        log = (self.logs / f"{name}.log").open("wb")
        proc = subprocess.Popen(
            [
                sys.executable,
                "manage.py",
                "db_worker",
                "--queue-name",
                "*",
                "--interval",
                "0.05",
                "--no-startup-delay",
                "--no-reload",
                "--worker-id",
                name,
                "-v",
                "0",
            ],
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

    def stop_all(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
        for proc in self.procs.values():
            proc.wait(10)

    def output(self, lines: int = 15) -> str:
        """The last lines each worker wrote (for failure messages)."""
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
