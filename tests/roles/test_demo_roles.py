"""`make run` gives a newcomer one login per role, and its own campaign is
approved by the demo approver when four-eyes is on, so Start works at once."""

from __future__ import annotations

import io
from typing import Any

from django.contrib.auth.models import User
from django.core.management import call_command

from audit.models import AuditAction
from audit.selectors import audit_events_for
from campaigns.lifecycle.controls import campaign_start
from campaigns.models import ApprovalState, Campaign
from gupshup_admin.simulator import Simulator


def test_demo_setup_prints_a_login_for_each_role(db: None) -> None:
    out = io.StringIO()
    call_command("demo_setup", password="demo-password-1", stdout=out)
    text = out.getvalue()
    assert "Demo login: demo / demo-password-1" in text
    for role in ("Marketer", "Approver", "Admin", "Reviewer"):
        username = f"demo-{role.lower()}"
        line = next(li for li in text.splitlines() if f"{role} login:" in li)
        password = line.split(" / ")[1].split()[0]
        user = User.objects.get(username=username)
        assert user.check_password(password) and user.is_staff
        assert not user.is_superuser
        assert [g.name for g in user.groups.all()] == [role]
    assert User.objects.get(username="demo").is_superuser


def test_the_demo_campaign_is_made_by_the_marketer_and_approved_by_the_approver(
    db: None, settings: Any
) -> None:
    settings.CAMPAIGN_APPROVAL_THRESHOLD = 10
    call_command("demo_setup", stdout=io.StringIO())
    out = io.StringIO()
    with Simulator() as sim:
        settings.GUPSHUP_API_BASE = sim.base_url
        call_command("demo_campaign", stdout=out)
        campaign = Campaign.objects.get()
        assert campaign.created_by == User.objects.get(username="demo-marketer")
        assert campaign.approval == ApprovalState.APPROVED
        assert campaign.approval_by == User.objects.get(username="demo-approver")
        assert "above the approval threshold of 10: approved by" in out.getvalue()
        demo = User.objects.get(username="demo")
        campaign_start(campaign=campaign, user_id=demo.pk)
    actions = list(
        audit_events_for(target=campaign)
        .order_by("pk")
        .values_list("action", flat=True)
    )
    assert actions == [
        AuditAction.CAMPAIGN_CREATED,
        AuditAction.RECIPIENTS_IMPORTED,
        AuditAction.CAMPAIGN_APPROVED,
        AuditAction.CAMPAIGN_STARTED,
    ]
