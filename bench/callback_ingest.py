"""Callback ingest: accepted by the endpoint and processed by the worker, none lost.

    .venv/bin/python bench/callback_ingest.py          # on a throwaway PostgreSQL
    scripts/with-postgres.sh .venv/bin/python bench/callback_ingest.py

The web server (gunicorn, 2 processes x 8 threads) and one `db_worker` for the
`callbacks` queue run as their own processes on a database of their own. Client
threads POST the four status callbacks (enqueued, sent, delivered, read, v2
format, secret in the header) of every recipient of a submitted campaign, in a
shuffled order. Prints one JSON object: callbacks accepted per second (first POST
to last answer), processed per second (first POST until the worker has processed
every stored callback), how many were lost (stored ≠ sent, or any recipient not
read at the end), and `ok` (both rates ≥ 500/s and nothing lost).
"""

from __future__ import annotations

import json
import random
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _pg import (
    bench_database,
    bench_env,
    children,
    cpu_ticks,
    django_setup,
    free_port,
    machine_busy_ticks,
    on_postgres,
    processes,
    wait_until_up,
)

RECIPIENTS = 2000
CLIENT_THREADS = 16
TARGET_PER_S = 500.0


def main() -> None:
    server = on_postgres()
    with tempfile.TemporaryDirectory() as tmp, bench_database(server) as url:
        port = free_port()
        env = bench_env(
            url, Path(tmp), SITE_URL=f"http://127.0.0.1:{port}", CONN_MAX_AGE="60"
        )
        import os

        os.environ.update(env)
        django_setup()
        print(json.dumps(run(env, Path(tmp), port)))


def prepare() -> tuple[Any, list[bytes]]:
    """A campaign whose recipients were all submitted, and their callback bodies."""
    from gupshup_admin.simulator import DEMO
    from gupshup_admin.simulator.payloads import SentMessage, v2_body
    from tests.factories import attempt_sent, phones, sim_campaign

    campaign = sim_campaign(phones=phones(RECIPIENTS))
    bodies = []
    for number, recipient in enumerate(campaign.recipients.order_by("pk")):
        gs_id = f"00000000-0000-4000-8000-{number:012d}"
        attempt_sent(recipient, message_id=gs_id)
        message = SentMessage(
            app=DEMO.capi_app,
            gs_id=gs_id,
            wamid=f"wamid.bench{number:08d}",
            destination=recipient.phone.lstrip("+"),
            wa_id=recipient.phone.lstrip("+"),
        )
        for step, event in enumerate(message.events()):
            body = v2_body(message, event, 1763900000 + step, drop_gsid=False)
            bodies.append(json.dumps(body).encode())
    random.Random(7).shuffle(bodies)
    return campaign, bodies


def post_all(url: str, secret: str, bodies: list[bytes]) -> tuple[float, int]:
    """POST every body from several threads over kept-alive connections;
    (seconds, non-200 answers). Plain `http.client`: the load generator runs
    on the same two cores as the system under test, so it should cost little
    (`requests` took about 0.8 ms of CPU per callback, this about a third)."""
    from http.client import HTTPConnection
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    chunks = [bodies[i::CLIENT_THREADS] for i in range(CLIENT_THREADS)]
    failures = [0] * CLIENT_THREADS
    headers = {"X-Gupshup-Admin-Secret": secret, "Content-Type": "application/json"}

    def send(index: int) -> None:
        conn = HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=30)
        try:
            for body in chunks[index]:
                conn.request("POST", parts.path, body=body, headers=headers)
                reply = conn.getresponse()
                reply.read()
                failures[index] += reply.status != 200
                if reply.will_close:
                    conn.close()
        finally:
            conn.close()

    threads = [threading.Thread(target=send, args=(i,)) for i in range(CLIENT_THREADS)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.monotonic() - started, sum(failures)


def run(env: dict[str, str], tmp: Path, port: int) -> dict[str, Any]:
    import os

    from campaigns.models import RecipientStatus, WebhookEvent, WebhookState

    campaign, bodies = prepare()
    app = campaign.partner_app
    # gunicorn, as deployed: 2 processes x 8 threads on the 2 cores.
    web = ["-m", "gunicorn", "gupshup_admin.wsgi:application", "--workers", "2"]
    web += ["--threads", "8", "--bind", f"127.0.0.1:{port}", "--log-level", "warning"]
    worker = ["db_worker", "--queue-name", "callbacks", "--interval", "0.05"]
    worker += ["--no-startup-delay", "--no-reload"]
    with processes([web, worker], env, tmp, "ingest") as procs:
        wait_until_up(f"http://127.0.0.1:{port}/admin/login/", procs[0], "web server")
        time.sleep(2)  # the worker boots
        url = f"http://127.0.0.1:{port}/webhooks/gupshup/{app.pk}/"
        groups = {
            "web": {procs[0].pid} | children(procs[0].pid),
            "worker": {procs[1].pid},
            "client": {os.getpid()},
        }
        before = cpu_ticks(set().union(*groups.values())), machine_busy_ticks()
        started = time.monotonic()
        accept_seconds, refused = post_all(url, app.callback_secret, bodies)
        received = WebhookEvent.objects.filter(state=WebhookState.RECEIVED)
        deadline = time.monotonic() + 300
        while received.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        processed_seconds = time.monotonic() - started
        groups["database"] = database_backends()
        cpu = cpu_per_callback(groups, before, len(bodies), processed_seconds)
    stored = WebhookEvent.objects.count()
    not_read = campaign.recipients.exclude(status=RecipientStatus.READ).count()
    lost = (len(bodies) - stored) + received.count() + not_read
    accepted_per_s = len(bodies) / accept_seconds
    processed_per_s = len(bodies) / processed_seconds
    return {
        "callbacks": len(bodies),
        "client_threads": CLIENT_THREADS,
        "accepted_per_s": round(accepted_per_s, 1),
        "processed_per_s": round(processed_per_s, 1),
        "refused": refused,
        "stored": stored,
        "recipients_not_read": not_read,
        "lost": lost,
        "database": "postgresql",
        "cpu_ms_per_callback": cpu,
        "target_per_s": TARGET_PER_S,
        "ok": lost == 0
        and refused == 0
        and min(accepted_per_s, processed_per_s) >= TARGET_PER_S,
    }


def database_backends() -> set[int]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pid FROM pg_stat_activity WHERE pid <> pg_backend_pid()")
        return {row[0] for row in cursor.fetchall()}


def cpu_per_callback(
    groups: dict[str, set[int]],
    before: tuple[dict[int, int], int | None],
    count: int,
    seconds: float,
) -> dict[str, float | None]:
    """CPU milliseconds each part spent per callback, and the cores that other
    processes on the machine kept busy meanwhile (a busy machine explains a low
    rate). Database backends that started during the run count whole."""
    import os

    hz = os.sysconf("SC_CLK_TCK")
    start, busy_start = before
    out: dict[str, float | None] = {}
    total = 0.0
    for name, pids in groups.items():
        now = cpu_ticks(pids)
        spent = sum(t - start.get(pid, 0) for pid, t in now.items()) / hz
        total += spent
        out[name] = round(spent * 1000 / count, 2)
    busy_end = machine_busy_ticks()
    if busy_start is not None and busy_end is not None:
        busy = (busy_end - busy_start) / hz
        out["other_processes_cores"] = round(max(busy - total, 0) / seconds, 2)
    return out


if __name__ == "__main__":
    main()
