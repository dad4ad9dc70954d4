"""The server VAD on the audio timeline: boundaries do not depend on how the audio is chunked."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rholive.emulator.vad import End, EnergyVad, Onset, Segment

from .helpers import silence, tone


def run(vad: EnergyVad, pcm: bytes, sizes: list[int], rate: int = 16000) -> list:
    events, i, k = [], 0, 0
    while i < len(pcm):
        step = sizes[k % len(sizes)] * 2
        events += vad.feed(pcm[i : i + step], rate)
        i, k = i + step, k + 1
    return events


def summary(events: list) -> tuple[list[str], float, float]:
    kinds = [type(e).__name__ for e in events if not isinstance(e, Segment)]
    in_turn = sum(e.seconds for e in events if isinstance(e, Segment) and e.in_turn)
    outside = sum(e.seconds for e in events if isinstance(e, Segment) and not e.in_turn)
    return kinds, round(in_turn, 6), round(outside, 6)


def test_tone_then_silence_is_one_turn() -> None:
    events = run(EnergyVad(silence_ms=500), silence(0.2) + tone(1.0) + silence(1.0), [1600])
    assert summary(events) == (["Onset", "End"], 1.5, 0.7)


def test_short_pause_does_not_end_the_turn() -> None:
    pcm = tone(0.4) + silence(0.3) + tone(0.4) + silence(0.6)
    assert summary(run(EnergyVad(silence_ms=500), pcm, [1600]))[0] == ["Onset", "End"]


def test_prefix_padding_ignores_a_click() -> None:
    pcm = silence(0.2) + tone(0.04) + silence(0.5)  # 40 ms of sound, 100 ms required
    assert summary(run(EnergyVad(prefix_ms=100), pcm, [320])) == ([], 0.0, 0.74)


def test_rate_is_respected() -> None:
    events = run(EnergyVad(silence_ms=200), tone(0.5, 24000) + silence(0.5, 24000), [2400], rate=24000)
    assert summary(events) == (["Onset", "End"], 0.7, 0.3)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=5000), min_size=1, max_size=6))
def test_chunking_does_not_move_the_boundaries(sizes: list[int]) -> None:
    pcm = silence(0.3) + tone(0.6) + silence(0.9) + tone(0.3) + silence(0.2)
    events = run(EnergyVad(silence_ms=800), pcm, sizes)
    flushed = EnergyVad(silence_ms=800)
    reference = run(flushed, pcm, [320])
    kinds, in_turn, _ = summary(events)
    assert (kinds, in_turn) == summary(reference)[:2] == (["Onset", "End", "Onset"], pytest.approx(1.9))


def test_onset_and_end_are_events() -> None:
    vad = EnergyVad(silence_ms=100)
    assert Onset() in vad.feed(tone(0.1), 16000)
    assert End() in vad.feed(silence(0.2), 16000)
    assert not vad.speaking
