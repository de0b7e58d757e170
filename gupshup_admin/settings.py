"""One env-driven settings module. Every variable is listed in `.env.example`.

A bad value raises `ImproperlyConfigured` naming the variable.
"""

from __future__ import annotations

import os
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import environ
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# ENV_FILE (from the real environment only) names another file; "" reads none.
_env_file = os.environ.get("ENV_FILE", str(BASE_DIR / ".env"))
if _env_file and Path(_env_file).is_file():
    environ.Env.read_env(_env_file, overwrite=False)


def _choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    value = str(env.str(name, default=default)).strip().lower()
    if value not in choices:
        raise ImproperlyConfigured(
            f"{name}={value!r} is not valid; use one of: {', '.join(choices)}."
        )
    return value


def _positive(name: str, default: float) -> float:
    try:
        value = float(env.float(name, default=default))
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be a number.") from exc
    if value <= 0:
        raise ImproperlyConfigured(f"{name} must be greater than zero.")
    return value


def _non_negative_int(name: str, default: int) -> int:
    try:
        value = int(env.int(name, default=default))
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be a whole number.") from exc
    if value < 0:
        raise ImproperlyConfigured(f"{name} must be 0 or more.")
    return value


def _positive_int(name: str, default: int) -> int:
    try:
        value = int(env.int(name, default=default))
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be a whole number.") from exc
    if value <= 0:
        raise ImproperlyConfigured(f"{name} must be greater than zero.")
    return value


def _days(name: str, default: int) -> int:
    """A whole number of days, at least 1."""
    try:
        value = int(env.int(name, default=default))
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be a whole number of days.") from exc
    if value < 1:
        raise ImproperlyConfigured(f"{name} must be at least 1 (days).")
    return value


def _warn_days(name: str, default: int, *, lifetime_name: str, lifetime: int) -> int:
    """Days of warning before a secret's lifetime ends: 0 or more, below it."""
    return _below(
        name, default, limit=lifetime, limit_text=f"{lifetime_name}={lifetime}"
    )


def _below(name: str, default: int, *, limit: int, limit_text: str) -> int:
    """A whole number, 0 or more and less than `limit`."""
    value = _non_negative_int(name, default)
    if value >= limit:
        raise ImproperlyConfigured(f"{name}={value} must be less than {limit_text}.")
    return value


def _proxy_ssl_header(name: str) -> tuple[str, str] | None:
    """X-Forwarded-Proto → ("HTTP_X_FORWARDED_PROTO", "https"); "" → None."""
    value = str(env.str(name, default="")).strip()
    if not value:
        return None
    if not re.fullmatch(r"[A-Za-z0-9-]+", value):
        raise ImproperlyConfigured(
            f"{name}={value!r} is not a header name; use e.g. X-Forwarded-Proto."
        )
    return ("HTTP_" + value.upper().replace("-", "_"), "https")


# --- Core ------------------------------------------------------------------
DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    raise ImproperlyConfigured(
        "SECRET_KEY is not set. Copy .env.example to .env (or run `make run`, "
        "which writes one) and set SECRET_KEY."
    )
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# Public base URL of this site, used to build callback URLs given to Gupshup.
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_tasks",
    "axes",
    "gupshup_admin.apps.GupshupAdminConfig",
    "media_library",
    "campaigns",
    "audit",
    # After gupshup_admin, whose db_worker command (which outlives a database
    # restart) replaces this app's command of the same name.
    "django_tasks_db",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "gupshup_admin.security.SiteCSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Before anything reads a body (CsrfViewMiddleware reads request.POST).
    "gupshup_admin.uploads.RequestSizeLimitMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "gupshup_admin.urls"
WSGI_APPLICATION = "gupshup_admin.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database --------------------------------------------------------------
# SQLite is the embedded default; PostgreSQL (psycopg 3) in production and CI.
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Several processes (web, worker) share the file: wait for locks, and take
    # the write lock at BEGIN so select_for_update-style sections serialize.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL;",
        }
    )
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=0)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Auth, i18n ------------------------------------------------------------
_VALIDATORS = "django.contrib.auth.password_validation"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": f"{_VALIDATORS}.{name}"}
    for name in (
        "UserAttributeSimilarityValidator",
        "MinimumLengthValidator",
        "CommonPasswordValidator",
        "NumericPasswordValidator",
    )
]
LANGUAGE_CODE = "en-us"
# One date and time format in the admin, the pages and the messages.
FORMAT_MODULE_PATH = ["gupshup_admin.formats"]
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

