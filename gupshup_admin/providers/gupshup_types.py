"""Gupshup answers as typed objects, and the strict parsers that build them.

Each parser takes the decoded JSON body and raises BadResponseError when it is
not the documented shape (the sample JSON in the contracts has typos: we accept
what real answers carry, no more).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from typing import Any, NoReturn

from gupshup_admin.providers.errors import BadResponseError
from gupshup_admin.providers.parsing import (
    jwt_claims,
    optional,
    require,
    require_success_status,
)

_SLOT = re.compile(r"\{\{\s*(\d+)\s*\}\}")
_MEDIA_HEADERS = {"IMAGE", "VIDEO", "DOCUMENT", "LOCATION"}


def count_slots(text: str) -> int:
    """The number of `{{n}}` parameters a template body needs (its highest n)."""
    return max((int(n) for n in _SLOT.findall(text or "")), default=0)


def raise_bad(where: str, what: str) -> NoReturn:
    raise BadResponseError(f"{where}: {what}.")


@dataclass(frozen=True)
class PartnerLogin:
    token: str = field(repr=False)  # kept out of error reports


@dataclass(frozen=True)
class AppToken:
    token: str = field(repr=False)
    active: bool = True
    expires_on: int = 0  # epoch ms; 0 = does not expire


@dataclass(frozen=True)
class MediaId:
    media_id: str
    exchange_id: int | None = None


@dataclass(frozen=True)
class SubmittedMessage:
    """template/msg accepted the message (not yet delivered: callbacks tell)."""

    message_id: str
    exchange_id: int | None = None


@dataclass(frozen=True)
class V3Message:
    message_id: str
    input: str
    wa_id: str
    exchange_id: int | None = None


@dataclass(frozen=True)
class TemplateInfo:
    gupshup_id: str
    element_name: str
    language_code: str
    category: str
    template_type: str
    status: str
    body: str
    slot_count: int
    header_type: str
    container_meta: dict[str, Any]
    reason: str


@dataclass(frozen=True)
class Health:
    healthy: bool


@dataclass(frozen=True)
class WabaInfo:
    """What WhatsApp says of the app's number and account (GET /waba/info).

    The words are WhatsApp's, upper-cased: `can_send_message` AVAILABLE |
    LIMITED | BLOCKED, `messaging_limit` TIER_50 … TIER_UNLIMITED | TIER_NOT_SET,
    `phone_quality` GREEN | YELLOW | RED | UNKNOWN, `throughput` a word (HIGH |
    STANDARD | NOT_APPLICABLE), never a number. "" when the answer lacks one.
    """

    can_send_message: str
    messaging_limit: str
    phone_quality: str
    throughput: str = ""
    account_status: str = ""
    verified_name: str = ""
    waba_id: str = ""
    mm_lite_status: str = ""
    errors: tuple[str, ...] = ()  # WhatsApp's own words, one per error
    additional_info: tuple[str, ...] = ()
    raw: dict[str, Any] = field(default_factory=dict)


# How many people a number may start conversations with per moving 24 hours,
# by WhatsApp's messaging tier (None: no limit, or not known).
TIER_DAILY_LIMITS: dict[str, int | None] = {
    "TIER_50": 50,
    "TIER_250": 250,
    "TIER_1K": 1_000,
    "TIER_2K": 2_000,
    "TIER_10K": 10_000,
    "TIER_100K": 100_000,
    "TIER_UNLIMITED": None,
}


@dataclass(frozen=True)
class WalletBalance:
    current_balance: float
    currency: str


@dataclass(frozen=True)
class Subscription:
    subscription_id: str
    url: str
    raw: dict[str, Any] = field(default_factory=dict)


def parse_login(body: Any) -> PartnerLogin:
    return PartnerLogin(require(body, "token", str, where="partner login"))


def parse_app_token(body: Any) -> AppToken:
    where = "app token"
    require_success_status(body, where=where)
    token = require(body, "token", dict, where=where)
    return AppToken(
        token=require(token, "token", str, where=where),
        active=bool(token.get("active", True)),
        expires_on=optional(token, "expiresOn", int, 0),
    )


def parse_media_id(body: Any) -> MediaId:
    require_success_status(body, where="media id")
    media_id = body.get("mediaId")
    if isinstance(media_id, int):
        media_id = str(media_id)
    return MediaId(require({"mediaId": media_id}, "mediaId", str, where="media id"))


def parse_submitted(body: Any) -> SubmittedMessage:
    where = "template message"
    status = require(body, "status", str, where=where)
    if status.lower() not in ("submitted", "success"):
        raise_bad(where, f"status is {status!r}, not 'submitted'")
    return SubmittedMessage(require(body, "messageId", str, where=where))


def parse_v3_message(body: Any) -> V3Message:
    where = "v3 message"
    messages = require(body, "messages", list, where=where)
    if not messages:
        raise_bad(where, "'messages' is empty")
    message_id = require(messages[0], "id", str, where=where)
    contacts = optional(body, "contacts", list, [])
    contact = contacts[0] if contacts and isinstance(contacts[0], dict) else {}
    return V3Message(
        message_id=message_id,
        input=str(contact.get("input", "")),
        wa_id=str(contact.get("wa_id", "")),
    )


def parse_templates(body: Any) -> list[TemplateInfo]:
    require_success_status(body, where="templates")
    items = require(body, "templates", list, where="templates")
    return [_template(item) for item in items]


def _template(item: Any) -> TemplateInfo:
    where = "templates"
    meta_text = item.get("containerMeta") if isinstance(item, dict) else None
    try:
        meta = json.loads(meta_text) if isinstance(meta_text, str) and meta_text else {}
    except ValueError:
        meta = {}
    meta = meta if isinstance(meta, dict) else {}
    body = str(item.get("data") or meta.get("data") or "")
    template_type = str(item.get("templateType", "")).upper()
    if template_type in _MEDIA_HEADERS:
        header_type = template_type
    else:
        header_type = "TEXT" if meta.get("header") else ""
    return TemplateInfo(
        gupshup_id=require(item, "id", str, where=where),
        element_name=require(item, "elementName", str, where=where),
        language_code=str(item.get("languageCode", "")),
        category=str(item.get("category", "")),
        template_type=template_type,
        status=str(item.get("status", "")).upper(),
        body=body,
        slot_count=count_slots(body),
        header_type=header_type,
        container_meta=meta,
        reason=str(item.get("reason") or ""),
    )


def parse_health(body: Any) -> Health:
    """`healthy` comes as the string "true"."""
    require_success_status(body, where="health")
    return Health(healthy=str(body.get("healthy")).lower() == "true")


def parse_waba_info(body: Any) -> WabaInfo:
    """The `wabaInfo` object; its fields are informational, so a missing or odd
    one is "" rather than an error. Raises BadResponseError without the object."""
    require_success_status(body, where="WABA info")
    info = require(body, "wabaInfo", dict, where="WABA info")
    return WabaInfo(
        can_send_message=_word(info.get("canSendMessage")),
        messaging_limit=_word(info.get("messagingLimit")),
        phone_quality=_word(info.get("phoneQuality")),
        throughput=_word(info.get("throughput")),
        account_status=_word(info.get("accountStatus")),
        verified_name=_text(info.get("verifiedName")),
        waba_id=_text(info.get("wabaId")),
        mm_lite_status=_word(info.get("mmLiteStatus")),
        errors=_said(info.get("errors")),
        additional_info=_said(info.get("additionalInfo")),
        raw=info,
    )


def _text(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int):
        return ""
    return str(value).strip()


def _word(value: Any) -> str:
    """An enum word such as STANDARD; Meta's `{"level": "STANDARD"}` reads the
    same. Anything else (a number, a list) is not one: ""."""
    if isinstance(value, dict):
        value = value.get("level")
    return value.strip().upper() if isinstance(value, str) else ""


def _said(items: Any) -> tuple[str, ...]:
    """Error or info entries as text: strings as they are, Meta's objects as
    their description, solution and code."""
    if not isinstance(items, list):
        return ()
    texts = []
    for item in items:
        if isinstance(item, dict):
            words = [
                _text(item.get(key))
                for key in ("error_description", "message", "possible_solution")
            ]
            code = _text(item.get("error_code") or item.get("code"))
            text = " ".join(w for w in words if w) + (f" ({code})" if code else "")
        else:
            text = _text(item)
        if text.strip():
            texts.append(text.strip())
    return tuple(texts)


def parse_wallet_balance(body: Any) -> WalletBalance:
    """`walletResponse.currentBalance` and `currency`; older docs show the answer
    without a `status` field, so one is checked only when it is there."""
    where = "wallet balance"
    if isinstance(body, dict) and "status" in body:
        require_success_status(body, where=where)
    wallet = require(body, "walletResponse", dict, where=where)
    return WalletBalance(
        current_balance=_amount(wallet.get("currentBalance"), where=where),
        currency=str(wallet.get("currency") or ""),
    )


def _amount(value: Any, *, where: str) -> float:
    """A number, or a number written as text ("41.25"). Raises BadResponseError."""
    amount: float | None = None
    if isinstance(value, str):
        try:
            amount = float(value.strip())
        except ValueError:
            amount = None
    elif isinstance(value, int | float) and not isinstance(value, bool):
        amount = float(value)
    if amount is not None and math.isfinite(amount):
        return amount
    raise_bad(where, f"'currentBalance' is not a number ({value!r:.40})")


def parse_subscription(body: Any) -> Subscription:
    require_success_status(body, where="subscription")
    sub = require(body, "subscription", dict, where="subscription")
    return Subscription(
        subscription_id=str(sub.get("id", "")), url=str(sub.get("url", "")), raw=sub
    )


@dataclass(frozen=True)
class MintedToken:
    """A Universal (App) Token just minted: Gupshup shows its value only once."""

    token: str = field(repr=False)
    expires_on: int = 0  # epoch ms; 0 = neither the answer nor the token says
    name: str = ""


# Gupshup's token list calls the expiry `expiredOn`; other spellings are read too.
_EXPIRY_KEYS = ("expiredOn", "expiresOn", "expiresAt", "expiry")


def parse_minted_token(body: Any) -> MintedToken:
    """The answer of a Universal (App) Token mint.

    Gupshup documents the mint endpoints but not this body, so the value is read
    flat (`"token": "eyJ…"`) or nested as the app-token endpoint nests it
    (`"token": {"token": …, "expiredOn": …}`), and the expiry from the fields of
    Gupshup's token list, else from the JWT's `exp` claim. Raises BadResponseError.
    """
    where = "token mint"
    if not isinstance(body, dict):
        raise_bad(where, "the answer is not a JSON object")
    status = body.get("status")
    if isinstance(status, str) and status.lower() != "success":
        raise_bad(where, f"status is {status!r}, not 'success'")
    nested = body.get("token")
    record: dict[str, Any] = nested if isinstance(nested, dict) else body
    token = require(record, "token", str, where=where)
    expires_on = next(
        (
            _epoch_ms(value)
            for key in _EXPIRY_KEYS
            for value in (record.get(key), body.get(key))
            if _epoch_ms(value)
        ),
        0,
    )
    if not expires_on:
        exp = jwt_claims(token).get("exp")
        expires_on = _epoch_ms(exp)
    return MintedToken(token, expires_on, str(record.get("name") or ""))


def _epoch_ms(value: Any) -> int:
    """Epoch milliseconds from a number or digit string (seconds are scaled); 0
    for anything else."""
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        return 0
    # 10^11 ms is 1973; 10^11 s is the year 5138: below it, a value is seconds.
    return int(value * 1000) if value < 100_000_000_000 else int(value)
