"""History pages on a million recipients, on PostgreSQL.

    scripts/with-postgres.sh .venv/bin/python bench/history_pages.py
    .venv/bin/python bench/history_pages.py      # does the line above by itself

Makes its own database on the server in DATABASE_URL (dropped afterwards),
migrates it, inserts 1,000,000 recipients across four campaigns with
`INSERT … SELECT generate_series` (statuses and errors), their attempts (ids,
milestone times; one in 20 sent twice) and the status events their callbacks
would have left (enqueued, sent, delivered, read, failed), runs VACUUM
ANALYZE as autovacuum would, then times each page with Django's test Client
as a logged-in Reviewer: `--runs` times after two warm-up requests. Prints
one JSON object (after with-postgres.sh's own line): per page the median,
p95 and max in ms and the number of queries; `ok` when every page's median
is ≤ 300 ms with ≤ 15 queries. The report page keeps a slow count for a
minute (reports.campaign_report), so its runs after the first are served from
that; `report_counted_anew_every_load` times it with ?fresh=1, counting on
every load (not part of `ok`).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "bench"))
from _pg import bench_database, on_postgres  # noqa: E402

SHARES = [0.6, 0.25, 0.1, 0.05]  # of the rows, per campaign (the first is biggest)
TARGET_MEDIAN_MS = 300.0
TARGET_QUERIES = 15

# Per 100 rows: 40 read, 25 delivered, 10 sent, 5 submitted, 2 enqueued,
# 8 failed, 1 unknown, 9 pending (a campaign still sending). One recipient in
# 20 that was sent took two attempts: the first held back by WhatsApp (131049)
# and retried.
CODES = ["1002", "1012", "131049", "131026", "4001"]
RECIPIENTS_SQL = """
INSERT INTO campaigns_recipient (campaign_id, phone, params, source_line, status,
  attempts, error_code, error_message, retries, claimed_by, updated_at)
SELECT %(campaign)s, '+91' || (7000000000 + %(offset)s + i)::text,
  '["Asha", "20%%"]'::jsonb, i, s.status,
  CASE WHEN s.status = 'pending' THEN 0 WHEN i %% 20 = 0 THEN 2 ELSE 1 END,
  CASE WHEN s.status = 'failed' THEN c.code ELSE '' END,
  CASE WHEN s.status = 'failed' THEN 'Failed with code ' || c.code ELSE '' END,
  0, '',
  %(start)s::timestamptz + i * interval '100 milliseconds' + interval '5 minutes'
FROM generate_series(1, %(rows)s) AS i,
  LATERAL (SELECT (%(codes)s::text[])[1 + (i / 100) %% 5] AS code) AS c,
  LATERAL (SELECT CASE
    WHEN i %% 100 < 40 THEN 'read' WHEN i %% 100 < 65 THEN 'delivered'
    WHEN i %% 100 < 75 THEN 'sent' WHEN i %% 100 < 80 THEN 'submitted'
    WHEN i %% 100 < 82 THEN 'enqueued' WHEN i %% 100 < 90 THEN 'failed'
    WHEN i %% 100 < 91 THEN 'unknown' ELSE 'pending' END AS status) AS s
"""
# Each attempt with its ids and milestones: the earlier of two was held back,
# the latest is where the recipient stands.
ATTEMPTS_SQL = """
INSERT INTO campaigns_sendattempt (recipient_id, campaign_id, partner_app_id,
  number, status, claim, message_id, wamid, wa_id, error_code, error_message,
  created_at, submitted_at, delivered_at, read_at, failed_at, updated_at)
SELECT r.id, r.campaign_id, %(app)s, n, a.status, '',
  CASE WHEN a.status = 'unknown' THEN ''
    ELSE md5(r.id || ':' || n)::uuid::text END,
  CASE WHEN a.status IN ('sent', 'delivered', 'read', 'failed')
    THEN 'wamid.' || md5('w' || r.id || ':' || n) ELSE '' END,
  substr(r.phone, 2),
  CASE WHEN a.status = 'failed' THEN a.code ELSE '' END,
  CASE WHEN a.status = 'failed' THEN 'Failed with code ' || a.code ELSE '' END,
  t.at, CASE WHEN a.status <> 'unknown' THEN t.at END,
  CASE WHEN a.status IN ('delivered', 'read') THEN t.at + interval '4 seconds' END,
  CASE WHEN a.status = 'read' THEN t.at + interval '3 minutes' END,
  CASE WHEN a.status = 'failed' THEN t.at + interval '3 seconds' END,
  t.at + interval '5 minutes'
