"""Callback payloads in both formats → normalized events, one recorded shape each."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gupshup_admin.providers.events import (
    DeliveryEvent,
    EventKind,
    EventParseError,
    parse_callback,
)
from gupshup_admin.simulator import DEMO
from gupshup_admin.simulator.magic import FAILURES
from gupshup_admin.simulator.payloads import SentMessage, v2_body, v3_body
from tests.payloads import HERE, callback

GS_ID = "28e59926-60d5-41ed-beee-931ef168a966"
WAMID_V2 = "gBEGkYiEB1VXAglK1ZEqA1YKPrU"
WAMID_V3 = "wamid.HBgMOTE4ODg2OTEyMjI3FQIAERgSQzY0"
TEMPLATE_ID = "9ff51097-48c9-47c7-a4e4-a9bb5801d8ea"
PHONE = "918886912227"
FIXTURES = sorted(path.stem for path in (HERE / "callbacks").glob("*.json"))


def one(name: str) -> DeliveryEvent:
    events = parse_callback(callback(name))
    assert len(events) == 1
    return events[0]


def at(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)


# --- v2 message-event --------------------------------------------------------------


def test_a_v2_enqueued_event_carries_the_gupshup_id_and_reveals_the_wamid() -> None:
    event = one("v2-enqueued")
    assert (event.kind, event.type) == (EventKind.STATUS, "enqueued")
    assert (event.gs_id, event.wamid) == (GS_ID, WAMID_V2)
    assert event.destination == PHONE
    assert event.timestamp == at(1763900000.123)  # no WhatsApp time: the envelope's


def test_a_v2_enqueued_event_with_a_gsid_takes_the_gupshup_id_from_it() -> None:
    body = callback("v2-enqueued")
    body["payload"]["gsId"] = body["payload"]["id"]
    assert (parse_callback(body)[0].gs_id, parse_callback(body)[0].wamid) == (
        GS_ID,
        WAMID_V2,
    )


def test_a_synchronous_v2_failure_names_the_gupshup_id_and_keeps_code_and_reason() -> (
    None
):
    event = one("v2-failed")
    assert (event.type, event.error_code) == ("failed", "1002")
    assert event.error_message == "Number Does Not Exists On WhatsApp"
    assert (event.gs_id, event.wamid) == ("5b6f9a0e-0a1c-4d54-9d0f-2f1f0b6f1002", "")
    assert event.timestamp == at(1763900003)


def test_an_async_v2_failure_has_the_wamid_as_id_and_the_gupshup_id_as_gsid() -> None:
    event = one("v2-failed-async")
    assert (event.type, event.error_code) == ("failed", "131049")
    assert event.gs_id == "5b6f9a0e-0a1c-4d54-9d0f-2f1f0b6f9049"
    assert event.wamid == "gBEGkYiEB1VXAglK1ZEqA1YKPrX"
    assert event.error_message.startswith("This message was not delivered")
    assert event.destination == "918886919049"


def test_a_late_async_v2_failure_without_gsid_is_told_apart_by_its_wamid() -> None:
    # Events over a week late lose gsId; Gupshup ids are UUIDs, wamids are not.
    body = callback("v2-failed-async")
    del body["payload"]["gsId"]
    event = parse_callback(body)[0]
    assert (event.gs_id, event.wamid) == ("", "gBEGkYiEB1VXAglK1ZEqA1YKPrX")


def test_a_v2_failure_whose_gsid_equals_its_id_names_only_the_gupshup_id() -> None:
    body = callback("v2-failed")
    body["payload"]["gsId"] = body["payload"]["id"]
    event = parse_callback(body)[0]
    assert (event.gs_id, event.wamid) == ("5b6f9a0e-0a1c-4d54-9d0f-2f1f0b6f1002", "")


def test_a_v2_sent_event_has_the_wamid_as_id_and_the_gupshup_id_as_gsid() -> None:
    event = one("v2-sent")
    assert (event.type, event.gs_id, event.wamid) == ("sent", GS_ID, WAMID_V2)


def test_a_v2_sent_event_is_dated_by_whatsapps_inner_ts_not_the_envelope() -> None:
    event = one("v2-sent")
    assert event.timestamp == at(1763900002)


def test_a_v2_sent_event_keeps_its_conversation_and_pricing() -> None:
    event = one("v2-sent")
    assert event.conversation_id == "532b57b5f6e63595ccd74c6010e5c5c7"
    assert (event.pricing_model, event.pricing_category) == ("CBP", "marketing")
    assert event.billable is None  # v2 sent does not say; the billing-event does


def test_a_pmp_era_v2_sent_event_without_a_conversation_still_parses() -> None:
    event = one("v2-sent-pmp")
    assert (event.type, event.gs_id, event.wamid) == ("sent", GS_ID, WAMID_V2)
    assert (event.conversation_id, event.pricing_model) == ("", "PMP")
    assert (event.pricing_category, event.pricing_type) == ("marketing", "regular")
    assert event.timestamp == at(1763900002)


@pytest.mark.parametrize(
    ("name", "status", "seconds"),
    [
        ("v2-delivered", "delivered", 1763900005),
        ("v2-read", "read", 1763900059),
        ("v2-deleted", "deleted", 1763900400),
    ],
)
def test_v2_delivered_read_and_deleted_name_the_wamid_and_whatsapps_time(
    name: str, status: str, seconds: int
) -> None:
    event = one(name)
    assert (event.kind, event.type) == (EventKind.STATUS, status)
    assert (event.gs_id, event.wamid, event.destination) == (GS_ID, WAMID_V2, PHONE)
    assert event.timestamp == at(seconds)
    assert (event.error_code, event.error_message) == ("", "")


def test_a_late_v2_event_without_gsid_still_carries_the_wamid() -> None:
    event = one("v2-delivered-without-gsid")
    assert (event.type, event.gs_id, event.wamid) == ("delivered", "", WAMID_V2)
    assert event.timestamp == at(1764504805)


def test_a_v2_status_without_an_inner_ts_falls_back_to_payload_ts() -> None:
    body = callback("v2-delivered")
    body["payload"]["payload"] = {}
    body["payload"]["ts"] = 1763900004
    assert parse_callback(body)[0].timestamp == at(1763900004)


def test_a_v2_mismatch_event_is_kept_as_another_event_not_an_error() -> None:
    event = one("v2-mismatch")
    assert (event.kind, event.type) == (EventKind.OTHER, "mismatch")
    assert event.gs_id == "7c1d2e3f-4a5b-4c6d-8e9f-0a1b2c3d4e5f"
    assert event.destination == "5511987654321"


# --- v2, the other types -----------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "change"),
    [
        ("v2-user-event", "opted-out"),
        ("v2-user-event-opted-in", "opted-in"),
        ("v2-user-event-sandbox-start", "sandbox-start"),
    ],
)
def test_a_user_event_is_a_consent_change_for_a_phone(name: str, change: str) -> None:
    event = one(name)
    assert (event.kind, event.type) == (EventKind.USER, "user-event")
    assert (event.phone, event.subtype) == (PHONE, change)
    assert event.timestamp is not None


def test_an_inbound_text_names_its_sender_text_and_the_message_it_answers() -> None:
    event = one("v2-inbound-text")
    assert (event.kind, event.type, event.subtype) == (
        EventKind.INBOUND,
        "message",
        "text",
    )
    assert (event.phone, event.sender_name, event.text) == (PHONE, "Asha", "STOP")
    assert event.message_id == "ABEGkYiEB1VXAgo-sMx1DoUoQJRW"
    assert (event.context_wamid, event.context_gs_id) == (WAMID_V2, GS_ID)
    assert event.timestamp == at(1763900300.512)
    assert (event.gs_id, event.wamid) == ("", "")  # not a status to match a send by


@pytest.mark.parametrize(
    ("name", "subtype"),
    [
        ("v2-inbound-button-reply", "button_reply"),
        ("v2-inbound-quick-reply", "quick_reply"),
    ],
)
def test_an_inbound_button_reply_carries_the_buttons_text(
    name: str, subtype: str
) -> None:
    event = one(name)
    assert (event.kind, event.subtype, event.text) == (
        EventKind.INBOUND,
        subtype,
        "Stop promotions",
    )
    assert (event.phone, event.context_gs_id) == (PHONE, GS_ID)


def test_a_billing_event_says_what_the_send_cost_and_which_send_it_was() -> None:
    event = one("v2-billing-event")
    assert (event.kind, event.type) == (EventKind.BILLING, "billing-event")
    assert (event.gs_id, event.wamid, event.destination) == (GS_ID, WAMID_V2, PHONE)
    assert (event.billable, event.pricing_model) == (True, "PMP")
    assert (event.pricing_category, event.pricing_type) == ("marketing", "regular")


def test_a_billing_event_reads_billable_given_as_text() -> None:
    body = callback("v2-billing-event")
    body["payload"]["deductions"]["billable"] = "false"
    assert parse_callback(body)[0].billable is False


def test_an_older_template_event_is_a_template_status_change() -> None:
    event = one("v2-template-event")
    assert (event.kind, event.subtype) == (EventKind.TEMPLATE, "")
    assert event.template_id == TEMPLATE_ID
    assert (event.template_status, event.error_message) == (
        "REJECTED",
        "INVALID_FORMAT",
    )
    assert (event.template_name, event.template_language) == ("spring_sale_image", "en")


def test_a_template_status_update_keeps_the_pause_description() -> None:
    event = one("v2-template-event-status-update")
    assert (event.kind, event.type, event.subtype) == (
        EventKind.TEMPLATE,
        "template-event",
        "status-update",
    )
    assert (event.template_id, event.template_status) == (TEMPLATE_ID, "PAUSED")
    assert "paused for 3 hours until" in event.error_message


def test_a_template_category_update_has_the_new_and_old_category_and_no_status() -> (
    None
):
    event = one("v2-template-event-category-update")
    assert (event.kind, event.subtype) == (EventKind.TEMPLATE, "category-update")
    assert (event.template_category, event.template_old_category) == (
        "MARKETING",
        "UTILITY",
    )
    assert event.template_status == ""


def test_an_account_tier_event_has_the_old_and_new_limit() -> None:
    event = one("v2-account-event-tier")
    assert (event.kind, event.type, event.subtype) == (
        EventKind.ACCOUNT,
        "account-event",
        "tier-event",
    )
    assert (event.account_event, event.old_limit, event.current_limit) == (
        "upgrade",
        "TIER_1K",
        "TIER_10K",
    )


def test_an_unknown_v2_type_is_kept_as_another_event() -> None:
    event = parse_callback({"type": "system-event", "timestamp": 1763900000000})[0]
    assert (event.kind, event.type, event.timestamp) == (
        EventKind.OTHER,
        "system-event",
        at(1763900000),
    )


# --- v3 ----------------------------------------------------------------------------


def test_a_v3_enqueued_timestamp_in_milliseconds_is_read_as_such() -> None:
    event = one("v3-enqueued")
    assert (event.type, event.gs_id, event.wamid) == ("enqueued", GS_ID, WAMID_V3)
    assert event.timestamp == at(1763900000.456)


def test_a_v3_sent_status_keeps_its_pricing() -> None:
    event = one("v3-sent")
    assert (event.type, event.gs_id, event.wamid) == ("sent", GS_ID, WAMID_V3)
    assert (event.billable, event.pricing_model, event.pricing_category) == (
        True,
        "PMP",
        "marketing",
    )
    assert event.pricing_type == "regular"
    assert event.timestamp == at(1763900002)


def test_a_v3_delivered_status_names_the_recipient() -> None:
    event = one("v3-delivered")
    assert (event.type, event.destination) == ("delivered", PHONE)
    assert event.timestamp == at(1763900005)


def test_a_v3_read_timestamp_in_seconds_as_text_is_read_as_such() -> None:
    event = one("v3-read")
    assert event.type == "read"
    assert event.timestamp == at(1763900010)


def test_a_v3_failure_keeps_metas_code_and_title() -> None:
    event = one("v3-failed")
    assert (event.type, event.error_code) == ("failed", "131050")
    assert event.error_message.startswith("Unable to deliver the message")


def test_a_v3_passthrough_failure_has_its_code_and_reason_on_the_status() -> None:
    event = one("v3-failed-passthrough")
    assert (event.type, event.error_code) == ("failed", "131049")
    assert event.error_message.startswith("This message was not delivered")
    assert event.gs_id == "5b6f9a0e-0a1c-4d54-9d0f-2f1f0b6f9049"


def test_a_v3_inbound_message_names_its_sender_from_the_contacts() -> None:
    event = one("v3-inbound-text")
    assert (event.kind, event.subtype, event.text) == (
        EventKind.INBOUND,
        "text",
        "STOP",
    )
    assert (event.phone, event.sender_name) == (PHONE, "Asha")
    assert event.message_id.startswith("wamid.")
    assert event.context_wamid == WAMID_V3
    assert event.timestamp == at(1763900300)


def test_a_v3_change_of_another_field_is_kept_under_that_fields_name() -> None:
    event = one("v3-other-field")
    assert (event.kind, event.type) == (
        EventKind.OTHER,
        "message_template_status_update",
    )


def test_a_v3_status_word_we_do_not_know_is_another_event_not_an_error() -> None:
    body = callback("v3-read")
    body["entry"][0]["changes"][0]["value"]["statuses"][0]["status"] = "played"
    event = parse_callback(body)[0]
    assert (event.kind, event.type, event.wamid) == (
        EventKind.OTHER,
        "played",
        WAMID_V3,
    )


# --- what is not a callback --------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "said"),
    [
        ([], "expected a JSON object"),
        ({}, "neither a v2 'type' nor a v3 'entry'"),
        ({"type": "message-event", "payload": "x"}, "payload must be an object"),
        ({"type": "message-event", "payload": {"id": "1"}}, "without payload.type"),
        ({"type": "message-event", "payload": {"type": "sent"}}, "without payload.id"),
        ({"type": "template-event", "payload": {"status": "x"}}, "without payload.id"),
        ({"entry": "nope"}, "without an 'entry' list"),
        ({"entry": [{"changes": "x"}]}, "changes must be a list"),
        ({"entry": [{"changes": [{"value": {"statuses": [{}]}}]}]}, "'status' word"),
        (
            {"entry": [{"changes": [{"value": {"statuses": [{"status": "read"}]}}]}]},
            "id or gs_id",
        ),
        ({"entry": [{"changes": [{"value": {"messages": [{}]}}]}]}, "from or id"),
        ({"entry": []}, "no changes"),
    ],
)
def test_shapes_we_do_not_know_are_refused_with_the_reason(
    body: object, said: str
) -> None:
    with pytest.raises(EventParseError, match=said):
        parse_callback(body)


def test_every_recorded_payload_parses() -> None:
    assert len(FIXTURES) >= 29
    for name in FIXTURES:
        assert parse_callback(callback(name)), name


def _paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every key path inside a JSON value, containers included."""
    found: list[tuple[Any, ...]] = []
    items = value.items() if isinstance(value, dict) else enumerate(value)
    for key, child in items:
        found.append((*path, key))
        if isinstance(child, dict | list):
            found += _paths(child, (*path, key))
    return found


