"""Secrets at rest (MultiFernet, key rotation) and the start-up system checks."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from cryptography.fernet import Fernet
from django.core.checks import CheckMessage
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from gupshup_admin import crypto
from gupshup_admin.checks import check_encryption_keys, check_provider_urls
from gupshup_admin.crypto import SecretDecryptionError
from gupshup_admin.models import CommBoxChannel, PartnerApp, TokenSource
from tests.conftest import APP_ID, APP_TOKEN, COMMBOX_KEY, PARTNER_SECRET

KEY_A = Fernet.generate_key().decode()
KEY_B = Fernet.generate_key().decode()


def keys(*values: str) -> override_settings:
    return override_settings(SECRETS_ENCRYPTION_KEYS=list(values))


def error_ids(messages: Sequence[CheckMessage]) -> list[str]:
    return [str(message.id) for message in messages]


# --- encryption at rest -----------------------------------------------------------


def test_a_secret_is_encrypted_and_decrypts_back() -> None:
    ciphertext = crypto.encrypt(APP_TOKEN)

    assert ciphertext != APP_TOKEN
    assert "711916ad" not in ciphertext
    assert crypto.decrypt(ciphertext) == APP_TOKEN
    assert crypto.encrypt(APP_TOKEN) != ciphertext  # fresh IV every time


def test_an_empty_secret_stays_empty() -> None:
    assert crypto.encrypt("") == ""
    assert crypto.decrypt("") == ""


def test_every_secret_of_an_app_and_a_channel_is_stored_as_ciphertext(
    partner_app_with_credentials: PartnerApp, channel: CommBoxChannel
) -> None:
    app = PartnerApp.objects.values().get(pk=partner_app_with_credentials.pk)
    stored_channel = CommBoxChannel.objects.values().get(pk=channel.pk)
    everything = str(app) + str(stored_channel)

    assert APP_TOKEN not in everything
    assert PARTNER_SECRET not in everything
    assert COMMBOX_KEY not in everything
    assert partner_app_with_credentials.callback_secret not in everything
    assert crypto.decrypt(app["app_token_encrypted"]) == APP_TOKEN
    assert crypto.decrypt(app["partner_secret_encrypted"]) == PARTNER_SECRET
    assert crypto.decrypt(stored_channel["api_key_encrypted"]) == COMMBOX_KEY


def test_a_secret_under_the_old_key_decrypts_when_the_old_key_follows_the_new() -> None:
    with keys(KEY_A):
        ciphertext = crypto.encrypt(APP_TOKEN)

    with keys(KEY_B, KEY_A):
        assert crypto.decrypt(ciphertext) == APP_TOKEN


def test_new_secrets_are_encrypted_under_the_first_key() -> None:
    with keys(KEY_B, KEY_A):
        ciphertext = crypto.encrypt(APP_TOKEN)

    with keys(KEY_B):
        assert crypto.decrypt(ciphertext) == APP_TOKEN


def test_rotate_re_encrypts_under_the_first_key_so_the_old_key_can_go() -> None:
    with keys(KEY_A):
        old = crypto.encrypt(APP_TOKEN)

    with keys(KEY_B, KEY_A):
        rotated = crypto.rotate(old)

    with keys(KEY_B):
        assert crypto.decrypt(rotated) == APP_TOKEN
    with keys(KEY_A), pytest.raises(SecretDecryptionError):
        crypto.decrypt(rotated)


def test_decrypting_with_only_a_wrong_key_names_the_setting() -> None:
    with keys(KEY_A):
        ciphertext = crypto.encrypt(APP_TOKEN)

    with keys(KEY_B), pytest.raises(SecretDecryptionError) as caught:
        crypto.decrypt(ciphertext)

    assert "SECRETS_ENCRYPTION_KEYS" in str(caught.value)
    assert isinstance(caught.value, ImproperlyConfigured)
    assert KEY_B not in str(caught.value)


def test_rotating_a_secret_no_key_fits_names_the_setting() -> None:
    with keys(KEY_A):
        ciphertext = crypto.encrypt(APP_TOKEN)

    with (
        keys(KEY_B),
        pytest.raises(SecretDecryptionError, match="SECRETS_ENCRYPTION_KEYS"),
    ):
        crypto.rotate(ciphertext)


def test_an_app_token_reads_back_after_a_key_rotation(db: None) -> None:
    with keys(KEY_A):
        app = PartnerApp(
            name="Rotated shop",
            app_id=APP_ID,
            app_name="rotated",
            source_number="+919643874844",
        )
        app.set_app_token(APP_TOKEN, source=TokenSource.PASTED)
        app.save()

    with keys(KEY_B, KEY_A):
        stored = PartnerApp.objects.get(pk=app.pk)
        stored.app_token_encrypted = crypto.rotate(stored.app_token_encrypted)
        stored.save()

    with keys(KEY_B):
        assert PartnerApp.objects.get(pk=app.pk).app_token == APP_TOKEN


# --- system checks -----------------------------------------------------------------


@pytest.mark.parametrize("configured", [[], [""], ["  "]])
def test_no_encryption_key_fails_the_check_with_e001(configured: list[str]) -> None:
    with override_settings(SECRETS_ENCRYPTION_KEYS=configured):
        messages = check_encryption_keys()

    assert error_ids(messages) == ["gupshup_admin.E001"]
    assert "SECRETS_ENCRYPTION_KEYS is empty" in str(messages[0])


def test_a_malformed_key_fails_the_check_without_showing_the_key(db: None) -> None:
    malformed = "not-a-fernet-key-but-a-secret-2f9a"
    with keys(KEY_A, malformed):
        messages = check_encryption_keys()

    assert error_ids(messages) == ["gupshup_admin.E001"]
    text = str(messages[0])
    assert "key #2" in text
    assert "SECRETS_ENCRYPTION_KEYS" in text
    assert malformed not in text
    assert "2f9a" not in text


def test_valid_keys_that_decrypt_the_stored_secrets_pass_the_check(
    partner_app: PartnerApp, channel: CommBoxChannel
) -> None:
    assert check_encryption_keys() == []


def test_a_stored_app_secret_the_keys_cannot_decrypt_fails_the_check_with_e002(
    db: None,
) -> None:
    with keys(KEY_A):
        PartnerApp.objects.create(
            name="Old key shop",
            app_id=APP_ID,
            app_name="oldkey",
            source_number="+919643874844",
        )

    with keys(KEY_B):
        messages = check_encryption_keys()
    with keys(KEY_B, KEY_A):
        after_adding_the_old_key_back = check_encryption_keys()

    assert error_ids(messages) == ["gupshup_admin.E002"]
    assert "SECRETS_ENCRYPTION_KEYS" in str(messages[0])
    assert after_adding_the_old_key_back == []


def test_a_stored_commbox_key_the_keys_cannot_decrypt_fails_the_check_with_e002(
    db: None,
) -> None:
    with keys(KEY_A):
        channel = CommBoxChannel(name="Old key channel", stream_id="stream-0001")
        channel.set_api_key(COMMBOX_KEY)
        channel.save()

    with keys(KEY_B):
        assert error_ids(check_encryption_keys()) == ["gupshup_admin.E002"]


@pytest.mark.parametrize("setting", ["GUPSHUP_API_BASE", "COMMBOX_API_BASE"])
def test_a_provider_base_url_without_a_scheme_fails_the_check_with_e003(
    setting: str,
) -> None:
    with override_settings(**{setting: "partner.gupshup.io"}):
        messages = check_provider_urls()

    assert error_ids(messages) == ["gupshup_admin.E003"]
    assert setting in str(messages[0])
