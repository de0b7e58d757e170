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
    from gupshup_admin.models import CommBoxChannel, PartnerApp

    try:
        app = PartnerApp.objects.exclude(callback_secret_encrypted="").first()
        channel = CommBoxChannel.objects.exclude(api_key_encrypted="").first()
    except DatabaseError:
        return []  # tables not migrated yet: nothing stored to check
    try:
        if app is not None:
            crypto.decrypt(app.callback_secret_encrypted)
        if channel is not None:
            crypto.decrypt(channel.api_key_encrypted)
    except crypto.SecretDecryptionError as exc:
        return [Error(str(exc), id="gupshup_admin.E002")]
    return []


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
