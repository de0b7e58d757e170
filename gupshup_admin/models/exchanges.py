"""What goes out to the providers: every request and its answer (`ApiExchange`),
and each app's send-rate bucket."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from gupshup_admin.models.partner_apps import CommBoxChannel, PartnerApp


class Provider(models.TextChoices):
    GUPSHUP = "gupshup", "Gupshup"
    COMMBOX = "commbox", "CommBox"


class ExchangeOutcome(models.TextChoices):
    SENDING = "sending", "Sending"
    OK = "ok", "OK"
    ERROR = "error", "Error"


class ApiExchange(models.Model):
    """One request to a provider and its response, secrets masked.

    Written before the call ("sending") and completed after, so a crash mid-call
    still leaves a trace.
    """

    provider = models.CharField(max_length=10, choices=Provider.choices)
    endpoint = models.CharField(max_length=50, db_index=True)
    method = models.CharField(max_length=7)
    url = models.TextField()
    request_headers = models.JSONField(default=dict)
    request_body = models.JSONField(default=dict, blank=True)
    outcome = models.CharField(
        max_length=7, choices=ExchangeOutcome.choices, default=ExchangeOutcome.SENDING
    )
    status_code = models.PositiveSmallIntegerField(null=True, blank=True, db_index=True)
    response_body = models.TextField(blank=True)
    response_truncated = models.BooleanField(default=False)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    error_class = models.CharField(max_length=60, blank=True)
    error_message = models.TextField(blank=True)
    partner_app = models.ForeignKey(
        PartnerApp,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="exchanges",
    )
    commbox_channel = models.ForeignKey(
        CommBoxChannel,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="exchanges",
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    ref = models.CharField(
        "for",
        max_length=40,
        blank=True,
        db_index=True,
        help_text="What the call was made for, e.g. attempt:42 (a send attempt).",
    )
    destination = models.CharField(
        max_length=20,
        blank=True,
        default="",
        db_default="",  # rows written by code that predates the column
        help_text="The number a send went to (E.164), set when the exchange is "
        "recorded; the log is searched by it.",
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "API exchange"
        indexes = [
            models.Index(fields=["partner_app", "-created_at"]),
            # A number's exchanges, newest first; only sends carry a number.
            models.Index(
                fields=["destination", "-created_at"],
                condition=~models.Q(destination=""),
                name="exchange_destination_idx",
            ),
        ]

    def __str__(self) -> str:
        status = self.status_code or self.get_outcome_display()
        return f"{self.method} {self.endpoint} → {status}"


class SendRateBucket(models.Model):
    """A token bucket per app, shared by every worker through the database.

    Taken under `select_for_update`, so any number of workers together stay within
    the app's rate. A 429 pauses the app for a window and halves its rate, which
    then recovers over `RATE_RECOVERY_SECONDS`.
    """

    app = models.OneToOneField(
        PartnerApp, on_delete=models.CASCADE, related_name="rate_bucket"
    )
    tokens = models.FloatField(default=1.0)
    refilled_at = models.DateTimeField(default=timezone.now)
    paused_until = models.DateTimeField(null=True, blank=True)
    slowdown = models.FloatField(
        default=1.0, help_text="1 = full rate; halved by each 429, then recovers."
    )
    throttled_at = models.DateTimeField(null=True, blank=True)
    throttle_count = models.PositiveIntegerField(default=0)
    # No send leaves before this: a sender ending its slice writes its last
    # real departure plus one spacing here, for the next slice (another
    # process, perhaps) to pace from.
    not_before = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "send-rate bucket"

    def __str__(self) -> str:
        return f"rate bucket of {self.app}"
