"""A campaign's life: drafted, approved (four-eyes), checked before it sends,
started or scheduled, paused, resumed, cancelled, sent again.

- `drafts`: making and editing a draft, each change in the audit trail;
- `approvals`: four-eyes, and what an approval pins;
- `preflight`: the checks before a start, a resume or a retry;
- `controls`: start, schedule, pause, resume, cancel, and the sender slots;
- `retries`: retrying failed recipients, resolving unknown ones by hand.

May import: `campaigns.models`, `campaigns.dispatch` (it starts the senders and
completes a campaign), `campaigns.tasks` (the tasks it enqueues), `audit`,
`media_library` services and `gupshup_admin`. Views, admin, tasks and commands
call it; the dispatcher and the statuses never do.
"""
