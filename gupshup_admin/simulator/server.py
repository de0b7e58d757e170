"""`Simulator`: the WSGI app on werkzeug's threaded server in a background thread."""

from __future__ import annotations

import threading
from types import TracebackType
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from gupshup_admin.simulator.app import SimWsgi
from gupshup_admin.simulator.callbacks import CallbackDispatcher
from gupshup_admin.simulator.config import SimApp, SimChannel, SimulatorConfig
from gupshup_admin.simulator.state import SimState


class _QuietHandler(WSGIRequestHandler):
    """Request handler that does not print a line per request."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return


class _VerboseHandler(WSGIRequestHandler):
    """Request handler that keeps werkzeug's access log (for the command).

    A subclass, not WSGIRequestHandler itself, because werkzeug sets
    `protocol_version` on the handler class it is given.
    """


class Simulator:
    """Gupshup's Partner API and CommBox, served locally over real HTTP.

    Use `start()`/`stop()` or `with Simulator() as sim:` (starts on a free
    port). `base_url` stands in for GUPSHUP_API_BASE, `commbox_base_url` for
    COMMBOX_API_BASE.
    """

    def __init__(self, config: SimulatorConfig | None = None) -> None:
        self.state = SimState(config or SimulatorConfig())
        self.dispatcher = CallbackDispatcher(lambda: self.state.config)
        self.wsgi = SimWsgi(self.state, self.dispatcher)
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ------------------------------------------------------------

    def start(
        self, host: str = "127.0.0.1", port: int = 0, *, verbose: bool = False
    ) -> Simulator:
        """Serve in a background thread; port 0 picks a free port.

        Raises RuntimeError if already started, OSError if the port is taken.
        """
        if self._server is not None:
            raise RuntimeError("the simulator is already running")
        handler = _VerboseHandler if verbose else _QuietHandler
        try:
            server = make_server(
                host, port, self.wsgi, threaded=True, request_handler=handler
            )
        except SystemExit as exc:
            # werkzeug exits the process when it cannot bind; a library must not.
            raise OSError(f"cannot listen on {host}:{port}") from exc
        self.state.stopping.clear()
        self.dispatcher.start()
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.1},
            name="sim-http",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and sending callbacks; ends hanging requests at once."""
        server, self._server = self._server, None
        self.state.stopping.set()
        if server is not None:
            server.shutdown()
            server.server_close()
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None
        self.dispatcher.stop()

    def __enter__(self) -> Simulator:
        if self._server is None:
            self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- addresses ------------------------------------------------------------

    @property
    def port(self) -> int:
        """The port being served. Raises RuntimeError before start()."""
        return self._running().port

    @property
    def host(self) -> str:
        """The address being served. Raises RuntimeError before start()."""
        return self._running().host

    @property
    def base_url(self) -> str:
        """Root URL of the Gupshup Partner API stand-in."""
        return f"http://{self.host}:{self.port}"

    @property
    def commbox_base_url(self) -> str:
        """Root URL of the CommBox stand-in."""
        return f"{self.base_url}/commbox"

    def _running(self) -> BaseWSGIServer:
        if self._server is None:
            raise RuntimeError("the simulator is not running; call start() first")
        return self._server

    # -- inspection and control -----------------------------------------------

    @property
    def config(self) -> SimulatorConfig:
        """The config now in force."""
        return self.state.config

    def requests(self, endpoint: str | None = None) -> list[dict[str, Any]]:
        """Copy of the request log, oldest first (optionally one endpoint)."""
        return self.state.requests(endpoint)

    def callbacks_sent(self) -> list[dict[str, Any]]:
        """Copy of every callback attempt, in the order they were made."""
        return self.dispatcher.sent()

    def pending_callbacks(self) -> int:
        """Callbacks queued or in flight."""
        return self.dispatcher.pending()

    def wait_for_callbacks(self, timeout: float = 10.0) -> bool:
        """Block until no callback is pending; False on timeout."""
        return self.dispatcher.wait_idle(timeout)

    def configure(self, **changes: Any) -> None:
        """Change SimulatorConfig fields at run time. Raises ValueError."""
        self.state.configure(**changes)

    def add_app(self, app: SimApp) -> None:
        """Add (or replace, by app id) an app."""
        self.state.add_app(app)

    def add_channel(self, channel: SimChannel) -> None:
        """Add (or replace, by stream id) a CommBox channel."""
        self.state.add_channel(channel)

    def expire_partner_tokens(self) -> None:
        """Expire every partner JWT issued so far."""
        self.state.expire_jwts()

    def expire_universal_tokens(self) -> None:
        """Expire every Universal Token and Universal App Token issued so far."""
        self.state.expire_universal_tokens()

    def universal_tokens(self) -> list[dict[str, Any]]:
        """The Universal (App) Tokens issued: kind, name, app, times (no value)."""
        return self.state.universal_tokens()

    def reset(self) -> None:
        """Clear logs, pending callbacks, rate windows, subscriptions and the
        Universal (App) Tokens issued."""
        self.wsgi.reset()