# --- Security: HTTPS, cookies, headers --------------------------------------
# With DEBUG off the defaults are production's: HTTPS only, secure cookies, HSTS
# for a year. The demo's .env (plain http on 127.0.0.1) turns the HTTPS-only ones
# off explicitly. `manage.py check --deploy` is clean with these defaults.
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SESSION_COOKIE_HTTPONLY = True
SECURE_HSTS_SECONDS = _non_negative_int(
    "SECURE_HSTS_SECONDS", 0 if DEBUG else 365 * 24 * 3600
)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool(
    "SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG
)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
# Behind a TLS-terminating proxy: the header it sets to "https" (opt-in, and only
# when the proxy always sets or strips it), e.g. X-Forwarded-Proto.
SECURE_PROXY_SSL_HEADER = _proxy_ssl_header("SECURE_PROXY_SSL_HEADER")
SECURE_REFERRER_POLICY = env.str("SECURE_REFERRER_POLICY", default="same-origin")
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# Content-Security-Policy (django-csp). No inline scripts or styles anywhere: the
# pages' JS and CSS are static files. See gupshup_admin/security.py for the admin.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# Login throttling (django-axes): a username is locked out from one address after
# this many failed logins in a row, for this many minutes; other users and other
# addresses are not. `manage.py axes_reset` (or axes_reset_username) lifts it.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = max(1, _non_negative_int("LOGIN_FAILURE_LIMIT", 5))
AXES_COOLOFF_TIME = timedelta(minutes=_positive("LOGIN_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "gupshup_admin.security.lockout_response"
AXES_CLIENT_IP_CALLABLE = "gupshup_admin.security.client_ip"
# Quiet start-up ("AXES: BEGIN …" from every process); attempts are still logged.
AXES_VERBOSE = False
# Proxies in front of the site that append to X-Forwarded-For (0: use the peer).
LOGIN_TRUSTED_PROXIES = _non_negative_int("LOGIN_TRUSTED_PROXIES", 0)

# Uploads are streamed to temporary files on disk (never held in memory) and the
# request is refused as soon as it passes the largest media limit: by its
# Content-Length before anything is read, or by the running count while reading.
FILE_UPLOAD_HANDLERS = ["gupshup_admin.uploads.LimitedUploadHandler"]
FILE_UPLOAD_MAX_MEMORY_SIZE = 64 * 1024
# Form fields other than files (e.g. pasted recipient numbers), in bytes.
DATA_UPLOAD_MAX_MEMORY_SIZE = _non_negative_int(
    "DATA_UPLOAD_MAX_MEMORY_SIZE", 5 * 1024 * 1024
)

# Error reports (500 mails to ADMINS) and logs never show a secret.
DEFAULT_EXCEPTION_REPORTER = "gupshup_admin.redaction.SecretSafeExceptionReporter"
DEFAULT_EXCEPTION_REPORTER_FILTER = (
    "gupshup_admin.redaction.SecretSafeExceptionReporterFilter"
)
ADMINS = [(email, email) for email in env.list("ADMINS", default=[])]

# --- Static and media files ------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
MEDIA_URL = "media/"
MEDIA_ROOT = BASE_DIR / env.str(
    "MEDIA_ROOT", default="var/media"
)  # relative to the repo
MEDIA_STORAGE = _choice("MEDIA_STORAGE", "local", ("local", "s3"))
_media_backend: dict[str, Any]
if MEDIA_STORAGE == "s3":
    _media_backend = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env.str("AWS_STORAGE_BUCKET_NAME", default=""),
            "endpoint_url": env.str("AWS_S3_ENDPOINT_URL", default="") or None,
            "region_name": env.str("AWS_S3_REGION_NAME", default="") or None,
            "querystring_auth": env.bool("AWS_QUERYSTRING_AUTH", default=True),
            "file_overwrite": False,
        },
    }
    if not _media_backend["OPTIONS"]["bucket_name"]:
        raise ImproperlyConfigured("MEDIA_STORAGE=s3 needs AWS_STORAGE_BUCKET_NAME.")
