"""Which stop signal ended a command, so that Ctrl-C exits 130 everywhere (the shell's convention) while a
polite SIGTERM ends cleanly with 0. Signal handlers note the signal, then stop their command as before."""

from __future__ import annotations

import signal

_received: set[int] = set()


def note(signum: int) -> None:
    _received.add(signum)


def exit_code(code: int) -> int:
    """``code``, or 130 when Ctrl-C (SIGINT) ended a command that otherwise finished cleanly."""
    return 130 if code == 0 and signal.SIGINT in _received else code
