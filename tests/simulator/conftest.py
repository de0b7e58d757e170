"""Fixtures: one real simulator per module (reset before each test) and a tiny
HTTP receiver standing in for our callback endpoint."""

from __future__ import annotations

import dataclasses
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests

from gupshup_admin.simulator import DEMO, Simulator, SimulatorConfig

# Fast callbacks so the whole module stays within a few seconds.
BASELINE = SimulatorConfig(callback_delay=0.02, callback_interval=0.02, seed=7)


@pytest.fixture(scope="module")
def running_sim() -> Iterator[Simulator]:
    with Simulator(BASELINE) as sim:
        yield sim


@pytest.fixture
def sim(running_sim: Simulator) -> Simulator:
    """The module's simulator, reset and back to the baseline config."""
    running_sim.reset()
    fields = dataclasses.fields(BASELINE)
    running_sim.configure(**{f.name: getattr(BASELINE, f.name) for f in fields})
    return running_sim


class Receiver:
    """Records every POST it gets; answers `status` (after `fail_first` 500s)."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.status = 200
        self.fail_first = 0
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = json.loads(self.rfile.read(length))
                status = receiver.record(dict(self.headers.items()), body, self.path)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return

        return Handler

    def record(self, headers: dict[str, str], body: Any, path: str) -> int:
        with self._lock:
            self.received.append({"headers": headers, "body": body, "path": path})
            if self.fail_first > 0:
                self.fail_first -= 1
                return 500
            return self.status

    def wait_for(self, count: int, timeout: float = 5.0) -> list[dict[str, Any]]:
        """The bodies received, once at least `count` have arrived."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.received) >= count:
                    return [r["body"] for r in self.received]
            time.sleep(0.01)
        raise AssertionError(f"expected {count} callbacks, got {len(self.received)}")


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver = Receiver()
    thread = threading.Thread(
        target=receiver.server.serve_forever,
        kwargs={"poll_interval": 0.02},
        daemon=True,
    )
    thread.start()
    yield receiver
    receiver.server.shutdown()
    receiver.server.server_close()


def app_url(sim: Simulator, path: str, app_id: str | None = None) -> str:
    """URL of an app endpoint of the CAPI demo app (or of `app_id`)."""
    return f"{sim.base_url}/partner/app/{app_id or DEMO.capi_app.app_id}/{path}"


def auth(token: str | None = None) -> dict[str, str]:
    """Headers as production clients send them: the raw token in both."""
    value = token or DEMO.capi_app.token
    return {"token": value, "Authorization": value}


def send_template(
    sim: Simulator, destination: str, /, *, timeout: float = 5.0, **fields: Any
) -> requests.Response:
    """POST a valid spring-sale template message to `destination`."""
    data = {
        "source": DEMO.capi_app.source,
        "destination": destination,
        "src.name": DEMO.capi_app.app_name,
        "template": json.dumps(
            {"id": DEMO.spring_sale_template_id, "params": ["Ana", "SPRING20"]}
        ),
        "message": json.dumps({"type": "image", "image": {"id": "1852559851913765"}}),
        **fields,
    }
    return requests.post(
        app_url(sim, "template/msg"), data=data, headers=auth(), timeout=timeout
    )


def send_v3(sim: Simulator, to: str, /, **overrides: Any) -> requests.Response:
    """POST a valid v3 image message to `to`."""
    body: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to,
        "type": "image",
        "image": {"id": "1852559851913765", "caption": "Spring sale"},
    }
    body.update(overrides)
    return requests.post(
        app_url(sim, "v3/message"), json=body, headers=auth(), timeout=5
    )
