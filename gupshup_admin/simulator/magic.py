"""Magic destination numbers: the last four digits choose what a send does.

One table, so docs/simulator.md, the handlers and the tests agree. Only the two
message endpoints (template/msg and v3/message) look at it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

INTERNAL_ERROR = (
    "Internal server error. Please try again later. If the issue still persists,"
    " then contact Gupshup Dev Support"
)

Kind = Literal["ok", "http", "hang", "drop", "fail"]


@dataclass(frozen=True)
class Failure:
    """How a message fails after being accepted, in both callback formats.

    `code` is what a v2 `failed` event carries (a Gupshup code, or Meta's own
    code where Gupshup passes it through); `meta_code` goes into v3 `errors`.
    A `synchronous` failure is Gupshup's own refusal before the message is
    enqueued (Gupshup codes): one `failed` event naming the Gupshup id. The others
    are WhatsApp's verdict (Meta codes): `enqueued`, then `failed` naming the
    wamid as `id` and the Gupshup id as `gsId` (API-NOTES, "Delivery callbacks").
    """

    code: int
    reason: str
    meta_code: int
    meta_title: str
    synchronous: bool = False


@dataclass(frozen=True)
class Outcome:
    """What the simulator does with one send."""

    kind: Kind
    status: int = 200
    message: str = ""
    failure: Failure | None = None
    # Fails only the first send to a number; later ones are delivered.
    first_send_only: bool = False


def _gupshup(code: int, reason: str, meta_code: int, meta_title: str) -> Failure:
    """A refusal by Gupshup itself, before the message is enqueued."""
    return Failure(code, reason, meta_code, meta_title, synchronous=True)


def _whatsapp(code: int, reason: str, title: str = "") -> Failure:
    """WhatsApp's verdict after `enqueued`: Gupshup passes Meta's code through."""
    return Failure(code, reason, code, title or reason)


FAILURES: dict[str, Failure] = {
    # Synchronous: Gupshup's own codes.
    "1002": _gupshup(
        1002, "Number Does Not Exists On WhatsApp", 131026, "Message undeliverable"
    ),
    "1003": _gupshup(
        1003,
        "Wallet balance is low. Please recharge your wallet.",
        131042,
        "Business eligibility payment issue",
    ),
    "1010": _gupshup(1010, "Invalid media URL(s)", 131052, "Media download error"),
    "1011": _gupshup(
        1011, "Media size exceeds the allowed limit", 131053, "Media upload error"
    ),
    "1012": _gupshup(
        1012,
        "User has opted out of receiving messages from this business",
        131050,
        "Unable to deliver the message. This recipient has chosen to stop "
        "receiving marketing messages on WhatsApp from your business",
    ),
    "4001": _gupshup(4001, "Rate limit exceeded for the app", 130429, "Rate limit hit"),
    "4003": _gupshup(
        4003,
        "Template Not Found / Template does not match the message",
        132001,
        "Template name does not exist in the translation",
    ),
    "4004": _gupshup(
        4004,
        "This feature is only available for CAPI apps",
        131009,
        "Parameter value is not valid",
    ),
    "4005": _gupshup(4005, "Template is paused", 132015, "Template is Paused"),
    # Asynchronous: WhatsApp's (Meta's) codes; the last four digits are the code's.
    "1026": _whatsapp(131026, "Message Undeliverable.", "Message undeliverable"),
    "1050": _whatsapp(
        131050,
        "Unable to deliver the message. This recipient has chosen to stop "
        "receiving marketing messages on WhatsApp from your business",
    ),
    "6056": _whatsapp(
        131056, "(Business Account, Consumer Account) pair rate limit hit"
    ),
    "9049": _whatsapp(
        131049,
        "This message was not delivered to maintain healthy ecosystem engagement.",
    ),
    "1047": _whatsapp(
        131047,
        "Message failed to send because more than 24 hours have passed since "
        "the customer last replied to this number.",
        "Re-engagement message",
    ),
    "1053": _whatsapp(
        131053,
        "Media upload error: the media could not be uploaded to WhatsApp.",
        "Media upload error",
    ),
}

# Held back on the first send to a number, delivered when sent again: 131049
# is WhatsApp's per-user marketing limit, which lifts after a while (retried a
# day later, many of these arrive).
HELD_BACK_ONCE = "1049"

_HTTP: dict[str, Outcome] = {
    "0429": Outcome("http", 429, "Too Many Requests"),
    "0500": Outcome("http", 500, INTERNAL_ERROR),
    "0401": Outcome("http", 401, "Authentication Failed"),
}


def classify(destination: str) -> Outcome:
    """The outcome a destination's last four digits ask for."""
    last4 = destination[-4:]
    if last4 in _HTTP:
        return _HTTP[last4]
    if last4 == "0408":
        return Outcome("hang")
    if last4 == "0502":
        return Outcome("drop")
    if last4 == HELD_BACK_ONCE:
        return Outcome("fail", failure=FAILURES["9049"], first_send_only=True)
    failure = FAILURES.get(last4)
    if failure is not None:
        return Outcome("fail", failure=failure)
    return Outcome("ok")
