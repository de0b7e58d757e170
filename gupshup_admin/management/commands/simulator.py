"""`manage.py simulator`: serve the Gupshup/CommBox simulator until Ctrl-C or SIGTERM.

A thin interface: flags and an optional JSON file become a SimulatorConfig, the
simulator package does the rest (see docs/simulator.md).
"""

from __future__ import annotations

import json
import signal
import threading
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from gupshup_admin.simulator import Simulator, SimulatorConfig, config_from_dict

# Flag destination → SimulatorConfig field; a flag left out keeps the file's value.
FLAG_FIELDS = (
    "callback_url",
    "callback_format",
    "callback_delay",
    "callback_interval",
    "duplicate_rate",
    "shuffle",
    "drop_gsid",
    "latency",
    "latency_spread",
    "rate_per_second",
    "error_rate",
    "hang_seconds",
    "seed",
)


def build_config(options: dict[str, Any]) -> SimulatorConfig:
    """The config from `--config FILE.json` (or the demo data) plus the flags.

    Raises CommandError for an unreadable file or a bad value.
    """
    data: dict[str, Any] = {}
    if options.get("config"):
        path = Path(options["config"])
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise CommandError(f"--config {path}: {exc}") from exc
        if not isinstance(data, dict):
            raise CommandError(f"--config {path}: expected a JSON object")
    for name in FLAG_FIELDS:
        if options.get(name) is not None:
            data[name] = options[name]
    try:
        return config_from_dict(data)
    except (TypeError, ValueError) as exc:
        raise CommandError(str(exc)) from exc


class Command(BaseCommand):
    help = "Run the local Gupshup Partner API + CommBox simulator in the foreground."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=int, default=8001)
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--config", help="JSON file mirroring SimulatorConfig")
        parser.add_argument("--callback-url")
        parser.add_argument("--callback-format", choices=["v2", "v3"])
        parser.add_argument("--callback-delay", type=float, metavar="S")
        parser.add_argument("--callback-interval", type=float, metavar="S")
        parser.add_argument("--duplicate-rate", type=float, metavar="P")
        parser.add_argument("--shuffle", action="store_true", default=None)
        parser.add_argument("--drop-gsid", action="store_true", default=None)
        parser.add_argument("--latency", type=float, metavar="S")
        parser.add_argument("--latency-spread", type=float, metavar="SIGMA")
        parser.add_argument("--rate-per-second", type=int, metavar="N")
        parser.add_argument("--error-rate", type=float, metavar="P")
        parser.add_argument("--hang-seconds", type=float, metavar="S")
        parser.add_argument("--seed", type=int)

    def handle(self, *args: Any, **options: Any) -> None:
        sim = Simulator(build_config(options))
        stopping = threading.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stopping.set())
        try:
            sim.start(
                options["host"], options["port"], verbose=options["verbosity"] > 0
            )
        except OSError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"Simulator running: GUPSHUP_API_BASE={sim.base_url} "
            f"COMMBOX_API_BASE={sim.commbox_base_url} (Ctrl-C to stop)"
        )
        self.stdout.flush()
        try:
            while not stopping.wait(0.5):
                pass
        finally:
            sim.stop()
        self.stdout.write("Simulator stopped.")
