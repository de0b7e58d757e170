"""The start page at `/`: what the signed-in person can act on now, by their
role. The marketer's console (a later issue) grows from here; the admin index
stays for admins."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.views.decorators import staff_member_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from campaigns.reporting.start_page import start_tiles


@staff_member_required
@require_GET
def start_page(request: HttpRequest) -> HttpResponse:
    context = {
        **admin.site.each_context(request),
        "title": "Start",
        "tiles": start_tiles(user=request.user),
    }
    return render(request, "campaigns/start.html", context)
