"""Image campaigns and their recipients (one row per phone number, params frozen)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from gupshup_admin.models import ApiExchange, PartnerApp, Template, WebhookEvent
from media_library.models import MediaFile


class CampaignKind(models.TextChoices):
    TEMPLATE = "template", "Template image message (template/msg)"
    DIRECT = "direct", "Direct image message (v3/message)"


class CampaignState(models.TextChoices):
    DRAFT = "draft", "Draft"
    SCHEDULED = "scheduled", "Scheduled"
    RUNNING = "running", "Running"
    PAUSED = "paused", "Paused"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"


class ApprovalState(models.TextChoices):
    NONE = "none", "Not approved"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    VOIDED = "voided", "Approval voided"


class Campaign(models.Model):
    name = models.CharField(max_length=200)
    partner_app = models.ForeignKey(PartnerApp, on_delete=models.PROTECT)
    kind = models.CharField(max_length=10, choices=CampaignKind.choices)
    template = models.ForeignKey(
        Template, null=True, blank=True, on_delete=models.PROTECT
    )
    media_file = models.ForeignKey(MediaFile, on_delete=models.PROTECT)
    caption = models.CharField(max_length=1024, blank=True)
    state = models.CharField(
        max_length=10,
        choices=CampaignState.choices,
        default=CampaignState.DRAFT,
        db_index=True,
    )
    scheduled_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    state_reason = models.TextField(
        blank=True, help_text="Why the campaign is paused, waiting or stopped."
    )
    auth_failures = models.PositiveSmallIntegerField(
        default=0, help_text="Sends refused for authentication in a row."
    )
    # Four-eyes (campaigns/approvals.py): the latest decision, by whom, and what
    # was approved: the audience count and a fingerprint of content + audience.
    approval = models.CharField(
        max_length=10, choices=ApprovalState.choices, default=ApprovalState.NONE
    )
    approval_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    approval_at = models.DateTimeField(null=True, blank=True)
    approval_note = models.TextField(
        blank=True, help_text="Why it was rejected, or why the approval was voided."
    )
    approved_recipients = models.PositiveIntegerField(null=True, blank=True)
    approval_fingerprint = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        permissions = [
            (
                "send_campaign",
                "Can start, schedule, pause, resume, cancel and retry campaigns",
            ),
            ("approve_campaign", "Can approve or reject campaigns of others"),
            ("export_recipients", "Can download a campaign's recipients as CSV"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def slot_count(self) -> int:
        """How many params each recipient needs: the template's `{{n}}` slots."""
        if self.kind == CampaignKind.TEMPLATE and self.template is not None:
            return self.template.slot_count
        return 0


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
    attempts = models.PositiveSmallIntegerField(default=0)
    message_id = models.CharField(max_length=100, blank=True, db_index=True)
    wamid = models.CharField(max_length=200, blank=True, db_index=True)
    wa_id = models.CharField(max_length=20, blank=True)
    error_code = models.CharField(max_length=20, blank=True)
    error_message = models.TextField(blank=True)
    exchange = models.ForeignKey(
        ApiExchange, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
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
    submitted_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "phone"], name="recipient_unique_phone"
            )
        ]
        indexes = [
            models.Index(fields=["campaign", "status"]),
            models.Index(fields=["campaign", "submitted_at"]),
        ]

    def __str__(self) -> str:
        return self.phone


class SenderLease(models.Model):
    """One sender slot of a running campaign.

    A sender task carries its slot's token and beats its heart while it works; a
    slot whose heart stopped (the worker died) gets a new token and a new task,
    and a task holding an old token stops by itself, so a campaign never has
    more senders than slots.
    """

    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="senders"
    )
    slot = models.PositiveSmallIntegerField()
    token = models.CharField(max_length=32)
    heartbeat_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "slot"], name="sender_lease_unique_slot"
            )
        ]

    def __str__(self) -> str:
        return f"sender {self.slot} of {self.campaign}"


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


class StatusEvent(models.Model):
    """One delivery status of a send, from a callback: the recipient's timeline.

    An event whose send is not known yet is parked (no recipient) and attached
    when the send row appears. One row per recipient and status, so a duplicate
    or replayed callback changes nothing.
    """

    recipient = models.ForeignKey(
        Recipient,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="events",
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
                fields=["recipient", "status"], name="status_event_once_per_recipient"
            )
        ]
        indexes = [
            models.Index(
                fields=["gs_id"],
                name="status_event_parked_gs_id",
                condition=models.Q(recipient__isnull=True),
            ),
            models.Index(
                fields=["wamid"],
                name="status_event_parked_wamid",
                condition=models.Q(recipient__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.status} of {self.gs_id or self.wamid}"
