"""The segmenter on generated speech with known pauses, with the real Silero VAD and smart-turn.

Everything is driven by explicit stream positions; no test depends on how fast anything runs.
"""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import pytest

from rholive.audio.segmenter import (
    Segmenter,
    SegmenterConfig,
    SendAudio,
    TurnClose,
    TurnOpen,
    seed_rule,
    silence_rule,
)
from rholive.audio.synthetic import RATE

from .speech import SPM, conversation, feed, speech_cache, turns_of

__all__ = ["speech_cache"]  # the fixture is used by name below

pytestmark = pytest.mark.usefixtures("speech_cache")

THREE_TURNS = (
    (("Can you send me the report before lunch?", 0),),
    (("When I got home,", 300), ("I called my sister.", 0)),
    (("Thanks a lot.", 0),),
)


def audio_of(turn: dict) -> tuple[float, np.ndarray]:
    chunks: list[SendAudio] = turn["chunks"]
    for a, b in pairwise(chunks):
        assert b.t_ms == pytest.approx(a.end_ms), "audio of a turn must be contiguous"
    pcm = np.frombuffer(b"".join(c.pcm for c in chunks), dtype="<i2")
    return chunks[0].t_ms, pcm


def test_silence_rule_opens_and_closes_at_the_known_places():
    conv = conversation(THREE_TURNS)
    turns = turns_of(feed(Segmenter(silence_rule(800), speaker="them"), conv.pcm))
    assert len(turns) == 3
    for got, truth in zip(turns, conv.turns, strict=True):
        opened: TurnOpen = got["open"]
        closed: TurnClose = got["close"]
        assert opened.speaker == "them" and closed.speaker == "them"
        # the onset is found within a few windows of the true start, and confirmed after it
        assert truth.start_ms - 64 <= opened.onset_ms <= truth.start_ms + 100
        assert opened.onset_ms < opened.t_ms <= truth.start_ms + 400
        # the 300 ms pause inside turn 2 does not close it; 800 ms of silence after the end does
        assert closed.reason == "silence"
        assert truth.end_ms + 800 <= closed.t_ms <= truth.end_ms + 800 + 150


def test_default_policy_closes_each_turn_once_after_its_end():
    conv = conversation(THREE_TURNS)
    seg = Segmenter(SegmenterConfig())
    turns = turns_of(feed(seg, conv.pcm))
    assert len(turns) == 3
    fallback = seg.config.policy.fallback_ms  # type: ignore[attr-defined]
    for got, truth in zip(turns, conv.turns, strict=True):
        closed: TurnClose = got["close"]
        assert closed.reason in ("end_of_turn", "silence")
        assert truth.end_ms <= closed.t_ms <= truth.end_ms + fallback + 150
    assert seg.model_calls + seg.transcriber_calls > 0  # smart-turn, or Whisper with the asr extra


def test_preroll_carries_300_ms_before_the_onset_and_the_exact_stream_audio():
    conv = conversation(THREE_TURNS)
    decisions = feed(Segmenter(silence_rule(800)), conv.pcm, frame_sizes=(160, 480, 1000))
    for got in turns_of(decisions):
        start, pcm = audio_of(got)
        assert start <= got["open"].onset_ms - 300
        i = round(start * SPM)
        assert np.array_equal(pcm, conv.pcm[i : i + len(pcm)]), "the turn must carry the stream's own samples"
        # all audio up to the close is sent before the close
        assert start + len(pcm) / SPM == pytest.approx(got["close"].t_ms, abs=1000 / RATE)


def test_first_chunk_is_preroll_then_chunks_of_about_100_ms():
    conv = conversation(THREE_TURNS)
    turns = turns_of(feed(Segmenter(silence_rule(800)), conv.pcm))
    chunks: list[SendAudio] = turns[0]["chunks"]
    first = chunks[0]
    assert first.t_ms <= turns[0]["open"].onset_ms - 300
    assert first.end_ms == pytest.approx(turns[0]["open"].t_ms)
    for c in chunks[1:-1]:
        assert 100 <= c.end_ms - c.t_ms < 100 + 32 + 1  # whole VAD windows, at least 100 ms


def test_frame_size_does_not_change_the_decisions():
    conv = conversation(THREE_TURNS[:2])
    a = feed(Segmenter(SegmenterConfig()), conv.pcm, frame_sizes=(320,))
    b = feed(Segmenter(SegmenterConfig()), conv.pcm, frame_sizes=(37, 1600, 512, 5))
    assert a == b


def click_and_cough(rng: np.random.Generator) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """Silence with a 5 ms click and a 150 ms cough-like burst (noise under a fast envelope)."""
    x = (rng.standard_normal(4 * RATE) * 20).astype(np.float64)
    x[RATE : RATE + 80] += rng.choice([-1, 1], 80) * 20000
    n = int(0.15 * RATE)
    env = np.exp(-np.linspace(0, 6, n)) * np.minimum(1, np.linspace(0, 15, n))
    x[2 * RATE : 2 * RATE + n] += rng.standard_normal(n) * 9000 * env
    return x.clip(-32768, 32767).astype(np.int16), [(RATE, RATE + 80), (2 * RATE, 2 * RATE + n)]


