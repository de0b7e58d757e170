"""Dispatch at the provider's speed: 4 db_worker processes on PostgreSQL sending
campaigns to the simulator (its own process) as Gupshup answers, in hundreds of ms.

    scripts/with-postgres.sh .venv/bin/python bench/dispatch_rate.py
    .venv/bin/python bench/dispatch_rate.py      # does the line above by itself

Prints one JSON object (after with-postgres.sh's own line). Four measurements,
the targets of issue 16 beside each (`ok` says whether all are met):

(a) one app at 10/s (600/min, Gupshup's per-app cap), the simulator answering
    in `--latency` (0.3 s) and counting 10 per second and 600 per minute:
    achieved rate from first to last `submitted_at` ≥ 95 % of 10/s, 0 429s;
(b) APPS (20) apps at 10/s each, one campaign each, all started together, the
    same latency and per-app counting: aggregate sends/s over `--many-seconds`
    ≥ 0.9 times 200/s, every app sending within its first seconds
    (`many_first_send_max_s`), no app above 10 in any one second as the
    simulator counts arrivals (`many_peak_1s_max`);
(c) zero latency, the limit lifted (60,000/min, the simulator unlimited):
    sends/s ≥ 1.5 times a naive one-request-at-a-time `requests.post` loop to the
    same simulator (no database, no bookkeeping), measured in the same run;
(d) CPU per send in (c), in ms: the workers' and the database backends'
    (aim: ≤ 1.5 ms together), the simulator's and this script's beside them.

`*_cores_others` is what everything else on the machine used meanwhile: a busy
machine shows there. The workers keep their database connection
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
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests

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
    wait_until_up,
)

REPO = Path(__file__).resolve().parent.parent
WORKERS = 4
APPS = 20
PER_APP_PER_MINUTE = 600  # 10/s: what Gupshup allows an app
UNLIMITED_PER_MINUTE = 60_000  # the model's maximum
TARGET_ONE_APP_RATIO = 0.95
TARGET_MANY_RATIO = 0.9
TARGET_OVER_NAIVE = 1.5
TARGET_CPU_MS = 1.5
SEND_TIMEOUT = 300.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--latency", type=float, default=0.3)
    parser.add_argument("--latency-spread", type=float, default=0.0)
    parser.add_argument("--one-seconds", type=float, default=30.0)
    parser.add_argument("--many-seconds", type=float, default=40.0)
    parser.add_argument("--unlimited-sends", type=int, default=6000)
    parser.add_argument(
        "--profile", metavar="FILE", help="run worker 0 under cProfile, stats to FILE"
    )
    parser.add_argument(
        "--statements",
        action="store_true",
        help="print the database's busiest statements in (c) to stderr (the "
        'server needs pg_stat_statements preloaded: PG_EXTRA_OPTS="-c '
        'shared_preload_libraries=pg_stat_statements"), each line: total ms, '
        "ms per send, calls, rows, the statement",
    )
    parser.add_argument(
        "--only",
        choices=["a", "b", "c"],
        help="run one measurement ((c) includes (d) and the naive loop); `ok` "
        "then judges that one",
    )
    args = parser.parse_args()
    server = on_postgres()
    with tempfile.TemporaryDirectory() as tmp, bench_database(server) as url:
        env = bench_env(
            url,
            Path(tmp),
            PROVIDER_READ_TIMEOUT="10",
            CAMPAIGN_SENDERS=str(WORKERS),
            # Workers keep their connection, as deployed (the default 0
            # reconnects on every poll of the queue).
            CONN_MAX_AGE="60",
        )
        os.environ.update(env)
        django_setup()
        if args.profile:
            env["BENCH_PROFILE"] = str(Path(args.profile).resolve())
        result = run(env, Path(tmp), args)
    print(json.dumps(result))


def say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def run(env: dict[str, str], tmp: Path, args: argparse.Namespace) -> dict[str, Any]:
    from tests.factories import sim_app

    latency = {"latency": args.latency, "latency_spread": args.latency_spread}
    with simulator(env, tmp) as sim_url:
        env["GUPSHUP_API_BASE"] = os.environ["GUPSHUP_API_BASE"] = sim_url
        apps = [
            sim_app(rate_per_minute=PER_APP_PER_MINUTE, name=f"Bench {n}", sim=sim)
            for n, sim in enumerate(bench_sim_apps())
        ]
        demo = sim_app(rate_per_minute=UNLIMITED_PER_MINUTE, name="Demo shop")
        one: dict[str, Any] = {}
        many: dict[str, Any] = {}
        lifted: dict[str, Any] = {}
        with workers(env, tmp) as worker_pids:
            configure(sim_url, **latency)
            if args.only in (None, "a"):
                say("(a) one app at 10/s")
                one = measure_one_app(apps[0], sim_url, args.one_seconds)
            if args.only in (None, "b"):
                say(f"(b) {APPS} apps at 10/s each")
                many = measure_many_apps(apps, sim_url, args.many_seconds)
            if args.only in (None, "c"):
                configure(sim_url, latency=0.0, rate_per_minute=100_000_000)
                say("(c, d) zero latency, the limit lifted")
                lifted = measure_lifted(
                    demo, sim_url, args.unlimited_sends, worker_pids, args.statements
                )
        naive: dict[str, Any] = {}
        if lifted:
            say("(c) the naive loop")
            naive = measure_naive(sim_url, args.unlimited_sends)
    targets: dict[str, bool] = {}
    extra: dict[str, Any] = {}
    if one:
        targets["a_one_app"] = (
            one["one_ratio"] >= TARGET_ONE_APP_RATIO and one["one_429s"] == 0
        )
    if many:
        targets["b_many_apps"] = (
            many["many_ratio"] >= TARGET_MANY_RATIO
            and many["many_peak_1s_max"] <= PER_APP_PER_MINUTE / 60
            and many["many_apps_sending_within_5s"] == APPS
        )
    if lifted:
        over_naive = lifted["lifted_sends_per_s"] / naive["naive_sends_per_s"]
        cpu_ms = lifted["lifted_cpu_ms_workers"] + lifted["lifted_cpu_ms_database"]
        targets["c_over_naive"] = over_naive >= TARGET_OVER_NAIVE
        targets["d_cpu_ms"] = cpu_ms <= TARGET_CPU_MS
        extra = {
            "lifted_over_naive": round(over_naive, 2),
            "cpu_ms_per_send": round(cpu_ms, 3),
        }
    doubles = [
        part.get(key, 0)
        for part, key in [
            (one, "one_double_sends"),
            (many, "many_double_sends"),
            (lifted, "lifted_double_sends"),
        ]
    ]
    targets["no_double_sends"] = not any(doubles)
    return {
        **one,
        **many,
        **lifted,
        **naive,
        **extra,
        "latency_s": args.latency,
        "latency_spread": args.latency_spread,
        "workers": WORKERS,
        "cores": os.cpu_count(),
        "database": "postgresql",
        "targets_met": targets,
        "ok": all(targets.values()),
    }


# --- the processes -------------------------------------------------------------


@contextmanager
def simulator(env: dict[str, str], tmp: Path) -> Iterator[str]:
    """The simulator in its own process, on gunicorn (`bench/sim_wsgi.py` says
    why): no callbacks, no faults."""
    port = free_port()
    config = tmp / "sim.json"
    config.write_text(json.dumps(sim_config()))
    command = [sys.executable, "-m", "gunicorn", "--workers", "1"]
    command += ["--worker-class", "gthread", "--threads", "256"]
    command += ["--keep-alive", "30", "--bind", f"127.0.0.1:{port}"]
    command += ["--log-level", "warning", "bench.sim_wsgi:application"]
    proc = subprocess.Popen(
        command,
        cwd=REPO,
        env={**os.environ, **env, "SIM_CONFIG": str(config)},
        stdout=subprocess.DEVNULL,
    )
    OURS.add(proc.pid)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(f"{url}/_sim/health", proc, "simulator")
        OURS.update(children(proc.pid))  # gunicorn's worker
        yield url
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(15)


def bench_sim_apps() -> list[Any]:
    """APPS apps like the demo's CAPI app, each with its own id, token and
    number, counted as Gupshup counts: 10 a second and 600 a minute."""
    from gupshup_admin.simulator import DEMO

    return [
        dataclasses.replace(
            DEMO.capi_app,
            app_id=f"bench-app-{n:02d}",
            token=f"sk_bench_{n:02d}_{'0' * 24}",
            app_name=f"benchapp{n:02d}",
            source=f"9180000{n:05d}",
            rate_per_minute=PER_APP_PER_MINUTE,
            rate_per_second=PER_APP_PER_MINUTE // 60,
        )
        for n in range(APPS)
    ]


def sim_config() -> dict[str, Any]:
    """The demo data (for the naive loop) and the bench apps."""
    from gupshup_admin.simulator import DEMO

    # The demo app follows the config's rate (lifted for (c)), per minute only.
    demo = dataclasses.replace(DEMO.capi_app, rate_per_minute=None)
    apps = [demo, DEMO.non_capi_app, *bench_sim_apps()]
    return {"apps": [dataclasses.asdict(app) for app in apps]}


def configure(sim_url: str, **change: Any) -> None:
    reply = requests.post(f"{sim_url}/_sim/config", json=change, timeout=10)
    reply.raise_for_status()


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
def workers(env: dict[str, str], tmp: Path) -> Iterator[set[int]]:
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
        yield {proc.pid for proc in procs}
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()


# --- the measurements ----------------------------------------------------------


def new_campaign(app: Any, count: int, start: int) -> Any:
    from gupshup_admin.models import SendRateBucket
    from tests.factories import phones, sim_campaign

    SendRateBucket.objects.filter(app=app).delete()  # a fresh bucket
    return sim_campaign(phones=phones(count, start=start), app=app)


def wait_settled(campaigns: list[Any], timeout: float) -> None:
    """Until no campaign runs (completed, cancelled or paused) or `timeout`."""
    from campaigns.models import Campaign, CampaignState

    deadline = time.monotonic() + timeout
    pks = [c.pk for c in campaigns]
    while time.monotonic() < deadline:
        running = Campaign.objects.filter(pk__in=pks, state=CampaignState.RUNNING)
        if not running.exists():
            return
        time.sleep(0.25)


def submitted_times(campaign: Any) -> list[float]:
    from campaigns.models import SendAttempt

    times = SendAttempt.objects.filter(
        recipient__campaign=campaign, submitted_at__isnull=False
    ).values_list("submitted_at", flat=True)
    return sorted(t.timestamp() for t in times if t is not None)


def send_campaign(app: Any, count: int, start: int) -> tuple[list[float], float]:
    """Send a campaign of `count` ordinary numbers; (submitted_at times, wall s)."""
    from campaigns.lifecycle import controls
    from campaigns.models import CampaignState

    campaign = new_campaign(app, count, start)
    started = time.monotonic()
    controls.campaign_start(campaign=campaign, user_id=None)
    wait_settled([campaign], timeout=SEND_TIMEOUT)
    wall = time.monotonic() - started
    campaign.refresh_from_db()
    if campaign.state != CampaignState.COMPLETED:
        stamps = submitted_times(campaign)
        raise SystemExit(
            f"campaign {campaign.state} after {wall:.0f} s with {len(stamps)} of "
            f"{count} submitted: {campaign.state_reason}"
        )
    stamps = submitted_times(campaign)
    if len(stamps) != count:
        raise SystemExit(f"only {len(stamps)} of {count} recipients were submitted")
    return stamps, wall


OURS: set[int] = {os.getpid()}  # the simulator and workers join when started


class CpuShare:
    """CPU used while the block runs: cores by this benchmark's processes (itself,
    the simulator, the workers, the PostgreSQL backends) and by everything else
    (a busy machine shows as `others`), and seconds by group when `groups` names
    them (the pids of the database backends are found at the end). Linux only
    (/proc); elsewhere everything stays None."""

    ours: float | None = None
    others: float | None = None

    def __init__(self, groups: dict[str, set[int]] | None = None) -> None:
        self.groups = groups or {}
        self.seconds: dict[str, float] = {}

    def __enter__(self) -> CpuShare:
        self._start = (time.monotonic(), machine_busy_ticks(), cpu_ticks(_our_pids()))
        return self

    def __exit__(self, *exc: object) -> None:
        wall0, busy0, ours0 = self._start
        if busy0 is None:
            return
        busy1, ours1 = machine_busy_ticks(), cpu_ticks(_our_pids())
        hz, wall = os.sysconf("SC_CLK_TCK"), time.monotonic() - wall0
        used = {pid: (t - ours0.get(pid, 0)) / hz for pid, t in ours1.items()}
        self.ours = round(sum(used.values()) / wall, 2)
        busy = max((busy1 or 0) - busy0, 0) / hz / wall
        self.others = round(max(busy - self.ours, 0.0), 2)
        database = _backend_pids()
        named = {**self.groups, "database": database}
        for name, pids in named.items():
            self.seconds[name] = sum(used.get(pid, 0.0) for pid in pids)


def _our_pids() -> set[int]:
    return OURS | _backend_pids()


def _backend_pids() -> set[int]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
        )
        return {row[0] for row in cursor.fetchall()}


def per_second(stamps: list[float]) -> float:
    return (len(stamps) - 1) / max(stamps[-1] - stamps[0], 1e-9)


def sim_log(sim_url: str) -> list[dict[str, Any]]:
    reply = requests.get(f"{sim_url}/_sim/requests?endpoint=template_msg", timeout=60)
    reply.raise_for_status()
    rows: list[dict[str, Any]] = reply.json()
    return rows


def peak_per_second(log: list[dict[str, Any]]) -> int:
    """The most requests the simulator saw in any one-second window."""
    from tests.timing import busiest_window

    return busiest_window((r["time"] for r in log), 1.0)


def campaign_of(app: Any) -> Any:
    from campaigns.models import Campaign

    return Campaign.objects.filter(partner_app=app).latest("pk")


def busiest_detail(log: list[dict[str, Any]], campaign: Any) -> list[str]:
    """The arrivals of the busiest one-second window when it holds more than
    the per-second rate: each as "+seconds status slice" (the sender slice
    that claimed it), to tell a handover from jitter."""
    from campaigns.models import Recipient
    from tests.timing import busiest_span

    rows = sorted(log, key=lambda r: r["time"])
    best = busiest_span([r["time"] for r in rows], 1.0)
    window = rows[max(best[0] - 2, 0) : best[1] + 2]
    if best[1] - best[0] <= PER_APP_PER_MINUTE / 60:
        return []
    claims = dict(
        Recipient.objects.filter(
            campaign=campaign, phone__in=[f"+{r['destination']}" for r in window]
        ).values_list("phone", "claimed_by")
    )
    start = rows[best[0]]["time"]
    lines = [f"window at {start - rows[0]['time']:.3f} s; claim: slot token-batch"]
    for row in window:
        claim = claims.get(f"+{row['destination']}") or "?"
        lines.append(f"{row['time'] - start:+.3f} {row['status']} {claim}")
    return lines


def double_sends(log: list[dict[str, Any]]) -> int:
    accepted = Counter(r["destination"] for r in log if r["accepted"])
    return sum(n - 1 for n in accepted.values() if n > 1)


def reset(sim_url: str) -> None:
    requests.post(f"{sim_url}/_sim/reset", timeout=10).raise_for_status()


def measure_one_app(app: Any, sim_url: str, seconds: float) -> dict[str, Any]:
    """(a) One app at its 10/s through the latency."""
    reset(sim_url)
    count = int(PER_APP_PER_MINUTE / 60 * seconds)
    with CpuShare() as cpu:
        stamps, _ = send_campaign(app, count, start=1)
    achieved = per_second(stamps)
    log = sim_log(sim_url)
    if os.environ.get("BENCH_DUMP"):  # the simulator's log, to look into
        Path(f"{os.environ['BENCH_DUMP']}.one").write_text(json.dumps({"log": log}))
    return {
        "one_configured_per_s": PER_APP_PER_MINUTE / 60,
        "one_sends": count,
        "one_seconds": round(stamps[-1] - stamps[0], 2),
        "one_achieved_per_s": round(achieved, 2),
        "one_ratio": round(achieved / (PER_APP_PER_MINUTE / 60), 3),
        "one_429s": sum(r["status"] == 429 for r in log),
        "one_peak_1s": peak_per_second(log),
        "one_busiest": busiest_detail(log, campaign_of(app)),
        "one_cores_ours": cpu.ours,
        "one_cores_others": cpu.others,
        "one_double_sends": double_sends(log),
    }


def measure_many_apps(apps: list[Any], sim_url: str, seconds: float) -> dict[str, Any]:
    """(b) Every app with a campaign of its own, all started together; counted
    over `seconds`, then cancelled (each campaign has more than it can send)."""
    from campaigns.lifecycle import controls

    reset(sim_url)
    per_app = int(PER_APP_PER_MINUTE / 60 * seconds * 1.5)
    campaigns = [
        new_campaign(app, per_app, start=60_000 + n * per_app)
        for n, app in enumerate(apps)
    ]
    started = time.time()
    with CpuShare() as cpu:
        for campaign in campaigns:
            controls.campaign_start(campaign=campaign, user_id=None)
        time.sleep(max(seconds - (time.time() - started), 0))
    ended = time.time()
    for campaign in campaigns:
        controls.campaign_cancel(campaign=campaign, user_id=None)
    wait_settled(campaigns, timeout=60)
    time.sleep(2)  # requests still in flight when cancelled settle
    log = sim_log(sim_url)
    if os.environ.get("BENCH_DUMP"):  # the simulator's log, to look into
        Path(os.environ["BENCH_DUMP"]).write_text(
            json.dumps({"started": started, "log": log})
        )
    counted = [r for r in log if started <= r["time"] <= ended and r["accepted"]]
    by_app: defaultdict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in log:
        by_app[row["app_id"]].append(row)
    firsts = []
    for app in apps:
        accepted = [r["time"] for r in by_app[app.app_id] if r["accepted"]]
        firsts.append(min(accepted) - started if accepted else None)
    sending = [f for f in firsts if f is not None]
    aggregate = len(counted) / (ended - started)
    configured = len(apps) * PER_APP_PER_MINUTE / 60
    return {
        "many_apps": len(apps),
        "many_seconds": round(ended - started, 1),
        "many_configured_per_s": configured,
        "many_sends": len(counted),
        "many_sends_per_s": round(aggregate, 1),
        "many_ratio": round(aggregate / configured, 3),
        "many_apps_sent_anything": len(sending),
        "many_apps_sending_within_5s": sum(f <= 5 for f in sending),
        "many_first_send_max_s": round(max(sending), 1) if sending else None,
        "many_peak_1s_max": max(
            (peak_per_second(rows) for rows in by_app.values()), default=0
        ),
        "many_429s": sum(r["status"] == 429 for r in log),
        "many_cores_ours": cpu.ours,
        "many_cores_others": cpu.others,
        "many_double_sends": double_sends(log),
    }


def measure_lifted(
    app: Any, sim_url: str, count: int, worker_pids: set[int], statements: bool
) -> dict[str, Any]:
    """(c) and (d): no latency, no limit; sends/s and CPU per send by part."""
    reset(sim_url)
    if statements:
        _statements_reset()
    sim_pids = OURS - worker_pids - {os.getpid()}
    groups = {"workers": worker_pids, "simulator": sim_pids, "bench": {os.getpid()}}
    with CpuShare(groups) as cpu:
        stamps, wall = send_campaign(app, count, start=50_000)
    log = sim_log(sim_url)
    if statements:
        _statements_print(count)

    def ms(part: str) -> float:
        return round(cpu.seconds.get(part, 0.0) * 1000 / count, 3)

    return {
        "lifted_sends": count,
        "lifted_seconds": round(stamps[-1] - stamps[0], 2),
        "lifted_sends_per_s": round(per_second(stamps), 1),
        "lifted_wall_seconds": round(wall, 2),
        "lifted_429s": sum(r["status"] == 429 for r in log),
        "lifted_cores_ours": cpu.ours,
        "lifted_cores_others": cpu.others,
        "lifted_cpu_ms_workers": ms("workers"),
        "lifted_cpu_ms_database": ms("database"),
        "lifted_cpu_ms_simulator": ms("simulator"),
        "lifted_cpu_ms_bench": ms("bench"),
        "lifted_double_sends": double_sends(log),
    }


def _statements_reset() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        cursor.execute("SELECT pg_stat_statements_reset()")


def _statements_print(sends: int) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT total_exec_time, calls, rows, query FROM pg_stat_statements "
            "ORDER BY total_exec_time DESC LIMIT 15"
        )
        for total, calls, rows, query in cursor.fetchall():
            text = " ".join(query.split())[:150]
            say(f"{total:9.1f} {total / sends:6.3f} {calls:6d} {rows:7d} {text}")


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
