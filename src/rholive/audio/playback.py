"""Spoken replies to a speaker: a pure jitter buffer (`PlaybackBuffer`) and a device writer (`Speaker`).

Replies arrive as 24 kHz mono s16le pieces at network pace. The buffer waits for `prebuffer_ms` before it
starts (so one late packet does not cut a word), counts every underrun, and on `flush()` (interrupted,
barge-in) drops everything queued: only the chunk already handed to the device still plays.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from rholive.audio.devices import AudioDeviceError, find_speaker, server_ok, soundcard_module
from rholive.audio.pcm import SILENCE_DBFS, Resampler, int16_to_float, rms_dbfs

State = Literal["idle", "buffering", "playing"]


@dataclass
class PlaybackStats:
    underruns: int = 0  # times the queue ran dry in the middle of a reply
    played_ms: float = 0.0  # reply audio handed to the device
    flushes: int = 0
    flushed_ms: float = 0.0  # reply audio dropped by flushes


class PlaybackBuffer:
    """Pure jitter buffer: `push` reply audio, `pull` one chunk per device period. No clock, no I/O."""

    def __init__(self, rate: int = 24000, chunk_ms: int = 20, prebuffer_ms: int = 80) -> None:
        if chunk_ms <= 0 or prebuffer_ms < 0:
            raise ValueError(f"bad buffer spec: chunk {chunk_ms} ms, prebuffer {prebuffer_ms} ms")
        self.rate = rate
        self.chunk_ms = chunk_ms
        self.prebuffer_ms = prebuffer_ms
        self.chunk_bytes = rate * chunk_ms // 1000 * 2
        self._prebuffer_bytes = rate * prebuffer_ms // 1000 * 2
        self._queue = bytearray()
        self._state: State = "idle"
        self._ended = False  # no more audio expected for now: play out the rest without waiting
        self.stats = PlaybackStats()

    @property
    def state(self) -> State:
        return self._state

    @property
    def queued_ms(self) -> float:
        return len(self._queue) / 2 / self.rate * 1000

    def push(self, pcm: bytes) -> None:
        """Queue reply audio (mono s16le at `rate`)."""
        if len(pcm) % 2:
            raise ValueError(f"PCM must hold whole 16-bit samples, got {len(pcm)} bytes")
        if not pcm:
            return
        self._queue += pcm
        self._ended = False
        if self._state == "idle":
            self._state = "buffering"

    def end_of_reply(self) -> None:
        """The reply is complete (turn_complete): what is queued plays out, the last chunk padded."""
        self._ended = True

    def pull(self) -> bytes | None:
        """One chunk of `chunk_ms` for the device, or None when there is nothing to play yet (play silence)."""
        if self._state == "buffering":
            if len(self._queue) < max(self._prebuffer_bytes, 1) and not self._ended:
                return None
            self._state = "playing"
        if self._state != "playing":
            return None
        if len(self._queue) >= self.chunk_bytes:
            chunk = bytes(self._queue[: self.chunk_bytes])
            del self._queue[: self.chunk_bytes]
        elif self._ended:
            chunk = bytes(self._queue).ljust(self.chunk_bytes, b"\0")  # the reply's tail
            played = len(self._queue)
            self._queue.clear()
            self._state = "idle"
            self._ended = False
            self.stats.played_ms += played / 2 / self.rate * 1000
            return chunk
        else:
            # Starved mid-reply: count it and build up the prebuffer again before resuming.
            self.stats.underruns += 1
            self._state = "buffering"
            return None
        self.stats.played_ms += self.chunk_ms
        if not self._queue and self._ended:
            self._state = "idle"
            self._ended = False
        return chunk

    def flush(self) -> float:
        """Drop everything queued (interrupted / barge-in); returns the milliseconds dropped."""
        dropped = self.queued_ms
        if dropped or self._state != "idle":
            self.stats.flushes += 1
            self.stats.flushed_ms += dropped
        self._queue.clear()
        self._state = "idle"
        self._ended = False
        return dropped


OnPlayed = Callable[[float, int, float], None]


class Speaker:
    """Plays replies on an output device through a `PlaybackBuffer`, from a writer thread.

    The device gets one `chunk_ms` block at a time (silence when nothing is queued) and holds at most
    `device_buffer_ms`, so a flush is heard within that plus the device's own latency. `on_played(monotonic_s, chunk_ms, level_dbfs)` is
    called from the writer thread for every block written, which is what the echo guard needs to know; use
    `loop.call_soon_threadsafe` in it to reach asyncio code.
    """

    def __init__(
        self,
        device: str | int | None = None,
        *,
        rate: int = 24000,
        device_rate: int = 48000,
        chunk_ms: int = 20,
        prebuffer_ms: int = 80,
        device_buffer_ms: int = 100,
        on_played: OnPlayed | None = None,
    ) -> None:
        self.device_spec = device
        self.device_buffer_ms = device_buffer_ms
        self.rate = rate
        self.device_rate = device_rate
        self.buffer = PlaybackBuffer(rate, chunk_ms, prebuffer_ms)
        self.on_played = on_played
        self.listeners: list[OnPlayed] = []  # more on_played callbacks: one echo guard per source
        self.name = ""
        self.end_reason: str | None = None
        self.end_detail = ""
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def stats(self) -> PlaybackStats:
        return self.buffer.stats

    async def start(self) -> Speaker:
        """Open the device (AudioDeviceError naming it when missing or busy) and start the writer."""
        if self._thread is not None:
            return self
        sc = soundcard_module()
        speaker = find_speaker(self.device_spec)
        self.name = speaker.name
        opened: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        loop = asyncio.get_running_loop()

        def report(error: BaseException | None) -> None:
            def settle() -> None:
                if opened.done():
                    return
                if error is None:
                    opened.set_result(None)
                else:
                    opened.set_exception(error)

            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(settle)

        self._thread = threading.Thread(
            target=self._run, args=(sc, speaker.id, report), name=f"speaker {self.name}", daemon=True
        )
        self._thread.start()
        await opened
        return self

    def feed(self, pcm: bytes) -> None:
        with self._lock:
            self.buffer.push(pcm)

    def end_of_reply(self) -> None:
        with self._lock:
            self.buffer.end_of_reply()

    def flush(self) -> float:
        """Interrupted or barge-in: drop the queued reply; returns the milliseconds dropped."""
        with self._lock:
            return self.buffer.flush()

    @property
    def audible(self) -> bool:
        with self._lock:
            return self.buffer.state == "playing"

    async def aclose(self) -> None:
        self._stop.set()
        if self._thread is not None and self._thread.is_alive():
            await asyncio.to_thread(self._thread.join, 2.0)
        if self.end_reason is None:
            self.end_reason = "stopped"

    async def __aenter__(self) -> Speaker:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def _run(self, sc: Any, speaker_id: str, report: Callable[[BaseException | None], None]) -> None:
        chunk_ms = self.buffer.chunk_ms
        # The device holds a few chunks: one 20 ms chunk alone underruns whenever this thread waits for the
        # GIL (VAD inference runs in the same process); a few cost that much latency on a flush.
        block = self.device_rate * max(chunk_ms, self.device_buffer_ms) // 1000
        try:
            player = sc.get_speaker(speaker_id).player(samplerate=self.device_rate, blocksize=block)
            player.__enter__()
        except Exception as exc:
            report(AudioDeviceError(f"cannot open audio output '{self.name}' ({speaker_id}): {exc}"))
            return
        report(None)
        resampler = Resampler(self.rate, self.device_rate, 1)
        silence = bytes(self.buffer.chunk_bytes)
        try:
            while not self._stop.is_set():
                if not server_ok():
                    self.end_reason = "server_lost"
                    self.end_detail = f"the sound server went away while playing on '{self.name}'"
                    return  # leave the stream alone: touching it now would abort inside libpulse
                with self._lock:
                    chunk = self.buffer.pull()
                level = SILENCE_DBFS if chunk is None else rms_dbfs(chunk)
                out = resampler.process(chunk if chunk is not None else silence)
                player.play(int16_to_float(out)[:, None] if out else np.zeros((0, 1), np.float32))
                now = time.monotonic()
                for listener in (self.on_played, *self.listeners):
                    if listener is not None:
                        listener(now, chunk_ms, level)
        except Exception as exc:
            self.end_reason = "device_error"
            self.end_detail = f"audio output '{self.name}' failed: {exc}"
        with contextlib.suppress(Exception):
            player.__exit__(None, None, None)
