"""Upload size limits hold before the body is read: raw WSGI requests whose
`wsgi.input` counts the bytes the application pulled from it."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import HttpResponse
from django.test import Client
from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart
from django.urls import reverse

from gupshup_admin import uploads
from media_library.models import MediaFile
from tests.media_library.test_views import png

LIMIT = 100 * 1024


class CountingInput:
    """A wsgi.input that remembers how many bytes were read from it."""

    def __init__(self, data: bytes) -> None:
        self._stream = io.BytesIO(data)
        self.bytes_read = 0

    def read(self, size: int = -1) -> bytes:
        chunk = self._stream.read(size)
        self.bytes_read += len(chunk)
        return chunk

    def readline(self, size: int = -1) -> bytes:
        line = self._stream.readline(size)
        self.bytes_read += len(line)
        return line


@pytest.fixture(autouse=True)
def small_limits(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path)
    for kind in ("IMAGE", "VIDEO", "AUDIO", "DOCUMENT"):
        setattr(settings, f"MEDIA_MAX_{kind}_BYTES", LIMIT)
    return tmp_path


@pytest.fixture
def client(client: Client, alice: User) -> Client:
    client.force_login(alice)
    return client


def body_with_file(size: int) -> bytes:
    data = png() + b"\0" * (size - len(png()))
    upload = SimpleUploadedFile("big.png", data, content_type="image/png")
    return encode_multipart(BOUNDARY, {"file": upload})


def raw_post(
    client: Client, body: bytes, *, length: int | None, chunked: bool = False
) -> tuple[HttpResponse, CountingInput]:
    stream = CountingInput(body)
    environ = client._base_environ(  # type: ignore[attr-defined]
        REQUEST_METHOD="POST",
        PATH_INFO=reverse("media_library:upload"),
        CONTENT_TYPE=MULTIPART_CONTENT,
        **{"wsgi.input": stream},
    )
    if length is not None:
        environ["CONTENT_LENGTH"] = str(length)
    if chunked:
        environ["HTTP_TRANSFER_ENCODING"] = "chunked"
    response: Any = client.handler(environ)
    return response, stream


def answer(response: HttpResponse) -> Any:
    return json.loads(response.content)


def temp_files(tmp_path: Path) -> list[Path]:
    return [p for p in tmp_path.glob("*.upload*") if p.is_file()]


def test_a_declared_length_over_the_limit_is_refused_before_a_byte_is_read(
    client: Client,
) -> None:
    body = body_with_file(2 * 1024 * 1024)

    response, stream = raw_post(client, body, length=len(body))

    assert response.status_code == 413
    assert answer(response)["code"] == "too_large"
    assert "the largest file accepted is 100.0\xa0KB" in answer(response)["error"]
    assert stream.bytes_read == 0
    assert not MediaFile.objects.exists()


def test_a_body_bigger_than_it_declared_stops_once_the_count_passes_the_limit(
    client: Client, monkeypatch: pytest.MonkeyPatch, small_limits: Path
) -> None:
    # As if the header check let it through: the running count must stop it.
    monkeypatch.setattr(uploads, "FORM_OVERHEAD_BYTES", 10 * 1024 * 1024)
    body = body_with_file(2 * 1024 * 1024)

    response, stream = raw_post(client, body, length=len(body))

    assert response.status_code == 413
    assert answer(response)["code"] == "too_large"
    assert stream.bytes_read < LIMIT + 3 * 64 * 1024 < len(body)
    assert not MediaFile.objects.exists()
    assert temp_files(small_limits) == []


def test_a_chunked_body_without_a_length_is_refused_unread(client: Client) -> None:
    body = body_with_file(2 * 1024 * 1024)

    response, stream = raw_post(client, body, length=None, chunked=True)

    assert response.status_code == 411
    assert "Content-Length" in answer(response)["error"]
    assert stream.bytes_read == 0


def test_a_file_within_the_limit_streams_to_disk_and_is_stored(
    client: Client, small_limits: Path
) -> None:
    body = encode_multipart(
        BOUNDARY, {"file": SimpleUploadedFile("a.png", png(), content_type="image/png")}
    )

    response, stream = raw_post(client, body, length=len(body))

    assert response.status_code == 201, response.content
    assert stream.bytes_read == len(body)
    assert MediaFile.objects.get().size == len(png())
    assert temp_files(small_limits) == []


def test_uploads_are_never_kept_in_memory() -> None:
    handler = uploads.LimitedUploadHandler()
    handler.new_file("file", "a.png", "image/png", 10)

    assert handler.file.temporary_file_path()
    handler.upload_interrupted()
