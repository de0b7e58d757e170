"""Delivery callbacks POSTed to a local receiver, in both formats and with faults."""

from __future__ import annotations

import json
from typing import Any

import requests

from gupshup_admin.simulator import DEMO, Simulator
from gupshup_admin.simulator.payloads import CALLBACK_LAG
from tests.simulator.conftest import Receiver, app_url, auth, send_template, send_v3

OK_NUMBER = "919812345678"


def v2_types(bodies: list[dict[str, Any]]) -> list[str]:
    return [b["payload"]["type"] for b in bodies]


def v3_status(body: dict[str, Any]) -> dict[str, Any]:
    status: dict[str, Any] = body["entry"][0]["changes"][0]["value"]["statuses"][0]
    return status


def subscribe(sim: Simulator, url: str, **form: str) -> None:
    response = requests.post(
        app_url(sim, "subscription"),
        data={"url": url, **form},
        headers=auth(),
        timeout=5,
    )
    assert response.status_code == 200, response.text


def test_a_delivered_message_sends_enqueued_sent_delivered_read_in_v2(
    sim: Simulator, receiver: Receiver
) -> None:
    sim.configure(callback_url=receiver.url)

    gs_id = send_template(sim, OK_NUMBER).json()["messageId"]
    bodies = receiver.wait_for(4)

    assert v2_types(bodies) == ["enqueued", "sent", "delivered", "read"]
    enqueued, sent = bodies[0], bodies[1]
    assert enqueued["app"] == DEMO.capi_app.app_name
    assert (enqueued["version"], enqueued["type"]) == (2, "message-event")
    assert enqueued["payload"]["id"] == gs_id
    wamid = enqueued["payload"]["payload"]["whatsappMessageId"]
    assert wamid.startswith("gBEGkZ")
    assert enqueued["payload"]["payload"]["type"] == "session"
    for body in bodies[1:]:
        assert body["payload"]["id"] == wamid
        assert body["payload"]["gsId"] == gs_id
        assert body["payload"]["destination"] == OK_NUMBER
        assert "ts" not in body["payload"]  # WhatsApp's time is only inside
        # Gupshup calls a little after WhatsApp's moment (the inner ts).
        lag = body["timestamp"] / 1000 - body["payload"]["payload"]["ts"]
        assert CALLBACK_LAG <= lag < CALLBACK_LAG + 1
    assert sent["payload"]["payload"] == {"ts": sent["payload"]["payload"]["ts"]}
    assert sim.wait_for_callbacks(2)
    assert [c["status_code"] for c in sim.callbacks_sent()] == [200] * 4


def test_v3_callbacks_are_meta_shaped_with_enqueued_in_milliseconds(
    sim: Simulator, receiver: Receiver
) -> None:
    sim.configure(callback_url=receiver.url, callback_format="v3")

    gs_id = send_v3(sim, "5511987654321").json()["messages"][0]["id"]
    bodies = receiver.wait_for(4)

    statuses = [v3_status(b) for b in bodies]
    assert [s["status"] for s in statuses] == ["enqueued", "sent", "delivered", "read"]
    first = bodies[0]
    assert first["object"] == "whatsapp_business_account"
    assert first["gs_app_id"] == DEMO.capi_app.app_id
    value = first["entry"][0]["changes"][0]["value"]
    assert value["metadata"]["display_phone_number"] == DEMO.capi_app.source
    assert isinstance(statuses[0]["timestamp"], int)
    assert statuses[0]["timestamp"] > 10**12  # milliseconds, the real quirk
    for status in statuses[1:]:
        assert isinstance(status["timestamp"], str) and len(status["timestamp"]) == 10
    assert {s["gs_id"] for s in statuses} == {gs_id}
    assert {s["recipient_id"] for s in statuses} == {"551187654321"}


