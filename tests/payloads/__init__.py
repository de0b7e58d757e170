"""Recorded provider payloads (JSON files beside this module)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from gupshup_admin.simulator.payloads import SentMessage, v2_body, v3_body

HERE = Path(__file__).resolve().parent


def callback(name: str) -> Any:
    """A recorded callback body, e.g. callback("v2-sent")."""
    return json.loads((HERE / "callbacks" / f"{name}.json").read_text())


def message_bodies(
    msg: SentMessage, fmt: str = "v2", *, drop_gsid: bool = False
) -> list[Any]:
    """The callbacks of every status a message goes through, in order, one
    second apart: v2 (optionally without gsId, as late ones come) or v3."""
    out = []
    for n, event in enumerate(msg.events()):
        ts = 1763900000 + n
        if fmt == "v2":
            out.append(v2_body(msg, event, ts, drop_gsid=drop_gsid))
        else:
            out.append(v3_body(msg, event, ts))
    return out
