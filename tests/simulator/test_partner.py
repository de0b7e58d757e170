"""Partner login, app tokens, app auth, and the read-only app endpoints."""

from __future__ import annotations

import dataclasses
import json

import pytest
import requests

from gupshup_admin.simulator import (
    DEMO,
    SPRING_SALE_IMAGE,
    Simulator,
    template_id,
)
from tests.simulator.conftest import app_url, auth

LOGIN = "/partner/account/login"


def login(sim: Simulator, **data: str) -> requests.Response:
    form = {"email": DEMO.partner_email, "password": DEMO.partner_secret, **data}
    return requests.post(sim.base_url + LOGIN, data=form, timeout=5)


def test_the_right_partner_credentials_get_a_fresh_jwt_each_time(
    sim: Simulator,
) -> None:
    first, second = login(sim), login(sim)

    assert first.status_code == 200
    body = first.json()
    assert body["email"] == DEMO.partner_email
    assert body["id"] and body["name"]
    assert body["token"].startswith("eyJ") and body["token"].count(".") == 2
    assert second.json()["token"] != body["token"]


@pytest.mark.parametrize("field", ["secret", "password"])
def test_the_client_secret_is_accepted_under_either_name(
    sim: Simulator, field: str
) -> None:
    form = {"email": DEMO.partner_email, field: DEMO.partner_secret}

    response = requests.post(sim.base_url + LOGIN, data=form, timeout=5)

    assert response.status_code == 200
    assert response.json()["token"].startswith("eyJ")


def test_wrong_partner_credentials_get_401_and_missing_ones_400(sim: Simulator) -> None:
    wrong = login(sim, password="nope")
    missing = requests.post(sim.base_url + LOGIN, data={"email": "x@y.z"}, timeout=5)

    assert wrong.status_code == 401
    assert wrong.json() == {"status": "error", "message": "Invalid email or password"}
    assert missing.status_code == 400
    assert missing.json()["status"] == "error"


def test_the_eleventh_login_in_a_minute_gets_429(sim: Simulator) -> None:
    codes = [login(sim).status_code for _ in range(11)]

    assert codes == [200] * 10 + [429]
    assert sim.requests("partner_login")[-1]["status"] == 429


def test_a_partner_jwt_gets_the_apps_configured_token_idempotently(
    sim: Simulator,
) -> None:
    jwt = login(sim).json()["token"]
    url = app_url(sim, "token")

    first = requests.get(url, headers={"Authorization": jwt}, timeout=5)
    second = requests.get(url, headers={"Authorization": jwt}, timeout=5)

    assert first.status_code == 200
    token = first.json()["token"]
    assert first.json()["status"] == "success"
    assert token["token"] == DEMO.capi_app.token
    assert token["expiresOn"] == 0 and token["active"] is True
    assert token["authoritySet"] == ["ROLE_PARTNER_APP"]
    assert second.json() == first.json()


def test_the_token_endpoint_refuses_bearer_unknown_and_expired_jwts(
    sim: Simulator,
) -> None:
    jwt = login(sim).json()["token"]
    url = app_url(sim, "token")

    def status(value: str) -> tuple[int, str]:
        response = requests.get(url, headers={"Authorization": value}, timeout=5)
        return response.status_code, response.json()["message"]

    assert status(f"Bearer {jwt}") == (401, "Unauthorized Access")
    assert status("eyJ.not.issued") == (401, "Unauthorized Access")
    sim.expire_partner_tokens()
    assert status(jwt) == (401, "Unauthorized Access")


@pytest.mark.parametrize("header", ["token", "Authorization"])
def test_app_calls_accept_the_raw_token_in_either_header(
    sim: Simulator, header: str
) -> None:
    response = requests.get(
        app_url(sim, "health"), headers={header: DEMO.capi_app.token}, timeout=5
    )

    assert response.status_code == 200
    assert response.json() == {"status": "success", "healthy": "true"}


