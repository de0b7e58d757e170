"""`make run` says "Open …" once the page answers, not when the server was only
started (it used to print it some eight seconds before the first page loaded)."""

from __future__ import annotations

import io
import signal
import subprocess
import time
import urllib.request
from typing import Any

import pytest
from django.core.management.base import CommandError

from gupshup_admin.management.commands import rundemo


class FakeProcess:
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.args = args

    def poll(self) -> int | None:
        return 0  # "stopped": the demo then stops at once

    def terminate(self) -> None: ...

    def wait(self, timeout: float | None = None) -> int:
        return 0


@pytest.fixture
def demo(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every step the demo takes, in order, without running any of it."""
    steps: list[str] = []
    monkeypatch.setattr(rundemo, "call_command", lambda *a, **k: None)
    monkeypatch.setattr(subprocess, "Popen", FakeProcess)
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: None)
    monkeypatch.setattr(time, "sleep", lambda s: None)
    monkeypatch.setattr(signal, "signal", lambda *a: None)
    return steps


def run(steps: list[str], answering: set[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """Run the demo command; only the ports in `answering` answer."""

    def urlopen(url: str, timeout: float) -> Any:
        steps.append(f"asked {url}")
        if not any(f":{port}/" in url for port in answering):
            raise OSError("connection refused")
        return io.BytesIO(b"ok")

    monkeypatch.setattr(urllib.request, "urlopen", urlopen)
    command = rundemo.Command(stdout=io.StringIO())
    monkeypatch.setattr(
        command.stdout, "write", lambda text, *a, **k: steps.append(text)
    )
    command.handle(port=8000, sim_port=8001)


def test_open_is_said_only_after_the_web_server_answers(
    demo: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    run(demo, {"8001", "8000"}, monkeypatch)
    asked_web = demo.index("asked http://127.0.0.1:8000/admin/login/")
    opened = next(n for n, step in enumerate(demo) if "Open http" in step)
    assert asked_web < opened
    assert "http://127.0.0.1:8000/ " in demo[opened]


def test_a_web_server_that_never_answers_is_said_and_nothing_is_opened(
    demo: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = iter(range(0, 10_000, 5))
    monkeypatch.setattr(time, "monotonic", lambda: next(clock))
    with pytest.raises(CommandError, match="The web server did not answer"):
        run(demo, {"8001"}, monkeypatch)
    assert not any("Open http" in step for step in demo)
