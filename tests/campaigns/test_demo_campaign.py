"""`manage.py demo_campaign` prepares the demo with real calls to the simulator."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from campaigns.lifecycle.preflight import campaign_preflight
from campaigns.models import Campaign, RecipientStatus
from gupshup_admin.simulator import Simulator
from media_library.models import MediaState


def test_the_demo_campaign_is_ready_to_start_with_the_bad_rows_reported(
    db: None, settings: Any
) -> None:
    call_command("demo_setup", stdout=io.StringIO())
    out = io.StringIO()
    with Simulator() as sim:
        settings.GUPSHUP_API_BASE = sim.base_url
        call_command("demo_campaign", stdout=out)
        call_command("demo_campaign", stdout=out)  # a second run changes nothing
    assert "19 accepted, 2 rejected, 1 duplicate(s) dropped" in out.getvalue()
    assert "exists already" in out.getvalue()
    campaign = Campaign.objects.get()
    assert campaign.recipients.filter(status=RecipientStatus.PENDING).count() == 19
    assert campaign.media_file.mirrors.get().state == MediaState.READY
    assert campaign_preflight(campaign=campaign).ok


def test_the_demo_campaign_needs_the_demo_apps_first(db: None) -> None:
    with pytest.raises(CommandError, match="demo_setup"):
        call_command("demo_campaign", stdout=io.StringIO())
