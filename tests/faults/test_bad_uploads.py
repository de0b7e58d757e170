"""Malformed uploads to /media-library/upload/, generated in bulk, each in a batch
with good images (one request per file, as the page's "Drop images here" box
sends them, with kind=image).

Every bad file gets a JSON error with a reason and a code, never a 500, and
nothing of it is stored; a file the library does keep is what its bytes are
(an image decodes in full); the good files of the same batch are all kept.
"""

from __future__ import annotations

import io
import json
import struct
import zlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from media_library.models import MediaFile
from media_library.upload_rules import ALLOWED, ALSO_FITS
from tests.faults.profile import BAD_INPUT
from tests.faults.table import FaultTable

EXAMPLES = 6  # batches of each kind
IMAGE_NAMES = ["photo.png", "banner.jpg", "spring.jpeg", "image", "x.PNG"]
IMAGE_TYPES = ["image/png", "image/jpeg", "application/octet-stream", ""]
MARKUP = [
    b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>',
    b"<?xml version='1.0'?><svg><script>alert(1)</script></svg>",
    b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>",
    b"\xef\xbb\xbf  <html><img src=x onerror=alert(1)>",
    b"<!-- a comment first --><svg onload=alert(1)>",
    b"<div onmouseover=alert(1)>hello</div>",
    b"<script>alert(document.cookie)</script>",
    b"\n\n<iframe src=https://evil.example>",
]
KINDS = (
    "random bytes",
    "truncated image",
    "wrong extension",
    "markup disguised as an image",
    "zero bytes",
    "decompression bomb",
    "document named as an image",
)
FAULTS = {
    "random bytes": "Random bytes named and typed as an image",
    "truncated image": "Truncated PNG or JPEG (cut anywhere)",
    "wrong extension": "A good image with a lying name or type (.pdf, .exe, …): "
    "kept, renamed to what it is",
    "markup disguised as an image": "HTML or SVG (with script) named and typed as "
    "an image",
    "zero bytes": "Zero-byte file",
    "decompression bomb": "Decompression bomb (a small PNG declaring up to "
    "100,000 × 100,000 pixels)",
    "document named as an image": "Text, PDF or audio named and typed as an image, "
    "dropped on the image box",
}
DOCUMENTS = [
    b"Flat 20% off this Diwali!\n",
    "Precios: 10 €\nOferta".encode(),
    b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n" + b"x" * 200,
    b"ID3\x04" + b"\x00" * 200,
]


@dataclass(frozen=True)
class Upload:
    name: str
    data: bytes
    claimed: str

    def __repr__(self) -> str:
        data = self.data if len(self.data) < 120 else self.data[:120] + b"..."
        return f"Upload({self.name!r}, {data!r}, {self.claimed!r})"


