"""Every contract in `shared/api/`, pinned on the wire: method, URL, headers, body.

Each test mocks only the HTTP boundary and reads back what `requests` sent
(`mocked.calls[i].request`), then checks the typed object parsed from the answer.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from dataclasses import replace
from typing import Any
from urllib.parse import parse_qs

import pytest
import responses
from requests import PreparedRequest

from gupshup_admin.exchanges import PreparedRecorder, http_client
from gupshup_admin.models import ApiExchange, PartnerApp
from gupshup_admin.providers.commbox import CommBoxClient, CommBoxMedia
from gupshup_admin.providers.errors import BadResponseError, ProviderError
from gupshup_admin.providers.gupshup import (
    AppToken,
    Caller,
    GupshupAppClient,
    GupshupPartnerClient,
    Health,
    MediaId,
    PartnerLogin,
    SubmittedMessage,
    V3Message,
    WalletBalance,
)
from gupshup_admin.providers.http import AuthScheme, HttpClient, Request
from gupshup_admin.providers.recording import ExchangeContext
from tests.conftest import APP_ID, APP_TOKEN, COMMBOX_KEY, GUPSHUP, PARTNER_SECRET
from tests.gupshup_admin.payloads import (
    APP_URL,
    COMMBOX_UPLOAD_URL,
    LOGIN_URL,
    MEDIA_ID,
    MESSAGE_ID,
    ORDER_UPDATE,
    PARTNER_JWT,
    SPRING_SALE,
    TOKEN_URL,
    UNIVERSAL_TOKEN,
    app_token_ok,
    commbox_upload_ok,
    health_ok,
    login_ok,
    media_ok,
    png_bytes,
    subscription_ok,
    template_item,
    template_msg_ok,
    templates_ok,
    v3_ok,
    waba_info_ok,
    wallet_ok,
)
from tests.multipart import multipart_parts

Mock = responses.RequestsMock


def form_fields(request: PreparedRequest) -> dict[str, str]:
    """An x-www-form-urlencoded body as a plain dict (each field exactly once)."""
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    body = request.body
    text = body.decode() if isinstance(body, bytes) else str(body)
    fields = parse_qs(text, keep_blank_values=True, strict_parsing=True)
    assert all(len(values) == 1 for values in fields.values()), fields
    return {key: values[0] for key, values in fields.items()}


# --- media id (URL and file upload) -----------------------------------------


def test_media_id_from_url_posts_the_url_and_file_type_as_multipart_text_fields(
    mocked: Mock, app_client: GupshupAppClient
) -> None:
    mocked.post(f"{APP_URL}/media", json=media_ok())

    result = app_client.media_from_url(
        url="https://cdn.example.com/spring.jpeg", file_type="image/jpeg"
    )

    assert result.exchange_id is not None  # the reply links its exchange row
    assert replace(result, exchange_id=None) == MediaId(MEDIA_ID)
    request = mocked.calls[0].request
    assert request.method == "POST"
    assert request.url == f"{APP_URL}/media"
    parts = multipart_parts(request)
    assert set(parts) == {"file", "file_type"}
    assert parts["file"].content == b"https://cdn.example.com/spring.jpeg"
    assert parts["file"].filename is None  # a text field, not an upload
    assert parts["file_type"].content == b"image/jpeg"
    assert parts["file_type"].filename is None


def test_media_id_from_a_file_upload_streams_the_exact_bytes_with_their_type(
    mocked: Mock, app_client: GupshupAppClient
) -> None:
    image = png_bytes()
    mocked.post(f"{APP_URL}/media", json=media_ok())

    result = app_client.media_from_file(
        fileobj=io.BytesIO(image),
        size=len(image),
        filename="spring.png",
        file_type="image/png",
    )

    assert result.exchange_id is not None  # the reply links its exchange row
    assert replace(result, exchange_id=None) == MediaId(MEDIA_ID)
    request = mocked.calls[0].request
    assert request.url == f"{APP_URL}/media"
    parts = multipart_parts(request)
    assert set(parts) == {"file", "file_type"}
    assert parts["file"].filename == "spring.png"
    assert parts["file"].content_type == "image/png"
    assert parts["file"].content == image
    assert parts["file_type"].content == b"image/png"
    # Streamed with a known length, not chunked: Gupshup needs Content-Length.
    assert request.headers["Content-Length"] == str(len(request.body or b""))


class FileThatWatchesForSpinning(io.BytesIO):
    """A file that fails the test (instead of hanging it) when read on after EOF."""

    empty_reads = 0

    def read(self, size: int | None = -1) -> bytes:
        chunk = super().read(size)
        if not chunk:
            self.empty_reads += 1
            if self.empty_reads > 50:
                raise AssertionError("the upload keeps reading a file that has ended")
        return chunk


def test_a_file_shorter_than_its_declared_size_is_refused_instead_of_hanging(
    app_client: GupshupAppClient,
) -> None:
    image = png_bytes()
    fileobj = FileThatWatchesForSpinning(image)
    fileobj.read(16)  # content sniffing read the head and nobody rewound the file

    # Not the strict `mocked`: refusing the file before it is sent is fine too.
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.post(f"{APP_URL}/media", json=media_ok())
        with pytest.raises((OSError, ValueError, ProviderError)):
            app_client.media_from_file(
                fileobj=fileobj,
                size=len(image),
                filename="spring.png",
                file_type="image/png",
            )


def test_a_media_id_sent_back_as_a_number_is_kept_as_text(
    mocked: Mock, app_client: GupshupAppClient
) -> None:
    mocked.post(
        f"{APP_URL}/media", json={"mediaId": 1852559851913765, "status": "success"}
    )

    result = app_client.media_from_url(
        url="https://cdn.example.com/a.png", file_type="image/png"
    )

    assert result.exchange_id is not None  # the reply links its exchange row
    assert replace(result, exchange_id=None) == MediaId("1852559851913765")


# --- template image message --------------------------------------------------


def test_a_template_image_message_is_a_form_with_template_and_message_as_json(
    mocked: Mock, app_client: GupshupAppClient
) -> None:
    mocked.post(f"{APP_URL}/template/msg", json=template_msg_ok())

    result = app_client.send_template_image(
        source="919643874844",
        destination="918886912227",
        src_name="august18",
        template_id="9ff51097-48c9-47c7-a4e4-a9bb5801d8ea",
        params=["Asha", "SPRING20"],
        image_id="820953082747249",
    )

    assert result.exchange_id is not None  # the reply links its exchange row
    assert replace(result, exchange_id=None) == SubmittedMessage(MESSAGE_ID)
    request = mocked.calls[0].request
    assert request.method == "POST"
    assert request.url == f"{APP_URL}/template/msg"
    fields = form_fields(request)
    assert set(fields) == {"source", "destination", "src.name", "template", "message"}
    assert fields["source"] == "919643874844"
    assert fields["destination"] == "918886912227"
    assert fields["src.name"] == "august18"
    assert json.loads(fields["template"]) == {
        "id": "9ff51097-48c9-47c7-a4e4-a9bb5801d8ea",
        "params": ["Asha", "SPRING20"],
    }
    assert json.loads(fields["message"]) == {
        "type": "image",
        "image": {"id": "820953082747249"},
    }


@pytest.mark.parametrize("kind", ["template", "v3"])
def test_the_dispatchers_lean_sends_put_the_same_request_on_the_wire(
    mocked: Mock, app_client: GupshupAppClient, kind: str
) -> None:
    """The dispatcher sends through the session's adapter (`lean`: no cookies,
    no .netrc, no redirects, a third less CPU): the method, URL, headers and
    body bytes are those of the usual path."""
    if kind == "template":
        mocked.post(f"{APP_URL}/template/msg", json=template_msg_ok())
        send: Any = app_client.template_image(
            source="919643874844",
            destination="+918886912227",
            src_name="august18",
            template_id="9ff51097-48c9-47c7-a4e4-a9bb5801d8ea",
            params=["Asha & Co", "20% off = 'yes'"],
            image_id="820953082747249",
        )
    else:
        mocked.post(
            f"{APP_URL}/v3/message",
            json=v3_ok(sent_to="918886912227", wa_id="918886912227"),
        )
        send = app_client.v3_image(to="918886912227", image_id="1", caption="Hi ü")
    for lean in (False, True):
        client = HttpClient(
            recorder=PreparedRecorder(0), connect_timeout=5, read_timeout=5, lean=lean
        )
        client.session.cookies.set("stale", "cookie")  # a lean send sends none
        answer = client.send(send.request, send.parse)
        assert answer.status_code == 200
    usual, lean_request = (call.request for call in mocked.calls)
    assert (lean_request.method, lean_request.url) == (usual.method, usual.url)
    assert _text(lean_request.body) == _text(usual.body)
    assert "Cookie" in usual.headers and "Cookie" not in lean_request.headers
    wire = {k: v for k, v in usual.headers.items() if k != "Cookie"}
    assert dict(lean_request.headers) == wire


def _text(body: bytes | str | None) -> str:
    return body.decode() if isinstance(body, bytes) else str(body)


def test_a_lean_send_does_not_follow_a_redirect(mocked: Mock) -> None:
    """A redirected send is not sent again elsewhere: the answer is an error."""
    url = f"{APP_URL}/template/msg"
    mocked.post(url, status=302, headers={"Location": "https://elsewhere.example/"})
    client = HttpClient(
        recorder=PreparedRecorder(0), connect_timeout=5, read_timeout=5, lean=True
    )
    request = Request(
        "POST", url, ExchangeContext(provider="gupshup", endpoint="template_msg"),
        form={"a": "b"},
    )  # fmt: skip
    with pytest.raises(BadResponseError, match="302"):
        client.send(request, lambda body: body)
    assert len(mocked.calls) == 1


def test_a_template_image_message_can_link_the_image_instead_of_a_media_id(
    mocked: Mock, app_client: GupshupAppClient
) -> None:
    mocked.post(f"{APP_URL}/template/msg", json=template_msg_ok())

    app_client.send_template_image(
        source="919643874844",
        destination="918886912227",
        src_name="august18",
        template_id="9ff51097-48c9-47c7-a4e4-a9bb5801d8ea",
        params=[],
        image_link="https://cdn.example.com/spring.jpeg",
    )

    fields = form_fields(mocked.calls[0].request)
    assert json.loads(fields["template"])["params"] == []
    assert json.loads(fields["message"]) == {
        "type": "image",
        "image": {"link": "https://cdn.example.com/spring.jpeg"},
    }


def test_a_template_image_message_sends_e164_numbers_as_digits_only(
    mocked: Mock, app_client: GupshupAppClient
) -> None:
    mocked.post(f"{APP_URL}/template/msg", json=template_msg_ok())

    app_client.send_template_image(
        source="+919643874844",  # the stored form: PartnerApp.source_number
        destination="+918886912227",
        src_name="august18",
        template_id="9ff51097-48c9-47c7-a4e4-a9bb5801d8ea",
        params=[],
        image_id="820953082747249",
    )

    fields = form_fields(mocked.calls[0].request)
    assert fields["source"] == "919643874844"
    assert fields["destination"] == "918886912227"


def test_a_template_image_message_needs_exactly_one_of_image_id_and_link(
    mocked: Mock, app_client: GupshupAppClient
) -> None:
    with pytest.raises(ValueError, match="exactly one"):
        app_client.send_template_image(
            source="919643874844",
            destination="918886912227",
            src_name="august18",
            template_id="9ff51097-48c9-47c7-a4e4-a9bb5801d8ea",
            params=[],
            image_id="820953082747249",
            image_link="https://cdn.example.com/spring.jpeg",
        )
    assert len(mocked.calls) == 0


# --- v3 image message ---------------------------------------------------------


def test_a_v3_image_message_is_json_in_the_meta_cloud_api_shape(
    mocked: Mock, app_client: GupshupAppClient
) -> None:
    mocked.post(
        f"{APP_URL}/v3/message",
        json=v3_ok(sent_to="918886912227", wa_id="918886912227"),
    )

    result = app_client.send_v3_image(
        to="918886912227",
        image_id="1479537139650973",
        caption="The best succulent ever?",
    )

    assert result.exchange_id is not None  # the reply links its exchange row
    assert replace(result, exchange_id=None) == V3Message(
        message_id="gBEGkZZ", input="918886912227", wa_id="918886912227"
    )
    request = mocked.calls[0].request
    assert request.method == "POST"
    assert request.url == f"{APP_URL}/v3/message"
    assert request.headers["Content-Type"] == "application/json"
    assert json.loads(request.body or b"") == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "918886912227",
        "type": "image",
        "image": {"id": "1479537139650973", "caption": "The best succulent ever?"},
    }


def test_a_v3_image_message_by_link_without_caption_sends_no_caption_key(
    mocked: Mock, app_client: GupshupAppClient
) -> None:
    mocked.post(
        f"{APP_URL}/v3/message",
        json=v3_ok(sent_to="918886912227", wa_id="918886912227"),
    )

    app_client.send_v3_image(
        to="918886912227", image_link="https://cdn.example.com/a.png"
    )

    body = json.loads(mocked.calls[0].request.body or b"")
    assert body["image"] == {"link": "https://cdn.example.com/a.png"}


def test_a_v3_answer_whose_wa_id_differs_from_the_number_sent_keeps_both(
    mocked: Mock, app_client: GupshupAppClient
) -> None:
    # Brazil: WhatsApp drops the mobile '9' in the id it reports back.
    mocked.post(
        f"{APP_URL}/v3/message",
        json=v3_ok(sent_to="5511987654321", wa_id="551187654321", message_id="gs-77"),
    )

    result = app_client.send_v3_image(to="5511987654321", image_id="1479537139650973")

    assert result.exchange_id is not None  # the reply links its exchange row
    assert replace(result, exchange_id=None) == V3Message(
        message_id="gs-77", input="5511987654321", wa_id="551187654321"
    )


def test_a_v3_image_message_sends_an_e164_number_as_digits_only(
    mocked: Mock, app_client: GupshupAppClient
) -> None:
    mocked.post(
        f"{APP_URL}/v3/message",
        json=v3_ok(sent_to="918886912227", wa_id="918886912227"),
    )

    app_client.send_v3_image(to="+918886912227", image_id="1479537139650973")

    assert json.loads(mocked.calls[0].request.body or b"")["to"] == "918886912227"


# --- CommBox upload -----------------------------------------------------------


def test_a_commbox_upload_posts_the_file_as_field_pic_with_a_bearer_api_key(
    mocked: Mock, cbx_client: CommBoxClient
) -> None:
    image = png_bytes()
    mocked.post(COMMBOX_UPLOAD_URL, json=commbox_upload_ok())

    result = cbx_client.upload_media(
        fileobj=io.BytesIO(image),
        size=len(image),
        filename="spring.png",
        content_type="image/png",
    )

    assert result.exchange_id is not None  # the reply links its exchange row
    assert replace(result, exchange_id=None) == CommBoxMedia(
        media_id="257250616863050", filename="spring.png"
    )
    request = mocked.calls[0].request
    assert request.method == "POST"
    assert request.url == COMMBOX_UPLOAD_URL
    assert request.headers["Authorization"] == f"Bearer {COMMBOX_KEY}"
    assert "token" not in request.headers
    assert request.headers["User-Agent"].startswith("gupshup-admin/")
    parts = multipart_parts(request)
    assert set(parts) == {"pic"}
    assert parts["pic"].filename == "spring.png"
    assert parts["pic"].content_type == "image/png"
    assert parts["pic"].content == image


# --- authentication headers of every Gupshup app call ---------------------------

AppCall = Callable[[GupshupAppClient], Any]
APP_CALLS: dict[str, tuple[str, str, dict[str, Any], AppCall]] = {
    "media from url": (
        "POST",
        "/media",
        media_ok(),
        lambda c: c.media_from_url(
            url="https://cdn.example.com/a.png", file_type="image/png"
        ),
    ),
    "media from file": (
        "POST",
        "/media",
        media_ok(),
        lambda c: c.media_from_file(
            fileobj=io.BytesIO(b"\x89PNG"),
            size=4,
            filename="a.png",
            file_type="image/png",
        ),
    ),
    "template message": (
        "POST",
        "/template/msg",
        template_msg_ok(),
        lambda c: c.send_template_image(
            source="919643874844",
            destination="918886912227",
            src_name="august18",
            template_id="9ff51097-48c9-47c7-a4e4-a9bb5801d8ea",
            params=[],
            image_id="820953082747249",
        ),
    ),
    "v3 message": (
        "POST",
        "/v3/message",
        v3_ok(sent_to="918886912227", wa_id="918886912227"),
        lambda c: c.send_v3_image(to="918886912227", image_id="1479537139650973"),
    ),
    "templates": ("GET", "/templates", templates_ok(), lambda c: c.templates()),
    "health": ("GET", "/health", health_ok(), lambda c: c.health()),
    "waba info": ("GET", "/waba/info", waba_info_ok(), lambda c: c.waba_info()),
    "wallet balance": (
        "GET",
        "/wallet/balance",
        wallet_ok(),
        lambda c: c.wallet_balance(),
    ),
    "subscription": (
        "POST",
        "/subscription",
        subscription_ok(url="https://shop.example.com/cb", meta="{}"),
        lambda c: c.subscribe(
            url="https://shop.example.com/cb",
            modes=["SENT"],
            tag="t",
            version=3,
            headers={},
        ),
    ),
}


@pytest.mark.parametrize("call_name", list(APP_CALLS))
def test_every_app_call_sends_the_token_raw_in_both_token_and_authorization(
    mocked: Mock, app_client: GupshupAppClient, call_name: str
) -> None:
    method, path, answer, call = APP_CALLS[call_name]
    mocked.add(method, f"{APP_URL}{path}", json=answer)

    call(app_client)

    request = mocked.calls[0].request
    assert request.method == method
    assert request.url == f"{APP_URL}{path}"
    assert request.headers["token"] == APP_TOKEN
    assert request.headers["Authorization"] == APP_TOKEN
    assert all("bearer" not in value.lower() for value in request.headers.values())
    assert request.headers["User-Agent"].startswith("gupshup-admin/")


@pytest.mark.parametrize("call_name", list(APP_CALLS))
def test_every_app_call_with_a_universal_token_sends_it_as_bearer_and_nothing_else(
    mocked: Mock, partner_app: PartnerApp, call_name: str
) -> None:
    client = GupshupAppClient(
        http_client(),
        GUPSHUP,
        app_id=APP_ID,
        token=UNIVERSAL_TOKEN,
        scheme=AuthScheme.BEARER,
        caller=Caller(partner_app_id=partner_app.pk),
    )
    method, path, answer, call = APP_CALLS[call_name]
    mocked.add(method, f"{APP_URL}{path}", json=answer)

    call(client)

    request = mocked.calls[0].request
    assert request.headers["Authorization"] == f"Bearer {UNIVERSAL_TOKEN}"
    assert "token" not in request.headers
    logged = ApiExchange.objects.get().request_headers
    assert logged["Authorization"] == "…MDAx"
    assert UNIVERSAL_TOKEN not in str(ApiExchange.objects.values().get())


# --- partner login and app token ------------------------------------------------


def test_partner_login_posts_the_client_secret_under_both_names_it_has_had(
    mocked: Mock, partner_client: GupshupPartnerClient
) -> None:
    # The current reference calls the field `secret`, older pages and clients
    # `password`: one request carrying both works with either.
    mocked.post(LOGIN_URL, json=login_ok())

    result = partner_client.login(email="partner@example.com", password=PARTNER_SECRET)

    assert result == PartnerLogin(PARTNER_JWT)
    request = mocked.calls[0].request
    assert request.method == "POST"
    assert request.url == LOGIN_URL
    assert form_fields(request) == {
        "email": "partner@example.com",
        "secret": PARTNER_SECRET,
        "password": PARTNER_SECRET,
    }
    logged = ApiExchange.objects.get(endpoint="partner_login").request_body
    assert PARTNER_SECRET not in str(logged)
    assert "Authorization" not in request.headers
    assert request.headers["User-Agent"].startswith("gupshup-admin/")


def test_the_app_token_is_a_get_with_the_partner_jwt_raw_in_authorization(
    mocked: Mock, partner_client: GupshupPartnerClient
) -> None:
    mocked.get(TOKEN_URL, json=app_token_ok("sk_5e1f0c2d9a8b47c6b3a2e1d0f9c8b7a6"))

    result = partner_client.app_token(
        app_id="947d28b8-459b-4dfe-9d4c-0ac8c6c245c9", partner_token=PARTNER_JWT
    )

    assert result == AppToken(
        token="sk_5e1f0c2d9a8b47c6b3a2e1d0f9c8b7a6", active=True, expires_on=0
    )
    request = mocked.calls[0].request
    assert request.method == "GET"
    assert request.url == TOKEN_URL
    assert request.headers["Authorization"] == PARTNER_JWT
    assert request.body is None
    assert request.headers["User-Agent"].startswith("gupshup-admin/")


# --- other Gupshup endpoints: request and parsed answer ---------------------------


def test_templates_are_parsed_with_their_container_meta_slots_and_header_type(
    mocked: Mock, app_client: GupshupAppClient
) -> None:
    no_data = template_item(
        gupshup_id="5a6b7c8d-0000-4000-8000-000000000001",
        element_name="flash_deal_image",
        data="FLASH DEAL!!! {{1}} {{ 2 }} {{3}}",
        status="rejected",
        reason="Too many variable parameters.",
    )
    del no_data["data"]  # some templates carry the body only inside containerMeta
    mocked.get(
        f"{APP_URL}/templates", json=templates_ok(SPRING_SALE, ORDER_UPDATE, no_data)
    )

    spring, order, flash = app_client.templates()

    assert mocked.calls[0].request.method == "GET"
    assert spring.gupshup_id == "9ff51097-48c9-47c7-a4e4-a9bb5801d8ea"
    assert spring.element_name == "spring_sale_image"
    assert (spring.template_type, spring.header_type, spring.slot_count) == (
        "IMAGE",
        "IMAGE",
        2,
    )
    assert spring.container_meta == {"data": SPRING_SALE["data"], "mediaId": MEDIA_ID}
    assert spring.status == "APPROVED"
    assert (order.template_type, order.header_type, order.slot_count) == (
        "TEXT",
        "TEXT",
        1,
    )
    assert order.container_meta["header"] == "Order update"
    assert order.category == "UTILITY"
    assert flash.body == "FLASH DEAL!!! {{1}} {{ 2 }} {{3}}"
    assert flash.slot_count == 3
    assert flash.status == "REJECTED"
    assert flash.reason == "Too many variable parameters."


@pytest.mark.parametrize(("healthy", "expected"), [("true", True), ("false", False)])
def test_health_reads_the_string_healthy_flag(
    mocked: Mock, app_client: GupshupAppClient, healthy: str, expected: bool
) -> None:
    mocked.get(f"{APP_URL}/health", json=health_ok(healthy))

    assert app_client.health() == Health(healthy=expected)


def test_waba_info_is_parsed_into_tier_quality_and_throughput(
    mocked: Mock, app_client: GupshupAppClient
) -> None:
    mocked.get(
        f"{APP_URL}/waba/info", json=waba_info_ok(tier="TIER_10K", quality="YELLOW")
    )

    info = app_client.waba_info()

    assert info.messaging_limit == "TIER_10K"
    assert info.phone_quality == "YELLOW"
    assert info.can_send_message == "AVAILABLE"
    assert info.throughput == "STANDARD"
    assert info.account_status == "ACTIVE"
    assert info.verified_name == "Spring shop"
    assert info.waba_id == "109876543210987"
    assert info.mm_lite_status == "INELIGIBLE"
    assert info.errors == ()


@pytest.mark.parametrize(
    ("throughput", "expected"),
    [
        ("HIGH", "HIGH"),
        ("not_applicable", "NOT_APPLICABLE"),
        ({"level": "HIGH"}, "HIGH"),
    ],
)
def test_waba_throughput_is_a_word_not_a_number(
    mocked: Mock, app_client: GupshupAppClient, throughput: Any, expected: str
) -> None:
    mocked.get(f"{APP_URL}/waba/info", json=waba_info_ok(throughput=throughput))

    assert app_client.waba_info().throughput == expected


def test_waba_errors_are_kept_in_metas_words(
    mocked: Mock, app_client: GupshupAppClient
) -> None:
    errors = [
        {
            "error_code": 141000,
            "error_description": "The business number is restricted.",
            "possible_solution": "Appeal in WhatsApp Manager.",
        },
        "Payment method missing",
    ]
    mocked.get(
        f"{APP_URL}/waba/info",
        json=waba_info_ok(can_send="BLOCKED", quality="RED", errors=errors),
    )

    info = app_client.waba_info()

    assert (info.can_send_message, info.phone_quality) == ("BLOCKED", "RED")
    assert info.errors == (
        "The business number is restricted. Appeal in WhatsApp Manager. (141000)",
        "Payment method missing",
    )


def test_the_wallet_balance_is_parsed_into_amount_and_currency(
    mocked: Mock, app_client: GupshupAppClient
) -> None:
    mocked.get(f"{APP_URL}/wallet/balance", json=wallet_ok(balance=3, currency="INR"))

    assert app_client.wallet_balance() == WalletBalance(
        current_balance=3.0, currency="INR"
    )


@pytest.mark.parametrize(
    "answer",
    [
        pytest.param(
            {"walletResponse": {"currency": "INR", "currentBalance": 41.25}},
            id="older-docs-without-status",
        ),
        pytest.param(
            {
                "status": "success",
                "walletResponse": {"currency": "INR", "currentBalance": "41.25"},
            },
            id="balance-as-text",
        ),
    ],
)
def test_a_wallet_answer_keeps_its_balance_with_or_without_a_status_field(
    mocked: Mock, app_client: GupshupAppClient, answer: dict[str, Any]
) -> None:
    mocked.get(f"{APP_URL}/wallet/balance", json=answer)

    assert app_client.wallet_balance() == WalletBalance(
        current_balance=41.25, currency="INR"
    )


@pytest.mark.parametrize(
    "answer",
    [
        {"status": "error", "walletResponse": {"currentBalance": 1.0}},
        {"walletResponse": {"currency": "INR"}},
        {"walletResponse": {"currentBalance": "lots"}},
        {"walletResponse": {"currentBalance": "nan"}},
        {"walletResponse": {"currentBalance": True}},
        {"balance": 3.0},
    ],
)
def test_a_wallet_answer_without_a_readable_balance_is_a_bad_response(
    mocked: Mock, app_client: GupshupAppClient, answer: dict[str, Any]
) -> None:
    mocked.get(f"{APP_URL}/wallet/balance", json=answer)

    with pytest.raises(BadResponseError, match="wallet balance"):
        app_client.wallet_balance()


def test_a_subscription_posts_url_joined_modes_tag_version_and_meta_as_json(
    mocked: Mock, app_client: GupshupAppClient
) -> None:
    headers = {"X-Callback-Secret": "cb-hdr-6Qx2Vt9LmR3pZk8Ws1Yb4Nd7"}
    meta = json.dumps({"headers": headers})
    mocked.post(
        f"{APP_URL}/subscription",
        json=subscription_ok(url="https://shop.example.com/cb/7", meta=meta),
    )

    result = app_client.subscribe(
        url="https://shop.example.com/cb/7",
        modes=["SENT", "DELIVERED", "READ", "FAILED", "ENQUEUED"],
        tag="spring",
        version=3,
        headers=headers,
    )

    assert result.subscription_id == "3fa1c2d4-sub"
    assert result.url == "https://shop.example.com/cb/7"
    fields = form_fields(mocked.calls[0].request)
    assert set(fields) == {"url", "modes", "tag", "version", "meta"}
    assert fields["url"] == "https://shop.example.com/cb/7"
    assert fields["modes"] == "SENT,DELIVERED,READ,FAILED,ENQUEUED"
    assert fields["tag"] == "spring"
    assert fields["version"] == "3"
    # Gupshup's documented shape: a JSON string with the headers under "headers".
    assert json.loads(fields["meta"]) == {"headers": headers}
