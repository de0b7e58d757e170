"""Admin base classes: one for models with write-only secret fields, one for
records nobody edits."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.http import HttpRequest, HttpResponse
from django.utils.decorators import method_decorator
from django.views.decorators.debug import sensitive_post_parameters

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
