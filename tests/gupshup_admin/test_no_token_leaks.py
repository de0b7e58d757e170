"""A full demo run on the simulator with distinctive secrets, then a scan of
everything the run left behind: no plaintext secret anywhere.

The run goes through the real pages and buttons: an app with a wrong pasted
token and partner credentials, a CommBox channel, a health check (401, then a
token refresh through the partner login), template sync, callback registration,
an expired partner JWT refreshed, a media upload mirrored to both providers, a
campaign with a send Gupshup refuses (401), its delivery callbacks (one with the
secret in the URL, one too large), the app moved to Universal App Tokens on its
page (a pasted Universal Token Gupshup refuses, so one is minted, then both
expire and are minted again), and two server errors with secrets in the frames
and the POST. Logging is captured at DEBUG through settings.LOGGING.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import sys
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, RequestFactory
from django.urls import reverse

from campaigns.models import Campaign, Recipient, RecipientImport, RecipientStatus
from gupshup_admin import app_sync
from gupshup_admin.models import (
    ApiExchange,
    CommBoxChannel,
    PartnerApp,
    Template,
    TokenKind,
)
from gupshup_admin.simulator import DEMO, SimChannel, Simulator, SimulatorConfig
from media_library.models import MediaFile, MediaState
from tests import leakscan
from tests.gupshup_admin.payloads import jwt
from tests.media_library.test_views import png
from tests.simulator.conftest import Receiver

WRONG_TOKEN = "sk_LeakCanaryWrong7f3e9a1c5b2d"
APP_TOKEN = "sk_LeakCanaryApp4c8d2e6f0a1b3"
PARTNER_EMAIL = "leak-canary@example.com"
PARTNER_SECRET = "leak-canary-partner-secret-91d3"
COMMBOX_KEY = "cbx-leak-canary-key-5e7a0b2c4d"
APP = dataclasses.replace(DEMO.capi_app, token=APP_TOKEN)
PHONES = ["+919000018888", "+919000028888", "+919000038888", "+919000040401"]
# A Universal Token the simulator never issued: refused, so one is minted.
PASTED_UNIVERSAL_TOKEN = jwt(exp=None, salt="LeakCanaryPastedUniversal93kd")


@pytest.fixture
def sim(settings: Any) -> Iterator[Simulator]:
    config = SimulatorConfig(
        partner_email=PARTNER_EMAIL,
        partner_secret=PARTNER_SECRET,
        apps=[APP],
        channels=[SimChannel(DEMO.channel.stream_id, COMMBOX_KEY)],
        callback_delay=0.05,
        callback_interval=0.02,
        seed=7,
    )
    with Simulator(config) as simulator:
        settings.GUPSHUP_API_BASE = simulator.base_url
        settings.COMMBOX_API_BASE = simulator.commbox_base_url
        yield simulator


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """Stands in for this site's public address: callbacks are replayed from it."""
    receiver = Receiver()
    thread = threading.Thread(target=receiver.server.serve_forever, daemon=True)
    thread.start()
    yield receiver
    receiver.server.shutdown()
    receiver.server.server_close()


@pytest.fixture
def client(transactional_db: None, settings: Any, tmp_path: Any) -> Client:
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.ADMINS = [("Ops", "ops@example.com")]
    settings.WEBHOOK_MAX_BYTES = 4096
    settings.CAMPAIGN_SENDERS = 1
    settings.CAMPAIGN_RETRY_BACKOFF_SECONDS = 0.01
    alice = User.objects.create_superuser("alice", "alice@example.com", "pw-alice-1")
    client = Client()
    client.force_login(alice)
    return client


def ok(response: Any, status: int = 302) -> Any:
    assert response.status_code == status, response.content[:2000]
    return response


def button(client: Client, app: PartnerApp, name: str) -> None:
    ok(client.post(reverse(f"admin:gupshup_admin_partnerapp_{name}", args=[app.pk])))


def add_app_and_channel(client: Client) -> PartnerApp:
    ok(
        client.post(
            reverse("admin:gupshup_admin_partnerapp_add"),
            {
                "name": "Leak shop",
                "app_id": APP.app_id,
                "app_name": APP.app_name,
                "source_number": f"+{APP.source}",
                "is_capi": "on",
                "is_active": "on",
                "send_rate_per_minute": "600",
                "partner_email": PARTNER_EMAIL,
                "new_app_token": WRONG_TOKEN,
                "new_partner_secret": PARTNER_SECRET,
                **{f"templates-{k}": "0" for k in ("TOTAL_FORMS", "INITIAL_FORMS")},
            },
        )
    )
    ok(
        client.post(
            reverse("admin:gupshup_admin_commboxchannel_add"),
            {
                "name": "Leak channel",
                "stream_id": DEMO.channel.stream_id,
                "is_active": "on",
                "new_api_key": COMMBOX_KEY,
            },
        )
    )
    return PartnerApp.objects.get()


