"""Secret ages: when each stored secret was set, when it is expected to lapse, and
the warnings before it does (pages, lists, the health check)."""

from __future__ import annotations

import runpy
from datetime import datetime, timedelta
from typing import Any

import pytest
import responses
from django.conf import settings as django_settings
from django.contrib.auth.models import User
from django.core.exceptions import ImproperlyConfigured
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from gupshup_admin import app_sync, services
from gupshup_admin.models import CommBoxChannel, PartnerApp
from gupshup_admin.secret_ages import (
    AgeState,
    SecretAge,
    commbox_channel_key_age,
    partner_app_secret_ages,
)
from tests.conftest import COMMBOX_KEY, PARTNER_SECRET
from tests.gupshup_admin.payloads import (
    APP_URL,
    health_ok,
    waba_info_ok,
    wallet_ok,
)

Mock = responses.RequestsMock
NOW = timezone.now()


def set_ago(**delta: float) -> datetime:
    return NOW - timedelta(**delta)


def age_of(app: PartnerApp, name: str, now: datetime = NOW) -> SecretAge:
    ages = {age.name: age for age in partner_app_secret_ages(app=app, now=now)}
    return ages[name]


def secret_set(app: PartnerApp, when: datetime | None) -> PartnerApp:
    PartnerApp.objects.filter(pk=app.pk).update(partner_secret_set_at=when)
    return PartnerApp.objects.get(pk=app.pk)


def key_set(channel: CommBoxChannel, when: datetime | None) -> CommBoxChannel:
    CommBoxChannel.objects.filter(pk=channel.pk).update(api_key_updated_at=when)
    return CommBoxChannel.objects.get(pk=channel.pk)


# --- the ages themselves ------------------------------------------------------------


def test_a_client_secret_set_74_days_ago_expires_in_about_16_days(
    partner_app_with_credentials: PartnerApp,
) -> None:
    app = secret_set(partner_app_with_credentials, set_ago(days=74, hours=3))

    age = age_of(app, "partner client secret")

    assert age.text == "set 74 days ago · expires in about 16 days"
    assert age.state == AgeState.OK
    assert age.advice == ""


def test_a_client_secret_inside_the_warning_window_says_how_to_renew_it(
    partner_app_with_credentials: PartnerApp,
) -> None:
    app = secret_set(partner_app_with_credentials, set_ago(days=80))

    age = age_of(app, "partner client secret")

    assert age.text == "set 80 days ago · expires in about 10 days"
    assert age.state == AgeState.EXPIRING
    assert "Partner Portal" in age.advice and "paste" in age.advice
    assert str(age).startswith("partner client secret: set 80 days ago")


def test_the_warning_window_and_the_lifetime_come_from_the_settings(
    partner_app_with_credentials: PartnerApp, settings: Any
) -> None:
    app = secret_set(partner_app_with_credentials, set_ago(days=74, hours=3))
    settings.PARTNER_SECRET_WARN_DAYS = 20
    assert age_of(app, "partner client secret").state == AgeState.EXPIRING

    settings.PARTNER_SECRET_LIFETIME_DAYS = 60
    age = age_of(app, "partner client secret")
    assert age.state == AgeState.EXPIRED
    assert age.text == "set 74 days ago · probably expired about 14 days ago"


def test_an_expired_client_secret_is_shown_expired_with_what_to_do(
    partner_app_with_credentials: PartnerApp,
) -> None:
    app = secret_set(partner_app_with_credentials, set_ago(days=95))

    age = age_of(app, "partner client secret")

    assert age.state == AgeState.EXPIRED
    assert age.text == "set 95 days ago · probably expired about 5 days ago"
    assert "generate a new client secret" in age.advice.lower()
    assert "paste" in age.advice


def test_a_client_secret_stored_before_ages_were_recorded_has_an_unknown_age(
    partner_app_with_credentials: PartnerApp,
) -> None:
    app = secret_set(partner_app_with_credentials, None)

    age = age_of(app, "partner client secret")

    assert age.state == AgeState.UNKNOWN
    assert age.text == "set on an unknown date"
    assert "paste it again" in age.advice


def test_a_pasted_app_token_shows_its_age_and_that_it_does_not_expire(
    partner_app: PartnerApp,
) -> None:
    PartnerApp.objects.filter(pk=partner_app.pk).update(
        app_token_updated_at=set_ago(hours=3, minutes=5)
    )
    app = PartnerApp.objects.get(pk=partner_app.pk)

    ages = partner_app_secret_ages(app=app, now=NOW)

    assert [(a.name, a.text, a.state) for a in ages] == [
        ("app token", "set 3 hours ago · does not expire", AgeState.OK)
    ]


