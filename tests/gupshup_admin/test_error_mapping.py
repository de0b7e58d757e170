"""Provider answers and network failures → the error classes of `providers/errors.py`.

Bodies come from the contracts and API-NOTES. Each error must say what the
provider answered, carry the right permanent/outcome-unknown flags, and point at
the ApiExchange row that recorded it.
"""

from __future__ import annotations

import io
import socket
from collections.abc import Callable
from typing import Any

import pytest
import requests
import responses
import urllib3

from gupshup_admin.exchanges import http_client
from gupshup_admin.models import ApiExchange, ExchangeOutcome, PartnerApp
from gupshup_admin.providers.commbox import CommBoxClient
from gupshup_admin.providers.errors import (
    AppNotUsableError,
    AuthenticationError,
    BadResponseError,
    CommBoxKeyError,
    ConnectionFailedError,
    InvalidRequestError,
    NotCapiAppError,
    OutcomeUnknownError,
    PayloadTooLargeError,
    ProviderError,
    RateLimitedError,
    ServerError,
)
from gupshup_admin.providers.gupshup import (
    Caller,
    GupshupAppClient,
    GupshupPartnerClient,
)
from tests.conftest import APP_ID, APP_TOKEN
from tests.gupshup_admin.payloads import (
    APP_URL,
    COMMBOX_UPLOAD_URL,
    commbox_error,
    error,
    health_ok,
)

Mock = responses.RequestsMock


def the_row(exc: ProviderError) -> ApiExchange:
    """The exchange row an error points at (fails when it points nowhere)."""
    assert exc.exchange_id is not None, "the error does not carry its exchange id"
    return ApiExchange.objects.get(pk=exc.exchange_id)


def send_template(client: GupshupAppClient) -> Any:
    return client.send_template_image(
        source="919643874844",
        destination="918886912227",
        src_name="august18",
        template_id="9ff51097-48c9-47c7-a4e4-a9bb5801d8ea",
        params=["Asha"],
        image_id="820953082747249",
    )


# --- mapped HTTP answers ----------------------------------------------------------

MAPPED = [
    pytest.param(
        "/media", 401, "Authentication Failed", AuthenticationError, True, id="401"
    ),
    pytest.param(
        "/media", 401, "Unauthorized Access", AuthenticationError, True, id="401-unauth"
    ),
    pytest.param(
        "/media",
        400,
        "Only CAPI apps allowed to generate media ID",
        NotCapiAppError,
        True,
        id="400-not-capi",
    ),
    pytest.param(
        "/media",
        413,
        "File size exceeds the maximum limit!",
        PayloadTooLargeError,
        True,
        id="413",
    ),
    pytest.param(
        "/template/msg", 429, "Too Many Requests", RateLimitedError, False, id="429"
    ),
    pytest.param(
        "/media", 500, "Unable to upload requested Media", ServerError, False, id="500"
    ),
    pytest.param(
        "/v3/message",
        400,
        "Callback Billing must be enabled for this API",
        AppNotUsableError,
        True,
        id="400-billing",
    ),
    pytest.param(
        "/v3/message",
        400,
        "Invalid App Details",
        AppNotUsableError,
        True,
        id="400-app-details",
    ),
]

POSTS: dict[str, Callable[[GupshupAppClient], Any]] = {
    "/media": lambda c: c.media_from_url(
        url="https://cdn.example.com/spring.jpeg", file_type="image/jpeg"
    ),
    "/template/msg": send_template,
    "/v3/message": lambda c: c.send_v3_image(to="918886912227", image_id="1479537"),
}


@pytest.mark.parametrize(("path", "status", "said", "error_class", "permanent"), MAPPED)
def test_each_provider_error_maps_to_its_class_and_says_what_the_provider_answered(
    mocked: Mock,
    app_client: GupshupAppClient,
    path: str,
    status: int,
    said: str,
    error_class: type[ProviderError],
    permanent: bool,
) -> None:
    mocked.post(f"{APP_URL}{path}", status=status, json=error(said))

    with pytest.raises(ProviderError) as caught:
        POSTS[path](app_client)

    exc = caught.value
    assert type(exc) is error_class
    assert exc.permanent is permanent
    assert exc.outcome_unknown is False
    assert exc.status_code == status
    assert exc.provider_message == said
    assert f'HTTP {status}: "{said}"' in str(exc)
    row = the_row(exc)
    assert (row.status_code, row.error_class) == (status, error_class.__name__)
    assert row.error_message == str(exc)


