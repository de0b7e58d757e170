"""Provider answers as the contracts in `shared/api/` and API-NOTES show them.

Builders, not fixtures: a test states what it changes (`template_item(status=...)`)
and keeps the rest realistic.
"""

from __future__ import annotations

import base64
import io
import json
from datetime import datetime
from typing import Any

from PIL import Image

from tests.conftest import APP_ID, COMMBOX, GUPSHUP

APP_URL = f"{GUPSHUP}/partner/app/{APP_ID}"
LOGIN_URL = f"{GUPSHUP}/partner/account/login"
TOKEN_URL = f"{APP_URL}/token"  # GET: the legacy app token; POST: mints a UAT
PARTNER_ID = "7121"
UT_MINT_URL = f"{GUPSHUP}/partner/{PARTNER_ID}/auth/token"
STREAM_ID = "Zx81-stream_ID="  # the `channel` fixture's stream
COMMBOX_UPLOAD_URL = f"{COMMBOX}/whatsapp/uploadmedia/{STREAM_ID}"

# A partner JWT as the login endpoint returns it (header.payload.signature).
PARTNER_JWT = (
    "eyJhbGciOiJIUzUxMiJ9"
    ".eyJzdWIiOiJwYXJ0bmVyQGV4YW1wbGUuY29tIiwiZXhwIjoxOTAwMDAwMDAwfQ"
    ".c2lnbmF0dXJlLW9mLXRoZS1wYXJ0bmVyLWp3dC1ub3QtcmVhbA"
)
# A Universal Token (partner-wide, minted with the client secret) and a Universal
# App Token (one app, minted with the UT): JWTs, sent as `Authorization: Bearer`.
UNIVERSAL_TOKEN = (
    "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9"
    ".eyJzdWIiOiJwYXJ0bmVyLTcxMjEiLCJ0eXAiOiJVVCJ9"
    ".dW5pdmVyc2FsLXRva2VuLXNpZ25hdHVyZS0wMDAx"
)
UNIVERSAL_APP_TOKEN = (
    "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9"
    ".eyJzdWIiOiJhcHAtOTQ3ZDI4YjgiLCJ0eXAiOiJVQVQifQ"
    ".dW5pdmVyc2FsLWFwcC10b2tlbi1zaWduYXR1cmU"
)
# The app token the token endpoint hands out (differs from the pasted one).
FETCHED_TOKEN = "sk_5e1f0c2d9a8b47c6b3a2e1d0f9c8b7a6"
# A custom header secret given to Gupshup through the subscription `meta`.
CALLBACK_HEADER_SECRET = "cb-hdr-6Qx2Vt9LmR3pZk8Ws1Yb4Nd7"

MEDIA_ID = "1852559851913765"
MESSAGE_ID = "28e59926-60d5-41ed-beee-931ef168a966"


def error(message: str) -> dict[str, Any]:
    """Gupshup's error envelope."""
    return {"status": "error", "message": message}


def login_ok(token: str = PARTNER_JWT) -> dict[str, Any]:
    return {
        "token": token,
        "id": 7121,
        "email": "partner@example.com",
        "name": "Spring Partner",
        "isActive": True,
    }


def app_token_ok(token: str = FETCHED_TOKEN) -> dict[str, Any]:
    return {
        "status": "success",
        "token": {
            "token": token,
            "authoritySet": ["ROLE_PARTNER_APP"],
            "active": True,
            "expiresOn": 0,
            "createdOn": 1717200000000,
            "modifiedOn": 1717200000000,
        },
    }


