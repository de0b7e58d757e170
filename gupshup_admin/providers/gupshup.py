"""Gupshup Partner API: one small method per endpoint, each returning a parsed object.

Request shapes follow `shared/api/` exactly: app calls send the `sk_` token raw in
both `token` and `Authorization` (never `Bearer`); phone numbers go digits-only.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import IO, Any, NoReturn

from gupshup_admin.providers.errors import BadResponseError
from gupshup_admin.providers.http import (
    ExchangeContext,
    HashingReader,
    HttpClient,
    Multipart,
    Request,
)
from gupshup_admin.providers.parsing import optional, require, require_success_status

PROVIDER = "gupshup"
_SLOT = re.compile(r"\{\{\s*(\d+)\s*\}\}")


def count_slots(text: str) -> int:
    """The number of `{{n}}` parameters a template body needs (its highest n)."""
    return max((int(n) for n in _SLOT.findall(text or "")), default=0)


@dataclass(frozen=True)
class PartnerLogin:
    token: str


@dataclass(frozen=True)
class AppToken:
    token: str
    active: bool
    expires_on: int  # epoch ms; 0 = does not expire


@dataclass(frozen=True)
class MediaId:
    media_id: str


@dataclass(frozen=True)
class SubmittedMessage:
    """template/msg accepted the message (not yet delivered: callbacks tell)."""

    message_id: str


@dataclass(frozen=True)
class V3Message:
    message_id: str
    input: str
    wa_id: str


@dataclass(frozen=True)
class TemplateInfo:
    gupshup_id: str
    element_name: str
    language_code: str
    category: str
    template_type: str
    status: str
    body: str
    slot_count: int
    header_type: str
    container_meta: dict[str, Any]
    reason: str


@dataclass(frozen=True)
class Health:
    healthy: bool


@dataclass(frozen=True)
class WabaInfo:
    can_send_message: str
    messaging_limit: str
    phone_quality: str
    allowed_tps: int | None
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class WalletBalance:
    current_balance: float
    currency: str


@dataclass(frozen=True)
class Subscription:
    subscription_id: str
    url: str
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Scope:
    """Whose call this is, for the exchange log."""

    partner_app_id: int | None = None
    user_id: int | None = None


class GupshupPartnerClient:
    """Partner-level calls: login and app-token retrieval."""

    def __init__(self, http: HttpClient, base_url: str, scope: Scope) -> None:
        self.http, self.base_url, self.scope = http, base_url.rstrip("/"), scope

    def _context(self, endpoint: str) -> ExchangeContext:
        return ExchangeContext(
            provider=PROVIDER,
            endpoint=endpoint,
            partner_app_id=self.scope.partner_app_id,
            user_id=self.scope.user_id,
        )

    def login(self, *, email: str, password: str) -> PartnerLogin:
        """POST /partner/account/login (form). Raises ProviderError."""
        response = self.http.send(
            Request(
                "POST",
                f"{self.base_url}/partner/account/login",
                self._context("partner_login"),
                form={"email": email, "password": password},
                secrets=[password],
            )
        )
        return PartnerLogin(require(response.body, "token", str, where="partner login"))

    def app_token(self, *, app_id: str, partner_token: str) -> AppToken:
        """GET /partner/app/{appId}/token, partner JWT raw. Raises ProviderError."""
        where = "app token"
        response = self.http.send(
            Request(
                "GET",
                f"{self.base_url}/partner/app/{app_id}/token",
                self._context("app_token"),
                headers={"Authorization": partner_token},
                secrets=[partner_token],
            )
        )
        require_success_status(response.body, where=where)
        token = require(response.body, "token", dict, where=where)
        return AppToken(
            token=require(token, "token", str, where=where),
            active=bool(token.get("active", True)),
            expires_on=optional(token, "expiresOn", int, 0),
        )


class GupshupAppClient:
    """App-level calls, authenticated with the app's `sk_` token."""

    def __init__(
        self, http: HttpClient, base_url: str, *, app_id: str, token: str, scope: Scope
    ) -> None:
        self.http, self.scope = http, scope
        self.app_url = f"{base_url.rstrip('/')}/partner/app/{app_id}"
        self.token = token

    def _request(self, method: str, path: str, endpoint: str, **kwargs: Any) -> Request:
        context = ExchangeContext(
            provider=PROVIDER,
            endpoint=endpoint,
            partner_app_id=self.scope.partner_app_id,
            user_id=self.scope.user_id,
        )
        # Docs say `Authorization:`, the curl samples say `token:`: send both, raw.
        headers = {
            "token": self.token,
            "Authorization": self.token,
            "accept": "application/json",
        }
        return Request(
            method,
            f"{self.app_url}{path}",
            context,
            headers=headers,
            secrets=[self.token],
            **kwargs,
        )

    def media_from_url(self, *, url: str, file_type: str) -> MediaId:
        """POST /media, multipart `file=<public URL>`. Raises ProviderError."""
        request = self._request(
            "POST",
            "/media",
            "media_from_url",
            multipart=Multipart(fields={"file": url, "file_type": file_type}),
        )
        return self._media_id(self.http.send(request).body)

    def media_from_file(
        self, *, fileobj: IO[bytes], size: int, filename: str, file_type: str
    ) -> MediaId:
        """POST /media, the bytes streamed as multipart `file`. Raises ProviderError."""
        multipart = Multipart(
            fields={"file_type": file_type},
            file_field="file",
            filename=filename,
            content_type=file_type,
            reader=HashingReader(fileobj, size),
        )
        request = self._request(
            "POST", "/media", "media_from_file", multipart=multipart
        )
        return self._media_id(self.http.send(request).body)

    @staticmethod
    def _media_id(body: Any) -> MediaId:
        require_success_status(body, where="media id")
        media_id = body.get("mediaId")
        if isinstance(media_id, int):
            media_id = str(media_id)
        return MediaId(require({"mediaId": media_id}, "mediaId", str, where="media id"))

    def send_template_image(
        self,
        *,
        source: str,
        destination: str,
        src_name: str,
        template_id: str,
        params: list[str],
        image_id: str = "",
        image_link: str = "",
    ) -> SubmittedMessage:
        """POST /template/msg, form-urlencoded. Phone numbers digits-only.

        Raises ProviderError; OutcomeUnknownError when the answer was lost.
        """
        form = {
            "source": source,
            "destination": destination,
            "src.name": src_name,
            "template": json.dumps({"id": template_id, "params": params}),
            "message": json.dumps(
                {"type": "image", "image": _image(image_id, image_link)}
            ),
        }
        response = self.http.send(
            self._request("POST", "/template/msg", "template_msg", form=form)
        )
        where = "template message"
        status = require(response.body, "status", str, where=where)
        if status.lower() not in ("submitted", "success"):
            raise_bad(where, f"status is {status!r}, not 'submitted'")
        return SubmittedMessage(require(response.body, "messageId", str, where=where))

    def send_v3_image(
        self, *, to: str, image_id: str = "", image_link: str = "", caption: str = ""
    ) -> V3Message:
        """POST /v3/message, JSON in Meta Cloud API shape. Raises ProviderError."""
        image = _image(image_id, image_link)
        if caption:
            image["caption"] = caption
        payload = {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": to,
            "type": "image",
            "image": image,
        }
        response = self.http.send(
            self._request("POST", "/v3/message", "v3_message", json_body=payload)
        )
        where = "v3 message"
        messages = require(response.body, "messages", list, where=where)
        if not messages:
            raise_bad(where, "'messages' is empty")
        message_id = require(messages[0], "id", str, where=where)
        contacts = optional(response.body, "contacts", list, [])
        contact = contacts[0] if contacts and isinstance(contacts[0], dict) else {}
        return V3Message(
            message_id=message_id,
            input=str(contact.get("input", to)),
            wa_id=str(contact.get("wa_id", to)),
        )

    def templates(self) -> list[TemplateInfo]:
        """GET /templates. Raises ProviderError."""
        response = self.http.send(self._request("GET", "/templates", "templates"))
        require_success_status(response.body, where="templates")
        items = require(response.body, "templates", list, where="templates")
        return [_template(item) for item in items]

    def health(self) -> Health:
        """GET /health: `healthy` comes as the string "true". Raises ProviderError."""
        response = self.http.send(self._request("GET", "/health", "health"))
        require_success_status(response.body, where="health")
        healthy = response.body.get("healthy")
        return Health(healthy=str(healthy).lower() == "true")

    def waba_info(self) -> WabaInfo:
        """GET /waba/info. Raises ProviderError."""
        response = self.http.send(self._request("GET", "/waba/info", "waba_info"))
        require_success_status(response.body, where="WABA info")
        info = require(response.body, "wabaInfo", dict, where="WABA info")
        tps = info.get("allowedTps")
        return WabaInfo(
            can_send_message=str(info.get("canSendMessage", "")),
            messaging_limit=str(info.get("messagingLimit", "")),
            phone_quality=str(info.get("phoneQuality", "")),
            allowed_tps=int(tps) if isinstance(tps, int | float) else None,
            raw=info,
        )

    def wallet_balance(self) -> WalletBalance:
        """GET /wallet/balance. Raises ProviderError."""
        response = self.http.send(
            self._request("GET", "/wallet/balance", "wallet_balance")
        )
        require_success_status(response.body, where="wallet balance")
        wallet = require(response.body, "walletResponse", dict, where="wallet balance")
        balance = wallet.get("currentBalance")
        if not isinstance(balance, int | float):
            raise_bad("wallet balance", "'currentBalance' is not a number")
        return WalletBalance(
            current_balance=float(balance), currency=str(wallet.get("currency", ""))
        )

    def subscribe(
        self,
        *,
        url: str,
        modes: list[str],
        tag: str,
        version: int,
        meta: dict[str, str],
    ) -> Subscription:
        """POST /subscription (form). `meta` becomes headers on every callback."""
        form = {
            "url": url,
            "modes": ",".join(modes),
            "tag": tag,
            "version": str(version),
            "meta": json.dumps(meta),
        }
        secrets = [self.token, *meta.values()]
        request = self._request("POST", "/subscription", "subscription", form=form)
        request.secrets = secrets
        response = self.http.send(request)
        require_success_status(response.body, where="subscription")
        sub = require(response.body, "subscription", dict, where="subscription")
        return Subscription(
            subscription_id=str(sub.get("id", "")),
            url=str(sub.get("url", url)),
            raw=sub,
        )