def test_a_401_reads_as_an_authentication_failure_with_what_to_do(
    mocked: Mock, app_client: GupshupAppClient
) -> None:
    mocked.post(f"{APP_URL}/media", status=401, json=error("Authentication Failed"))

    with pytest.raises(AuthenticationError) as caught:
        POSTS["/media"](app_client)

    assert str(caught.value).startswith("Authentication failed: gupshup media_from_url")
    assert "app token" in str(caught.value)


@pytest.mark.parametrize(
    ("said", "code", "what_to_do"),
    [
        (
            "Callback Billing must be enabled for this API",
            "app-billing-off",
            "Enable Callback Billing",
        ),
        ("Invalid App Details", "app-unknown", "Compare the app id"),
        ("App is not live.", "app-not-live", "until it is live"),
    ],
)
def test_an_answer_about_the_app_says_so_with_its_code_and_what_to_do(
    mocked: Mock, app_client: GupshupAppClient, said: str, code: str, what_to_do: str
) -> None:
    mocked.post(f"{APP_URL}/v3/message", status=400, json=error(said))

    with pytest.raises(AppNotUsableError) as caught:
        POSTS["/v3/message"](app_client)

    exc = caught.value
    assert exc.provider_code == code
    assert "about the app, not the recipient" in str(exc)
    assert what_to_do in str(exc)


def test_other_400s_are_about_the_request(
    mocked: Mock, app_client: GupshupAppClient
) -> None:
    mocked.post(f"{APP_URL}/template/msg", status=400, json=error("Invalid Template"))

    with pytest.raises(InvalidRequestError) as caught:
        send_template(app_client)

    assert caught.value.provider_code == ""


def test_a_refused_partner_jwt_names_the_partner_token(
    mocked: Mock, partner_client: GupshupPartnerClient
) -> None:
    mocked.get(f"{APP_URL}/token", status=401, json=error("Unauthorized Access"))

    with pytest.raises(AuthenticationError) as caught:
        partner_client.app_token(app_id=APP_ID, partner_token="eyJ.x.y")

    assert "partner token" in str(caught.value)
    assert "app token (or fetch" not in str(caught.value)


def test_a_refused_commbox_key_names_the_channels_api_key(
    mocked: Mock, cbx_client: CommBoxClient
) -> None:
    mocked.post(COMMBOX_UPLOAD_URL, status=401, json=commbox_error(401, "Unauthorized"))

    with pytest.raises(AuthenticationError) as caught:
        cbx_client.upload_media(
            fileobj=io.BytesIO(b"\x89PNG"), size=4, filename="a.png", content_type="x"
        )

    assert "CommBox API key" in str(caught.value)
    assert "app token" not in str(caught.value)


def test_the_not_capi_error_tells_the_admin_what_to_change(
    mocked: Mock, app_client: GupshupAppClient
) -> None:
    mocked.post(
        f"{APP_URL}/media",
        status=400,
        json=error("Only CAPI apps allowed to generate media ID"),
    )

    with pytest.raises(NotCapiAppError) as caught:
        POSTS["/media"](app_client)

    assert "Cloud API (CAPI)" in str(caught.value)


def test_a_5xx_without_a_json_body_is_still_a_server_error(
    mocked: Mock, app_client: GupshupAppClient
) -> None:
    mocked.post(
        f"{APP_URL}/media",
        status=502,
        body="<html><body>502 Bad Gateway</body></html>",
        content_type="text/html",
    )

    with pytest.raises(ServerError) as caught:
        POSTS["/media"](app_client)

    assert caught.value.status_code == 502
    assert caught.value.provider_message == ""
    assert "answered HTTP 502." in str(caught.value)


