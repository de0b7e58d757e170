"""Partner API endpoints other than sending and media: auth, app info, callbacks."""

from __future__ import annotations

import hmac
import json
import time
from typing import Any
from urllib.parse import urlsplit

from werkzeug.wrappers import Response

from gupshup_admin.simulator.fixtures import templates_for
from gupshup_admin.simulator.http import Ctx, SimError, json_response
from gupshup_admin.simulator.state import MintRefused

SUBSCRIPTION_MODES = frozenset(
    {
        "SENT",
        "DELIVERED",
        "READ",
        "FAILED",
        "ENQUEUED",
        "DELETED",
        "MESSAGE",
        "OTHERS",
        "TEMPLATE",
        "ACCOUNT",
        "BILLING",
        "ALL",
    }
)
# Fixed so the token endpoint answers the same thing every time (it is idempotent).
_TOKEN_CREATED_ON = 1_717_200_000_000


def partner_login(ctx: Ctx) -> Response:
    """POST /partner/account/login: partner email + client secret → a partner JWT.

    The secret may come as `secret` or `password`; either one matching is enough.
    """
    form = ctx.request.form
    ctx.entry["form"] = form.to_dict()
    if not ctx.state.take_login_slot():
        raise SimError(429, "Too Many Requests")
    # The client secret is `secret` in the current reference, `password` before.
    email = form.get("email", "")
    given = [v for v in (form.get("secret", ""), form.get("password", "")) if v]
    if not email or not given:
        raise SimError(400, "Both email and secret (or password) are required")
    config = ctx.config
    expected = config.partner_secret.encode()
    good = any(hmac.compare_digest(v.encode(), expected) for v in given)
    if email.lower() != config.partner_email.lower() or not good:
        raise SimError(401, "Invalid email or password")
    return json_response(
        {
            "token": ctx.state.issue_jwt(email),
            "id": config.partner_id,
            "email": config.partner_email,
            "name": config.partner_name,
        }
    )


def app_token(ctx: Ctx) -> Response:
    """GET /partner/app/{appId}/token: the app's sk_ token for a partner JWT.

    Raises SimError 401 for a missing, unknown, expired or `Bearer` JWT.
    """
    jwt = ctx.request.headers.get("Authorization", "")
    if not jwt or jwt.startswith("Bearer ") or not ctx.state.jwt_valid(jwt):
        raise SimError(401, "Unauthorized Access")
    app = ctx.config.app(ctx.args["app_id"])
    if app is None:
        raise SimError(400, "Invalid App Details")
    token = {
        "token": app.token,
        "authoritySet": ["ROLE_PARTNER_APP"],
        "active": True,
        "expiresOn": 0,
        "createdOn": _TOKEN_CREATED_ON,
        "modifiedOn": _TOKEN_CREATED_ON,
    }
    return json_response({"status": "success", "token": token})


def universal_token(ctx: Ctx) -> Response:
    """POST /partner/{partnerId}/auth/token: email + clientSecret + name → a UT.

    The token is shown only in this answer. Raises SimError: 429 past the mint
    rate, 400 for a wrong partner id, a missing field, a bad expiry or too many
    active tokens, 401 for wrong credentials, 403 when minting is not enabled,
    409 for a name an active token has.
    """
    form = ctx.request.form
    ctx.entry["form"] = form.to_dict()
    config = ctx.config
    if not ctx.state.take_mint_slot("UT"):
        raise SimError(429, "Too Many Requests")
    if ctx.args["partner_id"] != str(config.partner_id):
        raise SimError(400, "Invalid partner id")
    email, secret, name = (form.get(k, "") for k in ("email", "clientSecret", "name"))
    if not (email and secret and name):
        raise SimError(400, "email, clientSecret and name are required")
    good = hmac.compare_digest(secret.encode(), config.partner_secret.encode())
    if email.lower() != config.partner_email.lower() or not good:
        raise SimError(401, "Invalid email or client secret")
    if not config.universal_minting:
        raise SimError(403, "Universal Token minting is not enabled for this partner")
    expires_at = _expiry(form.get("expiry"), config.universal_token_ttl, 60, 60 * 86400)
    return _minted(ctx, "UT", name, expires_at)


def universal_app_token(ctx: Ctx) -> Response:
    """POST /partner/app/{appId}/token with `Authorization: Bearer <UT>` → a UAT.

    Only a Universal Token may mint: the legacy partner JWT, an app token or a
    UAT get 401. Raises SimError: 400 for an unknown app, a missing name, a bad
    expiry or too many active tokens, 409 for a name in use, 429 past the rate.
    """
    form = ctx.request.form
    ctx.entry["form"] = form.to_dict()
    header = ctx.request.headers.get("Authorization", "")
    issued = ctx.state.universal(header.removeprefix("Bearer "))
    if not header.startswith("Bearer ") or issued is None or issued.kind != "UT":
        raise SimError(401, "Unauthorized Access")
    app = ctx.config.app(ctx.args["app_id"])
    if app is None:
        raise SimError(400, "Invalid App Details")
    if not ctx.state.take_mint_slot("UAT", app.app_id):
        raise SimError(429, "Too Many Requests")
    name = form.get("name", "")
    if not name:
        raise SimError(400, "name is required")
    ttl = ctx.config.universal_app_token_ttl
    expires_at = _expiry(form.get("expiry"), ttl, 3600, 86400)
    return _minted(ctx, "UAT", name, expires_at, app_id=app.app_id)


