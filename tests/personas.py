"""Named people, one per role (as healthchecks' hc/test.py has Alice and Bob):
Maya the marketer, Arjun and Bela the approvers, Ada the admin, Rita the
reviewer. Each is staff and in exactly one role group, set up by the same
`roles_setup()` that migrate runs."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, User

from gupshup_admin.roles import roles_setup

PASSWORD = "persona-password-1"
PEOPLE = {
    "maya": "Marketer",
    "arjun": "Approver",
    "bela": "Approver",
    "ada": "Admin",
    "rita": "Reviewer",
}


def persona(username: str, role: str | None = None) -> User:
    """A staff user in `role` (default: the one in PEOPLE), not a superuser."""
    roles_setup()
    user = User.objects.create_user(
        username, f"{username}@example.com", PASSWORD, is_staff=True
    )
    user.groups.add(Group.objects.get(name=role or PEOPLE[username]))
    return user


# Fixtures; a conftest imports them where they are wanted.


@pytest.fixture
def maya(db: None) -> User:
    """Maya the marketer: media and draft campaigns."""
    return persona("maya")


@pytest.fixture
def arjun(db: None) -> User:
    """Arjun the approver."""
    return persona("arjun")


@pytest.fixture
def bela(db: None) -> User:
    """Bela, a second approver."""
    return persona("bela")


@pytest.fixture
def ada(db: None) -> User:
    """Ada the admin (in the Admin group, not a superuser)."""
    return persona("ada")


@pytest.fixture
def rita(db: None) -> User:
    """Rita the reviewer: reads everything, changes nothing."""
    return persona("rita")
