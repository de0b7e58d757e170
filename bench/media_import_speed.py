"""Time `manage.py media_import` on 1,000 small PNGs (SQLite in a temp dir).

Prints one JSON object.
"""

from __future__ import annotations

import contextlib
import io
import json
import tempfile
import time
from pathlib import Path

from _django_env import django_setup
from PIL import Image

FILES = 1000
TARGET_SECONDS = 60


def make_pngs(folder: Path) -> None:
    """FILES distinct 32x32 PNGs (each a different colour, so no duplicates)."""
    folder.mkdir()
    for i in range(FILES):
        colour = (i % 256, i // 256, 128)
        Image.new("RGB", (32, 32), colour).save(folder / f"img-{i:04}.png", "PNG")


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="bench-import-") as tmp:
        workdir = Path(tmp)
        django_setup(workdir, migrate=True)
        from django.core.management import CommandError, call_command

        from media_library.models import MediaFile

        make_pngs(workdir / "pngs")
        start = time.perf_counter()
        # A rejection exits with CommandError; it shows below in the row count.
        with contextlib.suppress(CommandError):
            call_command(
                "media_import",
                str(workdir / "pngs"),
                stdout=io.StringIO(),
                stderr=io.StringIO(),
            )
        seconds = time.perf_counter() - start
        imported = MediaFile.objects.count()
    print(
        json.dumps(
            {
                "files": FILES,
                "seconds": round(seconds, 2),
                "files_per_second": round(FILES / seconds, 1),
                "target_seconds": TARGET_SECONDS,
                "ok": imported == FILES and seconds <= TARGET_SECONDS,
            }
        )
    )


if __name__ == "__main__":
    main()
