"""The two send endpoints: validation, rate limit and the magic numbers."""

from __future__ import annotations

import dataclasses
import json
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests

from gupshup_admin.simulator import DEMO, FAILURES, SUMMER_PREVIEW_IMAGE, Simulator
from gupshup_admin.simulator.magic import INTERNAL_ERROR, classify
from tests.simulator.conftest import app_url, auth, send_template, send_v3

OK_NUMBER = "919812345678"


def test_a_valid_template_message_is_submitted_and_logged(sim: Simulator) -> None:
    response = send_template(sim, OK_NUMBER)

    body = response.json()
    assert response.status_code == 200
    assert body["status"] == "submitted"
    assert uuid.UUID(body["messageId"]).version == 4
    row = sim.requests("template_msg")[-1]
    assert (row["destination"], row["status"], row["accepted"]) == (
        OK_NUMBER,
        200,
        True,
    )
    assert row["message_id"] == body["messageId"]
    assert json.loads(row["form"]["template"])["params"] == ["Ana", "SPRING20"]


@pytest.mark.parametrize(
    ("fields", "message_part"),
    [
        ({"destination": "+919812345678"}, "Invalid destination"),
        ({"destination": "91 98123 45678"}, "Invalid destination"),
        ({"template": json.dumps({"id": str(uuid.uuid4()), "params": []})}, "Exist"),
        (
            {
                "template": json.dumps(
                    {"id": DEMO.spring_sale_template_id, "params": ["A"]}
                )
            },
            "params",
        ),
        (
            {
                "template": json.dumps(
                    {"id": DEMO.template_id(SUMMER_PREVIEW_IMAGE), "params": ["A"]}
                )
            },
            "approved",
        ),
        ({"template": "{not json"}, "template"),
        ({"message": json.dumps({"type": "text", "text": "hi"})}, "image"),
        ({"message": json.dumps({"type": "image", "image": {}})}, "id or a link"),
        ({"source": "919000000000"}, "source"),
        ({"src.name": ""}, "src.name"),
    ],
)
def test_an_invalid_template_message_gets_a_clear_400(
    sim: Simulator, fields: dict[str, Any], message_part: str
) -> None:
    response = send_template(sim, OK_NUMBER, **fields)

    assert response.status_code == 400
    assert message_part in response.json()["message"]
    assert sim.requests()[-1]["accepted"] is False


def test_a_template_message_must_be_form_encoded(sim: Simulator) -> None:
    response = requests.post(
        app_url(sim, "template/msg"),
        json={"destination": OK_NUMBER},
        headers=auth(),
        timeout=5,
    )

    assert response.status_code == 400
    assert "x-www-form-urlencoded" in response.json()["message"]


def test_a_v3_image_message_gets_the_meta_shaped_answer(sim: Simulator) -> None:
    response = send_v3(sim, OK_NUMBER)

    body = response.json()
    assert response.status_code == 200
    assert body["messaging_product"] == "whatsapp"
    assert body["contacts"] == [{"input": OK_NUMBER, "wa_id": OK_NUMBER}]
    assert uuid.UUID(body["messages"][0]["id"])
    row = sim.requests("v3_message")[-1]
    assert row["json"]["image"]["caption"] == "Spring sale"
    assert row["message_id"] == body["messages"][0]["id"]


def test_a_brazilian_mobile_gets_a_wa_id_without_the_ninth_digit(
    sim: Simulator,
) -> None:
    response = send_v3(sim, "5511987654321")

    assert response.json()["contacts"] == [
        {"input": "5511987654321", "wa_id": "551187654321"}
    ]


def test_v3_for_a_non_capi_app_needs_callback_billing(sim: Simulator) -> None:
    url = app_url(sim, "v3/message", DEMO.non_capi_app.app_id)

    response = requests.post(
        url, json={}, headers=auth(DEMO.non_capi_app.token), timeout=5
    )

    assert response.status_code == 400
    assert response.json() == {
        "status": "error",
        "message": "Callback Billing must be enabled for this API",
    }


@pytest.mark.parametrize(
    "overrides",
    [
        {"messaging_product": "sms"},
        {"to": "+919812345678"},
        {"type": "text"},
        {"image": {"caption": "no media"}},
    ],
)
def test_an_invalid_v3_message_gets_400(
    sim: Simulator, overrides: dict[str, Any]
) -> None:
    response = send_v3(sim, OK_NUMBER, **overrides)

    assert response.status_code == 400
    assert response.json()["status"] == "error"


def test_the_rate_limit_answers_429_after_n_sends_in_a_minute(sim: Simulator) -> None:
    sim.configure(rate_per_minute=3)
    # An app without its own rate falls back to the config's rate_per_minute.
    sim.add_app(dataclasses.replace(DEMO.capi_app, rate_per_minute=None))

    codes = [send_template(sim, OK_NUMBER).status_code for _ in range(3)]
    codes.append(send_v3(sim, OK_NUMBER).status_code)

    assert codes == [200, 200, 200, 429]
    last = sim.requests()[-1]
    assert (last["status"], last["fault"], last["accepted"]) == (
        429,
        "rate_limited",
        False,
    )
    assert last["response"] == {"status": "error", "message": "Too Many Requests"}


