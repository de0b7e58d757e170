"""Several apps at Gupshup's 10 a second, answering in 300 ms: one sender in
this process serves them all at once, each at its own rate, and no app ever
has more than 10 requests arrive in one second as the simulator counts them."""

from __future__ import annotations

import dataclasses
import time
from collections import defaultdict
from typing import Any

from campaigns.dispatch import sender
from campaigns.lifecycle import controls
from campaigns.models import RecipientStatus, SenderSlot
from gupshup_admin.simulator import DEMO, Simulator, SimulatorConfig
from tests.factories import phones, sim_app, sim_campaign
from tests.timing import busiest_window

APPS = 4
SECONDS = 3.0


def test_apps_at_10_a_second_each_send_together_and_never_above_their_rate(
    db: None, settings: Any
) -> None:
    sims = [
        dataclasses.replace(
            DEMO.capi_app,
            app_id=f"many-{n}",
            token=f"sk_many_{n}_{'0' * 24}",
            app_name=f"manyapp{n}",
            source=f"9180001{n:05d}",
            rate_per_minute=600,
            rate_per_second=10,
        )
        for n in range(APPS)
    ]
    with Simulator(SimulatorConfig(latency=0.3)) as sim:
        settings.GUPSHUP_API_BASE = sim.base_url
        settings.CAMPAIGN_SENDERS = 1  # one slot serves every app
        settings.CAMPAIGN_SENDER_SLICE_SECONDS = SECONDS
        campaigns = []
        for n, sim_config in enumerate(sims):
            sim.add_app(sim_config)
            app = sim_app(name=f"Shop {n}", sim=sim_config)
            campaign = sim_campaign(phones=phones(60, start=100 * n), app=app)
            controls.campaign_start(campaign=campaign, user_id=None)
            campaigns.append(campaign)
        started = time.monotonic()
        slot = SenderSlot.objects.get()
        sender.sender_run(slot=0, token=slot.token)
        took = time.monotonic() - started
        arrivals: dict[str, list[float]] = defaultdict(list)
        for request in sim.requests("template_msg"):
            arrivals[request["path"].split("/")[3]].append(request["time"])
        statuses = [r["status"] for r in sim.requests("template_msg")]
        first_arrival = min(min(times) for times in arrivals.values())
    assert 429 not in statuses
    assert sorted(arrivals) == sorted(s.app_id for s in sims)
    for app_id, times in arrivals.items():
        assert busiest_window(times, 1.0) <= 10, app_id
        # Each app kept its own rate through the latency, all at once: after
        # its slow start (the first request goes alone, 0.3 s), 10 a second.
        times.sort()
        assert times[0] - first_arrival < 0.5, app_id
        steady = (len(times) - 2) / (times[-1] - times[1])
        assert steady >= 0.9 * 10, (app_id, len(times), steady, took)
        assert len(times) >= 0.9 * 10 * (SECONDS - 0.3 - 0.1), (app_id, len(times))
    for campaign in campaigns:
        assert not campaign.recipients.filter(status=RecipientStatus.SENDING).exists()
