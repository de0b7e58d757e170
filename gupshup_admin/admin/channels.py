"""Admin for CommBox channels: the API key is a write-only field."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from gupshup_admin import services
from gupshup_admin.admin.base import SecretFieldsAdmin
from gupshup_admin.forms import CommBoxChannelForm
from gupshup_admin.models import CommBoxChannel
from gupshup_admin.secret_ages import commbox_channel_key_age, secret_age_warnings


@admin.register(CommBoxChannel)
class CommBoxChannelAdmin(SecretFieldsAdmin):
    form = CommBoxChannelForm
    list_display = [
        "name",
        "stream_id",
        "api_key_hint",
        "api_key_age",
        "is_active",
    ]
    search_fields = ["name", "stream_id"]
    readonly_fields = [
        "api_key_hint",
        "api_key_age",
        "api_key_updated_at",
        "created_at",
        "updated_at",
    ]
    fields = [
        "name",
        "stream_id",
        "is_active",
        "api_key_hint",
        "api_key_age",
        "new_api_key",
        "api_key_updated_at",
        "created_at",
        "updated_at",
    ]

    @admin.display(description="API key age", ordering="api_key_updated_at")
    def api_key_age(self, obj: CommBoxChannel) -> str:
        age = commbox_channel_key_age(channel=obj)
        if age is None:
            return "—"
        return f"{age.text}: {age.advice}" if age.advice else age.text

    def secret_warnings(self, obj: CommBoxChannel) -> list[str]:
        return secret_age_warnings([commbox_channel_key_age(channel=obj)])

    def save_model(
        self, request: HttpRequest, obj: CommBoxChannel, form: Any, change: bool
    ) -> None:
        services.commbox_channel_update_secrets(
            channel=obj,
            api_key=form.cleaned_data.get("new_api_key", ""),
            user_id=request.user.pk,
        )
