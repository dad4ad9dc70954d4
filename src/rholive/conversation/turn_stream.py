"""Segmenter decisions → Live session calls, for one session fed by several speakers (`me`, `them`).

The wire carries one activity at a time, so the first speaker whose turn opens owns it: `activityStart` when
the turn is confirmed (its pre-roll follows as the first chunks), every 100 ms chunk as it comes, `activityEnd`
the moment the turn closes. A turn of the other speaker that opens meanwhile is held, in order, and goes out
as soon as the wire is free (its held audio first, then live), so nothing is dropped and no two turns mix.
Audio of a turn is never sent after its close: a decision that breaks this raises, it is a bug upstream.

`TurnStream.feed` is pure (decisions in, wire actions out); `apply` performs the actions on anything with the
LiveSession methods, so tests can check the mapping without a socket.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Protocol

from rholive.audio import SendAudio, TurnClose, TurnOpen

Decision = TurnOpen | SendAudio | TurnClose


@dataclass(frozen=True, slots=True)
class Start:
    speaker: str
    t_ms: float  # stream position at which the turn was confirmed
    onset_ms: float


@dataclass(frozen=True, slots=True)
class Audio:
    speaker: str
    pcm: bytes
    t_ms: float


@dataclass(frozen=True, slots=True)
class End:
    speaker: str
    t_ms: float
    reason: str
    audio_ms: float  # audio sent in this turn (pre-roll included)


WireAction = Start | Audio | End


class Sink(Protocol):
    async def activity_start(self) -> None: ...
    async def send_audio(self, pcm: bytes, rate: int = 16000) -> None: ...
    async def activity_end(self) -> None: ...


class TurnStream:
    """Which speaker owns the wire, and what the others are waiting to send."""

    def __init__(self, rate: int = 16000) -> None:
        self.rate = rate
        self.owner: str | None = None
        self._open: set[str] = set()  # speakers whose turn is open (on the wire or held)
        self._held: dict[str, deque[Decision]] = {}
        self._sent_ms = 0.0

    @property
    def busy(self) -> bool:
        return bool(self._open)

    def feed(self, speaker: str, decisions: list[Decision]) -> list[WireAction]:
        out: list[WireAction] = []
        for decision in decisions:
            self._check(speaker, decision)
            if self.owner is None and isinstance(decision, TurnOpen):
                self.owner = speaker
            if self.owner == speaker:
                out += self._emit(speaker, decision)
            else:
                self._held.setdefault(speaker, deque()).append(decision)
            if self.owner is None:
                out += self._drain()
        return out

    def _check(self, speaker: str, decision: Decision) -> None:
        if isinstance(decision, TurnOpen):
            if speaker in self._open:
                raise ValueError(f"{speaker}: a turn opened while its previous turn is still open")
            self._open.add(speaker)
        elif speaker not in self._open:
            what = "audio" if isinstance(decision, SendAudio) else "a close"
            raise ValueError(f"{speaker}: {what} outside a turn (after its close or before its open)")
        elif isinstance(decision, TurnClose):
            self._open.discard(speaker)

    def _emit(self, speaker: str, decision: Decision) -> list[WireAction]:
        if isinstance(decision, TurnOpen):
            self._sent_ms = 0.0
            return [Start(speaker, decision.t_ms, decision.onset_ms)]
        if isinstance(decision, SendAudio):
            self._sent_ms += len(decision.pcm) / 2 / self.rate * 1000
            return [Audio(speaker, decision.pcm, decision.t_ms)]
        self.owner = None
        return [End(speaker, decision.t_ms, decision.reason, self._sent_ms)]

    def _drain(self) -> list[WireAction]:
        """The wire is free: the earliest held turn goes out (held decisions in order, until it closes)."""
        out: list[WireAction] = []
        while self.owner is None:
            waiting = [s for s, q in self._held.items() if q]
            if not waiting:
                break
            speaker = min(waiting, key=lambda s: _first_t(self._held[s]))
            queue = self._held[speaker]
            self.owner = speaker
            while queue and self.owner == speaker:
                out += self._emit(speaker, queue.popleft())
        return out


def _first_t(queue: deque[Decision]) -> float:
    return queue[0].t_ms


async def apply(sink: Sink, actions: list[WireAction], rate: int = 16000) -> None:
    """Perform wire actions in order on a LiveSession (or anything with its three methods)."""
    for action in actions:
        if isinstance(action, Start):
            await sink.activity_start()
        elif isinstance(action, Audio):
            await sink.send_audio(action.pcm, rate)
        else:
            await sink.activity_end()
