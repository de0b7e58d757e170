"""Password guessing on the admin login is throttled per username and address."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.http import HttpResponse
from django.test import Client
from django.urls import reverse

LIMIT = 3
HOME = "10.0.0.1"


@pytest.fixture(autouse=True)
def limit(settings: Any) -> None:
    settings.AXES_FAILURE_LIMIT = LIMIT


@pytest.fixture
def users(db: None) -> None:
    User.objects.create_superuser("alice", "alice@example.com", "alice-password-1")
    User.objects.create_superuser("bob", "bob@example.com", "bob-password-1")


def log_in(user: str, password: str, *, ip: str = HOME, **extra: Any) -> HttpResponse:
    client = Client(REMOTE_ADDR=ip, **extra)
    response = client.post(
        reverse("admin:login"),
        {"username": user, "password": password, "next": "/admin/"},
    )
    return response  # type: ignore[return-value]


def succeeded(response: HttpResponse) -> bool:
    return response.status_code == 302 and response["Location"] == "/admin/"


def guess(user: str, times: int, *, ip: str = HOME) -> list[int]:
    return [log_in(user, "wrong-guess", ip=ip).status_code for _ in range(times)]


def test_the_limit_th_wrong_password_locks_the_user_out_with_a_clear_page(
    users: None,
) -> None:
    statuses = guess("alice", LIMIT)
    locked = log_in("alice", "alice-password-1")

    assert statuses == [200] * (LIMIT - 1) + [429]
    assert locked.status_code == 429
    page = locked.content.decode()
    assert 'id="lockout-message"' in page
    assert "Too many failed logins for “alice” from your address" in page
    assert "blocked for 15 minutes" in page
    assert "manage.py axes_reset_username alice" in page
    assert 'id="login-form"' in page


def test_other_users_and_other_addresses_are_not_locked_out(users: None) -> None:
    guess("alice", LIMIT)

    assert succeeded(log_in("bob", "bob-password-1"))
    assert succeeded(log_in("alice", "alice-password-1", ip="10.0.0.2"))
    assert log_in("alice", "alice-password-1").status_code == 429


def test_a_successful_login_resets_the_count(users: None) -> None:
    guess("alice", LIMIT - 1)
    assert succeeded(log_in("alice", "alice-password-1"))

    assert guess("alice", LIMIT - 1) == [200] * (LIMIT - 1)
    assert succeeded(log_in("alice", "alice-password-1"))


def test_axes_reset_lifts_a_lockout(users: None) -> None:
    guess("alice", LIMIT)
    assert log_in("alice", "alice-password-1").status_code == 429

    call_command("axes_reset_username", "alice", stdout=io.StringIO())

    assert succeeded(log_in("alice", "alice-password-1"))


def test_behind_a_trusted_proxy_the_address_it_saw_counts(
    users: None, settings: Any
) -> None:
    settings.LOGIN_TRUSTED_PROXIES = 1
    proxy = "192.0.2.10"
    for _ in range(LIMIT):
        # The client can forge what comes before the proxy's own entry.
        log_in("alice", "wrong", ip=proxy, HTTP_X_FORWARDED_FOR="1.1.1.1, 203.0.113.5")

    elsewhere = log_in(
        "alice", "alice-password-1", ip=proxy, HTTP_X_FORWARDED_FOR="203.0.113.6"
    )
    forged = log_in(
        "alice",
        "alice-password-1",
        ip=proxy,
        HTTP_X_FORWARDED_FOR="9.9.9.9, 203.0.113.5",
    )

    assert succeeded(elsewhere)
    assert forged.status_code == 429
