"""The upload endpoint and the library page, through Django's test client."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from media_library import images
from media_library.models import MediaFile, MediaState, ProviderMedia


def png(colour: str = "red") -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (40, 30), colour).save(buf, "PNG")
    return buf.getvalue()


@pytest.fixture(autouse=True)
def media_root(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def client(client: Client, alice: User) -> Client:
    client.force_login(alice)
    return client


def post(client: Client, name: str, data: bytes, kind: str = "image/png") -> Any:
    upload = SimpleUploadedFile(name, data, content_type=kind)
    return client.post(reverse("media_library:upload"), {"file": upload})


def test_a_good_image_is_added_and_the_same_bytes_again_are_a_duplicate(
    client: Client,
) -> None:
    first = post(client, "a.png", png())
    assert first.status_code == 201
    assert first.json()["created"] is True
    again = post(client, "b.png", png())
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert MediaFile.objects.count() == 1


def test_a_rejected_file_gets_its_reason_and_leaves_nothing_stored(
    client: Client, tmp_path: Any
) -> None:
    response = post(client, "empty.png", b"")
    assert response.status_code == 400
    assert "empty" in response.json()["error"]
    assert MediaFile.objects.count() == 0
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


def test_a_request_without_a_file_says_so(client: Client) -> None:
    response = client.post(reverse("media_library:upload"))
    assert response.status_code == 400
    assert "No file" in response.json()["error"]


def test_the_pages_need_a_staff_login(db: None) -> None:
    anonymous = Client()
    response = anonymous.get(reverse("media_library:library"))
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
    assert post(anonymous, "a.png", png()).status_code == 302


def test_the_library_lists_files_and_filters_by_name(client: Client) -> None:
    post(client, "spring.png", png("red"))
    post(client, "autumn.png", png("brown"))
    page = client.get(reverse("media_library:library"), {"q": "spring"}).content
    assert b"spring.png" in page
    assert b"autumn.png" not in page


def test_the_library_filters_by_the_state_of_the_media_ids(
    client: Client, partner_app: Any
) -> None:
    """ "ready" is the dispatcher's rule: ready and not past its expiry; an id
    still marked ready but past it is listed as expired."""
    post(client, "alive.png", png("red"))
    post(client, "dead.png", png("blue"))
    now = timezone.now()
    for name, expires_at in [
        ("alive.png", now + timedelta(days=20)),
        ("dead.png", now),
    ]:
        ProviderMedia.objects.create(
            media_file=MediaFile.objects.get(original_name=name),
            partner_app=partner_app,
            state=MediaState.READY,
            media_id=f"id-{name}",
            expires_at=expires_at - timedelta(minutes=1),
        )

    def listed(state: str) -> list[str]:
        page = client.get(reverse("media_library:library"), {"state": state})
        return [n for n in ("alive.png", "dead.png") if n.encode() in page.content]

    assert listed("ready") == ["alive.png"]
    assert listed("expired") == ["dead.png"]


def test_a_thumbnail_is_served_with_its_sniffed_type_and_nosniff(
    client: Client,
) -> None:
    media_id = post(client, "a.png", png()).json()["id"]
    response = client.get(reverse("media_library:thumbnail", args=[media_id]))
    assert response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content) == png()  # type: ignore[attr-defined]


def test_files_can_be_mirrored_on_upload_to_the_ticked_apps(
    client: Client,
    partner_app: Any,
    mocked: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    mocked.post(
        f"https://gupshup.test/partner/app/{partner_app.app_id}/media",
        json={"mediaId": "77", "status": "success"},
    )
    upload = SimpleUploadedFile("a.png", png(), content_type="image/png")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("media_library:upload"), {"file": upload, "app": [partner_app.pk]}
        )
    assert response.status_code == 201
    media = MediaFile.objects.get()
    assert [(m.partner_app_id, m.media_id) for m in media.mirrors.all()] == [
        (partner_app.pk, "77")
    ]


def test_the_retry_button_queues_failed_ids_again(
    client: Client,
    partner_app: Any,
    mocked: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    from media_library.models import MediaState, ProviderMedia

    media_id = post(client, "a.png", png()).json()["id"]
    row = ProviderMedia.objects.create(
        media_file_id=media_id,
        partner_app=partner_app,
        state=MediaState.FAILED,
        last_error="Unable to upload requested Media",
    )
    mocked.post(
        f"https://gupshup.test/partner/app/{partner_app.app_id}/media",
        json={"mediaId": "78", "status": "success"},
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("media_library:retry", args=[media_id]))
    assert response.status_code == 302
    row.refresh_from_db()
    assert (row.state, row.media_id) == (MediaState.READY, "78")


def test_after_a_form_the_page_returns_only_to_this_site(client: Client) -> None:
    media_id = post(client, "a.png", png()).json()["id"]
    url = reverse("media_library:retry", args=[media_id])
    back = client.post(url, {"next": "/media-library/?kind=image"})
    assert back["Location"] == "/media-library/?kind=image"
    elsewhere = client.post(url, {"next": "https://evil.example/phish"})
    assert elsewhere["Location"] == reverse("media_library:library")


def test_an_upload_that_finds_every_decode_slot_busy_is_a_503_to_retry(
    client: Client, settings: Any
) -> None:
    settings.MEDIA_IMAGE_DECODE_WAIT_SECONDS = 0.01
    semaphore = images._SLOTS.semaphore()
    taken = [semaphore.acquire(blocking=False) for _ in range(2)]
    try:
        response = post(client, "a.png", png())
    finally:
        for _ in filter(None, taken):
            semaphore.release()

    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response.json()["code"] == "busy"
    assert "try again in a moment" in response.json()["error"]
    assert not MediaFile.objects.exists()
    assert post(client, "a.png", png()).status_code == 201


def test_text_named_jpg_dropped_on_the_image_box_is_refused_saying_what_it_is(
    client: Client, tmp_path: Any
) -> None:
    text = SimpleUploadedFile("diwali-offer.jpg", b"Flat 20% off!\n", "image/jpeg")
    response = client.post(
        reverse("media_library:upload"), {"file": text, "kind": "image"}
    )

    assert response.status_code == 400
    assert response.json() == {
        "code": "not_an_image",
        "error": "diwali-offer.jpg is plain text (text/plain), not an image. This "
        "box takes JPEG and PNG images (WebP is converted to JPEG); drop video, "
        "audio and documents on “Drop video, audio or documents here” beside it.",
    }
    assert not MediaFile.objects.exists()
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


def test_the_other_box_takes_a_document_and_the_image_box_an_image(
    client: Client,
) -> None:
    pdf = SimpleUploadedFile("menu.pdf", b"%PDF-1.4\n" + b"x" * 100, "")
    image = SimpleUploadedFile("a.png", png(), "image/png")

    assert client.post(reverse("media_library:upload"), {"file": pdf}).status_code == (
        201
    )
    response = client.post(
        reverse("media_library:upload"), {"file": image, "kind": "image"}
    )
    assert response.status_code == 201
    assert sorted(MediaFile.objects.values_list("kind", flat=True)) == [
        "document",
        "image",
    ]


def test_an_unknown_kind_of_box_is_refused(client: Client) -> None:
    image = SimpleUploadedFile("a.png", png(), "image/png")
    response = client.post(
        reverse("media_library:upload"), {"file": image, "kind": "sticker"}
    )
    assert response.status_code == 400
    assert "kind" in response.json()["error"]


def test_the_page_has_an_image_box_and_a_box_for_everything_else(
    client: Client,
) -> None:
    page = client.get(reverse("media_library:library")).content.decode()
    assert 'data-kind="image"' in page
    assert "Drop images here" in page
    assert "Drop video, audio or documents here" in page


def test_messages_keep_a_file_name_as_it_is_not_capitalised(
    client: Client, channel: Any
) -> None:
    media_id = post(client, "diwali-offer.png", png()).json()["id"]
    response = client.post(
        reverse("media_library:mirror", args=[media_id]),
        {"channel": [channel.pk]},
        follow=True,
    )
    page = response.content.decode()
    assert "diwali-offer.png: mirroring to 1 target(s) queued." in page
    assert "Diwali-offer.png" not in page
