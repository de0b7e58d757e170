"""The admin's own refusals say which permission the page needs and which roles
hold it, as the campaign pages do."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.personas import persona


@pytest.mark.parametrize(
    ("url", "said"),
    [
        (
            "/admin/gupshup_admin/apiexchange/",
            "You may not see the list of API exchanges: that needs the permission "
            "“Can view API exchange”, which the Admin and Reviewer roles have.",
        ),
        (
            "/admin/campaigns/webhookevent/1/change/",
            "You may not open this webhook event: that needs the permission "
            "“Can view webhook event”, which the Admin and Reviewer roles have.",
        ),
        (
            "/admin/gupshup_admin/partnerapp/add/",
            "You may not add a partner app: that needs the permission “Can add "
            "partner app”, which the Admin role has.",
        ),
    ],
)
def test_a_refused_admin_page_names_the_permission_and_the_roles(
    client: Client, db: None, url: str, said: str
) -> None:
    client.force_login(persona("maya"))
    response = client.get(url)
    assert response.status_code == 403
    assert said in response.content.decode()
