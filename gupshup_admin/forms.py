"""Admin forms: secrets are write-only fields; blank means 'keep the stored one'."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from django import forms
from django.conf import settings
from django.utils import timezone

from gupshup_admin.models import CommBoxChannel, PartnerApp, TokenKind
from gupshup_admin.phones import InvalidPhoneNumber, business_number_to_e164
from gupshup_admin.token_store import pasted_token_expiry

_APP_TOKEN = re.compile(r"^sk_[A-Za-z0-9]{16,}$")
_JWT = re.compile(r"^eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$")
# A Universal App Token lives at most 24 h; a few minutes for clocks that differ.
_UAT_LONGEST = timedelta(hours=24, minutes=5)
KEEP = "Leave blank to keep the stored value."


def _secret_field(label: str, help_text: str) -> forms.CharField:
    return forms.CharField(
        label=label,
        required=False,
        strip=True,
        widget=forms.PasswordInput(
            render_value=False, attrs={"autocomplete": "new-password"}
        ),
        help_text=help_text,
    )


class PartnerAppForm(forms.ModelForm):  # type: ignore[type-arg]
    new_app_token = _secret_field(
        "New app token", "The app's sk_… token from the Partner Portal. " + KEEP
    )
    new_partner_secret = _secret_field(
        "New partner client secret",
        "With the partner e-mail, lets this tool fetch and refresh the app token. "
        + KEEP,
    )
    clear_app_token = forms.BooleanField(
        label="Forget the stored app token", required=False
    )
    # Not required: a form posted without it keeps the app's kind.
    token_kind = forms.ChoiceField(
        label="Token kind",
        choices=TokenKind.choices,
        required=False,
        help_text=PartnerApp._meta.get_field("token_kind").help_text,
    )
    new_universal_token = _secret_field(
        "New Universal Token",
        "The partner's Universal Token: a JWT (eyJ…) that Gupshup shows once, when "
        "it is minted. Sent as 'Authorization: Bearer'; its expiry is read from it. "
        + KEEP,
    )
    new_universal_app_token = _secret_field(
        "New Universal App Token",
        "This app's Universal App Token (a JWT living 1-24 hours). Without a "
        "Universal Token or minting it cannot be renewed when it lapses. " + KEEP,
    )
    clear_universal_tokens = forms.BooleanField(
        label="Forget the stored Universal Token and Universal App Token",
        required=False,
    )

    class Meta:
        model = PartnerApp
        fields = [
            "name",
            "app_id",
            "app_name",
            "source_number",
            "is_capi",
            "send_rate_per_minute",
            "is_active",
            "partner_email",
            "token_kind",
            "gupshup_partner_id",
            "mint_universal_tokens",
        ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["source_number"].help_text = (
            "The WhatsApp business number: with its country code (+91 96438 74844, "
            "or 919643874844 as the Partner Portal shows it), or a national number "
            f"of region {settings.PHONE_DEFAULT_REGION} (PHONE_DEFAULT_REGION). "
            "Stored in E.164."
        )

    def clean_app_id(self) -> str:
        return str(self.cleaned_data["app_id"]).strip().lower()

    def clean_source_number(self) -> str:
        try:
            return business_number_to_e164(str(self.cleaned_data["source_number"]))
        except InvalidPhoneNumber as exc:
            raise forms.ValidationError(str(exc)) from exc

    def clean_new_app_token(self) -> str:
        token = str(self.cleaned_data.get("new_app_token") or "")
        if token.lower().startswith("bearer "):
            raise forms.ValidationError("Paste the token alone, without 'Bearer '.")
        if token and not _APP_TOKEN.match(token):
            raise forms.ValidationError(
                "An app token starts with 'sk_' followed by letters and digits "
                "(Partner Portal → app → Token)."
            )
        return token

    def clean_token_kind(self) -> str:
        kind = str(self.cleaned_data.get("token_kind") or "")
        return kind or self.instance.token_kind or TokenKind.LEGACY

    def clean_new_universal_token(self) -> str:
        return self._universal("new_universal_token", "Universal Token")

    def clean_new_universal_app_token(self) -> str:
        return self._universal(
            "new_universal_app_token", "Universal App Token", longest=_UAT_LONGEST
        )

    def _universal(
        self, field: str, label: str, *, longest: timedelta | None = None
    ) -> str:
        token = str(self.cleaned_data.get(field) or "")
        if not token:
            return ""
        if token.lower().startswith("bearer "):
            raise forms.ValidationError("Paste the token alone, without 'Bearer '.")
        if token.startswith("sk_"):
            raise forms.ValidationError(
                "That is a legacy sk_ app token: paste it under 'New app token'."
            )
        if not _JWT.match(token):
            raise forms.ValidationError(
                f"A {label} is a JWT: three parts separated by dots, starting with "
                "'eyJ'. Copy it whole from the answer of the mint request."
            )
        now, expires_at = timezone.now(), pasted_token_expiry(token)
        if expires_at is not None and expires_at <= now:
            raise forms.ValidationError(
                f"This {label} expired on {expires_at:%Y-%m-%d %H:%M} UTC: mint a "
                "new one and paste that."
            )
        if longest and expires_at is not None and expires_at - now > longest:
            raise forms.ValidationError(
                f"This token is valid until {expires_at:%Y-%m-%d %H:%M} UTC, longer "
                f"than a {label} lives (24 hours): is it a Universal Token? Paste it "
                "under 'New Universal Token'."
            )
        return token

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        instance: PartnerApp = self.instance
        has_token = bool(data.get("new_app_token")) or (
            instance.has_app_token and not data.get("clear_app_token")
        )
        email = data.get("partner_email")
        has_secret = bool(data.get("new_partner_secret")) or bool(
            instance.partner_secret_encrypted
        )
        if bool(email) != has_secret and (email or data.get("new_partner_secret")):
            self.add_error(
                "new_partner_secret" if email else "partner_email",
                "Partner credentials need both the e-mail and the client secret.",
            )
        can_mint = self._check_minting(data, has_credentials=bool(email and has_secret))
        kind = data.get("token_kind") or TokenKind.LEGACY
        if kind == TokenKind.LEGACY and not has_token and not (email and has_secret):
            raise forms.ValidationError(
                "Give either an app token, or partner credentials (e-mail and client "
                "secret) so the token can be fetched."
            )
        if kind != TokenKind.LEGACY:
            self._check_universal(data, kind, can_mint=can_mint)
        return data

    def _check_minting(self, data: dict[str, Any], *, has_credentials: bool) -> bool:
        if not data.get("mint_universal_tokens"):
            return False
        if not data.get("gupshup_partner_id"):
            self.add_error(
                "gupshup_partner_id", "Minting Universal Tokens needs the partner id."
            )
        if not has_credentials:
            self.add_error(
                "mint_universal_tokens",
                "Minting Universal Tokens needs the partner e-mail and client secret.",
            )
        return bool(data.get("gupshup_partner_id")) and has_credentials

    def _check_universal(
        self, data: dict[str, Any], kind: str, *, can_mint: bool
    ) -> None:
        instance: PartnerApp = self.instance
        kept = not data.get("clear_universal_tokens")
        has_universal = bool(data.get("new_universal_token")) or (
            kept and instance.has_universal_token
        )
        has_app_token = bool(data.get("new_universal_app_token")) or (
            kept and instance.has_universal_app_token
        )
        if kind == TokenKind.UNIVERSAL and not (has_universal or can_mint):
            raise forms.ValidationError(
                "This token kind needs a Universal Token: paste one, or tick 'mint "
                "Universal Tokens' with the partner id, e-mail and client secret."
            )
        if kind == TokenKind.UNIVERSAL_APP and not (
            has_app_token or has_universal or can_mint
        ):
            raise forms.ValidationError(
                "This token kind needs a Universal App Token, or a Universal Token "
                "to mint it with: paste one, or tick 'mint Universal Tokens' with "
                "the partner id, e-mail and client secret."
            )


class CommBoxChannelForm(forms.ModelForm):  # type: ignore[type-arg]
    new_api_key = _secret_field(
        "New API key", "From the CommBox management console. " + KEEP
    )

    class Meta:
        model = CommBoxChannel
        fields = ["name", "stream_id", "is_active"]

    def clean_new_api_key(self) -> str:
        key = str(self.cleaned_data.get("new_api_key") or "")
        if key.lower().startswith("bearer "):
            raise forms.ValidationError("Paste the key alone, without 'Bearer '.")
        if key and (len(key) < 8 or any(ch.isspace() for ch in key)):
            raise forms.ValidationError("That does not look like a CommBox API key.")
        return key

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("new_api_key") and not self.instance.api_key_encrypted:
            self.add_error("new_api_key", "A new channel needs its API key.")
        return data
