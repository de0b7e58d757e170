"""Business-rule failures raised by services and shown to the user as they are."""

from __future__ import annotations


class ApplicationError(Exception):
    """A refused action; the message says what was wrong and what to do."""

    def __init__(self, message: str, *, extra: dict[str, object] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.extra = extra or {}
