"""Request bodies are bounded before they are read, and files stream to disk.

Two guards, both at the largest media limit (the biggest of MEDIA_MAX_*_BYTES,
read at run time) plus room for the form around the file:

- `RequestSizeLimitMiddleware` answers 413 from the Content-Length header alone,
  before any byte of the body is read (it sits before CsrfViewMiddleware, which
  would parse the whole multipart body to find the token), and 411 to a chunked
  body without Content-Length (Django's WSGI request cannot read one anyway);
- `LimitedUploadHandler` writes file parts to a temporary file on disk, counts
  the bytes as they arrive and stops reading the request as soon as the count
  passes the limit, marking the request so the view answers 413 too.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.core.files.uploadhandler import StopUpload, TemporaryFileUploadHandler
from django.http import HttpRequest, HttpResponseBase, JsonResponse
from django.template.defaultfilters import filesizeformat

# Multipart boundaries, part headers and the small fields sent with a file.
FORM_OVERHEAD_BYTES = 64 * 1024
_BODY_METHODS = {"POST", "PUT", "PATCH"}
TOO_LARGE_ATTRIBUTE = "upload_too_large"


def upload_limit() -> int:
    """The largest file accepted: the biggest of the per-kind media limits."""
    kinds = ("IMAGE", "VIDEO", "AUDIO", "DOCUMENT")
    return max(int(getattr(settings, f"MEDIA_MAX_{kind}_BYTES")) for kind in kinds)


def too_large_response(size: int | None = None) -> JsonResponse:
    """413 with a message a person can act on (the upload page shows it)."""
    limit = filesizeformat(upload_limit())
    said = f"This upload is {filesizeformat(size)}; " if size else ""
    return JsonResponse(
        {
            "error": f"{said}the largest file accepted is {limit}. "
            "Make the file smaller and try again.",
            "code": "too_large",
        },
        status=413,
    )


def upload_was_too_large(request: HttpRequest) -> bool:
    """Whether LimitedUploadHandler stopped reading this request's body."""
    return bool(getattr(request, TOO_LARGE_ATTRIBUTE, False))


class RequestSizeLimitMiddleware:
    """Refuse an oversized or length-less body before anything reads it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if request.method in _BODY_METHODS:
            refused = self._refused(request)
            if refused is not None:
                return refused
        return self.get_response(request)

    def _refused(self, request: HttpRequest) -> JsonResponse | None:
        declared = request.META.get("CONTENT_LENGTH") or ""
        chunked = "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower()
        if not declared.strip() and chunked:
            return JsonResponse(
                {
                    "error": "Send the file with a Content-Length header: "
                    "chunked uploads are not accepted.",
                    "code": "length_required",
                },
                status=411,
            )
        try:
            length = int(declared or 0)
        except ValueError:
            return JsonResponse(
                {"error": "The Content-Length header is not a number."}, status=400
            )
        if length > upload_limit() + FORM_OVERHEAD_BYTES:
            return too_large_response(length)
        return None


class LimitedUploadHandler(TemporaryFileUploadHandler):
    """Stream file parts to disk; stop the whole request past the limit."""

    def __init__(self, request: HttpRequest | None = None) -> None:
        super().__init__(request)
        self.limit = upload_limit()
        self.received = 0

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        self.received += len(raw_data)
        if self.received > self.limit:
            if self.request is not None:
                setattr(self.request, TOO_LARGE_ATTRIBUTE, True)
            # connection_reset: do not read (or drain) the rest of the body.
            raise StopUpload(connection_reset=True)
        return super().receive_data_chunk(raw_data, start)
