"""Admin for CommBox channels: the API key is a write-only field; the health
that uploads keep is shown, and a Check button probes it."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import URLPattern, path, reverse
from django.views.decorators.http import require_POST

from gupshup_admin import commbox_channels, services, tasks
from gupshup_admin.admin.base import SecretFieldsAdmin, health_badge
from gupshup_admin.forms import CommBoxChannelForm
from gupshup_admin.models import CommBoxChannel
from gupshup_admin.secret_ages import commbox_channel_key_age, secret_age_warnings
from gupshup_admin.taskutils import enqueue_on_commit


@admin.register(CommBoxChannel)
class CommBoxChannelAdmin(SecretFieldsAdmin):
    form = CommBoxChannelForm
    change_form_template = "admin/gupshup_admin/commboxchannel/change_form.html"
    list_display = [
        "name",
        "stream_id",
        "api_key_hint",
        "api_key_age",
        "health",
        "health_checked_at",
        "is_active",
    ]
    list_filter = ["health_status", "is_active"]
    search_fields = ["name", "stream_id"]
    readonly_fields = [
        "api_key_hint",
        "api_key_age",
        "api_key_updated_at",
        "health",
        "health_message",
        "health_checked_at",
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
        "health",
        "health_message",
        "health_checked_at",
        "created_at",
        "updated_at",
    ]
    actions = ["check_action"]

    @admin.display(description="health", ordering="health_status")
    def health(self, obj: CommBoxChannel) -> str:
        return health_badge(obj)

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

    @admin.action(
        description="Check the selected channels (in the background)",
        permissions=["change"],
    )
    def check_action(
        self, request: HttpRequest, queryset: QuerySet[CommBoxChannel]
    ) -> None:
        pks = list(queryset.values_list("pk", flat=True))
        for pk in pks:
            enqueue_on_commit(tasks.check_commbox_channel, pk, request.user.pk)
        self.message_user(request, f"Checks queued for {len(pks)} channel(s).")

    def get_urls(self) -> list[URLPattern]:
        return [
            path(
                "<int:pk>/check/",
                self.admin_site.admin_view(require_POST(self.check_view)),
                name="gupshup_admin_commboxchannel_check",
            ),
            *super().get_urls(),
        ]

    def check_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        channel = get_object_or_404(CommBoxChannel, pk=pk)
        if not self.has_change_permission(request, channel):
            raise PermissionDenied("Only those who may change CommBox channels can.")
        report = commbox_channels.commbox_channel_check(
            channel=channel, user_id=request.user.pk
        )
        level = messages.SUCCESS if report.healthy else messages.ERROR
        self.message_user(request, f"{channel}: {report.message}", level)
        return HttpResponseRedirect(
            reverse("admin:gupshup_admin_commboxchannel_change", args=[pk])
        )
