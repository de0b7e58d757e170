"""Strict readers for provider JSON: a missing or mistyped field is BadResponseError."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any, TypeVar

from gupshup_admin.providers.errors import BadResponseError

T = TypeVar("T")


def require(body: Any, key: str, kind: type[T], *, where: str) -> T:
    """body[key], which must exist and be of `kind`. Raises BadResponseError."""
    if not isinstance(body, dict):
        raise BadResponseError(
            f"{where}: expected a JSON object, got {type(body).__name__}."
        )
    value = body.get(key)
    if not isinstance(value, kind) or value == "":
        raise BadResponseError(
            f"{where}: the answer has no valid {key!r} "
            f"(expected {kind.__name__}, got {value!r:.80})."
        )
    return value


def optional(body: dict[str, Any], key: str, kind: type[T], default: T) -> T:
    """body[key] when it is of `kind`, else the default (for informational fields)."""
    value = body.get(key)
    return value if isinstance(value, kind) else default


def require_success_status(body: Any, *, where: str) -> None:
    """Gupshup's `"status": "success"` envelope. Raises BadResponseError."""
    status = require(body, "status", str, where=where)
    if status.lower() != "success":
        raise BadResponseError(f"{where}: status is {status!r}, not 'success'.")


def jwt_claims(token: str) -> dict[str, Any]:
    """The claims of a JWT, read without checking its signature (only to learn
    when it expires); {} when `token` is not a readable JWT."""
    parts = token.split(".")
    if len(parts) != 3:
        return {}
    payload = parts[1] + "=" * (-len(parts[1]) % 4)
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload))
    except (binascii.Error, ValueError):
        return {}
    return claims if isinstance(claims, dict) else {}
