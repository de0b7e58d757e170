"""A campaign's life: drafted, approved (four-eyes), checked before it sends,
started or scheduled, paused, resumed, cancelled, sent again.

- `drafts`: making and editing a draft, each change in the audit trail;
- `approvals`: four-eyes, and what an approval pins;
- `preflight`: the checks before a start, a resume or a retry;
- `controls`: start, schedule, pause, resume, cancel, and the sender slots;
- `retries`: retrying failed recipients, resolving unknown ones by hand;
- `tick`: what happens because time passed: due schedules start, dead workers'
  senders are revived and their sends settled, parked callbacks matched.

May import: `campaigns.models`, `campaigns.dispatch` (it starts the senders and
completes a campaign), `campaigns.statuses` (the tick's matching and drain
watchdog), `campaigns.tasks` (the tasks it enqueues), `audit`, `media_library`
services and `gupshup_admin`. Views, admin, tasks, commands and the recipients'
loading (which voids an approval) call it; the dispatcher, the statuses and the
reports never do. The layers are kept by `lint-imports` (pyproject.toml).
"""
