"""Peak-RSS growth of mirroring a 100 MB file to the simulator: streamed vs naive.

Prints one JSON object. Each measurement runs in a fresh child process (this
script with --child MODE) so one cannot inflate the other's peak.
"""

from __future__ import annotations

import hashlib
import json
import os
import resource
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from _django_env import REPO, django_setup

MB = 1024 * 1024
FILE_MB = 100
TARGET_MAX_GROWTH_MB = 25
PDF_NAME = "big.pdf"


def peak_rss_kb() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KB on Linux


def write_pdf(path: Path) -> str:
    """A FILE_MB-byte PDF-looking file; returns its sha256."""
    digest = hashlib.sha256()
    head, tail = b"%PDF-1.4\n", b"\n%%EOF\n"
    chunk = b"\0" * MB
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as fh:
        left = FILE_MB * MB - len(head) - len(tail)
        for block in (head, *([chunk] * (left // MB)), chunk[: left % MB], tail):
            fh.write(block)
            digest.update(block)
    return digest.hexdigest()


def prepare(workdir: Path) -> int:
    """Migrate, add the demo CAPI app and a stored 100 MB MediaFile; returns the
    ProviderMedia id to mirror. The row is made directly: validation is not what
    is measured."""
    django_setup(workdir, migrate=True)
    from django.db import connection

    from gupshup_admin.models import PartnerApp, TokenSource
    from gupshup_admin.simulator import DEMO
    from media_library.models import MediaFile, ProviderMedia, media_upload_to

    capi = DEMO.capi_app
    app = PartnerApp(
        name="Bench app",
        app_id=capi.app_id,
        app_name=capi.app_name,
        source_number=f"+{capi.source}",
        is_capi=True,
    )
    app.set_app_token(capi.token, source=TokenSource.PASTED)
    app.save()
    media = MediaFile(original_name=PDF_NAME, content_type="application/pdf")
    media.kind, media.size = "document", FILE_MB * MB
    media.sha256 = write_pdf(workdir / "source.pdf")
    relative = media_upload_to(media, PDF_NAME)
    (workdir / "media" / relative).parent.mkdir(parents=True)
    (workdir / "source.pdf").rename(workdir / "media" / relative)
    media.file.name = relative
    media.save()
    row = ProviderMedia.objects.create(media_file=media, partner_app=app)
    connection.close()
    return row.pk


def child_streamed(workdir: Path, base_url: str, row_id: int) -> dict[str, Any]:
    django_setup(workdir, migrate=False)
    from django.conf import settings

    from media_library.models import MediaState, ProviderMedia
    from media_library.services import provider_media_mirror

    settings.GUPSHUP_API_BASE = base_url
    ProviderMedia.objects.get(pk=row_id)  # warm the ORM before the baseline
    before = peak_rss_kb()
    provider_media_mirror(provider_media_id=row_id)
    after = peak_rss_kb()
    row = ProviderMedia.objects.get(pk=row_id)
    assert row.state == MediaState.READY, row.last_error
    return {"growth_kb": after - before}


def child_naive(workdir: Path, base_url: str) -> dict[str, Any]:
    import requests

    from gupshup_admin.simulator import DEMO

    capi = DEMO.capi_app
    [path] = (workdir / "media").rglob(PDF_NAME)
    before = peak_rss_kb()
    with path.open("rb") as fh:
        data = fh.read()
    response = requests.post(
        f"{base_url}/partner/app/{capi.app_id}/media",
        files={"file": (PDF_NAME, data, "application/pdf")},
        data={"file_type": "application/pdf"},
        headers={"token": capi.token, "Authorization": capi.token},
        timeout=300,
    )
    after = peak_rss_kb()
    response.raise_for_status()
    return {"growth_kb": after - before}


def measure(mode: str, workdir: Path, base_url: str, row_id: int) -> float:
    """Run one child process; returns its peak-RSS growth in MB."""
    command = [sys.executable, __file__, "--child", mode, str(workdir), base_url]
    child = subprocess.run(
        [*command, str(row_id)],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=os.environ.copy(),
    )
    if child.returncode:
        raise RuntimeError(f"{mode} measurement failed:\n{child.stderr}")
    growth_kb: int = json.loads(child.stdout)["growth_kb"]
    return round(growth_kb / 1024, 1)


def main() -> None:
    sys.path.insert(0, str(REPO))
    if sys.argv[1:2] == ["--child"]:
        mode, folder, url, row = sys.argv[2:6]
        if mode == "streamed":
            result = child_streamed(Path(folder), url, int(row))
        else:
            result = child_naive(Path(folder), url)
        print(json.dumps(result))
        return
    from gupshup_admin.simulator import Simulator, SimulatorConfig

    with (
        tempfile.TemporaryDirectory(prefix="bench-rss-") as tmp,
        Simulator(SimulatorConfig()) as sim,
    ):
        workdir = Path(tmp)
        row_id = prepare(workdir)
        streamed = measure("streamed", workdir, sim.base_url, row_id)
        naive = measure("naive", workdir, sim.base_url, row_id)
        received = [entry["form"]["file"]["size"] for entry in sim.requests()]
    # Both uploads must have reached the simulator whole, or nothing was measured.
    assert received == [FILE_MB * MB] * 2, received
    print(
        json.dumps(
            {
                "file_mb": FILE_MB,
                "streamed_rss_growth_mb": streamed,
                "naive_rss_growth_mb": naive,
                "target_max_growth_mb": TARGET_MAX_GROWTH_MB,
                "ok": streamed <= TARGET_MAX_GROWTH_MB,
            }
        )
    )


if __name__ == "__main__":
    main()
