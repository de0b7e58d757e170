"""The recipients of a campaign (one row per number, params frozen) and the
imports that loaded them."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from campaigns.models.campaigns import Campaign


class RecipientStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENDING = "sending", "Sending"
    SUBMITTED = "submitted", "Submitted"
    ENQUEUED = "enqueued", "Enqueued"
    SENT = "sent", "Sent"
    DELIVERED = "delivered", "Delivered"
    READ = "read", "Read"
    FAILED = "failed", "Failed"
    UNKNOWN = "unknown", "Outcome unknown"
    CANCELLED = "cancelled", "Cancelled"


class Recipient(models.Model):
    """One number of a campaign, and where it stands.

    Pending, sending and cancelled say where it is in the queue; every other
    status, and the error, are those of its latest attempt (`latest_attempt`),
    kept here so that a campaign's counts need no join. Each request sent to
    the number is a `SendAttempt` of its own, with its ids, exchange and
    timeline.
    """

    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="recipients"
    )
    phone = models.CharField("phone (E.164)", max_length=20)
    params = models.JSONField(default=list, blank=True)
    source_line = models.PositiveIntegerField(null=True, blank=True)
    status = models.CharField(
        max_length=10,
        choices=RecipientStatus.choices,
        default=RecipientStatus.PENDING,
    )
    attempts = models.PositiveSmallIntegerField(
        default=0, help_text="Requests sent to this number so far."
    )
    latest_attempt = models.ForeignKey(
        "campaigns.SendAttempt",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    error_code = models.CharField(max_length=20, blank=True)
    error_message = models.TextField(blank=True)
    retries = models.PositiveSmallIntegerField(
        default=0, help_text="Transient failures (5xx, connection refused) so far."
    )
    next_attempt_at = models.DateTimeField(
        null=True, blank=True, help_text="A retry waits until then."
    )
    claimed_at = models.DateTimeField(null=True, blank=True)
    claimed_by = models.CharField(
        max_length=40, blank=True, help_text="The sender claim that holds the row."
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "phone"], name="recipient_unique_phone"
            )
        ]
        # (campaign, status, id): a sender claims a campaign's first pending
        # rows in id order; on (campaign, status) alone the database walked
        # the primary key past every row already sent (15,000 rows, 9 ms, for
        # a claim of 8 three quarters through a 20,000-row campaign).
        indexes = [
            models.Index(
                fields=["campaign", "status", "id"], name="recipient_claim_order"
            )
        ]

    def __str__(self) -> str:
        return self.phone


class RecipientImport(models.Model):
    """One CSV (or pasted list) loaded into a campaign, with its rejected rows."""

    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="imports"
    )
    filename = models.CharField(max_length=255)
    accepted = models.PositiveIntegerField(default=0)
    duplicates = models.PositiveIntegerField(default=0)
    rejected = models.PositiveIntegerField(default=0)
    rejected_csv = models.TextField(blank=True)
    delimiter = models.CharField(max_length=10, blank=True)
    phone_column = models.CharField(max_length=100, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.filename}: {self.accepted} accepted, {self.rejected} rejected"
