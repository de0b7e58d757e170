"""The WSGI application: routing, the request log, latency, hangs and drops.

Handlers only decide the answer; this module logs every request (errors too),
then applies the timing faults, so the log is written before a client gives up.
"""

from __future__ import annotations

import contextlib
import json
import socket
import time
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Response

from gupshup_admin.simulator import media, messages, partner
from gupshup_admin.simulator.callbacks import CallbackDispatcher
from gupshup_admin.simulator.http import (
    Ctx,
    SimError,
    SimRequest,
    drain,
    error_body,
    json_response,
)
from gupshup_admin.simulator.state import SimState

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

Handler = Callable[[Ctx], Response]

HANDLERS: dict[str, Handler] = {
    "partner_login": partner.partner_login,
    "app_token": partner.app_token,
    "universal_token": partner.universal_token,
    "universal_app_token": partner.universal_app_token,
    "templates": partner.templates,
    "health": partner.health,
    "waba_info": partner.waba_info,
    "wallet_balance": partner.wallet_balance,
    "subscription": partner.subscription,
    "media": media.media,
    "commbox_upload": media.commbox_upload,
    "template_msg": messages.template_msg,
    "v3_message": messages.v3_message,
}

_APP = "/partner/app/<app_id>"
ROUTES = Map(
    [
        Rule("/partner/account/login", methods=["POST"], endpoint="partner_login"),
        Rule(f"{_APP}/token", methods=["GET"], endpoint="app_token"),
        Rule(f"{_APP}/token", methods=["POST"], endpoint="universal_app_token"),
        Rule(
            "/partner/<partner_id>/auth/token",
            methods=["POST"],
            endpoint="universal_token",
        ),
        Rule(f"{_APP}/media", methods=["POST"], endpoint="media"),
        Rule(f"{_APP}/template/msg", methods=["POST"], endpoint="template_msg"),
        Rule(f"{_APP}/v3/message", methods=["POST"], endpoint="v3_message"),
        Rule(f"{_APP}/templates", methods=["GET"], endpoint="templates"),
        Rule(f"{_APP}/health", methods=["GET"], endpoint="health"),
        Rule(f"{_APP}/waba/info", methods=["GET"], endpoint="waba_info"),
        Rule(f"{_APP}/wallet/balance", methods=["GET"], endpoint="wallet_balance"),
        Rule(f"{_APP}/subscription", methods=["GET", "POST"], endpoint="subscription"),
        Rule(
            "/commbox/whatsapp/uploadmedia/<stream_id>",
            methods=["POST"],
            endpoint="commbox_upload",
        ),
        Rule("/_sim/requests", methods=["GET"], endpoint="sim_requests"),
        Rule("/_sim/callbacks", methods=["GET"], endpoint="sim_callbacks"),
        Rule("/_sim/reset", methods=["POST"], endpoint="sim_reset"),
        Rule("/_sim/config", methods=["GET", "POST"], endpoint="sim_config"),
        Rule("/_sim/health", methods=["GET"], endpoint="sim_health"),
    ],
    strict_slashes=False,
)