def test_a_number_gupshup_refuses_sends_one_failed_naming_the_gupshup_id_in_v2(
    sim: Simulator, receiver: Receiver
) -> None:
    sim.configure(callback_url=receiver.url)

    response = send_template(sim, "919800001002")
    bodies = receiver.wait_for(1)
    assert sim.wait_for_callbacks(2)

    assert response.status_code == 200
    assert v2_types([r["body"] for r in receiver.received]) == [
        "failed"
    ]  # never enqueued
    failed = bodies[0]["payload"]
    assert failed["id"] == response.json()["messageId"]
    assert "gsId" not in failed
    assert failed["payload"] == {
        "code": 1002,
        "reason": "Number Does Not Exists On WhatsApp",
    }


def test_a_number_whatsapp_refuses_sends_enqueued_then_failed_naming_the_wamid(
    sim: Simulator, receiver: Receiver
) -> None:
    sim.configure(callback_url=receiver.url)

    response = send_template(sim, "919800009049")
    bodies = receiver.wait_for(2)

    assert v2_types(bodies) == ["enqueued", "failed"]
    gs_id = response.json()["messageId"]
    wamid = bodies[0]["payload"]["payload"]["whatsappMessageId"]
    failed = bodies[1]["payload"]
    assert (failed["id"], failed["gsId"]) == (wamid, gs_id)
    assert failed["payload"]["code"] == 131049
    assert failed["payload"]["reason"].startswith("This message was not delivered")


def test_a_person_who_stopped_marketing_messages_fails_with_131050(
    sim: Simulator, receiver: Receiver
) -> None:
    sim.configure(callback_url=receiver.url, callback_format="v3")

    send_v3(sim, "919800001050")
    bodies = receiver.wait_for(2)

    assert [v3_status(b)["status"] for b in bodies] == ["enqueued", "failed"]
    assert v3_status(bodies[1])["errors"][0]["code"] == 131050


def test_a_synchronous_failure_is_a_lone_failed_status_in_v3_too(
    sim: Simulator, receiver: Receiver
) -> None:
    sim.configure(callback_url=receiver.url, callback_format="v3")

    send_v3(sim, "919800001012")
    receiver.wait_for(1)
    assert sim.wait_for_callbacks(2)

    statuses = [v3_status(b) for b in [r["body"] for r in receiver.received]]
    assert [s["status"] for s in statuses] == ["failed"]
    assert statuses[0]["errors"][0]["code"] == 131050


def test_a_pair_rate_failure_carries_meta_code_131056_in_v3(
    sim: Simulator, receiver: Receiver
) -> None:
    sim.configure(callback_url=receiver.url, callback_format="v3")

    send_v3(sim, "919800006056")
    bodies = receiver.wait_for(2)

    failed = v3_status(bodies[1])
    assert failed["status"] == "failed"
    assert failed["errors"][0]["code"] == 131056
    assert failed["errors"][0]["title"]


def test_duplicate_rate_one_sends_every_event_twice(
    sim: Simulator, receiver: Receiver
) -> None:
    sim.configure(callback_url=receiver.url, duplicate_rate=1.0)

    send_template(sim, OK_NUMBER)
    bodies = receiver.wait_for(8)

    assert sorted(v2_types(bodies)) == sorted(
        ["enqueued", "sent", "delivered", "read"] * 2
    )
    by_type: dict[str, list[dict[str, Any]]] = {}
    for body in bodies:
        by_type.setdefault(body["payload"]["type"], []).append(body)
    assert all(pair[0] == pair[1] for pair in by_type.values())
    # The simulator logs a callback once its POST has returned, after the
    # receiver has the body: wait for it (CI once counted 3 of the 4).
    assert sim.wait_for_callbacks()
    assert sum(c["duplicate"] for c in sim.callbacks_sent()) == 4


def test_drop_gsid_leaves_gsid_out_of_sent_delivered_read(
    sim: Simulator, receiver: Receiver
) -> None:
    sim.configure(callback_url=receiver.url, drop_gsid=True)

    send_template(sim, OK_NUMBER)
    bodies = receiver.wait_for(4)

    assert "gsId" in bodies[0]["payload"]  # enqueued keeps its Gupshup id
    assert all("gsId" not in b["payload"] for b in bodies[1:])