# Any JSON value, and a number too large for a date.
JSON_VALUES: st.SearchStrategy[Any] = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.just(10**400),
    st.text(max_size=8),
    st.just([]),
    st.just({}),
)


@st.composite
def damaged_fixtures(draw: st.DrawFn) -> Any:
    """A recorded payload with some of its fields dropped or given another type."""
    body = copy.deepcopy(callback(draw(st.sampled_from(FIXTURES))))
    for _ in range(draw(st.integers(1, 4))):
        paths = _paths(body) if isinstance(body, dict | list) else []
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        holder = body
        for key in path[:-1]:
            holder = holder[key]
        if draw(st.booleans()):
            del holder[path[-1]]
        else:
            holder[path[-1]] = draw(JSON_VALUES)
    return body


@settings(max_examples=400, deadline=None)
@given(damaged_fixtures())
def test_a_damaged_recorded_payload_parses_or_is_refused_never_crashes(
    body: Any,
) -> None:
    try:
        events = parse_callback(body)
    except EventParseError:
        return
    assert events and all(isinstance(e, DeliveryEvent) for e in events)


# --- the simulator's bodies --------------------------------------------------------


def sim_message(failure: str | None = None) -> SentMessage:
    return SentMessage(
        app=DEMO.capi_app,
        gs_id=GS_ID,
        wamid=WAMID_V3,
        destination=PHONE,
        wa_id=PHONE,
        failure=FAILURES[failure] if failure else None,
    )


