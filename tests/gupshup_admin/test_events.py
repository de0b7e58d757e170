"""Callback payloads in both formats → normalized events."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from gupshup_admin.providers.events import (
    DeliveryEvent,
    EventKind,
    EventParseError,
    parse_callback,
)
from gupshup_admin.simulator import DEMO
from gupshup_admin.simulator.magic import FAILURES
from gupshup_admin.simulator.payloads import SentMessage, v2_body, v3_body
from tests.payloads import callback

GS_ID = "28e59926-60d5-41ed-beee-931ef168a966"
WAMID_V2 = "gBEGkYiEB1VXAglK1ZEqA1YKPrU"
WAMID_V3 = "wamid.HBgMOTE4ODg2OTEyMjI3FQIAERgSQzY0"


def one(name: str) -> DeliveryEvent:
    events = parse_callback(callback(name))
    assert len(events) == 1
    return events[0]


def test_a_v2_enqueued_event_carries_the_gupshup_id_and_reveals_the_wamid() -> None:
    event = one("v2-enqueued")
    assert (event.kind, event.type) == (EventKind.STATUS, "enqueued")
    assert (event.gs_id, event.wamid) == (GS_ID, WAMID_V2)
    assert event.destination == "918886912227"
    assert event.timestamp == datetime.fromtimestamp(1763900000, tz=UTC)


def test_a_v2_sent_event_has_the_wamid_as_id_and_the_gupshup_id_as_gsid() -> None:
    event = one("v2-sent")
    assert (event.type, event.gs_id, event.wamid) == ("sent", GS_ID, WAMID_V2)


def test_a_late_v2_event_without_gsid_still_carries_the_wamid() -> None:
    event = one("v2-delivered-without-gsid")
    assert (event.type, event.gs_id, event.wamid) == ("delivered", "", WAMID_V2)


def test_a_v2_failure_keeps_the_code_and_reason() -> None:
    event = one("v2-failed")
    assert (event.type, event.error_code) == ("failed", "1002")
    assert event.error_message == "Number Does Not Exists On WhatsApp"


def test_a_v3_enqueued_timestamp_in_milliseconds_is_read_as_such() -> None:
    event = one("v3-enqueued")
    assert (event.type, event.gs_id, event.wamid) == ("enqueued", GS_ID, WAMID_V3)
    assert event.timestamp == datetime.fromtimestamp(1763900000.456, tz=UTC)


def test_a_v3_read_timestamp_in_seconds_as_text_is_read_as_such() -> None:
    event = one("v3-read")
    assert event.type == "read"
    assert event.timestamp == datetime.fromtimestamp(1763900010, tz=UTC)


def test_a_v3_failure_keeps_metas_code_and_title() -> None:
    event = one("v3-failed")
    assert (event.type, event.error_code) == ("failed", "131050")
    assert event.error_message.startswith("Unable to deliver the message")


def test_a_template_event_is_a_template_status_change() -> None:
    event = one("v2-template-event")
    assert event.kind == EventKind.TEMPLATE
    assert event.template_id == "9ff51097-48c9-47c7-a4e4-a9bb5801d8ea"
    assert (event.template_status, event.error_message) == (
        "REJECTED",
        "INVALID_FORMAT",
    )


def test_other_event_types_are_kept_as_other_events() -> None:
    event = one("v2-user-event")
    assert (event.kind, event.type) == (EventKind.OTHER, "user-event")


@pytest.mark.parametrize(
    ("body", "said"),
    [
        ([], "expected a JSON object"),
        ({}, "neither a v2 'type' nor a v3 'entry'"),
        ({"type": "message-event", "payload": "x"}, "payload must be an object"),
        ({"type": "message-event", "payload": {"type": "zapped", "id": "1"}}, "zapped"),
        ({"type": "message-event", "payload": {"type": "sent"}}, "without payload.id"),
        ({"entry": "nope"}, "without an 'entry' list"),
        ({"entry": [{"changes": [{"value": {"statuses": [{}]}}]}]}, "unknown v3"),
        ({"entry": []}, "no changes"),
    ],
)
def test_shapes_we_do_not_know_are_refused_with_the_reason(
    body: object, said: str
) -> None:
    with pytest.raises(EventParseError, match=said):
        parse_callback(body)


@pytest.mark.parametrize("event", ["enqueued", "sent", "delivered", "read", "failed"])
def test_what_the_simulator_sends_parses_to_the_same_ids_in_both_formats(
    event: str,
) -> None:
    message = SentMessage(
        app=DEMO.capi_app,
        gs_id=GS_ID,
        wamid=WAMID_V3,
        destination="918886912227",
        wa_id="918886912227",
        failure=FAILURES["1002"] if event == "failed" else None,
    )
    v2 = parse_callback(v2_body(message, event, 1763900000.5, drop_gsid=False))[0]
    v3 = parse_callback(v3_body(message, event, 1763900000.5))[0]
    assert (v2.type, v2.gs_id) == (v3.type, v3.gs_id) == (event, GS_ID)
    # A v2 failure names only the Gupshup id; every other event reveals the wamid.
    assert v2.wamid == ("" if event == "failed" else WAMID_V3) and v3.wamid == WAMID_V3
    assert v2.timestamp is not None and v3.timestamp is not None
    assert abs((v2.timestamp - v3.timestamp).total_seconds()) < 1


def test_an_async_v2_failure_has_the_wamid_as_id_and_the_gupshup_id_as_gsid() -> None:
    event = one("v2-failed-async")
    assert (event.type, event.error_code) == ("failed", "131049")
    assert event.gs_id == "5b6f9a0e-0a1c-4d54-9d0f-2f1f0b6f9049"
    assert event.wamid == "gBEGkYiEB1VXAglK1ZEqA1YKPrX"


def test_a_v2_sent_event_is_dated_by_whatsapps_inner_ts_not_the_envelope() -> None:
    event = one("v2-sent")
    assert event.timestamp == datetime.fromtimestamp(1763900002, tz=UTC)
