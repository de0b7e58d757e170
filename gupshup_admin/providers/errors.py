"""Provider errors: one hierarchy, one mapping table.

Each error carries `permanent` (retrying the same request cannot help),
`outcome_unknown` (the request may have reached the provider: never resend
blindly), the HTTP status and the provider's own message, and the id of the
`ApiExchange` row that recorded it.
"""

from __future__ import annotations

from typing import Any, ClassVar

from gupshup_admin.providers.failure_codes import (
    APP_BILLING_OFF,
    APP_NOT_LIVE,
    APP_UNKNOWN,
    failure_explained,
)


class ProviderError(Exception):
    """Base class. `str()` says what the provider answered and what to do."""

    permanent: ClassVar[bool] = True
    outcome_unknown: ClassVar[bool] = False
    default_hint: ClassVar[str] = ""

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        provider_message: str = "",
        provider_code: str = "",
        exchange_id: int | None = None,
        retry_after: float | None = None,
        hint: str = "",
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.provider_message = provider_message
        self.provider_code = provider_code
        self.exchange_id = exchange_id
        self.retry_after = retry_after
        self.hint = hint or self.default_hint

    def __str__(self) -> str:
        text = self.message
        if self.hint:
            text = f"{text} {self.hint}"
        return text


class AuthenticationError(ProviderError):
    """401/403, or a 400 whose words say the same: the token or credentials were
    refused. This class is the app token's; the subclasses name the others."""

    credential: ClassVar[str] = "the app token"
    # What to do, for a campaign paused by repeated refusals ({app}: the app).
    fix: ClassVar[str] = "Fix the token of {app} (paste a new one or fetch it)"
    default_hint = "Check the app token (or fetch a new one) and try again."


class PartnerLoginError(AuthenticationError):
    """The partner login refused the partner e-mail or client secret."""

    credential = "the partner e-mail or client secret"
    fix = (
        "Fix the partner e-mail or client secret of {app} (a client secret expires "
        "3 months after it was generated: make a new one in the Partner Portal)"
    )
    default_hint = (
        "Gupshup refused the partner e-mail or client secret: check both under "
        "'Partner credentials' on the app's page. A client secret expires at most "
        "3 months after it was generated; if it is older, generate a new one in "
        "the Partner Portal and store it here."
    )


class PartnerTokenError(AuthenticationError):
    """The token endpoint refused the partner JWT (expired or revoked)."""

    credential = "the partner token"
    fix = "Fetch the app token of {app} again (it logs in afresh)"
    default_hint = (
        "Gupshup refused the partner token (the JWT of the partner login) when "
        "asked for the app token; a fresh login replaces it. If this persists, "
        "check the partner credentials."
    )


class CommBoxKeyError(AuthenticationError):
    """CommBox refused the channel's API key."""

    credential = "the CommBox API key"
    fix = "Paste a current CommBox API key on the channel's page"
    default_hint = (
        "CommBox refused the channel's key: paste a current CommBox API key on "
        "the channel's page (CommBox management console → API keys). A key lives "
        "at most a year, and a revoked one 30 days more."
    )


class AppNotUsableError(ProviderError):
    """A 400 about the app itself, not about what was sent or to whom (Callback
    Billing off, an app id Gupshup does not know, an app that is not live).

    Every call of the app gets the same answer until someone fixes the app, so
    it is never a verdict on a recipient: the app is marked unhealthy and its
    campaigns pause (campaigns/dispatch/outcomes.py). `provider_code` is this project's
    code for the answer (failure_codes.py, where `about` is "app").
    """


class NotCapiAppError(ProviderError):
    """400 "Only CAPI apps allowed to generate media ID"."""

    default_hint = (
        "This app is not a Cloud API (CAPI) app: media ids can only be made for "
        "CAPI apps. Untick 'Cloud API app' or migrate the app in the Partner Portal."
    )


class PayloadTooLargeError(ProviderError):
    """413: the file is over the provider's size limit."""

    default_hint = "Gupshup accepts files up to 100 MB."


