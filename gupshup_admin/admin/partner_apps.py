"""Admin for partner apps: secrets, health, their templates and the buttons that
call Gupshup (check health, fetch token, sync templates, register callbacks)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST

from gupshup_admin import app_sync, services, tasks
from gupshup_admin.admin.base import SecretFieldsAdmin, health_badge
from gupshup_admin.exceptions import ApplicationError
from gupshup_admin.forms import PartnerAppForm
from gupshup_admin.models import (
    HealthStatus,
    PartnerApp,
    Template,
)
from gupshup_admin.providers.errors import ProviderError
from gupshup_admin.secret_ages import (
    SecretAge,
    partner_app_secret_ages,
    secret_age_warnings,
)
from gupshup_admin.taskutils import enqueue_on_commit

# What the health check stored (app_sync), in the order and words of the page.
_DETAIL_LABELS = [
    ("can_send_message", "Can send"),
    ("messaging_limit", "Messaging tier"),
    ("phone_quality", "Phone quality"),
    ("throughput", "Throughput"),
    ("account_status", "Account"),
    ("verified_name", "Verified name"),
    ("waba_id", "WABA id"),
    ("mm_lite_status", "MM Lite"),
]


_HEALTH_LEVEL: dict[str, int] = {
    HealthStatus.HEALTHY: messages.SUCCESS,
    HealthStatus.WARNING: messages.WARNING,
}


def _enqueue_each(queryset: QuerySet[Any], task: Any, request: HttpRequest) -> int:
    """Enqueue `task(pk, user_pk)` for each row once the transaction commits."""
    pks = list(queryset.values_list("pk", flat=True))
    for pk in pks:
        enqueue_on_commit(task, pk, request.user.pk)
    return len(pks)


def health_details_html(details: dict[str, Any]) -> str:
    """The number's state as WhatsApp reports it, the wallet and the warnings."""
    rows = [
        (label, str(details[key]))
        for key, label in _DETAIL_LABELS
        if details.get(key) not in (None, "")
    ]
    if isinstance(details.get("balance"), int | float):
        currency = details.get("currency") or ""
        rows.append(("Wallet balance", f"{details['balance']:.2f} {currency}".strip()))
    rows += [("WhatsApp says", str(text)) for text in details.get("waba_errors") or []]
    rows += [("Warning", str(text)) for text in details.get("warnings") or []]
    if not rows:
        return "—"
    return format_html(
        '<dl class="health-details">{}</dl>',
        format_html_join("", "<dt>{}</dt><dd>{}</dd>", rows),
    )


def _age_line(app: PartnerApp, name: str) -> str:
    found: list[SecretAge] = [
        age for age in partner_app_secret_ages(app=app) if age.name == name
    ]
    if not found:
        return "—"
    age = found[0]
    return f"{age.text}: {age.advice}" if age.advice else age.text


