"""The read side (selectors): what happened to a campaign, for its pages and
for reviewers.

- `progress`: counts by status, the rate and ETA, failures grouped, while it runs;
- `reports`: the funnel, rates over time and failures explained;
- `timeline`: one recipient's attempts with their requests and statuses;
- `export`: recipients filtered and searched, and their CSV export;
- `samples`: what an approver sees, messages rendered for recipients spread
  over the audience.

May import: `campaigns.models` and `gupshup_admin` (the failure table, the
spreadsheet-safe cells); it changes nothing. Only views and admin import it.
"""
