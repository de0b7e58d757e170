"""Web hardening glue: the CSP middleware, and django-axes' lockout page and IP.

CSP: one strict policy for the whole site (settings.CONTENT_SECURITY_POLICY):
scripts and styles only from our own static files, no inline code. The Django
admin (5.2) needs no inline *script* (its "inline" tags are `<script src=…
data-…>`), so `script-src 'self'` holds there too; but it writes a few inline
*styles* (the changelist's `<style>` block, style attributes set by its widgets,
our colour badges), so under the admin's prefix `style-src` also allows
'unsafe-inline'. Inline CSS cannot run code; the marketer pages get no such
allowance.
"""

from __future__ import annotations

from typing import Any

from csp.constants import UNSAFE_INLINE
from csp.middleware import CSPMiddleware, PolicyParts
from django.conf import settings
from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import render
from django.urls import reverse

LOCKOUT_TEMPLATE = "admin/locked_out.html"


class SiteCSPMiddleware(CSPMiddleware):
    """django-csp's middleware; admin pages may also use inline styles.

    A response marked exempt (`@csp_exempt()`: the callback endpoint, which
    answers servers, not browsers) skips the work of building a policy at all;
    django-csp builds it first and only then looks at the mark.
    """

    def process_response(
        self, request: HttpRequest, response: HttpResponseBase
    ) -> HttpResponseBase:
        report_only = getattr(settings, "CONTENT_SECURITY_POLICY_REPORT_ONLY", None)
        if getattr(response, "_csp_exempt", False) and (
            not report_only or getattr(response, "_csp_exempt_ro", False)
        ):
            return response
        return super().process_response(request, response)

    def get_policy_parts(
        self,
        request: HttpRequest,
        response: HttpResponseBase,
        report_only: bool = False,
    ) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only)
        # By the view that answered, not by path: no reverse() per response,
        # and right under a script prefix too (path_info lacks it, reverse()
        # includes it).
        match = request.resolver_match
        if match is not None and "admin" in match.namespaces:
            update = dict(parts.update or {})
            update["style-src"] = [*update.get("style-src", []), UNSAFE_INLINE]
            parts.update = update
        return parts


def client_ip(request: HttpRequest) -> str:
    """The address logins are throttled by: the peer, or with
    LOGIN_TRUSTED_PROXIES = n, the address the n-th proxy from us saw (the
    entries before it in X-Forwarded-For are the client's to forge)."""
    hops = settings.LOGIN_TRUSTED_PROXIES
    if hops:
        chain = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        forwarded = [part.strip() for part in chain if part.strip()]
        if len(forwarded) >= hops:
            return str(forwarded[-hops])
    return str(request.META.get("REMOTE_ADDR", ""))


def lockout_response(
    request: HttpRequest,
    original_response: HttpResponse | None = None,
    credentials: dict[str, Any] | None = None,
) -> HttpResponse:
    """The admin login page again, status 429, saying why and for how long."""
    username = str((credentials or {}).get("username") or "")
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    context = {
        **admin.site.each_context(request),
        "title": "Log in",
        "app_path": reverse("admin:login"),
        "form": AdminAuthenticationForm(request, initial={"username": username}),
        "locked_username": username,
        "cooloff_minutes": minutes,
        "failure_limit": settings.AXES_FAILURE_LIMIT,
    }
    return render(request, LOCKOUT_TEMPLATE, context, status=429)