class SimWsgi:
    """The simulator as a WSGI callable (serve it with werkzeug's server)."""

    def __init__(self, state: SimState, dispatcher: CallbackDispatcher) -> None:
        self.state = state
        self.dispatcher = dispatcher

    def __call__(
        self, environ: WSGIEnvironment, start_response: StartResponse
    ) -> Iterable[bytes]:
        request = SimRequest(environ)
        try:
            endpoint, args = ROUTES.bind_to_environ(environ).match()
        except HTTPException as exc:
            endpoint, args = "unknown", {}
            response = self._provider(request, endpoint, args, _route_error(exc))
        else:
            if endpoint.startswith("sim_"):
                response = self._control(request, endpoint)
            else:
                response = self._provider(request, endpoint, args, HANDLERS[endpoint])
        return response(environ, start_response)

    def reset(self) -> None:
        """Forget logs, pending callbacks, rate windows and subscriptions."""
        self.dispatcher.clear()
        self.state.reset()

    def _provider(
        self,
        request: SimRequest,
        endpoint: str,
        args: Mapping[str, Any],
        handler: Handler,
    ) -> Response:
        entry = _new_entry(request, endpoint, args)
        config = self.state.config
        ctx = Ctx(request, self.state, config, self.dispatcher, entry, dict(args))
        response = _run(ctx, handler)
        entry.update(status=response.status_code, fault=ctx.fault)
        entry["response"] = _json_or_text(response)
        self.state.record(entry)
        if ctx.fault == "drop":
            _drop_connection(request)
        self._pause(self.state.latency())
        if ctx.fault == "hang":
            self._pause(ctx.config.hang_seconds)
        return response

    def _pause(self, seconds: float) -> None:
        # Waiting on the stop event lets stop() end a hang at once.
        if seconds > 0:
            self.state.stopping.wait(seconds)

    def _control(self, request: SimRequest, endpoint: str) -> Response:
        try:
            return _CONTROL[endpoint](self, request)
        except (ValueError, TypeError) as exc:
            return json_response(error_body(str(exc)), 400)


def _run(ctx: Ctx, handler: Handler) -> Response:
    try:
        response = handler(ctx)
    except SimError as err:
        response = json_response(err.body, err.status)
    except HTTPException as exc:
        # From werkzeug's form parser, e.g. a text field over the memory limit.
        status = exc.code or 400
        response = json_response(error_body(exc.description or exc.name), status)
    drain(ctx.request)
    return response


def _route_error(exc: HTTPException) -> Handler:
    def answer(ctx: Ctx) -> Response:
        raise SimError(exc.code or 404, f"{exc.name}: {ctx.request.path}")

    return answer


def _new_entry(
    request: SimRequest, endpoint: str, args: Mapping[str, Any]
) -> dict[str, Any]:
    return {
        "seq": None,
        "time": time.time(),
        "method": request.method,
        "path": request.path,
        "query": request.query_string.decode("latin-1"),
        "endpoint": endpoint,
        "app_id": args.get("app_id"),
        "stream_id": args.get("stream_id"),
        "headers": dict(request.headers.items()),
        "form": None,
        "json": None,
        "destination": None,
        "status": None,
        "accepted": False,
        "message_id": None,
        "wamid": None,
        "media_id": None,
        "fault": None,
        "response": None,
    }


def _json_or_text(response: Response) -> Any:
    text = response.get_data(as_text=True)
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def _drop_connection(request: SimRequest) -> None:
    """Close the socket without answering; werkzeug treats this as a client drop."""
    sock = request.environ.get("werkzeug.socket")
    if sock is not None:
        # shutdown, not close: werkzeug still selects on the descriptor after.
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
    raise ConnectionAbortedError("simulated: connection closed without a response")


def _sim_requests(sim: SimWsgi, request: SimRequest) -> Response:
    rows = sim.state.requests(request.args.get("endpoint"))
    return json_response(rows)


def _sim_callbacks(sim: SimWsgi, request: SimRequest) -> Response:
    return json_response(sim.dispatcher.sent())


def _sim_reset(sim: SimWsgi, request: SimRequest) -> Response:
    sim.reset()
    return json_response({"status": "success"})


def _sim_config(sim: SimWsgi, request: SimRequest) -> Response:
    if request.method == "POST":
        changes = json.loads(request.get_data(as_text=True) or "{}")
        if not isinstance(changes, dict):
            raise ValueError("POST a JSON object of settings to change")
        sim.state.configure(**changes)
    return json_response(sim.state.config.to_dict())


def _sim_health(sim: SimWsgi, request: SimRequest) -> Response:
    body = {
        "status": "success",
        "healthy": True,
        "pending_callbacks": sim.dispatcher.pending(),
        "requests": sim.state.request_count(),
    }
    return json_response(body)


_CONTROL: dict[str, Callable[[SimWsgi, SimRequest], Response]] = {
    "sim_requests": _sim_requests,
    "sim_callbacks": _sim_callbacks,
    "sim_reset": _sim_reset,
    "sim_config": _sim_config,
    "sim_health": _sim_health,
}
