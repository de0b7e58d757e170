"""Reading multipart bodies that the HTTP mock captured."""

from __future__ import annotations

import re
from dataclasses import dataclass

from requests import PreparedRequest
from requests_toolbelt.multipart.decoder import MultipartDecoder


@dataclass(frozen=True)
class Part:
    name: str
    filename: str | None
    content_type: str | None
    content: bytes


def multipart_parts(request: PreparedRequest) -> dict[str, Part]:
    """The parts of a multipart body, by field name."""
    content_type = request.headers["Content-Type"]
    assert content_type.startswith("multipart/form-data; boundary=")
    body = request.body
    assert isinstance(body, bytes)
    parts: dict[str, Part] = {}
    for part in MultipartDecoder(body, content_type).parts:
        disposition = part.headers[b"Content-Disposition"].decode()
        name = re.search(r'\bname="([^"]*)"', disposition)
        filename = re.search(r'\bfilename="([^"]*)"', disposition)
        assert name is not None, disposition
        raw_type = part.headers.get(b"Content-Type")
        parts[name.group(1)] = Part(
            name=name.group(1),
            filename=filename.group(1) if filename else None,
            content_type=raw_type.decode() if raw_type else None,
            content=part.content,
        )
    return parts