@pytest.mark.parametrize(
    ("headers", "status", "message"),
    [
        (
            {"Authorization": f"Bearer {DEMO.capi_app.token}"},
            401,
            "Authentication Failed",
        ),
        ({"token": DEMO.non_capi_app.token}, 401, "Authentication Failed"),
        ({}, 401, "Authentication Failed"),
    ],
)
def test_app_calls_refuse_bearer_wrong_and_missing_tokens(
    sim: Simulator, headers: dict[str, str], status: int, message: str
) -> None:
    response = requests.get(app_url(sim, "templates"), headers=headers, timeout=5)

    assert response.status_code == status
    assert response.json() == {"status": "error", "message": message}
    assert sim.requests()[-1]["status"] == status


def test_health_answers_a_wrong_token_with_400_authentication_failed(
    sim: Simulator,
) -> None:
    headers = auth(DEMO.non_capi_app.token)

    response = requests.get(app_url(sim, "health"), headers=headers, timeout=5)

    assert response.status_code == 400
    assert response.json() == {"status": "error", "message": "Authentication Failed"}


def test_an_unknown_app_gets_invalid_app_details(sim: Simulator) -> None:
    url = app_url(sim, "health", app_id="00000000-0000-4000-8000-000000000000")

    response = requests.get(url, headers=auth(), timeout=5)

    assert response.status_code == 400
    assert response.json()["message"] == "Invalid App Details"


def test_templates_have_stable_ids_and_the_documented_mix(sim: Simulator) -> None:
    response = requests.get(app_url(sim, "templates"), headers=auth(), timeout=5)

    templates = response.json()["templates"]
    by_name = {t["elementName"]: t for t in templates}
    spring = by_name[SPRING_SALE_IMAGE]
    assert spring["id"] == DEMO.spring_sale_template_id
    assert spring["id"] == template_id(DEMO.capi_app.app_id, SPRING_SALE_IMAGE)
    assert (spring["templateType"], spring["status"]) == ("IMAGE", "APPROVED")
    assert "{{1}}" in spring["data"] and "{{2}}" in spring["data"]
    assert isinstance(spring["containerMeta"], str)
    assert json.loads(spring["containerMeta"])["data"] == spring["data"]
    kinds = {(t["templateType"], t["status"]) for t in templates}
    assert {("TEXT", "APPROVED"), ("IMAGE", "PENDING"), ("IMAGE", "REJECTED")} <= kinds
    rejected = next(t for t in templates if t["status"] == "REJECTED")
    assert rejected["reason"]
    assert by_name["new_arrivals_image"]["id"] == DEMO.new_arrivals_template_id


def test_an_app_that_is_not_live_fails_its_health_check(sim: Simulator) -> None:
    sim.add_app(dataclasses.replace(DEMO.capi_app, live=False))

    response = requests.get(app_url(sim, "health"), headers=auth(), timeout=5)

    assert response.status_code == 400
    assert response.json() == {"status": "error", "message": "App is not live."}


def test_waba_info_and_wallet_balance_have_their_documented_shapes(
    sim: Simulator,
) -> None:
    waba = requests.get(app_url(sim, "waba/info"), headers=auth(), timeout=5).json()
    wallet = requests.get(app_url(sim, "wallet/balance"), headers=auth(), timeout=5)

    info = waba["wabaInfo"]
    assert waba["status"] == "success"
    assert info["phone"] == DEMO.capi_app.source
    assert info["messagingLimit"] == "TIER_1K" and info["throughput"] == "STANDARD"
    assert {"accountStatus", "canSendMessage", "phoneQuality", "wabaId"} <= set(info)
    assert {"verifiedName", "mmLiteStatus", "errors", "additionalInfo"} <= set(info)
    balance = wallet.json()["walletResponse"]
    assert balance["currency"] == "USD"
    assert isinstance(balance["currentBalance"], float)
    assert balance["overDraftLimit"] == -20.0


def test_an_app_may_answer_its_wallet_balance_the_older_way_without_status(
    sim: Simulator,
) -> None:
    sim.add_app(dataclasses.replace(DEMO.capi_app, wallet_without_status=True))

    body = requests.get(app_url(sim, "wallet/balance"), headers=auth(), timeout=5)

    assert "status" not in body.json()
    assert body.json()["walletResponse"]["currentBalance"] == 125.5