@pytest.mark.parametrize(
    ("number", "status", "message"),
    [
        ("919800000429", 429, "Too Many Requests"),
        ("919800000500", 500, INTERNAL_ERROR),
        ("919800000401", 401, "Authentication Failed"),
    ],
)
def test_magic_numbers_answer_their_http_errors(
    sim: Simulator, number: str, status: int, message: str
) -> None:
    response = send_template(sim, number)

    assert response.status_code == status
    assert response.json() == {"status": "error", "message": message}
    row = sim.requests()[-1]
    assert (row["destination"], row["accepted"], row["status"]) == (
        number,
        False,
        status,
    )


def test_0502_closes_the_connection_but_the_send_is_logged_as_accepted(
    sim: Simulator,
) -> None:
    with pytest.raises(requests.exceptions.ConnectionError):
        send_v3(sim, "919800000502")

    row = sim.requests("v3_message")[-1]
    assert (row["accepted"], row["fault"]) == (True, "drop")
    assert row["message_id"]


def test_0408_hangs_past_the_client_timeout_but_the_send_is_accepted(
    sim: Simulator,
) -> None:
    sim.configure(hang_seconds=2.0)
    started = time.monotonic()

    with pytest.raises(requests.exceptions.ReadTimeout):
        send_template(sim, "919800000408", timeout=0.3)

    assert time.monotonic() - started < 1.5
    row = sim.requests("template_msg")[-1]
    assert (row["accepted"], row["fault"], row["status"]) == (True, "hang", 200)


def test_error_rate_one_answers_500_and_accepts_nothing(sim: Simulator) -> None:
    sim.configure(error_rate=1.0)

    response = send_v3(sim, OK_NUMBER)

    assert response.status_code == 500
    row = sim.requests()[-1]
    assert (row["accepted"], row["fault"]) == (False, "error_rate")


def test_latency_delays_every_answer(sim: Simulator) -> None:
    sim.configure(latency=0.3)
    started = time.monotonic()

    requests.get(app_url(sim, "health"), headers=auth(), timeout=5)

    assert time.monotonic() - started >= 0.3


def test_every_failure_number_is_accepted_then_classified_as_a_failure() -> None:
    for last4, failure in FAILURES.items():
        outcome = classify(f"9198000{last4}")
        assert (outcome.kind, outcome.failure) == ("fail", failure)
    assert classify(OK_NUMBER).kind == "ok"


def test_gupshups_own_codes_fail_synchronously_and_metas_after_enqueued() -> None:
    sync = sorted(k for k, f in FAILURES.items() if f.synchronous)
    assert " ".join(sync) == "1002 1003 1010 1011 1012 4001 4003 4004 4005"
    for last4, failure in FAILURES.items():
        # Gupshup's codes are four digits; WhatsApp's pass through unchanged.
        assert (failure.code < 10_000) == failure.synchronous, last4
        assert failure.synchronous or failure.code == failure.meta_code, last4
    assert FAILURES["1050"].code == 131050  # stopped marketing messages


def test_concurrent_sends_never_exceed_the_rate_limit(sim: Simulator) -> None:
    sim.add_app(dataclasses.replace(DEMO.capi_app, rate_per_minute=10))

    with ThreadPoolExecutor(max_workers=8) as pool:
        codes = list(pool.map(lambda _: send_v3(sim, OK_NUMBER).status_code, range(24)))

    assert sorted(codes) == [200] * 10 + [429] * 14
    assert sum(r["accepted"] for r in sim.requests("v3_message")) == 10


def test_1049_is_held_back_on_the_first_send_and_delivered_when_sent_again(
    sim: Simulator,
) -> None:
    number = "919800001049"
    send_template(sim, number)
    send_template(sim, number)
    send_template(sim, "919800011049")  # another number: its own first send

    failures = [r["failure"] for r in sim.requests("template_msg") if r["accepted"]]
    assert failures == [131049, None, 131049]


def test_a_per_second_limit_answers_429_within_the_second_and_not_after(
    sim: Simulator,
) -> None:
    sim.add_app(dataclasses.replace(DEMO.capi_app, rate_per_second=3))

    burst = [send_v3(sim, OK_NUMBER).status_code for _ in range(4)]
    time.sleep(1.05)
    later = send_v3(sim, OK_NUMBER).status_code

    assert burst == [200, 200, 200, 429]
    assert later == 200, "a refused send does not count, the window slides on"
    assert sum(r["accepted"] for r in sim.requests("v3_message")) == 4


def test_a_spread_latency_varies_around_its_median(sim: Simulator) -> None:
    sim.configure(latency=0.05, latency_spread=0.5, seed=7)

    samples = sorted(sim.state.latency() for _ in range(2001))

    median = samples[1000]
    assert 0.045 < median < 0.055
    assert samples[-20] > 2 * median, "a tail, as real provider calls have"
    assert min(samples) > 0
