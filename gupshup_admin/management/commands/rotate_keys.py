"""Re-encrypt every stored secret under the first key of SECRETS_ENCRYPTION_KEYS."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from gupshup_admin.key_rotation import secrets_rotate


class Command(BaseCommand):
    help = (
        "Re-encrypt every stored secret under the first key of "
        "SECRETS_ENCRYPTION_KEYS, all or nothing. Rotation: put the new key first "
        "(keep the old one after it), restart, run this, then drop the old key."
    )
    # The start-up check (E002) fails exactly when some secret needs the old key;
    # this command must still run then, to name the rows instead.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Decrypt and count every secret, write nothing.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            report = secrets_rotate(dry_run=options["dry_run"])
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc)) from exc
        for name, count in report.counts.items():
            self.stdout.write(f"{name}: {count}")
        verb = "would be re-encrypted (dry run, nothing written)"
        if not report.dry_run:
            verb = "re-encrypted under the first key of SECRETS_ENCRYPTION_KEYS"
        self.stdout.write(self.style.SUCCESS(f"{report.total} secret(s) {verb}."))
