"""The campaigns app's pages, thin: each view reads a form or the URL, calls one
service (`lifecycle`, `recipients`) or selector (`reporting`), and renders or
redirects.

- `campaigns`: the list, a new campaign, one campaign's page and its live progress;
- `controls`: that page's buttons (load recipients, start, pause, resume, cancel,
  retry);
- `approval`: the four-eyes screen, Approve or Reject;
- `reports`: the send history for reviewers (report, one recipient, CSV export);
- `callbacks`: the endpoint Gupshup POSTs delivery events to;
- `start`: the start page at `/`.

May import every package of the app and `gupshup_admin`; nothing in the app
imports the views except the URL confs.
"""
