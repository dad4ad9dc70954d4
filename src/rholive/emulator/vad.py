"""Server-side voice activity detection for automatic turn taking: an energy gate on 20 ms frames.

Time is the AUDIO timeline (samples received), never the wall clock, so a test that streams a tone and then
silence gets the same turn boundaries however fast it sends. Pure state; a copy of it is part of a
resumption snapshot.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

FRAME_MS = 20


@dataclass(frozen=True, slots=True)
class Segment:
    """Audio the VAD has classified: ``in_turn`` audio belongs to the user's turn, the rest is outside it."""

    nbytes: int
    seconds: float
    in_turn: bool


@dataclass(frozen=True, slots=True)
class Onset:
    """Speech started (the moment an in-progress reply is interrupted)."""


@dataclass(frozen=True, slots=True)
class End:
    """Enough trailing silence: the user's turn is over."""


VadEvent = Segment | Onset | End


@dataclass(slots=True)
class EnergyVad:
    silence_ms: int = 800
    prefix_ms: int = 20  # speech must last this long before the start of speech is committed
    threshold: float = 300.0
    speaking: bool = False
    silence_samples: int = 0
    run_frames: int = 0  # speech frames seen while not yet speaking (candidate onset)
    run_bytes: int = 0
    run_seconds: float = 0.0
    rest: bytes = b""  # an incomplete frame waiting for the next chunk
    rest_rate: int = 16000

    def copy(self) -> EnergyVad:
        return EnergyVad(
            self.silence_ms,
            self.prefix_ms,
            self.threshold,
            self.speaking,
            self.silence_samples,
            self.run_frames,
            self.run_bytes,
            self.run_seconds,
            self.rest,
            self.rest_rate,
        )

    def feed(self, pcm: bytes, rate: int) -> list[VadEvent]:
        events: list[VadEvent] = []
        if self.rest and rate != self.rest_rate:
            events += self.flush()
        data = self.rest + pcm
        self.rest_rate = rate
        frame_samples = rate * FRAME_MS // 1000
        frame_bytes = frame_samples * 2
        whole = len(data) // frame_bytes * frame_bytes
        self.rest = data[whole:]
        if whole == 0:
            return events
        frames = np.frombuffer(data[:whole], dtype="<i2").astype(np.float32).reshape(-1, frame_samples)
        loud = np.sqrt(np.mean(frames * frames, axis=1)) > self.threshold
        for is_speech in loud.tolist():
            self._frame(bool(is_speech), frame_bytes, frame_samples, rate, events)
        return _merge(events)

    def flush(self) -> list[VadEvent]:
        """Classify the incomplete frame left over (at audioStreamEnd, or when the rate changes)."""
        rest, self.rest = self.rest, b""
        events: list[VadEvent] = []
        if self.run_frames:
            events.append(Segment(self.run_bytes, self.run_seconds, False))
            self._reset_run()
        if rest:
            events.append(Segment(len(rest), len(rest) / 2 / self.rest_rate, self.speaking))
        return events

    def _frame(self, is_speech: bool, nbytes: int, samples: int, rate: int, out: list[VadEvent]) -> None:
        seconds = samples / rate
        if self.speaking:
            out.append(Segment(nbytes, seconds, True))
            self.silence_samples = 0 if is_speech else self.silence_samples + samples
            if self.silence_samples * 1000 >= self.silence_ms * rate:
                out.append(End())
                self.speaking = False
                self.silence_samples = 0
            return
        if not is_speech:
            if self.run_frames:  # too short to count as speech: it was noise outside the turn
                out.append(Segment(self.run_bytes, self.run_seconds, False))
                self._reset_run()
            out.append(Segment(nbytes, seconds, False))
            return
        self.run_frames += 1
        self.run_bytes += nbytes
        self.run_seconds += seconds
        if self.run_frames * FRAME_MS >= max(self.prefix_ms, FRAME_MS):
            out.append(Onset())
            out.append(Segment(self.run_bytes, self.run_seconds, True))
            self.speaking = True
            self.silence_samples = 0
            self._reset_run()

    def _reset_run(self) -> None:
        self.run_frames = 0
        self.run_bytes = 0
        self.run_seconds = 0.0


def _merge(events: list[VadEvent]) -> list[VadEvent]:
    """Join neighbouring segments of the same kind (one per frame would be wasteful to pass around)."""
    merged: list[VadEvent] = []
    for event in events:
        last = merged[-1] if merged else None
        if isinstance(event, Segment) and isinstance(last, Segment) and last.in_turn == event.in_turn:
            merged[-1] = Segment(last.nbytes + event.nbytes, last.seconds + event.seconds, event.in_turn)
        else:
            merged.append(event)
    return merged
