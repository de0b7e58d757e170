from __future__ import annotations

from typing import Any

import pytest

from campaigns.dispatch import inflight
from campaigns.models import Campaign, CampaignKind
from gupshup_admin.models import PartnerApp, Template
from media_library.models import MediaFile
from tests.workers import worker_pool


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


# Real worker processes on the test database (PostgreSQL only): tests/workers.py.
__all__ = ["worker_pool"]


@pytest.fixture(autouse=True)
def cold_connections() -> None:
    """Each test starts with no app's connections warm in this process (a
    sender's first request to an app then goes alone, as in a fresh worker):
    app ids repeat from test to test."""
    inflight._WARM_UNTIL.clear()
