"""Secrets out of everything an exchange records: the one masking rule for hints,
known secrets replaced, and anything shaped like a Gupshup token or a JWT masked
even when the caller forgot to name it."""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any

from gupshup_admin.providers.errors import ProviderError

MASKED = "********"
SECRET_HEADERS = frozenset({"authorization", "token", "apikey", "api_key", "x-api-key"})
SECRET_FIELDS = frozenset(
    {
        "password",
        "secret",
        "token",
        "api_key",
        "apikey",
        "client_secret",
        "clientsecret",
    }
)
# Defence in depth: shapes of Gupshup app tokens and JWTs are masked even when the
# caller forgot to name them (e.g. the token endpoint's own response).
_SECRET_PATTERNS = (
    re.compile(r"sk_[A-Za-z0-9]{6,}"),
    re.compile(r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*"),
)
# The app's callback secret rides in its callback URL
# (/webhooks/gupshup/<app>/<secret>/), which the subscription call sends and
# Gupshup echoes back.
_CALLBACK_URL_SECRET = re.compile(r"(/webhooks/gupshup/\d+/)[^/\s?#'\"<>&\\]+")


def mask_value(secret: str) -> str:
    """`sk_…9f2c`-style display of a secret; short ones are fully masked, and
    nothing shows as nothing. The one masking rule for hints and exchange rows."""
    if not secret:
        return ""
    if len(secret) < 12:
        return MASKED
    prefix = "sk_" if secret.startswith("sk_") else ""
    return f"{prefix}…{secret[-4:]}"


# What each pattern above starts with: text without any of these needs none of
# them run (a send's request has a dozen short values, each redacted).
_PATTERN_MARKS = ("sk_", "eyJ", "/webhooks/gupshup/")


def redact(text: str, secrets: Iterable[str]) -> str:
    """Replace every known secret, and anything shaped like a token, in text."""
    for secret in sorted({s for s in secrets if s}, key=len, reverse=True):
        text = text.replace(secret, mask_value(secret))
    if not any(mark in text for mark in _PATTERN_MARKS):
        return text
    for pattern in _SECRET_PATTERNS:
        text = pattern.sub(lambda m: mask_value(m.group(0)), text)
    return _CALLBACK_URL_SECRET.sub(rf"\g<1>{MASKED}", text)


def redact_mapping(values: Mapping[str, Any], secrets: Iterable[str]) -> dict[str, Any]:
    """Mask secret-named keys and redact secrets inside the values."""
    secrets = list(secrets)
    cleaned: dict[str, Any] = {}
    for key, value in values.items():
        if key.lower() in SECRET_FIELDS | SECRET_HEADERS:
            cleaned[key] = mask_value(str(value)) if value else ""
        elif isinstance(value, Mapping):
            cleaned[key] = redact_mapping(value, secrets)
        elif isinstance(value, str):
            cleaned[key] = redact(value, secrets)
        else:
            cleaned[key] = json.loads(redact(json.dumps(value, default=str), secrets))
    return cleaned


def redact_json_keys(text: str, keys: Collection[str]) -> str:
    """JSON `text` with the string values under `keys` masked at any depth (for
    answers that hand out a new secret); any other text as it is."""
    if not keys:
        return text
    try:
        data = json.loads(text)
    except ValueError:
        return text
    return json.dumps(_mask_keys(data, keys), ensure_ascii=False)


def _mask_keys(value: Any, keys: Collection[str]) -> Any:
    if isinstance(value, dict):
        return {
            k: mask_value(v)
            if k in keys and isinstance(v, str)
            else _mask_keys(v, keys)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_mask_keys(item, keys) for item in value]
    return value


def redact_error(exc: ProviderError, secrets: Sequence[str]) -> None:
    """A provider may echo what it was sent: never let a secret into a message."""
    exc.message = redact(exc.message, secrets)
    exc.provider_message = redact(exc.provider_message, secrets)
    exc.args = (exc.message,)
