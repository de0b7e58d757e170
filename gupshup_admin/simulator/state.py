"""Shared, lock-protected run-time state: config, request log, rate windows, ids.

Request threads and the callback worker all go through one SimState; every
method takes the lock, so callers never see a half-updated log or window.
"""

from __future__ import annotations

import base64
import copy
import dataclasses
import json
import math
import random
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass
from typing import Any

from gupshup_admin.simulator.config import (
    SimApp,
    SimChannel,
    SimulatorConfig,
    coerce_overrides,
)

WINDOW_SECONDS = 60.0
# Gupshup: at most 3 active Universal Tokens per admin, 3 Universal App Tokens per app.
MAX_ACTIVE_UNIVERSAL = 3
EVENT_MODES = {
    "enqueued": "ENQUEUED",
    "sent": "SENT",
    "delivered": "DELIVERED",
    "read": "READ",
    "failed": "FAILED",
}


@dataclass(frozen=True)
class Subscription:
    """A callback subscription registered through the Partner API."""

    id: str
    app_id: str
    url: str
    modes: tuple[str, ...]
    tag: str
    version: int
    meta: str
    headers: dict[str, str]
    created_on: int

    def wants(self, event_type: str) -> bool:
        """Whether this subscription asked for events of this type."""
        mode = EVENT_MODES.get(event_type, "OTHERS")
        return "ALL" in self.modes or mode in self.modes

    def to_json(self) -> dict[str, Any]:
        """The subscription as the Partner API shows it."""
        return {
            "id": self.id,
            "appId": self.app_id,
            "url": self.url,
            "modes": list(self.modes),
            "tag": self.tag,
            "version": self.version,
            "active": True,
            "meta": self.meta,
            "createdOn": self.created_on,
            "modifiedOn": self.created_on,
        }


@dataclass
class IssuedToken:
    """A Universal Token ("UT", the partner's) or Universal App Token ("UAT")."""

    kind: str
    name: str
    app_id: str | None
    created_at: float
    expires_at: float

    def active(self, now: float) -> bool:
        return self.expires_at > now

    def to_json(self, now: float) -> dict[str, Any]:
        """What may be shown of it: never its value."""
        return {
            "kind": self.kind,
            "name": self.name,
            "app_id": self.app_id,
            "created_at": self.created_at,
            "expires_at": self.expires_at,
            "active": self.active(now),
        }


