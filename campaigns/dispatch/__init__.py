"""The dispatcher: sending a running campaign's recipients, each exactly once.

- `sender`: a sender slice: claim recipients within the app's rate, write each
  attempt, make its request, mark it submitted;
- `outcomes`: what a send that did not succeed does to its recipient and
  attempt (429, refused token, an answer about the app, unknown, retry, fail);
- `send_sql`: the statements every send makes, in SQL for speed;
- `recovery`: rows a dead worker left sending, settled from its attempts and
  the exchange log;
- `pauses`: a running campaign paused from within, with the reason on its page
  and an e-mail to its owner.

May import: `campaigns.models`, `campaigns.statuses` (callbacks that beat
their send), `media_library` selectors and `gupshup_admin` (the app client, the
send rate, the errors). The lifecycle (start, pause, resume) imports it, never
the other way.
"""
