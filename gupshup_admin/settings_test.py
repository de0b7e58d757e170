"""Test settings: only overrides. PostgreSQL comes from DATABASE_URL (see Makefile)."""

from __future__ import annotations

import os

os.environ.setdefault("SECRET_KEY", "test-secret-key-not-for-production")
os.environ.setdefault(
    "SECRETS_ENCRYPTION_KEYS", "bW9ja2tleW1vY2trZXltb2Nra2V5bW9ja2tleW1vY2s="
)
# Never the developer's .env (`make run` writes one: the demo's approval
# threshold, keys and database would change what the tests see), nor the demo's
# database (its secrets are under the demo's key: the checks would fail to
# decrypt them). The worker processes tests start inherit both.
os.environ.setdefault("ENV_FILE", "")
os.environ.setdefault("DATABASE_URL", "sqlite://:memory:")

from gupshup_admin.settings import *  # noqa: F403
from gupshup_admin.settings import TASKS

GUPSHUP_API_BASE = "https://gupshup.test"
COMMBOX_API_BASE = "https://commbox.test"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES["staticfiles"] = {  # noqa: F405
    "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
}
TASKS["default"]["BACKEND"] = "django_tasks.backends.immediate.ImmediateBackend"
PROVIDER_CONNECT_TIMEOUT = 2.0
PROVIDER_READ_TIMEOUT = 2.0
# The test client and live_server speak plain http. Production's HTTPS settings
# are checked by `check --deploy` in tests/gupshup_admin/test_deploy_settings.py.
SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = False
SECURE_HSTS_SECONDS = 0
