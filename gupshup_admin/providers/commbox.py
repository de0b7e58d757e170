"""CommBox: media upload to a WhatsApp channel (stream)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import IO, Any

from gupshup_admin.providers.gupshup_types import raise_bad
from gupshup_admin.providers.http import (
    AuthScheme,
    Credential,
    HashingReader,
    HttpClient,
    Multipart,
    Request,
)
from gupshup_admin.providers.parsing import require
from gupshup_admin.providers.recording import ExchangeContext

PROVIDER = "commbox"


@dataclass(frozen=True)
class CommBoxMedia:
    media_id: str
    filename: str
    exchange_id: int | None = None


class CommBoxClient:
    """Calls for one channel, authenticated with `Authorization: Bearer <API key>`."""

    def __init__(
        self,
        http: HttpClient,
        base_url: str,
        *,
        stream_id: str,
        api_key: str,
        channel_id: int | None = None,
        user_id: int | None = None,
    ) -> None:
        self.http, self.base_url = http, base_url.rstrip("/")
        self.stream_id, self.api_key = stream_id, api_key
        self.channel_id, self.user_id = channel_id, user_id

    def upload_media(
        self, *, fileobj: IO[bytes], size: int, filename: str, content_type: str
    ) -> CommBoxMedia:
        """POST /whatsapp/uploadmedia/{ENCRYPTED_STREAM_ID}, multipart field `pic`.

        Raises ProviderError.
        """
        request = Request(
            "POST",
            f"{self.base_url}/whatsapp/uploadmedia/{self.stream_id}",
            ExchangeContext(
                provider=PROVIDER,
                endpoint="upload_media",
                commbox_channel_id=self.channel_id,
                user_id=self.user_id,
            ),
            headers={"accept": "application/json"},
            credential=Credential(self.api_key, AuthScheme.BEARER),
            multipart=Multipart(
                fields={},
                file_field="pic",
                filename=filename,
                content_type=content_type,
                reader=HashingReader(fileobj, size),
            ),
        )
        reply = self.http.send(request, _media)
        return replace(reply.value, exchange_id=reply.exchange_id)


def _media(body: Any) -> CommBoxMedia:
    where = "CommBox upload"
    if not isinstance(body, dict):
        raise_bad(where, "the answer is not a JSON object")
    status = str(body.get("status", ""))
    if status != "200":
        description = body.get("description", "") if isinstance(body, dict) else ""
        raise_bad(where, f"status is {status!r} ({description})")
    data = require(body, "data", list, where=where)
    if not data:
        raise_bad(where, "'data' is empty")
    item = data[0]
    media_id = item.get("id") if isinstance(item, dict) else None
    if isinstance(media_id, int):
        media_id = str(media_id)
    if not isinstance(media_id, str) or not media_id:
        raise_bad(where, "the answer has no media 'id'")
    return CommBoxMedia(media_id=media_id, filename=str(item.get("filename", "")))