class MintRefused(Exception):
    """A token mint the rules refuse: the handler answers `status` and `message`."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


class SimState:
    """Config plus everything that changes while the simulator runs."""

    def __init__(self, config: SimulatorConfig) -> None:
        self._lock = threading.RLock()
        # A validated copy, so later edits to the caller's object change nothing.
        self._config = dataclasses.replace(
            config, apps=list(config.apps), channels=list(config.channels)
        )
        self._rng = random.Random(config.seed)
        self._jwts: dict[str, float] = {}
        self.stopping = threading.Event()
        self._clear()

    def _clear(self) -> None:
        self._log: list[dict[str, Any]] = []
        self._seq = 0
        self._send_windows: dict[str, deque[float]] = {}
        self._second_windows: dict[str, deque[float]] = {}
        self._login_window: deque[float] = deque()
        self._subscriptions: dict[str, list[Subscription]] = {}
        self._sub_counter = 0
        self._sent_to: set[str] = set()
        # Universal (App) Tokens are forgotten on reset, so the per-admin and
        # per-app caps start afresh for each test.
        self._universal: dict[str, IssuedToken] = {}
        self._mint_windows: dict[tuple[str, str | None], deque[float]] = {}

    # -- config ---------------------------------------------------------------

    @property
    def config(self) -> SimulatorConfig:
        """The current config (read it only; it is replaced as a whole on change)."""
        with self._lock:
            return self._config

    def configure(self, **overrides: Any) -> SimulatorConfig:
        """Change settings at run time. Raises ValueError on a bad name or value."""
        values = coerce_overrides(overrides)
        with self._lock:
            self._config = dataclasses.replace(self._config, **values)
            if "seed" in values:
                self._rng.seed(values["seed"])
            return self._config

    def add_app(self, app: SimApp) -> None:
        """Add an app, replacing one with the same app id."""
        with self._lock:
            apps = [a for a in self._config.apps if a.app_id != app.app_id]
            self._config = dataclasses.replace(self._config, apps=[*apps, app])

    def add_channel(self, channel: SimChannel) -> None:
        """Add a CommBox channel, replacing one with the same stream id."""
        with self._lock:
            kept = [
                c for c in self._config.channels if c.stream_id != channel.stream_id
            ]
            channels = [*kept, channel]
            self._config = dataclasses.replace(self._config, channels=channels)

    def reset(self) -> None:
        """Forget logs, rate windows, subscriptions and Universal (App) Tokens;
        keep config and partner JWTs."""
        with self._lock:
            self._clear()
            self._rng.seed(self._config.seed)

    # -- request log ----------------------------------------------------------

    def record(self, entry: dict[str, Any]) -> dict[str, Any]:
        """Append a request to the log, numbering it. Returns the entry."""
        with self._lock:
            self._seq += 1
            entry["seq"] = self._seq
            self._log.append(entry)
            return entry

    def requests(self, endpoint: str | None = None) -> list[dict[str, Any]]:
        """A deep copy of the request log, optionally of one endpoint only."""
        with self._lock:
            rows = [r for r in self._log if endpoint in (None, r["endpoint"])]
            return copy.deepcopy(rows)

    def request_count(self) -> int:
        """How many requests the log holds."""
        with self._lock:
            return len(self._log)

    # -- rate limits ----------------------------------------------------------

    def take_send_slot(self, app: SimApp) -> bool:
        """Count one send for the app; False when its sliding minute (or, where
        one is set, its sliding second) is full. A refused send counts in
        neither."""
        with self._lock:
            now = time.monotonic()
            minute = self._send_windows.setdefault(app.app_id, deque())
            second = self._second_windows.setdefault(app.app_id, deque())
            per_second = self._config.per_second_for(app)
            if not _room(minute, self._config.rate_for(app), WINDOW_SECONDS, now):
                return False
            if per_second is not None and not _room(second, per_second, 1.0, now):
                return False
            minute.append(now)
            second.append(now)
            return True

    def latency(self) -> float:
        """How long this answer waits: the median, spread log-normally."""
        config = self._config
        if config.latency <= 0 or config.latency_spread <= 0:
            return config.latency
        with self._lock:
            return config.latency * math.exp(
                self._rng.gauss(0.0, config.latency_spread)
            )

    def take_login_slot(self) -> bool:
        """Count one partner login; False past the per-minute limit."""
        with self._lock:
            return _take(self._login_window, self._config.login_rate_per_minute)

    # -- partner tokens -------------------------------------------------------

    def issue_jwt(self, email: str) -> str:
        """Make and remember a fresh JWT-looking partner token."""
        now = time.time()
        with self._lock:
            ttl = self._config.partner_token_ttl
            token = self._make_jwt(
                {"sub": email, "iat": int(now), "exp": int(now + ttl)}
            )
            self._jwts[token] = now + ttl
            return token

    def _make_jwt(self, claims: dict[str, Any]) -> str:
        with self._lock:
            claims = {**claims, "jti": self.new_uuid()}
            signature = self._rng.randbytes(32)
            header = {"alg": "HS256", "typ": "JWT"}
            return ".".join([_b64(header), _b64(claims), _b64u(signature)])

    def jwt_valid(self, token: str) -> bool:
        """True for a token this simulator issued that has not expired."""
        with self._lock:
            expires_at = self._jwts.get(token)
        return expires_at is not None and expires_at > time.time()

    def expire_jwts(self) -> None:
        """Make every issued partner token expired (to test refreshing)."""
        with self._lock:
            self._jwts = dict.fromkeys(self._jwts, 0.0)

    # -- Universal Tokens -----------------------------------------------------

    def take_mint_slot(self, kind: str, app_id: str | None = None) -> bool:
        """Count one mint (UT per partner, UAT per app); False past the limit."""
        with self._lock:
            limit = (
                self._config.universal_token_mints_per_minute
                if kind == "UT"
                else self._config.universal_app_token_mints_per_minute
            )
            window = self._mint_windows.setdefault((kind, app_id), deque())
            return _take(window, limit)

    def issue_universal(
        self, kind: str, *, name: str, expires_at: float, app_id: str | None = None
    ) -> str:
        """Mint a UT or a UAT (for `app_id`) and remember it.

        Raises MintRefused when an active token of the same scope has the name,
        or three are active already.
        """
        now = time.time()
        with self._lock:
            active = [
                t
                for t in self._universal.values()
                if t.kind == kind and t.app_id == app_id and t.active(now)
            ]
            if any(t.name == name for t in active):
                raise MintRefused(409, f"An active token is already named {name!r}")
            if len(active) >= MAX_ACTIVE_UNIVERSAL:
                raise MintRefused(
                    400,
                    f"At most {MAX_ACTIVE_UNIVERSAL} active tokens are allowed: "
                    "revoke one or wait for one to expire",
                )
            claims: dict[str, Any] = {
                "typ": kind,
                "sub": app_id or self._config.partner_email,
                "iat": int(now),
                "exp": int(expires_at),
            }
            token = self._make_jwt(claims)
            self._universal[token] = IssuedToken(kind, name, app_id, now, expires_at)
            return token

    def universal(self, token: str) -> IssuedToken | None:
        """The active UT or UAT with this value, or None."""
        with self._lock:
            issued = self._universal.get(token)
        return issued if issued is not None and issued.active(time.time()) else None

    def expire_universal_tokens(self) -> None:
        """Make every Universal (App) Token issued so far expired."""
        with self._lock:
            for issued in self._universal.values():
                issued.expires_at = 0.0

    def universal_tokens(self) -> list[dict[str, Any]]:
        """Every Universal (App) Token issued, oldest first, without its value."""
        now = time.time()
        with self._lock:
            return [t.to_json(now) for t in self._universal.values()]

    # -- subscriptions --------------------------------------------------------

    def subscribe(self, app_id: str, **fields: Any) -> Subscription:
        """Register a subscription; one for the same URL is replaced."""
        with self._lock:
            self._sub_counter += 1
            sub = Subscription(
                id=str(self._sub_counter),
                app_id=app_id,
                created_on=int(time.time() * 1000),
                **fields,
            )
            kept = [s for s in self._subscriptions.get(app_id, []) if s.url != sub.url]
            self._subscriptions[app_id] = [*kept, sub]
            return sub

    def subscriptions(self, app_id: str) -> list[Subscription]:
        """The app's active subscriptions, oldest first."""
        with self._lock:
            return list(self._subscriptions.get(app_id, []))

    # -- randomness and ids ---------------------------------------------------

    def chance(self, probability: float) -> bool:
        """True with the given probability (seeded when config.seed is set)."""
        with self._lock:
            return probability > 0 and self._rng.random() < probability

    def shuffled(self, items: list[Any]) -> list[Any]:
        """A shuffled copy of items."""
        with self._lock:
            result = list(items)
            self._rng.shuffle(result)
            return result

    def first_send_to(self, destination: str) -> bool:
        """Whether no accepted send went to this number before (and remember it)."""
        with self._lock:
            first = destination not in self._sent_to
            self._sent_to.add(destination)
            return first

    def new_uuid(self) -> str:
        """A random UUID4 string."""
        with self._lock:
            return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    def digits(self, count: int) -> str:
        """A random number with exactly `count` digits (no leading zero)."""
        with self._lock:
            return str(self._rng.randrange(10 ** (count - 1), 10**count))

    def wamid(self) -> str:
        """A WhatsApp message id in the `gBEGkZ…` form Gupshup shows in v2."""
        with self._lock:
            return "gBEGkZ" + _b64u(self._rng.randbytes(18))


def _room(window: deque[float], limit: int, seconds: float, now: float) -> bool:
    """Whether the sliding window of `seconds` has room for one more at `now`."""
    while window and window[0] <= now - seconds:
        window.popleft()
    return len(window) < limit


def _take(window: deque[float], limit: int) -> bool:
    now = time.monotonic()
    if not _room(window, limit, WINDOW_SECONDS, now):
        return False
    window.append(now)
    return True


def _b64(value: dict[str, Any]) -> str:
    return _b64u(json.dumps(value, separators=(",", ":")).encode())


def _b64u(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
