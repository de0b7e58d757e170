"""Looking for plaintext secrets everywhere they could have leaked to: every
column of every row, every admin page, every marketer page and export, captured
log output, mails and error reports. Generic: new models, admin pages and URLs
are scanned without changes here."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from django.apps import apps
from django.contrib import admin
from django.core import mail
from django.test import Client
from django.urls import URLPattern, get_resolver, reverse
from django.views.debug import get_exception_reporter_class

from gupshup_admin.redaction import RedactSecretsFilter

# Change pages per model: enough to cover every kind of row the flow made.
MAX_ROWS_PER_MODEL = 40


def hits(secrets: Mapping[str, str], sources: Mapping[str, str]) -> list[str]:
    """`"<secret> in <source>"` for every secret found in every source."""
    return [
        f"{name} in {where}"
        for where, text in sources.items()
        for name, secret in secrets.items()
        if secret and secret in text
    ]


def database_text() -> dict[str, str]:
    """Every column of every row of every model (through tables too), as text."""
    found = {}
    for model in apps.get_models(include_auto_created=True):
        columns = [field.attname for field in model._meta.concrete_fields]
        rows = model._default_manager.values_list(*columns)
        found[f"db:{model._meta.label}"] = "\n".join(
            " | ".join(str(value) for value in row) for row in rows
        )
    return found


def _body(response: Any) -> str:
    if getattr(response, "streaming", False):
        content = b"".join(response.streaming_content)
    else:
        content = response.content
    return str(content.decode("utf-8", errors="replace"))


def _get(client: Client, url: str, into: dict[str, str]) -> None:
    response = client.get(url)
    # 302: elsewhere, 403: read-only admins have no add page, 405: POST only.
    assert response.status_code in (200, 302, 403, 405), (url, response.status_code)
    if response.status_code == 200:
        into[url] = _body(response)


def admin_pages(client: Client) -> dict[str, str]:
    """Every registered model's changelist, add page and change pages."""
    pages: dict[str, str] = {}
    for model in admin.site._registry:
        prefix = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        _get(client, reverse(f"{prefix}_changelist"), pages)
        _get(client, reverse(f"{prefix}_add"), pages)
        pks = model._default_manager.values_list("pk", flat=True)
        for pk in pks[:MAX_ROWS_PER_MODEL]:
            _get(client, reverse(f"{prefix}_change", args=[pk]), pages)
    return pages


def _patterns(namespace: str) -> Iterator[URLPattern]:
    resolver = get_resolver()
    _, sub = resolver.namespace_dict[namespace]
    for pattern in sub.url_patterns:
        if isinstance(pattern, URLPattern) and pattern.name:
            yield pattern


def site_pages(
    client: Client, arguments: Mapping[str, Iterable[Mapping[str, int]]]
) -> dict[str, str]:
    """GET every named URL of each namespace in `arguments`, once for each of its
    argument sets whose names fit the URL (POST-only views answer 405)."""
    pages: dict[str, str] = {}
    for namespace, choices in arguments.items():
        choices = list(choices)
        for pattern in _patterns(namespace):
            wanted = set(pattern.pattern.converters)
            matching = [k for k in choices if set(k) == wanted] if wanted else [{}]
            for kwargs in matching:
                url = reverse(f"{namespace}:{pattern.name}", kwargs=dict(kwargs))
                _get(client, url, pages)
    return pages


def mails() -> dict[str, str]:
    """Subject, body and alternatives of every mail sent (locmem backend)."""
    found = {}
    for number, message in enumerate(mail.outbox):
        parts = [str(message.subject), str(message.body)]
        parts += [str(content) for content, _ in getattr(message, "alternatives", [])]
        found[f"mail:{number}:{message.subject[:40]}"] = "\n".join(parts)
    return found


def error_report(request: Any, exc_info: Any) -> str:
    """The HTML and text report Django would show or mail for this exception."""
    reporter_class: Any = get_exception_reporter_class(request)
    reporter = reporter_class(request, *exc_info)
    return str(reporter.get_traceback_html()) + str(reporter.get_traceback_text())


@contextmanager
def captured_logs() -> Iterator[io.StringIO]:
    """What the configured log handlers (settings.LOGGING) write, at DEBUG."""
    root = logging.getLogger()
    handlers = [
        h
        for h in root.handlers
        if isinstance(h, logging.StreamHandler)
        and any(isinstance(f, RedactSecretsFilter) for f in h.filters)
    ]
    assert handlers, "settings.LOGGING has no redacting stream handler on root"
    buffer = io.StringIO()
    old_streams = [h.setStream(buffer) for h in handlers]
    levels = {name: logging.getLogger(name).level for name in ("", "django")}
    for name in levels:
        logging.getLogger(name).setLevel(logging.DEBUG)
    try:
        yield buffer
    finally:
        for handler, stream in zip(handlers, old_streams, strict=True):
            if stream is not None:
                handler.setStream(stream)
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)
