"""`OverlayView`: the `CopilotView` the runtime calls from its asyncio thread, delivered to the Qt thread.

Every call becomes a queued signal to the window, so it never blocks and never touches a widget outside the
Qt thread. Calls keep their order (a delta is never shown after its `answer_done`). Answer deltas that arrive
while the previous ones wait for the Qt thread join them (`coalesced_deltas`): a burst of deltas costs one
re-render of the answer, not one each (each re-renders the answer's Markdown). Level, frame and token
updates are states, not events: they are coalesced, so 10 level updates a second per source post at most one
pending update to the Qt thread, which draws the latest values (`coalesced` counts the ones folded in). A level
that moved less than LEVEL_STEP_DB since the last one drawn posts nothing (it rides on the next post): room
noise on a microphone would otherwise cost a cross-thread post and a repaint ten times a second per source.

`screen_area()` says where the window is on the screen (any thread), so the screen capture can leave the
overlay out: the copilot must not watch its own answers (each new line would be a "screen change").
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, Qt, Signal, Slot

from rholive.ui.overlay.window import OverlayWindow
from rholive.ui.view import CopilotControls, Status, Who

_QUEUED = Qt.ConnectionType.QueuedConnection
LEVEL_STEP_DB = 0.5  # about a pixel and a half of a meter: smaller moves are not worth a redraw


class _Bridge(QObject):
    status = Signal(str, str)
    state = Signal()  # coalesced levels / frames / tokens / cost are pending
    turn = Signal(str, str)
    deltas = Signal(object)  # a batch (list[str]) of answer deltas, filled until the Qt thread takes it
    done = Signal(bool)
    controls = Signal(object)
    action = Signal(str)  # a hotkey fired (from the hotkey thread)
    note = Signal(str)

    def __init__(
        self, flush: Callable[[], None], flush_deltas: Callable[[list[str]], None], placed: Callable[[], None]
    ) -> None:
        super().__init__()  # lives in the Qt thread, so its slots run there
        self._flush = flush
        self._flush_deltas = flush_deltas
        self._placed = placed

    @Slot()
    def flush(self) -> None:
        self._flush()

    @Slot(object)
    def flush_deltas(self, batch: list[str]) -> None:
        self._flush_deltas(batch)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in _PLACEMENT:
            self._placed()
        return False  # only watching: the window still gets the event


_PLACEMENT = (QEvent.Type.Move, QEvent.Type.Resize, QEvent.Type.Show, QEvent.Type.Hide)


class OverlayView:
    """Create in the Qt thread with its window; then call from any thread."""

    def __init__(self, window: OverlayWindow) -> None:
        self.window = window
        self._bridge = _Bridge(self._flush_state, self._take_deltas, self._placed)
        self._lock = threading.Lock()
        self._area: tuple[int, int, int, int] | None = None
        self._levels: dict[str, float] = {}
        self._levels_drawn: dict[str, float] = {}  # the last level handed to the window, per source
        self._frames: tuple[int, dict[str, int]] | None = None
        self._tokens: int | None = None
        self._cost: tuple[float | None] | None = None  # pending: a 1-tuple (None inside: no estimate)
        self._state_posted = False
        self.coalesced = 0
        self._batch: list[str] | None = None  # answer deltas posted to the Qt thread and not yet taken
        self.coalesced_deltas = 0
        b = self._bridge
        b.status.connect(window.set_status, _QUEUED)
        b.state.connect(b.flush, _QUEUED)
        b.turn.connect(window.user_turn, _QUEUED)
        b.deltas.connect(b.flush_deltas, _QUEUED)
        b.done.connect(window.answer_done, _QUEUED)
        b.controls.connect(window.set_controls, _QUEUED)
        b.action.connect(window.run_action, _QUEUED)
        b.note.connect(window.set_note, _QUEUED)
        window.installEventFilter(b)

    # -- CopilotView ------------------------------------------------------------------------------------
    def set_status(self, status: Status, detail: str = "") -> None:
        self._bridge.status.emit(status, detail)

    def set_level(self, source: str, dbfs: float) -> None:
        with self._lock:
            self._levels[source] = dbfs
            drawn = self._levels_drawn.get(source)
            if drawn is not None and abs(dbfs - drawn) < LEVEL_STEP_DB and not self._state_posted:
                self.coalesced += 1  # kept, drawn with the next post
                return
            self._post_state()

    def set_frames(self, sent: int, skipped: dict[str, int]) -> None:
        with self._lock:
            self._frames = (sent, dict(skipped))
            self._post_state()

    def set_cost(self, usd: float | None) -> None:
        with self._lock:
            self._cost = (usd,)
            self._post_state()

    def set_tokens(self, total: int) -> None:
        with self._lock:
            self._tokens = total
            self._post_state()

    def user_turn(self, who: Who, text: str) -> None:
        with self._lock:
            self._batch = None  # later deltas go after this turn
            self._bridge.turn.emit(who, text)

    def answer_delta(self, text: str) -> None:
        with self._lock:
            if self._batch is not None:
                self._batch.append(text)
                self.coalesced_deltas += 1
                return
            self._batch = [text]
            self._bridge.deltas.emit(self._batch)

    def answer_done(self, shown: bool) -> None:
        with self._lock:
            self._batch = None  # its post is queued before this one: the deltas still come first
            self._bridge.done.emit(shown)

    # -- optional extras (not in the CopilotView protocol) ----------------------------------------------
    def set_controls(self, controls: CopilotControls | None) -> None:
        """Give the overlay the runtime's controls (Ask / Pause buttons and hotkeys) once they exist."""
        self._bridge.controls.emit(controls)

    def hotkey(self, action: str) -> None:
        """A global hotkey fired: run its action in the Qt thread."""
        self._bridge.action.emit(action)

    def note(self, text: str) -> None:
        """A line under the status, e.g. why global hotkeys are off."""
        self._bridge.note.emit(text)

    def screen_area(self) -> tuple[int, int, int, int] | None:
        """(left, top, width, height) of the window in screen pixels, None while it is not shown."""
        with self._lock:
            return self._area

    def _placed(self) -> None:
        # Qt thread: the window moved, was resized, shown or hidden.
        window = self.window
        area = None
        if window.isVisible():
            ratio = window.devicePixelRatioF()  # capture is in device pixels, Qt geometry in logical ones
            g = window.frameGeometry()
            area = (
                round(g.x() * ratio),
                round(g.y() * ratio),
                round(g.width() * ratio),
                round(g.height() * ratio),
            )
        with self._lock:
            self._area = area

    # -- coalescing ---------------------------------------------------------------------------------------
    def _take_deltas(self, batch: list[str]) -> None:
        # Qt thread. The batch is closed under the lock: a delta after this starts a new one.
        with self._lock:
            if self._batch is batch:
                self._batch = None
            text = "".join(batch)
        if text:
            self.window.answer_delta(text)

    def _post_state(self) -> None:
        # Caller holds the lock. One flush in flight at a time; later updates ride on it.
        if self._state_posted:
            self.coalesced += 1
            return
        self._state_posted = True
        self._bridge.state.emit()

    def _flush_state(self) -> None:
        with self._lock:
            levels, self._levels = self._levels, {}
            self._levels_drawn.update(levels)
            frames, self._frames = self._frames, None
            tokens, self._tokens = self._tokens, None
            cost, self._cost = self._cost, None
            self._state_posted = False
        if levels:
            self.window.set_levels(levels)
        if frames is not None:
            self.window.set_frames(*frames)
        if tokens is not None:
            self.window.set_tokens(tokens)
        if cost is not None:
            self.window.set_cost(cost[0])