def test_an_apps_waba_can_be_blocked_red_or_report_errors(sim: Simulator) -> None:
    sim.add_app(
        dataclasses.replace(
            DEMO.capi_app,
            can_send_message="BLOCKED",
            phone_quality="RED",
            messaging_limit="TIER_250",
            waba_errors=("Number restricted.",),
        )
    )

    info = requests.get(app_url(sim, "waba/info"), headers=auth(), timeout=5).json()

    waba = info["wabaInfo"]
    assert (waba["canSendMessage"], waba["phoneQuality"]) == ("BLOCKED", "RED")
    assert waba["messagingLimit"] == "TIER_250"
    assert waba["errors"] == [{"error_description": "Number restricted."}]


def test_a_subscription_is_echoed_and_listed(sim: Simulator) -> None:
    form = {
        "url": "http://127.0.0.1:9/hook",
        "modes": "SENT,DELIVERED,READ,FAILED",
        "tag": "admin",
        "version": "3",
        "meta": json.dumps({"X-Callback-Secret": "s3cret"}),
    }

    response = requests.post(
        app_url(sim, "subscription"), data=form, headers=auth(), timeout=5
    )
    listed = requests.get(app_url(sim, "subscription"), headers=auth(), timeout=5)

    sub = response.json()["subscription"]
    assert response.json()["status"] == "success"
    assert sub["url"] == form["url"] and sub["version"] == 3 and sub["active"]
    assert sub["modes"] == ["SENT", "DELIVERED", "READ", "FAILED"]
    assert sub["meta"] == form["meta"] and sub["id"]
    assert listed.json()["subscriptions"] == [sub]


@pytest.mark.parametrize(
    "form",
    [
        {"url": "ftp://example.test/hook"},
        {"url": "http://127.0.0.1:9/hook", "modes": "SENT,SHOUTED"},
        {"url": "http://127.0.0.1:9/hook", "version": "4"},
        {"url": "http://127.0.0.1:9/hook", "meta": "[1, 2]"},
        {"url": "http://127.0.0.1:9/hook", "meta": '{"headers": ["X-A"]}'},
        {"url": "http://127.0.0.1:9/hook", "meta": '{"headers": {"X-A": 1}}'},
        {"url": "http://127.0.0.1:9/hook", "meta": "{not json"},
    ],
)
def test_a_bad_subscription_gets_400(sim: Simulator, form: dict[str, str]) -> None:
    response = requests.post(
        app_url(sim, "subscription"), data=form, headers=auth(), timeout=5
    )

    assert response.status_code == 400
    assert response.json()["status"] == "error"


def test_unknown_paths_are_logged_and_answered_404(sim: Simulator) -> None:
    response = requests.get(sim.base_url + "/partner/nowhere", timeout=5)

    assert response.status_code == 404
    assert response.json()["status"] == "error"
    assert sim.requests()[-1]["endpoint"] == "unknown"


def test_control_endpoints_expose_the_log_and_change_the_config(
    sim: Simulator,
) -> None:
    requests.get(app_url(sim, "health"), headers=auth(), timeout=5)

    logged = requests.get(sim.base_url + "/_sim/requests", timeout=5).json()
    changed = requests.post(
        sim.base_url + "/_sim/config", json={"latency": 0.01}, timeout=5
    )
    refused = requests.post(sim.base_url + "/_sim/config", json={"nope": 1}, timeout=5)
    health = requests.get(sim.base_url + "/_sim/health", timeout=5).json()
    requests.post(sim.base_url + "/_sim/reset", timeout=5)

    assert [row["endpoint"] for row in logged] == ["health"]
    assert logged[0]["headers"]["Token"] == DEMO.capi_app.token
    assert changed.json()["latency"] == 0.01 and sim.config.latency == 0.01
    assert refused.status_code == 400
    assert health["healthy"] is True
    assert sim.requests() == []