FROM campaigns_recipient r,
  generate_series(1, r.attempts) AS n,
  LATERAL (SELECT CASE WHEN n < r.attempts THEN 'failed' ELSE r.status END AS status,
    CASE WHEN n < r.attempts THEN '131049' ELSE r.error_code END AS code) AS a,
  LATERAL (SELECT %(start)s::timestamptz + r.source_line * interval '100 milliseconds'
    + (n - 1) * interval '1 day' AS at) AS t
WHERE r.campaign_id = %(campaign)s
"""
LATEST_SQL = """
UPDATE campaigns_recipient r SET latest_attempt_id = a.id
FROM campaigns_sendattempt a
WHERE a.recipient_id = r.id AND a.number = r.attempts
  AND r.campaign_id = %(campaign)s
"""
# One event per status each attempt went through, as its callbacks left them.
EVENTS_SQL = """
INSERT INTO campaigns_statusevent (attempt_id, partner_app_id, status, gs_id,
  wamid, destination, occurred_at, received_at, error_code, error_message)
SELECT a.id, %(app)s, e.status, a.message_id, a.wamid, a.wa_id,
  a.created_at + e.delay, a.created_at + e.delay + interval '1 second',
  CASE WHEN e.status = 'failed' THEN a.error_code ELSE '' END,
  CASE WHEN e.status = 'failed' THEN a.error_message ELSE '' END
FROM campaigns_sendattempt a
JOIN (VALUES
  ('enqueued', interval '1 second',
    ARRAY['enqueued', 'sent', 'delivered', 'read', 'failed']),
  ('sent', interval '2 seconds', ARRAY['sent','delivered','read']),
  ('delivered', interval '4 seconds', ARRAY['delivered','read']),
  ('read', interval '3 minutes', ARRAY['read']),
  ('failed', interval '3 seconds', ARRAY['failed'])
) AS e(status, delay, reached) ON a.status = ANY(e.reached)
WHERE a.campaign_id = %(campaign)s
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    server = on_postgres()
    with bench_database(server) as url:
        django_setup(url)
        result = run(args.rows, args.runs)
    print(json.dumps(result))


def django_setup(database_url: str) -> None:
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    os.environ["DJANGO_SETTINGS_MODULE"] = "gupshup_admin.settings_test"
    os.environ["DATABASE_URL"] = database_url
    import django
    from django.core.management import call_command
    from django.test.utils import setup_test_environment

    django.setup()
    setup_test_environment()  # the test Client's host is allowed
    call_command("migrate", verbosity=0)