def replay_callbacks(client: Client, receiver: Receiver, app: PartnerApp) -> None:
    """Deliver what the simulator POSTed to our address, as Gupshup would."""
    assert receiver.received, "the simulator sent no callbacks"
    header = django_settings.WEBHOOK_SECRET_HEADER.lower()
    meta_name = "HTTP_" + header.upper().replace("-", "_")
    for record in receiver.received:
        secret = {k.lower(): v for k, v in record["headers"].items()}.get(header, "")
        ok(
            client.post(
                record["path"],
                json.dumps(record["body"]),
                content_type="application/json",
                **{meta_name: secret},
            ),
            200,
        )
    in_url = reverse("webhooks:gupshup-token", args=[app.pk, app.callback_secret])
    body = json.dumps(record["body"])
    ok(client.post(in_url, body, content_type="application/json"), 200)
    ok(client.post(in_url, body + " " * 5000, content_type="application/json"), 413)


def run_campaign(client: Client, app: PartnerApp, media: MediaFile) -> Campaign:
    template = Template.objects.get(app=app, element_name="spring_sale_image")
    ok(
        client.post(
            reverse("campaigns:create"),
            {
                "name": "Leak sale",
                "partner_app": app.pk,
                "kind": "template",
                "template": template.pk,
                "media_file": media.pk,
            },
        )
    )
    campaign = Campaign.objects.get()
    numbers = "\n".join(f"{phone},Asha,20%" for phone in PHONES)
    ok(
        client.post(
            reverse("campaigns:paste", args=[campaign.pk]),
            {"numbers": numbers + "\nnot-a-number,x,y", "region": "IN"},
        )
    )
    ok(client.post(reverse("campaigns:start", args=[campaign.pk])))
    return campaign


def move_to_universal_tokens(
    client: Client, app: PartnerApp, sim: Simulator
) -> list[str]:
    """The app switches to Universal App Tokens on its page; returns every
    Universal (App) Token it held on the way."""
    change = reverse("admin:gupshup_admin_partnerapp_change", args=[app.pk])
    form = {
        "name": app.name,
        "app_id": app.app_id,
        "app_name": app.app_name,
        "source_number": app.source_number,
        "is_capi": "on",
        "is_active": "on",
        "send_rate_per_minute": str(app.send_rate_per_minute),
        "partner_email": PARTNER_EMAIL,
        "token_kind": TokenKind.UNIVERSAL_APP,
        "gupshup_partner_id": str(sim.config.partner_id),
        "mint_universal_tokens": "on",
        "new_universal_token": PASTED_UNIVERSAL_TOKEN,
        **{f"templates-{k}": "0" for k in ("TOTAL_FORMS", "INITIAL_FORMS")},
    }
    ok(client.post(change, form))
    seen = []
    button(client, app, "check_health")  # pasted UT refused: mint UT, then UAT
    app.refresh_from_db()
    seen += [app.universal_token, app.universal_app_token]
    sim.expire_universal_tokens()
    button(client, app, "sync_templates")  # 401: both minted again
    app.refresh_from_db()
    seen += [app.universal_token, app.universal_app_token]
    return seen


