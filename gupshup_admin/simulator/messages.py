"""The two send endpoints: template/msg (form) and v3/message (Meta JSON).

Both validate like Gupshup, take a slot in the app's sliding-minute window,
then let the destination's magic digits (see magic.py) pick the outcome.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from werkzeug.wrappers import Response

from gupshup_admin.simulator.callbacks import plan_callbacks
from gupshup_admin.simulator.config import SimApp
from gupshup_admin.simulator.fixtures import slot_count, templates_for
from gupshup_admin.simulator.http import Ctx, SimError, json_response
from gupshup_admin.simulator.magic import INTERNAL_ERROR, classify
from gupshup_admin.simulator.payloads import SentMessage

DIGITS = re.compile(r"[0-9]{8,15}")
# Brazilian mobiles: WhatsApp's wa_id drops the ninth digit after the area code.
BRAZIL_MOBILE = re.compile(r"55([0-9]{2})9([0-9]{8})")
FORM_TYPE = "application/x-www-form-urlencoded"
TEMPLATE_FIELDS = ("source", "destination", "template", "message", "src.name")


def template_msg(ctx: Ctx) -> Response:
    """POST /partner/app/{appId}/template/msg: an image template message."""
    app = ctx.app()
    if ctx.request.mimetype != FORM_TYPE:
        raise SimError(400, f"Content-Type must be {FORM_TYPE}")
    form = ctx.request.form.to_dict()
    ctx.entry["form"] = form
    ctx.entry["destination"] = form.get("destination")
    _take_slot(ctx, app)
    _check_template_form(app, form)
    return _send(
        ctx,
        app,
        form["destination"],
        lambda m: {"status": "submitted", "messageId": m.gs_id},
    )


def v3_message(ctx: Ctx) -> Response:
    """POST /partner/app/{appId}/v3/message: a Meta-shaped image message."""
    app = ctx.app()
    if not app.capi or not app.callback_billing:
        raise SimError(400, "Callback Billing must be enabled for this API")
    body = _json_body(ctx)
    ctx.entry["destination"] = body.get("to")
    _take_slot(ctx, app)
    _check_v3_body(body)
    return _send(ctx, app, body["to"], _v3_answer)


def _v3_answer(message: SentMessage) -> dict[str, Any]:
    return {
        "messages": [{"id": message.gs_id}],
        "messaging_product": "whatsapp",
        "contacts": [{"input": message.destination, "wa_id": message.wa_id}],
    }


def wa_id_for(destination: str) -> str:
    """The WhatsApp id WhatsApp reports for a number (Brazil drops a 9)."""
    match = BRAZIL_MOBILE.fullmatch(destination)
    if match is None:
        return destination
    return f"55{match.group(1)}{match.group(2)}"


def _take_slot(ctx: Ctx, app: SimApp) -> None:
    if not ctx.state.take_send_slot(app):
        ctx.fault = "rate_limited"
        raise SimError(429, "Too Many Requests")


def _send(
    ctx: Ctx,
    app: SimApp,
    destination: str,
    answer: Callable[[SentMessage], dict[str, Any]],
) -> Response:
    outcome = classify(destination)
    if outcome.kind == "http":
        ctx.fault = f"magic_{outcome.status}"
        raise SimError(outcome.status, outcome.message)
    if ctx.state.chance(ctx.config.error_rate):
        ctx.fault = "error_rate"
        raise SimError(500, INTERNAL_ERROR)
    message = SentMessage(
        app=app,
        gs_id=ctx.state.new_uuid(),
        wamid=ctx.state.wamid(),
        destination=destination,
        wa_id=wa_id_for(destination),
        failure=outcome.failure
        if not outcome.first_send_only or ctx.state.first_send_to(destination)
        else None,
    )
    ctx.dispatcher.schedule(plan_callbacks(ctx.state, message))
    failure = message.failure.code if message.failure is not None else None
    ctx.entry.update(
        accepted=True, message_id=message.gs_id, wamid=message.wamid, failure=failure
    )
    if outcome.kind in ("hang", "drop"):
        ctx.fault = outcome.kind
    return json_response(answer(message))


def _check_template_form(app: SimApp, form: dict[str, str]) -> None:
    for name in TEMPLATE_FIELDS:
        if not form.get(name, "").strip():
            raise SimError(400, f"Missing required parameter: {name}")
    if not DIGITS.fullmatch(form["destination"]):
        raise SimError(400, "Invalid destination")
    if not DIGITS.fullmatch(form["source"]):
        raise SimError(400, "Invalid source")
    if form["source"] != app.source:
        raise SimError(400, f"Invalid source: {form['source']} is not this app's")
    if form.get("sandbox", "false").lower() not in ("true", "false"):
        raise SimError(400, "sandbox must be true or false")
    _check_template(app, _json_field(form["template"], "template"))
    _check_image(_json_field(form["message"], "message"))


def _check_template(app: SimApp, template: dict[str, Any]) -> None:
    params = template.get("params", [])
    if not isinstance(params, list) or not all(isinstance(p, str) for p in params):
        raise SimError(400, "template.params must be a list of strings")
    wanted = template.get("id")
    found = next((t for t in templates_for(app) if t["id"] == wanted), None)
    if found is None:
        raise SimError(400, f"Template Does Not Exist: no template {wanted!r}")
    name = found["elementName"]
    if found["status"] != "APPROVED":
        raise SimError(400, f"Template {name} is not approved ({found['status']})")
    if found["templateType"] != "IMAGE":
        raise SimError(400, f"Template {name} is not an IMAGE template")
    slots = slot_count(found["data"])
    if len(params) != slots:
        raise SimError(
            400, f"Template {name} needs {slots} params, {len(params)} given"
        )


def _check_v3_body(body: dict[str, Any]) -> None:
    expected = {"messaging_product": "whatsapp", "recipient_type": "individual"}
    for key, value in expected.items():
        if body.get(key) != value:
            raise SimError(400, f"{key} must be {value!r}")
    to = body.get("to")
    if not isinstance(to, str) or not DIGITS.fullmatch(to):
        raise SimError(400, "Invalid destination")
    if body.get("type") != "image":
        raise SimError(400, "type must be 'image'")
    _check_image(body)
    caption = body["image"].get("caption")
    if caption is not None and not isinstance(caption, str):
        raise SimError(400, "image.caption must be a string")


def _check_image(message: dict[str, Any]) -> None:
    image = message.get("image")
    if message.get("type") != "image" or not isinstance(image, dict):
        raise SimError(400, "message must be {'type': 'image', 'image': {...}}")
    media_id, link = image.get("id"), image.get("link")
    if not (isinstance(media_id, str) and media_id) and not link:
        raise SimError(400, "image needs an id or a link")
    if link is not None and not _is_url(link):
        raise SimError(400, "image.link must be an http(s) URL")


def _is_url(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _json_field(raw: str, name: str) -> dict[str, Any]:
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise SimError(400, f"{name} must be a JSON string: {exc}") from exc
    if not isinstance(value, dict):
        raise SimError(400, f"{name} must be a JSON object")
    return value


def _json_body(ctx: Ctx) -> dict[str, Any]:
    raw = ctx.request.get_data(as_text=True)
    try:
        body = json.loads(raw)
    except json.JSONDecodeError as exc:
        ctx.entry["body"] = raw[:2000]
        raise SimError(400, f"Request body must be JSON: {exc}") from exc
    ctx.entry["json"] = body
    if not isinstance(body, dict):
        raise SimError(400, "Request body must be a JSON object")
    return body
