"""The role groups: made by migrate, put back by `manage.py setup_roles`."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse

from gupshup_admin.roles import ROLES, roles_granting
from tests.factories import phones, sim_campaign

ROLE_NAMES = ["Admin", "Approver", "Marketer", "Reviewer"]


def perms_of(name: str) -> set[str]:
    group = Group.objects.get(name=name)
    return {
        f"{p.content_type.app_label}.{p.codename}"
        for p in group.permissions.select_related("content_type")
    }


def setup_roles() -> str:
    out = io.StringIO()
    call_command("setup_roles", stdout=out)
    return out.getvalue()


def test_migrate_made_the_four_groups(db: None) -> None:
    assert sorted(Group.objects.values_list("name", flat=True)) == ROLE_NAMES
    marketer = perms_of("Marketer")
    assert "media_library.add_mediafile" in marketer
    assert "campaigns.add_campaign" in marketer
    assert "campaigns.send_campaign" not in marketer
    assert not any(p.startswith("gupshup_admin.") and "partnerapp" in p
                   for p in marketer)  # fmt: skip
    assert {"campaigns.send_campaign", "campaigns.approve_campaign"} <= perms_of(
        "Approver"
    )
    reviewer = perms_of("Reviewer")
    assert all(p.split(".")[1].startswith("view_") or p == "campaigns.export_recipients"
               for p in reviewer)  # fmt: skip
    admin = perms_of("Admin")
    assert {"gupshup_admin.change_partnerapp", "auth.change_user"} <= admin


def test_migrate_puts_a_deleted_group_back(db: None) -> None:
    Group.objects.filter(name="Reviewer").delete()
    call_command("migrate", verbosity=0)
    assert "audit.view_auditevent" in perms_of("Reviewer")


def test_setup_roles_repairs_a_group_that_drifted_and_says_what_it_changed(
    db: None,
) -> None:
    marketer = Group.objects.get(name="Marketer")
    marketer.permissions.add(Permission.objects.get(codename="view_partnerapp"))
    marketer.permissions.remove(Permission.objects.get(codename="add_mediafile"))
    output = setup_roles()
    assert "Marketer: added media_library.add_mediafile; removed " in output
    assert "gupshup_admin.view_partnerapp" in output
    assert "media_library.add_mediafile" in perms_of("Marketer")
    assert "gupshup_admin.view_partnerapp" not in perms_of("Marketer")
    again = setup_roles()
    assert again.splitlines() == [f"{r.name}: up to date" for r in ROLES]


def test_setup_roles_keeps_the_members_of_a_group(db: None) -> None:
    user = User.objects.create_user("maya", is_staff=True)
    user.groups.add(Group.objects.get(name="Marketer"))
    setup_roles()
    assert user.has_perm("media_library.add_mediafile")


def test_setup_roles_fails_loudly_when_a_permission_is_missing(db: None) -> None:
    Permission.objects.filter(codename="approve_campaign").delete()
    with pytest.raises(CommandError, match=r"campaigns\.approve_campaign"):
        setup_roles()


def test_the_roles_holding_a_permission_are_named() -> None:
    assert roles_granting("campaigns.send_campaign") == ["Approver", "Admin"]
    assert roles_granting("gupshup_admin.change_partnerapp") == ["Admin"]
    assert roles_granting("audit.view_auditevent") == ["Admin", "Reviewer"]


def test_a_refused_page_names_the_permission_and_the_roles_that_have_it(
    client: Client, db: None
) -> None:
    campaign = sim_campaign(phones=phones(1))
    marketer = User.objects.create_user("maya", password="pw-123456", is_staff=True)
    marketer.groups.add(Group.objects.get(name="Marketer"))
    client.force_login(marketer)
    response = client.post(reverse("campaigns:start", args=[campaign.pk]))
    assert response.status_code == 403
    text = response.content.decode()
    assert "You may not start campaigns" in text
    assert "“Can start, schedule, pause, resume, cancel and retry campaigns”" in text
    assert "which the Approver and Admin roles have" in text
    assert "Gupshup Admin" in text  # in the admin's frame, not a bare page
