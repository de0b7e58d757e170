"""How old each stored secret is and when it is expected to lapse (a selector).

One rule for every secret (`_age`): a secret has the time it was set here and
either a known expiry (a token that says when it ends), an expected one (set time
plus the provider's longest lifetime: approximate, since it may have been made
before it was pasted here), or none. It is `expiring` inside its warning window
and `expired` after its end. The lifetimes and windows are settings, read at run
time (`PARTNER_SECRET_*`, `COMMBOX_KEY_*`).
"""

from __future__ import annotations

import enum
import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from gupshup_admin.models import CommBoxChannel, PartnerApp


class AgeState(enum.StrEnum):
    OK = "ok"
    EXPIRING = "expiring"
    EXPIRED = "expired"
    UNKNOWN = "unknown"  # expected to lapse, but we do not know when it was set


@dataclass(frozen=True)
class SecretAge:
    """One stored secret's age: `text` says it, `advice` what to do ("" if fine)."""

    name: str
    state: AgeState
    text: str
    advice: str = ""

    @property
    def needs_action(self) -> bool:
        return self.state in (AgeState.EXPIRING, AgeState.EXPIRED)

    def __str__(self) -> str:
        advice = f": {self.advice}" if self.advice else ""
        return f"{self.name}: {self.text}{advice}"


def partner_app_secret_ages(
    *, app: PartnerApp, now: datetime | None = None
) -> list[SecretAge]:
    """The age of each secret the app stores, in the order the app page shows them."""
    now = now or timezone.now()
    ages = []
    if app.has_app_token:
        ages.append(
            _age(
                name="app token",
                set_at=app.app_token_updated_at,
                now=now,
                # Gupshup answers `expiresOn: 0` for sk_ tokens: they do not expire.
            )
        )
    if app.partner_secret_encrypted:
        days = settings.PARTNER_SECRET_LIFETIME_DAYS
        ages.append(
            _age(
                name="partner client secret",
                set_at=app.partner_secret_set_at,
                now=now,
                lifetime=timedelta(days=days),
                warn=timedelta(days=settings.PARTNER_SECRET_WARN_DAYS),
                renew="generate a new client secret in Gupshup's Partner Portal and "
                f"paste it here before then (new ones last at most {days} days).",
                expired=f"Gupshup's newly generated client secrets last at most {days} "
                "days, so partner logins and token mints will be refused: generate "
                "a new client secret in the Partner Portal and paste it here.",
                unknown="it was stored before this tool recorded when secrets were "
                f"set, and new ones last at most {days} days: paste it again (or a "
                "new one) to track its age.",
            )
        )
    ages += _universal_token_ages(app, now)
    return ages


def _universal_token_ages(app: PartnerApp, now: datetime) -> list[SecretAge]:
    ages = []
    minted_again = "minted again on its next use"
    remedy = (
        "tick 'mint Universal Tokens' with the partner id and credentials, so that "
        "this tool mints it"
    )
    if app.has_universal_token:
        auto = app.can_mint_universal_token
        ages.append(
            _age(
                name="Universal Token",
                set_at=app.universal_token_set_at,
                now=now,
                expires_at=app.universal_token_expires_at,
                warn=timedelta(days=settings.UNIVERSAL_TOKEN_REFRESH_DAYS),
                renewed=minted_again if auto else "",
                renew=f"paste a new Universal Token before then, or {remedy}.",
                expired=f"Gupshup refuses it now: paste a new Universal Token, or "
                f"{remedy}.",
                expiry_unknown="it does not say when it expires (Universal Tokens "
                "live at most 60 days).",
            )
        )
    if app.has_universal_app_token:
        auto = app.has_universal_token or app.can_mint_universal_token
        store_ut = "store a Universal Token, so that it is minted automatically"
        ages.append(
            _age(
                name="Universal App Token",
                set_at=app.universal_app_token_set_at,
                now=now,
                expires_at=app.universal_app_token_expires_at,
                warn=timedelta(minutes=settings.UNIVERSAL_APP_TOKEN_REFRESH_MINUTES),
                renewed=minted_again if auto else "",
                renew=f"paste a new Universal App Token before then, or {store_ut}.",
                expired="Gupshup refuses it now: paste a new Universal App Token, "
                f"or {store_ut}.",
                expiry_unknown="it does not say when it expires (Universal App "
                "Tokens live at most 24 hours).",
            )
        )
    return ages