else:
    _media_backend = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
STORAGES = {
    "default": _media_backend,
    "staticfiles": {
        "BACKEND": env.str(
            "STATICFILES_BACKEND",
            default="whitenoise.storage.CompressedManifestStaticFilesStorage",
        )
    },
}

# --- Background tasks (django-tasks API) -----------------------------------
TASKS_BACKEND = _choice("TASKS_BACKEND", "db", ("db", "rq", "immediate"))
_task_backends = {
    "db": "django_tasks_db.DatabaseBackend",
    "rq": "django_tasks_rq.RQBackend",
    "immediate": "django_tasks.backends.immediate.ImmediateBackend",
}
TASKS = {
    "default": {
        "BACKEND": _task_backends[TASKS_BACKEND],
        "QUEUES": ["default", "sends", "media", "callbacks"],
    }
}
if TASKS_BACKEND == "rq":
    INSTALLED_APPS += ["django_rq", "django_tasks_rq"]
    RQ_QUEUES = {
        name: {"URL": env.str("REDIS_URL", default="redis://127.0.0.1:6379/0")}
        for name in TASKS["default"]["QUEUES"]
    }

# --- Providers -------------------------------------------------------------
GUPSHUP_API_BASE = env.str(
    "GUPSHUP_API_BASE", default="https://partner.gupshup.io"
).rstrip("/")
COMMBOX_API_BASE = env.str("COMMBOX_API_BASE", default="https://api.commbox.io").rstrip(
    "/"
)
PROVIDER_CONNECT_TIMEOUT = _positive("PROVIDER_CONNECT_TIMEOUT", 5.0)
PROVIDER_READ_TIMEOUT = _positive("PROVIDER_READ_TIMEOUT", 30.0)
# Response bodies longer than this are cut in ApiExchange rows.
EXCHANGE_BODY_MAX_CHARS = int(_positive("EXCHANGE_BODY_MAX_CHARS", 20_000))
# The partner JWT lives 24 h; refresh it before that.
PARTNER_TOKEN_TTL_HOURS = _positive("PARTNER_TOKEN_TTL_HOURS", 22)

# Secret ages. Gupshup: newly generated client secrets expire after at most 90
# days. CommBox: an API key lives at most a year (rotated every 365 days by
# default, with 30 days' notice). Pages and health checks show each stored
# secret's age and warn this many days before it is expected to lapse.
PARTNER_SECRET_LIFETIME_DAYS = _days("PARTNER_SECRET_LIFETIME_DAYS", 90)
PARTNER_SECRET_WARN_DAYS = _warn_days(
    "PARTNER_SECRET_WARN_DAYS",
    14,
    lifetime_name="PARTNER_SECRET_LIFETIME_DAYS",
    lifetime=PARTNER_SECRET_LIFETIME_DAYS,
)
COMMBOX_KEY_LIFETIME_DAYS = _days("COMMBOX_KEY_LIFETIME_DAYS", 365)
COMMBOX_KEY_WARN_DAYS = _warn_days(
    "COMMBOX_KEY_WARN_DAYS",
    30,
    lifetime_name="COMMBOX_KEY_LIFETIME_DAYS",
    lifetime=COMMBOX_KEY_LIFETIME_DAYS,
)

# Universal Tokens (UT, up to 60 days) and Universal App Tokens (UAT, 1-24 h):
# a minted one is minted again this long before it expires, and a pasted one
# that cannot be is warned about as long before.
UNIVERSAL_TOKEN_REFRESH_DAYS = _below(
    "UNIVERSAL_TOKEN_REFRESH_DAYS",
    7,
    limit=60,
    limit_text="60 (days: the longest a Universal Token lives)",
)
UNIVERSAL_APP_TOKEN_REFRESH_MINUTES = _below(
    "UNIVERSAL_APP_TOKEN_REFRESH_MINUTES",
    30,
    limit=60,
    limit_text="60 (minutes: the shortest a Universal App Token lives)",
)