def test_a_subscription_sends_its_meta_headers_and_only_its_modes(
    sim: Simulator, receiver: Receiver
) -> None:
    sim.configure(callback_url="http://127.0.0.1:9/never-used")
    # The documented shape: a JSON string with the headers under "headers".
    meta = json.dumps({"headers": {"X-Callback-Secret": "s3cret-42"}})
    subscribe(sim, receiver.url, modes="DELIVERED,READ", version="3", meta=meta)

    send_v3(sim, OK_NUMBER)
    receiver.wait_for(2)

    assert sim.wait_for_callbacks(2)
    assert [v3_status(r["body"])["status"] for r in receiver.received] == [
        "delivered",
        "read",
    ]
    assert all(
        r["headers"]["X-Callback-Secret"] == "s3cret-42" for r in receiver.received
    )
    assert all(c["url"] == receiver.url for c in sim.callbacks_sent())


def test_shuffle_keeps_real_timestamps_but_may_deliver_in_any_order(
    sim: Simulator, receiver: Receiver
) -> None:
    sim.configure(callback_url=receiver.url, shuffle=True, seed=3)

    for _ in range(3):
        send_template(sim, OK_NUMBER)
    bodies = receiver.wait_for(12)

    order = ["enqueued", "sent", "delivered", "read"]
    by_message: dict[str, list[dict[str, Any]]] = {}
    for body in bodies:
        message = body["payload"].get("gsId", body["payload"]["id"])
        by_message.setdefault(message, []).append(body)
    received_orders = [v2_types(group) for group in by_message.values()]
    assert any(seen != order for seen in received_orders)
    for group in by_message.values():
        stamps = sorted((b["timestamp"], b["payload"]["type"]) for b in group)
        assert [t for _, t in stamps] == order


def test_a_failing_receiver_is_retried_three_times_then_given_up(
    sim: Simulator, receiver: Receiver
) -> None:
    sim.configure(callback_url=receiver.url, callback_backoff=0.01)
    receiver.status = 503

    send_template(sim, "919800009049")  # enqueued + failed: 2 events
    assert sim.wait_for_callbacks(5)

    attempts = sim.callbacks_sent()
    assert len(attempts) == 8
    assert [a["attempt"] for a in attempts if a["event"] == "failed"] == [1, 2, 3, 4]
    assert [a["gave_up"] for a in attempts].count(True) == 2
    assert all(a["status_code"] == 503 for a in attempts)


def test_an_unreachable_receiver_is_recorded_with_its_error(sim: Simulator) -> None:
    sim.configure(
        callback_url="http://127.0.0.1:9/closed", callback_retries=0, callback_timeout=1
    )

    send_template(sim, OK_NUMBER)
    assert sim.wait_for_callbacks(5)

    attempts = sim.callbacks_sent()
    assert len(attempts) == 4
    assert all(a["status_code"] is None and a["error"] for a in attempts)


def test_without_a_callback_url_nothing_is_sent(sim: Simulator) -> None:
    send_template(sim, OK_NUMBER)

    assert sim.wait_for_callbacks(1)
    assert sim.callbacks_sent() == []


def test_reset_drops_callbacks_not_yet_due(sim: Simulator, receiver: Receiver) -> None:
    sim.configure(callback_url=receiver.url, callback_delay=5)
    send_template(sim, OK_NUMBER)
    assert sim.pending_callbacks() == 4

    sim.reset()

    assert sim.pending_callbacks() == 0
    assert sim.requests() == []


def test_a_flat_meta_header_map_is_not_the_documented_shape_and_adds_no_header(
    sim: Simulator, receiver: Receiver
) -> None:
    meta = json.dumps({"X-Callback-Secret": "s3cret-42"})
    subscribe(sim, receiver.url, modes="READ", version="2", meta=meta)

    send_template(sim, OK_NUMBER)
    receiver.wait_for(1)

    assert "X-Callback-Secret" not in receiver.received[0]["headers"]
