"""The copilot's eyes: sample the screen a few times a second, gate, encode, hand passed frames on.

Capture, shrink, the frame gate and the JPEG encode all run in ONE worker thread (a few milliseconds per 1080p
sample; mss handles belong to the thread that made them), so the event loop never waits on them. Sampling is at `sample_hz` (2 Hz by default) on absolute deadlines; the gate itself limits what
passes to `max_fps` (1 by default). Every sample is shrunk (long edge <= `max_edge`) and gated at that size;
only frames that pass are encoded.
`force_next()` makes the next sample pass whatever changed (the "ask now" hotkey).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Protocol

import numpy as np

from rholive.screen import (
    DEFAULT_MAX_EDGE,
    DEFAULT_QUALITY,
    DamageWatch,
    FrameGate,
    GateConfig,
    Region,
    ScreenCapture,
    SendFrame,
    SkipFrame,
    block_for_shrunk,
    encode_jpeg,
    media_resolution_for,
    resize_long_edge,
    shrink_factor,
)

DEFAULT_SAMPLE_HZ = 2.0
# With damage events, an undrawn screen is not captured; it is still captured this often, in case something
# changes the screen without telling (a bound on what a missed event can cost, not a known case).
FULL_CHECK_S = 5.0


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
    def __init__(
        self,
        config: ScreenConfig,
        open_grabber: Callable[[], Grabber] | None = None,
        open_watch: Callable[[], DamageWatch | None] | None = None,
    ) -> None:
        """`open_watch` gives a DamageWatch (or None) for the grabber's screen; by default one is opened with the
        default grabber (the X screen), none with a grabber given here."""
        self.config = config
        self.gate = FrameGate(GateConfig(max_fps=config.max_fps))
        self._open_grabber = open_grabber or (
            lambda: ScreenCapture(monitor=config.monitor, region=config.region)
        )
        if open_watch is None and open_grabber is None:
            open_watch = DamageWatch.open
        self._open_watch = open_watch
        self._grabber: Grabber | None = None
        self._watch: DamageWatch | None = None
        self._last_grab: float | None = None
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="screen")
        self._force = False
        self._next_id = 1
        self.captures = 0  # samples that grabbed the screen (the others were known unchanged)
        self.failures: Counter[str] = Counter()  # capture errors by message (the loop goes on)

    @property
    def stats(self) -> tuple[int, dict[str, int]]:
        """Frames the gate passed, and frames it skipped by reason."""
        return self.gate.stats.sent, dict(self.gate.stats.skipped)

    async def open(self) -> ScreenSource:
        """Opens the capture in the worker thread; a missing display raises ScreenCaptureError here."""
        loop = asyncio.get_running_loop()
        self._grabber = await loop.run_in_executor(self._thread, self._open_grabber)
        if self._open_watch is not None:
            self._watch = await loop.run_in_executor(self._thread, self._open_watch)
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
        drawn = self._watch is None or self._watch.drawn()  # asked before the grab: see DamageWatch.drawn
        recent = self._last_grab is not None and t - self._last_grab < FULL_CHECK_S
        if not drawn and not forced and recent:
            same = self.gate.same_frame(t)
            if same is not None:
                return same
        frame = self._grabber.grab()
        self._last_grab = t
        self.captures += 1
        # Shrink first: the gate looks at the frame the model would get (blocks scaled to the same screen
        # pixels), so one pass over the full-size screen serves both the gate and the encoder.
        small = resize_long_edge(frame, self.config.max_edge)
        gate = self._gate_for(shrink_factor(frame.shape[1], frame.shape[0], self.config.max_edge))
        decision: SendFrame | SkipFrame = gate.force(small, t) if forced else gate.decide(small, t)
        if isinstance(decision, SkipFrame):
            return decision
        jpeg = encode_jpeg(small, self.config.quality)
        frame_id, self._next_id = self._next_id, self._next_id + 1
        return ScreenFrame(frame_id, t, jpeg, decision.changed_fraction, forced)

    def _gate_for(self, k: int) -> FrameGate:
        block = block_for_shrunk(k)
        if self.gate.config.block != block:  # the first frame, or the screen's size changed
            self.gate = FrameGate(replace(self.gate.config, block=block), self.gate.stats)
        return self.gate

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
        watch, self._watch = self._watch, None
        loop = asyncio.get_running_loop()
        for closing in (grabber, watch):
            if closing is not None:
                with contextlib.suppress(Exception):
                    await loop.run_in_executor(self._thread, closing.close)
        self._thread.shutdown(wait=False)
