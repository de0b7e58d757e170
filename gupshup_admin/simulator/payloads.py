"""Callback bodies in Gupshup's two formats (v2 and the Meta-shaped v3).

The shapes follow API-NOTES.md, quirks included: a v3 `enqueued` status has
its timestamp in milliseconds as a number, every other one in seconds as a string;
a v2 DLR carries WhatsApp's time in its inner `payload.ts` while the envelope's
`timestamp` is when Gupshup made the call, a little later; a failure Gupshup
itself refuses is a lone `failed` naming the Gupshup id, one from WhatsApp comes
after `enqueued` and names the wamid as `id` and the Gupshup id as `gsId`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gupshup_admin.simulator.config import SimApp
from gupshup_admin.simulator.magic import Failure


@dataclass(frozen=True)
class SentMessage:
    """An accepted send: everything its callbacks need."""

    app: SimApp
    gs_id: str
    wamid: str
    destination: str
    wa_id: str
    failure: Failure | None = None

    def events(self) -> list[str]:
        """The status events this message goes through, in their real order."""
        if self.failure is None:
            return ["enqueued", "sent", "delivered", "read"]
        if self.failure.synchronous:
            return ["failed"]  # refused by Gupshup: never enqueued
        return ["enqueued", "failed"]


# How long after WhatsApp's moment (a DLR's inner ts) Gupshup's envelope is
# stamped: enough that a parser dating DLRs by the envelope is caught.
CALLBACK_LAG = 1.5


def v2_body(
    message: SentMessage, event: str, ts: float, *, drop_gsid: bool
) -> dict[str, Any]:
    """A v2 `message-event` callback for one status of a message at `ts`."""
    inner: dict[str, Any]
    sent_at = ts
    if event == "enqueued":
        inner = {"whatsappMessageId": message.wamid, "type": "session"}
        payload: dict[str, Any] = {"id": message.gs_id, "gsId": message.gs_id}
    elif event == "failed":
        failure = message.failure
        assert failure is not None  # failed is only planned for failing messages
        inner = {"code": failure.code, "reason": failure.reason}
        if failure.synchronous:
            payload = {"id": message.gs_id}
        else:
            payload = {"id": message.wamid, "gsId": message.gs_id}
    else:
        inner = {"ts": int(ts)}
        sent_at = ts + CALLBACK_LAG
        payload = {"id": message.wamid, "gsId": message.gs_id}
        if drop_gsid:
            # Gupshup leaves gsId out of events that arrive more than a week late.
            del payload["gsId"]
    payload.update(type=event, destination=message.destination, payload=inner)
    return {
        "app": message.app.app_name,
        "timestamp": int(sent_at * 1000),
        "version": 2,
        "type": "message-event",
        "payload": payload,
    }


def v3_body(message: SentMessage, event: str, ts: float) -> dict[str, Any]:
    """A v3 (Meta-shaped) status callback for one status of a message."""
    status: dict[str, Any] = {
        "id": message.wamid,
        "gs_id": message.gs_id,
        "status": event,
        # The real quirk: enqueued carries milliseconds as a number.
        "timestamp": int(ts * 1000) if event == "enqueued" else str(int(ts)),
        "recipient_id": message.wa_id,
    }
    if event == "failed" and message.failure is not None:
        status["errors"] = [_meta_error(message.failure)]
    app = message.app
    value = {
        "messaging_product": "whatsapp",
        "metadata": {
            "display_phone_number": app.source,
            "phone_number_id": app.effective_phone_number_id,
        },
        "statuses": [status],
    }
    return {
        "object": "whatsapp_business_account",
        "gs_app_id": app.app_id,
        "entry": [
            {
                "id": app.effective_waba_id,
                "changes": [{"field": "messages", "value": value}],
            }
        ],
    }


_ERROR_CODES_URL = (
    "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/"
)


def _meta_error(failure: Failure) -> dict[str, Any]:
    return {
        "code": failure.meta_code,
        "title": failure.meta_title,
        "message": failure.meta_title,
        "error_data": {"details": failure.reason},
        "href": _ERROR_CODES_URL,
    }
