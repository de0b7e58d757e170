"""Partner-app domain: Gupshup apps, CommBox channels, synced templates
(`partner_apps`), the log of every provider exchange and the send-rate state
(`exchanges`). The callbacks received are the campaigns app's
(`campaigns.models.webhooks`).

Django finds the models here; import them from `gupshup_admin.models`.
"""

from gupshup_admin.models.exchanges import (
    ApiExchange,
    ExchangeOutcome,
    Provider,
    SendRateBucket,
)
from gupshup_admin.models.partner_apps import (
    CommBoxChannel,
    HealthStatus,
    PartnerApp,
    Template,
    TokenKind,
    TokenSource,
)

__all__ = [
    "ApiExchange",
    "CommBoxChannel",
    "ExchangeOutcome",
    "HealthStatus",
    "PartnerApp",
    "Provider",
    "SendRateBucket",
    "Template",
    "TokenKind",
    "TokenSource",
]