def run(rows: int, runs: int) -> dict[str, Any]:
    from django.contrib.auth.models import Group, User
    from django.db import connection
    from django.test import Client
    from django.urls import reverse

    from gupshup_admin.roles import REVIEWER

    started = time.monotonic()
    campaigns, events, attempts = populate(rows)
    setup_seconds = round(time.monotonic() - started, 1)
    client = Client()
    # A reviewer, the people these pages are for: their permission checks count.
    reviewer = User.objects.create_user("bench", "b@example.com", "x", is_staff=True)
    reviewer.groups.add(Group.objects.get(name=REVIEWER.name))
    client.force_login(reviewer)
    pages = {name: measure(client, url, runs) for name, url in urls(campaigns)}
    # Not in `ok`: the report counted anew on every load (?fresh=1), the price
    # that the kept report saves reviewers (see reports.campaign_report).
    report = reverse("campaigns:report", args=[campaigns[0][0]])
    uncounted = measure(client, f"{report}?fresh=1", max(3, runs // 4))
    ok = all(
        p["median_ms"] <= TARGET_MEDIAN_MS and p["queries"] <= TARGET_QUERIES
        for p in pages.values()
    )
    return {
        "rows": rows,
        "send_attempts": attempts,
        "status_events": events,
        "campaign_rows": [n for _, n in campaigns],
        "setup_seconds": setup_seconds,
        "runs": runs,
        "pages": pages,
        "report_counted_anew_every_load": uncounted,
        "database": f"postgresql {connection.pg_version // 10000}",  # type: ignore[attr-defined]
        "cores": os.cpu_count(),
        "target_median_ms": TARGET_MEDIAN_MS,
        "target_queries": TARGET_QUERIES,
        "ok": ok,
    }


def populate(rows: int) -> tuple[list[tuple[int, int]], int, int]:
    """Four campaigns of one app with `rows` recipients in all, their attempts
    and status events, then VACUUM ANALYZE. Returns [(campaign id, rows)] and
    how many events and attempts."""
    from django.db import connection

    from tests.factories import sim_app, sim_campaign

    app = sim_app()
    campaigns, offset = [], 0
    with connection.cursor() as cursor:
        for n, share in enumerate(SHARES):
            size = round(rows * share) if n else rows - sum(
                round(rows * s) for s in SHARES[1:]
            )  # fmt: skip
            campaign = sim_campaign(phones=[], app=app, name=f"Bench sale {n + 1}")
            params: dict[str, Any] = {
                "campaign": campaign.pk,
                "offset": offset,
                "rows": size,
                "codes": CODES,
                "start": f"2026-03-0{n + 1}T08:00:00Z",
            }
            cursor.execute(RECIPIENTS_SQL, params)
            params["app"] = app.pk
            for statement in (ATTEMPTS_SQL, LATEST_SQL, EVENTS_SQL):
                cursor.execute(statement, params)
            campaigns.append((campaign.pk, size))
            offset += size
        cursor.execute("SELECT count(*) FROM campaigns_statusevent")
        events = int(cursor.fetchone()[0])
        cursor.execute("SELECT count(*) FROM campaigns_sendattempt")
        attempts = int(cursor.fetchone()[0])
        tables = (
            "campaigns_recipient",
            "campaigns_sendattempt",
            "campaigns_statusevent",
        )
        for table in tables:
            cursor.execute(f"VACUUM ANALYZE {table}")
    return campaigns, events, attempts


def urls(campaigns: list[tuple[int, int]]) -> list[tuple[str, str]]:
    from django.urls import reverse

    from campaigns.models import Recipient

    biggest, smallest = campaigns[0][0], campaigns[-1][0]
    changelist = reverse("admin:campaigns_recipient_changelist")
    middle = Recipient.objects.filter(campaign_id=biggest, status="read").order_by(
        "pk"
    )[campaigns[0][1] // 3]
    return [
        ("changelist_unfiltered", changelist),
        ("changelist_status_failed", f"{changelist}?status__exact=failed"),
        ("changelist_search_phone", f"{changelist}?q={middle.phone[1:]}"),
        ("changelist_small_campaign", f"{changelist}?campaign__id__exact={smallest}"),
        ("report_biggest_campaign", reverse("campaigns:report", args=[biggest])),
        (
            "recipient_timeline",
            reverse("campaigns:recipient", args=[biggest, middle.pk]),
        ),
    ]


def measure(client: Any, url: str, runs: int) -> dict[str, Any]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(2):
        check(client.get(url), url)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        check(client.get(url), url)
        times.append((time.perf_counter() - start) * 1000)
    with CaptureQueriesContext(connection) as queries:
        check(client.get(url), url)
    times.sort()
    return {
        "url": url,
        "median_ms": round(statistics.median(times), 1),
        "p95_ms": round(times[max(0, round(len(times) * 0.95) - 1)], 1),
        "max_ms": round(times[-1], 1),
        "queries": len(queries),
        "slowest_query_ms": round(
            max((float(q["time"]) * 1000 for q in queries.captured_queries), default=0),
            1,
        ),
    }


def check(response: Any, url: str) -> None:
    if response.status_code != 200:
        raise SystemExit(f"{url} answered {response.status_code}")


if __name__ == "__main__":
    main()
