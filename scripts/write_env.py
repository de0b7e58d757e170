"""Write a .env for the demo from .env.example, with fresh secrets."""

from __future__ import annotations

import secrets
import sys
from pathlib import Path

from cryptography.fernet import Fernet

DEMO = {
    "DEBUG": "true",
    # The demo serves plain http on 127.0.0.1: no https redirect, cookies or HSTS.
    "SECURE_SSL_REDIRECT": "false",
    "SESSION_COOKIE_SECURE": "false",
    "CSRF_COOKIE_SECURE": "false",
    "SECURE_HSTS_SECONDS": "0",
    "GUPSHUP_API_BASE": "http://127.0.0.1:8001",
    "COMMBOX_API_BASE": "http://127.0.0.1:8001/commbox",
    "STATICFILES_BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage",
    # Shorter waits, so the demo's slow and failing numbers settle within a minute.
    "PROVIDER_READ_TIMEOUT": "10",
    "CAMPAIGN_RETRY_BACKOFF_SECONDS": "3",
    # Four-eyes on: campaigns above 10 recipients need the demo approver.
    "CAMPAIGN_APPROVAL_THRESHOLD": "10",
}


def main(target: str) -> None:
    base = Path(__file__).resolve().parent.parent
    values = {
        "SECRET_KEY": secrets.token_urlsafe(50),
        "SECRETS_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        **DEMO,
    }
    lines = []
    for line in (base / ".env.example").read_text().splitlines():
        name = line.split("=", 1)[0]
        if "=" in line and not line.startswith("#") and name in values:
            line = f"{name}={values[name]}"
        lines.append(line)
    Path(target).write_text("\n".join(lines) + "\n")
    print(f"Wrote {target} with a fresh SECRET_KEY and SECRETS_ENCRYPTION_KEYS.")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else ".env")
