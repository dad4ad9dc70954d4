"""What the copilot runtime tells a user interface, and what the interface can ask of the runtime.

The runtime (asyncio) calls a `CopilotView`; the terminal (rich) and the overlay (Qt, extra `gui`) implement
it. Calls come from the runtime's event-loop thread: a view whose toolkit lives in another thread (Qt) must
marshal them itself. A view never blocks: it records what it was told and draws when it can.
The interface calls back through `CopilotControls`, from any thread; the runtime makes those thread-safe.
"""

from __future__ import annotations

from typing import Literal, Protocol

Status = Literal["connecting", "connected", "reconnecting", "listening", "thinking", "paused", "closed"]
Who = Literal["me", "them", "screen"]


class CopilotView(Protocol):
    def set_status(self, status: Status, detail: str = "") -> None:
        """Connection and activity state, e.g. ("reconnecting", "goAway") or ("thinking", "")."""

    def set_level(self, source: str, dbfs: float) -> None:
        """Input level of one audio source (`me`, `them`), about 10 times a second; -100 is silence."""

    def set_frames(self, sent: int, skipped: dict[str, int]) -> None:
        """Screen frames sent so far and skipped so far by reason (`unchanged`, `small_change`, ...)."""

    def set_tokens(self, total: int) -> None:
        """Tokens used in this session so far (the latest usage total)."""

    def set_cost(self, usd: float | None) -> None:
        """The estimated cost of this session so far (US dollars); None: no price known, no estimate."""

    def user_turn(self, who: Who, text: str) -> None:
        """A turn was sent: `text` is its input transcription, or a short description ("screen changed")."""

    def answer_delta(self, text: str) -> None:
        """More text of the answer being streamed (appended as it arrives, never letter by letter)."""

    def answer_done(self, shown: bool) -> None:
        """The answer is complete; `shown` is False when it meant nothing to show (`<nothing>`) and the
        streamed text must be withdrawn."""


class CopilotControls(Protocol):
    def ask_now(self) -> None:
        """Force a screen turn now (hotkey)."""

    def toggle_listening(self) -> bool:
        """Pause or resume listening; returns True when listening after the call."""