def _image(image_id: str, image_link: str) -> dict[str, str]:
    if bool(image_id) == bool(image_link):
        raise ValueError("Give exactly one of image_id or image_link.")
    return {"id": image_id} if image_id else {"link": image_link}


def raise_bad(where: str, what: str) -> NoReturn:
    raise BadResponseError(f"{where}: {what}.")


def _template(item: Any) -> TemplateInfo:
    where = "templates"
    meta_text = item.get("containerMeta") if isinstance(item, dict) else None
    try:
        meta = json.loads(meta_text) if isinstance(meta_text, str) and meta_text else {}
    except ValueError:
        meta = {}
    body = str(item.get("data") or meta.get("data") or "")
    template_type = str(item.get("templateType", "")).upper()
    media_types = {"IMAGE", "VIDEO", "DOCUMENT", "LOCATION"}
    return TemplateInfo(
        gupshup_id=require(item, "id", str, where=where),
        element_name=require(item, "elementName", str, where=where),
        language_code=str(item.get("languageCode", "")),
        category=str(item.get("category", "")),
        template_type=template_type,
        status=str(item.get("status", "")).upper(),
        body=body,
        slot_count=count_slots(body),
        header_type=template_type
        if template_type in media_types
        else ("TEXT" if meta.get("header") else ""),
        container_meta=meta if isinstance(meta, dict) else {},
        reason=str(item.get("reason") or ""),
    )
