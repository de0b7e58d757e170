"""Gupshup Partner API: one small method per endpoint, each returning a parsed object.

Request shapes follow `shared/api/` exactly: app calls send the legacy `sk_` token
raw in both `token` and `Authorization` (never `Bearer`), a Universal (App) Token
as `Authorization: Bearer …` (`http.Credential` decides); phone numbers go
digits-only.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import IO, Any, Generic, TypeVar

from gupshup_admin.providers.gupshup_types import (
    AppToken,
    Health,
    MediaId,
    MintedToken,
    PartnerLogin,
    SubmittedMessage,
    Subscription,
    TemplateInfo,
    V3Message,
    WabaInfo,
    WalletBalance,
    count_slots,
    parse_app_token,
    parse_health,
    parse_login,
    parse_media_id,
    parse_minted_token,
    parse_submitted,
    parse_subscription,
    parse_templates,
    parse_v3_message,
    parse_waba_info,
    parse_wallet_balance,
    raise_bad,
)
from gupshup_admin.providers.http import (
    AuthScheme,
    Credential,
    HashingReader,
    HttpClient,
    HttpResponse,
    Multipart,
    Request,
)
from gupshup_admin.providers.recording import ExchangeContext

__all__ = [
    "AppToken",
    "Caller",
    "GupshupAppClient",
    "GupshupPartnerClient",
    "Health",
    "MediaId",
    "MintedToken",
    "PartnerLogin",
    "Send",
    "SubmittedMessage",
    "Subscription",
    "TemplateInfo",
    "V3Message",
    "WabaInfo",
    "WalletBalance",
    "count_slots",
    "digits",
    "raise_bad",
]  # fmt: skip

PROVIDER = "gupshup"
R = TypeVar("R")


def digits(phone: str) -> str:
    """The wire form of a phone number: country code + number, no `+`."""
    return phone.strip().lstrip("+")


@dataclass(frozen=True)
class Caller:
    """Whose call this is, for the exchange log."""

    partner_app_id: int | None = None
    user_id: int | None = None
    ref: str = ""

    def context(self, endpoint: str, *, destination: str = "") -> ExchangeContext:
        return ExchangeContext(
            provider=PROVIDER,
            endpoint=endpoint,
            partner_app_id=self.partner_app_id,
            user_id=self.user_id,
            ref=self.ref,
            destination=f"+{digits(destination)}" if destination else "",
        )


class GupshupPartnerClient:
    """Partner-level calls: login and app-token retrieval."""

    def __init__(self, http: HttpClient, base_url: str, caller: Caller) -> None:
        self.http, self.base_url, self.caller = http, base_url.rstrip("/"), caller

    def login(self, *, email: str, password: str) -> PartnerLogin:
        """POST /partner/account/login (form), `password` being the partner's
        client secret. Raises ProviderError (PartnerLoginError when refused)."""
        # The current reference names the field `secret`, older pages and every
        # client `password`: one request with both works with either.
        request = Request(
            "POST",
            f"{self.base_url}/partner/account/login",
            self.caller.context("partner_login"),
            form={"email": email, "secret": password, "password": password},
            secrets=[password],
        )
        return self.http.send(request, parse_login).value

    def app_token(self, *, app_id: str, partner_token: str) -> AppToken:
        """GET /partner/app/{appId}/token, partner JWT raw. Raises ProviderError."""
        request = Request(
            "GET",
            f"{self.base_url}/partner/app/{app_id}/token",
            self.caller.context("app_token"),
            headers={"Authorization": partner_token},
            secrets=[partner_token],
        )
        return self.http.send(request, parse_app_token).value

    def mint_universal_token(
        self, *, partner_id: str, email: str, client_secret: str, name: str
    ) -> MintedToken:
        """POST /partner/{partnerId}/auth/token, form `email`, `clientSecret`, `name`:
        a Universal Token (default lifetime 60 days; 3 mints per 60 s; at most 3
        active per admin; names unique among them). Its value is in this answer
        only, and masked in the exchange row.

        Raises ProviderError: 403 or similar when Gupshup has not enabled minting
        for the partner, 429 past the rate.
        """
        request = Request(
            "POST",
            f"{self.base_url}/partner/{partner_id}/auth/token",
            self.caller.context("universal_token"),
            form={"email": email, "clientSecret": client_secret, "name": name},
            secrets=[client_secret],
            secret_response_keys=["token"],
        )
        return self.http.send(request, parse_minted_token).value

    def mint_universal_app_token(
        self, *, app_id: str, universal_token: str, name: str
    ) -> MintedToken:
        """POST /partner/app/{appId}/token with `Authorization: Bearer <UT>`, form
        `name`: a Universal App Token for one app, living 24 h (1-24 h with
        `expiry`; 10 mints per 60 s; at most 3 active per app). Only a Universal
        Token may mint one. Endpoint as documented in Gupshup's partner reference
        ("Mint Universal App Token"); its answer's body is not shown there (see
        `parse_minted_token`).

        Raises ProviderError (AuthenticationError when the UT is refused).
        """
        request = Request(
            "POST",
            f"{self.base_url}/partner/app/{app_id}/token",
            self.caller.context("universal_app_token"),
            headers={"accept": "application/json"},
            form={"name": name},
            credential=Credential(universal_token, AuthScheme.BEARER),
            secret_response_keys=["token"],
        )
        return self.http.send(request, parse_minted_token).value


class GupshupAppClient:
    """App-level calls, authenticated with the app's `sk_` token (raw) or a
    Universal (App) Token (`scheme=AuthScheme.BEARER`)."""

    def __init__(
        self,
        http: HttpClient,
        base_url: str,
        *,
        app_id: str,
        token: str,
        caller: Caller,
        scheme: AuthScheme = AuthScheme.RAW,
    ) -> None:
        self.http, self.caller, self.token = http, caller, token
        self.credential = Credential(token, scheme)
        self.app_url = f"{base_url.rstrip('/')}/partner/app/{app_id}"

    def _request(
        self,
        method: str,
        path: str,
        endpoint: str,
        *,
        destination: str = "",
        **kwargs: Any,
    ) -> Request:
        # The credential decides the auth headers (providers/http.py) and is
        # always among the masked secrets.
        return Request(
            method,
            f"{self.app_url}{path}",
            self.caller.context(endpoint, destination=destination),
            headers={"accept": "application/json"},
            credential=self.credential,
            **kwargs,
        )

    def media_from_url(self, *, url: str, file_type: str) -> MediaId:
        """POST /media, multipart `file=<public URL>`. Raises ProviderError."""
        multipart = Multipart(fields={"file": url, "file_type": file_type})
        request = self._request("POST", "/media", "media_from_url", multipart=multipart)
        reply = self.http.send(request, parse_media_id)
        return replace(reply.value, exchange_id=reply.exchange_id)

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
        reply = self.http.send(request, parse_media_id)
        return replace(reply.value, exchange_id=reply.exchange_id)

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
        """POST /template/msg, form-urlencoded, phone numbers digits-only.

        Raises ProviderError; OutcomeUnknownError when the answer was lost.
        """
        send = self.template_image(
            source=source,
            destination=destination,
            src_name=src_name,
            template_id=template_id,
            params=params,
            image_id=image_id,
            image_link=image_link,
        )
        return send.reply(self.http.send(send.request, send.parse))

    def template_image(
        self,
        *,
        source: str,
        destination: str,
        src_name: str,
        template_id: str,
        params: list[str],
        image_id: str = "",
        image_link: str = "",
    ) -> Send[SubmittedMessage]:
        """The request `send_template_image` makes, for a caller that sends it
        itself (the dispatcher writes its exchange row first)."""
        image = _image(image_id, image_link)
        form = {
            "source": digits(source),
            "destination": digits(destination),
            "src.name": src_name,
            "template": json.dumps({"id": template_id, "params": params}),
            "message": json.dumps({"type": "image", "image": image}),
        }
        request = self._request(
            "POST", "/template/msg", "template_msg", form=form, destination=destination
        )
        return Send(request, parse_submitted, _submitted_reply)

    def send_v3_image(
        self, *, to: str, image_id: str = "", image_link: str = "", caption: str = ""
    ) -> V3Message:
        """POST /v3/message, JSON in Meta Cloud API shape. Raises ProviderError."""
        send = self.v3_image(
            to=to, image_id=image_id, image_link=image_link, caption=caption
        )
        return send.reply(self.http.send(send.request, send.parse))

    def v3_image(
        self, *, to: str, image_id: str = "", image_link: str = "", caption: str = ""
    ) -> Send[V3Message]:
        """The request `send_v3_image` makes (see `template_image`)."""
        image = _image(image_id, image_link)
        if caption:
            image["caption"] = caption
        payload = {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": digits(to),
            "type": "image",
            "image": image,
        }
        request = self._request(
            "POST", "/v3/message", "v3_message", json_body=payload, destination=to
        )

        def reply(answer: HttpResponse[V3Message]) -> V3Message:
            value = answer.value
            return replace(
                value,
                input=value.input or digits(to),
                wa_id=value.wa_id or digits(to),
                exchange_id=answer.exchange_id,
            )

        return Send(request, parse_v3_message, reply)

    def templates(self) -> list[TemplateInfo]:
        """GET /templates. Raises ProviderError."""
        request = self._request("GET", "/templates", "templates")
        return self.http.send(request, parse_templates).value

    def health(self) -> Health:
        """GET /health. Raises ProviderError."""
        request = self._request("GET", "/health", "health")
        return self.http.send(request, parse_health).value

    def waba_info(self) -> WabaInfo:
        """GET /waba/info. Raises ProviderError."""
        request = self._request("GET", "/waba/info", "waba_info")
        return self.http.send(request, parse_waba_info).value

    def wallet_balance(self) -> WalletBalance:
        """GET /wallet/balance. Raises ProviderError."""
        request = self._request("GET", "/wallet/balance", "wallet_balance")
        return self.http.send(request, parse_wallet_balance).value

    def subscribe(
        self,
        *,
        url: str,
        modes: list[str],
        tag: str,
        version: int,
        headers: dict[str, str],
        secrets: Sequence[str] = (),
    ) -> Subscription:
        """POST /subscription (form). Gupshup adds `headers` to every callback;
        `secrets` (e.g. one inside `url`) are masked in the exchange row along
        with the header values. Raises ProviderError."""
        form = {
            "url": url,
            "modes": ",".join(modes),
            "tag": tag,
            "version": str(version),
            # A JSON string with the headers under "headers", as Gupshup's docs
            # show it (a flat map of headers is not that shape).
            "meta": json.dumps({"headers": headers}),
        }
        request = self._request(
            "POST",
            "/subscription",
            "subscription",
            form=form,
            secrets=[*headers.values(), *secrets],
        )
        return self.http.send(request, parse_subscription).value


def _submitted_reply(answer: HttpResponse[SubmittedMessage]) -> SubmittedMessage:
    return replace(answer.value, exchange_id=answer.exchange_id)


@dataclass(frozen=True)
class Send(Generic[R]):
    """A message send, built but not made: the request, how its answer is
    parsed, and how the parsed answer becomes the method's reply."""

    request: Request
    parse: Callable[[Any], R]
    reply: Callable[[HttpResponse[R]], R]


def _image(image_id: str, image_link: str) -> dict[str, str]:
    if bool(image_id) == bool(image_link):
        raise ValueError("Give exactly one of image_id or image_link.")
    return {"id": image_id} if image_id else {"link": image_link}
