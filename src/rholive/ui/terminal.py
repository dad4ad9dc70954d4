"""The copilot's terminal interface (`rich`): a `CopilotView`.

On a terminal: a live region at the bottom (status, a level meter per audio source, screen frames, tokens,
the streaming answer) redrawn at most `max_fps` times a second by a painter thread; every user turn and every
answer shown is printed above it, into the terminal's own scrollback, so history stays readable, selectable
and scrollable while the region below keeps redrawing, and stays on screen after `stop()`.

Piped (stdout not a terminal): plain lines on stdout, one per user turn (`me: ...`, `them: ...`,
`screen: ...`) and one per answer once complete (`copilot: ...`); status changes as `rholive: status: ...`
lines on stderr. No meters. An answer withdrawn with `answer_done(shown=False)` never appears in either mode.

The runtime's calls never block on drawing: they update `DashboardState` under a lock and wake the painter.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import TextIO

from rich.console import Console, Group, RenderableType
from rich.live import Live

from rholive.ui.dashboard import ANSWER, DashboardState, Entry, looks_like_marker
from rholive.ui.terminal_file import KeepingFile
from rholive.ui.terminal_render import LiveRegion, entry_renderable, meter_width
from rholive.ui.throttle import RedrawThrottle
from rholive.ui.view import Status, Who


class TerminalView:
    def __init__(
        self,
        console: Console | None = None,
        *,
        err: TextIO | None = None,
        live: bool | None = None,
        clock: Callable[[], float] = time.monotonic,
        max_fps: float = 10.0,
        history_len: int = 20,
        painter_thread: bool = True,
    ) -> None:
        """`console`: where to draw (default: stdout). `live`: force the live region on or off (default: on
        when the console is a terminal). `clock`: seconds, for the redraw rate and the meters' peak hold.
        `painter_thread=False` draws inside the calls instead (when due) — for tests with an explicit clock."""
        self.console = console or Console()
        self.err = err if err is not None else sys.stderr
        self.live = (
            live if live is not None else self.console.is_terminal and not self.console.is_dumb_terminal
        )
        self._clock = clock
        self._threaded = painter_thread
        self.state = DashboardState(history_len=history_len)
        self._throttle = RedrawThrottle(max_fps)
        self._region = LiveRegion()
        self._pending: list[Entry] = []  # to print into the scrollback at the next redraw
        self._cells = meter_width(self.console.width)
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._paint_lock = threading.Lock()  # one draw at a time (painter thread, stop())
        self._frame: RenderableType = self._region.frame(self.state.snapshot(clock()))
        self._live: Live | None = None
        self._painter: threading.Thread | None = None
        self._stopping = False
        self._stopped = False
        self.redraws = 0
        self.draw_errors = 0  # redraws that raised (the painter goes on; the first one is reported on `err`)
        self._file: KeepingFile | None = None
        self._reported = False

    # -- lifecycle --------------------------------------------------------------------------------------

    def start(self) -> None:
        if not self.live or self._live is not None:
            return
        self._stopping = self._stopped = False
        self._file = KeepingFile(self.console.file)
        self._plain_file = self.console.file
        self.console.file = self._file  # type: ignore[assignment]  # a file-like object is all rich needs
        self._live = Live(
            console=self.console,
            get_renderable=lambda: self._frame,
            auto_refresh=False,  # we redraw on change only, at a bounded rate
            transient=False,
            redirect_stdout=True,
            # Lines written to stderr go above the region when they share its terminal; a redirected
            # stderr (`2>log`) keeps getting them.
            redirect_stderr=_isatty(sys.stderr),
        )
        self._live.start()
        self.refresh(force=True)
        if self._threaded:
            self._painter = threading.Thread(target=self._paint_loop, name="rholive-terminal", daemon=True)
            self._painter.start()

    def stop(self) -> None:
        """Draws the last state (the history stays above it) and gives the terminal back. Idempotent."""
        if self._stopped:
            return
        self._stopped = True
        with self._lock:
            self._stopping = True
            self._wake.notify()
        if self._painter is not None:
            self._painter.join()
            self._painter = None
        if not self.live:
            self._plain_summary()
            return
        self._redraw(final=True)
        if self._live is not None:
            self._live.stop()
            self._live = None
        if self._file is not None:
            self._report(self._file)
            self.console.file = self._plain_file
            self._file = None

    def __enter__(self) -> TerminalView:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # -- CopilotView ------------------------------------------------------------------------------------

    def set_status(self, status: Status, detail: str = "") -> None:
        with self._lock:
            changed = self.state.set_status(status, detail)
            self._mark(changed)
        if changed and not self.live:
            suffix = f" ({detail})" if detail else ""
            self._write(self.err, f"rholive: status: {status}{suffix}\n")
        self._draw_inline()

    def set_level(self, source: str, dbfs: float) -> None:
        with self._lock:
            self._mark(self.state.set_level(source, dbfs, self._clock(), self._cells))
        self._draw_inline()

    def set_frames(self, sent: int, skipped: dict[str, int]) -> None:
        with self._lock:
            self._mark(self.state.set_frames(sent, skipped))
        self._draw_inline()

    def set_tokens(self, total: int) -> None:
        with self._lock:
            self._mark(self.state.set_tokens(total))
        self._draw_inline()

    def set_cost(self, usd: float | None) -> None:
        with self._lock:
            self._mark(self.state.set_cost(usd))
        self._draw_inline()

    def user_turn(self, who: Who, text: str) -> None:
        with self._lock:
            entry = self.state.user_turn(who, text)
            self._show(entry)
        self._draw_inline()

    def answer_delta(self, text: str) -> None:
        with self._lock:
            self._mark(self.state.answer_delta(text))
        self._draw_inline()

    def answer_done(self, shown: bool) -> None:
        with self._lock:
            entry = self.state.answer_done(shown)
            self._mark(True)  # the streaming part of the region goes away either way
            if entry is not None:
                self._show(entry)
        self._draw_inline()

    # -- drawing ----------------------------------------------------------------------------------------

    def refresh(self, *, force: bool = False) -> bool:
        """Draws now if a change is pending and the rate allows it (or `force`); True when it drew."""
        return self._redraw(force=force)

    def frame(self) -> RenderableType:
        """The live region as last drawn (a renderable; print it to any console to look at it)."""
        return self._frame

    def _mark(self, changed: bool) -> None:
        # Called with self._lock held.
        if changed and self.live:
            self._throttle.mark()
            self._wake.notify()

    def _show(self, entry: Entry) -> None:
        # Called with self._lock held.
        if self.live:
            self._pending.append(entry)
            self._mark(True)
        else:
            self._write(self.console.file, plain_line(entry))

    def _draw_inline(self) -> None:
        if self.live and not self._threaded:
            self._redraw()

    def _redraw(self, *, force: bool = False, final: bool = False) -> bool:
        with self._paint_lock:
            with self._lock:
                now = self._clock()
                if not (force or final or self._throttle.due(now)):
                    return False
                pending, self._pending = self._pending, []
                snap = self.state.snapshot(now)
                self._throttle.drawn(now)
            self._cells = meter_width(self.console.width)
            self._frame = self._region.frame(snap, final=final)
            with self.console:  # one write to the terminal for all of it
                if self._live is not None and not final:  # on the final one, Live.stop() draws it
                    self._live.refresh()
                if pending:
                    # Printed above the region; rich draws the region again under them.
                    self.console.print(Group(*(entry_renderable(e) for e in pending)))
            self.redraws += 1
            if self._file is not None:
                self._report(self._file)
            return True

    def _report(self, file: KeepingFile) -> None:
        """The first write error, once (the view keeps trying: what could not be written is sent later)."""
        if file.errors and not self._reported:
            self._reported = True
            self.draw_errors += file.errors
            self._write(self.err, f"rholive: terminal view could not write: {file.last_error}\n")
        if self._stopped and file.dropped_chars:
            self._write(
                self.err, f"rholive: terminal view dropped {file.dropped_chars} unwritten characters\n"
            )

    def _paint_loop(self) -> None:
        while True:
            with self._lock:
                while not self._stopping:
                    at = self._throttle.next_at()
                    wait = None if at is None else at - self._clock()
                    if wait is not None and wait <= 0:
                        break
                    self._wake.wait(wait)
                if self._stopping:
                    return
            try:
                self._redraw()
            except Exception as exc:  # a bad frame must not end the display for the rest of the session
                self.draw_errors += 1
                if not self._reported:
                    self._reported = True
                    self._write(
                        self.err, f"rholive: terminal view could not draw: {type(exc).__name__}: {exc}\n"
                    )

    # -- plain lines ------------------------------------------------------------------------------------

    def _plain_summary(self) -> None:
        with self._lock:
            text, state = self.state.streaming, self.state
        if text and text.strip() and not looks_like_marker(text):
            self._write(self.console.file, f"{ANSWER}: {text.strip()} (cut off)\n")
        skipped = sum(state.frames_skipped.values())
        self._write(
            self.err,
            f"rholive: tokens {state.tokens}, screen frames {state.frames_sent} sent, {skipped} skipped\n",
        )

    @staticmethod
    def _write(out: TextIO, text: str) -> None:
        out.write(text)
        out.flush()


def _isatty(stream: TextIO | None) -> bool:
    try:
        return stream is not None and stream.isatty()
    except (AttributeError, ValueError):  # replaced or closed streams
        return False


def plain_line(entry: Entry) -> str:
    """A turn on one line (`me: ...`); an answer as it is, multi-line, after `copilot: `."""
    if entry.who == ANSWER:
        return f"{ANSWER}: {entry.text.strip()}\n"
    return f"{entry.who}: {' '.join(entry.text.split())}\n"
