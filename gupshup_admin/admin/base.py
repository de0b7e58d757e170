"""Admin base classes: one for models with write-only secret fields, one for
records nobody edits; and the health badge apps and channels share."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.http import HttpRequest, HttpResponse
from django.utils.decorators import method_decorator
from django.utils.html import format_html
from django.views.decorators.debug import sensitive_post_parameters

from gupshup_admin.models import CommBoxChannel, HealthStatus, PartnerApp

# The write-only secret fields are masked in error reports of the add/change pages.
_secret_posts = method_decorator(
    sensitive_post_parameters(
        "new_app_token",
        "new_partner_secret",
        "new_api_key",
        "new_universal_token",
        "new_universal_app_token",
    )
)


class SecretFieldsAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    @_secret_posts
    def changeform_view(
        self, request: HttpRequest, *args: Any, **kwargs: Any
    ) -> HttpResponse:
        return super().changeform_view(request, *args, **kwargs)

    def secret_warnings(self, obj: Any) -> list[str]:
        """Lines about stored secrets that lapse soon or have lapsed."""
        return []

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        if request.method == "GET":
            obj = self.get_object(request, unquote(object_id))
            for warning in self.secret_warnings(obj) if obj is not None else []:
                self.message_user(request, warning, messages.WARNING)
        return super().change_view(request, object_id, form_url, extra_context)


class ReadOnlyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


_BADGE = {
    HealthStatus.HEALTHY: ("#1e7e34", "#e6f4ea"),
    HealthStatus.WARNING: ("#9a6700", "#fff4d6"),
    HealthStatus.UNHEALTHY: ("#b00020", "#fdecea"),
    HealthStatus.UNKNOWN: ("#555", "#eee"),
}


def health_badge(obj: PartnerApp | CommBoxChannel) -> str:
    """A coloured badge of an app's or a channel's health status."""
    status = HealthStatus(obj.health_status)
    fg, bg = _BADGE.get(status, _BADGE[HealthStatus.UNKNOWN])
    return format_html(
        '<span class="health-badge" style="color:{};background:{};padding:2px 8px;'
        'border-radius:10px;font-weight:600">{}</span>',
        fg,
        bg,
        status.label,
    )
