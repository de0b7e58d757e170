"""What comes in from Gupshup: each callback, stored raw, and the drain flag.

The drain (`campaigns/drain.py`) turns delivery statuses into attempts' timelines
and template changes into the synced templates; the endpoint is
`campaigns/webhooks.py`.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from gupshup_admin.models import PartnerApp


class WebhookState(models.TextChoices):
    RECEIVED = "received", "Received"
    PROCESSED = "processed", "Processed"
    PARKED = "parked", "Waiting for its send"
    INVALID = "invalid", "Not understood"
    REJECTED = "rejected", "Rejected (bad secret)"


class WebhookEvent(models.Model):
    """One callback POST from Gupshup, stored raw before anything else happens.

    The view saves it and answers 200 at once; a task normalizes it. Rejected
    attempts (wrong or missing secret) are kept too, cut short, for the record.
    """

    partner_app = models.ForeignKey(
        PartnerApp,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="webhook_events",
    )
    received_at = models.DateTimeField(default=timezone.now, db_index=True)
    state = models.CharField(
        max_length=10,
        choices=WebhookState.choices,
        default=WebhookState.RECEIVED,
        db_index=True,
    )
    event_type = models.CharField(max_length=40, blank=True, db_index=True)
    body = models.TextField(help_text="The raw request body, as received.")
    headers = models.JSONField(default=dict, blank=True)
    remote_addr = models.GenericIPAddressField(null=True, blank=True)
    error = models.TextField(blank=True, help_text="Why it was not understood.")
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [
            models.Index(
                fields=["partner_app", "-received_at"],
                name="webhook_event_app_received",
            )
        ]

    def __str__(self) -> str:
        return (
            f"{self.event_type or 'callback'} at {self.received_at:%Y-%m-%d %H:%M:%S}"
        )


class WebhookDrain(models.Model):
    """A one-row flag: is a task already on its way to process new callbacks?

    The callback view flips it false → true and enqueues a drain task only when
    that changed the row, so a flood of callbacks costs one task per burst, not
    one per callback.
    """

    requested = models.BooleanField(default=False)
    requested_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return "drain requested" if self.requested else "drain idle"
