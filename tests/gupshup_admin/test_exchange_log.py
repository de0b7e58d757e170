"""Every provider call leaves one ApiExchange row per attempt, secrets masked."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import logging
from collections.abc import Callable
from typing import Any

import pytest
import requests
import responses
from django.contrib.auth.models import User
from responses.matchers import header_matcher

from gupshup_admin import app_sync, services
from gupshup_admin.exchanges import http_client
from gupshup_admin.models import (
    ApiExchange,
    CommBoxChannel,
    ExchangeOutcome,
    PartnerApp,
)
from gupshup_admin.providers.commbox import CommBoxClient
from gupshup_admin.providers.errors import (
    AuthenticationError,
    ConnectionFailedError,
    PayloadTooLargeError,
)
from gupshup_admin.providers.gupshup import Caller, GupshupAppClient
from gupshup_admin.providers.masking import mask_value
from tests.conftest import APP_ID, APP_TOKEN, COMMBOX_KEY, GUPSHUP, PARTNER_SECRET
from tests.gupshup_admin.payloads import (
    APP_URL,
    CALLBACK_HEADER_SECRET,
    COMMBOX_UPLOAD_URL,
    FETCHED_TOKEN,
    LOGIN_URL,
    ORDER_UPDATE,
    PARTNER_JWT,
    SPRING_SALE,
    TOKEN_URL,
    app_token_ok,
    commbox_error,
    commbox_upload_ok,
    error,
    health_ok,
    login_ok,
    media_ok,
    subscription_ok,
    templates_ok,
    waba_info_ok,
    wallet_ok,
)

Mock = responses.RequestsMock


def all_rows_as_text() -> str:
    """Every column of every exchange row, as one string to search."""
    return json.dumps(
        list(ApiExchange.objects.values()), default=str, ensure_ascii=False
    )


def test_a_successful_call_leaves_exactly_one_complete_row(
    mocked: Mock, partner_app: PartnerApp, alice: User
) -> None:
    client = GupshupAppClient(
        http_client(),
        GUPSHUP,
        app_id=APP_ID,
        token=APP_TOKEN,
        caller=Caller(partner_app_id=partner_app.pk, user_id=alice.pk),
    )
    mocked.post(f"{APP_URL}/media", json=media_ok())

    client.media_from_url(
        url="https://cdn.example.com/spring.jpeg", file_type="image/jpeg"
    )

    row = ApiExchange.objects.get()
    assert row.provider == "gupshup"
    assert row.endpoint == "media_from_url"
    assert row.method == "POST"
    assert row.url == f"{APP_URL}/media"
    assert row.status_code == 200
    assert row.duration_ms is not None and row.duration_ms >= 0
    assert row.outcome == ExchangeOutcome.OK
    assert (row.error_class, row.error_message) == ("", "")
    assert row.partner_app == partner_app
    assert row.user == alice
    assert row.request_headers["token"] == "sk_…16a1"
    assert row.request_headers["Authorization"] == "sk_…16a1"
    assert row.request_body == {
        "file": "https://cdn.example.com/spring.jpeg",
        "file_type": "image/jpeg",
    }
    assert json.loads(row.response_body) == media_ok()
    assert row.response_truncated is False


def test_the_row_is_written_before_the_request_leaves(
    mocked: Mock, app_client: GupshupAppClient
) -> None:
    seen_during_the_call: list[tuple[str, int | None]] = []

    def answer(request: Any) -> tuple[int, dict[str, str], str]:
        seen_during_the_call.extend(
            ApiExchange.objects.values_list("outcome", "status_code")
        )
        return 200, {}, json.dumps(health_ok())

    mocked.add_callback(responses.GET, f"{APP_URL}/health", callback=answer)

    app_client.health()

    assert seen_during_the_call == [(ExchangeOutcome.SENDING, None)]
    assert ApiExchange.objects.get().outcome == ExchangeOutcome.OK


def test_a_call_that_raises_still_leaves_its_row_with_status_and_error(
    mocked: Mock, app_client: GupshupAppClient
) -> None:
    mocked.post(
        f"{APP_URL}/media",
        status=413,
        json=error("File size exceeds the maximum limit!"),
    )

    with pytest.raises(PayloadTooLargeError) as caught:
        app_client.media_from_url(
            url="https://cdn.example.com/huge.mp4", file_type="video/mp4"
        )

    row = ApiExchange.objects.get()
    assert caught.value.exchange_id == row.pk
    assert row.status_code == 413
    assert row.outcome == ExchangeOutcome.ERROR
    assert row.error_class == "PayloadTooLargeError"
    assert "File size exceeds the maximum limit!" in row.error_message
    assert row.duration_ms is not None
    assert "File size exceeds" in row.response_body


def test_a_call_that_got_no_answer_leaves_a_row_without_status_code(
    mocked: Mock, app_client: GupshupAppClient
) -> None:
    mocked.post(f"{APP_URL}/media", body=requests.ConnectionError("Connection refused"))

    with pytest.raises(ConnectionFailedError):
        app_client.media_from_url(
            url="https://cdn.example.com/a.png", file_type="image/png"
        )

    row = ApiExchange.objects.get()
    assert row.status_code is None
    assert row.outcome == ExchangeOutcome.ERROR
    assert row.error_class == "ConnectionFailedError"
    assert "gupshup.test" in row.error_message
    assert row.response_body == ""


def test_a_file_upload_row_records_name_size_and_sha256_but_never_the_bytes(
    mocked: Mock, app_client: GupshupAppClient
) -> None:
    content = b"%PDF-1.7\nQ3 marketing plan: confidential body text\n" * 40
    mocked.post(f"{APP_URL}/media", json=media_ok())

    app_client.media_from_file(
        fileobj=io.BytesIO(content),
        size=len(content),
        filename="plan.pdf",
        file_type="application/pdf",
    )

    row = ApiExchange.objects.get()
    assert row.endpoint == "media_from_file"
    assert row.request_body == {
        "file_type": "application/pdf",
        "file": {
            "filename": "plan.pdf",
            "content_type": "application/pdf",
            "size": len(content),
            "sha256": hashlib.sha256(content).hexdigest(),
        },
    }
    stored = all_rows_as_text()
    assert "confidential body text" not in stored
    assert base64.b64encode(content[:48]).decode()[:40] not in stored


def test_a_commbox_upload_row_is_linked_to_its_channel_and_hashes_the_file(
    mocked: Mock, cbx_client: CommBoxClient, channel: CommBoxChannel
) -> None:
    content = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
    mocked.post(COMMBOX_UPLOAD_URL, json=commbox_upload_ok())

    cbx_client.upload_media(
        fileobj=io.BytesIO(content),
        size=len(content),
        filename="s.png",
        content_type="image/png",
    )

    row = ApiExchange.objects.get()
    assert (row.provider, row.endpoint, row.commbox_channel) == (
        "commbox",
        "upload_media",
        channel,
    )
    assert row.partner_app is None
    assert row.request_body["pic"]["size"] == len(content)
    assert row.request_body["pic"]["sha256"] == hashlib.sha256(content).hexdigest()
    assert row.request_headers["Authorization"] == mask_value(f"Bearer {COMMBOX_KEY}")


def test_a_response_body_longer_than_the_setting_is_truncated(
    mocked: Mock, app_client: GupshupAppClient, settings: Any
) -> None:
    settings.EXCHANGE_BODY_MAX_CHARS = 200
    text = json.dumps(templates_ok(SPRING_SALE, ORDER_UPDATE))
    assert len(text) > 200
    mocked.get(f"{APP_URL}/templates", body=text, content_type="application/json")

    assert len(app_client.templates()) == 2  # the caller still gets the whole answer

    row = ApiExchange.objects.get()
    assert row.response_body == text[:200]
    assert row.response_truncated is True


def test_a_response_body_exactly_at_the_limit_is_kept_whole(
    mocked: Mock, app_client: GupshupAppClient, settings: Any
) -> None:
    text = json.dumps(health_ok())
    settings.EXCHANGE_BODY_MAX_CHARS = len(text)
    mocked.get(f"{APP_URL}/health", body=text, content_type="application/json")

    app_client.health()

    row = ApiExchange.objects.get()
    assert (row.response_body, row.response_truncated) == (text, False)


# --- no secret anywhere -------------------------------------------------------------


def run_every_kind_of_call(
    mocked: Mock, app: PartnerApp, channel: CommBoxChannel
) -> None:
    """Pasted token refused → login → token fetch → retries → subscription → CommBox."""
    refused = [header_matcher({"token": APP_TOKEN})]
    fetched = [header_matcher({"token": FETCHED_TOKEN})]
    mocked.get(
        f"{APP_URL}/health",
        status=401,
        json=error("Authentication Failed"),
        match=refused,
    )
    mocked.post(LOGIN_URL, json=login_ok())
    mocked.get(TOKEN_URL, json=app_token_ok())
    mocked.get(f"{APP_URL}/health", json=health_ok(), match=fetched)
    mocked.get(f"{APP_URL}/waba/info", json=waba_info_ok(), match=fetched)
    mocked.get(f"{APP_URL}/wallet/balance", json=wallet_ok(), match=fetched)
    headers = {
        "X-Callback-Secret": CALLBACK_HEADER_SECRET,
        "X-App-Secret": app.callback_secret,
    }
    url = f"https://shop.example.com/webhooks/gupshup/{app.pk}/{app.callback_secret}/"
    mocked.post(
        f"{APP_URL}/subscription",
        json=subscription_ok(url=url, meta=json.dumps({"headers": headers})),
        match=fetched,
    )
    mocked.post(COMMBOX_UPLOAD_URL, json=commbox_upload_ok())
    mocked.post(COMMBOX_UPLOAD_URL, status=401, json=commbox_error(401, "Unauthorized"))

    assert app_sync.partner_app_check_health(app=app).healthy
    services.with_app_client(
        app=app,
        user_id=None,
        call=lambda c: c.subscribe(
            url=url,
            modes=["SENT"],
            tag="t",
            version=3,
            headers=headers,
        ),
    )
    client = services.commbox_client(channel=channel)
    upload_png(client)
    with pytest.raises(AuthenticationError):  # the key was revoked meanwhile
        upload_png(client)


def upload_png(client: CommBoxClient) -> None:
    client.upload_media(
        fileobj=io.BytesIO(b"\x89PNG"),
        size=4,
        filename="a.png",
        content_type="image/png",
    )


SECRETS: dict[str, Callable[[PartnerApp], str]] = {
    "pasted app token": lambda app: APP_TOKEN,
    "partner client secret": lambda app: PARTNER_SECRET,
    "partner JWT from login": lambda app: PARTNER_JWT,
    "app token from the token endpoint": lambda app: FETCHED_TOKEN,
    "CommBox API key": lambda app: COMMBOX_KEY,
    "subscription meta header secret": lambda app: CALLBACK_HEADER_SECRET,
    "the app's callback secret": lambda app: app.callback_secret,
}


@pytest.mark.parametrize("which", list(SECRETS))
def test_no_secret_appears_in_any_exchange_row_or_log_line(
    mocked: Mock,
    partner_app_with_credentials: PartnerApp,
    channel: CommBoxChannel,
    caplog: pytest.LogCaptureFixture,
    which: str,
) -> None:
    caplog.set_level(logging.DEBUG)
    app = partner_app_with_credentials
    secret = SECRETS[which](app)

    run_every_kind_of_call(mocked, app, channel)

    stored = all_rows_as_text()
    assert ApiExchange.objects.count() == 9
    assert secret not in stored
    assert secret not in caplog.text
    assert all(secret not in str(record.args) for record in caplog.records)
    # The secret was on the wire and is recorded masked, so the scan looked in the
    # right places.
    assert mask_value(secret) in stored
    visible = PartnerApp.objects.filter(pk=app.pk).values(
        "health_message", "health_details", "app_token_hint", "partner_secret_hint"
    )
    assert secret not in json.dumps(list(visible), default=str)


def test_a_provider_error_that_echoes_the_token_is_masked_in_the_row_and_the_error(
    mocked: Mock, app_client: GupshupAppClient
) -> None:
    mocked.post(
        f"{APP_URL}/media",
        status=401,
        json=error(f"Invalid token {APP_TOKEN} for app {APP_ID}"),
    )

    with pytest.raises(AuthenticationError) as caught:
        app_client.media_from_url(
            url="https://cdn.example.com/a.png", file_type="image/png"
        )

    assert APP_TOKEN not in all_rows_as_text()
    assert APP_TOKEN not in str(caught.value)
