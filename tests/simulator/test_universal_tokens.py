"""Universal Tokens (partner-wide) and Universal App Tokens (one app): minting,
limits, Bearer authentication of app calls, and expiry."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import requests

from gupshup_admin.simulator import DEMO, Simulator
from tests.simulator.conftest import app_url, auth

DAY = 86_400


def mint_ut(sim: Simulator, partner_id: int | None = None, **form: str) -> Any:
    data = {
        "email": DEMO.partner_email,
        "clientSecret": DEMO.partner_secret,
        "name": "gupshup-admin",
        **form,
    }
    url = f"{sim.base_url}/partner/{partner_id or DEMO.partner_id}/auth/token"
    return requests.post(url, data=data, timeout=5)


def mint_uat(
    sim: Simulator, bearer: str, app_id: str | None = None, **form: str
) -> Any:
    return requests.post(
        app_url(sim, "token", app_id),
        data={"name": "sender", **form},
        headers={"Authorization": f"Bearer {bearer}"},
        timeout=5,
    )


def claims(jwt: str) -> dict[str, Any]:
    payload = jwt.split(".")[1]
    return dict(
        json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    )


def health(sim: Simulator, headers: dict[str, str], app_id: str | None = None) -> int:
    url = app_url(sim, "health", app_id)
    return int(requests.get(url, headers=headers, timeout=5).status_code)


# Gupshup's health answers a refused token with 400 "Authentication Failed"
# (API-NOTES); other app calls answer 401.
REFUSED_BY_HEALTH = 400


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_a_universal_token_is_minted_with_the_client_secret_shown_once_for_60_days(
    sim: Simulator,
) -> None:
    before = time.time()
    answer = mint_ut(sim)

    assert answer.status_code == 200, answer.text
    token = answer.json()["token"]
    assert token["name"] == "gupshup-admin"
    assert token["status"] == "ACTIVE"
    assert token["token"].startswith("eyJ") and token["token"].count(".") == 2
    lifetime = token["expiredOn"] / 1000 - before
    assert 60 * DAY - 5 < lifetime < 60 * DAY + 5
    assert abs(claims(token["token"])["exp"] - token["expiredOn"] / 1000) < 1
    logged = sim.requests("universal_token")[-1]
    assert logged["status"] == 200


def test_a_universal_token_may_be_minted_with_a_shorter_expiry(sim: Simulator) -> None:
    expiry = int((time.time() + 3600) * 1000)

    token = mint_ut(sim, expiry=str(expiry)).json()["token"]

    assert token["expiredOn"] == expiry
    assert mint_ut(sim, name="x", expiry=str(expiry + 61 * DAY * 1000)).status_code == (
        400
    )


def test_minting_needs_the_partner_id_the_email_and_the_client_secret(
    sim: Simulator,
) -> None:
    sim.configure(universal_token_mints_per_minute=10)

    assert mint_ut(sim, partner_id=1).status_code == 400
    assert mint_ut(sim, clientSecret="wrong").status_code == 401
    assert mint_ut(sim, name="").status_code == 400
    assert mint_ut(sim, password=DEMO.partner_secret, clientSecret="").status_code == (
        400
    )


def test_minting_is_refused_when_gupshup_has_not_enabled_it_for_the_partner(
    sim: Simulator,
) -> None:
    sim.configure(universal_minting=False)

    answer = mint_ut(sim)

    assert answer.status_code == 403
    assert "not enabled" in answer.json()["message"]


def test_the_fourth_universal_token_mint_in_a_minute_gets_429(sim: Simulator) -> None:
    codes = [mint_ut(sim, name=f"t{n}").status_code for n in range(4)]

    assert codes == [200, 200, 200, 429]


def test_at_most_three_universal_tokens_are_active_each_with_its_own_name(
    sim: Simulator,
) -> None:
    sim.configure(universal_token_mints_per_minute=10)

    first = mint_ut(sim, name="a")
    same_name = mint_ut(sim, name="a")
    more = [mint_ut(sim, name=name).status_code for name in ("b", "c", "d")]

    assert first.status_code == 200
    assert same_name.status_code == 409
    assert more == [200, 200, 400]
    sim.expire_universal_tokens()
    assert mint_ut(sim, name="a").status_code == 200  # expired ones free their name


def test_a_universal_app_token_is_minted_with_a_universal_token_for_one_app(
    sim: Simulator,
) -> None:
    ut = mint_ut(sim).json()["token"]["token"]
    before = time.time()

    answer = mint_uat(sim, ut)

    assert answer.status_code == 200, answer.text
    token = answer.json()["token"]
    assert token["appId"] == DEMO.capi_app.app_id
    assert token["status"] == "ACTIVE"
    assert 24 * 3600 - 5 < token["expiredOn"] / 1000 - before < 24 * 3600 + 5
    uat = token["token"]
    assert health(sim, bearer(uat)) == 200
    assert health(sim, bearer(uat), DEMO.non_capi_app.app_id) == REFUSED_BY_HEALTH
    assert health(sim, bearer(ut)) == 200  # a UT works on every app
    assert health(sim, bearer(ut), DEMO.non_capi_app.app_id) == 200


def test_a_universal_app_token_lives_between_one_and_24_hours(sim: Simulator) -> None:
    ut = mint_ut(sim).json()["token"]["token"]
    now_ms = int(time.time() * 1000)

    two_hours = mint_uat(sim, ut, name="2h", expiry=str(now_ms + 2 * 3600_000))
    too_short = mint_uat(sim, ut, name="30m", expiry=str(now_ms + 1800_000))
    too_long = mint_uat(sim, ut, name="25h", expiry=str(now_ms + 25 * 3600_000))

    assert two_hours.status_code == 200
    assert two_hours.json()["token"]["expiredOn"] == now_ms + 2 * 3600_000
    assert (too_short.status_code, too_long.status_code) == (400, 400)


def test_a_universal_app_token_is_minted_only_with_a_universal_token(
    sim: Simulator,
) -> None:
    jwt = requests.post(
        f"{sim.base_url}/partner/account/login",
        data={"email": DEMO.partner_email, "password": DEMO.partner_secret},
        timeout=5,
    ).json()["token"]
    ut = mint_ut(sim).json()["token"]["token"]
    uat = mint_uat(sim, ut).json()["token"]["token"]

    raw_jwt = requests.post(
        app_url(sim, "token"),
        data={"name": "x"},
        headers={"Authorization": jwt},
        timeout=5,
    )

    assert raw_jwt.status_code == 401
    assert mint_uat(sim, jwt).status_code == 401  # the legacy partner token
    assert mint_uat(sim, DEMO.capi_app.token).status_code == 401  # the sk_ token
    assert mint_uat(sim, uat).status_code == 401  # a UAT cannot mint
    assert mint_uat(sim, ut, app_id="00000000-0000-4000-8000-000000000000").json() == {
        "status": "error",
        "message": "Invalid App Details",
    }


def test_the_eleventh_universal_app_token_mint_in_a_minute_gets_429(
    sim: Simulator,
) -> None:
    ut = mint_ut(sim).json()["token"]["token"]

    codes = [mint_uat(sim, ut, name=f"n{i}").status_code for i in range(11)]

    # Three are active at most: the fourth and later are refused, the 11th by rate.
    assert codes[:4] == [200, 200, 200, 400]
    assert codes[-1] == 429


def test_expired_universal_tokens_get_401_on_app_calls_and_cannot_mint(
    sim: Simulator,
) -> None:
    ut = mint_ut(sim).json()["token"]["token"]
    uat = mint_uat(sim, ut).json()["token"]["token"]

    sim.expire_universal_tokens()

    assert health(sim, bearer(ut)) == REFUSED_BY_HEALTH
    assert health(sim, bearer(uat)) == REFUSED_BY_HEALTH
    assert mint_uat(sim, ut, name="again").status_code == 401
    assert health(sim, auth()) == 200  # the legacy sk_ token is not affected


def test_the_legacy_token_sent_as_bearer_is_still_refused(sim: Simulator) -> None:
    assert health(sim, bearer(DEMO.capi_app.token)) == REFUSED_BY_HEALTH


def test_the_issued_universal_tokens_can_be_listed_without_their_values(
    sim: Simulator,
) -> None:
    ut = mint_ut(sim, name="main").json()["token"]["token"]
    mint_uat(sim, ut, name="sender")

    issued = sim.universal_tokens()

    assert [(t["kind"], t["name"], t["app_id"]) for t in issued] == [
        ("UT", "main", None),
        ("UAT", "sender", DEMO.capi_app.app_id),
    ]
    assert all(t["active"] for t in issued)
    assert ut not in json.dumps(issued)


def test_the_login_answers_the_configured_partner_id(sim: Simulator) -> None:
    sim.configure(partner_id=9001)

    answer = requests.post(
        f"{sim.base_url}/partner/account/login",
        data={"email": DEMO.partner_email, "password": DEMO.partner_secret},
        timeout=5,
    )

    assert answer.json()["id"] == 9001
    assert mint_ut(sim, partner_id=9001).status_code == 200
