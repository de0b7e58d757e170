"""The simulator's WSGI app for a production server (gunicorn, gthread), as
bench/dispatch_rate.py serves it: werkzeug's development server closes every
connection, so each request there pays a new connection and a new thread, and
under load its arrival comes late by a varying few tens of ms, which real
Gupshup's keep-alive HTTPS connections do not add. The config is the JSON
file named by SIM_CONFIG (`manage.py simulator --config` reads the same).

    gunicorn --workers 1 --worker-class gthread --threads 256 bench.sim_wsgi:application

One worker: the simulator's state (rate windows, the request log) lives in it.
Its garbage collector is off: the request log grows by thousands of rows a
minute, and a collection over it paused every thread for tens of ms (a rarer
one, for hundreds), so requests that came meanwhile were counted late,
bunched, as no real Gupshup would count them. A benchmark's run leaves little
cyclic garbage.
"""

from __future__ import annotations

import gc
import json
import os
from pathlib import Path

from gupshup_admin.simulator import config_from_dict
from gupshup_admin.simulator.app import SimWsgi
from gupshup_admin.simulator.callbacks import CallbackDispatcher
from gupshup_admin.simulator.state import SimState

_state = SimState(
    config_from_dict(json.loads(Path(os.environ["SIM_CONFIG"]).read_text()))
)
_dispatcher = CallbackDispatcher(lambda: _state.config)
_dispatcher.start()
application = SimWsgi(_state, _dispatcher)
gc.disable()