def test_an_app_without_secrets_has_no_ages(bare_app: PartnerApp) -> None:
    assert partner_app_secret_ages(app=bare_app) == []


def test_a_commbox_key_warns_30_days_before_its_year_is_up(
    channel: CommBoxChannel,
) -> None:
    fine = commbox_channel_key_age(channel=key_set(channel, set_ago(days=300)), now=NOW)
    soon = commbox_channel_key_age(channel=key_set(channel, set_ago(days=340)), now=NOW)
    gone = commbox_channel_key_age(channel=key_set(channel, set_ago(days=400)), now=NOW)

    assert fine is not None and soon is not None and gone is not None
    assert (fine.state, fine.text) == (
        AgeState.OK,
        "set 300 days ago · expires in about 65 days",
    )
    assert (soon.state, soon.text) == (
        AgeState.EXPIRING,
        "set 340 days ago · expires in about 25 days",
    )
    assert "CommBox" in soon.advice
    assert gone.state == AgeState.EXPIRED
    assert "grace" in gone.advice  # a revoked key keeps working 30 days


def test_a_channel_without_a_key_has_no_age(db: None) -> None:
    channel = CommBoxChannel.objects.create(name="Empty", stream_id="abcd1234")

    assert commbox_channel_key_age(channel=channel) is None


# --- rotating resets the age --------------------------------------------------------


def test_pasting_a_new_client_secret_resets_its_age_and_is_audited(
    partner_app_with_credentials: PartnerApp,
) -> None:
    app = secret_set(partner_app_with_credentials, set_ago(days=95))

    services.partner_app_update_secrets(app=app, partner_secret="a-brand-new-secret-7")

    stored = PartnerApp.objects.get(pk=app.pk)
    assert stored.partner_secret_set_at is not None
    assert timezone.now() - stored.partner_secret_set_at < timedelta(minutes=1)
    assert age_of(stored, "partner client secret", timezone.now()).state == (
        AgeState.OK
    )
    event = AuditEvent.objects.get()
    assert event.details == {"secrets": {"partner client secret": "set …et-7"}}


def test_pasting_the_same_client_secret_again_keeps_its_age(
    partner_app_with_credentials: PartnerApp,
) -> None:
    app = secret_set(partner_app_with_credentials, set_ago(days=40))

    services.partner_app_update_secrets(app=app, partner_secret=PARTNER_SECRET)

    assert PartnerApp.objects.get(pk=app.pk).partner_secret_set_at == set_ago(days=40)


def test_pasting_the_same_commbox_key_again_keeps_its_age(
    channel: CommBoxChannel,
) -> None:
    channel = key_set(channel, set_ago(days=200))

    services.commbox_channel_update_secrets(channel=channel, api_key=COMMBOX_KEY)

    assert CommBoxChannel.objects.get(pk=channel.pk).api_key_updated_at == set_ago(
        days=200
    )
    assert not AuditEvent.objects.exists()


def test_pasting_a_new_commbox_key_resets_its_age_and_is_audited(
    channel: CommBoxChannel,
) -> None:
    channel = key_set(channel, set_ago(days=400))

    services.commbox_channel_update_secrets(
        channel=channel, api_key="cbx_live_key_fedcba9876543210"
    )

    stored = CommBoxChannel.objects.get(pk=channel.pk)
    age = commbox_channel_key_age(channel=stored)
    assert age is not None and age.state == AgeState.OK
    assert AuditEvent.objects.get().details == {"secrets": {"API key": "set …3210"}}


# --- where the ages show ------------------------------------------------------------


@pytest.fixture
def admin_client(client: Client, alice: User) -> Client:
    client.force_login(alice)
    return client


def test_the_app_page_and_list_show_the_age_of_each_secret(
    admin_client: Client, partner_app_with_credentials: PartnerApp
) -> None:
    app = secret_set(partner_app_with_credentials, set_ago(days=74, hours=3))

    page = admin_client.get(
        reverse("admin:gupshup_admin_partnerapp_change", args=[app.pk])
    ).content.decode()
    listing = admin_client.get(
        reverse("admin:gupshup_admin_partnerapp_changelist")
    ).content.decode()

    for html in (page, listing):
        assert "set 74 days ago · expires in about 16 days" in html
        assert "does not expire" in html  # the pasted app token


