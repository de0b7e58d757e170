"""Partner-app domain: Gupshup apps, CommBox channels, synced templates
(`partner_apps`), the log of every provider exchange and the send-rate state
(`exchanges`), and the callbacks received (`webhooks`).

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
    TokenSource,
)
from gupshup_admin.models.webhooks import WebhookDrain, WebhookEvent, WebhookState

__all__ = [
    "ApiExchange",
    "CommBoxChannel",
    "ExchangeOutcome",
    "HealthStatus",
    "PartnerApp",
    "Provider",
    "SendRateBucket",
    "Template",
    "TokenSource",
    "WebhookDrain",
    "WebhookEvent",
    "WebhookState",
]
