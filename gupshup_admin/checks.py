"""System checks: a missing or wrong encryption key fails loudly at start-up."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, register
from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError

from gupshup_admin import crypto


@register()
def check_encryption_keys(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """The keys parse, and (once the tables exist) decrypt a stored secret."""
    try:
        crypto.load_keys(settings.SECRETS_ENCRYPTION_KEYS)
    except ImproperlyConfigured as exc:
        return [Error(str(exc), id="gupshup_admin.E001")]
    return _check_stored_secret()


def _check_stored_secret() -> list[CheckMessage]:
    """One stored value of every `…_encrypted` field must decrypt."""
    try:
        for model, names in crypto.encrypted_fields():
            for name in names:
                row = (
                    model._default_manager.exclude(**{name: ""})
                    .values_list("pk", name)
                    .first()
                )
                if row is not None:
                    _decrypts(row[1], f"{model._meta.label} pk={row[0]} field {name}")
    except DatabaseError:
        return []  # tables not migrated yet: nothing stored to check
    except crypto.SecretDecryptionError as exc:
        return [Error(str(exc), id="gupshup_admin.E002")]
    return []


def _decrypts(ciphertext: str, where: str) -> None:
    try:
        crypto.decrypt(ciphertext)
    except crypto.SecretDecryptionError as exc:
        raise crypto.SecretDecryptionError(f"{exc} (first found: {where})") from exc


@register()
def check_provider_urls(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    errors: list[CheckMessage] = []
    for name in ("GUPSHUP_API_BASE", "COMMBOX_API_BASE"):
        value = getattr(settings, name)
        if not value.startswith(("http://", "https://")):
            errors.append(
                Error(
                    f"{name}={value!r} must start with http:// or https://",
                    id="gupshup_admin.E003",
                )
            )
    return errors
