"""A CommBox channel's health: kept by every upload, checked on demand, shown in
the admin, and said when media is mirrored to a channel that is unhealthy."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.contrib.messages import constants as levels
from django.test import Client
from django.urls import reverse

from gupshup_admin import commbox_channels, services, tasks
from gupshup_admin.models import ApiExchange, CommBoxChannel, HealthStatus
from gupshup_admin.simulator import DEMO, Simulator
from media_library import services as media_services
from media_library.models import MediaFile, MediaState, ProviderMedia
from tests.media_library.test_mirroring import png

CHANGELIST = reverse("admin:gupshup_admin_commboxchannel_changelist")


@pytest.fixture
def sim(settings: Any, tmp_path: Any) -> Iterator[Simulator]:
    settings.MEDIA_ROOT = tmp_path
    with Simulator() as simulator:
        settings.COMMBOX_API_BASE = simulator.commbox_base_url
        yield simulator


def demo_channel(api_key: str = DEMO.channel.api_key) -> CommBoxChannel:
    channel = CommBoxChannel(name="Main CommBox", stream_id=DEMO.channel.stream_id)
    channel.set_api_key(api_key)
    channel.save()
    return channel


def mirror(capture: Any, channel: CommBoxChannel) -> ProviderMedia:
    media = MediaFile.objects.first() or (
        media_services.media_file_create(
            fileobj=io.BytesIO(png()), name="spring.png"
        ).media_file
    )
    with capture(execute=True):
        [row] = media_services.media_mirror_request(
            media_file=media, channels=[channel]
        )
    row.refresh_from_db()
    return row


def test_a_refused_key_while_mirroring_marks_the_channel_unhealthy_in_commbox_words(
    db: None, sim: Simulator, django_capture_on_commit_callbacks: Any
) -> None:
    channel = demo_channel(api_key="cbx_revoked_key_000")

    row = mirror(django_capture_on_commit_callbacks, channel)

    assert row.state == MediaState.FAILED
    channel.refresh_from_db()
    assert channel.health_status == HealthStatus.UNHEALTHY
    assert 'answered HTTP 401: "Unauthorized"' in channel.health_message
    assert "CommBox API key" in channel.health_message
    assert channel.health_checked_at is not None
    assert "CommBox API key" in row.last_error


def test_a_successful_upload_marks_the_channel_healthy(
    db: None, sim: Simulator, django_capture_on_commit_callbacks: Any
) -> None:
    channel = demo_channel()

    row = mirror(django_capture_on_commit_callbacks, channel)

    assert row.state == MediaState.READY
    channel.refresh_from_db()
    assert channel.health_status == HealthStatus.HEALTHY
    assert channel.health_checked_at is not None


def test_mirroring_to_an_unhealthy_channel_says_so_and_sends_nothing(
    db: None, sim: Simulator, django_capture_on_commit_callbacks: Any
) -> None:
    channel = demo_channel()
    commbox_channels.commbox_channel_set_health(
        channel, HealthStatus.UNHEALTHY, "CommBox refused the key."
    )

    row = mirror(django_capture_on_commit_callbacks, channel)

    assert row.state == MediaState.FAILED
    assert "Main CommBox is unhealthy" in row.last_error
    assert "CommBox refused the key." in row.last_error
    assert "Check" in row.last_error
    assert sim.requests("commbox_upload") == []


def test_a_new_api_key_makes_the_channels_health_unknown_again(db: None) -> None:
    channel = demo_channel()
    commbox_channels.commbox_channel_set_health(
        channel, HealthStatus.UNHEALTHY, "refused"
    )

    services.commbox_channel_update_secrets(channel=channel, api_key="cbx_new_key_123")

    channel.refresh_from_db()
    assert channel.health_status == HealthStatus.UNKNOWN


@pytest.mark.parametrize(
    ("api_key", "status", "words"),
    [
        (DEMO.channel.api_key, HealthStatus.HEALTHY, "accepted"),
        ("cbx_revoked_key_000", HealthStatus.UNHEALTHY, "Unauthorized"),
    ],
)
def test_the_check_uploads_a_tiny_probe_and_records_the_answer(
    db: None, sim: Simulator, api_key: str, status: str, words: str
) -> None:
    channel = demo_channel(api_key)

    report = commbox_channels.commbox_channel_check(channel=channel)

    channel.refresh_from_db()
    assert channel.health_status == status
    assert words in report.message and words in channel.health_message
    [upload] = sim.requests("commbox_upload")
    assert upload["stream_id"] == channel.stream_id
    if status == HealthStatus.HEALTHY:
        assert upload["form"]["pic"]["content_type"] == "image/png"
    assert ApiExchange.objects.get().commbox_channel == channel


def test_the_check_of_an_unreachable_commbox_reports_it_and_keeps_the_status(
    db: None, settings: Any
) -> None:
    settings.COMMBOX_API_BASE = "http://127.0.0.1:9/commbox"
    channel = demo_channel()
    commbox_channels.commbox_channel_set_health(channel, HealthStatus.HEALTHY, "ok")

    report = commbox_channels.commbox_channel_check(channel=channel)

    assert report.healthy is False
    assert "Could not connect" in report.message
    channel.refresh_from_db()
    assert channel.health_status == HealthStatus.HEALTHY


def test_the_admin_list_and_page_show_the_health_and_the_check_button_works(
    db: None, sim: Simulator, client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    client.force_login(User.objects.create_superuser("root", "r@example.com", "pw"))
    channel = demo_channel(api_key="cbx_revoked_key_000")
    check = reverse("admin:gupshup_admin_commboxchannel_check", args=[channel.pk])

    response = client.post(check, follow=True)

    [message] = list(response.context["messages"])
    assert message.level == levels.ERROR and "Unauthorized" in str(message)
    page = response.content.decode()
    assert 'class="health-badge"' in page and "Unhealthy" in page
    assert 'data-action="check-channel"' in page
    listed = client.get(CHANGELIST).content.decode()
    assert "Unhealthy" in listed and 'class="health-badge"' in listed
    assert client.get(check).status_code == 405


def test_the_check_action_queues_one_check_per_selected_channel(
    db: None, client: Client, monkeypatch: Any
) -> None:
    root = User.objects.create_superuser("root", "r@example.com", "pw")
    client.force_login(root)
    channel = demo_channel()
    queued: list[tuple[Any, ...]] = []
    monkeypatch.setattr(
        "gupshup_admin.admin.channels.enqueue_on_commit",
        lambda task, *args: queued.append((task, *args)),
    )

    client.post(
        CHANGELIST,
        {"action": "check_action", "_selected_action": [channel.pk]},
        follow=True,
    )

    assert queued == [(tasks.check_commbox_channel, channel.pk, root.pk)]


def test_the_media_library_says_which_channel_is_unhealthy(
    db: None, client: Client, settings: Any, tmp_path: Any
) -> None:
    settings.MEDIA_ROOT = tmp_path
    client.force_login(User.objects.create_superuser("root", "r@example.com", "pw"))
    channel = demo_channel()
    commbox_channels.commbox_channel_set_health(
        channel, HealthStatus.UNHEALTHY, "CommBox refused the key."
    )

    page = client.get(reverse("media_library:library")).content.decode()

    assert "Main CommBox (CommBox, unhealthy" in page
    assert 'title="CommBox refused the key."' in page