def jwt(*, exp: datetime | None, kind: str = "UT", salt: str = "1") -> str:
    """A JWT-shaped Universal (App) Token expiring at `exp` (no claim if None)."""

    def part(value: dict[str, Any]) -> str:
        raw = json.dumps(value, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    claims: dict[str, Any] = {"sub": f"partner-{PARTNER_ID}", "typ": kind}
    if exp is not None:
        claims["exp"] = int(exp.timestamp())
    signature = base64.urlsafe_b64encode(f"sig-{kind}-{salt}".encode()).decode()
    return f"{part({'alg': 'RS256'})}.{part(claims)}.{signature.rstrip('=')}"


def minted_ok(token: str, expires: datetime, name: str = "gupshup-admin") -> Any:
    """A mint's answer, as the simulator gives it (Gupshup does not document it)."""
    return {
        "status": "success",
        "token": {
            "id": "6f2c9e1a-0000-4000-8000-000000000001",
            "name": name,
            "token": token,
            "createdOn": 1783053048000,
            "expiredOn": int(expires.timestamp() * 1000),
            "status": "ACTIVE",
        },
    }


def media_ok(media_id: str = MEDIA_ID) -> dict[str, Any]:
    return {"mediaId": media_id, "status": "success"}


def template_msg_ok(message_id: str = MESSAGE_ID) -> dict[str, Any]:
    return {"status": "submitted", "messageId": message_id}


def v3_ok(*, sent_to: str, wa_id: str, message_id: str = "gBEGkZZ") -> dict[str, Any]:
    return {
        "messages": [{"id": message_id}],
        "messaging_product": "whatsapp",
        "contacts": [{"input": sent_to, "wa_id": wa_id}],
    }


def health_ok(healthy: Any = "true") -> dict[str, Any]:
    return {"status": "success", "healthy": healthy}


def waba_info_ok(
    tier: str = "TIER_1K",
    quality: str = "GREEN",
    *,
    can_send: str = "AVAILABLE",
    throughput: Any = "STANDARD",
    errors: list[Any] | None = None,
) -> dict[str, Any]:
    """GET /waba/info as API-NOTES lists its fields (`throughput` is a word)."""
    return {
        "status": "success",
        "wabaInfo": {
            "accountStatus": "ACTIVE",
            "canSendMessage": can_send,
            "messagingLimit": tier,
            "phoneQuality": quality,
            "phone": "919643874844",
            "verifiedName": "Spring shop",
            "wabaId": "109876543210987",
            "throughput": throughput,
            "mmLiteStatus": "INELIGIBLE",
            "errors": errors or [],
            "additionalInfo": [],
        },
    }


def wallet_ok(balance: float = 12.5, currency: str = "USD") -> dict[str, Any]:
    return {
        "status": "success",
        "walletResponse": {
            "currency": currency,
            "currentBalance": balance,
            "overDraftLimit": -20.0,
        },
    }


def template_item(
    *,
    gupshup_id: str,
    element_name: str,
    data: str,
    template_type: str = "IMAGE",
    status: str = "APPROVED",
    category: str = "MARKETING",
    header: str = "",
    reason: str | None = None,
) -> dict[str, Any]:
    """One entry of GET /templates; `containerMeta` is a JSON *string*."""
    meta: dict[str, Any] = {"data": data}
    if header:
        meta["header"] = header
    if template_type == "IMAGE":
        meta["mediaId"] = MEDIA_ID
    return {
        "id": gupshup_id,
        "appId": APP_ID,
        "elementName": element_name,
        "languageCode": "en",
        "category": category,
        "templateType": template_type,
        "status": status,
        "data": data,
        "containerMeta": json.dumps(meta),
        "createdOn": 1717200000000,
        "modifiedOn": 1717286400000,
        "reason": reason,
    }


SPRING_SALE = template_item(
    gupshup_id="9ff51097-48c9-47c7-a4e4-a9bb5801d8ea",
    element_name="spring_sale_image",
    data="Hi {{1}}, our spring sale is on! Use code {{2}} for 20% off.",
)
ORDER_UPDATE = template_item(
    gupshup_id="0b7c8a1e-3f55-4c1d-9a7e-6d2b1f0e4c93",
    element_name="order_update_text",
    data="Your order {{1}} has shipped.",
    template_type="TEXT",
    category="UTILITY",
    header="Order update",
)


def templates_ok(*items: dict[str, Any]) -> dict[str, Any]:
    return {"status": "success", "templates": list(items)}


def subscription_ok(*, url: str, meta: str) -> dict[str, Any]:
    """Gupshup echoes the subscription, `meta` (with the header secret) included."""
    return {
        "status": "success",
        "subscription": {
            "id": "3fa1c2d4-sub",
            "appId": APP_ID,
            "url": url,
            "modes": ["SENT", "DELIVERED", "READ", "FAILED"],
            "tag": "spring",
            "version": 3,
            "active": True,
            "meta": meta,
        },
    }


def commbox_upload_ok(media_id: str = "257250616863050") -> dict[str, Any]:
    return {
        "status": "200",
        "description": "Operation successful",
        "response_time": "2024-08-06T07:51:52.2581942Z",
        "data": [{"filename": "spring.png", "id": media_id}],
    }


def commbox_error(status: int, description: str) -> dict[str, Any]:
    return {
        "status": status,
        "description": description,
        "response_time": "2025-02-06T07:51:52.258Z",
    }


def png_bytes(size: tuple[int, int] = (64, 48)) -> bytes:
    """A real PNG made in memory; its bytes cover the whole 0-255 range."""
    image = Image.new("RGB", size)
    image.putdata(
        [
            (x * 7 % 256, y * 13 % 256, (x * y) % 256)
            for y in range(size[1])
            for x in range(size[0])
        ]
    )
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()
