"""Storing uploads and mirroring them to Gupshup apps and CommBox channels."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

import pytest
import responses
from django.utils import timezone
from PIL import Image

from gupshup_admin.models import ApiExchange, CommBoxChannel, PartnerApp
from media_library import selectors, services
from media_library.models import MediaFile, MediaState, MirrorMethod, ProviderMedia
from tests.conftest import APP_ID, APP_TOKEN, COMMBOX, GUPSHUP
from tests.multipart import multipart_parts

MEDIA_URL = f"{GUPSHUP}/partner/app/{APP_ID}/media"


def png(colour: str = "red", size: tuple[int, int] = (64, 48)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, colour).save(buf, "PNG")
    return buf.getvalue()


@pytest.fixture(autouse=True)
def media_root(settings: Any, tmp_path: Any) -> Any:
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def media(db: None) -> MediaFile:
    return services.media_file_create(
        fileobj=io.BytesIO(png()), name="spring.png"
    ).media_file


def mirror(
    capture: Any,
    media: MediaFile,
    *,
    app: PartnerApp | None = None,
    channel: CommBoxChannel | None = None,
) -> ProviderMedia:
    with capture(execute=True):
        [row] = services.media_mirror_request(
            media_file=media,
            apps=[app] if app else [],
            channels=[channel] if channel else [],
        )
    row.refresh_from_db()
    return row


def test_an_upload_is_stored_with_its_detected_type_hash_and_size(
    media: MediaFile,
) -> None:
    assert media.content_type == "image/png"
    assert (media.width, media.height) == (64, 48)
    assert media.size == len(png())
    with media.file.open("rb") as fh:
        assert fh.read() == png()


def test_the_same_bytes_uploaded_twice_point_at_the_existing_file(
    media: MediaFile,
) -> None:
    again = services.media_file_create(fileobj=io.BytesIO(png()), name="copy.png")
    assert not again.created
    assert again.media_file.pk == media.pk
    assert "Already in the library" in again.note
    assert MediaFile.objects.count() == 1


def test_a_file_whose_row_cannot_be_saved_leaves_no_bytes_behind(
    db: None, media_root: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken_save(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("database went away")

    monkeypatch.setattr(MediaFile, "save", broken_save)
    with pytest.raises(RuntimeError):
        services.media_file_create(fileobj=io.BytesIO(png("blue")), name="blue.png")
    assert [p for p in media_root.rglob("*") if p.is_file()] == []


def test_mirroring_to_an_app_streams_the_file_and_tracks_the_expiry(
    media: MediaFile,
    partner_app: PartnerApp,
    mocked: responses.RequestsMock,
    django_capture_on_commit_callbacks: Any,
) -> None:
    mocked.post(MEDIA_URL, json={"mediaId": "820953082747249", "status": "success"})
    row = mirror(django_capture_on_commit_callbacks, media, app=partner_app)

    assert row.state == MediaState.READY
    assert row.media_id == "820953082747249"
    assert row.method == MirrorMethod.FILE
    assert row.exchange == ApiExchange.objects.get(endpoint="media_from_file")
    assert row.uploaded_at is not None and row.expires_at is not None
    assert row.expires_at - row.uploaded_at == timedelta(days=30) - timedelta(hours=24)
    assert multipart_parts(mocked.calls[0].request)["file"].content == png()
    assert mocked.calls[0].request.headers["token"] == APP_TOKEN


def test_a_file_with_a_public_url_is_mirrored_by_url(
    media: MediaFile,
    partner_app: PartnerApp,
    mocked: responses.RequestsMock,
    django_capture_on_commit_callbacks: Any,
) -> None:
    media.public_url = "https://cdn.example.com/spring.png"
    media.save()
    mocked.post(MEDIA_URL, json={"mediaId": "1852559851913765", "status": "success"})
    row = mirror(django_capture_on_commit_callbacks, media, app=partner_app)
    assert row.method == MirrorMethod.URL
    assert row.state == MediaState.READY
    assert ApiExchange.objects.get().endpoint == "media_from_url"


def test_a_non_capi_app_fails_the_row_with_the_providers_words_and_why(
    media: MediaFile,
    partner_app: PartnerApp,
    mocked: responses.RequestsMock,
    django_capture_on_commit_callbacks: Any,
) -> None:
    mocked.post(
        MEDIA_URL,
        status=400,
        json={
            "message": "Only CAPI apps allowed to generate media ID",
            "status": "error",
        },
    )
    row = mirror(django_capture_on_commit_callbacks, media, app=partner_app)
    assert row.state == MediaState.FAILED
    assert "Only CAPI apps allowed to generate media ID" in row.last_error
    assert "not a Cloud API (CAPI) app" in row.last_error
    assert len(mocked.calls) == 1


def test_a_413_fails_at_once_and_is_not_retried(
    media: MediaFile,
    partner_app: PartnerApp,
    mocked: responses.RequestsMock,
    django_capture_on_commit_callbacks: Any,
) -> None:
    mocked.post(
        MEDIA_URL,
        status=413,
        json={"message": "File size exceeds the maximum limit!", "status": "error"},
    )
    row = mirror(django_capture_on_commit_callbacks, media, app=partner_app)
    assert row.state == MediaState.FAILED
    assert row.last_error.startswith("File size exceeds the maximum limit!")
    assert len(mocked.calls) == 1


def test_a_5xx_is_retried_a_bounded_number_of_times_then_fails(
    media: MediaFile,
    partner_app: PartnerApp,
    mocked: responses.RequestsMock,
    django_capture_on_commit_callbacks: Any,
    settings: Any,
) -> None:
    settings.MEDIA_MIRROR_MAX_ATTEMPTS = 3
    mocked.post(
        MEDIA_URL,
        status=500,
        json={"message": "Unable to upload requested Media", "status": "error"},
    )
    row = mirror(django_capture_on_commit_callbacks, media, app=partner_app)
    assert len(mocked.calls) == 3
    assert row.attempts == 3
    assert row.state == MediaState.FAILED
    assert "Unable to upload requested Media" in row.last_error


def test_a_transient_failure_then_success_ends_ready(
    media: MediaFile,
    partner_app: PartnerApp,
    mocked: responses.RequestsMock,
    django_capture_on_commit_callbacks: Any,
) -> None:
    mocked.post(
        MEDIA_URL, status=429, json={"message": "Too Many Requests", "status": "error"}
    )
    mocked.post(MEDIA_URL, json={"mediaId": "99", "status": "success"})
    row = mirror(django_capture_on_commit_callbacks, media, app=partner_app)
    assert row.state == MediaState.READY
    assert row.media_id == "99"
    assert row.last_error == ""


def test_mirroring_to_a_commbox_channel_uploads_the_file_as_pic(
    media: MediaFile,
    channel: CommBoxChannel,
    mocked: responses.RequestsMock,
    django_capture_on_commit_callbacks: Any,
) -> None:
    mocked.post(
        f"{COMMBOX}/whatsapp/uploadmedia/{channel.stream_id}",
        json={
            "status": "200",
            "description": "Operation successful",
            "response_time": "2024-08-06T07:51:52Z",
            "data": [{"filename": "spring.png", "id": "257250616863050"}],
        },
    )
    row = mirror(django_capture_on_commit_callbacks, media, channel=channel)
    assert row.state == MediaState.READY
    assert row.media_id == "257250616863050"
    assert multipart_parts(mocked.calls[0].request)["pic"].content == png()


def test_a_row_another_worker_is_uploading_is_not_uploaded_twice(
    media: MediaFile, partner_app: PartnerApp, mocked: responses.RequestsMock
) -> None:
    row = ProviderMedia.objects.create(
        media_file=media, partner_app=partner_app, state=MediaState.UPLOADING
    )
    services.provider_media_mirror(provider_media_id=row.pk)
    assert len(mocked.calls) == 0


def test_refresh_remakes_ids_that_must_stay_fresh_and_expires_the_rest(
    media: MediaFile,
    partner_app: PartnerApp,
    mocked: responses.RequestsMock,
    django_capture_on_commit_callbacks: Any,
) -> None:
    now = timezone.now()
    fresh = ProviderMedia.objects.create(
        media_file=media,
        partner_app=partner_app,
        state=MediaState.READY,
        media_id="old",
        expires_at=now + timedelta(days=1),
    )
    other = services.media_file_create(fileobj=io.BytesIO(png("green")), name="g.png")
    stale = ProviderMedia.objects.create(
        media_file=other.media_file,
        partner_app=partner_app,
        state=MediaState.READY,
        media_id="dead",
        expires_at=now - timedelta(minutes=1),
    )
    media.keep_fresh = True
    media.save()
    mocked.post(MEDIA_URL, json={"mediaId": "new", "status": "success"})

    with django_capture_on_commit_callbacks(execute=True):
        result = services.media_refresh_expiring()

    assert (result.refreshed, result.expired) == (1, 1)
    fresh.refresh_from_db()
    stale.refresh_from_db()
    assert (fresh.state, fresh.media_id) == (MediaState.READY, "new")
    assert stale.state == MediaState.EXPIRED
    assert selectors.media_valid_for_app_until(
        media_file=media, partner_app=partner_app, until=now + timedelta(days=20)
    )
    assert not selectors.media_valid_for_app_until(
        media_file=other.media_file, partner_app=partner_app, until=now
    )


def test_the_media_refresh_command_expires_dead_ids_and_reports(
    media: MediaFile, partner_app: PartnerApp
) -> None:
    from django.core.management import call_command

    row = ProviderMedia.objects.create(
        media_file=media,
        partner_app=partner_app,
        state=MediaState.READY,
        media_id="dead",
        expires_at=timezone.now() - timedelta(hours=1),
    )
    out = io.StringIO()
    call_command("media_refresh", stdout=out)
    row.refresh_from_db()
    assert row.state == MediaState.EXPIRED
    assert "0 media ids queued for refresh, 1 expired" in out.getvalue()
