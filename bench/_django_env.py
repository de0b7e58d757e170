"""Shared setup for the benchmarks: Django on a throwaway SQLite database."""

from __future__ import annotations

import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def django_setup(workdir: Path, *, migrate: bool) -> None:
    """Point Django at SQLite and MEDIA_ROOT inside `workdir`, then set it up.

    The environment is set before django.setup() because the settings module
    reads it at import time; child processes inherit it.
    """
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    os.environ["DJANGO_SETTINGS_MODULE"] = "gupshup_admin.settings_test"
    os.environ["DATABASE_URL"] = f"sqlite:///{workdir / 'bench.sqlite3'}"
    os.environ["MEDIA_ROOT"] = str(workdir / "media")
    import django

    django.setup()
    if migrate:
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