@pytest.mark.parametrize(
    ("status", "description", "error_class"),
    [
        (401, "Unauthorized", CommBoxKeyError),
        (400, "Missing parameter templateName", InvalidRequestError),
        (404, "Not Found", InvalidRequestError),
        (429, "Too Many Requests", RateLimitedError),
        (500, "Internal Server Error", ServerError),
    ],
)
def test_commbox_errors_are_mapped_from_their_description(
    mocked: Mock,
    cbx_client: CommBoxClient,
    status: int,
    description: str,
    error_class: type[ProviderError],
) -> None:
    mocked.post(
        COMMBOX_UPLOAD_URL, status=status, json=commbox_error(status, description)
    )

    with pytest.raises(ProviderError) as caught:
        cbx_client.upload_media(
            fileobj=io.BytesIO(b"\x89PNG"),
            size=4,
            filename="a.png",
            content_type="image/png",
        )

    assert type(caught.value) is error_class
    assert caught.value.provider_message == description
    assert f"commbox upload_media answered HTTP {status}" in str(caught.value)
    assert the_row(caught.value).commbox_channel_id is not None


# --- 2xx answers that are not what the contract says --------------------------------


def test_a_200_that_is_not_json_is_a_bad_response_with_unknown_outcome(
    mocked: Mock, app_client: GupshupAppClient
) -> None:
    mocked.post(
        f"{APP_URL}/template/msg",
        status=200,
        body="<html>Service temporarily unavailable</html>",
        content_type="text/html",
    )

    with pytest.raises(BadResponseError) as caught:
        send_template(app_client)

    exc = caught.value
    assert exc.outcome_unknown is True
    assert exc.permanent is False
    assert "not JSON" in str(exc)
    assert "Service temporarily unavailable" in str(exc)
    row = the_row(exc)
    assert (row.outcome, row.error_class) == (ExchangeOutcome.ERROR, "BadResponseError")


def test_a_200_without_a_media_id_is_a_bad_response(
    mocked: Mock, app_client: GupshupAppClient
) -> None:
    mocked.post(f"{APP_URL}/media", json={"status": "success"})

    with pytest.raises(BadResponseError, match="mediaId") as caught:
        POSTS["/media"](app_client)

    assert caught.value.outcome_unknown is True


def test_a_200_without_a_media_id_is_recorded_as_an_error_on_its_row(
    mocked: Mock, app_client: GupshupAppClient
) -> None:
    mocked.post(f"{APP_URL}/media", json={"status": "success"})

    with pytest.raises(BadResponseError) as caught:
        POSTS["/media"](app_client)

    row = the_row(caught.value)
    assert (row.outcome, row.error_class) == (ExchangeOutcome.ERROR, "BadResponseError")


def test_a_submitted_status_other_than_submitted_is_a_bad_response(
    mocked: Mock, app_client: GupshupAppClient
) -> None:
    mocked.post(f"{APP_URL}/template/msg", json={"status": "queued", "messageId": "x"})

    with pytest.raises(BadResponseError, match="'queued'"):
        send_template(app_client)


# --- network failures ---------------------------------------------------------------


def test_a_refused_connection_is_a_connection_failure_naming_the_host(
    mocked: Mock, app_client: GupshupAppClient
) -> None:
    mocked.post(
        f"{APP_URL}/template/msg",
        body=requests.ConnectionError("[Errno 111] Connection refused"),
    )

    with pytest.raises(ConnectionFailedError) as caught:
        send_template(app_client)

    exc = caught.value
    assert "gupshup.test" in str(exc)
    assert "connection refused" in str(exc)
    assert "not sent" in str(exc)
    assert (exc.permanent, exc.outcome_unknown, exc.status_code) == (False, False, None)
    row = the_row(exc)
    assert (row.status_code, row.error_class) == (None, "ConnectionFailedError")


