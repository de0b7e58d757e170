"""Create the role groups, or put drifted ones back to their permissions."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from gupshup_admin.roles import roles_setup


class Command(BaseCommand):
    help = (
        "Create the Marketer, Approver, Admin and Reviewer groups with exactly "
        "their permissions (gupshup_admin/roles.py). Safe to run again."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        results = roles_setup()
        for result in results:
            if result.created:
                self.stdout.write(
                    f"{result.name}: created with {len(result.added)} permissions"
                )
                continue
            changes = [
                f"added {', '.join(result.added)}" if result.added else "",
                f"removed {', '.join(result.removed)}" if result.removed else "",
            ]
            text = "; ".join(c for c in changes if c) or "up to date"
            self.stdout.write(f"{result.name}: {text}")
        missing = sorted({perm for r in results for perm in r.missing})
        if missing:
            raise CommandError(
                f"These permissions do not exist: {', '.join(missing)}. "
                "Run `manage.py migrate` first."
            )
