"""Partner-app domain: Gupshup apps, CommBox channels, synced templates, and the
log of every provider exchange."""

from __future__ import annotations

import secrets as _stdlib_secrets
from datetime import datetime

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils import timezone

from gupshup_admin import crypto
from gupshup_admin.phones import validate_e164
from gupshup_admin.providers.http import mask_value

APP_ID_VALIDATOR = RegexValidator(
    r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$",
    "A Gupshup app id is a UUID such as 947d28b8-459b-4dfe-9d4c-0ac8c6c245c9 "
    "(Partner Portal → your app → App ID).",
)
APP_NAME_VALIDATOR = RegexValidator(
    r"^[A-Za-z0-9_-]{1,100}$",
    "The app name (src.name) has only letters, digits, '-' and '_', as shown in "
    "the Partner Portal.",
)


def _new_callback_secret() -> str:
    return _stdlib_secrets.token_urlsafe(32)


class HealthStatus(models.TextChoices):
    UNKNOWN = "unknown", "Not checked"
    HEALTHY = "healthy", "Healthy"
    UNHEALTHY = "unhealthy", "Unhealthy"


class TokenSource(models.TextChoices):
    NONE = "", "No token"
    PASTED = "pasted", "Pasted by an admin"
    FETCHED = "fetched", "Fetched with partner credentials"


class PartnerApp(models.Model):
    """A Gupshup app the business sends from, with its encrypted secrets."""

    name = models.CharField("display name", max_length=100, unique=True)
    app_id = models.CharField(
        "Gupshup app id", max_length=36, unique=True, validators=[APP_ID_VALIDATOR]
    )
    app_name = models.CharField(
        "app name (src.name)", max_length=100, validators=[APP_NAME_VALIDATOR]
    )
    source_number = models.CharField(
        "source number",
        max_length=20,
        validators=[validate_e164],
        help_text="The WhatsApp business number in E.164, e.g. +919643874844.",
    )
    is_capi = models.BooleanField(
        "Cloud API (CAPI) app",
        default=True,
        help_text="Only CAPI apps can generate media ids.",
    )
    send_rate_per_minute = models.PositiveIntegerField(
        default=10,
        validators=[MinValueValidator(1), MaxValueValidator(60_000)],
        help_text="Messages per minute this app may send, across all workers. "
        "The template-message contract allows 10 per minute unless Gupshup raised it.",
    )
    is_active = models.BooleanField(default=True)

    # Secrets: ciphertext only. Read and write them through the properties below.
    app_token_encrypted = models.TextField(blank=True, editable=False)
    app_token_hint = models.CharField(
        "stored app token", max_length=20, blank=True, editable=False
    )
    app_token_source = models.CharField(
        max_length=10, choices=TokenSource.choices, blank=True, editable=False
    )
    app_token_updated_at = models.DateTimeField(null=True, blank=True, editable=False)
    partner_email = models.EmailField(
        blank=True, help_text="Partner login e-mail, to fetch the app token."
    )
    partner_secret_encrypted = models.TextField(blank=True, editable=False)
    partner_secret_hint = models.CharField(
        "stored client secret", max_length=20, blank=True, editable=False
    )
    partner_token_encrypted = models.TextField(blank=True, editable=False)
    partner_token_expires_at = models.DateTimeField(
        null=True, blank=True, editable=False
    )
    callback_secret_encrypted = models.TextField(blank=True, editable=False)

    health_status = models.CharField(
        max_length=10,
        choices=HealthStatus.choices,
        default=HealthStatus.UNKNOWN,
        editable=False,
    )
    health_checked_at = models.DateTimeField(null=True, blank=True, editable=False)
    health_message = models.TextField(blank=True, editable=False)
    health_details = models.JSONField(
        default=dict,
        blank=True,
        editable=False,
        help_text="Tier, quality, TPS, balance.",
    )

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: object, **kwargs: object) -> None:
        if not self.callback_secret_encrypted:
            # Every app gets its own secret for authenticating delivery callbacks.
            self.callback_secret_encrypted = crypto.encrypt(_new_callback_secret())
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    # --- secrets -----------------------------------------------------------
    @property
    def app_token(self) -> str:
        return crypto.decrypt(self.app_token_encrypted)

    def set_app_token(self, token: str, *, source: str) -> None:
        self.app_token_encrypted = crypto.encrypt(token)
        self.app_token_hint = mask_value(token)
        self.app_token_source = source if token else TokenSource.NONE
        self.app_token_updated_at = timezone.now() if token else None

    @property
    def partner_secret(self) -> str:
        return crypto.decrypt(self.partner_secret_encrypted)

    def set_partner_secret(self, secret: str) -> None:
        self.partner_secret_encrypted = crypto.encrypt(secret)
        self.partner_secret_hint = mask_value(secret)
        self.clear_partner_token()

    def partner_token(self, *, now: datetime | None = None) -> str:
        """The cached partner JWT, or "" when missing or about to expire."""
        now = now or timezone.now()
        if not self.partner_token_expires_at or self.partner_token_expires_at <= now:
            return ""
        return crypto.decrypt(self.partner_token_encrypted)

    def set_partner_token(self, token: str, *, expires_at: datetime) -> None:
        self.partner_token_encrypted = crypto.encrypt(token)
        self.partner_token_expires_at = expires_at

    def clear_partner_token(self) -> None:
        self.partner_token_encrypted = ""
        self.partner_token_expires_at = None

    @property
    def callback_secret(self) -> str:
        return crypto.decrypt(self.callback_secret_encrypted)

    @property
    def has_partner_credentials(self) -> bool:
        return bool(self.partner_email and self.partner_secret_encrypted)

    @property
    def has_app_token(self) -> bool:
        return bool(self.app_token_encrypted)


