"""The copilot's eyes: sample the screen a few times a second, gate, encode, hand passed frames on.

Capture, the frame gate and the JPEG encode all run in ONE worker thread (a 1080p grab plus gate plus encode
takes tens of milliseconds; mss handles belong to the thread that made them), so the event loop never waits
on them. Sampling is at `sample_hz` (2 Hz by default) on absolute deadlines; the gate itself limits what
passes to `max_fps` (1 by default). Only frames that pass are resized (long edge <= `max_edge`) and encoded.
`force_next()` makes the next sample pass whatever changed (the "ask now" hotkey).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from rholive.screen import (
    DEFAULT_MAX_EDGE,
    DEFAULT_QUALITY,
    FrameGate,
    GateConfig,
    Region,
    ScreenCapture,
    SendFrame,
    SkipFrame,
    frame_to_jpeg,
    media_resolution_for,
)

DEFAULT_SAMPLE_HZ = 2.0


class Grabber(Protocol):
    """A ScreenCapture, or anything that returns BGRA frames (the demo's bundled screenshots)."""

    def grab(self) -> np.ndarray: ...
    def close(self) -> None: ...


@dataclass(frozen=True)
class ScreenConfig:
    monitor: int = 1
    region: Region | None = None
    sample_hz: float = DEFAULT_SAMPLE_HZ
    max_fps: float = 1.0
    max_edge: int = DEFAULT_MAX_EDGE
    quality: int = DEFAULT_QUALITY

    def __post_init__(self) -> None:
        if not self.sample_hz > 0:
            raise ValueError(f"the screen sampling rate must be > 0 Hz, got {self.sample_hz}")
        if not self.max_fps > 0:
            raise ValueError(f"--max-fps must be > 0, got {self.max_fps}")
        if self.max_edge < 16:
            raise ValueError(f"--max-edge must be at least 16 px, got {self.max_edge}")

    @property
    def media_resolution(self) -> str:
        return media_resolution_for(self.max_edge)


@dataclass(frozen=True)
class ScreenFrame:
    """A frame the gate passed, encoded and ready for `realtimeInput.video`."""

    id: int
    t: float  # seconds, the clock the runtime gave
    jpeg: bytes
    changed_fraction: float
    forced: bool = False


FrameHandler = Callable[[ScreenFrame], Awaitable[None]]
SkipHandler = Callable[[str], None]


class ScreenSource:
    def __init__(self, config: ScreenConfig, open_grabber: Callable[[], Grabber] | None = None) -> None:
        self.config = config
        self.gate = FrameGate(GateConfig(max_fps=config.max_fps))
        self._open_grabber = open_grabber or (
            lambda: ScreenCapture(monitor=config.monitor, region=config.region)
        )
        self._grabber: Grabber | None = None
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="screen")
        self._force = False
        self._next_id = 1
        self.failures: Counter[str] = Counter()  # capture errors by message (the loop goes on)

    @property
    def stats(self) -> tuple[int, dict[str, int]]:
        """Frames the gate passed, and frames it skipped by reason."""
        return self.gate.stats.sent, dict(self.gate.stats.skipped)

    async def open(self) -> ScreenSource:
        """Opens the capture in the worker thread; a missing display raises ScreenCaptureError here."""
        loop = asyncio.get_running_loop()
        self._grabber = await loop.run_in_executor(self._thread, self._open_grabber)
        return self

    def force_next(self) -> None:
        self._force = True

    async def sample(self, t: float) -> ScreenFrame | SkipFrame:
        """One capture → gate (→ resize + encode when it passes), off the event loop."""
        forced, self._force = self._force, False
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._thread, self._sample, t, forced)

    def _sample(self, t: float, forced: bool) -> ScreenFrame | SkipFrame:
        if self._grabber is None:
            raise RuntimeError("ScreenSource.open() was not called")
        frame = self._grabber.grab()
        decision: SendFrame | SkipFrame = self.gate.force(frame, t) if forced else self.gate.decide(frame, t)
        if isinstance(decision, SkipFrame):
            return decision
        jpeg = frame_to_jpeg(frame, self.config.max_edge, self.config.quality)
        frame_id, self._next_id = self._next_id, self._next_id + 1
        return ScreenFrame(frame_id, t, jpeg, decision.changed_fraction, forced)

    async def run(
        self,
        on_frame: FrameHandler,
        on_skip: SkipHandler,
        *,
        clock: Callable[[], float],
        paused: Callable[[], bool] = lambda: False,
        on_error: Callable[[str], None] | None = None,
    ) -> None:
        """Sample until cancelled. A failing capture is counted (skip reason `capture_error`) and reported
        through `on_error` once per kind of failure; the loop goes on."""
        period = 1.0 / self.config.sample_hz
        next_t = clock()
        while True:
            now = clock()
            if not paused():
                try:
                    result = await self.sample(now)
                except Exception as exc:  # e.g. the X server went away for a moment
                    message = f"{type(exc).__name__}: {exc}"
                    self.failures[message] += 1
                    if self.failures[message] == 1 and on_error is not None:
                        on_error(message)
                    on_skip("capture_error")
                else:
                    if isinstance(result, ScreenFrame):
                        await on_frame(result)
                    else:
                        on_skip(result.reason)
            next_t += period
            delay = next_t - clock()
            if delay < 0:  # we fell behind (slow capture): skip the missed slots rather than burst
                next_t = clock()
                delay = 0.0
            await asyncio.sleep(delay)

    async def aclose(self) -> None:
        grabber, self._grabber = self._grabber, None
        if grabber is not None:
            loop = asyncio.get_running_loop()
            with contextlib.suppress(Exception):
                await loop.run_in_executor(self._thread, grabber.close)
        self._thread.shutdown(wait=False)
