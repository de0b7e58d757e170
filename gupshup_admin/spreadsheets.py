"""CSV cells that a spreadsheet opens as text, never as a formula."""

from __future__ import annotations

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: str) -> str:
    """`value`, with a leading apostrophe when a spreadsheet would run it.

    A cell starting like a formula runs when the file is opened (CSV injection,
    e.g. `=cmd|' /C calc'!A0`); a signed number such as an E.164 phone is left
    alone.
    """
    if value.startswith(FORMULA_START) and not value[1:].isdigit():
        return "'" + value
    return value
