"""Campaigns and what happened to each message they sent.

- `campaigns`: a campaign (what is sent, through which app, its state and its
  approval) and the sender slots that work on it;
- `recipients`: one row per number, with its params frozen, and the imports
  that loaded them;
- `attempts`: every request that left for a recipient (`SendAttempt`) and the
  delivery statuses callbacks reported for it (`StatusEvent`);
- `webhooks`: each callback POST stored raw, and the drain flag.

Django finds the models here; import them from `campaigns.models`.
"""

from campaigns.models.attempts import AttemptStatus, SendAttempt, StatusEvent
from campaigns.models.campaigns import (
    ApprovalState,
    Campaign,
    CampaignKind,
    CampaignState,
    SenderSlot,
)
from campaigns.models.recipients import Recipient, RecipientImport, RecipientStatus
from campaigns.models.webhooks import (
    RefusedCallback,
    WebhookDrain,
    WebhookEvent,
    WebhookState,
)

__all__ = [
    "ApprovalState",
    "AttemptStatus",
    "Campaign",
    "CampaignKind",
    "CampaignState",
    "Recipient",
    "RecipientImport",
    "RecipientStatus",
    "RefusedCallback",
    "SendAttempt",
    "SenderSlot",
    "StatusEvent",
    "WebhookDrain",
    "WebhookEvent",
    "WebhookState",
]
