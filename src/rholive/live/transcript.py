"""The session's own text transcript of the conversation: what seeds a fresh session when context is lost.

User turns are the text the application sent, or what the service transcribed of the user's speech; model
turns are the answer text (``events.answer_text``). Pieces of one side are joined until the other side
speaks. The transcript is bounded: past ``max_chars`` the oldest turns go first.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable

from rholive.live.wire import HistoryTurn

MAX_CHARS = 32_000  # ~8k tokens of text: enough context, a small fraction of the model's window


class Transcript:
    def __init__(self, turns: Iterable[HistoryTurn] = (), max_chars: int = MAX_CHARS) -> None:
        self.max_chars = max_chars
        self._turns: deque[HistoryTurn] = deque()
        self._chars = 0
        self._open_role: str | None = None  # the side whose pieces are still coming
        self._open: list[str] = []
        for turn in turns:
            self._commit(turn)

    def __len__(self) -> int:
        return len(self._turns) + (1 if self._open_text() else 0)

    def user(self, text: str) -> None:
        """A whole user turn (typed text)."""
        self.close()
        self._commit(HistoryTurn("user", text))

    def piece(self, role: str, text: str) -> None:
        """A piece of a turn being streamed (an input transcription, a piece of the answer)."""
        if role != self._open_role:
            self.close()
            self._open_role = role
        self._open.append(text)

    def close(self) -> None:
        """The open turn is complete (the answer ended, or the other side spoke)."""
        text = self._open_text()
        role, self._open_role, self._open = self._open_role, None, []
        if text and role in ("user", "model"):
            self._commit(HistoryTurn(role, text))  # type: ignore[arg-type]

    def drop_open_answer(self) -> str:
        """The model's answer being streamed was cut: forget it (its repeat is the answer), return its text."""
        if self._open_role != "model":
            return ""
        text, self._open_role, self._open = self._open_text(), None, []
        return text

    def turns(self) -> list[HistoryTurn]:
        """Every complete turn, oldest first (the open one is left out until it closes)."""
        return list(self._turns)

    def answered(self) -> list[HistoryTurn]:
        """The turns up to the model's last answer: a user turn after it is still pending, and the session
        sends it again itself (it would otherwise be both history and a new turn)."""
        turns = self.turns()
        while turns and turns[-1].role == "user":
            turns.pop()
        return turns

    def _open_text(self) -> str:
        return "".join(self._open).strip()

    def _commit(self, turn: HistoryTurn) -> None:
        text = turn.text.strip()
        if not text:
            return
        self._turns.append(HistoryTurn(turn.role, text))
        self._chars += len(text)
        while self._chars > self.max_chars and len(self._turns) > 1:
            self._chars -= len(self._turns.popleft().text)
