"""The media library: files uploaded once, mirrored to Gupshup apps and CommBox
channels as media ids whose 30-day expiry is tracked and refreshed.

Views and admin call `services` (which enqueue `tasks`) and `selectors`; the
upload rules (`validation`, `upload_rules`, `images`, `sniffing`) sit below
them, the models at the bottom (kept by `lint-imports`, see pyproject.toml).
"""
