"""Media stored in S3 (django-storages) against a real moto server.

boto3 talks through botocore's own urllib3, not `requests`, so the strict
`responses` mock never sees the S3 traffic and needs no passthru.
"""

from __future__ import annotations

import hashlib
import io
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3  # type: ignore[import-untyped]
import pytest
import responses
from django.core.files.storage import default_storage
from moto.server import ThreadedMotoServer
from PIL import Image
from storages.backends.s3 import S3Storage

from gupshup_admin.models import PartnerApp
from media_library import services
from media_library.models import MediaFile, MediaState, MirrorMethod
from tests.conftest import APP_ID, GUPSHUP
from tests.multipart import multipart_parts

MEDIA_URL = f"{GUPSHUP}/partner/app/{APP_ID}/media"
REGION = "us-east-1"


def png(colour: str = "teal", size: tuple[int, int] = (40, 30)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, colour).save(buf, "PNG")
    return buf.getvalue()


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    """A real S3 endpoint (moto_server) on a free local port."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
def bucket(
    moto_endpoint: str, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Any, str]]:
    """A fresh bucket, and Django's default storage pointed at it."""
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    name = f"media-{uuid.uuid4().hex[:12]}"
    s3 = boto3.client("s3", endpoint_url=moto_endpoint, region_name=REGION)
    s3.create_bucket(Bucket=name)
    # Django's setting_changed receiver for STORAGES resets
    # default_storage._wrapped, and FileField keeps the lazy default_storage,
    # so the next access builds an S3Storage from these settings.
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": name,
                "endpoint_url": moto_endpoint,
                "region_name": REGION,
                "file_overwrite": False,
                "querystring_auth": True,
            },
        },
    }
    assert isinstance(default_storage, S3Storage)
    assert default_storage.bucket_name == name
    yield s3, name


def keys(s3: Any, bucket_name: str) -> list[str]:
    listing = s3.list_objects_v2(Bucket=bucket_name)
    return [obj["Key"] for obj in listing.get("Contents", [])]


def test_an_upload_is_stored_in_the_bucket_and_served_by_a_presigned_url(
    db: None, bucket: tuple[Any, str], moto_endpoint: str
) -> None:
    s3, bucket_name = bucket
    result = services.media_file_create(fileobj=io.BytesIO(png()), name="spring.png")
    media = result.media_file
    assert result.created
    assert isinstance(media.file.storage, S3Storage)

    digest = hashlib.sha256(png()).hexdigest()
    [key] = keys(s3, bucket_name)
    assert digest in key
    assert key == media.file.name
    assert s3.get_object(Bucket=bucket_name, Key=key)["Body"].read() == png()

    url = urlsplit(media.file.url)
    assert f"{url.scheme}://{url.netloc}" == moto_endpoint
    assert url.path == f"/{bucket_name}/{key}"
    query = parse_qs(url.query)
    assert "X-Amz-Signature" in query or "Signature" in query


def test_the_same_bytes_uploaded_again_store_no_second_object(
    db: None, bucket: tuple[Any, str]
) -> None:
    s3, bucket_name = bucket
    first = services.media_file_create(fileobj=io.BytesIO(png()), name="spring.png")
    again = services.media_file_create(fileobj=io.BytesIO(png()), name="copy.png")
    assert not again.created
    assert again.media_file.pk == first.media_file.pk
    assert MediaFile.objects.count() == 1
    assert keys(s3, bucket_name) == [first.media_file.file.name]


def test_mirroring_reads_the_object_back_from_s3_and_streams_it_to_gupshup(
    bucket: tuple[Any, str],
    partner_app: PartnerApp,
    mocked: responses.RequestsMock,
    django_capture_on_commit_callbacks: Any,
) -> None:
    media = services.media_file_create(
        fileobj=io.BytesIO(png()), name="spring.png"
    ).media_file
    mocked.post(MEDIA_URL, json={"mediaId": "42", "status": "success"})
    with django_capture_on_commit_callbacks(execute=True):
        [row] = services.media_mirror_request(media_file=media, apps=[partner_app])
    row.refresh_from_db()

    assert row.state == MediaState.READY
    assert row.media_id == "42"
    assert row.method == MirrorMethod.FILE
    assert len(mocked.calls) == 1
    part = multipart_parts(mocked.calls[0].request)["file"]
    assert part.content == png()
    assert part.filename == "spring.png"
