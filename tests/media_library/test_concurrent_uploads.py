"""The same bytes uploaded by several people at once: one file, never a 500.

Needs real concurrency, so PostgreSQL (scripts/with-postgres.sh); skipped on SQLite,
whose single writer serializes the uploads anyway.
"""

from __future__ import annotations

import contextlib
import io
import threading
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.files.storage import FileSystemStorage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.urls import reverse
from PIL import Image

from media_library.models import MediaFile

UPLOADERS = 6

needs_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs concurrent writers: run with scripts/with-postgres.sh",
)


def png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (40, 30), "gold").save(buf, "PNG")
    return buf.getvalue()


@needs_postgresql
def test_six_simultaneous_uploads_of_the_same_file_all_get_the_one_stored_file(
    transactional_db: None,
    settings: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings.MEDIA_ROOT = tmp_path
    user = User.objects.create_superuser("ravi", "ravi@example.com", "ravi-password-1")
    clients = []
    for _ in range(UPLOADERS):
        client = Client(raise_request_exception=False)  # a 500 is an answer
        client.force_login(user)
        clients.append(client)
    # Every upload has looked for the sha256 and found nothing before any of them
    # stores its bytes: the race the issue saw, made certain.
    all_checked = threading.Barrier(UPLOADERS)
    store = FileSystemStorage.save

    def save_after_every_check(self: FileSystemStorage, *args: Any, **kw: Any) -> str:
        # Broken (timed out) when the code stores bytes only once: fine too.
        with contextlib.suppress(threading.BrokenBarrierError):
            all_checked.wait(timeout=5)
        return store(self, *args, **kw)

    monkeypatch.setattr(FileSystemStorage, "save", save_after_every_check)
    answers: list[tuple[int, dict[str, Any]]] = []

    def upload(client: Client, number: int) -> None:
        try:
            file = SimpleUploadedFile(f"diwali-{number}.png", png(), "image/png")
            response = client.post(reverse("media_library:upload"), {"file": file})
            body = response.json() if response.status_code < 500 else {}
            answers.append((response.status_code, body))
        finally:
            connection.close()

    threads = [
        threading.Thread(target=upload, args=(client, number))
        for number, client in enumerate(clients)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    statuses = sorted(status for status, _ in answers)
    assert statuses == [200] * (UPLOADERS - 1) + [201], answers
    [media] = MediaFile.objects.all()
    assert {body["id"] for _, body in answers} == {media.pk}
    duplicates = [body["note"] for status, body in answers if status == 200]
    assert all(note == f"Already in the library as {media}." for note in duplicates)
    stored = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert stored == [tmp_path / media.file.name], "the losers' bytes were removed"