def test_a_click_or_a_cough_does_not_open_a_turn():
    pcm, _ = click_and_cough(np.random.default_rng(1))
    decisions = feed(Segmenter(SegmenterConfig()), pcm)
    assert not [d for d in decisions if isinstance(d, TurnOpen)]
    # while a short word does
    word = conversation(((("Yes.", 0),),), lead_ms=500)
    assert [d for d in feed(Segmenter(SegmenterConfig()), word.pcm) if isinstance(d, TurnOpen)]


def test_max_length_caps_a_turn_and_the_next_turn_does_not_repeat_its_audio():
    long = (
        ("I spent the whole morning on the phone with the insurance company about the broken window.", 0),
    )
    conv = conversation((long,))
    cfg = SegmenterConfig(max_turn_ms=1500)
    turns = turns_of(feed(Segmenter(cfg), conv.pcm))
    assert len(turns) >= 2
    first = turns[0]
    assert first["close"].reason == "max_length"
    assert first["close"].t_ms - first["open"].onset_ms == pytest.approx(1500, abs=32)
    for a, b in pairwise(turns):
        assert b["chunks"][0].t_ms >= a["close"].t_ms
        assert b["open"].t_ms > a["close"].t_ms


def test_stream_end_closes_an_open_turn_after_all_its_audio():
    conv = conversation(THREE_TURNS[:1])
    truth = conv.turns[0]
    cut = int((truth.start_ms + (truth.end_ms - truth.start_ms) / 2) * SPM) + 7  # mid-word, odd size
    seg = Segmenter(SegmenterConfig())
    raw = conv.pcm[:cut].astype("<i2").tobytes()
    out = seg.push(raw, 0.0)
    assert seg.is_open
    out += seg.finish()
    turns = turns_of(out)
    assert len(turns) == 1
    close = turns[0]["close"]
    assert close.reason == "stream_end"
    assert close.t_ms == pytest.approx(cut / SPM)
    start, pcm = audio_of(turns[0])
    assert start + len(pcm) / SPM == pytest.approx(cut / SPM)


def test_seed_rule_reproduces_the_seed():
    cfg = seed_rule()
    assert cfg.vad == "energy" and cfg.open_ms == 80 and cfg.max_turn_ms == 8000
    assert cfg.policy.close_ms == 600  # type: ignore[attr-defined]
    conv = conversation(THREE_TURNS)
    turns = turns_of(feed(Segmenter(cfg), conv.pcm))
    assert len(turns) == 3
    for got, truth in zip(turns, conv.turns, strict=True):
        assert got["close"].reason == "silence"
        # the energy test misses the softest last few ms (under -40 dBFS), hence the margin
        assert truth.end_ms + 600 - 40 <= got["close"].t_ms <= truth.end_ms + 600 + 60


def test_positions_follow_the_stream_gaps_are_silence_and_time_cannot_go_back():
    seg = Segmenter(silence_rule(500))
    seg.push(b"\0\0" * 320, 1000.0)
    seg.push(b"\0\0" * 320, 5000.0)  # a capture gap of ~4 s
    assert seg.finish() == []
    with pytest.raises(ValueError, match="backwards"):
        s2 = Segmenter(silence_rule(500))
        s2.push(b"\0\0" * 320, 1000.0)
        s2.push(b"\0\0" * 320, 500.0)
    with pytest.raises(ValueError, match="odd"):
        Segmenter(silence_rule(500)).push(b"\0\0\0", 0.0)


def test_onset_pending_from_the_first_speech_until_the_turn_opens():
    """What the copilot's planner hears as "someone is starting to talk" (it holds screen turns back)."""
    conv = conversation(THREE_TURNS[:1])
    seg = Segmenter(silence_rule(800))
    raw = conv.pcm.astype("<i2").tobytes()
    pending: list[float] = []
    opens: list[TurnOpen] = []
    for k in range(0, len(conv.pcm), 320):
        t_ms = k / SPM
        opens += [d for d in seg.push(raw[2 * k : 2 * (k + 320)], t_ms) if isinstance(d, TurnOpen)]
        if seg.onset_pending:
            assert not seg.is_open
            pending.append(t_ms)
    [opened] = opens
    truth = conv.turns[0]
    assert pending, "speech before the turn opened must show as a pending onset"
    assert all(truth.start_ms - 64 <= t < opened.t_ms for t in pending)  # never before speech, nor after


def test_a_click_is_a_pending_onset_that_never_opens_a_turn():
    click = np.zeros(RATE, dtype=np.int16)
    click[RATE // 2 : RATE // 2 + 160] = 20000  # 10 ms: far under the minimum speech length
    seg = Segmenter(seed_rule())  # the energy VAD hears the click as speech
    raw = click.tobytes()
    states = []
    for k in range(0, len(click), 160):
        assert not any(isinstance(d, TurnOpen) for d in seg.push(raw[2 * k : 2 * (k + 160)], k / SPM))
        states.append(seg.onset_pending)
    assert True in states and states[-1] is False  # heard, then forgotten once the run ended
