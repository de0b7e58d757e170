"""Date and time formats: one way across the admin and the pages (settings'
FORMAT_MODULE_PATH), year first and on a 24-hour clock, as the pages and the
messages write them."""
