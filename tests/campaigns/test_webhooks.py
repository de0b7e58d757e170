"""The callback endpoint: secret checks, raw storage, 200 at once, never a 500."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from campaigns.models import (
    Campaign,
    RecipientStatus,
    RefusedCallback,
    WebhookDrain,
    WebhookEvent,
    WebhookState,
)
from tests.factories import attempt_sent, phones, sim_campaign
from tests.payloads import callback

HEADER = "X-Gupshup-Admin-Secret"


@pytest.fixture
def campaign(db: None) -> Campaign:
    campaign = sim_campaign(phones=phones(1))
    attempt_sent(
        campaign.recipients.get(), message_id="28e59926-60d5-41ed-beee-931ef168a966"
    )
    return campaign


def post(
    client: Client, campaign: Campaign, body: Any, *, token: str = "", **headers: str
) -> Any:
    app = campaign.partner_app
    url = (
        reverse("webhooks:gupshup-token", args=[app.pk, token])
        if token
        else reverse("webhooks:gupshup", args=[app.pk])
    )
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return client.post(url, data, content_type="application/json", headers=headers)


def test_a_callback_with_the_secret_header_is_stored_and_processed(
    client: Client, campaign: Campaign, django_capture_on_commit_callbacks: Any
) -> None:
    secret = campaign.partner_app.callback_secret
    with django_capture_on_commit_callbacks(execute=True):
        response = post(client, campaign, callback("v2-enqueued"), **{HEADER: secret})
    assert response.status_code == 200
    event = WebhookEvent.objects.get()
    assert event.state == WebhookState.PROCESSED and event.event_type == "enqueued"
    assert event.headers[HEADER] == f"…{secret[-4:]}", "the secret is masked"
    assert campaign.recipients.get().status == RecipientStatus.ENQUEUED


def test_the_secret_may_also_be_in_the_url(
    client: Client, campaign: Campaign, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = post(
            client,
            campaign,
            callback("v2-enqueued"),
            token=campaign.partner_app.callback_secret,
        )
    assert response.status_code == 200
    assert campaign.recipients.get().status == RecipientStatus.ENQUEUED


@pytest.mark.parametrize("secret", ["", "wrong-secret"])
def test_a_wrong_or_missing_secret_is_403_counted_and_not_processed(
    client: Client, campaign: Campaign, secret: str
) -> None:
    headers = {HEADER: secret} if secret else {}
    response = post(client, campaign, callback("v2-enqueued"), **headers)
    assert response.status_code == 403
    assert not WebhookEvent.objects.exists()
    refused = RefusedCallback.objects.get()
    assert refused.reason == (
        "wrong secret" if secret else "no secret in the URL or header"
    )
    assert (refused.partner_app, refused.count) == (campaign.partner_app, 1)
    assert '"type": "message-event"' in refused.sample_body
    assert campaign.recipients.get().status == RecipientStatus.SUBMITTED


def test_an_unknown_app_is_403_like_a_wrong_secret(client: Client, db: None) -> None:
    url = reverse("webhooks:gupshup", args=[999])
    response = client.post(url, "{}", content_type="application/json")
    assert response.status_code == 403
    refused = RefusedCallback.objects.get()
    assert (refused.app_number, refused.reason) == (0, "no such partner app")
    assert refused.sample_headers["url_app_id"] == "999"


def test_a_flood_of_refused_callbacks_is_one_counter_per_source(
    client: Client, campaign: Campaign
) -> None:
    """Anyone can POST to a callback URL: a flood must not fill a table."""
    for n in range(40):
        post(client, campaign, f'{{"n": {n}}}', **{HEADER: "guess"})
    for made_up in (1000, 1001, 1002):
        client.post(reverse("webhooks:gupshup", args=[made_up]), "{}", "text/plain")
    rows = {(r.reason, r.count) for r in RefusedCallback.objects.all()}
    assert rows == {("wrong secret", 40), ("no such partner app", 3)}
    assert RefusedCallback.objects.get(count=40).sample_body == '{"n": 39}'
    assert not WebhookEvent.objects.exists()


def test_malformed_json_is_stored_with_the_parse_error_and_answered_200(
    client: Client, campaign: Campaign, django_capture_on_commit_callbacks: Any
) -> None:
    secret = campaign.partner_app.callback_secret
    with django_capture_on_commit_callbacks(execute=True):
        response = post(client, campaign, "{not json", **{HEADER: secret})
    assert response.status_code == 200
    event = WebhookEvent.objects.get()
    assert event.state == WebhookState.INVALID and event.body == "{not json"
    assert event.error


def test_a_body_over_the_limit_is_refused_before_it_is_read(
    client: Client, campaign: Campaign, settings: Any
) -> None:
    settings.WEBHOOK_MAX_BYTES = 100
    secret = campaign.partner_app.callback_secret
    response = post(client, campaign, "x" * 500, **{HEADER: secret})
    assert response.status_code == 413
    assert not WebhookEvent.objects.exists()


def test_a_flood_enqueues_one_drain_until_it_runs(
    client: Client, campaign: Campaign, monkeypatch: Any
) -> None:
    from campaigns.statuses import receiving

    queued: list[Any] = []
    monkeypatch.setattr(
        receiving, "enqueue_on_commit", lambda task: queued.append(task)
    )
    secret = campaign.partner_app.callback_secret
    for _ in range(20):
        assert (
            post(client, campaign, callback("v2-sent"), **{HEADER: secret}).status_code
            == 200
        )
    assert len(queued) == 1
    assert receiving.webhooks_drain() == 20
    assert not WebhookDrain.objects.get().requested
    assert (
        post(client, campaign, callback("v2-sent"), **{HEADER: secret}).status_code
        == 200
    )
    assert len(queued) == 2


def test_only_post_is_allowed(client: Client, campaign: Campaign) -> None:
    url = reverse("webhooks:gupshup", args=[campaign.partner_app.pk])
    assert client.get(url).status_code == 405


def test_a_callback_costs_two_queries_once_the_apps_secret_is_known(
    client: Client, campaign: Campaign, django_assert_max_num_queries: Any
) -> None:
    secret = campaign.partner_app.callback_secret
    assert post(client, campaign, callback("v2-sent"), **{HEADER: secret}).status_code
    with django_assert_max_num_queries(2):  # store it, flag a drain
        response = post(client, campaign, callback("v2-failed"), **{HEADER: secret})
    assert response.status_code == 200
    assert "Content-Security-Policy" not in response, "servers need no CSP built"


def test_a_new_callback_secret_takes_effect_at_once_and_the_old_one_stops(
    client: Client, campaign: Campaign
) -> None:
    from gupshup_admin import crypto

    app = campaign.partner_app
    old = app.callback_secret
    assert (
        post(client, campaign, callback("v2-sent"), **{HEADER: old}).status_code == 200
    )
    app.callback_secret_encrypted = crypto.encrypt("a-brand-new-callback-secret")
    app.save()
    assert (
        post(client, campaign, callback("v2-sent"), **{HEADER: old}).status_code == 403
    )
    fresh = "a-brand-new-callback-secret"
    assert post(client, campaign, callback("v2-sent"), **{HEADER: fresh}).status_code
    assert RefusedCallback.objects.get().count == 1


@pytest.mark.parametrize("trouble", ["flag stuck", "flag row missing"])
def test_the_tick_requests_a_drain_for_callbacks_left_waiting(
    campaign: Campaign, monkeypatch: Any, trouble: str
) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from campaigns.lifecycle.tick import campaigns_tick
    from campaigns.statuses import receiving

    queued: list[Any] = []
    monkeypatch.setattr(
        receiving, "enqueue_on_commit", lambda task: queued.append(task)
    )
    if trouble == "flag stuck":
        WebhookDrain.objects.update(requested=True)  # its task was lost
    else:
        WebhookDrain.objects.all().delete()
    event = WebhookEvent.objects.create(
        partner_app=campaign.partner_app, body=json.dumps(callback("v2-sent"))
    )
    assert not campaigns_tick().drain_requested, "just arrived: not stalled yet"
    later = timezone.now() + timedelta(seconds=receiving.DRAIN_STALL_SECONDS + 1)
    assert campaigns_tick(now=later).drain_requested
    assert len(queued) == 1 and WebhookDrain.objects.get().requested
    receiving.webhooks_drain()
    event.refresh_from_db()
    assert event.state == WebhookState.PROCESSED
    assert not campaigns_tick(now=later).drain_requested


def test_a_body_with_a_nul_byte_is_stored_readably_and_answered_200(
    client: Client, campaign: Campaign
) -> None:
    secret = campaign.partner_app.callback_secret
    body = b'{"type": "message-event"}\x00\xff'
    assert post(client, campaign, body, **{HEADER: secret}).status_code == 200
    assert WebhookEvent.objects.get().body == '{"type": "message-event"}\ufffd\ufffd'
