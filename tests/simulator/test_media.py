"""Gupshup media ids (URL and upload) and CommBox uploads."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from gupshup_admin.simulator import DEMO, MAX_MEDIA_BYTES, Simulator
from tests.simulator.conftest import app_url, auth

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
BOUNDARY = "simulator-test-boundary"


def post_media(
    sim: Simulator, app_id: str | None = None, token: str | None = None, **kw: Any
) -> requests.Response:
    return requests.post(
        app_url(sim, "media", app_id), headers=auth(token), timeout=10, **kw
    )


def multipart_stream(size: int) -> Iterator[bytes]:
    """A multipart body with a `size`-byte file of zeros, yielded in 1 MiB pieces."""
    yield (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file_type"\r\n\r\n'
        f"image/png\r\n--{BOUNDARY}\r\n"
        'Content-Disposition: form-data; name="file"; filename="huge.png"\r\n'
        "Content-Type: image/png\r\n\r\n"
    ).encode()
    chunk = bytes(1 << 20)
    left = size
    while left:
        piece = min(left, len(chunk))
        yield chunk[:piece]
        left -= piece
    yield f"\r\n--{BOUNDARY}--\r\n".encode()


def test_a_media_url_gets_a_16_digit_media_id_and_is_logged(sim: Simulator) -> None:
    form = {
        "file": (None, "https://cdn.example.test/a.png"),
        "file_type": (None, "image/png"),
    }

    response = post_media(sim, files=form)

    body = response.json()
    assert response.status_code == 200 and body["status"] == "success"
    assert len(body["mediaId"]) == 16 and body["mediaId"].isdigit()
    row = sim.requests("media")[-1]
    assert row["media_id"] == body["mediaId"]
    assert row["form"] == {
        "file": "https://cdn.example.test/a.png",
        "file_type": "image/png",
    }


def test_an_uploaded_file_is_logged_with_its_size_and_sha256(sim: Simulator) -> None:
    response = post_media(
        sim,
        data={"file_type": "image/png"},
        files={"file": ("banner.png", PNG, "image/png")},
    )

    assert response.status_code == 200
    logged = sim.requests("media")[-1]["form"]
    assert logged["file_type"] == "image/png"
    assert logged["file"] == {
        "name": "file",
        "filename": "banner.png",
        "size": len(PNG),
        "sha256": hashlib.sha256(PNG).hexdigest(),
        "content_type": "image/png",
    }


def test_a_non_capi_app_gets_the_contract_400_for_media(sim: Simulator) -> None:
    response = post_media(
        sim,
        app_id=DEMO.non_capi_app.app_id,
        token=DEMO.non_capi_app.token,
        data={"file_type": "image/png"},
        files={"file": ("a.png", PNG, "image/png")},
    )

    assert response.status_code == 400
    assert response.json() == {
        "status": "error",
        "message": "Only CAPI apps allowed to generate media ID",
    }


def test_a_type_outside_the_mime_list_gets_the_contracts_message(
    sim: Simulator,
) -> None:
    response = post_media(
        sim, data={"file_type": "image/gif"}, files={"file": ("a.gif", b"GIF89a")}
    )

    message = response.json()["message"]
    assert response.status_code == 400
    assert message.startswith("Param file must be a file with one of the following")
    assert "application/vnd.ms-excel, image/jpeg" in message
    assert message.endswith("Received file of type 'image/gif'.")


@pytest.mark.parametrize(
    "kwargs",
    [
        {"data": {"file": "https://cdn.example.test/a.png", "file_type": "image/png"}},
        {"files": {"file": (None, "not a url"), "file_type": (None, "image/png")}},
        {"data": {"file_type": "image/png"}, "files": {"file": ("e.png", b"")}},
    ],
    ids=["form-urlencoded", "file-not-a-url", "empty-file"],
)
def test_bad_media_requests_get_a_clear_400(
    sim: Simulator, kwargs: dict[str, Any]
) -> None:
    response = post_media(sim, **kwargs)

    assert response.status_code == 400
    assert response.json()["status"] == "error"
    assert sim.requests("media")[-1]["status"] == 400


def test_a_url_with_the_fail_marker_gets_the_contract_500(sim: Simulator) -> None:
    form = {
        "file": (None, "https://x.test/sim-fail-500.png"),
        "file_type": (None, "image/png"),
    }

    response = post_media(sim, files=form)

    assert response.status_code == 500
    assert response.json()["message"] == "Unable to upload requested Media"


def test_an_upload_one_byte_over_100_mb_streamed_gets_413(sim: Simulator) -> None:
    content_type = f"multipart/form-data; boundary={BOUNDARY}"

    response = requests.post(
        app_url(sim, "media"),
        data=multipart_stream(MAX_MEDIA_BYTES + 1),
        headers={**auth(), "Content-Type": content_type},
        timeout=30,
    )

    assert response.status_code == 413
    assert response.json() == {
        "status": "error",
        "message": "File size exceeds the maximum limit!",
    }
    assert sim.requests("media")[-1]["form"]["file"]["size"] == MAX_MEDIA_BYTES + 1


def test_a_declared_content_length_over_the_limit_is_refused_before_parsing(
    sim: Simulator,
) -> None:
    sim.configure(max_media_bytes=1000)
    body = b"".join(multipart_stream(200_000))

    response = requests.post(
        app_url(sim, "media"),
        data=io.BytesIO(body),
        headers={
            **auth(),
            "Content-Type": f"multipart/form-data; boundary={BOUNDARY}",
            "Content-Length": str(len(body)),
        },
        timeout=10,
    )

    assert response.status_code == 413
    assert sim.requests("media")[-1]["form"] is None  # never parsed


def test_a_file_at_exactly_the_limit_is_accepted(sim: Simulator) -> None:
    sim.configure(max_media_bytes=1000)

    response = post_media(
        sim, data={"file_type": "image/png"}, files={"file": ("a.png", bytes(1000))}
    )

    assert response.status_code == 200


def commbox(
    sim: Simulator, stream: str | None = None, key: str | None = None, **kw: Any
) -> requests.Response:
    stream_id = stream or DEMO.channel.stream_id
    url = f"{sim.commbox_base_url}/whatsapp/uploadmedia/{stream_id}"
    headers = {"Authorization": f"Bearer {key or DEMO.channel.api_key}"}
    return requests.post(url, headers=headers, timeout=5, **kw)


def test_a_commbox_upload_returns_the_filename_and_a_15_digit_id(
    sim: Simulator,
) -> None:
    response = commbox(sim, files={"pic": ("banner.png", PNG, "image/png")})

    body = response.json()
    assert response.status_code == 200
    assert body["status"] == "200" and body["description"] == "Operation successful"
    assert body["response_time"].endswith("Z")
    [item] = body["data"]
    assert item["filename"] == "banner.png"
    assert len(item["id"]) == 15 and item["id"].isdigit()
    row = sim.requests("commbox_upload")[-1]
    assert row["media_id"] == item["id"]
    assert row["form"]["pic"]["sha256"] == hashlib.sha256(PNG).hexdigest()


def test_a_commbox_upload_with_a_wrong_key_gets_401(sim: Simulator) -> None:
    response = commbox(sim, key="cbx_wrong", files={"pic": ("a.png", PNG)})

    assert response.status_code == 401
    assert response.json()["status"] == 401
    assert response.json()["description"] == "Unauthorized"


def test_a_commbox_upload_to_an_unknown_stream_gets_404(sim: Simulator) -> None:
    response = commbox(sim, stream="no-such-stream", files={"pic": ("a.png", PNG)})

    assert response.status_code == 404
    assert response.json()["description"] == "Not Found"


def test_a_commbox_upload_without_pic_gets_the_400_envelope(sim: Simulator) -> None:
    response = commbox(sim, files={"image": ("a.png", PNG)})

    body = response.json()
    assert response.status_code == 400
    assert body["status"] == "400" and "pic" in body["description"]
    assert body["data"][0]["status"] == 400
