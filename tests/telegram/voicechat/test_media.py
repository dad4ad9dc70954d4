"""FramePacer and Mixer: pure parts of the group voice chat media path (no call library needed)."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from rholive.telegram.voicechat import FramePacer, Mixer

RATE = 48000
FRAME = RATE // 100 * 2


class FakeClock:
    """Every sleep wakes up late by a varying amount, like a loaded event loop."""

    def __init__(self, lateness: list[float] | None = None) -> None:
        self.t = 1000.0
        self.lateness = lateness or [0.0]
        self.deadlines: list[float] = []

    def now(self) -> float:
        return self.t

    async def sleep_until(self, deadline: float) -> None:
        self.deadlines.append(deadline)
        late = self.lateness[len(self.deadlines) % len(self.lateness)]
        self.t = max(self.t, deadline) + late
        await asyncio.sleep(0)


class Collector:
    def __init__(self, clock: FakeClock, stop_after: int | None = None) -> None:
        self.frames: list[bytes] = []
        self.times: list[float] = []
        self.clock = clock
        self.stop_after = stop_after
        self.done = asyncio.Event()

    async def __call__(self, frame: bytes) -> None:
        self.frames.append(frame)
        self.times.append(self.clock.now())
        if self.stop_after is not None and len(self.frames) >= self.stop_after:
            self.done.set()


def pcm_ramp(n_frames: int) -> bytes:
    return (np.arange(n_frames * FRAME // 2) % 30000).astype("<i2").tobytes()


async def test_no_drift_over_10000_frames_with_late_wakeups() -> None:
    clock = FakeClock(lateness=[0.0, 0.004, 0.0, 0.009, 0.001])
    sink = Collector(clock, stop_after=10_000)
    pacer = FramePacer(RATE, sink, prebuffer_ms=60, clock=clock)
    audio = pcm_ramp(10_000)
    pacer.push(audio)
    task = asyncio.create_task(pacer.run())
    await asyncio.wait_for(sink.done.wait(), 30)
    pacer.close()
    await task
    t0 = pacer.anchors[0]
    assert len(pacer.anchors) == 1
    # frame n is due at exactly t0 + n*10 ms: late wake-ups never accumulate
    assert clock.deadlines[:10_000] == [t0 + n * 0.01 for n in range(10_000)]
    assert sink.times[-1] - t0 == pytest.approx(99.99 + 0.009, abs=0.0101)
    assert all(len(f) == FRAME for f in sink.frames)
    assert b"".join(sink.frames) == audio


async def test_prebuffer_holds_playback_until_filled_or_ended() -> None:
    clock = FakeClock()
    sink = Collector(clock, stop_after=3)
    pacer = FramePacer(RATE, sink, prebuffer_ms=50, clock=clock)
    task = asyncio.create_task(pacer.run())
    pacer.push(pcm_ramp(2))
    for _ in range(20):
        await asyncio.sleep(0)
    assert sink.frames == []  # 20 ms queued < 50 ms prebuffer
    pacer.push(b"\x01\x00" * 100)  # a partial frame, then the reply ends
    pacer.end()
    await asyncio.wait_for(sink.done.wait(), 5)
    pacer.close()
    await task
    assert len(sink.frames) == 3
    assert sink.frames[2] == b"\x01\x00" * 100 + bytes(FRAME - 200)  # padded with silence


async def test_flush_drops_queue_and_next_reply_reanchors() -> None:
    clock = FakeClock()
    sink = Collector(clock)
    gate, release = asyncio.Event(), asyncio.Event()

    async def slow_sink(frame: bytes) -> None:
        await sink(frame)
        if len(sink.frames) == 5:  # hold the 5th frame in the sink while the barge-in arrives
            gate.set()
            await release.wait()

    pacer = FramePacer(RATE, slow_sink, prebuffer_ms=30, clock=clock)
    task = asyncio.create_task(pacer.run())
    pacer.push(pcm_ramp(100))
    await asyncio.wait_for(gate.wait(), 5)
    dropped = pacer.flush()
    release.set()
    assert dropped == 95 * FRAME and pacer.queued_bytes == 0
    sent_before = len(sink.frames)
    assert sent_before == 5
    second = b"\x07\x00" * (FRAME // 2) * 4
    sink.stop_after = sent_before + 4
    clock.t += 5.0  # the new reply arrives later: it must not be sent as a catch-up burst
    pacer.push(second)
    await asyncio.wait_for(sink.done.wait(), 5)
    pacer.close()
    await task
    assert b"".join(sink.frames[sent_before:]) == second
    assert len(pacer.anchors) == 2 and pacer.anchors[1] >= pacer.anchors[0] + 5.0
    assert pacer.bytes_flushed == dropped


def test_pacer_rejects_odd_bytes_and_bad_rate() -> None:
    async def sink(frame: bytes) -> None: ...

    with pytest.raises(ValueError):
        FramePacer(44101, sink)
    with pytest.raises(ValueError, match="16-bit"):
        FramePacer(RATE, sink).push(b"\x00")


def tone(rate: int, ms: int, value: int, channels: int = 1) -> bytes:
    return np.full(rate * ms // 1000 * channels, value, dtype="<i2").tobytes()


def test_mixer_sums_speakers_to_16k_mono_and_clips() -> None:
    mixer = Mixer(48000, channels=2)
    out = b""
    for _ in range(50):
        out += mixer.mix([(11, tone(48000, 10, 1000, 2)), (22, tone(48000, 10, 2000, 2))])
    samples = np.frombuffer(out, dtype="<i2")
    assert abs(len(samples) - 16000 * 50 // 100) <= 320  # 0.5 s at 16 kHz, minus filter latency
    steady = samples[len(samples) // 2 :]
    assert np.all(np.abs(steady - 3000) <= 3)
    loud = Mixer(16000)
    clipped = np.frombuffer(loud.mix([(1, tone(16000, 10, 30000)), (2, tone(16000, 10, 30000))]), "<i2")
    assert clipped.max() == 32767 and len(clipped) == 160


def test_mixer_drops_a_speaker_that_left() -> None:
    mixer = Mixer(16000)
    mixer.mix([(1, tone(16000, 10, 100)), (2, tone(16000, 10, 200))])
    assert sorted(mixer.speakers) == [1, 2]
    out = np.frombuffer(mixer.mix([(1, tone(16000, 10, 100))]), "<i2")
    assert mixer.speakers == [1]
    assert len(out) == 160 and np.all(out == 100)
