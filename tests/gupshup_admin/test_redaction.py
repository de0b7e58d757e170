"""The last line of defence: secret shapes masked in log lines and error reports."""

from __future__ import annotations

import logging
import sys
from typing import Any

import pytest
from django.test import RequestFactory

from gupshup_admin.providers.http import Request
from gupshup_admin.providers.recording import ExchangeContext
from gupshup_admin.redaction import (
    RedactSecretsFilter,
    SecretSafeExceptionReporter,
    redact_text,
)

APP_TOKEN = "sk_711916ad1d5d4f21a9520fdef20516a1"
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJwYXJ0bmVyIn0.c2lnbmF0dXJlLXJlZGFjdA"
SECRET = "plain-secret-without-a-shape-77"


@pytest.mark.parametrize(
    "text",
    [
        f"token {APP_TOKEN} expired",
        f"Authorization: {JWT}",
        f"Authorization: Bearer {SECRET}",
        f"email=a%40b.c&password={SECRET}&x=1",
        f"{{'client_secret': '{SECRET}'}}",
        f'{{"api_key": "{SECRET}"}}',
        f"Payload Too Large: /webhooks/gupshup/12/{SECRET}/",
    ],
)
def test_every_known_shape_is_masked(text: str) -> None:
    masked = redact_text(text)

    assert SECRET not in masked and APP_TOKEN not in masked and JWT not in masked
    assert masked != text


def test_ordinary_text_is_left_alone() -> None:
    text = "GET /webhooks/gupshup/12/ 200 · template spring_sale_image · 3 of 4 sent"
    assert redact_text(text) == text


def test_the_log_filter_masks_the_message_and_the_traceback() -> None:
    try:
        raise ValueError(f"refused {APP_TOKEN}")
    except ValueError:
        record = logging.LogRecord(
            "x", logging.ERROR, __file__, 1, "call with %s", (JWT,), sys.exc_info()
        )

    assert RedactSecretsFilter().filter(record) is True
    text = logging.Formatter().format(record)

    assert APP_TOKEN not in text and JWT not in text
    assert "call with eyJ" not in text and "ValueError: refused sk_…" in text


def _report() -> str:
    api_key = SECRET  # noqa: F841 - a local the report must not show
    headers = {"Authorization": SECRET, "Accept": "application/json"}  # noqa: F841
    request = Request(  # noqa: F841
        "POST",
        "https://partner.gupshup.io/partner/account/login",
        ExchangeContext("gupshup", "partner_login"),
        form={"email": "a@b.c", "password": SECRET},
        secrets=[SECRET],
    )
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        http_request = RequestFactory().get("/x/")
        reporter = SecretSafeExceptionReporter(http_request, *sys.exc_info())
        return str(reporter.get_traceback_html()) + reporter.get_traceback_text()


def test_an_error_report_hides_secret_named_locals_headers_and_request_bodies(
    settings: Any,
) -> None:
    settings.DEBUG = False
    settings.DEFAULT_EXCEPTION_REPORTER_FILTER = (
        "gupshup_admin.redaction.SecretSafeExceptionReporterFilter"
    )

    report = _report()

    assert "boom" in report and "_report" in report
    assert SECRET not in report
    assert "application/json" in report  # the rest of the frame is still shown
