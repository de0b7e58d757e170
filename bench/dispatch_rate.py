"""Dispatch rate against the simulator, with 4 db_worker processes on PostgreSQL.

    scripts/with-postgres.sh .venv/bin/python bench/dispatch_rate.py
    .venv/bin/python bench/dispatch_rate.py      # does the line above by itself

Prints one JSON object (after with-postgres.sh's own line). Three measurements:

(a) configured rate: the app may send RATE_PER_MINUTE (50/s) and the
    simulator's per-app window allows exactly that; the achieved rate (first to
    last `submitted_at`) must be ≥ 95 % of it, with zero 429s in the simulator's
    log (`rate_peak_1s`: the most sends it saw in any one second). The window is
    60 s long, so the default 25 s never fills it. `--rate-seconds 70` does, and
    shows that sending at exactly the window's rate meets a 429 once the window
    is full (the bucket's first token plus 60 s of refill is 3,001, and arrival
    jitter does the rest): a 60 s pause and a halved rate, ratio 0.51 measured.
    Configure apps a little under Gupshup's real limit;
(b) limit lifted: the app at 60,000/min, the simulator unlimited; sends per
    second from the first to the last `submitted_at` must be ≥ 300;
(c) naive: one `requests.post` after another to the same simulator, for the
    same number of sends as (b) (no database, no bookkeeping).

`*_cores_ours` is the CPU the benchmark's processes used during a phase (this
script, the simulator, the workers, the PostgreSQL backends), `*_cores_others`
what everything else on the machine used meanwhile: a busy machine shows there.
The simulator runs as its own process (`manage.py simulator`), so it does not
share this script's GIL; the workers keep their database connection
(CONN_MAX_AGE=60), as deployed. `--profile FILE` runs worker 0 under cProfile
(CPU time). The benchmark makes its own database on the server in DATABASE_URL
(it needs CREATEDB there) and drops it afterwards: nothing of yours is touched.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _pg import (
    bench_database,
    bench_env,
    cpu_ticks,
    django_setup,
    free_port,
    machine_busy_ticks,
    on_postgres,
    wait_until_up,
)

REPO = Path(__file__).resolve().parent.parent
WORKERS = 4
RATE_PER_MINUTE = 3000
UNLIMITED_PER_MINUTE = 60_000  # the model's maximum
TARGET_RATIO = 0.95
TARGET_SENDS_PER_S = 300.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rate-seconds", type=float, default=25.0)
    parser.add_argument("--unlimited-sends", type=int, default=6000)
    parser.add_argument(
        "--profile", metavar="FILE", help="run worker 0 under cProfile, stats to FILE"
    )
    args = parser.parse_args()
    server = on_postgres()
    with tempfile.TemporaryDirectory() as tmp, bench_database(server) as url:
        env = bench_env(
            url,
            Path(tmp),
            PROVIDER_READ_TIMEOUT="10",
            CAMPAIGN_SENDERS=str(WORKERS),
            CAMPAIGN_SENDER_SLICE_SECONDS="5",
            # Workers keep their connection, as deployed (the default 0
            # reconnects on every poll of the queue).
            CONN_MAX_AGE="60",
        )
        os.environ.update(env)
        django_setup()
        if args.profile:
            env["BENCH_PROFILE"] = str(Path(args.profile).resolve())
        result = run(env, Path(tmp), args.rate_seconds, args.unlimited_sends)
    print(json.dumps(result))


def run(
    env: dict[str, str], tmp: Path, rate_seconds: float, sends: int
) -> dict[str, Any]:
    from tests.factories import sim_app

    rate_sends = int(RATE_PER_MINUTE / 60 * rate_seconds)
    with simulator(env, tmp) as sim_url:
        env["GUPSHUP_API_BASE"] = os.environ["GUPSHUP_API_BASE"] = sim_url
        with workers(env, tmp):
            app = sim_app(rate_per_minute=RATE_PER_MINUTE)
            configured = measure_configured(app, sim_url, rate_sends)
            unlimited = measure_unlimited(app, sim_url, sends)
        naive = measure_naive(sim_url, sends)
    ok = (
        configured["achieved_ratio"] >= TARGET_RATIO
        and configured["rate_429s"] == 0
        and unlimited["unlimited_sends_per_s"] >= TARGET_SENDS_PER_S
        and configured["rate_double_sends"] == unlimited["unlimited_double_sends"] == 0
    )
    return {
        **configured,
        **unlimited,
        **naive,
        "workers": WORKERS,
        "cores": os.cpu_count(),
        "database": "postgresql",
        "target_ratio": TARGET_RATIO,
        "target_sends_per_s": TARGET_SENDS_PER_S,
        "ok": ok,
    }


# --- the processes -------------------------------------------------------------


@contextmanager
def simulator(env: dict[str, str], tmp: Path) -> Iterator[str]:
    """`manage.py simulator` in its own process: no callbacks, no faults."""
    port = free_port()
    config = tmp / "sim.json"
    config.write_text(json.dumps(sim_config()))
    command = [sys.executable, "manage.py", "simulator", "--port", str(port)]
    command += ["--config", str(config), "-v", "0"]
    proc = subprocess.Popen(
        command, cwd=REPO, env={**os.environ, **env}, stdout=subprocess.DEVNULL
    )
    OURS.add(proc.pid)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(f"{url}/_sim/health", proc, "simulator")
        yield url
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(15)


def sim_config() -> dict[str, Any]:
    """The demo data, the demo app's window following `rate_per_minute`."""
    from gupshup_admin.simulator import DEMO

    app = dataclasses.replace(DEMO.capi_app, rate_per_minute=None)
    apps = [dataclasses.asdict(app), dataclasses.asdict(DEMO.non_capi_app)]
    return {"apps": apps, "rate_per_minute": RATE_PER_MINUTE}


