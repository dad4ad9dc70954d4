"""Errors of the Live session layer. Messages never contain the API key or a token."""

from __future__ import annotations


class LiveError(Exception):
    """The session could not be opened or went on no further."""


class SetupRejected(LiveError):
    """The server refused the connection or its setup; carries the close code (or HTTP status) and reason."""

    def __init__(self, code: int | None, reason: str) -> None:
        self.code = code
        self.reason = reason
        super().__init__(
            f"setup rejected ({code if code is not None else 'no close code'}): {reason or 'no reason'}"
        )
