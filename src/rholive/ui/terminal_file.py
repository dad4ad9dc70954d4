"""The terminal as the live view writes to it: a write that fails (a terminal that went away for a moment,
EIO) keeps its text and sends it first with the next write, so a redraw that failed (and the history it
printed) is not lost, and the painter never sees the error. Errors are counted for the view to report."""

from __future__ import annotations

from typing import Any, TextIO

UNSENT_LIMIT_CHARS = 1 << 20  # past this the terminal is gone: the oldest unsent text is dropped (counted)


class KeepingFile:
    def __init__(self, file: TextIO, *, limit_chars: int = UNSENT_LIMIT_CHARS) -> None:
        self.file = file
        self.limit_chars = limit_chars
        self.errors = 0
        self.dropped_chars = 0
        self.last_error: OSError | None = None
        self._unsent = ""

    def write(self, text: str) -> int:
        data = self._unsent + text
        try:
            self.file.write(data)
        except OSError as exc:
            self._failed(exc)
            if len(data) > self.limit_chars:
                self.dropped_chars += len(data) - self.limit_chars
                data = data[-self.limit_chars :]
            self._unsent = data
        else:
            self._unsent = ""
        return len(text)

    def flush(self) -> None:
        try:
            self.file.flush()
        except OSError as exc:
            self._failed(exc)

    def _failed(self, exc: OSError) -> None:
        self.errors += 1
        self.last_error = exc

    def __getattr__(self, name: str) -> Any:  # isatty, fileno, encoding, ... as the real file says
        return getattr(self.file, name)
