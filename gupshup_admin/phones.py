"""Phone numbers: stored E.164 (`+919643874844`); the provider clients send them
digits-only (`providers.gupshup.digits`)."""

from __future__ import annotations

import re

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError


class InvalidPhoneNumber(ValueError):
    """The text is not a valid phone number; the message says why."""


def to_e164(raw: str, *, region: str | None = None) -> str:
    """Normalize a phone number to E.164.

    Numbers without a leading `+` are read in `region` (default: the
    PHONE_DEFAULT_REGION setting). Raises InvalidPhoneNumber.
    """
    text = (raw or "").strip()
    if not text:
        raise InvalidPhoneNumber("The phone number is empty.")
    region = region or settings.PHONE_DEFAULT_REGION
    try:
        number = phonenumbers.parse(text, None if text.startswith("+") else region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhoneNumber(f"{text!r} is not a phone number ({exc}).") from exc
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhoneNumber(
            f"{text!r} is not a valid number"
            + ("" if text.startswith("+") else f" in region {region}")
            + "; write it with its country code, e.g. +919643874844."
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def business_number_to_e164(raw: str) -> str:
    """A partner app's own (source) number, read like recipients' are: without a
    `+` in PHONE_DEFAULT_REGION. The Partner Portal shows numbers as country
    code and digits without `+` ("919643874844"): when that is not a number in
    the region, it is read with its country code.

    Raises InvalidPhoneNumber naming the region and the setting.
    """
    try:
        return to_e164(raw)
    except InvalidPhoneNumber:
        text = (raw or "").strip()
        if not text or text.startswith("+"):
            raise
    try:
        return to_e164(f"+{text}")
    except InvalidPhoneNumber:
        region = settings.PHONE_DEFAULT_REGION
        raise InvalidPhoneNumber(
            f"{text!r} is not a valid number in region {region} (the "
            "PHONE_DEFAULT_REGION setting), nor with a country code in front; "
            "write it with its country code, e.g. +919643874844."
        ) from None


_PHONE_LIKE = re.compile(r"\+?[\d\s().-]{6,20}")


def phone_search_e164(text: str) -> str:
    """The E.164 number a search term means, or "" when it is not one (then it
    is searched as text). Read as the source number is: in PHONE_DEFAULT_REGION,
    or with its country code."""
    text = (text or "").strip()
    if not _PHONE_LIKE.fullmatch(text):
        return ""
    try:
        return business_number_to_e164(text)
    except InvalidPhoneNumber:
        return ""


def validate_e164(value: str) -> None:
    """Model validator: the value must already be a valid E.164 number."""
    try:
        normalized = to_e164(value)
    except InvalidPhoneNumber as exc:
        raise ValidationError(str(exc)) from exc
    if normalized != value:
        raise ValidationError(f"Write the number in E.164 form: {normalized}.")
