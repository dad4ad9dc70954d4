"""The copilot as plain lines or JSON objects (`--json`): a `CopilotView` plus the runtime's trace.

The JSON events of `rholive replay` / `rholive run --no-screen` keep their names (`turn_open`, `turn_close`,
`text`, `turn_complete`, every session event, ...); the copilot adds `screen_turn`, `frame_sent`,
`frame_skipped`, `barge_in`, `status`, `answer` (the filtered answer of a reply) and `answer_withheld` (a
reply that meant nothing to show). `text` carries the filtered deltas only: `<nothing>` never appears.
"""

from __future__ import annotations

from typing import TextIO

from rholive.conversation import VoicePrinter, WireAction
from rholive.live import events as ev
from rholive.ui import Status, Who

# Reply content goes through the answer filter; the raw events are not printed.
RAW_REPLY = (ev.TextPart, ev.OutputTranscription)


class CopilotPrinter(VoicePrinter):
    def __init__(self, out: TextIO, err: TextIO, json_mode: bool) -> None:
        super().__init__(out, err, json_mode)
        self._answering = False
        self._status: tuple[Status, str] | None = None

    # ------------------------------------------------------------ the runtime's trace

    def session_event(self, event: ev.Event) -> None:
        if isinstance(event, RAW_REPLY):
            return
        if not self.json_mode and isinstance(event, ev.TurnComplete | ev.Interrupted):
            self._answering = False
        self.event(event)

    def screen_turn(self, frames: int, changed_fraction: float, forced: bool) -> None:
        self._record(
            {
                "event": "screen_turn",
                "frames": frames,
                "changed_fraction": round(changed_fraction, 4),
                "forced": forced,
            },
            f"screen: (a screen turn: {frames} frame(s), {changed_fraction:.0%} of the screen changed"
            + (", asked now)" if forced else ")"),
        )

    def frame_sent(self, frame_id: int, nbytes: int, in_turn: str) -> None:
        if self.json_mode:
            self._json({"event": "frame_sent", "frame_id": frame_id, "bytes": nbytes, "turn": in_turn})

    def frame_skipped(self, reason: str) -> None:
        if self.json_mode:
            self._json({"event": "frame_skipped", "reason": reason})

    def barge_in(self, who: str) -> None:
        self._record({"event": "barge_in", "speaker": who}, f"{who}: (barge-in: the answer is withdrawn)")

    def turn(self, action: WireAction) -> None:
        self._answering = False
        super().turn(action)

    # ------------------------------------------------------------ CopilotView

    def set_status(self, status: Status, detail: str = "") -> None:
        if self._status == (status, detail):
            return
        self._status = (status, detail)
        if self.json_mode:
            self._json({"event": "status", "status": status, "detail": detail})

    def set_level(self, source: str, dbfs: float) -> None:
        """Levels are for meters; a line printer has none."""

    def set_frames(self, sent: int, skipped: dict[str, int]) -> None:
        """Counted in `frame_sent` / `frame_skipped` events and the closing summary."""

    def set_tokens(self, total: int) -> None:
        """The `usage` session events carry the totals."""

    def set_cost(self, usd: float | None) -> None:
        """A `cost` event with the running estimate (--json); the plain trace leaves it to the status line."""
        if self.json_mode:
            self._json({"event": "cost", "total_usd": usd, "estimated": True})

    def user_turn(self, who: Who, text: str) -> None:
        if text:
            self._record({"event": "user_transcript", "speaker": who, "text": text}, f"{who}: {text}")

    def answer_delta(self, text: str) -> None:
        if not text:
            return
        if self.json_mode:
            self._json({"event": "text", "text": text, "thought": False})
            return
        if not self._answering:
            self._end_line()
            self.out.write("model: ")
            self._answering = True
        self.out.write(text)
        self.out.flush()
        self._mid_line = True

    def answer_done(self, shown: bool) -> None:
        self._answering = False
        if not self.json_mode:
            self._end_line()

    def answer(self, text: str | None) -> None:
        """The trace of a finished reply: its filtered text, or None when it meant nothing to show."""
        if text is None:
            if self.json_mode:
                self._json({"event": "answer_withheld"})
            else:
                self._note("(the model had nothing to add)")
        elif self.json_mode:
            self._json({"event": "answer", "text": text})
