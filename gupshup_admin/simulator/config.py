"""Configuration of the simulator: the apps and channels it knows, and its faults.

Everything here is plain data so a JSON file, the management command's flags and
the `/_sim/config` endpoint can all build or change it the same way.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Literal

CallbackFormat = Literal["v2", "v3"]

MAX_MEDIA_BYTES = 104_857_600  # 100 MB: Gupshup answers 413 above this.


@dataclass(frozen=True)
class SimApp:
    """One Gupshup app: what the Partner API knows about it."""

    app_id: str
    token: str
    app_name: str
    source: str
    capi: bool = True
    live: bool = True
    # False: every v3 send gets 400 "Callback Billing must be enabled for this API".
    callback_billing: bool = True
    # None means: use SimulatorConfig.rate_per_minute (and rate_per_second).
    rate_per_minute: int | None = None
    rate_per_second: int | None = None
    wallet_balance: float = 125.5
    wallet_currency: str = "USD"
    # True: wallet/balance answers as older docs show it, without a `status` field.
    wallet_without_status: bool = False
    waba_id: str = ""
    phone_number_id: str = ""
    verified_name: str = ""
    # What waba/info says of the number (API-NOTES lists the words).
    can_send_message: str = "AVAILABLE"
    messaging_limit: str = "TIER_1K"
    phone_quality: str = "GREEN"
    throughput: str = "STANDARD"
    account_status: str = "ACTIVE"
    waba_errors: tuple[str, ...] = ()

    @property
    def effective_waba_id(self) -> str:
        """The WABA id, derived from the source number when none is configured."""
        return self.waba_id or f"1{self.source[-9:]:0>9}0417"

    @property
    def effective_phone_number_id(self) -> str:
        """Meta's phone number id, derived from the source number by default."""
        return self.phone_number_id or f"2{self.source[-9:]:0>9}0913"


@dataclass(frozen=True)
class SimChannel:
    """One CommBox WhatsApp channel (stream) and the API key that may use it."""

    stream_id: str
    api_key: str


@dataclass
class SimulatorConfig:
    """Everything that can be tuned; defaults are the built-in demo data.

    Raises ValueError from construction (and `dataclasses.replace`) on a value
    outside its range, so a bad flag fails at start rather than mid-demo. A
    Simulator works on its own copy: change a running one with `configure()`.
    """

    partner_email: str = "demo-partner@example.com"
    partner_secret: str = "demo-partner-secret"
    partner_name: str = "Demo Partner"
    partner_token_ttl: float = 86_400.0
    login_rate_per_minute: int = 10
    # Universal Tokens: the partner id in the mint URL, whether Gupshup enabled
    # minting for this partner, lifetimes (seconds) and mint rate limits.
    partner_id: int = 4242
    universal_minting: bool = True
    universal_token_ttl: float = 60 * 86_400.0
    universal_app_token_ttl: float = 86_400.0
    universal_token_mints_per_minute: int = 3
    universal_app_token_mints_per_minute: int = 10
    apps: list[SimApp] = field(default_factory=lambda: _demo_apps())
    channels: list[SimChannel] = field(default_factory=lambda: _demo_channels())
    rate_per_minute: int = 600
    # Gupshup also counts sends per second ("10 per second, 1 s cool-down");
    # None: only the sliding minute is counted.
    rate_per_second: int | None = None
    max_media_bytes: int = MAX_MEDIA_BYTES
    callback_url: str | None = None
    callback_format: CallbackFormat = "v2"
    callback_delay: float = 0.2
    callback_interval: float = 0.1
    callback_timeout: float = 3.0
    callback_retries: int = 3
    callback_backoff: float = 0.2
    duplicate_rate: float = 0.0
    shuffle: bool = False
    drop_gsid: bool = False
    # The answer's delay: `latency` seconds at the median, spread log-normally
    # by `latency_spread` (sigma; 0: always exactly `latency`; 0.5: p90 about
    # 1.9 times, p99 about 3.2 times the median), as real provider calls are.
    latency: float = 0.0
    latency_spread: float = 0.0
    error_rate: float = 0.0
    hang_seconds: float = 60.0
    seed: int | None = None

    def __post_init__(self) -> None:
        for name in ("duplicate_rate", "error_rate"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1, not {value!r}")
        if self.callback_format not in ("v2", "v3"):
            raise ValueError(
                f"callback_format must be v2 or v3: {self.callback_format}"
            )
        for name in _NON_NEGATIVE:
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative")
        if self.rate_per_second is not None and self.rate_per_second < 1:
            raise ValueError("rate_per_second must be at least 1 (or null)")

    def app(self, app_id: str) -> SimApp | None:
        """The app with this id, or None."""
        return next((a for a in self.apps if a.app_id == app_id), None)

    def channel(self, stream_id: str) -> SimChannel | None:
        """The CommBox channel with this stream id, or None."""
        return next((c for c in self.channels if c.stream_id == stream_id), None)

    def rate_for(self, app: SimApp) -> int:
        """Sends per sliding minute allowed for this app."""
        if app.rate_per_minute is None:
            return self.rate_per_minute
        return app.rate_per_minute

    def per_second_for(self, app: SimApp) -> int | None:
        """Sends per sliding second allowed for this app (None: not counted)."""
        if app.rate_per_second is None:
            return self.rate_per_second
        return app.rate_per_second

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready copy (secrets included: this is a local simulator)."""
        return dataclasses.asdict(self)


_NON_NEGATIVE = (
    "callback_delay",
    "callback_interval",
    "callback_timeout",
    "callback_retries",
    "callback_backoff",
    "latency",
    "latency_spread",
    "hang_seconds",
    "max_media_bytes",
    "rate_per_minute",
    "login_rate_per_minute",
    "universal_token_ttl",
    "universal_app_token_ttl",
    "universal_token_mints_per_minute",
    "universal_app_token_mints_per_minute",
)

CONFIG_FIELDS = frozenset(f.name for f in dataclasses.fields(SimulatorConfig))


def coerce_overrides(data: dict[str, Any]) -> dict[str, Any]:
    """Turn JSON-shaped overrides into SimulatorConfig keyword arguments.

    Raises ValueError naming an unknown key; apps and channels given as lists
    of objects become SimApp/SimChannel.
    """
    unknown = sorted(set(data) - CONFIG_FIELDS)
    if unknown:
        raise ValueError(f"unknown simulator setting(s): {', '.join(unknown)}")
    values = dict(data)
    if "apps" in values:
        values["apps"] = [_as(SimApp, item) for item in values["apps"]]
    if "channels" in values:
        values["channels"] = [_as(SimChannel, item) for item in values["channels"]]
    return values


def config_from_dict(data: dict[str, Any]) -> SimulatorConfig:
    """Build a config from a JSON object whose keys mirror SimulatorConfig."""
    return SimulatorConfig(**coerce_overrides(data))


def _as(kind: type[Any], item: Any) -> Any:
    if isinstance(item, kind):
        return item
    if not isinstance(item, dict):
        raise ValueError(f"expected an object for {kind.__name__}, got {item!r}")
    try:
        return kind(**item)
    except TypeError as exc:
        raise ValueError(f"bad {kind.__name__}: {exc}") from exc


def _demo_apps() -> list[SimApp]:
    # Imported late: fixtures imports this module for the dataclasses.
    from gupshup_admin.simulator.fixtures import DEMO

    return [DEMO.capi_app, DEMO.non_capi_app]


def _demo_channels() -> list[SimChannel]:
    from gupshup_admin.simulator.fixtures import DEMO

    return [DEMO.channel]