def server_errors(client: Client, app: PartnerApp, monkeypatch: Any) -> str:
    """Two 500s (mailed to ADMINS) and one report built directly, each raised
    deep inside code whose frames hold a secret."""

    def explode(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("the network stack fell over")

    monkeypatch.setattr("gupshup_admin.providers.http.HttpClient._perform", explode)
    try:
        app_sync.partner_app_check_health(app=app)
    except RuntimeError:
        posted = {
            "new_app_token": APP_TOKEN,
            "new_universal_token": PASTED_UNIVERSAL_TOKEN,
        }
        request = RequestFactory().post("/x/", posted)
        report = leakscan.error_report(request, sys.exc_info())
        report += leakscan.error_report(None, sys.exc_info())
    client.raise_request_exception = False
    ok(
        client.post(
            reverse("admin:gupshup_admin_partnerapp_fetch_token", args=[app.pk])
        ),
        500,
    )
    monkeypatch.setattr("gupshup_admin.crypto.encrypt", explode)
    channel = CommBoxChannel.objects.get()
    change = reverse("admin:gupshup_admin_commboxchannel_change", args=[channel.pk])
    data = {"name": "Leak channel", "stream_id": DEMO.channel.stream_id}
    # A new key (the same one pasted again is not re-encrypted): it contains
    # COMMBOX_KEY, so the scan finds it wherever it leaked.
    rotated = {"is_active": "on", "new_api_key": f"{COMMBOX_KEY}-rotated"}
    ok(client.post(change, {**data, **rotated}), 500)
    return report


def test_a_full_demo_run_leaves_no_secret_anywhere(
    client: Client, sim: Simulator, receiver: Receiver, settings: Any, monkeypatch: Any
) -> None:
    settings.SITE_URL = receiver.url.rsplit("/", 1)[0]
    jwts = []
    with leakscan.captured_logs() as logs:
        app = add_app_and_channel(client)
        button(client, app, "check_health")  # the pasted token: 401, then refresh
        app.refresh_from_db()
        jwts.append(app.partner_token())
        button(client, app, "sync_templates")
        button(client, app, "register_callback")
        sim.expire_partner_tokens()
        button(client, app, "fetch_token")  # the cached JWT: 401, then a new login
        app.refresh_from_db()
        jwts.append(app.partner_token())
        channel = CommBoxChannel.objects.get()
        upload = {"file": _png_upload(), "app": [app.pk], "channel": [channel.pk]}
        ok(client.post(reverse("media_library:upload"), upload), 201)
        campaign = run_campaign(client, app, MediaFile.objects.get())
        assert sim.wait_for_callbacks(15)
        replay_callbacks(client, receiver, app)
        universal = move_to_universal_tokens(client, app, sim)
        report = server_errors(client, app, monkeypatch)
        monkeypatch.undo()

        sources = {
            **leakscan.database_text(),
            **leakscan.admin_pages(client),
            **leakscan.site_pages(client, _page_arguments()),
            **leakscan.mails(),
            "error report": report,
        }
    sources["logs"] = logs.getvalue()
    secrets = {
        "pasted token": WRONG_TOKEN,
        "app token": APP_TOKEN,
        "partner secret": PARTNER_SECRET,
        "CommBox key": COMMBOX_KEY,
        "callback secret": PartnerApp.objects.get().callback_secret,
        **{f"partner JWT {n}": token for n, token in enumerate(jwts, 1)},
        "pasted Universal Token": PASTED_UNIVERSAL_TOKEN,
        **{f"Universal (App) Token {n}": t for n, t in enumerate(universal, 1)},
    }

    # The run did what it claims, so there was something to leak.
    assert len(set(jwts)) == 2 and all(jwts)
    assert len(set(universal)) == 4 and all(universal)
    issued = sim.universal_tokens()
    assert [t["kind"] for t in issued] == ["UT", "UAT", "UT", "UAT"]
    synced = ApiExchange.objects.filter(endpoint="templates", status_code=200)
    bearer = synced.order_by("id").last()
    assert bearer is not None
    assert bearer.request_headers["Authorization"].startswith("…")  # Bearer, masked
    statuses = set(ApiExchange.objects.values_list("status_code", flat=True))
    assert {200, 401} <= statuses
    assert set(MediaFile.objects.get().mirrors.values_list("state", flat=True)) == {
        MediaState.READY
    }
    assert Recipient.objects.filter(campaign=campaign, status=RecipientStatus.READ)
    refused = ApiExchange.objects.filter(endpoint="template_msg", status_code=401)
    assert refused.exists()  # the …0401 send, which also paused the campaign
    assert CommBoxChannel.objects.get().api_key == COMMBOX_KEY
    assert len([s for s in sources if s.startswith("/admin/")]) > 20
    assert "Traceback" in sources["error report"]
    assert "DEBUG" in sources["logs"] and "Too Large: /webhooks/" in sources["logs"]
    assert len([s for s in sources if s.startswith("mail:")]) >= 2

    assert leakscan.hits(secrets, sources) == []


def _png_upload() -> Any:
    return SimpleUploadedFile("banner.png", png("green"), content_type="image/png")


def _page_arguments() -> dict[str, list[dict[str, int]]]:
    campaigns = [{"pk": pk} for pk in Campaign.objects.values_list("pk", flat=True)]
    recipients = [{"pk": r.campaign_id, "rid": r.pk} for r in Recipient.objects.all()]
    imports = [
        {"pk": i.campaign_id, "import_pk": i.pk} for i in RecipientImport.objects.all()
    ]
    media = [{"pk": pk} for pk in MediaFile.objects.values_list("pk", flat=True)]
    return {
        "campaigns": campaigns + recipients + imports,
        "media_library": media,
    }


def test_the_scan_finds_a_planted_secret_in_each_kind_of_source(
    client: Client, settings: Any
) -> None:
    with leakscan.captured_logs() as logs:
        logging.getLogger("gupshup_admin").warning("planted %s", PARTNER_SECRET)
        app = PartnerApp.objects.create(
            name="Planted", app_id=APP.app_id, app_name="x", source_number="+15550001"
        )
        app.health_message = f"planted {PARTNER_SECRET}"
        app.save()
        sources = {
            **leakscan.database_text(),
            **leakscan.admin_pages(client),
        }
    sources["logs"] = logs.getvalue()

    found = leakscan.hits({"partner secret": PARTNER_SECRET}, sources)

    assert "partner secret in db:gupshup_admin.PartnerApp" in found
    assert "partner secret in logs" in found
    change = reverse("admin:gupshup_admin_partnerapp_change", args=[app.pk])
    assert f"partner secret in {change}" in found
