"""Media uploads: Gupshup's media-id endpoint (URL or file) and CommBox's upload.

Sizes are counted from the stream as werkzeug parses it (see http.DigestSink);
a declared Content-Length already over the limit is refused before parsing.
"""

from __future__ import annotations

import hmac
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from werkzeug.datastructures import FileStorage
from werkzeug.wrappers import Response

from gupshup_admin.simulator.http import Ctx, SimError, file_info, json_response

MEDIA_TYPES = (
    "audio/aac",
    "audio/mp4",
    "audio/mpeg",
    "audio/amr",
    "audio/ogg",
    "audio/opus",
    "application/vnd.ms-powerpoint",
    "application/msword",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/pdf",
    "text/plain",
    "application/vnd.ms-excel",
    "image/jpeg",
    "image/png",
    "image/webp",
    "video/mp4",
    "video/3gpp",
)
# Room for the multipart boundaries and part headers around a file at the limit.
MULTIPART_SLACK = 64 * 1024
FAIL_MARKER = "sim-fail-500"
TOO_LARGE = "File size exceeds the maximum limit!"
MULTIPART = "multipart/form-data"


def media(ctx: Ctx) -> Response:
    """POST /partner/app/{appId}/media: a media id from a URL or an upload."""
    app = ctx.app()
    if not app.capi:
        raise SimError(400, "Only CAPI apps allowed to generate media ID")
    request = ctx.request
    if request.mimetype != MULTIPART:
        raise SimError(
            400, f"Content-Type must be {MULTIPART} (fields file, file_type)"
        )
    limit = ctx.config.max_media_bytes
    declared = request.content_length
    if declared is not None and declared > limit + MULTIPART_SLACK:
        raise SimError(413, TOO_LARGE)
    ctx.entry["form"] = form_log(ctx)
    file_type = request.form.get("file_type", "")
    if file_type not in MEDIA_TYPES:
        raise SimError(400, _type_message(file_type))
    upload = request.files.get("file")
    if upload is not None:
        _check_upload(upload, limit)
    else:
        _check_url(request.form.get("file", ""))
    media_id = ctx.state.digits(16)
    ctx.entry["media_id"] = media_id
    return json_response({"mediaId": media_id, "status": "success"})


def form_log(ctx: Ctx) -> dict[str, Any]:
    """Text fields as sent, file parts as {name, filename, size, sha256, …}."""
    request = ctx.request
    logged: dict[str, Any] = request.form.to_dict()
    for name, storage in request.files.items():
        logged[name] = file_info(storage)
    return logged


def _type_message(received: str) -> str:
    return (
        "Param file must be a file with one of the following types: "
        f"{', '.join(MEDIA_TYPES)}. Received file of type '{received}'."
    )


def _check_upload(upload: FileStorage, limit: int) -> None:
    info = file_info(upload)
    if info["size"] is None or info["size"] == 0:
        raise SimError(400, "Param file must not be empty")
    if info["size"] > limit:
        raise SimError(413, TOO_LARGE)
    if FAIL_MARKER in (upload.filename or ""):
        raise SimError(500, "Unable to upload requested Media")


def _check_url(url: str) -> None:
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise SimError(400, "Param file must be a file or a valid http(s) file URL")
    if FAIL_MARKER in url:
        raise SimError(500, "Unable to upload requested Media")


def commbox_upload(ctx: Ctx) -> Response:
    """POST /commbox/whatsapp/uploadmedia/{ENCRYPTED_STREAM_ID} (field `pic`)."""
    auth = ctx.request.headers.get("Authorization", "")
    key = auth[len("Bearer ") :] if auth.startswith("Bearer ") else ""
    channels = ctx.config.channels
    if not any(key and _same(key, c.api_key) for c in channels):
        raise _commbox_error(401, "Unauthorized")
    channel = ctx.config.channel(ctx.args["stream_id"])
    if channel is None:
        raise _commbox_error(404, "Not Found")
    if not _same(key, channel.api_key):
        raise _commbox_error(401, "Unauthorized")
    pic = _commbox_pic(ctx)
    media_id = ctx.state.digits(15)
    ctx.entry["media_id"] = media_id
    return json_response(
        {
            "status": "200",
            "description": "Operation successful",
            "response_time": _response_time(),
            "data": [{"filename": pic.filename or "", "id": media_id}],
        }
    )


def _commbox_pic(ctx: Ctx) -> FileStorage:
    if ctx.request.mimetype != MULTIPART:
        raise _commbox_bad_request(f"Content-Type must be {MULTIPART}")
    ctx.entry["form"] = form_log(ctx)
    pic = ctx.request.files.get("pic")
    if pic is None:
        raise _commbox_bad_request("Missing parameter pic")
    if not file_info(pic)["size"]:
        raise _commbox_bad_request("Parameter pic is an empty file")
    return pic


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())


def _response_time() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _commbox_error(status: int, description: str) -> SimError:
    body = {
        "status": status,
        "description": description,
        "response_time": _response_time(),
    }
    return SimError(status, description, body)


def _commbox_bad_request(description: str) -> SimError:
    body = {
        "status": "400",
        "description": description,
        "response_time": _response_time(),
        "data": [{"recipient": "", "status": 400, "failed": description}],
    }
    return SimError(400, description, body)
