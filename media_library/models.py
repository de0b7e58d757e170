"""The media library: files kept here, and their media ids at each sending target."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from gupshup_admin.models import ApiExchange, CommBoxChannel, PartnerApp


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
        help_text="A public https URL of the same bytes: mirrored by URL when set.",
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
