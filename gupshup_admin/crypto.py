"""Secrets at rest: MultiFernet over the keys in SECRETS_ENCRYPTION_KEYS.

The first key encrypts; every key decrypts, so a new key can be put in front and
old ciphertexts re-encrypted later (`manage.py rotate_keys`).

Which columns hold secrets is a naming rule: every concrete model field whose name
ends in `_encrypted` holds a Fernet ciphertext (or ""), and `encrypted_fields()`
finds them all, so rotation and the start-up check need no list to keep in step.
"""

from __future__ import annotations

from collections.abc import Iterable

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.apps import apps
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models

SETTING = "SECRETS_ENCRYPTION_KEYS"
ENCRYPTED_SUFFIX = "_encrypted"


class SecretDecryptionError(ImproperlyConfigured):
    """A stored secret cannot be decrypted with the configured keys."""


def load_keys(raw_keys: Iterable[str]) -> MultiFernet:
    """Build the MultiFernet.

    Raises ImproperlyConfigured naming the setting when no key is set or one is
    not a valid Fernet key (the message never contains the key itself).
    """
    keys = [key.strip() for key in raw_keys if key.strip()]
    if not keys:
        raise ImproperlyConfigured(
            f'{SETTING} is empty. Generate a key with `python -c "from '
            'cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"`'
            f" and set {SETTING} to it."
        )
    fernets = []
    for position, key in enumerate(keys, start=1):
        try:
            fernets.append(Fernet(key.encode()))
        except (ValueError, TypeError) as exc:
            raise ImproperlyConfigured(
                f"{SETTING}: key #{position} is not a valid Fernet key "
                "(32 url-safe base64-encoded bytes)."
            ) from exc
    return MultiFernet(fernets)


def _fernet() -> MultiFernet:
    return load_keys(settings.SECRETS_ENCRYPTION_KEYS)


def encrypt(plaintext: str) -> str:
    """Encrypt a secret for storage; the empty string stays empty."""
    if not plaintext:
        return ""
    return _fernet().encrypt(plaintext.encode()).decode()


def decrypt(ciphertext: str) -> str:
    """Decrypt a stored secret.

    Raises SecretDecryptionError when none of the configured keys fits.
    """
    if not ciphertext:
        return ""
    try:
        return _fernet().decrypt(ciphertext.encode()).decode()
    except InvalidToken as exc:
        raise SecretDecryptionError(
            f"A stored secret cannot be decrypted with {SETTING}: the key that "
            f"encrypted it is missing. Put the old key back into {SETTING} "
            "(after the new one) and run `manage.py rotate_keys`."
        ) from exc


def rotate(ciphertext: str) -> str:
    """Re-encrypt a stored secret under the first key."""
    if not ciphertext:
        return ""
    try:
        return _fernet().rotate(ciphertext.encode()).decode()
    except InvalidToken as exc:
        raise SecretDecryptionError(
            f"A stored secret cannot be decrypted with {SETTING}."
        ) from exc


def encrypted_fields() -> list[tuple[type[models.Model], list[str]]]:
    """Every installed model with the names of its `…_encrypted` fields."""
    found = []
    for model in apps.get_models():
        names = [
            field.name
            for field in model._meta.concrete_fields
            if field.name.endswith(ENCRYPTED_SUFFIX)
        ]
        if names:
            found.append((model, names))
    return found