def _expiry(raw: str | None, default_ttl: float, shortest: int, longest: int) -> float:
    """The expiry asked for (epoch ms) as epoch seconds, or now + the default."""
    now = time.time()
    if not raw:
        return now + default_ttl
    try:
        expires_at = int(raw) / 1000
    except ValueError as exc:
        raise SimError(400, "expiry must be an epoch-millisecond timestamp") from exc
    # A second of slack: the client computed "now" a moment before we did.
    if not now + shortest - 1 <= expires_at <= now + longest + 1:
        raise SimError(
            400, f"expiry must be between {shortest} s and {longest} s from now"
        )
    return expires_at


def _minted(
    ctx: Ctx, kind: str, name: str, expires_at: float, app_id: str | None = None
) -> Response:
    try:
        token = ctx.state.issue_universal(
            kind, name=name, expires_at=expires_at, app_id=app_id
        )
    except MintRefused as exc:
        raise SimError(exc.status, exc.message) from exc
    # Fields as Gupshup's token list shows them, plus the value (shown once).
    body: dict[str, Any] = {
        "id": ctx.state.new_uuid(),
        "name": name,
        "token": token,
        "createdOn": int(time.time() * 1000),
        "expiredOn": int(expires_at * 1000),
        "status": "ACTIVE",
    }
    if app_id is not None:
        body["appId"] = app_id
    return json_response({"status": "success", "token": body})


def templates(ctx: Ctx) -> Response:
    """GET /partner/app/{appId}/templates: the app's fixed template list."""
    app = ctx.app()
    return json_response({"status": "success", "templates": templates_for(app)})


def health(ctx: Ctx) -> Response:
    """GET /partner/app/{appId}/health: healthy as a string, or 400 if not live.

    A wrong or stale token gets 400 "Authentication Failed" here, not 401, as
    Gupshup's health endpoint answers it.
    """
    try:
        app = ctx.app()
    except SimError as err:
        if err.status != 401:
            raise
        raise SimError(400, "Authentication Failed") from err
    if not app.live:
        raise SimError(400, "App is not live.")
    return json_response({"status": "success", "healthy": "true"})


def waba_info(ctx: Ctx) -> Response:
    """GET /partner/app/{appId}/waba/info: whether the number may send, its tier,
    quality and throughput (a word), as the app's fields say."""
    app = ctx.app()
    info = {
        "accountStatus": app.account_status,
        "canSendMessage": app.can_send_message,
        "messagingLimit": app.messaging_limit,
        "phoneQuality": app.phone_quality,
        "phone": app.source,
        "verifiedName": app.verified_name or app.app_name,
        "wabaId": app.effective_waba_id,
        "throughput": app.throughput,
        "mmLiteStatus": "INELIGIBLE",
        "errors": [{"error_description": text} for text in app.waba_errors],
        "additionalInfo": [],
    }
    return json_response({"status": "success", "wabaInfo": info})


def wallet_balance(ctx: Ctx) -> Response:
    """GET /partner/app/{appId}/wallet/balance."""
    app = ctx.app()
    wallet = {
        "currency": app.wallet_currency,
        "currentBalance": float(app.wallet_balance),
        "overDraftLimit": -20.0,
    }
    if app.wallet_without_status:
        return json_response({"walletResponse": wallet})
    return json_response({"status": "success", "walletResponse": wallet})


def subscription(ctx: Ctx) -> Response:
    """POST (register) or GET (list) /partner/app/{appId}/subscription."""
    app = ctx.app()
    if ctx.request.method == "GET":
        subs = [s.to_json() for s in ctx.state.subscriptions(app.app_id)]
        return json_response({"status": "success", "subscriptions": subs})
    form = ctx.request.form
    ctx.entry["form"] = form.to_dict()
    fields = _subscription_fields(form.to_dict())
    sub = ctx.state.subscribe(app.app_id, **fields)
    return json_response({"status": "success", "subscription": sub.to_json()})


def _subscription_fields(form: dict[str, str]) -> dict[str, Any]:
    url = form.get("url", "").strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise SimError(400, "url must be a valid http(s) URL")
    modes = tuple(m.strip().upper() for m in form.get("modes", "ALL").split(","))
    bad = [m for m in modes if m not in SUBSCRIPTION_MODES]
    if bad or not modes:
        raise SimError(400, f"Invalid modes: {', '.join(bad) or '(empty)'}")
    version = form.get("version", "2").strip()
    if version not in ("2", "3"):
        raise SimError(400, "version must be 2 or 3")
    meta = form.get("meta", "").strip() or "{}"
    return {
        "url": url,
        "modes": modes,
        "tag": form.get("tag", ""),
        "version": int(version),
        "meta": meta,
        "headers": _meta_headers(meta),
    }


def _meta_headers(meta: str) -> dict[str, str]:
    """The callback headers of a subscription's `meta`: a JSON string with them
    under "headers", as Gupshup documents it. Other keys are ignored, so a flat
    map of headers adds none. Raises SimError 400 for anything else."""
    try:
        parsed = json.loads(meta)
    except json.JSONDecodeError as exc:
        raise SimError(400, f"meta must be a JSON object: {exc}") from exc
    if not isinstance(parsed, dict):
        raise SimError(400, 'meta must be a JSON object such as {"headers": {…}}')
    headers = parsed.get("headers", {})
    if not isinstance(headers, dict) or not all(
        isinstance(v, str) for v in headers.values()
    ):
        raise SimError(400, "meta.headers must be an object of header names to texts")
    return {str(k): v for k, v in headers.items()}
