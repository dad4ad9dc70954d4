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

A server that stops sending updates while input streams with no turn end (server-side VAD: audio with no
markers, no answer, no update) would let the buffer grow for as long as that lasts. So realtime audio and video
sent outside a client-marked turn (no ``activityStart`` open) is kept only for its newest ``ambient_max_bytes``
(1 MiB: ~24 s of 16 kHz audio, the utterance a drop could cut in the middle; older input would be stale
if resent); the older part goes, counted in ``evicted``. What belongs to a user turn (activity markers, audio
between them, typed text, clientContent) is kept until answered or consumed, under ``max_bytes`` (16 MiB, ~6 min
of audio: a client-side turn is far shorter, the segmenter caps its length), past which the oldest messages go,
also counted. So the replay buffer of a session holds at most ~1 MiB while no update comes, unless a turn is
pending.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass


@dataclass(slots=True)
class Sent:
    index: int
    text: str  # the encoded JSON, resent as is ("" once dropped from the ambient window)
    tool: bool = False  # a toolResponse: its call ids belong to the connection that made the call
    ambient: bool = False  # realtime audio/video outside a client-marked turn


MAX_BYTES = (
    16 * 1024 * 1024
)  # everything kept: ~6 min of 16 kHz audio inside turns, or ~3 min with 1 fps frames
AMBIENT_MAX_BYTES = 1024 * 1024  # realtime input outside a turn: ~24 s of 16 kHz audio (base64 in JSON)
_REALTIME_MEDIA = ('{"realtimeInput":{"audio"', '{"realtimeInput":{"video"')
_ACTIVITY_START = '{"realtimeInput":{"activityStart"'
_ACTIVITY_END = '{"realtimeInput":{"activityEnd"'


class ReplayBuffer:
    def __init__(
        self,
        handle: str | None = None,
        max_bytes: int = MAX_BYTES,
        ambient_max_bytes: int = AMBIENT_MAX_BYTES,
    ) -> None:
        self.handle = handle
        self.max_bytes = max_bytes
        self.ambient_max_bytes = ambient_max_bytes
        self._sent: deque[Sent] = deque()
        self._ambient: deque[Sent] = deque()  # the kept ambient messages, oldest first (also in _sent)
        self._dropped_in_sent = 0  # ambient messages emptied but still in _sent (compacted now and then)
        self.bytes = 0  # the encoded length of what is kept
        self.ambient_bytes = 0  # the part of it that is ambient input
        self.evicted = 0  # messages forgotten without an answer or update: over either bound
        self.evicted_ambient = 0  # the part of them dropped from the ambient window
        self._in_activity = False  # an activityStart was recorded and its activityEnd not yet
        self._next = 1
        self._answered = 0  # messages 1.._answered were sent before the latest turnComplete
        self._last_turn_end = 0  # index of the latest message that ended a user turn (0: none known)
        self.dropped_tool_responses = 0

    def __len__(self) -> int:
        return len(self._sent) - self._dropped_in_sent

    @property
    def last_index(self) -> int:
        return self._next - 1

    def record(self, text: str, tool: bool = False) -> int:
        """Number a message about to be written on the current connection."""
        ambient = not self._in_activity and text.startswith(_REALTIME_MEDIA)
        if not ambient:
            if text.startswith(_ACTIVITY_START):
                self._in_activity = True
            elif text.startswith(_ACTIVITY_END):
                self._in_activity = False
        return self._keep(text, tool, ambient)

    def _keep(self, text: str, tool: bool, ambient: bool) -> int:
        index = self._next
        self._next += 1
        sent = Sent(index, text, tool, ambient)
        self._sent.append(sent)
        self.bytes += len(text)
        if ambient:
            self._ambient.append(sent)
            self.ambient_bytes += len(text)
            self._evict_ambient()
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
        old = [s for s in self._sent if s.text]
        resend = [s for s in old if not s.tool]
        self.dropped_tool_responses += len(old) - len(resend)
        self._sent.clear()
        self._ambient.clear()
        self._dropped_in_sent = 0
        self.bytes = self.ambient_bytes = 0
        self._next = 1 + skipped
        self._last_turn_end = 0
        self._answered = skipped
        for s in resend:
            self._keep(s.text, False, s.ambient)  # as first classified: the activity state is the client's
        return [s.text for s in resend]

    def _forget_through(self, index: int) -> None:
        while self._sent and self._sent[0].index <= index:
            self._pop_oldest()

    def _pop_oldest(self) -> Sent:
        sent = self._sent.popleft()
        self.bytes -= len(sent.text)
        if not sent.text:
            self._dropped_in_sent -= 1
        elif sent.ambient:
            self._ambient.popleft()  # the oldest kept ambient message is the oldest of all kept ones
            self.ambient_bytes -= len(sent.text)
        return sent

    def _evict(self) -> None:
        """Over the cap (only unanswered input is kept), the oldest messages go; the newest always stays."""
        while self.bytes > self.max_bytes and len(self._sent) > 1:
            if self._pop_oldest().text:
                self.evicted += 1

    def _evict_ambient(self) -> None:
        """Past the ambient window the oldest ambient message goes, wherever it sits among the kept ones
        (a pending typed turn may be older); the newest always stays."""
        while self.ambient_bytes > self.ambient_max_bytes and len(self._ambient) > 1:
            sent = self._ambient.popleft()
            self.bytes -= len(sent.text)
            self.ambient_bytes -= len(sent.text)
            sent.text = ""  # its place in _sent stays until it is popped or compacted
            self._dropped_in_sent += 1
            self.evicted += 1
            self.evicted_ambient += 1
        if self._dropped_in_sent > 64 and self._dropped_in_sent * 2 > len(self._sent):
            self._sent = deque(s for s in self._sent if s.text)
            self._dropped_in_sent = 0


def ends_turn(text: str) -> bool:
    """activityEnd, a realtime text or a complete clientContent: the messages that end a user turn."""
    return text.startswith(('{"realtimeInput":{"activityEnd"', '{"realtimeInput":{"text"')) or (
        text.startswith('{"clientContent"') and text.endswith('"turnComplete":true}}')
    )