# Fernet keys (urlsafe base64, 32 bytes) for secrets at rest, newest first.
# Several keys allow rotation: the first encrypts, all of them decrypt.
SECRETS_ENCRYPTION_KEYS = env.list("SECRETS_ENCRYPTION_KEYS", default=[])

# Phone numbers without a country code are read in this region (ISO 3166 code).
PHONE_DEFAULT_REGION = env.str("PHONE_DEFAULT_REGION", default="IN").upper()

# --- Logging ---------------------------------------------------------------
# Every handler masks secret shapes (gupshup_admin/redaction.py). mail_admins is
# Django's own (500 reports to ADMINS when DEBUG is off), with the filter added.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}
    },
    "filters": {
        "redact_secrets": {"()": "gupshup_admin.redaction.RedactSecretsFilter"},
        "require_debug_false": {"()": "django.utils.log.RequireDebugFalse"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["redact_secrets"],
        },
        "mail_admins": {
            "level": "ERROR",
            "class": "django.utils.log.AdminEmailHandler",
            "filters": ["require_debug_false", "redact_secrets"],
        },
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django": {"handlers": ["mail_admins"], "level": "INFO"},
        "django.db.backends": {"level": "WARNING"},
    },
}

# --- Media library ---------------------------------------------------------
# A Gupshup media id lives 30 days; it is treated as expired this many hours sooner.
MEDIA_ID_LIFETIME_DAYS = env.int("MEDIA_ID_LIFETIME_DAYS", default=30)
MEDIA_EXPIRY_MARGIN_HOURS = env.int("MEDIA_EXPIRY_MARGIN_HOURS", default=24)
# Ids of files that must stay fresh are re-made when they expire within this window.
MEDIA_REFRESH_WITHIN_DAYS = env.int("MEDIA_REFRESH_WITHIN_DAYS", default=3)
MEDIA_MIRROR_MAX_ATTEMPTS = env.int("MEDIA_MIRROR_MAX_ATTEMPTS", default=5)
# Upload limits (bytes), read at run time; WhatsApp's own limits by default.
_MB = 1024 * 1024
MEDIA_MAX_IMAGE_BYTES = env.int("MEDIA_MAX_IMAGE_BYTES", default=5 * _MB)
MEDIA_MAX_VIDEO_BYTES = env.int("MEDIA_MAX_VIDEO_BYTES", default=16 * _MB)
MEDIA_MAX_AUDIO_BYTES = env.int("MEDIA_MAX_AUDIO_BYTES", default=16 * _MB)
MEDIA_MAX_DOCUMENT_BYTES = env.int("MEDIA_MAX_DOCUMENT_BYTES", default=100 * _MB)
MEDIA_MAX_PROVIDER_BYTES = env.int("MEDIA_MAX_PROVIDER_BYTES", default=100 * _MB)
# WebP is a sticker format on WhatsApp: convert it to JPEG (true) or refuse it.
MEDIA_CONVERT_WEBP = env.bool("MEDIA_CONVERT_WEBP", default=True)
# Images with more pixels than this are refused from their header, before anything
# decodes them (Pillow's own limit, Image.MAX_IMAGE_PIXELS, is set to the same).
# 52 MP accepts every phone photo up to the largest "50 MP" sensors (8,192 x
# 6,144 = 50.3 MP); WhatsApp scales images far below that anyway.
MEDIA_MAX_IMAGE_PIXELS = _positive_int("MEDIA_MAX_IMAGE_PIXELS", 52_000_000)
# WebP images are converted to JPEG only up to this many pixels: Pillow's WebP
# decoder needs about 15 bytes per pixel (bench/media_decode_rss.py), so 4,096 x
# 4,096 stays under 300 MB. Phones do not save WebP; web banners are far smaller.
MEDIA_MAX_CONVERT_PIXELS = _positive_int("MEDIA_MAX_CONVERT_PIXELS", 4096 * 4096)
# Images decoded (checked or converted) at once per process; an upload that finds
# every slot busy waits this many seconds, then is refused as "busy, try again".
MEDIA_IMAGE_DECODE_SLOTS = _positive_int("MEDIA_IMAGE_DECODE_SLOTS", 2)
MEDIA_IMAGE_DECODE_WAIT_SECONDS = _positive("MEDIA_IMAGE_DECODE_WAIT_SECONDS", 10.0)