class CommBoxChannel(models.Model):
    """A CommBox WhatsApp channel (stream) that media is mirrored to."""

    name = models.CharField(max_length=100, unique=True)
    stream_id = models.CharField(
        "encrypted stream id",
        max_length=200,
        unique=True,
        validators=[
            RegexValidator(
                r"^[A-Za-z0-9_=+/-]{4,200}$",
                "Paste the channel's ENCRYPTED_STREAM_ID from CommBox settings "
                "(letters, digits and - _ = + / only).",
            )
        ],
    )
    api_key_encrypted = models.TextField(blank=True, editable=False)
    api_key_hint = models.CharField(
        "stored API key", max_length=20, blank=True, editable=False
    )
    api_key_updated_at = models.DateTimeField(null=True, blank=True, editable=False)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = "CommBox channel"

    def __str__(self) -> str:
        return self.name

    @property
    def api_key(self) -> str:
        return crypto.decrypt(self.api_key_encrypted)

    def set_api_key(self, key: str) -> None:
        self.api_key_encrypted = crypto.encrypt(key)
        self.api_key_hint = mask_value(key)
        self.api_key_updated_at = timezone.now() if key else None


class Template(models.Model):
    """A WhatsApp template synced from Gupshup (read-only here)."""

    app = models.ForeignKey(
        PartnerApp, on_delete=models.CASCADE, related_name="templates"
    )
    gupshup_id = models.CharField("Gupshup template id", max_length=64)
    element_name = models.CharField(max_length=512)
    language_code = models.CharField(max_length=20, blank=True)
    category = models.CharField(max_length=40, blank=True)
    template_type = models.CharField("type", max_length=40, blank=True)
    status = models.CharField(max_length=40, blank=True, db_index=True)
    body = models.TextField(blank=True)
    slot_count = models.PositiveSmallIntegerField("{{n}} slots", default=0)
    header_type = models.CharField(max_length=20, blank=True)
    container_meta = models.JSONField(default=dict, blank=True)
    rejected_reason = models.TextField(blank=True)
    synced_at = models.DateTimeField(default=timezone.now)
    is_present = models.BooleanField(
        default=True, help_text="False once the template disappeared from Gupshup."
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["app", "element_name", "language_code"]
        constraints = [
            models.UniqueConstraint(
                fields=["app", "gupshup_id"], name="template_unique_per_app"
            )
        ]

    def __str__(self) -> str:
        return f"{self.element_name} ({self.language_code})"

    @property
    def is_approved(self) -> bool:
        return self.status.upper() == "APPROVED"


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
        help_text="What the call was made for, e.g. recipient:42.",
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "API exchange"
        indexes = [models.Index(fields=["partner_app", "-created_at"])]

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

    class Meta:
        verbose_name = "send-rate bucket"

    def __str__(self) -> str:
        return f"rate bucket of {self.app}"


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
        indexes = [models.Index(fields=["partner_app", "-received_at"])]

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
