"""`manage.py rotate_keys`: every stored secret moves to the first key, or none."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings
from django.utils import timezone

from gupshup_admin import crypto
from gupshup_admin.checks import check_encryption_keys
from gupshup_admin.models import CommBoxChannel, PartnerApp, TokenSource
from tests.conftest import APP_ID, APP_TOKEN, COMMBOX_KEY, PARTNER_SECRET

OLD, NEW, LOST = (Fernet.generate_key().decode() for _ in range(3))
PARTNER_JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJwYXJ0bmVyIn0.c2lnbmF0dXJlLXJvdGF0ZQ"


def keys(*values: str) -> override_settings:
    return override_settings(SECRETS_ENCRYPTION_KEYS=list(values))


def rotate(*args: str) -> str:
    out = io.StringIO()
    call_command("rotate_keys", *args, stdout=out)
    return out.getvalue()


def make_app(name: str, app_id: str = APP_ID) -> PartnerApp:
    app = PartnerApp(
        name=name,
        app_id=app_id,
        app_name=name.lower().replace(" ", ""),
        source_number="+919643874844",
        partner_email="partner@example.com",
    )
    app.set_app_token(APP_TOKEN, source=TokenSource.PASTED)
    app.set_partner_secret(PARTNER_SECRET)
    app.set_partner_token(PARTNER_JWT, expires_at=timezone.now() + timedelta(hours=1))
    app.save()
    return app


def make_channel() -> CommBoxChannel:
    channel = CommBoxChannel(name="Main CommBox", stream_id="Zx81-stream_ID=")
    channel.set_api_key(COMMBOX_KEY)
    channel.save()
    return channel


def stored(model: type[PartnerApp] | type[CommBoxChannel]) -> list[tuple[object, ...]]:
    names = dict(crypto.encrypted_fields())[model]
    return list(model.objects.order_by("pk").values_list(*names))


def test_every_encrypted_field_is_found_without_a_list_to_keep(db: None) -> None:
    found = {
        model._meta.label: set(names) for model, names in crypto.encrypted_fields()
    }

    assert found["gupshup_admin.PartnerApp"] == {
        "app_token_encrypted",
        "partner_secret_encrypted",
        "partner_token_encrypted",
        "callback_secret_encrypted",
        "universal_token_encrypted",
        "universal_app_token_encrypted",
    }
    assert found["gupshup_admin.CommBoxChannel"] == {"api_key_encrypted"}


def test_after_rotating_the_old_key_can_go_and_every_secret_still_decrypts(
    db: None,
) -> None:
    with keys(OLD):
        app, channel = make_app("Spring shop"), make_channel()
        callback_secret = app.callback_secret

    with keys(NEW, OLD):
        out = rotate()

    assert "gupshup_admin.PartnerApp.app_token_encrypted: 1" in out
    assert "gupshup_admin.CommBoxChannel.api_key_encrypted: 1" in out
    assert "5 secret(s) re-encrypted" in out
    with keys(NEW):
        app = PartnerApp.objects.get(pk=app.pk)
        assert app.app_token == APP_TOKEN
        assert app.partner_secret == PARTNER_SECRET
        assert app.partner_token() == PARTNER_JWT
        assert app.callback_secret == callback_secret
        assert CommBoxChannel.objects.get(pk=channel.pk).api_key == COMMBOX_KEY
        assert check_encryption_keys() == []
    with keys(OLD), pytest.raises(crypto.SecretDecryptionError):
        PartnerApp.objects.get(pk=app.pk).app_token  # noqa: B018


def test_a_dry_run_counts_the_secrets_and_writes_nothing(db: None) -> None:
    with keys(OLD):
        make_app("Spring shop")
        make_channel()
    before = stored(PartnerApp), stored(CommBoxChannel)

    with keys(NEW, OLD):
        out = rotate("--dry-run")

    assert "5 secret(s) would be re-encrypted (dry run, nothing written)" in out
    assert (stored(PartnerApp), stored(CommBoxChannel)) == before


def test_a_secret_no_key_fits_stops_the_rotation_naming_the_setting_and_the_row(
    db: None,
) -> None:
    with keys(OLD):
        good = make_app("Spring shop")
        make_channel()
    with keys(LOST):
        lost = PartnerApp.objects.create(
            name="Lost key shop",
            app_id="11111111-2222-3333-4444-555555555555",
            app_name="lostkey",
            source_number="+919643874844",
        )
        lost_secret = lost.callback_secret
    before = stored(PartnerApp), stored(CommBoxChannel)

    with keys(NEW, OLD), pytest.raises(CommandError) as caught:
        rotate()

    message = str(caught.value)
    assert "SECRETS_ENCRYPTION_KEYS cannot decrypt 1 stored secret(s)" in message
    assert (
        f"gupshup_admin.PartnerApp pk={lost.pk} field callback_secret_encrypted"
        in message
    )
    assert f"pk={good.pk}" not in message
    assert "Nothing was changed" in message
    assert lost_secret not in message and APP_TOKEN not in message
    assert (stored(PartnerApp), stored(CommBoxChannel)) == before


def test_malformed_keys_stop_the_rotation_with_the_settings_message(db: None) -> None:
    with keys("not-a-key"), pytest.raises(CommandError, match="key #1"):
        rotate()


def test_the_start_up_check_names_the_row_it_could_not_decrypt(db: None) -> None:
    with keys(OLD):
        app = make_app("Spring shop")

    with keys(NEW):
        messages = check_encryption_keys()

    assert [m.id for m in messages] == ["gupshup_admin.E002"]
    assert "SECRETS_ENCRYPTION_KEYS" in str(messages[0])
    assert f"gupshup_admin.PartnerApp pk={app.pk}" in str(messages[0])


UNIVERSAL_TOKEN = "eyJhbGciOiJSUzI1NiJ9.eyJ0eXAiOiJVVCJ9.dXQtcm90YXRlLXNpZw"
UNIVERSAL_APP_TOKEN = "eyJhbGciOiJSUzI1NiJ9.eyJ0eXAiOiJVQVQifQ.dWF0LXJvdGF0ZQ"


def test_universal_tokens_are_re_encrypted_with_the_rest_and_still_decrypt(
    db: None,
) -> None:
    with keys(OLD):
        app = make_app("Spring shop")
        expires = timezone.now() + timedelta(hours=5)
        app.set_universal_token(
            UNIVERSAL_TOKEN, source=TokenSource.MINTED, expires_at=expires
        )
        app.set_universal_app_token(
            UNIVERSAL_APP_TOKEN, source=TokenSource.MINTED, expires_at=expires
        )
        app.save()

    with keys(NEW, OLD):
        out = rotate()

    assert "gupshup_admin.PartnerApp.universal_token_encrypted: 1" in out
    assert "gupshup_admin.PartnerApp.universal_app_token_encrypted: 1" in out
    assert "6 secret(s) re-encrypted" in out
    assert UNIVERSAL_TOKEN not in out and UNIVERSAL_APP_TOKEN not in out
    with keys(NEW):
        app = PartnerApp.objects.get(pk=app.pk)
        assert app.universal_token == UNIVERSAL_TOKEN
        assert app.universal_app_token == UNIVERSAL_APP_TOKEN
        assert check_encryption_keys() == []


def test_the_start_up_check_names_a_universal_token_no_key_decrypts(db: None) -> None:
    with keys(NEW):
        app = make_app("Spring shop")
    with keys(LOST):
        lost = crypto.encrypt(UNIVERSAL_TOKEN)
    PartnerApp.objects.filter(pk=app.pk).update(universal_token_encrypted=lost)

    with keys(NEW):
        messages = check_encryption_keys()

    assert [m.id for m in messages] == ["gupshup_admin.E002"]
    assert f"pk={app.pk} field universal_token_encrypted" in str(messages[0])
    assert UNIVERSAL_TOKEN not in str(messages[0])
