"""Secrets never leave through logs or error reports.

Three layers, because each misses what the others catch:

- `sensitive_variables` / `sensitive_post_parameters` on the services and views
  that hold secrets (Django's own mechanism, by variable and field name);
- `SecretSafeExceptionReporterFilter` (DEFAULT_EXCEPTION_REPORTER_FILTER): every
  frame variable is cleansed by name and by dictionary key, like settings are,
  and what is left is shown with secret *shapes* masked;
- `SecretSafeExceptionReporter` (DEFAULT_EXCEPTION_REPORTER) and
  `RedactSecretsFilter` (on every log handler): the finished report and every
  log line go through `redact_text` last.

The shapes are those of `providers/masking.py` (app tokens, JWTs, the secret
segment of callback URLs) plus a few that only occur outside exchanges:
`Bearer …` values and `password=…`-style fields.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from django.template.defaultfilters import pprint
from django.utils.safestring import SafeString, mark_safe
from django.views.debug import ExceptionReporter, SafeExceptionReporterFilter

from gupshup_admin.providers.masking import MASKED, SECRET_FIELDS, redact

_FIELDS = "|".join(sorted(SECRET_FIELDS | {"partner_secret", "api_key"}))
_EXTRA_SHAPES = (
    # Authorization: Bearer <CommBox API key>
    (re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]{6,}"), rf"\g<1>{MASKED}"),
    # password=… in form bodies and query strings, "password": "…" in JSON/reprs
    (re.compile(rf"(?i)\b({_FIELDS})=[^&\s'\"<>]+"), rf"\g<1>={MASKED}"),
    (
        re.compile(rf"(?i)([\"']({_FIELDS})[\"']\s*:\s*[\"'])[^\"']+"),
        rf"\g<1>{MASKED}",
    ),
)


def redact_text(text: str) -> str:
    """Mask every secret shape known here in `text`."""
    text = redact(text, ())
    for pattern, replacement in _EXTRA_SHAPES:
        text = pattern.sub(replacement, text)
    return text


class RedactSecretsFilter(logging.Filter):
    """A handler filter: the message, traceback and stack of a record, redacted."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string is for logging itself to report
            return True
        record.msg, record.args = redact_text(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact_text(record.exc_text)
        if record.stack_info:
            record.stack_info = redact_text(record.stack_info)
        return True


class _Shown:
    """A frame variable already turned into safe text (shown as it is)."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text


class SecretSafeExceptionReporterFilter(SafeExceptionReporterFilter):
    """Django's filter, plus: every variable cleansed like a setting, then shapes."""

    hidden_settings = re.compile(
        "API|AUTH|TOKEN|KEY|SECRET|PASS|SIGNATURE|HTTP_COOKIE|JWT|CREDENTIAL",
        flags=re.I,
    )

    def get_traceback_frame_variables(self, request: Any, tb_frame: Any) -> Any:
        variables = super().get_traceback_frame_variables(request, tb_frame)
        if not self.is_active(request):
            return variables
        return [(name, self._safe(name, value)) for name, value in variables]

    def _safe(self, name: str, value: Any) -> Any:
        if isinstance(value, str) and value == self.cleansed_substitute:
            return value
        return _Shown(redact_text(pprint(self.cleanse_setting(name, value))))


class SecretSafeExceptionReporter(ExceptionReporter):
    """The finished report (HTML for the debug page and mails, text), redacted."""

    def get_traceback_html(self) -> SafeString:
        # Still safe: masking only replaces characters inside escaped text.
        return mark_safe(redact_text(super().get_traceback_html()))  # noqa: S308

    def get_traceback_text(self) -> SafeString:
        return mark_safe(redact_text(super().get_traceback_text()))  # noqa: S308