@pytest.mark.parametrize("event", ["enqueued", "sent", "delivered", "read"])
def test_what_the_simulator_sends_parses_to_the_same_ids_in_both_formats(
    event: str,
) -> None:
    message = sim_message()
    v2 = parse_callback(v2_body(message, event, 1763900000.5, drop_gsid=False))[0]
    v3 = parse_callback(v3_body(message, event, 1763900000.5))[0]
    assert (v2.type, v2.gs_id, v2.wamid) == (v3.type, v3.gs_id, v3.wamid)
    assert (v2.type, v2.gs_id, v2.wamid) == (event, GS_ID, WAMID_V3)
    assert v2.timestamp is not None and v3.timestamp is not None
    assert abs((v2.timestamp - v3.timestamp).total_seconds()) < 1


@pytest.mark.parametrize("event", ["sent", "delivered", "read"])
def test_a_simulated_v2_dlr_is_dated_by_its_inner_ts_as_v3_is(event: str) -> None:
    message = sim_message()
    body = v2_body(message, event, 1763900000, drop_gsid=False)
    assert body["timestamp"] > 1763900000 * 1000  # Gupshup calls a little later
    v2 = parse_callback(body)[0]
    v3 = parse_callback(v3_body(message, event, 1763900000))[0]
    assert v2.timestamp == v3.timestamp == at(1763900000)


def test_a_simulated_synchronous_failure_names_only_the_gupshup_id() -> None:
    message = sim_message("1002")
    assert message.events() == ["failed"]
    event = parse_callback(v2_body(message, "failed", 1763900000, drop_gsid=False))[0]
    assert (event.gs_id, event.wamid, event.error_code) == (GS_ID, "", "1002")


def test_a_simulated_asynchronous_failure_names_both_ids_in_both_formats() -> None:
    message = sim_message("9049")
    assert message.events() == ["enqueued", "failed"]
    v2 = parse_callback(v2_body(message, "failed", 1763900000, drop_gsid=False))[0]
    v3 = parse_callback(v3_body(message, "failed", 1763900000))[0]
    assert (v2.gs_id, v2.wamid, v2.error_code) == (GS_ID, WAMID_V3, "131049")
    assert (v3.gs_id, v3.wamid, v3.error_code) == (GS_ID, WAMID_V3, "131049")
