"""Partner-app services: secrets, tokens and authenticated clients.

Views, admin actions and tasks call these; these call the provider clients. The
app's health, templates and callback registration are in `app_sync.py`; minting
and refreshing Universal (App) Tokens in `token_store.py`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import TypeVar

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from audit.models import AuditAction
from audit.services import audit_secrets_changed
from gupshup_admin import token_store
from gupshup_admin.exceptions import ApplicationError
from gupshup_admin.exchanges import http_client
from gupshup_admin.models import (
    CommBoxChannel,
    HealthStatus,
    PartnerApp,
    TokenKind,
    TokenSource,
)
from gupshup_admin.providers.commbox import CommBoxClient
from gupshup_admin.providers.errors import (
    AppNotUsableError,
    AuthenticationError,
    PartnerLoginError,
)
from gupshup_admin.providers.gupshup import (
    Caller,
    GupshupAppClient,
    GupshupPartnerClient,
)
from gupshup_admin.providers.http import AuthScheme, Credential

logger = logging.getLogger(__name__)
T = TypeVar("T")


def _caller(app: PartnerApp, user_id: int | None, ref: str = "") -> Caller:
    return Caller(partner_app_id=app.pk, user_id=user_id, ref=ref)


@sensitive_variables()  # every frame below may hold the plaintext
def partner_app_update_secrets(
    *,
    app: PartnerApp,
    app_token: str = "",
    partner_secret: str = "",
    clear_app_token: bool = False,
    universal_token: str = "",
    universal_app_token: str = "",
    clear_universal_tokens: bool = False,
    user_id: int | None = None,
) -> PartnerApp:
    """Store new secrets (blank = keep the stored one) and save the app. A pasted
    Universal (App) Token's expiry is read from it (its JWT `exp`).

    A secret that changed goes to the audit trail as its field and masked hint.
    """
    changed: dict[str, str] = {}  # secret → its new hint ("" when cleared)
    if clear_universal_tokens:
        for store in token_store.STORES:
            if store.ciphertext(app):
                changed[store.label] = ""
            store.set(app, "", source=TokenSource.NONE, expires_at=None)
    for store, pasted in (
        (token_store.UNIVERSAL_TOKEN, universal_token),
        (token_store.UNIVERSAL_APP_TOKEN, universal_app_token),
    ):
        if pasted and (not store.ciphertext(app) or pasted != store.value(app)):
            expires_at = token_store.pasted_token_expiry(pasted)
            store.set(app, pasted, source=TokenSource.PASTED, expires_at=expires_at)
            app.health_status = HealthStatus.UNKNOWN
            changed[store.label] = f"pasted {store.hint(app)}"
    if clear_app_token and app.has_app_token:
        changed["app token"] = ""
    if clear_app_token:
        app.set_app_token("", source=TokenSource.NONE)
    if app_token and app_token != app.app_token:
        app.set_app_token(app_token, source=TokenSource.PASTED)
        app.health_status = HealthStatus.UNKNOWN
        changed["app token"] = f"pasted {app.app_token_hint}"
    if partner_secret and partner_secret != app.partner_secret:
        app.set_partner_secret(partner_secret)
        changed["partner client secret"] = f"set {app.partner_secret_hint}"
    app.full_clean()
    with transaction.atomic():
        app.save()
        if changed:
            audit_secrets_changed(actor_id=user_id, target=app, changed=changed)
    return app


@sensitive_variables()  # every frame below may hold the plaintext
def _partner_jwt(app: PartnerApp, user_id: int | None, *, force: bool = False) -> str:
    """The cached partner JWT, logging in again when it is missing or old."""
    if not app.has_partner_credentials:
        raise ApplicationError(
            f"{app}: no partner credentials are stored. Add the partner e-mail and "
            "client secret, or paste an app token."
        )
    cached = "" if force else app.partner_token()
    if cached:
        return cached
    client = GupshupPartnerClient(
        http_client(), settings.GUPSHUP_API_BASE, _caller(app, user_id)
    )
    login = client.login(email=app.partner_email, password=app.partner_secret)
    ttl = timedelta(hours=settings.PARTNER_TOKEN_TTL_HOURS)
    app.set_partner_token(login.token, expires_at=timezone.now() + ttl)
    app.save(
        update_fields=[
            "partner_token_encrypted",
            "partner_token_expires_at",
            "updated_at",
        ]
    )
    return login.token


@sensitive_variables()  # every frame below may hold the plaintext
def partner_app_fetch_token(*, app: PartnerApp, user_id: int | None = None) -> str:
    """Fetch the app token with the partner credentials (login → app token).

    Raises ApplicationError when no credentials are stored, ProviderError when
    Gupshup refuses. A refused cached JWT is replaced once by a fresh login.
    """
    try:
        return _fetch_token_once(app, user_id, force_login=False)
    except AuthenticationError as exc:
        # A refused login is the credentials' fault: logging in again cannot help.
        if isinstance(exc, PartnerLoginError) or not app.partner_token_encrypted:
            raise
        return _fetch_token_once(app, user_id, force_login=True)


def _fetch_token_once(
    app: PartnerApp, user_id: int | None, *, force_login: bool
) -> str:
    jwt = _partner_jwt(app, user_id, force=force_login)
    client = GupshupPartnerClient(
        http_client(), settings.GUPSHUP_API_BASE, _caller(app, user_id)
    )
    token = client.app_token(app_id=app.app_id, partner_token=jwt).token
    app.set_app_token(token, source=TokenSource.FETCHED)
    with transaction.atomic():
        app.save(
            update_fields=[
                "app_token_encrypted",
                "app_token_hint",
                "app_token_source",
                "app_token_updated_at",
                "updated_at",
            ]
        )
        audit_secrets_changed(
            actor_id=user_id,
            target=app,
            changed={"app token": f"fetched {app.app_token_hint}"},
            action=AuditAction.APP_TOKEN_FETCHED,
        )
    return token


@sensitive_variables()  # every frame below may hold the plaintext
def partner_app_token(*, app: PartnerApp, user_id: int | None = None) -> str:
    """The token for app calls: the stored one, or one fetched with credentials.

    Raises ApplicationError when the app has neither.
    """
    if app.has_app_token:
        return app.app_token
    if app.has_partner_credentials:
        return partner_app_fetch_token(app=app, user_id=user_id)
    raise ApplicationError(
        f"{app}: no app token and no partner credentials. Paste the app's sk_ token "
        "or add partner credentials on the app's page."
    )


@sensitive_variables()  # every frame below may hold the plaintext
def partner_app_credential(
    *, app: PartnerApp, user_id: int | None = None, refresh: bool = False
) -> Credential:
    """What the app's calls authenticate with, by its token kind: the legacy sk_
    token (sent raw), or a Universal (App) Token (sent as Bearer), minted again
    when it is missing or about to lapse. `refresh` replaces one Gupshup refused.

    Raises ApplicationError when the app has nothing usable, ProviderError when
    Gupshup refuses a login, token fetch or mint.
    """
    if app.token_kind == TokenKind.UNIVERSAL:
        token = token_store.universal_token_for(app=app, user_id=user_id, force=refresh)
        return Credential(token, AuthScheme.BEARER)
    if app.token_kind == TokenKind.UNIVERSAL_APP:
        token = token_store.universal_app_token_for(
            app=app, user_id=user_id, force=refresh
        )
        return Credential(token, AuthScheme.BEARER)
    if refresh:
        return Credential(partner_app_fetch_token(app=app, user_id=user_id))
    return Credential(partner_app_token(app=app, user_id=user_id))


def partner_app_refresh_token(*, app: PartnerApp, user_id: int | None = None) -> str:
    """Replace the app's token now (the page's button) and say what it is now.

    Raises ApplicationError, ProviderError as `partner_app_credential`.
    """
    partner_app_credential(app=app, user_id=user_id, refresh=True)
    if app.token_kind == TokenKind.LEGACY:
        return f"fetched app token {app.app_token_hint}"
    store = (
        token_store.UNIVERSAL_TOKEN
        if app.token_kind == TokenKind.UNIVERSAL
        else token_store.UNIVERSAL_APP_TOKEN
    )
    expires_at = store.expires_at(app)
    until = f", valid until {expires_at:%Y-%m-%d %H:%M} UTC" if expires_at else ""
    return f"minted {store.label} {store.hint(app)}{until}"


@sensitive_variables("credential")
def with_app_client(
    *,
    app: PartnerApp,
    user_id: int | None,
    call: Callable[[GupshupAppClient], T],
    ref: str = "",
) -> T:
    """Run `call` with an authenticated client; `ref` tags its exchange rows.

    On a 401 the token is refreshed once (when the app's credentials allow it:
    partner credentials for the legacy kind, minting for the universal ones) and
    the call repeated; a second 401 marks the app unhealthy and is raised. An
    answer about the app itself (AppNotUsableError) marks it unhealthy in
    Gupshup's words and is raised.
    """
    try:
        credential = partner_app_credential(app=app, user_id=user_id)
    except AuthenticationError as exc:  # the partner login or a mint, first time
        partner_app_mark_unhealthy(app, exc)
        raise
    try:
        return _call_as_app(app, call, _client(app, user_id, credential, ref))
    except AuthenticationError as exc:
        if not app.can_refresh_token:
            partner_app_mark_unhealthy(app, exc)
            raise
    try:
        credential = partner_app_credential(app=app, user_id=user_id, refresh=True)
        return _call_as_app(app, call, _client(app, user_id, credential, ref))
    except AuthenticationError as exc:
        partner_app_mark_unhealthy(app, exc)
        raise


def _client(
    app: PartnerApp, user_id: int | None, credential: Credential, ref: str
) -> GupshupAppClient:
    return partner_app_client(app=app, user_id=user_id, credential=credential, ref=ref)


def _call_as_app(
    app: PartnerApp, call: Callable[[GupshupAppClient], T], client: GupshupAppClient
) -> T:
    try:
        return call(client)
    except AppNotUsableError as exc:
        partner_app_mark_unhealthy(app, exc)
        raise


@sensitive_variables("credential")
def partner_app_client(
    *, app: PartnerApp, user_id: int | None, credential: Credential, ref: str = ""
) -> GupshupAppClient:
    """A client of the app's calls with `credential`; `ref` tags its exchange rows.
    Callers that handle a 401 themselves (the dispatcher); others use
    `with_app_client`."""
    return GupshupAppClient(
        http_client(),
        settings.GUPSHUP_API_BASE,
        app_id=app.app_id,
        token=credential.token,
        scheme=credential.scheme,
        caller=_caller(app, user_id, ref),
    )


def partner_app_set_health(
    app: PartnerApp, status: str, message: str, details: dict[str, object]
) -> None:
    app.health_status = status
    app.health_message = message
    app.health_details = details
    app.health_checked_at = timezone.now()
    app.save(
        update_fields=[
            "health_status",
            "health_message",
            "health_details",
            "health_checked_at",
            "updated_at",
        ]
    )


def partner_app_mark_unhealthy(app: PartnerApp, exc: Exception) -> None:
    partner_app_set_health(app, HealthStatus.UNHEALTHY, str(exc), {})


@sensitive_variables()  # every frame below may hold the plaintext
def commbox_channel_update_secrets(
    *, channel: CommBoxChannel, api_key: str = "", user_id: int | None = None
) -> CommBoxChannel:
    """Store a new API key (blank = keep the stored one) and save the channel;
    a changed key goes to the audit trail as its hint. The same key pasted again
    changes nothing, so its age keeps counting."""
    changed = bool(api_key) and (
        not channel.api_key_encrypted or api_key != channel.api_key
    )
    if changed:
        channel.set_api_key(api_key)
    if changed:  # what was learnt of the old key says nothing of the new one
        channel.health_status, channel.health_message = HealthStatus.UNKNOWN, ""
    channel.full_clean()
    with transaction.atomic():
        channel.save()
        if changed:
            audit_secrets_changed(
                actor_id=user_id,
                target=channel,
                changed={"API key": f"set {channel.api_key_hint}"},
                action=AuditAction.CHANNEL_KEY_CHANGED,
            )
    return channel


@sensitive_variables("api_key")
def commbox_client(
    *, channel: CommBoxChannel, user_id: int | None = None
) -> CommBoxClient:
    """A client for one channel. Raises ApplicationError when it has no API key."""
    if not channel.api_key_encrypted:
        raise ApplicationError(f"CommBox channel {channel}: no API key is stored.")
    return CommBoxClient(
        http_client(),
        settings.COMMBOX_API_BASE,
        stream_id=channel.stream_id,
        api_key=channel.api_key,
        channel_id=channel.pk,
        user_id=user_id,
    )