class InvalidRequestError(ProviderError):
    """Any other 4xx: the request itself is wrong; resending it cannot help."""


class RateLimitedError(ProviderError):
    """429: slow down. Never a failure of the thing being sent."""

    permanent = False
    default_hint = (
        "The provider is rate limiting this app; sending slows down and resumes."
    )


class ServerError(ProviderError):
    """5xx: the provider failed; worth retrying later."""

    permanent = False
    default_hint = "The provider had an internal error; try again in a few minutes."


class ConnectionFailedError(ProviderError):
    """The request never reached the provider (DNS, refused, connect timeout)."""

    permanent = False


class OutcomeUnknownError(ProviderError):
    """The request left but no usable answer came back (read timeout, reset).

    The provider may have acted on it: a send must not be retried blindly.
    """

    permanent = False
    outcome_unknown = True


class BadResponseError(OutcomeUnknownError):
    """A 2xx whose body is not the documented JSON."""


def _provider_message(body: Any) -> str:
    if isinstance(body, dict):
        for key in ("message", "description", "error"):
            value = body.get(key)
            if isinstance(value, str) and value:
                return value
            if isinstance(value, dict) and isinstance(value.get("message"), str):
                return str(value["message"])
    return ""


# Some endpoints (health among them) answer a stale token with 400 and these words.
_AUTH_WORDS = ("authentication failed", "unauthorized access")


# Which credential a refusal is about, by the call that was refused.
_REFUSED_CREDENTIAL: dict[tuple[str, str], type[AuthenticationError]] = {
    ("gupshup", "partner_login"): PartnerLoginError,
    ("gupshup", "app_token"): PartnerTokenError,
}


def _authentication_error(provider: str, endpoint: str) -> type[AuthenticationError]:
    if provider == "commbox":
        return CommBoxKeyError
    return _REFUSED_CREDENTIAL.get((provider, endpoint), AuthenticationError)


def _refused_credentials(status_code: int, said: str) -> bool:
    if status_code in (401, 403):
        return True
    return status_code == 400 and any(w in said.lower() for w in _AUTH_WORDS)


# Gupshup's answers about the app, by words (it sends no code with them).
_APP_ANSWERS = (
    ("callback billing must be enabled", APP_BILLING_OFF),
    ("invalid app details", APP_UNKNOWN),
    ("app is not live", APP_NOT_LIVE),
)


def _app_answer_code(said: str) -> str:
    lowered = said.lower()
    return next((code for words, code in _APP_ANSWERS if words in lowered), "")


def error_for_response(
    status_code: int, body: Any, *, provider: str, endpoint: str
) -> ProviderError:
    """Map an HTTP error answer to an error class: the one mapping table."""
    said = _provider_message(body)
    where = f"{provider} {endpoint}"
    quoted = f': "{said}"' if said else ""
    message = f"{where} answered HTTP {status_code}{quoted}."
    kwargs: dict[str, Any] = {"status_code": status_code, "provider_message": said}
    if _refused_credentials(status_code, said):
        return _authentication_error(provider, endpoint)(
            f"Authentication failed: {where} answered HTTP {status_code}{quoted}.",
            **kwargs,
        )
    if status_code == 400 and "only capi apps" in said.lower():
        return NotCapiAppError(message, **kwargs)
    app_code = (
        _app_answer_code(said) if (status_code, provider) == (400, "gupshup") else ""
    )
    if app_code:
        return AppNotUsableError(
            f"{where} answered HTTP {status_code}{quoted}: this is about the app, "
            "not the recipient.",
            provider_code=app_code,
            hint=failure_explained(app_code).action,
            **kwargs,
        )
    if status_code == 413:
        return PayloadTooLargeError(message, **kwargs)
    if status_code == 429:
        return RateLimitedError(message, **kwargs)
    if status_code >= 500:
        return ServerError(message, **kwargs)
    return InvalidRequestError(message, **kwargs)