class TemplateInline(admin.TabularInline):  # type: ignore[type-arg]
    model = Template
    extra = 0
    can_delete = False
    show_change_link = True
    _columns = ["element_name", "language_code", "template_type", "status"]
    fields = [*_columns, "slot_count", "is_present"]
    readonly_fields = [*_columns, "slot_count", "is_present"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(PartnerApp)
class PartnerAppAdmin(SecretFieldsAdmin):
    form = PartnerAppForm
    change_form_template = "admin/gupshup_admin/partnerapp/change_form.html"
    list_display = [
        "name",
        "app_id",
        "app_name",
        "source_number",
        "is_capi",
        "send_rate_per_minute",
        "health",
        "health_checked_at",
        "token_kind",
        "app_token_hint",
        "secret_ages",
    ]
    list_filter = ["health_status", "token_kind", "is_capi", "is_active"]
    search_fields = ["name", "app_id", "app_name", "source_number"]
    readonly_fields = [
        "app_token_hint",
        "app_token_source",
        "app_token_updated_at",
        "app_token_age",
        "partner_secret_hint",
        "partner_secret_age",
        "universal_token_hint",
        "universal_token_source",
        "universal_token_expires_at",
        "universal_token_age",
        "universal_app_token_hint",
        "universal_app_token_source",
        "universal_app_token_expires_at",
        "universal_app_token_age",
        "health",
        "health_message",
        "health_checked_at",
        "whatsapp",
        "created_at",
        "updated_at",
    ]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "name",
                    "app_id",
                    "app_name",
                    "source_number",
                    "is_capi",
                    "is_active",
                ]
            },
        ),
        ("Sending", {"fields": ["send_rate_per_minute"]}),
        ("Authentication", {"fields": ["token_kind"]}),
        (
            "App token (legacy)",
            {
                "fields": [
                    "app_token_hint",
                    "app_token_source",
                    "app_token_updated_at",
                    "app_token_age",
                    "new_app_token",
                    "clear_app_token",
                ]
            },
        ),
        (
            "Partner credentials",
            {
                "fields": [
                    "partner_email",
                    "partner_secret_hint",
                    "partner_secret_age",
                    "new_partner_secret",
                    "gupshup_partner_id",
                    "mint_universal_tokens",
                ]
            },
        ),
        (
            "Universal Tokens",
            {
                "fields": [
                    "universal_token_hint",
                    "universal_token_source",
                    "universal_token_expires_at",
                    "universal_token_age",
                    "new_universal_token",
                    "universal_app_token_hint",
                    "universal_app_token_source",
                    "universal_app_token_expires_at",
                    "universal_app_token_age",
                    "new_universal_app_token",
                    "clear_universal_tokens",
                ]
            },
        ),
        (
            "Health",
            {"fields": ["health", "health_message", "health_checked_at", "whatsapp"]},
        ),
        ("Record", {"fields": ["created_at", "updated_at"]}),
    ]
    inlines = [TemplateInline]
    actions = ["check_health_action", "sync_templates_action"]

    @admin.display(description="health", ordering="health_status")
    def health(self, obj: PartnerApp) -> str:
        return health_badge(obj)

    @admin.display(description="secret ages")
    def secret_ages(self, obj: PartnerApp) -> str:
        ages = partner_app_secret_ages(app=obj)
        if not ages:
            return "—"
        rows = ((age.name, age.text) for age in ages)
        return format_html_join(mark_safe("<br>"), "{}: {}", rows)

    @admin.display(description="app token age")
    def app_token_age(self, obj: PartnerApp) -> str:
        return _age_line(obj, "app token")

    @admin.display(description="client secret age")
    def partner_secret_age(self, obj: PartnerApp) -> str:
        return _age_line(obj, "partner client secret")

    @admin.display(description="Universal Token age")
    def universal_token_age(self, obj: PartnerApp) -> str:
        return _age_line(obj, "Universal Token")

    @admin.display(description="Universal App Token age")
    def universal_app_token_age(self, obj: PartnerApp) -> str:
        return _age_line(obj, "Universal App Token")

    def secret_warnings(self, obj: PartnerApp) -> list[str]:
        return secret_age_warnings(partner_app_secret_ages(app=obj))

    @admin.display(description="WhatsApp number and wallet")
    def whatsapp(self, obj: PartnerApp) -> str:
        return health_details_html(obj.health_details)

    def save_model(
        self, request: HttpRequest, obj: PartnerApp, form: Any, change: bool
    ) -> None:
        services.partner_app_update_secrets(
            app=obj,
            app_token=form.cleaned_data.get("new_app_token", ""),
            partner_secret=form.cleaned_data.get("new_partner_secret", ""),
            clear_app_token=form.cleaned_data.get("clear_app_token", False),
            universal_token=form.cleaned_data.get("new_universal_token", ""),
            universal_app_token=form.cleaned_data.get("new_universal_app_token", ""),
            clear_universal_tokens=form.cleaned_data.get(
                "clear_universal_tokens", False
            ),
            user_id=request.user.pk,
        )

    @admin.action(
        description="Check health of the selected apps (in the background)",
        permissions=["change"],
    )
    def check_health_action(
        self, request: HttpRequest, queryset: QuerySet[PartnerApp]
    ) -> None:
        count = _enqueue_each(queryset, tasks.check_app_health, request)
        self.message_user(request, f"Health checks queued for {count} app(s).")

    @admin.action(
        description="Sync templates of the selected apps (in the background)",
        permissions=["change"],
    )
    def sync_templates_action(
        self, request: HttpRequest, queryset: QuerySet[PartnerApp]
    ) -> None:
        count = _enqueue_each(queryset, tasks.sync_app_templates, request)
        self.message_user(request, f"Template syncs queued for {count} app(s).")

    def get_urls(self) -> list[URLPattern]:
        wrap = self.admin_site.admin_view
        return [
            path(
                "<int:pk>/check-health/",
                wrap(require_POST(self.check_health_view)),
                name="gupshup_admin_partnerapp_check_health",
            ),
            path(
                "<int:pk>/fetch-token/",
                wrap(require_POST(self.fetch_token_view)),
                name="gupshup_admin_partnerapp_fetch_token",
            ),
            path(
                "<int:pk>/sync-templates/",
                wrap(require_POST(self.sync_templates_view)),
                name="gupshup_admin_partnerapp_sync_templates",
            ),
            path(
                "<int:pk>/register-callback/",
                wrap(require_POST(self.register_callback_view)),
                name="gupshup_admin_partnerapp_register_callback",
            ),
            *super().get_urls(),
        ]

    def _button(self, request: HttpRequest, pk: int, run: Any) -> HttpResponse:
        app = get_object_or_404(PartnerApp, pk=pk)
        if not self.has_change_permission(request, app):
            raise PermissionDenied("Only those who may change partner apps can.")
        try:
            level, text = run(app, request.user.pk)
        except (ProviderError, ApplicationError) as exc:
            level, text = messages.ERROR, f"{app}: {exc}"
        self.message_user(request, text, level)
        return HttpResponseRedirect(
            reverse("admin:gupshup_admin_partnerapp_change", args=[pk])
        )

    def check_health_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        def run(app: PartnerApp, user_id: int) -> tuple[int, str]:
            report = app_sync.partner_app_check_health(app=app, user_id=user_id)
            return _HEALTH_LEVEL.get(report.status, messages.ERROR), (
                f"{app}: {report.message}"
            )

        return self._button(request, pk, run)

    def fetch_token_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        def run(app: PartnerApp, user_id: int) -> tuple[int, str]:
            done = services.partner_app_refresh_token(app=app, user_id=user_id)
            return messages.SUCCESS, f"{app}: {done}."

        return self._button(request, pk, run)

    def register_callback_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        def run(app: PartnerApp, user_id: int) -> tuple[int, str]:
            url = app_sync.partner_app_register_callback(app=app, user_id=user_id)
            return messages.SUCCESS, f"{app}: delivery callbacks now go to {url}."

        return self._button(request, pk, run)

    def sync_templates_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        def run(app: PartnerApp, user_id: int) -> tuple[int, str]:
            result = app_sync.partner_app_sync_templates(app=app, user_id=user_id)
            return messages.SUCCESS, f"{app}: templates synced: {result}."

        return self._button(request, pk, run)
