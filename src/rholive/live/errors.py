"""Errors a Live session raises. Messages carry close codes and the server's reasons, never a credential."""

from __future__ import annotations


class LiveError(Exception):
    """Base of every error raised by rholive.live."""


class SetupRejected(LiveError):
    """The server refused the session before ``setupComplete``.

    ``code`` is the WebSocket close code (e.g. 1007, 1008), or the HTTP status when the upgrade itself was
    refused (then ``http`` is True); ``reason`` is the server's own explanation.
    """

    def __init__(self, code: int | None, reason: str, *, http: bool = False) -> None:
        self.code = code
        self.reason = reason
        self.http = http
        what = f"HTTP {code}" if http else f"close code {code}"
        super().__init__(f"setup rejected ({what}): {reason or 'no reason given'}")


class ConnectFailed(LiveError):
    """The connection could not be opened or set up (network error, timeout, lost before setupComplete)."""


class SessionClosed(LiveError):
    """The session is closed (or not open yet): nothing can be sent."""
