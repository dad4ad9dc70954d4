"""Pure audio parts of the group voice chat: paced 10 ms playback and a mixer of incoming speakers.

Nothing here imports the call library, so it is tested without the ``voicechat`` extra.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Protocol

import numpy as np

from rholive.audio import Resampler

FRAME_MS = 10


class Clock(Protocol):
    """Time source of the pacer; tests inject a fake one."""

    def now(self) -> float: ...

    async def sleep_until(self, deadline: float) -> None: ...


class MonotonicClock:
    def now(self) -> float:
        return time.monotonic()

    async def sleep_until(self, deadline: float) -> None:
        delay = deadline - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)


FrameSink = Callable[[bytes], Awaitable[None]]


class FramePacer:
    """Plays queued PCM as exact ``frame_ms`` frames, frame n due at ``t0 + n * frame_ms``.

    Deadlines are computed from the anchor, never by adding one sleep after another, so a late wake-up
    delays one frame and the next ones catch up: the stream does not drift. Playback starts once
    ``prebuffer_ms`` of audio is queued (or the reply has ended), which absorbs network jitter of the
    model's chunks. When the queue runs dry mid-reply the pacer stops and waits for a new prebuffer,
    then re-anchors (a gap, not a burst of catch-up frames).
    """

    def __init__(
        self,
        rate: int,
        sink: FrameSink,
        *,
        channels: int = 1,
        frame_ms: int = FRAME_MS,
        prebuffer_ms: int = 60,
        clock: Clock | None = None,
    ) -> None:
        if rate * frame_ms % 1000:
            raise ValueError(f"{rate} Hz does not split into whole {frame_ms} ms frames")
        self.rate = rate
        self.frame_ms = frame_ms
        self.frame_bytes = rate * frame_ms // 1000 * 2 * channels
        self.prebuffer_bytes = max(1, prebuffer_ms // frame_ms) * self.frame_bytes
        self._sink = sink
        self._clock = clock or MonotonicClock()
        self._buffer = bytearray()
        self._ended = False  # the reply is complete: play what is left even below the prebuffer
        self._closed = False
        self._wake = asyncio.Event()
        self._generation = 0  # bumped by flush(): a frame being paced for an old reply is not sent
        self.frames_sent = 0
        self.bytes_flushed = 0
        self.anchors: list[float] = []  # t0 of every playback run (one per prebuffer fill)

    @property
    def queued_bytes(self) -> int:
        return len(self._buffer)

    def deadline(self, t0: float, n: int) -> float:
        return t0 + n * self.frame_ms / 1000.0

    def push(self, pcm: bytes) -> None:
        if len(pcm) % 2:
            raise ValueError(f"PCM must be whole 16-bit samples, got {len(pcm)} bytes")
        self._buffer += pcm
        self._ended = False
        self._wake.set()

    def end(self) -> None:
        """The reply is complete: pad the last partial frame with silence and play it out."""
        partial = len(self._buffer) % self.frame_bytes
        if partial:
            self._buffer += bytes(self.frame_bytes - partial)
        self._ended = True
        self._wake.set()

    def flush(self) -> int:
        """Barge-in: drop everything queued (and the frame waiting for its deadline); returns bytes dropped."""
        dropped = len(self._buffer)
        self._buffer.clear()
        self._ended = False
        self._generation += 1
        self.bytes_flushed += dropped
        self._wake.set()
        return dropped

    def close(self) -> None:
        self._closed = True
        self._wake.set()

    def _ready(self) -> bool:
        if self._ended:
            return len(self._buffer) >= self.frame_bytes
        return len(self._buffer) >= self.prebuffer_bytes

    async def run(self) -> None:
        """Pace frames to the sink until :meth:`close`."""
        while not self._closed:
            if not self._ready():
                self._wake.clear()
                await self._wake.wait()
                continue
            await self._play_run()

    async def _play_run(self) -> None:
        t0 = self._clock.now()
        self.anchors.append(t0)
        generation = self._generation
        n = 0
        while not self._closed and generation == self._generation and len(self._buffer) >= self.frame_bytes:
            frame = bytes(self._buffer[: self.frame_bytes])
            await self._clock.sleep_until(self.deadline(t0, n))
            if generation != self._generation or self._closed:
                return  # flushed while waiting: this frame belonged to the interrupted reply
            del self._buffer[: self.frame_bytes]
            await self._sink(frame)
            self.frames_sent += 1
            n += 1


class Mixer:
    """Mixes the frames of several speakers (one s16le block per SSRC per tick) to 16 kHz mono.

    Each speaker has its own streaming resampler (filter state kept across ticks) and a small FIFO, so
    speakers whose resamplers yield slightly different counts stay aligned. A speaker absent from a tick
    has left (or gone silent): what it still holds is mixed in once and its state dropped.
    """

    def __init__(self, src_rate: int, channels: int = 1, dst_rate: int = 16000) -> None:
        self.src_rate = src_rate
        self.channels = channels
        self.dst_rate = dst_rate
        self._resamplers: dict[int, Resampler] = {}
        self._fifos: dict[int, np.ndarray] = {}

    @property
    def speakers(self) -> list[int]:
        return list(self._fifos)

    def mix(self, frames: Iterable[tuple[int, bytes]]) -> bytes:
        present: set[int] = set()
        for ssrc, pcm in frames:
            resampler = self._resamplers.get(ssrc)
            if resampler is None:
                resampler = self._resamplers[ssrc] = Resampler(self.src_rate, self.dst_rate, self.channels)
                self._fifos[ssrc] = np.zeros(0, dtype=np.int32)
            out = np.frombuffer(resampler.process(pcm), dtype="<i2").astype(np.int32)
            self._fifos[ssrc] = np.concatenate([self._fifos[ssrc], out])
            present.add(ssrc)
        gone = [ssrc for ssrc in self._fifos if ssrc not in present]
        ready = min((len(self._fifos[s]) for s in present), default=0)
        if gone:
            ready = max([ready, *(len(self._fifos[s]) for s in gone)])
        total = np.zeros(ready, dtype=np.int32)
        for ssrc in [*present, *gone]:
            fifo = self._fifos[ssrc]
            take = fifo[:ready]
            total[: len(take)] += take
            self._fifos[ssrc] = fifo[ready:]
        for ssrc in gone:
            del self._fifos[ssrc], self._resamplers[ssrc]
        return np.clip(total, -32768, 32767).astype("<i2").tobytes()
