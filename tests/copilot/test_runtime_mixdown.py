"""Mixdown (`--turns server` with both sources): pure, driven with explicit stream positions."""

from __future__ import annotations

import asyncio
import io
import json
import wave
from importlib.resources import as_file, files
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rholive.audio.files import FileSource
from rholive.config import Settings
from rholive.copilot.mixdown import SPM, Mixdown
from rholive.copilot.voice import Source, VoiceRun
from rholive.emulator import Emulator, EmulatorOptions
from rholive.live import Endpoint


def pcm(values: list[int]) -> bytes:
    return np.array(values, "<i2").tobytes()


def samples(chunks: list[tuple[float, bytes]]) -> np.ndarray:
    return np.concatenate([np.frombuffer(c, "<i2") for _, c in chunks]) if chunks else np.zeros(0, "<i2")


def contiguous(chunks: list[tuple[float, bytes]]) -> bool:
    ends = [t + len(c) / 2 / SPM for t, c in chunks]
    return all(abs(chunks[i + 1][0] - ends[i]) < 1e-9 for i in range(len(chunks) - 1))


def test_one_source_passes_through_unchanged() -> None:
    mix = Mixdown(["me"])
    out = mix.push("me", 0, pcm([1, 2, 3] * 16)) + mix.push("me", 3, pcm([4] * 32))
    assert samples(out).tolist() == [1, 2, 3] * 16 + [4] * 32 and contiguous(out)


def test_waits_for_the_slower_source_then_sums_and_clips() -> None:
    mix = Mixdown(["me", "them"])
    assert mix.push("me", 0, pcm([30000] * 32)) == []  # `them` has not delivered yet
    out = mix.push("them", 0, pcm([10000] * 16))
    assert out == [(0.0, pcm([32767] * 16))]  # summed, clipped
    out = mix.remove("them")  # `them` is gone: the rest of `me` goes out
    assert out == [(1.0, pcm([30000] * 16))]


def test_a_stalled_source_does_not_hold_the_mix_back_forever() -> None:
    mix = Mixdown(["me", "them"], max_lag_ms=100)
    out = mix.push("me", 0, pcm([5] * 16 * 300))  # 300 ms, `them` silent (no frames at all)
    assert len(samples(out)) == 16 * 200  # all but the last 100 ms
    late = mix.push("them", 0, pcm([1] * 16 * 50))  # arrives too late: dropped and counted
    assert mix.dropped_samples["them"] == 16 * 50 and late == []


def test_unknown_source_and_odd_bytes() -> None:
    mix = Mixdown(["me"])
    with pytest.raises(ValueError, match="unknown"):
        mix.push("them", 0, pcm([1]))
    with pytest.raises(ValueError, match="odd"):
        mix.push("me", 0, b"\x00")
    with pytest.raises(ValueError, match="nothing to mix"):
        Mixdown([])


@st.composite
def streams(draw: st.DrawFn) -> tuple[list[tuple[str, float, bytes]], dict[str, np.ndarray]]:
    """Two contiguous sources in 10 ms frames (each from its own start), pushed in an interleaved order."""
    full: dict[str, np.ndarray] = {}
    frames: dict[str, list[tuple[str, float, bytes]]] = {}
    for label in ("me", "them"):
        start = draw(st.integers(0, 5)) * 10
        n = draw(st.integers(1, 12))
        values = np.array(draw(st.lists(st.integers(-20000, 20000), min_size=n, max_size=n)), np.int32)
        data = np.repeat(values, 160)
        full[label] = np.concatenate([np.zeros(start * SPM, np.int32), data])
        frames[label] = [(label, start + 10 * i, pcm(list(np.repeat(v, 160)))) for i, v in enumerate(values)]
    order = draw(st.permutations([0] * len(frames["me"]) + [1] * len(frames["them"])))
    queues = {"me": list(frames["me"]), "them": list(frames["them"])}
    pushed = [queues["me" if k == 0 else "them"].pop(0) for k in order]
    return pushed, full


@settings(max_examples=200, deadline=None)
@given(streams())
def test_everything_is_mixed_once_in_order(
    case: tuple[list[tuple[str, float, bytes]], dict[str, np.ndarray]],
) -> None:
    pushed, full = case
    mix = Mixdown(["me", "them"], max_lag_ms=10_000)  # no lag limit in play: nothing may be dropped
    out: list[tuple[float, bytes]] = []
    for label, t, data in pushed:
        out += mix.push(label, t, data)
    out += mix.remove("me") + mix.remove("them")
    assert contiguous(out)
    first = min(t for label, t, _ in pushed if t == min(tt for _, tt, _ in pushed))
    expected_len = max(len(v) for v in full.values())
    expected = np.zeros(expected_len, np.int32)
    for v in full.values():
        expected[: len(v)] += v
    got = samples(out).astype(np.int32)
    start = round(first * SPM)
    assert out[0][0] == first
    assert got.tolist() == np.clip(expected[start:], -32768, 32767).tolist()
    assert mix.dropped_samples == {"me": 0, "them": 0}


async def test_server_turns_mix_both_sources_into_one_stream(tmp_path: Path) -> None:
    """`--turns server` with `me` and `them`: one audio stream to the emulator's VAD, the file's length."""
    quiet = tmp_path / "quiet.wav"
    with wave.open(str(quiet), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(bytes(2 * 16000 * 4))  # 4 s of silence on the microphone
    out = io.StringIO()
    with as_file(files("rholive") / "data" / "demo.ogg") as sample:
        # the speech is on `them`, the second source: streaming only the first one would hear nothing
        me, them = FileSource(quiet, speed=8.0), FileSource(sample, speed=8.0)
        runner = VoiceRun(
            Settings(),
            [Source("me", me), Source("them", them)],
            out=out,
            err=io.StringIO(),
            json_mode=True,
            turns="server",
        )
        async with me, them, Emulator(EmulatorOptions()) as emu:
            assert await asyncio.wait_for(runner.run(Endpoint(base_url=emu.url)), 60) == 0
            [conversation] = emu.conversations
            heard = sum(t.audio_seconds for t in conversation.turns)
    events = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [e["event"] for e in events].count("stream_end") >= 1
    assert len(conversation.turns) >= 1 and heard > 3.0  # the speech of `them` reached the server's VAD
    assert any(e["event"] == "turn_complete" for e in events)
