"""What comes in from Gupshup: each callback, stored raw, and the drain flag.

The drain (`campaigns/statuses/callbacks.py`) turns delivery statuses into
attempts' timelines and template changes into the synced templates; the
endpoint is `campaigns/views/callbacks.py`.
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


class WebhookEvent(models.Model):
    """One callback POST from Gupshup, stored raw before anything else happens.

    The view saves it and answers 200 at once; a task normalizes it. Refused
    ones (wrong or missing secret) are not kept here but counted
    (`RefusedCallback`), so anonymous requests cannot fill the table.
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


class RefusedCallback(models.Model):
    """Callbacks refused for a missing or wrong secret, counted per app, source
    address and reason, with the latest one kept (cut short) as a sample.

    One row per (app, source, reason) however many requests came, so a flood of
    anonymous POSTs costs an UPDATE each, not a row each. `app_number` is the
    app id the URL named (0 for an app that does not exist: made-up ids must
    not make rows of their own; the sample keeps the URL's number).
    """

    partner_app = models.ForeignKey(
        PartnerApp, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    app_number = models.PositiveBigIntegerField(
        help_text="The app id in the callback URL; 0 when no such app exists."
    )
    remote_addr = models.CharField("source address", max_length=45, blank=True)
    reason = models.CharField(max_length=100)
    count = models.PositiveIntegerField(default=1)
    first_at = models.DateTimeField(default=timezone.now)
    last_at = models.DateTimeField(default=timezone.now, db_index=True)
    sample_body = models.TextField(blank=True, help_text="The latest one, cut short.")
    sample_headers = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-last_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["app_number", "remote_addr", "reason"],
                name="refused_callback_once_per_source",
            )
        ]

    def __str__(self) -> str:
        return f"{self.count} refused from {self.remote_addr or 'unknown'}"


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
