"""The Universal side of the token store: Universal Tokens (the partner's, up to
60 days) and Universal App Tokens (one app, 1-24 h), minted, and minted again
before they lapse.

`services.partner_app_credential` picks, by the app's token kind, between these
and the legacy chain (partner login → app token). Both tokens are stored alike
(`_Store`: ciphertext, hint, source, set and expiry times on the app). Minting
happens under a lock on the app's row, so workers sharing an app mint once; a
Universal Token still fresh on another app of the same partner is shared rather
than minted, since Gupshup allows 3 active per admin (and 3 UATs per app).
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from audit.models import AuditAction
from audit.services import audit_secrets_changed
from gupshup_admin import crypto
from gupshup_admin.exceptions import ApplicationError
from gupshup_admin.exchanges import http_client
from gupshup_admin.models import PartnerApp, TokenSource
from gupshup_admin.providers.errors import AuthenticationError, ProviderError
from gupshup_admin.providers.gupshup import (
    Caller,
    GupshupPartnerClient,
    MintedToken,
)
from gupshup_admin.providers.parsing import jwt_claims

logger = logging.getLogger(__name__)
_PARTS = ("encrypted", "hint", "source", "set_at", "expires_at")


@dataclass(frozen=True)
class _Store:
    """Where one kind of token lives on the app: the `<field>_…` columns."""

    label: str
    field: str
    remedy: str  # what the admin can do when it cannot be minted here
    margin: Callable[[], timedelta]  # minted again when less than this is left

    def value(self, app: PartnerApp) -> str:
        return crypto.decrypt(self.ciphertext(app))

    def ciphertext(self, app: PartnerApp) -> str:
        return str(getattr(app, f"{self.field}_encrypted"))

    def expires_at(self, app: PartnerApp) -> datetime | None:
        value: datetime | None = getattr(app, f"{self.field}_expires_at")
        return value

    def hint(self, app: PartnerApp) -> str:
        return str(getattr(app, f"{self.field}_hint"))

    def valid(self, app: PartnerApp, now: datetime) -> bool:
        """Stored and not past its expiry (an unknown expiry counts as valid)."""
        expires_at = self.expires_at(app)
        return bool(self.ciphertext(app)) and (expires_at is None or expires_at > now)

    def fresh(self, app: PartnerApp, now: datetime) -> bool:
        """Valid for longer than the refresh margin."""
        expires_at = self.expires_at(app)
        if not self.ciphertext(app):
            return False
        return expires_at is None or expires_at - now > self.margin()

    def set(
        self, app: PartnerApp, token: str, *, source: str, expires_at: datetime | None
    ) -> None:
        setter: Callable[..., None] = getattr(app, f"set_{self.field}")
        setter(token, source=source, expires_at=expires_at)

    @property
    def update_fields(self) -> list[str]:
        return [f"{self.field}_{part}" for part in _PARTS] + ["updated_at"]


UNIVERSAL_TOKEN = _Store(
    "Universal Token",
    "universal_token",
    "Paste a new Universal Token (Gupshup shows one only when it is minted: POST "
    "/partner/{partner id}/auth/token), or let this tool mint it: tick 'mint "
    "Universal Tokens' and give the partner id, e-mail and client secret.",
    lambda: timedelta(days=settings.UNIVERSAL_TOKEN_REFRESH_DAYS),
)
UNIVERSAL_APP_TOKEN = _Store(
    "Universal App Token",
    "universal_app_token",
    "Paste a new Universal App Token, or store a Universal Token (or partner "
    "credentials with 'mint Universal Tokens') so that it is minted and "
    "refreshed automatically.",
    lambda: timedelta(minutes=settings.UNIVERSAL_APP_TOKEN_REFRESH_MINUTES),
)
STORES = (UNIVERSAL_TOKEN, UNIVERSAL_APP_TOKEN)


def pasted_token_expiry(token: str) -> datetime | None:
    """When a pasted Universal (App) Token expires, from its JWT `exp` claim;
    None when it does not say."""
    exp = jwt_claims(token).get("exp")
    if isinstance(exp, bool) or not isinstance(exp, int | float):
        return None
    return datetime.fromtimestamp(exp, tz=UTC)


@sensitive_variables()  # every frame below may hold the plaintext
def universal_token_for(
    *, app: PartnerApp, user_id: int | None, force: bool = False
) -> str:
    """The app's Universal Token: minted when missing, within
    UNIVERSAL_TOKEN_REFRESH_DAYS of its expiry, or `force`d (Gupshup refused it).

    One that cannot be minted here is used until it lapses (the app page warns
    first); when a mint fails but the stored token is still valid, that is used
    and the failure logged.

    Raises ApplicationError when nothing usable is stored and it cannot be
    minted; ProviderError when Gupshup refuses the mint.
    """
    return _token_for(
        app,
        user_id,
        UNIVERSAL_TOKEN,
        force=force,
        can_mint=app.can_mint_universal_token,
        mint=lambda locked: _mint_universal_token(locked, user_id),
        share=None if force else _fresh_sibling_token,
    )


@sensitive_variables()  # every frame below may hold the plaintext
def universal_app_token_for(
    *, app: PartnerApp, user_id: int | None, force: bool = False
) -> str:
    """The app's Universal App Token: minted with the Universal Token when
    missing, within UNIVERSAL_APP_TOKEN_REFRESH_MINUTES of its expiry, or
    `force`d. A Universal Token Gupshup refuses while minting is minted again
    once, when it can be.

    Raises ApplicationError, ProviderError as `universal_token_for`.
    """
    return _token_for(
        app,
        user_id,
        UNIVERSAL_APP_TOKEN,
        force=force,
        can_mint=app.has_universal_token or app.can_mint_universal_token,
        mint=lambda locked: _mint_universal_app_token(locked, user_id),
        share=None,
    )


def _token_for(
    app: PartnerApp,
    user_id: int | None,
    store: _Store,
    *,
    force: bool,
    can_mint: bool,
    mint: Callable[[PartnerApp], MintedToken],
    share: Callable[[PartnerApp], PartnerApp | None] | None,
) -> str:
    now = timezone.now()
    if not force and store.fresh(app, now):
        return store.value(app)
    if not can_mint:
        if not force and store.valid(app, now):
            return store.value(app)
        raise ApplicationError(_cannot_mint(app, store, refused=force, now=now))
    try:
        return _mint_locked(app, user_id, store, force=force, mint=mint, share=share)
    except ProviderError as exc:
        if force or not store.valid(app, now):
            raise
        logger.warning(
            "%s: minting a new %s failed (%s); the stored one is used until it "
            "expires.",
            app,
            store.label,
            exc,
        )
        return store.value(app)


def _mint_locked(
    app: PartnerApp,
    user_id: int | None,
    store: _Store,
    *,
    force: bool,
    mint: Callable[[PartnerApp], MintedToken],
    share: Callable[[PartnerApp], PartnerApp | None] | None,
) -> str:
    """Mint under the app row's lock. The exchange row of a refused mint is
    kept: the refusal is raised only once the transaction has committed."""
    refused: ProviderError | None = None
    with transaction.atomic():
        locked = PartnerApp.objects.select_for_update().get(pk=app.pk)
        replaced = store.ciphertext(locked) != store.ciphertext(app)
        if store.fresh(locked, timezone.now()) and (replaced or not force):
            _copy_tokens(locked, app)  # another worker minted it meanwhile
            return store.value(app)
        sibling = share(locked) if share is not None else None
        if sibling is not None:
            _take_shared(locked, sibling, store, user_id)
        else:
            try:
                minted = mint(locked)
            except ProviderError as exc:
                refused = exc
            else:
                _store_minted(locked, store, minted, user_id)
        _copy_tokens(locked, app)
    if refused is not None:
        raise refused
    return store.value(app)


def _store_minted(
    app: PartnerApp, store: _Store, minted: MintedToken, user_id: int | None
) -> None:
    expires_at = (
        datetime.fromtimestamp(minted.expires_on / 1000, tz=UTC)
        if minted.expires_on
        else None
    )
    store.set(app, minted.token, source=TokenSource.MINTED, expires_at=expires_at)
    app.save(update_fields=store.update_fields)
    audit_secrets_changed(
        actor_id=user_id,
        target=app,
        changed={store.label: f"minted {store.hint(app)}"},
        action=AuditAction.APP_TOKEN_FETCHED,
    )


def _take_shared(
    app: PartnerApp, sibling: PartnerApp, store: _Store, user_id: int | None
) -> None:
    for part in _PARTS:
        name = f"{store.field}_{part}"
        setattr(app, name, getattr(sibling, name))
    app.save(update_fields=store.update_fields)
    audit_secrets_changed(
        actor_id=user_id,
        target=app,
        changed={store.label: f"shared {store.hint(app)} from {sibling}"},
        action=AuditAction.APP_TOKEN_FETCHED,
    )


def _fresh_sibling_token(app: PartnerApp) -> PartnerApp | None:
    """Another app of the same partner holding a minted Universal Token that is
    still fresh, the longest-lived first."""
    if not app.gupshup_partner_id:
        return None
    margin = UNIVERSAL_TOKEN.margin()
    return (
        PartnerApp.objects.exclude(pk=app.pk)
        .filter(
            gupshup_partner_id=app.gupshup_partner_id,
            partner_email__iexact=app.partner_email,
            universal_token_source=TokenSource.MINTED,
            universal_token_expires_at__gt=timezone.now() + margin,
        )
        .order_by("-universal_token_expires_at")
        .first()
    )


def _copy_tokens(source: PartnerApp, target: PartnerApp) -> None:
    for store in STORES:
        for part in _PARTS:
            name = f"{store.field}_{part}"
            setattr(target, name, getattr(source, name))


def _partner_client(app: PartnerApp, user_id: int | None) -> GupshupPartnerClient:
    caller = Caller(partner_app_id=app.pk, user_id=user_id)
    return GupshupPartnerClient(http_client(), settings.GUPSHUP_API_BASE, caller)


def _token_name() -> str:
    # Names must be unique among active tokens, and a refresh mints the next
    # one while the last is still active.
    return f"gupshup-admin-{timezone.now():%Y%m%d-%H%M%S}-{secrets.token_hex(2)}"


@sensitive_variables()  # every frame below may hold the plaintext
def _mint_universal_token(app: PartnerApp, user_id: int | None) -> MintedToken:
    return _partner_client(app, user_id).mint_universal_token(
        partner_id=app.gupshup_partner_id,
        email=app.partner_email,
        client_secret=app.partner_secret,
        name=_token_name(),
    )


@sensitive_variables()  # every frame below may hold the plaintext
def _mint_universal_app_token(app: PartnerApp, user_id: int | None) -> MintedToken:
    client = _partner_client(app, user_id)
    universal = universal_token_for(app=app, user_id=user_id)
    try:
        return client.mint_universal_app_token(
            app_id=app.app_id, universal_token=universal, name=_token_name()
        )
    except AuthenticationError:
        if not app.can_mint_universal_token:
            raise
    # The Universal Token itself was refused (revoked, or expired early): once.
    universal = universal_token_for(app=app, user_id=user_id, force=True)
    return client.mint_universal_app_token(
        app_id=app.app_id, universal_token=universal, name=_token_name()
    )


def _cannot_mint(
    app: PartnerApp, store: _Store, *, refused: bool, now: datetime
) -> str:
    hint = store.hint(app)
    expires_at = store.expires_at(app)
    if refused:
        what = f"Gupshup refused the {store.label} {hint}"
    elif not store.ciphertext(app):
        what = f"no {store.label} is stored"
    elif expires_at is not None and expires_at <= now:
        what = f"the {store.label} {hint} expired on {expires_at:%Y-%m-%d %H:%M} UTC"
    else:
        what = f"the {store.label} {hint} cannot be used"
    return f"{app}: {what}, and it cannot be minted here. {store.remedy}"