def commbox_channel_key_age(
    *, channel: CommBoxChannel, now: datetime | None = None
) -> SecretAge | None:
    """The age of the channel's API key, or None when it stores none."""
    if not channel.api_key_encrypted:
        return None
    days = settings.COMMBOX_KEY_LIFETIME_DAYS
    return _age(
        name="CommBox API key",
        set_at=channel.api_key_updated_at,
        now=now or timezone.now(),
        lifetime=timedelta(days=days),
        warn=timedelta(days=settings.COMMBOX_KEY_WARN_DAYS),
        renew="create a new key in the CommBox management console and paste it "
        f"here before then (CommBox rotates keys every {days} days).",
        expired=f"CommBox rotates keys every {days} days: create a new key in the "
        "CommBox management console and paste it here (a revoked key keeps "
        "working through a 30-day grace period, then uploads are refused).",
        unknown="paste the key again (or a new one) to track its age.",
    )


def secret_age_warnings(ages: Iterable[SecretAge | None]) -> list[str]:
    """One line per secret about to lapse or past its end."""
    return [str(age) for age in ages if age is not None and age.needs_action]


def _age(
    *,
    name: str,
    set_at: datetime | None,
    now: datetime,
    expires_at: datetime | None = None,
    lifetime: timedelta | None = None,
    warn: timedelta = timedelta(0),
    renew: str = "",
    expired: str = "",
    unknown: str = "",
    renewed: str = "",
    expiry_unknown: str = "",
) -> SecretAge:
    """The one rule: see the module docstring. `renewed` says how a secret this
    tool replaces by itself is replaced (then its end needs no action);
    `expiry_unknown` marks a secret that lapses at a time it does not say."""
    since = "set on an unknown date" if set_at is None else f"set {_ago(now - set_at)}"
    approximate = expires_at is None and lifetime is not None
    if expires_at is None and lifetime is not None and set_at is not None:
        expires_at = set_at + lifetime
    if expires_at is None:
        if lifetime is not None:  # it lapses, but we cannot tell when
            return SecretAge(name, AgeState.UNKNOWN, since, unknown)
        if expiry_unknown:
            text = f"{since} · expiry unknown"
            return SecretAge(name, AgeState.UNKNOWN, text, expiry_unknown)
        return SecretAge(name, AgeState.OK, f"{since} · does not expire")
    about = "about " if approximate else ""
    left = (expires_at - now).total_seconds()
    if left <= 0:
        probably = "probably " if approximate else ""
        text = f"{since} · {probably}expired {about}{_span(-left)} ago"
        state, advice = AgeState.EXPIRED, expired
    else:
        # An expected end is rounded up, so "set 74 days ago" + "in about 16
        # days" adds up to the lifetime; a known one is rounded down, to be safe.
        text = f"{since} · expires in {about}{_span(left, round_up=approximate)}"
        state = AgeState.EXPIRING if left <= warn.total_seconds() else AgeState.OK
        advice = renew if state is AgeState.EXPIRING else ""
    if state is not AgeState.OK and renewed:
        return SecretAge(name, AgeState.OK, f"{text} · {renewed}")
    return SecretAge(name, state, text, advice)


_UNITS = (("day", 86_400), ("hour", 3_600), ("minute", 60))


def _span(seconds: float, *, round_up: bool = False) -> str:
    """`74 days`, `3 hours`, `1 minute`: the largest unit that fits."""
    for unit, size in _UNITS:
        if seconds >= size:
            count = math.ceil(seconds / size) if round_up else int(seconds // size)
            return f"{count} {unit}{'' if count == 1 else 's'}"
    return "less than a minute"


def _ago(delta: timedelta) -> str:
    seconds = delta.total_seconds()
    return "just now" if seconds < 60 else f"{_span(seconds)} ago"
