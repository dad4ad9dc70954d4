"""The stall watchdog: is an answer owed, is it late, is one being streamed? Pure: fed events and timestamps.

A user turn sent makes an answer owed. Every piece of server content is progress and moves the deadline
(``timeout_s`` after the latest progress). The answer ends with AnswerComplete, ``waitingForInput`` or a
turnComplete that gives a reason: a deliberate silence is an answer, not a stall. A tool call waits for the
application, not the server: no deadline until its response goes out. A turnComplete with interactionStatus
IN_PROGRESS is not the end (AnswerEnd), so nothing after it is a stall too.

The first stall of a turn asks for a new connection (the turn is sent once more); a second one gives the turn
up (the session goes on).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Verdict(enum.Enum):
    OK = "ok"
    RECONNECT = "reconnect"  # first stall of this turn: a new connection, the turn once more
    GIVE_UP = "give_up"  # second stall of the same turn: say so, stop waiting for it


@dataclass
class StallWatchdog:
    timeout_s: float
    owed: bool = False  # a user turn waits for its answer
    streaming: bool = False  # answer content arrived since the last answer ended
    on_client: bool = False  # a tool call waits for the application's response
    since: float | None = None  # the latest progress on this connection while owed
    stalls: int = 0  # stalls of the turn owed now

    @property
    def in_progress(self) -> bool:
        """An answer is owed or being streamed (a connection left now would cut it)."""
        return self.owed or self.streaming

    def turn_sent(self, now: float, new: bool = True) -> None:
        """A message that ends a user turn went out (``new``: not a replay of the owed one)."""
        if new:
            self.stalls = 0
        self.owed = True
        self.on_client = False
        self.since = now

    def progress(self, now: float, answer_piece: bool = False) -> None:
        """Server content arrived (``answer_piece``: a piece of the answer the user sees or hears)."""
        self.streaming = self.streaming or answer_piece
        if self.owed:
            self.since = now

    def tool_call(self) -> None:
        self.on_client = True

    def client_replied(self, now: float) -> None:
        """A tool response went out: the server has what it waited for."""
        if self.on_client:
            self.on_client = False
            self.since = now

    def answer_ended(self) -> None:
        self.owed = self.streaming = self.on_client = False
        self.since = None
        self.stalls = 0

    def connection_ended(self) -> bool:
        """The connection is gone: True when it cut an answer being streamed. What is owed stays owed."""
        cut = self.streaming
        self.streaming = self.on_client = False
        self.since = None
        return cut

    def connection_opened(self, now: float) -> None:
        """A new connection: an owed answer has ``timeout_s`` from now, even if its turn is not sent again."""
        if self.owed:
            self.since = now

    def deadline(self) -> float | None:
        if not self.owed or self.on_client or self.since is None:
            return None
        return self.since + self.timeout_s

    def check(self, now: float) -> Verdict:
        deadline = self.deadline()
        if deadline is None or now < deadline:
            return Verdict.OK
        self.stalls += 1
        if self.stalls >= 2:
            self.answer_ended()
            return Verdict.GIVE_UP
        self.since = None  # no deadline until the next connection is up
        return Verdict.RECONNECT