# CPU time (not wall time) of one worker, written when it exits.
PROFILED = """
import cProfile, runpy, sys, time
sys.argv = sys.argv[1:]
profile = cProfile.Profile(time.process_time)
profile.enable()
try:
    runpy.run_path(sys.argv[0], run_name="__main__")
finally:
    profile.disable()
    profile.dump_stats({out!r})
"""


@contextmanager
def workers(env: dict[str, str], tmp: Path) -> Iterator[None]:
    command = [sys.executable, "manage.py", "db_worker", "--queue-name", "*"]
    command += ["--interval", "0.1", "--no-startup-delay", "--no-reload", "-v", "0"]
    procs = []
    for number in range(WORKERS):
        log = (tmp / f"worker{number}.log").open("wb")
        profile = env.get("BENCH_PROFILE")
        prefix = ["-c", PROFILED.format(out=profile)] if profile and not number else []
        procs.append(
            subprocess.Popen(
                [command[0], *prefix, *command[1:]],
                cwd=REPO,
                env={**os.environ, **env},
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        )
        OURS.add(procs[-1].pid)
        log.close()
    try:
        time.sleep(3)  # let them boot before the clock starts
        yield
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()


# --- the measurements ----------------------------------------------------------


def send_campaign(app: Any, count: int, start: int) -> tuple[list[float], float]:
    """Send a campaign of `count` ordinary numbers; (submitted_at times, wall s)."""
    from campaigns.lifecycle import controls
    from campaigns.models import CampaignState, RecipientStatus
    from gupshup_admin.models import SendRateBucket
    from tests.factories import phones, sim_campaign

    SendRateBucket.objects.filter(app=app).delete()  # a fresh, empty bucket
    campaign = sim_campaign(phones=phones(count, start=start), app=app)
    started = time.monotonic()
    controls.campaign_start(campaign=campaign, user_id=None)
    while True:
        campaign.refresh_from_db(fields=["state", "state_reason"])
        if campaign.state != CampaignState.RUNNING:
            break
        time.sleep(0.25)
    wall = time.monotonic() - started
    if campaign.state != CampaignState.COMPLETED:
        raise SystemExit(f"campaign {campaign.state}: {campaign.state_reason}")
    rows = campaign.recipients.filter(status=RecipientStatus.SUBMITTED)
    times = rows.values_list("latest_attempt__submitted_at", flat=True)
    stamps = sorted(t.timestamp() for t in times if t is not None)
    if len(stamps) != count:
        raise SystemExit(f"only {len(stamps)} of {count} recipients were submitted")
    return stamps, wall


OURS: set[int] = {os.getpid()}  # the simulator and workers join when started


class CpuShare:
    """Cores used while the block runs, by this benchmark's processes (itself, the
    simulator, the workers, the PostgreSQL backends) and by everything else: a
    busy machine shows as `others`, so a low number can be read for what it is.
    Linux only (/proc); elsewhere both stay None."""

    ours: float | None = None
    others: float | None = None

    def __enter__(self) -> CpuShare:
        self._start = (time.monotonic(), machine_busy_ticks(), cpu_ticks(_our_pids()))
        return self

    def __exit__(self, *exc: object) -> None:
        wall0, busy0, ours0 = self._start
        if busy0 is None:
            return
        busy1, ours1 = machine_busy_ticks(), cpu_ticks(_our_pids())
        hz, wall = os.sysconf("SC_CLK_TCK"), time.monotonic() - wall0
        ours = sum(t - ours0.get(pid, 0) for pid, t in ours1.items()) / hz
        self.ours = round(ours / wall, 2)
        busy = max((busy1 or 0) - busy0, 0) / hz / wall
        self.others = round(max(busy - self.ours, 0.0), 2)


def _our_pids() -> set[int]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pid FROM pg_stat_activity")
        return OURS | {row[0] for row in cursor.fetchall()}


def per_second(stamps: list[float]) -> float:
    return (len(stamps) - 1) / max(stamps[-1] - stamps[0], 1e-9)


def sim_log(sim_url: str) -> list[dict[str, Any]]:
    reply = requests.get(f"{sim_url}/_sim/requests?endpoint=template_msg", timeout=60)
    reply.raise_for_status()
    rows: list[dict[str, Any]] = reply.json()
    return rows


def peak_per_second(log: list[dict[str, Any]]) -> int:
    """The most requests the simulator saw in any one-second window."""
    times = sorted(r["time"] for r in log)
    peak, first = 0, 0
    for last, at in enumerate(times):
        while times[first] <= at - 1.0:
            first += 1
        peak = max(peak, last - first + 1)
    return peak


def double_sends(log: list[dict[str, Any]]) -> int:
    accepted = Counter(r["destination"] for r in log if r["accepted"])
    return sum(n - 1 for n in accepted.values() if n > 1)


def measure_configured(app: Any, sim_url: str, count: int) -> dict[str, Any]:
    requests.post(f"{sim_url}/_sim/reset", timeout=10).raise_for_status()
    with CpuShare() as cpu:
        stamps, _ = send_campaign(app, count, start=1)
    achieved = per_second(stamps)
    configured = RATE_PER_MINUTE / 60
    log = sim_log(sim_url)
    return {
        "configured_rate_per_s": configured,
        "rate_sends": count,
        "rate_seconds": round(stamps[-1] - stamps[0], 2),
        "achieved_rate_per_s": round(achieved, 2),
        "achieved_ratio": round(achieved / configured, 3),
        "rate_429s": sum(r["status"] == 429 for r in log),
        "rate_cores_ours": cpu.ours,
        "rate_cores_others": cpu.others,
        "rate_peak_1s": peak_per_second(log),
        "rate_double_sends": double_sends(log),
    }


def measure_unlimited(app: Any, sim_url: str, count: int) -> dict[str, Any]:
    requests.post(f"{sim_url}/_sim/reset", timeout=10).raise_for_status()
    change = {"rate_per_minute": 100_000_000}
    requests.post(f"{sim_url}/_sim/config", json=change, timeout=10).raise_for_status()
    app.send_rate_per_minute = UNLIMITED_PER_MINUTE
    app.save(update_fields=["send_rate_per_minute"])
    with CpuShare() as cpu:
        stamps, wall = send_campaign(app, count, start=50_000)
    log = sim_log(sim_url)
    return {
        "unlimited_sends": count,
        "unlimited_seconds": round(stamps[-1] - stamps[0], 2),
        "unlimited_sends_per_s": round(per_second(stamps), 1),
        "unlimited_wall_seconds": round(wall, 2),
        "unlimited_429s": sum(r["status"] == 429 for r in log),
        "unlimited_cores_ours": cpu.ours,
        "unlimited_cores_others": cpu.others,
        "unlimited_double_sends": double_sends(log),
    }


def measure_naive(sim_url: str, count: int) -> dict[str, Any]:
    """One request after another, each on a new connection, nothing recorded."""
    from gupshup_admin.simulator import DEMO

    url = f"{sim_url}/partner/app/{DEMO.capi_app.app_id}/template/msg"
    started = time.monotonic()
    with CpuShare() as cpu:
        for number in range(count):
            _naive_send(url, f"919{number:05d}7777")
    seconds = time.monotonic() - started
    return {
        "naive_sends": count,
        "naive_sends_per_s": round(count / seconds, 1),
        "naive_cores_others": cpu.others,
    }


def _naive_send(url: str, destination: str) -> None:
    from gupshup_admin.simulator import DEMO
    from tests.factories import SIM_MEDIA_ID

    app = DEMO.capi_app
    template = {"id": DEMO.spring_sale_template_id, "params": ["Asha", "20%"]}
    form = {
        "source": app.source,
        "destination": destination,
        "src.name": app.app_name,
        "template": json.dumps(template),
        "message": json.dumps({"type": "image", "image": {"id": SIM_MEDIA_ID}}),
    }
    reply = requests.post(url, data=form, headers={"token": app.token}, timeout=10)
    reply.raise_for_status()


if __name__ == "__main__":
    main()
