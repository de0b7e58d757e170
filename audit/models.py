"""The audit trail: who did what to which campaign, app or channel, and when.

Rows are only ever added (by services, in the transaction of the change they
describe); nothing edits or deletes them. Secrets never appear: a token change
records which field changed and its masked hint.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class AuditAction(models.TextChoices):
    CAMPAIGN_CREATED = "campaign.created", "Campaign created"
    CAMPAIGN_EDITED = "campaign.edited", "Campaign edited"
    RECIPIENTS_IMPORTED = "campaign.imported", "Recipients imported"
    CAMPAIGN_APPROVED = "campaign.approved", "Campaign approved"
    CAMPAIGN_REJECTED = "campaign.rejected", "Campaign rejected"
    APPROVAL_VOIDED = "campaign.approval_voided", "Approval voided"
    CAMPAIGN_STARTED = "campaign.started", "Campaign started"
    CAMPAIGN_SCHEDULED = "campaign.scheduled", "Campaign scheduled"
    CAMPAIGN_PAUSED = "campaign.paused", "Campaign paused"
    CAMPAIGN_RESUMED = "campaign.resumed", "Campaign resumed"
    CAMPAIGN_CANCELLED = "campaign.cancelled", "Campaign cancelled"
    CAMPAIGN_RETRIED = "campaign.retried", "Failed recipients retried"
    UNKNOWNS_RESOLVED = "campaign.unknowns_resolved", "Unknown sends resolved"
    APP_SECRETS_CHANGED = "partner_app.secrets_changed", "App secrets changed"
    APP_TOKEN_FETCHED = "partner_app.token_fetched", "App token fetched"
    APP_CALLBACK_REGISTERED = "partner_app.callback_registered", "Callback registered"
    CHANNEL_KEY_CHANGED = "commbox_channel.key_changed", "Channel API key changed"


class AuditEvent(models.Model):
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Empty when the system did it (a schedule, a worker).",
    )
    # The name at the time, kept when the user is renamed or deleted.
    actor_label = models.CharField("actor name", max_length=150, blank=True)
    action = models.CharField(max_length=40, choices=AuditAction.choices)
    target_type = models.CharField(max_length=60)
    target_id = models.CharField(max_length=40)
    target_label = models.CharField("target", max_length=200)
    summary = models.CharField(max_length=500)
    details = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["target_type", "target_id", "created_at"],
                name="audit_event_target",
            ),
            models.Index(fields=["action", "created_at"], name="audit_event_action"),
        ]

    def __str__(self) -> str:
        return f"{self.get_action_display()}: {self.target_label}"

    @property
    def actor_name(self) -> str:
        return self.actor_label or "system"
