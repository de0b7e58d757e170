"""The start page at `/` (where the admin's "View site" goes): a real page for
every role, showing what that role can act on."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from campaigns.lifecycle import drafts
from tests.personas import persona
from tests.roles.world import World, build_world


@pytest.fixture
def world(settings: Any, tmp_path: Any, db: None) -> World:
    settings.MEDIA_ROOT = tmp_path
    return build_world(persona("maya"))


def maya() -> User:
    """The marketer who made the world's campaign."""
    return User.objects.get(username="maya")


def tiles(client: Client) -> dict[str, str]:
    page = client.get("/")
    assert page.status_code == 200
    return {t.key: str(t.count) for t in page.context["tiles"]}


@pytest.mark.parametrize("who", ["maya", "arjun", "ada", "rita"])
def test_every_role_has_a_start_page(client: Client, world: World, who: str) -> None:
    client.force_login(maya() if who == "maya" else persona(who))
    response = client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "<h1>Hello" in html and 'id="places"' in html
    assert 'href="/admin/"' in html


def test_a_visitor_is_asked_to_log_in(client: Client, db: None) -> None:
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/?next=/")


def test_an_approver_sees_what_waits_for_them_and_not_what_they_made(
    client: Client, world: World
) -> None:
    arjun = persona("arjun")
    client.force_login(arjun)
    assert tiles(client)["approval"] == "1"  # Maya's draft with recipients
    drafts.campaign_update(campaign=world.campaign, changed=["name"], user_id=arjun.pk)
    assert tiles(client)["approval"] == "0"  # he edited it: not his to approve


def test_a_marketer_sees_the_drafts_and_no_approval_tile(
    client: Client, world: World
) -> None:
    client.force_login(maya())
    seen = tiles(client)
    assert seen["draft"] == "1" and "approval" not in seen