def test_the_app_page_warns_of_a_secret_about_to_lapse_and_of_an_expired_one(
    admin_client: Client, partner_app_with_credentials: PartnerApp
) -> None:
    url = reverse(
        "admin:gupshup_admin_partnerapp_change",
        args=[partner_app_with_credentials.pk],
    )
    secret_set(partner_app_with_credentials, set_ago(days=80))
    soon = [str(m) for m in admin_client.get(url).context["messages"]]
    secret_set(partner_app_with_credentials, set_ago(days=95))
    gone = [str(m) for m in admin_client.get(url).context["messages"]]

    assert len(soon) == 1 and "expires in about 10 days" in soon[0]
    assert len(gone) == 1 and "probably expired about 5 days ago" in gone[0]
    assert "generate a new client secret" in gone[0].lower()


def test_the_channel_page_and_list_show_the_key_age(
    admin_client: Client, channel: CommBoxChannel
) -> None:
    key_set(channel, set_ago(days=340))

    page = admin_client.get(
        reverse("admin:gupshup_admin_commboxchannel_change", args=[channel.pk])
    )
    listing = admin_client.get(
        reverse("admin:gupshup_admin_commboxchannel_changelist")
    ).content.decode()

    assert "set 340 days ago · expires in about 25 days" in page.content.decode()
    assert "set 340 days ago · expires in about 25 days" in listing
    assert any("CommBox" in str(m) for m in page.context["messages"])


def test_a_health_check_reports_the_secret_ages_and_warns_before_one_lapses(
    mocked: Mock, partner_app_with_credentials: PartnerApp
) -> None:
    app = secret_set(partner_app_with_credentials, set_ago(days=80))
    mocked.get(f"{APP_URL}/health", json=health_ok())
    mocked.get(f"{APP_URL}/waba/info", json=waba_info_ok())
    mocked.get(f"{APP_URL}/wallet/balance", json=wallet_ok(12.5, "USD"))

    report = app_sync.partner_app_check_health(app=app)

    assert report.healthy is True
    assert [age.name for age in report.secrets] == [
        "app token",
        "partner client secret",
    ]
    assert "partner client secret: set 80 days ago · expires in about 10 days" in (
        report.message
    )
    assert "app token" not in report.message  # only warnings go in the message
    assert PartnerApp.objects.get(pk=app.pk).health_message == report.message


def test_an_unhealthy_check_still_reports_an_expired_secret(
    mocked: Mock, partner_app_with_credentials: PartnerApp
) -> None:
    app = secret_set(partner_app_with_credentials, set_ago(days=95))
    mocked.get(f"{APP_URL}/health", status=400, json={"message": "App is not live."})

    report = app_sync.partner_app_check_health(app=app)

    assert report.healthy is False
    assert "App is not live." in report.message
    assert "probably expired about 5 days ago" in report.message


# --- settings -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("PARTNER_SECRET_WARN_DAYS", "soon", "PARTNER_SECRET_WARN_DAYS must be a"),
        ("PARTNER_SECRET_WARN_DAYS", "90", "less than PARTNER_SECRET_LIFETIME_DAYS"),
        ("PARTNER_SECRET_LIFETIME_DAYS", "0", "PARTNER_SECRET_LIFETIME_DAYS must be"),
        ("COMMBOX_KEY_WARN_DAYS", "-1", "COMMBOX_KEY_WARN_DAYS must be 0 or more"),
        ("COMMBOX_KEY_LIFETIME_DAYS", "a year", "COMMBOX_KEY_LIFETIME_DAYS must be"),
    ],
)
def test_a_bad_secret_age_setting_raises_improperly_configured_naming_it(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, says: str
) -> None:
    monkeypatch.setenv("ENV_FILE", "")
    monkeypatch.setenv(name, value)
    path = django_settings.BASE_DIR / "gupshup_admin" / "settings.py"

    with pytest.raises(ImproperlyConfigured, match=says):
        runpy.run_path(str(path))


def test_the_secret_age_settings_default_to_the_providers_lifetimes() -> None:
    assert (
        django_settings.PARTNER_SECRET_LIFETIME_DAYS,
        django_settings.PARTNER_SECRET_WARN_DAYS,
        django_settings.COMMBOX_KEY_LIFETIME_DAYS,
        django_settings.COMMBOX_KEY_WARN_DAYS,
    ) == (90, 14, 365, 30)
