"""What a copilot interface shows, as plain data (pure: no toolkit, no clock reads, no I/O).

`DashboardState` records the `CopilotView` calls; each method returns whether anything visible changed, so a
view redraws only then. `snapshot()` gives an immutable copy that a painter thread can render while the
runtime keeps calling.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from rholive.live import format_usd
from rholive.ui.meter import LevelMeter, MeterReading
from rholive.ui.view import Status

ANSWER = "copilot"  # who an answer comes from, in history and in plain lines


@dataclass(frozen=True)
class Entry:
    who: str  # me, them, screen, or ANSWER
    text: str


@dataclass(frozen=True)
class Snapshot:
    status: Status
    detail: str
    meters: tuple[tuple[str, MeterReading], ...]
    floor_dbfs: float
    frames_sent: int
    frames_skipped: tuple[tuple[str, int], ...]
    tokens: int
    cost: str  # "est. $0.0123", "no cost estimate", or "" before the first usage report
    streaming: str | None  # the answer being streamed, None when no answer is open
    history: tuple[Entry, ...]  # oldest first


def cost_text(usd: float | None) -> str:
    """How a status line shows the estimate (never a made-up $0 for a model without prices)."""
    return "no cost estimate" if usd is None else f"est. {format_usd(usd)}"


def looks_like_marker(text: str) -> bool:
    """True while a streamed answer could still turn out to be a `<nothing>`-style marker: it is not shown
    until it is clearly text (the runtime decides; this only avoids flashing the marker)."""
    head = text.strip()
    return head.startswith("<") and len(head) <= 24 and "\n" not in head


class DashboardState:
    def __init__(self, *, history_len: int = 20, meter: LevelMeter | None = None) -> None:
        if history_len < 1:
            raise ValueError("history_len must be >= 1")
        self._meter_proto = meter or LevelMeter()
        self.status: Status = "connecting"
        self.detail = ""
        self.meters: dict[str, LevelMeter] = {}
        self.frames_sent = 0
        self.frames_skipped: dict[str, int] = {}
        self.tokens = 0
        self.cost = ""
        self.streaming: str | None = None
        self.history: deque[Entry] = deque(maxlen=history_len)
        self.answers_shown = 0
        self.answers_withdrawn = 0

    def set_status(self, status: Status, detail: str) -> bool:
        changed = (status, detail) != (self.status, self.detail)
        self.status, self.detail = status, detail
        return changed

    def set_level(self, source: str, dbfs: float, now: float, cells: int) -> bool:
        """Changed only when the bar of `cells` cells or its number would look different."""
        meter = self.meters.get(source)
        if meter is None:
            proto = self._meter_proto
            meter = self.meters[source] = LevelMeter(
                hold_s=proto.hold_s, decay_db_per_s=proto.decay_db_per_s, floor_dbfs=proto.floor_dbfs
            )
            meter.update(dbfs, now)
            return True
        before = meter.cells(cells, now)
        meter.update(dbfs, now)
        return meter.cells(cells, now) != before

    def set_frames(self, sent: int, skipped: dict[str, int]) -> bool:
        changed = sent != self.frames_sent or skipped != self.frames_skipped
        self.frames_sent, self.frames_skipped = sent, dict(skipped)
        return changed

    def set_tokens(self, total: int) -> bool:
        changed = total != self.tokens
        self.tokens = total
        return changed

    def set_cost(self, usd: float | None) -> bool:
        before, self.cost = self.cost, cost_text(usd)
        return before != self.cost

    def user_turn(self, who: str, text: str) -> Entry:
        entry = Entry(who, text)
        self.history.append(entry)
        return entry

    def answer_delta(self, text: str) -> bool:
        before = self.streaming
        self.streaming = (self.streaming or "") + text
        return before is None or bool(text)

    def answer_done(self, shown: bool) -> Entry | None:
        """Closes the open answer: the entry to show, or None when it was withdrawn or empty."""
        text, self.streaming = self.streaming, None
        if not shown:
            self.answers_withdrawn += 1
            return None
        if not text or not text.strip():
            return None
        entry = Entry(ANSWER, text)
        self.history.append(entry)
        self.answers_shown += 1
        return entry

    def snapshot(self, now: float) -> Snapshot:
        return Snapshot(
            status=self.status,
            detail=self.detail,
            meters=tuple((name, meter.reading(now)) for name, meter in self.meters.items()),
            floor_dbfs=self._meter_proto.floor_dbfs,
            frames_sent=self.frames_sent,
            frames_skipped=tuple(self.frames_skipped.items()),
            tokens=self.tokens,
            cost=self.cost,
            streaming=self.streaming,
            history=tuple(self.history),
        )