# --- Campaigns -------------------------------------------------------------
# A scheduled campaign more than this late does not start without confirmation.
CAMPAIGN_LATE_START_MINUTES = env.int("CAMPAIGN_LATE_START_MINUTES", default=30)
# Four-eyes: a campaign with more recipients than this needs approval by someone
# other than its author before it can start; 0 turns approval off.
CAMPAIGN_APPROVAL_THRESHOLD = _non_negative_int("CAMPAIGN_APPROVAL_THRESHOLD", 0)
# Sender tasks, each serving every running campaign (see docs/campaigns.md): one
# per worker process of the sends queue; more than those gains nothing.
CAMPAIGN_SENDERS = _positive_int("CAMPAIGN_SENDERS", 4)
# Requests each sender keeps in flight or waiting to leave at most (its threads),
# over all apps.
CAMPAIGN_SENDS_IN_FLIGHT = _positive_int("CAMPAIGN_SENDS_IN_FLIGHT", 64)
# Requests in flight per app and sender; 0: enough for the app's rate at the
# latency it answers with (twice over, for the tail), at least 2.
CAMPAIGN_APP_IN_FLIGHT = _non_negative_int("CAMPAIGN_APP_IN_FLIGHT", 0)
# A sender works this long, then hands over to its next slice (enqueued at once:
# it starts while this one waits for its last answers), so a worker of the
# sends queue is free for other tasks now and then.
CAMPAIGN_SENDER_SLICE_SECONDS = _positive("CAMPAIGN_SENDER_SLICE_SECONDS", 30.0)
# Recipients claimed (and rate tokens taken) per statement, at most.
CAMPAIGN_SEND_BATCH = env.int("CAMPAIGN_SEND_BATCH", default=20)
# Transient failures (5xx, connection refused) retried this many times, with
# exponential backoff from this base, before the recipient fails.
CAMPAIGN_SEND_MAX_RETRIES = env.int("CAMPAIGN_SEND_MAX_RETRIES", default=3)
CAMPAIGN_RETRY_BACKOFF_SECONDS = _positive("CAMPAIGN_RETRY_BACKOFF_SECONDS", 15.0)
# A 429 pauses the app's sending this long (unless Gupshup says Retry-After).
CAMPAIGN_THROTTLE_PAUSE_SECONDS = _positive("CAMPAIGN_THROTTLE_PAUSE_SECONDS", 60.0)
# Sends refused for authentication in a row before the campaign pauses.
CAMPAIGN_AUTH_FAILURES_TO_PAUSE = env.int("CAMPAIGN_AUTH_FAILURES_TO_PAUSE", default=3)
# A recipient left "sending" (or a sender silent) this long belongs to a worker that
# died: it must exceed one request's connect + read timeouts.
CAMPAIGN_STALE_SECONDS = _positive(
    "CAMPAIGN_STALE_SECONDS", PROVIDER_CONNECT_TIMEOUT + PROVIDER_READ_TIMEOUT + 30
)

# --- E-mail (campaign owners are told why a campaign paused) ----------------
EMAIL_BACKEND = env.str(
    "EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend"
)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="gupshup-admin@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL  # sender of the 500 reports to ADMINS

# --- Delivery callbacks ----------------------------------------------------
# The header Gupshup is told (subscription `meta`) to send with the app's secret.
WEBHOOK_SECRET_HEADER = env.str(
    "WEBHOOK_SECRET_HEADER", default="X-Gupshup-Admin-Secret"
)
# Callback bodies larger than this are refused (413) before they are read.
WEBHOOK_MAX_BYTES = env.int("WEBHOOK_MAX_BYTES", default=1024 * 1024)
# Subscription format: 2 (Gupshup's) or 3 (Meta's); both are understood.
GUPSHUP_CALLBACK_VERSION = _choice("GUPSHUP_CALLBACK_VERSION", "2", ("2", "3"))
