"""The Django admin for campaigns: importing this package registers it.

- `campaigns`: campaigns and recipients, read-mostly, with the marketer page one
  click away and actions that call `lifecycle` services;
- `history`: the send history (raw callbacks, each recipient's attempts inline,
  a paginator that does not count a million rows).

May import the app's packages and `gupshup_admin`; nothing imports the admin.
"""

from campaigns.admin import campaigns, history

__all__ = ["campaigns", "history"]
