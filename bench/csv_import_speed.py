"""Time importing 100,000 CSV recipient rows into a template campaign.

Prints one JSON object. Target: under 10 s on this machine (issue 5).
"""

from __future__ import annotations

import io
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _django_env import django_setup

ROWS = 100_000
TARGET_SECONDS = 10.0


def _csv(rows: int) -> bytes:
    lines = ["phone,name,discount"]
    # Valid Indian mobile numbers: 98 + 8 digits.
    lines += [f"+9198{n:08d},Customer {n},{n % 50}%" for n in range(rows)]
    return ("\n".join(lines) + "\n").encode()


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        django_setup(Path(tmp), migrate=True)
        from campaigns.models import Campaign, CampaignKind
        from campaigns.recipients.csv_rows import recipients_import_csv
        from gupshup_admin.models import PartnerApp, Template
        from media_library.models import MediaFile

        app = PartnerApp.objects.create(
            name="Bench",
            app_id="947d28b8-459b-4dfe-9d4c-0ac8c6c245c9",
            app_name="bench",
            source_number="+919643874844",
        )
        template = Template.objects.create(
            app=app,
            gupshup_id="t1",
            element_name="sale",
            status="APPROVED",
            body="Hi {{1}}, {{2}} off",
            slot_count=2,
        )
        media = MediaFile.objects.create(
            original_name="a.png",
            content_type="image/png",
            kind="image",
            size=1,
            sha256="0" * 64,
            file="media/a.png",
        )
        campaign = Campaign.objects.create(
            name="Bench",
            partner_app=app,
            kind=CampaignKind.TEMPLATE,
            template=template,
            media_file=media,
        )
        data = _csv(ROWS)
        started = time.perf_counter()
        report = recipients_import_csv(campaign=campaign, fileobj=io.BytesIO(data))
        seconds = time.perf_counter() - started
    print(
        json.dumps(
            {
                "rows": ROWS,
                "accepted": report.accepted,
                "rejected": len(report.rejected),
                "seconds": round(seconds, 2),
                "rows_per_second": round(ROWS / seconds),
                "target_seconds": TARGET_SECONDS,
                "database": "sqlite",
                "ok": seconds < TARGET_SECONDS and report.accepted == ROWS,
            }
        )
    )


if __name__ == "__main__":
    main()
