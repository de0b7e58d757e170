"""Who may open a page: a staff login, then one permission (gupshup_admin/roles.py).

Anonymous and non-staff visitors go to the login page, as with
`staff_member_required`; staff without the permission get a 403 that names it
and the roles holding it, so they know whom to ask.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from django.contrib import admin
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import Resolver404, resolve

from gupshup_admin.roles import roles_granting

View = TypeVar("View", bound=Callable[..., Any])


def permission_label(perm: str) -> str:
    """The permission's name as the admin shows it ("Can add campaign")."""
    app_label, _, codename = perm.partition(".")
    found = Permission.objects.filter(
        content_type__app_label=app_label, codename=codename
    ).first()
    return found.name if found else perm


def denied_message(perm: str, doing: str) -> str:
    roles = roles_granting(perm)
    who = (
        f"which the {' and '.join(roles)} role{'s' if len(roles) > 1 else ''} "
        f"{'have' if len(roles) > 1 else 'has'}"
        if roles
        else "which no role has"
    )
    return (
        f"You may not {doing}: that needs the permission “{permission_label(perm)}”, "
        f"{who}. Ask an administrator to add you to "
        f"{'one of them' if len(roles) > 1 else 'it'}."
    )


def permission_required(perm: str, *, doing: str) -> Callable[[View], View]:
    """Require a staff login and `perm`; `doing` completes "You may not …"."""

    def decorator(view: View) -> View:
        @wraps(view)
        def checked(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
            if not request.user.has_perm(perm):
                raise PermissionDenied(denied_message(perm, doing))
            return view(request, *args, **kwargs)

        return cast(View, staff_member_required(checked))

    return decorator


def permission_denied_page(request: HttpRequest, exception: Exception) -> HttpResponse:
    """The 403 page (`handler403`), in the admin's frame, saying why. The admin's
    own refusals come without a reason: the permission its page needs is named
    here, with the roles that hold it."""
    said = str(exception) or _admin_refusal(request) or ""
    context = {
        **admin.site.each_context(request),
        "title": "Not allowed",
        "exception": said,
    }
    return render(request, "403.html", context, status=403)


# The admin's URL names end in the page; each needs one kind of permission.
_ADMIN_PAGES = {
    "changelist": ("view", "see the list of {plural}"),
    "change": ("view", "open this {name}"),
    "history": ("view", "see the history of this {name}"),
    "add": ("add", "add a {name}"),
    "delete": ("delete", "delete this {name}"),
}


def _admin_refusal(request: HttpRequest) -> str | None:
    """What the admin page refused needs, said as `denied_message` says it."""
    try:
        match = resolve(request.path_info)
    except Resolver404:
        return None
    if match.namespace != admin.site.name or not match.url_name:
        return None
    for model in admin.site._registry:
        opts = model._meta
        prefix = f"{opts.app_label}_{opts.model_name}_"
        page = match.url_name.removeprefix(prefix)
        if page != match.url_name and page in _ADMIN_PAGES:
            kind, doing = _ADMIN_PAGES[page]
            perm = f"{opts.app_label}.{kind}_{opts.model_name}"
            words = {"name": opts.verbose_name, "plural": opts.verbose_name_plural}
            return denied_message(perm, doing.format(**words))
    return None