def image(fmt: str, width: int, height: int, colour: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(out, fmt)
    return out.getvalue()


images = st.builds(
    image,
    st.sampled_from(["PNG", "JPEG"]),
    st.integers(8, 48),
    st.integers(8, 48),
    st.tuples(*[st.integers(0, 255)] * 3),
)


def png_bomb(width: int, height: int) -> bytes:
    """A valid little PNG whose header declares width x height 1-bit pixels."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    rows = zlib.compress(b"\x00" * ((width + 7) // 8 + 1) * min(height, 16))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", rows)
        + chunk(b"IEND", b"")
    )


@st.composite
def bad_uploads(draw: st.DrawFn, kind: str) -> Upload:
    name = draw(st.sampled_from(IMAGE_NAMES))
    claimed = draw(st.sampled_from(IMAGE_TYPES))
    if kind == "random bytes":
        return Upload(name, draw(st.binary(min_size=1, max_size=4096)), claimed)
    if kind == "truncated image":
        data = draw(images)
        return Upload(name, data[: draw(st.integers(1, len(data) - 1))], claimed)
    if kind == "wrong extension":
        name = draw(st.sampled_from(["report.pdf", "setup.exe", "a.png", "b.gif"]))
        claimed = draw(st.sampled_from(["application/pdf", "image/gif", claimed]))
        return Upload(name, draw(images), claimed)
    if kind == "markup disguised as an image":
        return Upload(name, draw(st.sampled_from(MARKUP)), claimed)
    if kind == "zero bytes":
        return Upload(name, b"", claimed)
    if kind == "document named as an image":
        return Upload(name, draw(st.sampled_from(DOCUMENTS)), claimed)
    side = st.sampled_from([20_000, 65_535, 100_000])
    return Upload(name, png_bomb(draw(side), draw(side)), claimed)


@dataclass
class Tally:
    bad: int = 0
    good: int = 0
    good_kept: int = 0
    codes: Counter[str] = field(default_factory=Counter)
    lost: int = 0


@pytest.fixture
def staff(client: Client, alice: User, settings: Any, tmp_path: Path) -> Client:
    settings.MEDIA_ROOT = tmp_path
    client.force_login(alice)
    return client


def post(client: Client, upload: Upload) -> tuple[int, dict[str, Any]]:
    file = SimpleUploadedFile(upload.name, upload.data, content_type=upload.claimed)
    response = client.post(
        reverse("media_library:upload"), {"file": file, "kind": "image"}
    )
    assert response["Content-Type"] == "application/json", response.status_code
    return response.status_code, json.loads(response.content)


@pytest.mark.parametrize("kind", KINDS)
def test_a_malformed_upload_gets_a_clear_json_error_and_its_batch_is_kept(
    kind: str, staff: Client, tmp_path: Path, fault_table: FaultTable
) -> None:
    tally = Tally()

    @settings(BAD_INPUT, max_examples=EXAMPLES)
    @given(
        bad=bad_uploads(kind),
        good=st.lists(images, min_size=1, max_size=3),
        at=st.integers(0, 3),
    )
    def batch(bad: Upload, good: list[bytes], at: int) -> None:
        uploads = [Upload(f"good-{i}.img", data, "") for i, data in enumerate(good)]
        uploads.insert(min(at, len(uploads)), bad)
        for upload in uploads:
            status, body = post(staff, upload)
            if upload is bad:
                _check_bad(kind, upload, status, body, tally)
            else:
                tally.good += 1
                assert status in (200, 201), body
                tally.good_kept += MediaFile.objects.filter(pk=body["id"]).exists()
        stored = [p for p in tmp_path.rglob("*") if p.is_file()]
        assert len(stored) == MediaFile.objects.count(), "a refused file was stored"

    batch()
    tally.lost = tally.good - tally.good_kept
    assert tally.lost == 0
    fault_table.record(
        area="Media upload",
        fault=FAULTS[kind],
        tried=f"{tally.bad} bad files in batches with {tally.good} good images",
        outcome=_words(tally),
        lost=tally.lost,
    )


def _check_bad(
    kind: str, upload: Upload, status: int, body: dict[str, Any], tally: Tally
) -> None:
    """A JSON error with a reason and a code, or (only where the bytes really
    are an allowed file) kept as what they are."""
    tally.bad += 1
    if status == 400:
        assert body["error"].strip() and body["code"], body
        if kind == "document named as an image":
            assert body["code"] == "not_an_image", body
            assert "not an image. This box takes JPEG and PNG images" in body["error"]
        tally.codes[body["code"]] += 1
        return
    assert status in (200, 201), (status, body)
    assert kind in ("random bytes", "truncated image", "wrong extension"), body
    media = MediaFile.objects.get(pk=body["id"])
    assert media.kind == "image", "the image box keeps only images"
    assert media.content_type in ALLOWED
    extensions = {
        ALLOWED[media.content_type][1],
        *ALSO_FITS.get(media.content_type, ()),
    }
    assert media.original_name.lower().endswith(tuple(extensions)), "named as it is"
    if media.kind == "image":
        with media.file.open("rb") as stored, Image.open(stored) as decoded:
            decoded.load()  # every byte decodes: a usable image
    tally.codes[f"kept as {media.content_type}"] += 1


def _words(tally: Tally) -> str:
    codes = ", ".join(f"{n}× {code}" for code, n in sorted(tally.codes.items()))
    return (
        f"answers: {codes}; every refusal a JSON error with its reason, none "
        f"stored, never a 500; {tally.good_kept} of {tally.good} good images kept"
    )
