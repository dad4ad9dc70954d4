"""What a resumed connection must send again: the resumption handle and the unconsumed client messages.

Client messages of one connection are numbered from 0 (the setup, not kept here) upwards. A
``sessionResumptionUpdate`` with a new handle and ``lastConsumedClientMessageIndex = k`` says messages 0..k
are inside the state that handle names: those are forgotten, the rest are kept to be resent, in order,
after resuming with that handle. Numbering restarts on every connection, so a replay records the resent
messages again under their new numbers (if that connection dies too, they are still there).

A turn whose answer completed is forgotten at once, with or without a later update: resent, it would be
answered a second time (the user saw its answer already). So a resume and a fresh start agree: both resend only
what was sent after the last answered turn. The price: a resume from a handle older than that answer (the
connection closed between turnComplete and the resumption update) starts from a state without that turn.

A server that stops sending updates while input streams with no turn end (server-side VAD, ~25 min without a
turnComplete) would let the buffer grow for as long as that lasts. Past ``max_bytes`` the oldest messages go,
counted in ``evicted``. A client-side turn is far smaller than the cap (the segmenter caps its length), so what
the user is saying now is never cut.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass


@dataclass(slots=True)
class Sent:
    index: int
    text: str  # the encoded JSON, resent as is
    tool: bool = False  # a toolResponse: its call ids belong to the connection that made the call


MAX_BYTES = 64 * 1024 * 1024  # ~20 min of 1 fps screen frames, or ~25 min of audio alone


class ReplayBuffer:
    def __init__(self, handle: str | None = None, max_bytes: int = MAX_BYTES) -> None:
        self.handle = handle
        self.max_bytes = max_bytes
        self._sent: deque[Sent] = deque()
        self.bytes = 0  # the encoded length of what is kept
        self.evicted = 0  # messages forgotten over max_bytes
        self._next = 1
        self._answered = 0  # messages 1.._answered were sent before the latest turnComplete
        self._last_turn_end = 0  # index of the latest message that ended a user turn (0: none known)
        self.dropped_tool_responses = 0

    def __len__(self) -> int:
        return len(self._sent)

    @property
    def last_index(self) -> int:
        return self._next - 1

    def record(self, text: str, tool: bool = False) -> int:
        """Number a message about to be written on the current connection."""
        index = self._next
        self._next += 1
        self._sent.append(Sent(index, text, tool))
        self.bytes += len(text)
        if ends_turn(text):
            self._last_turn_end = index
        self._evict()
        return index

    def skip(self) -> None:
        """Number a message that is never to be resent (the history seed of a fresh connection)."""
        self._next += 1

    def update(self, handle: str | None, resumable: bool, consumed: int | None) -> None:
        """A resumption update. Only one with a usable handle moves the resume point: an index alone
        (or ``resumable: false``) says nothing about the state the previous handle names."""
        if not handle or not resumable:
            return
        self.handle = handle
        # Without the consumed index (non-transparent resumption) the handle is taken to cover every turn the
        # server had completed when it sent the update.
        self._forget_through(consumed if consumed is not None else self._answered)

    def turn_complete(self) -> None:
        """The answer to the pending turn is over: that turn is never resent."""
        # The answered turn ended with the latest turn-ending message; what followed it (the next turn, already
        # streaming) is not answered yet. With server-side VAD no message marks the end: take all that was sent.
        self._answered = self._last_turn_end or self.last_index
        self._forget_through(self._answered)

    def forget_handle(self) -> None:
        """The server refused the handle (expired, ended session): the next start is fresh."""
        self.handle = None

    def restart(self, fresh: bool = False, skipped: int = 0) -> list[str]:
        """Messages to send first on a new connection, recorded again under its numbering.

        Only unanswered input is kept, so a fresh start (``fresh``: no handle) and a resume resend the same.
        Tool responses are never resent: a resumed model makes its pending calls again, with new ids.
        ``skipped``: messages sent before them and not kept (the history seed) take the first numbers.
        """
        old = list(self._sent)
        resend = [s for s in old if not s.tool]
        self.dropped_tool_responses += len(old) - len(resend)
        self._sent.clear()
        self.bytes = 0
        self._next = 1 + skipped
        self._last_turn_end = 0
        self._answered = skipped
        for s in resend:
            self.record(s.text)
        return [s.text for s in resend]

    def _forget_through(self, index: int) -> None:
        while self._sent and self._sent[0].index <= index:
            self.bytes -= len(self._sent.popleft().text)

    def _evict(self) -> None:
        """Over the cap (only unanswered input is kept), the oldest messages go; the newest always stays."""
        while self.bytes > self.max_bytes and len(self._sent) > 1:
            self.bytes -= len(self._sent.popleft().text)
            self.evicted += 1


def ends_turn(text: str) -> bool:
    """activityEnd, a realtime text or a complete clientContent: the messages that end a user turn."""
    return text.startswith(('{"realtimeInput":{"activityEnd"', '{"realtimeInput":{"text"')) or (
        text.startswith('{"clientContent"') and text.endswith('"turnComplete":true}}')
    )
