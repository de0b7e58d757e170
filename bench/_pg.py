"""Shared by the PostgreSQL benchmarks: a throwaway database, the environment
for this process and its children, and subprocesses that always stop."""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

REPO = Path(__file__).resolve().parent.parent


def on_postgres() -> str:
    """DATABASE_URL of a PostgreSQL server; re-runs this script under
    scripts/with-postgres.sh (a throwaway cluster) when there is none."""
    server = os.environ.get("DATABASE_URL", "")
    if not server.startswith(("postgres://", "postgresql://")):
        script = REPO / "scripts" / "with-postgres.sh"
        os.execv(script, [str(script), sys.executable, *sys.argv])  # noqa: S606
    return server


@contextmanager
def bench_database(server_url: str) -> Iterator[str]:
    """A fresh database on the server of `server_url`, dropped afterwards."""
    import psycopg

    parts = urlsplit(server_url)
    name = f"gupshup_admin_bench_{os.getpid()}"
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlunsplit(parts._replace(path=f"/{name}"))
    finally:
        if "django.db" in sys.modules:
            from django.db import connections

            connections.close_all()
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def bench_env(database_url: str, tmp: Path, **extra: str) -> dict[str, str]:
    """The environment of this process, the workers and the servers."""
    from cryptography.fernet import Fernet

    return {
        "DJANGO_SETTINGS_MODULE": "gupshup_admin.settings",
        # Never the developer's .env (the demo's approval threshold, say).
        "ENV_FILE": "",
        "DATABASE_URL": database_url,
        "SECRET_KEY": secrets.token_urlsafe(40),
        "SECRETS_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "TASKS_BACKEND": "db",
        "MEDIA_ROOT": str(tmp / "media"),
        "DEBUG": "false",
        "LOG_LEVEL": "WARNING",
        # Plain HTTP on loopback: no redirect to HTTPS.
        "SECURE_SSL_REDIRECT": "false",
        **extra,
    }


def django_setup() -> None:
    """Set Django up in this process (the environment is set) and migrate."""
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_up(url: str, proc: subprocess.Popen[bytes], name: str) -> None:
    import requests

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the {name} exited with {proc.returncode}")
        try:
            requests.get(url, timeout=1)
            return
        except requests.RequestException:
            time.sleep(0.2)
    raise SystemExit(f"the {name} did not start within 30 s")


@contextmanager
def processes(
    commands: list[list[str]], env: dict[str, str], tmp: Path, name: str
) -> Iterator[list[subprocess.Popen[bytes]]]:
    """Run `manage.py` commands, or `-m module …` ones (logs in tmp); SIGTERM,
    then SIGKILL, at the end."""
    procs = []
    for number, command in enumerate(commands):
        log = (tmp / f"{name}{number}.log").open("wb")
        argv = command if command[0] == "-m" else ["manage.py", *command]
        procs.append(
            subprocess.Popen(
                [sys.executable, *argv],
                cwd=REPO,
                env={**os.environ, **env},
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        )
        log.close()
    try:
        yield procs
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()


# --- CPU accounting (Linux /proc) ------------------------------------------------


def cpu_ticks(pids: set[int]) -> dict[int, int]:
    """utime + stime of each process still alive, in clock ticks."""
    ticks = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks[pid] = int(fields[11]) + int(fields[12])
    return ticks


def children(pid: int) -> set[int]:
    """The direct children of a process."""
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(stat[1]) == pid:
                found.add(int(entry.name))
    return found


def machine_busy_ticks() -> int | None:
    """Ticks all cores spent busy (all but idle and iowait)."""
    try:
        fields = [int(v) for v in Path("/proc/stat").read_text().split()[1:9]]
    except OSError:
        return None
    return sum(fields) - fields[3] - fields[4]
