"""A campaign: what is sent, through which app, its state and its approval."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from gupshup_admin.models import PartnerApp, Template
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
    # Four-eyes (campaigns/lifecycle/approvals.py): the latest decision, by whom,
    # and what was approved: the audience count and a fingerprint of content +
    # audience.
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


class SenderSlot(models.Model):
    """One of the `CAMPAIGN_SENDERS` sender slots, each serving every running
    campaign (see `campaigns/dispatch/sender.py`).

    A sender task carries its slot's token and beats its heart while it works; a
    slot whose heart stopped (the worker died) gets a new token and a new task,
    and a task holding an old token stops by itself, so there are never more
    senders than slots, however many campaigns run.
    """

    slot = models.PositiveSmallIntegerField(unique=True)
    token = models.CharField(max_length=32)
    heartbeat_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"sender {self.slot}"
