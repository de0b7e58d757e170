"""Who a campaign goes to: recipients loaded from a CSV file or pasted numbers.

- `csv_rows`: reading a recipients CSV (encodings, delimiters, the phone column,
  one value per template slot), each bad row with its reason;
- `loading`: putting the rows read into a campaign (duplicates dropped, params
  frozen, the rejected rows kept as a CSV), which voids an approval.

May import: `campaigns.models`, `campaigns.lifecycle.approvals` (a load voids an
approval), `gupshup_admin` (phone numbers, spreadsheet-safe cells).
"""
