"""Security headers: a strict CSP on the marketer pages, admin scripts strict too,
and no template that would need an inline script or style."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client
from django.urls import clear_script_prefix, reverse, set_script_prefix

REPO = Path(settings.BASE_DIR)
CUSTOM_PAGES = ["campaigns:list", "campaigns:create", "media_library:library"]
INLINE = re.compile(
    r"<script(?![^>]*\bsrc=)[^>]*>"  # a script element without src
    r"|<style\b"  # a style element
    r"|\sstyle=[\"']"  # a style attribute
    r"|\son[a-z]+=[\"']"  # an event-handler attribute
    r"|javascript:",
    re.I,
)


@pytest.fixture
def client(client: Client, alice: User) -> Client:
    client.force_login(alice)
    return client


def directives(header: str) -> dict[str, list[str]]:
    parsed = {}
    for part in header.split(";"):
        name, *values = part.split()
        parsed[name] = values
    return parsed


@pytest.mark.parametrize("name", CUSTOM_PAGES)
def test_the_marketer_pages_get_the_strict_policy(client: Client, name: str) -> None:
    response = client.get(reverse(name))

    assert response.status_code == 200
    policy = directives(response["Content-Security-Policy"])
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert "'unsafe-inline'" not in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


@pytest.mark.parametrize("prefix", ["", "/gupshup"])
def test_the_admin_keeps_strict_scripts_and_may_use_inline_styles(
    client: Client, prefix: str
) -> None:
    # Also when the site is served under a path prefix (SCRIPT_NAME), which
    # Django's WSGI handler makes the script prefix (the test client does not).
    path = reverse("admin:login")
    set_script_prefix(f"{prefix}/")
    try:
        response = client.get(path, SCRIPT_NAME=prefix)
    finally:
        clear_script_prefix()

    policy = directives(response["Content-Security-Policy"])
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'", "'unsafe-inline'"]


def marketer_templates() -> list[Path]:
    found = [
        *(REPO / "templates" / "campaigns").rglob("*.html"),
        *(REPO / "templates" / "media_library").rglob("*.html"),
        *REPO.glob("*/templates/**/*.html"),
    ]
    return sorted(p for p in found if ".venv" not in p.parts)


def test_no_marketer_template_has_an_inline_script_or_style() -> None:
    offenders = {
        str(path.relative_to(REPO)): match.group(0)
        for path in marketer_templates()
        for match in [INLINE.search(path.read_text())]
        if match
    }

    assert len(marketer_templates()) > 10
    assert offenders == {}


def test_the_scan_finds_each_kind_of_inline_code() -> None:
    for snippet in [
        "<script>alert(1)</script>",
        '<p style="color:red">',
        "<style>p{}</style>",
        '<a onclick="x()">',
        '<a href="javascript:x()">',
    ]:
        assert INLINE.search(snippet), snippet
    assert not INLINE.search('<script src="/static/a.js" data-x="1"></script>')
