"""`make run`: migrate, seed the demo, then run the simulator, a task worker and the
web server together until Ctrl-C, which stops all of them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Run the demo: web server, task worker and the Gupshup/CommBox simulator."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--sim-port", type=int, default=8001)

    def handle(self, *args: Any, **options: Any) -> None:
        port, sim_port = options["port"], options["sim_port"]
        env = {
            **os.environ,
            "GUPSHUP_API_BASE": f"http://127.0.0.1:{sim_port}",
            "COMMBOX_API_BASE": f"http://127.0.0.1:{sim_port}/commbox",
            "SITE_URL": f"http://127.0.0.1:{port}",
            "PYTHONUNBUFFERED": "1",
            # One sender slot: the demo runs one worker for the sends queue.
            "CAMPAIGN_SENDERS": "1",
        }
        call_command("migrate", interactive=False, verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)
        call_command("demo_setup")
        manage = [sys.executable, str(settings.BASE_DIR / "manage.py")]
        sim = [*manage, "simulator", "--port", str(sim_port), "-v", "0"]
        # Answers take a quarter second, some longer, as Gupshup's do: the
        # campaign's progress then looks like life.
        sim += ["--latency", "0.25", "--latency-spread", "0.4"]
        processes = {"simulator": subprocess.Popen(sim, env=env)}  # noqa: S603
        self._wait_for(
            f"http://127.0.0.1:{sim_port}/_sim/health", processes, "The simulator"
        )
        # The demo campaign is made with real calls to the simulator.
        subprocess.run([*manage, "demo_campaign"], env=env, check=False)  # noqa: S603
        worker = [*manage, "db_worker", "--interval", "0.2", "--no-reload"]
        commands = {
            # Sends get a worker of their own, so a send waiting on a slow
            # answer never holds up callbacks, media or health checks.
            "sender": [*worker, "--queue-name", "sends"],
            "worker": [*worker, "--queue-name", "default,media,callbacks"],
            "tick": [*manage, "campaigns_tick", "--every", "10"],
            "web": [*manage, "runserver", f"127.0.0.1:{port}", "--noreload"],
        }
        for name, cmd in commands.items():
            processes[name] = subprocess.Popen(cmd, env=env)  # noqa: S603
        # Said once the page answers, not when the server was merely started.
        self._wait_for(
            f"http://127.0.0.1:{port}/admin/login/", processes, "The web server"
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"\nOpen http://127.0.0.1:{port}/ "
                f"(simulator on port {sim_port}). Ctrl-C stops everything.\n"
            )
        )
        self._wait(processes)

    def _wait_for(
        self, url: str, processes: dict[str, subprocess.Popen[bytes]], what: str
    ) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(url, timeout=1):  # noqa: S310 (loopback)
                    return
            except OSError:
                time.sleep(0.2)
        for proc in processes.values():
            proc.terminate()
        raise CommandError(f"{what} did not answer at {url} within 30 s.")

    def _wait(self, processes: dict[str, subprocess.Popen[bytes]]) -> None:
        stopping = False

        def stop(*_: Any) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        while not stopping:
            dead = [name for name, proc in processes.items() if proc.poll() is not None]
            if dead:
                self.stderr.write(f"{', '.join(dead)} stopped; stopping the demo.")
                break
            time.sleep(0.5)
        for proc in processes.values():
            if proc.poll() is None:
                proc.terminate()
        deadline = time.monotonic() + 10
        for proc in processes.values():
            try:
                proc.wait(timeout=max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                proc.kill()
        self.stdout.write("Demo stopped.")
