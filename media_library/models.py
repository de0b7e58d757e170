"""The media library: files kept here, and their media ids at each sending target."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from gupshup_admin.models import ApiExchange, CommBoxChannel, PartnerApp

https_only = URLValidator(
    schemes=["https"],
    message="Public URLs are https:// only: enter the file's https:// address "
    "(Gupshup and WhatsApp fetch the image from it).",
    code="https_only",  # not "invalid": a form would show its own words instead
)
# A campaign in one of these holds its image: what was approved and scheduled is
# what it sends (campaigns.models.CampaignState / ApprovalState, named here by
# value because campaigns imports this module).
HOLDING_STATES = ("scheduled", "running", "paused")
HOLDING = Q(state__in=HOLDING_STATES) | Q(state="draft", approval="approved")
NAMED_HOLDERS = 3


def media_upload_to(instance: MediaFile, filename: str) -> str:
    # Content-addressed folders: the name can never collide or climb out.
    return f"media/{instance.sha256[:2]}/{instance.sha256}/{filename}"


class MediaFile(models.Model):
    """A file marketers send, stored through Django's storage API."""

    file = models.FileField(upload_to=media_upload_to, max_length=300)
    original_name = models.CharField(max_length=255)
    content_type = models.CharField(
        max_length=120, help_text="Detected from the bytes, not the browser's claim."
    )
    kind = models.CharField(max_length=20, db_index=True)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64, unique=True)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    public_url = models.URLField(
        max_length=1000,
        blank=True,
        validators=[https_only],
        help_text="A public https URL of the same bytes: mirrored by URL when set. "
        "It cannot change while a scheduled, approved or running campaign uses "
        "the file.",
    )
    keep_fresh = models.BooleanField(
        default=False, help_text="Refresh its media ids before they expire."
    )
    note = models.CharField(max_length=300, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "media file"

    def __str__(self) -> str:
        return self.original_name

    def clean(self) -> None:
        """Raises ValidationError when the public URL changed while a campaign
        holds the file (see ``url_pinned_reason``)."""
        super().clean()
        reason = self.url_pinned_reason()
        if reason:
            raise ValidationError({"public_url": reason})

    def url_pinned_reason(self) -> str:
        """Why the public URL may not change from the stored one ("" when it
        may): the file is the image of a scheduled, running or paused campaign,
        or of an approved draft. Nobody may change it then; a new image is a
        new file."""
        if self._state.adding:
            return ""
        stored = MediaFile.objects.filter(pk=self.pk).values_list("public_url")
        if [(self.public_url,)] == list(stored):
            return ""
        holders = self.campaign_set.filter(HOLDING).order_by("pk")
        named = [
            f"“{campaign}” ({campaign.get_state_display().lower()})"
            if campaign.state != "draft"
            else f"“{campaign}” (approved, not started)"
            for campaign in holders[:NAMED_HOLDERS]
        ]
        if not named:
            return ""
        more = holders.count() - len(named)
        if more:
            listed = ", ".join(named) + f" and {more} more"
        else:
            listed = " and ".join(filter(None, [", ".join(named[:-1]), named[-1]]))
        plural = "s" if len(named) > 1 else ""
        return (
            f"{self} is the image of campaign{plural} {listed}, so its public URL "
            "cannot change: a campaign sends the image that was approved and "
            "scheduled. To send a different image, upload it as a new file and "
            "choose that in a campaign."
        )


class MediaState(models.TextChoices):
    PENDING = "pending", "Pending"
    UPLOADING = "uploading", "Uploading"
    READY = "ready", "Ready"
    FAILED = "failed", "Failed"
    EXPIRED = "expired", "Expired"


class MirrorMethod(models.TextChoices):
    FILE = "file", "File upload"
    URL = "url", "Public URL"


class ProviderMedia(models.Model):
    """A media file's id at one target: a Gupshup app or a CommBox channel."""

    media_file = models.ForeignKey(
        MediaFile, on_delete=models.CASCADE, related_name="mirrors"
    )
    partner_app = models.ForeignKey(
        PartnerApp, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    commbox_channel = models.ForeignKey(
        CommBoxChannel,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    state = models.CharField(
        max_length=10, choices=MediaState.choices, default=MediaState.PENDING
    )
    media_id = models.CharField(max_length=100, blank=True, db_index=True)
    method = models.CharField(max_length=4, choices=MirrorMethod.choices, blank=True)
    uploaded_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True, db_index=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    exchange = models.ForeignKey(
        ApiExchange, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "provider media id"
        constraints = [
            models.CheckConstraint(
                condition=Q(partner_app__isnull=False, commbox_channel__isnull=True)
                | Q(partner_app__isnull=True, commbox_channel__isnull=False),
                name="provider_media_one_target",
            ),
            models.UniqueConstraint(
                fields=["media_file", "partner_app"],
                condition=Q(partner_app__isnull=False),
                name="provider_media_unique_app",
            ),
            models.UniqueConstraint(
                fields=["media_file", "commbox_channel"],
                condition=Q(commbox_channel__isnull=False),
                name="provider_media_unique_channel",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.media_file} @ {self.target}"

    @property
    def target(self) -> PartnerApp | CommBoxChannel:
        target = self.partner_app or self.commbox_channel
        assert target is not None  # guaranteed by provider_media_one_target
        return target

    def days_left(self, now: datetime | None = None) -> int | None:
        if self.expires_at is None:
            return None
        return (self.expires_at - (now or timezone.now())).days
