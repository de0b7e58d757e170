"""Admin forms: secrets are write-only fields; blank means 'keep the stored one'."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.conf import settings

from gupshup_admin.models import CommBoxChannel, PartnerApp
from gupshup_admin.phones import InvalidPhoneNumber, business_number_to_e164

_APP_TOKEN = re.compile(r"^sk_[A-Za-z0-9]{16,}$")
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
        if not has_token and not (email and has_secret):
            raise forms.ValidationError(
                "Give either an app token, or partner credentials (e-mail and client "
                "secret) so the token can be fetched."
            )
        return data


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
