"""Every request that left for a recipient (`SendAttempt`), and the delivery
statuses callbacks reported for it (`StatusEvent`, its timeline)."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from campaigns.models.campaigns import Campaign
from campaigns.models.recipients import Recipient
from campaigns.models.webhooks import WebhookEvent
from gupshup_admin.models import ApiExchange, PartnerApp


class AttemptStatus(models.TextChoices):
    SENDING = "sending", "Sending"
    REQUEUED = "requeued", "Not accepted; back in the queue"
    SUBMITTED = "submitted", "Submitted"
    ENQUEUED = "enqueued", "Enqueued"
    SENT = "sent", "Sent"
    DELIVERED = "delivered", "Delivered"
    READ = "read", "Read"
    FAILED = "failed", "Failed"
    UNKNOWN = "unknown", "Outcome unknown"


class SendAttempt(models.Model):
    """One request to the provider for one recipient, and what became of it.

    Written before the request leaves (status "sending", with the sender's
    claim), so a worker that dies mid-request leaves a trace recovery can
    settle. Gupshup's message id and WhatsApp's id are the attempt's own: a
    retry is a new attempt with new ids, and callbacks find their attempt by
    them. The milestone times (`submitted_at` … `failed_at`) are when the
    provider accepted it and when its callbacks said it was delivered (or read),
    read and failed; `submitted_at` is set exactly when Gupshup accepted it.
    """

    # No index of their own for the recipient and the campaign: the unique
    # (recipient, number) and the (campaign, …) indexes below start with them,
    # and every index is written on each send (bench/dispatch_rate.py).
    recipient = models.ForeignKey(
        Recipient,
        on_delete=models.CASCADE,
        related_name="send_attempts",
        db_index=False,
    )
    # The recipient's campaign and app, kept here so that a campaign's attempts
    # and a callback's lookup need no join.
    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    # Not indexed: only deleting an app looks attempts up by it.
    partner_app = models.ForeignKey(
        PartnerApp, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    number = models.PositiveSmallIntegerField(help_text="1 for the first attempt.")
    status = models.CharField(
        max_length=10, choices=AttemptStatus.choices, default=AttemptStatus.SENDING
    )
    claim = models.CharField(
        max_length=40, blank=True, help_text="The sender claim that made it."
    )
    message_id = models.CharField(
        "Gupshup message id", max_length=100, blank=True, db_index=True
    )
    wamid = models.CharField(
        "WhatsApp message id", max_length=200, blank=True, db_index=True
    )
    wa_id = models.CharField(max_length=20, blank=True)
    exchange = models.ForeignKey(
        ApiExchange, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    error_code = models.CharField(max_length=20, blank=True)
    error_message = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    submitted_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["recipient", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "number"], name="send_attempt_unique_number"
            )
        ]
        indexes = [
            models.Index(
                fields=["campaign", "submitted_at"], name="send_attempt_submitted"
            ),
            models.Index(fields=["campaign", "status"], name="send_attempt_status"),
            # Unknown sends without a message id: the few a callback may find
            # by the number it went to (callbacks.py), without a scan.
            models.Index(
                fields=["recipient"],
                name="send_attempt_unknown_unnamed",
                condition=models.Q(status="unknown", message_id=""),
            ),
        ]

    def __str__(self) -> str:
        return f"attempt {self.number} to {self.recipient_id}"

    @property
    def exchange_ref(self) -> str:
        """What its exchange row is filed under (`ApiExchange.ref`)."""
        return attempt_ref(self.pk)


def attempt_ref(pk: int) -> str:
    return f"attempt:{pk}"


class StatusEvent(models.Model):
    """One delivery status of an attempt, from a callback: its timeline.

    An event whose send is not known yet is parked (no attempt) and attached
    when the attempt appears. One row per attempt and status, so a duplicate or
    replayed callback changes nothing.
    """

    # Found by the unique (attempt, status) index, which starts with it.
    attempt = models.ForeignKey(
        SendAttempt,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="events",
        db_index=False,
    )
    partner_app = models.ForeignKey(
        PartnerApp, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    webhook_event = models.ForeignKey(
        WebhookEvent, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(max_length=10)
    gs_id = models.CharField("Gupshup message id", max_length=100, blank=True)
    wamid = models.CharField(max_length=200, blank=True)
    destination = models.CharField(max_length=20, blank=True)
    occurred_at = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(default=timezone.now, db_index=True)
    error_code = models.CharField(max_length=20, blank=True)
    error_message = models.TextField(blank=True)

    class Meta:
        ordering = ["occurred_at", "received_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["attempt", "status"], name="status_event_once_per_attempt"
            )
        ]
        indexes = [
            models.Index(
                fields=["gs_id"],
                name="status_event_parked_gs_id",
                condition=models.Q(attempt__isnull=True),
            ),
            models.Index(
                fields=["wamid"],
                name="status_event_parked_wamid",
                condition=models.Q(attempt__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.status} of {self.gs_id or self.wamid}"
