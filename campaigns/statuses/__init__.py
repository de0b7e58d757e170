"""Delivery statuses: what Gupshup's callbacks say, applied to the attempts.

- `receiving`: the callback endpoint's service (store raw, answer at once; refused
  ones counted), the drain that processes what was stored, the watchdog and the
  replay;
- `callbacks`: stored callbacks parsed and handed over in batches (statuses to the
  machine, template changes to the synced templates), each one's state saved;
- `machine`: the status machine, one implementation for any number of statuses:
  finding each one's attempt, its timeline row, moving the attempt (and its
  recipient) forward, parking what has no attempt yet.

May import: `campaigns.models`, `gupshup_admin` (models and the callback
parser), and `campaigns.tasks` (the drain task it enqueues). Nothing else of
campaigns imports it but the dispatcher (callbacks that beat their send), the
tick, views, tasks and commands; it imports none of them.
"""
