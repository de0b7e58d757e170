"""Recorded provider payloads (JSON files beside this module)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def callback(name: str) -> Any:
    """A recorded callback body, e.g. callback("v2-sent")."""
    return json.loads((HERE / "callbacks" / f"{name}.json").read_text())