def test_a_real_closed_port_on_localhost_is_a_connection_failure(
    partner_app: PartnerApp,
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # The socket is closed again: nothing listens there, so the connect is refused.
    client = GupshupAppClient(
        http_client(),
        f"http://127.0.0.1:{port}",
        app_id=APP_ID,
        token=APP_TOKEN,
        caller=Caller(partner_app_id=partner_app.pk),
    )

    with pytest.raises(ConnectionFailedError) as caught:
        send_template(client)

    assert f"127.0.0.1:{port}" in str(caught.value)
    assert "connection refused" in str(caught.value)
    assert the_row(caught.value).url.startswith(f"http://127.0.0.1:{port}/")


def test_a_connect_timeout_is_a_connection_failure_naming_host_and_seconds(
    mocked: Mock, app_client: GupshupAppClient
) -> None:
    mocked.post(f"{APP_URL}/template/msg", body=requests.ConnectTimeout("timed out"))

    with pytest.raises(ConnectionFailedError) as caught:
        send_template(app_client)

    assert "gupshup.test within 2 s (connect timeout)" in str(caught.value)


def test_a_read_timeout_leaves_the_outcome_unknown_naming_host_and_seconds(
    mocked: Mock, partner_app: PartnerApp, settings: Any
) -> None:
    settings.PROVIDER_READ_TIMEOUT = 7.5
    client = GupshupAppClient(
        http_client(),
        "https://gupshup.test",
        app_id=APP_ID,
        token=APP_TOKEN,
        caller=Caller(partner_app_id=partner_app.pk),
    )
    mocked.post(f"{APP_URL}/template/msg", body=requests.ReadTimeout("read timed out"))

    with pytest.raises(OutcomeUnknownError) as caught:
        send_template(client)

    exc = caught.value
    assert type(exc) is OutcomeUnknownError
    assert "gupshup.test within 7.5 s (read timeout)" in str(exc)
    assert (exc.permanent, exc.outcome_unknown) == (False, True)
    assert the_row(exc).error_class == "OutcomeUnknownError"


def test_a_connection_reset_after_the_request_left_leaves_the_outcome_unknown(
    mocked: Mock, app_client: GupshupAppClient
) -> None:
    reset = urllib3.exceptions.ProtocolError(
        "Connection aborted.", ConnectionResetError(104, "Connection reset by peer")
    )
    mocked.post(f"{APP_URL}/template/msg", body=requests.ConnectionError(reset))

    with pytest.raises(OutcomeUnknownError) as caught:
        send_template(app_client)

    assert caught.value.outcome_unknown is True
    assert "may have received the request" in str(caught.value)


# --- retries: GETs only ---------------------------------------------------------------


def test_a_get_is_retried_after_5xx_answers_and_then_succeeds(
    mocked: Mock, app_client: GupshupAppClient, retry_sleeps: list[float]
) -> None:
    mocked.get(f"{APP_URL}/health", status=503, json=error("Service Unavailable"))
    mocked.get(f"{APP_URL}/health", status=500, json=error("Internal server error"))
    mocked.get(f"{APP_URL}/health", json=health_ok())

    assert app_client.health().healthy is True

    assert len(mocked.calls) == 3
    assert retry_sleeps == [0.5, 1.0]
    statuses = ApiExchange.objects.order_by("id").values_list("status_code", flat=True)
    assert list(statuses) == [503, 500, 200]


def test_a_get_that_cannot_connect_is_tried_three_times_then_raised(
    mocked: Mock, app_client: GupshupAppClient, retry_sleeps: list[float]
) -> None:
    mocked.get(f"{APP_URL}/health", body=requests.ConnectionError("Connection refused"))

    with pytest.raises(ConnectionFailedError) as caught:
        app_client.health()

    assert len(mocked.calls) == 3
    assert len(retry_sleeps) == 2
    last = ApiExchange.objects.order_by("id").last()
    assert last is not None and caught.value.exchange_id == last.pk


@pytest.mark.parametrize(
    "answer",
    [
        pytest.param({"status": 400, "json": error("App is not live.")}, id="400"),
        pytest.param(
            {"body": requests.ReadTimeout("read timed out")}, id="read-timeout"
        ),
    ],
)
def test_a_get_is_not_retried_after_a_permanent_error_or_a_lost_answer(
    mocked: Mock, app_client: GupshupAppClient, retry_sleeps: list[float], answer: Any
) -> None:
    mocked.get(f"{APP_URL}/health", **answer)

    with pytest.raises(ProviderError):
        app_client.health()

    assert len(mocked.calls) == 1
    assert retry_sleeps == []


@pytest.mark.parametrize(
    "answer",
    [
        pytest.param({"status": 500, "json": error("Internal server error")}, id="500"),
        pytest.param({"status": 429, "json": error("Too Many Requests")}, id="429"),
        pytest.param(
            {"body": requests.ConnectionError("Connection refused")}, id="refused"
        ),
    ],
)
def test_a_post_is_never_retried(
    mocked: Mock, app_client: GupshupAppClient, retry_sleeps: list[float], answer: Any
) -> None:
    mocked.post(f"{APP_URL}/template/msg", **answer)

    with pytest.raises(ProviderError) as caught:
        send_template(app_client)

    assert caught.value.permanent is False  # transient, yet not retried inline
    assert len(mocked.calls) == 1
    assert retry_sleeps == []
    assert ApiExchange.objects.count() == 1
