"""An audio file as a capture source: (t_ms, pcm) chunks of 16 kHz mono s16le, paced like a microphone.

Any format PyAV decodes works. Pacing releases each chunk when a microphone would have finished recording it
(real time, or `speed` times faster); `speed=None` releases chunks as fast as they decode. Clock and sleep are
injectable so tests drive time without sleeping.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

from rholive.audio.codec import iter_decode_pcm16

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


class FileSource:
    """Async iterator of `(t_ms, pcm)` from an audio file; `t_ms` is the chunk's start in the file's audio.

    The file is opened and its first chunk decoded in the constructor, so a missing, empty, corrupt or
    unsupported file raises `AudioDecodeError` (naming the file) before anything starts. Corruption found
    later raises the same error from the iteration.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        speed: float | None = 1.0,
        rate: int = 16000,
        chunk_ms: int = 100,
        label: str = "me",
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if speed is not None and not speed > 0:
            raise ValueError(f"speed must be a positive number or None (unpaced), got {speed}")
        self.path = Path(path)
        self.name = str(path)
        self.label = label
        self.rate = rate
        self.chunk_ms = chunk_ms
        self.speed = speed
        self.end_reason: str | None = None
        self._clock = clock
        self._sleep = sleep
        self._chunks: Iterator[bytes] = iter_decode_pcm16(self.path, rate=rate, chunk_ms=chunk_ms)
        self._first: bytes | None = next(self._chunks)
        self._position = 0  # samples already released
        self._start: float | None = None

    def __aiter__(self) -> FileSource:
        return self

    async def __anext__(self) -> tuple[int, bytes]:
        if self.end_reason is not None:
            raise StopAsyncIteration
        if self._start is None:
            self._start = self._clock()
        if self._first is not None:
            chunk, self._first = self._first, None
        else:
            chunk = next(self._chunks, None)
        if chunk is None:
            self.end_reason = "end_of_file"
            raise StopAsyncIteration
        samples = len(chunk) // 2
        if self.speed is None:
            await self._sleep(0)  # unpaced, but let other tasks run between chunks
        else:
            # A microphone hands a chunk over once it has been recorded, i.e. at the chunk's end.
            due = self._start + (self._position + samples) / self.rate / self.speed
            await self._sleep(max(0.0, due - self._clock()))
        t_ms = self._position * 1000 // self.rate
        self._position += samples
        return t_ms, chunk

    async def aclose(self) -> None:
        """Stop early (end_reason "stopped") and release the decoder."""
        if self.end_reason is None:
            self.end_reason = "stopped"
        close = getattr(self._chunks, "close", None)
        if close is not None:
            close()

    async def __aenter__(self) -> FileSource:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
