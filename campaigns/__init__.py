"""Image campaigns: one library image sent to many WhatsApp numbers through one
partner app, and everything that happened to each message.

The packages follow the data's path and import only downhill (kept by
`lint-imports`, see pyproject.toml): `views`/`admin`/`management` →
`recipients` → `lifecycle` → `dispatch` → `statuses` | `reporting` → `tasks` →
`models`. docs/campaigns.md has the map.
"""
