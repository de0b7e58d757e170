"""Gupshup apps, CommBox channels and the templates synced from Gupshup."""

from __future__ import annotations

import secrets as _stdlib_secrets
from datetime import datetime

from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils import timezone

from gupshup_admin import crypto
from gupshup_admin.phones import validate_e164
from gupshup_admin.providers.masking import mask_value

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
    # Usable, but WhatsApp reports something to act on (quality RED, LIMITED).
    WARNING = "warning", "Healthy, with warnings"
    UNHEALTHY = "unhealthy", "Unhealthy"

    @classmethod
    def usable(cls) -> tuple[str, str]:
        """The statuses a campaign may start with."""
        return (cls.HEALTHY, cls.WARNING)


class TokenSource(models.TextChoices):
    NONE = "", "No token"
    PASTED = "pasted", "Pasted by an admin"
    FETCHED = "fetched", "Fetched with partner credentials"
    MINTED = "minted", "Minted by this tool"


class TokenKind(models.TextChoices):
    """What app calls authenticate with (API-NOTES, Authentication)."""

    LEGACY = "legacy", "Legacy: sk_ app token (pasted, or fetched via partner login)"
    UNIVERSAL = "universal", "Universal Token (Bearer, every app of the partner)"
    UNIVERSAL_APP = "universal_app", "Universal App Token (Bearer, this app only)"


PARTNER_ID_VALIDATOR = RegexValidator(
    r"^[0-9]{1,20}$",
    "The Gupshup partner id is a number: the `id` in the partner login's answer, "
    "also shown in Gupshup's Partner Portal.",
)


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
    # Null with a secret stored: set before ages were recorded (age unknown).
    partner_secret_set_at = models.DateTimeField(
        "client secret set", null=True, blank=True, editable=False
    )
    partner_token_encrypted = models.TextField(blank=True, editable=False)
    partner_token_expires_at = models.DateTimeField(
        null=True, blank=True, editable=False
    )
    callback_secret_encrypted = models.TextField(blank=True, editable=False)

    # Universal Tokens (Gupshup's replacement for the legacy partner token).
    token_kind = models.CharField(
        "token kind",
        max_length=16,
        choices=TokenKind.choices,
        default=TokenKind.LEGACY,
        help_text="What app calls authenticate with. Gupshup is replacing the legacy "
        "partner token with Universal Tokens and says API-key authentication ends "
        "on 2027-03-31.",
    )
    gupshup_partner_id = models.CharField(
        "Gupshup partner id",
        max_length=20,
        blank=True,
        validators=[PARTNER_ID_VALIDATOR],
        help_text="Needed to mint Universal Tokens (POST /partner/{id}/auth/token).",
    )
    mint_universal_tokens = models.BooleanField(
        "mint Universal Tokens",
        default=False,
        help_text="Mint the Universal Token with the partner e-mail and client secret "
        "(and mint it again before it expires). Only once Gupshup has enabled "
        "minting for your partner account; each mint e-mails your partner admins.",
    )
    universal_token_encrypted = models.TextField(blank=True, editable=False)
    universal_token_hint = models.CharField(
        "stored Universal Token", max_length=20, blank=True, editable=False
    )
    universal_token_source = models.CharField(
        max_length=10, choices=TokenSource.choices, blank=True, editable=False
    )
    universal_token_set_at = models.DateTimeField(
        "Universal Token set", null=True, blank=True, editable=False
    )
    universal_token_expires_at = models.DateTimeField(
        "Universal Token expires", null=True, blank=True, editable=False
    )
    universal_app_token_encrypted = models.TextField(blank=True, editable=False)
    universal_app_token_hint = models.CharField(
        "stored Universal App Token", max_length=20, blank=True, editable=False
    )
    universal_app_token_source = models.CharField(
        max_length=10, choices=TokenSource.choices, blank=True, editable=False
    )
    universal_app_token_set_at = models.DateTimeField(
        "Universal App Token set", null=True, blank=True, editable=False
    )
    universal_app_token_expires_at = models.DateTimeField(
        "Universal App Token expires", null=True, blank=True, editable=False
    )

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
        self.partner_secret_set_at = timezone.now() if secret else None
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
    def universal_token(self) -> str:
        return crypto.decrypt(self.universal_token_encrypted)

    def set_universal_token(
        self, token: str, *, source: str, expires_at: datetime | None
    ) -> None:
        """Store (or, with "", forget) the Universal Token; its age starts now."""
        self.universal_token_encrypted = crypto.encrypt(token)
        self.universal_token_hint = mask_value(token)
        self.universal_token_source = source if token else TokenSource.NONE
        self.universal_token_set_at = timezone.now() if token else None
        self.universal_token_expires_at = expires_at if token else None

    @property
    def universal_app_token(self) -> str:
        return crypto.decrypt(self.universal_app_token_encrypted)

    def set_universal_app_token(
        self, token: str, *, source: str, expires_at: datetime | None
    ) -> None:
        """Store (or, with "", forget) the Universal App Token; its age starts now."""
        self.universal_app_token_encrypted = crypto.encrypt(token)
        self.universal_app_token_hint = mask_value(token)
        self.universal_app_token_source = source if token else TokenSource.NONE
        self.universal_app_token_set_at = timezone.now() if token else None
        self.universal_app_token_expires_at = expires_at if token else None

    @property
    def has_partner_credentials(self) -> bool:
        return bool(self.partner_email and self.partner_secret_encrypted)

    @property
    def has_app_token(self) -> bool:
        return bool(self.app_token_encrypted)

    @property
    def has_universal_token(self) -> bool:
        return bool(self.universal_token_encrypted)

    @property
    def has_universal_app_token(self) -> bool:
        return bool(self.universal_app_token_encrypted)

    @property
    def can_mint_universal_token(self) -> bool:
        """Minting is switched on and has what it needs (it may still be refused)."""
        return bool(
            self.mint_universal_tokens
            and self.gupshup_partner_id
            and self.has_partner_credentials
        )

    @property
    def can_refresh_token(self) -> bool:
        """Whether a refused or lapsing token of the app's kind can be replaced."""
        if self.token_kind == TokenKind.UNIVERSAL:
            return self.can_mint_universal_token
        if self.token_kind == TokenKind.UNIVERSAL_APP:
            return self.has_universal_token or self.can_mint_universal_token
        return self.has_partner_credentials

    @property
    def has_app_credentials(self) -> bool:
        """Whether app calls have something to authenticate with, by token kind."""
        if self.token_kind == TokenKind.UNIVERSAL:
            return self.has_universal_token or self.can_refresh_token
        if self.token_kind == TokenKind.UNIVERSAL_APP:
            return self.has_universal_app_token or self.can_refresh_token
        return self.has_app_token or self.has_partner_credentials


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
    # Kept by every upload (gupshup_admin/commbox_channels.py): a refused key
    # makes it unhealthy in CommBox's words, an accepted upload healthy.
    # db_default: rows written by code that predates these columns.
    health_status = models.CharField(
        max_length=10,
        choices=HealthStatus.choices,
        default=HealthStatus.UNKNOWN,
        db_default=HealthStatus.UNKNOWN,
        editable=False,
    )
    health_message = models.TextField(
        blank=True, default="", db_default="", editable=False
    )
    health_checked_at = models.DateTimeField(null=True, blank=True, editable=False)
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
