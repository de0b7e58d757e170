"""`manage.py simulator`: config building and a real foreground run."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import requests
from django.core.management.base import CommandError

from gupshup_admin.management.commands.simulator import build_config
from gupshup_admin.simulator import DEMO

ROOT = Path(__file__).resolve().parents[2]


def test_without_a_file_the_config_is_the_demo_data_plus_the_flags() -> None:
    config = build_config({"latency": 0.5, "shuffle": True, "drop_gsid": None})

    assert config.apps == [DEMO.capi_app, DEMO.non_capi_app]
    assert config.channels == [DEMO.channel]
    assert (config.latency, config.shuffle, config.drop_gsid) == (0.5, True, False)


def test_a_json_file_mirrors_the_config_and_flags_override_it(tmp_path: Path) -> None:
    path = tmp_path / "sim.json"
    app = {"app_id": "a1", "token": "sk_a1", "app_name": "A1", "source": "15550001"}
    path.write_text(json.dumps({"apps": [app], "callback_format": "v3", "seed": 1}))

    config = build_config({"config": str(path), "seed": 9})

    assert config.apps[0].app_id == "a1" and config.apps[0].capi is True
    assert (config.callback_format, config.seed) == ("v3", 9)


@pytest.mark.parametrize(
    "options",
    [{"duplicate_rate": 2.0}, {"callback_format": "v4"}],
)
def test_a_bad_value_is_a_command_error(options: dict[str, Any]) -> None:
    with pytest.raises(CommandError):
        build_config(options)


def test_the_command_prints_its_urls_and_stops_cleanly_on_sigterm() -> None:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "gupshup_admin.settings_test"}
    proc = subprocess.Popen(
        [sys.executable, "manage.py", "simulator", "--port", "0", "-v", "0"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        match = re.search(r"GUPSHUP_API_BASE=(\S+) COMMBOX_API_BASE=(\S+)", line)
        assert match, line
        health = requests.get(match.group(1) + "/_sim/health", timeout=5)
        assert health.json()["healthy"] is True
        assert match.group(2) == match.group(1) + "/commbox"
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
