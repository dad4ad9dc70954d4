"""Digital silence while idle is not scored by the VAD, and that changes no decision.

The monitor of an idle sound card delivers exact zeros; running Silero on them is most of the
segmenter's CPU at rest. Windows below `quiet_floor_dbfs` count as silence without a VAD call once
a few have been scored, and `after_silence()` puts Silero's recurrent state where scoring them
would have left it.
"""

from __future__ import annotations

import numpy as np
import pytest

from rholive.audio.endpointing import SilencePolicy
from rholive.audio.segmenter import QUIET_SCORED, Segmenter, SegmenterConfig, TurnOpen
from rholive.audio.vad import SileroVad

from .speech import conversation, feed, speech_cache, turns_of

__all__ = ["speech_cache"]


class CountingVad:
    """Loudness as probability, on Silero's window size; counts calls and silence hand-overs."""

    window = 512

    def __init__(self) -> None:
        self.calls = 0
        self.settled = 0

    def reset(self) -> None:
        pass

    def after_silence(self) -> None:
        self.settled += 1

    def __call__(self, samples: np.ndarray) -> float:
        self.calls += 1
        return 0.9 if float(np.abs(samples.astype(np.int32)).mean()) > 500 else 0.05


def tone(ms: int, amp: float = 8000.0) -> np.ndarray:
    t = np.arange(ms * 16) / 16000
    return (amp * np.sin(2 * np.pi * 220 * t)).astype(np.int16)


def gate(floor: float | None = -60.0, margin_db: float | None = None) -> tuple[Segmenter, CountingVad]:
    vad = CountingVad()
    cfg = SegmenterConfig(policy=SilencePolicy(500), quiet_floor_dbfs=floor, background_margin_db=margin_db)
    return Segmenter(cfg, vad=vad), vad


def test_digital_silence_makes_no_vad_calls_after_the_first_few_windows():
    seg, vad = gate()
    feed(seg, np.zeros(10 * 16000, dtype=np.int16))
    windows = 10 * 16000 // 512
    assert vad.calls == QUIET_SCORED == seg.vad_calls
    assert seg.vad_skipped == windows - QUIET_SCORED


def test_without_a_floor_or_above_it_every_window_is_scored():
    seg, vad = gate(None)
    feed(seg, np.zeros(5 * 16000, dtype=np.int16))
    assert vad.calls == 5 * 16000 // 512 and seg.vad_skipped == 0
    seg, vad = gate(-60.0)
    hiss = (np.random.default_rng(1).standard_normal(5 * 16000) * 60).astype(np.int16)  # ~-55 dBFS
    feed(seg, hiss)
    assert vad.calls == 5 * 16000 // 512 and seg.vad_skipped == 0


def test_pauses_inside_a_turn_are_scored_and_speech_after_silence_hands_over_state():
    seg, vad = gate()
    pcm = np.concatenate([np.zeros(3 * 16000, np.int16), tone(1000), np.zeros(400 * 16, np.int16), tone(500)])
    pcm = np.concatenate([pcm, np.zeros(2 * 16000, np.int16)])
    decisions = feed(seg, pcm)
    assert [type(d).__name__ for d in decisions if not type(d).__name__ == "SendAudio"] == [
        "TurnOpen",
        "TurnClose",
    ]
    assert vad.settled == 1  # once, when the tone began after the skipped lead-in
    # skipped: the lead-in beyond the first scored windows, and the silence after the 500 ms close
    n = len(pcm) // 512
    assert seg.vad_skipped + seg.vad_calls == n
    assert seg.vad_skipped < (3 * 16000 + 2 * 16000) // 512


TURNS = (
    (("Can you send me the report before lunch?", 0),),
    (("When I got home,", 300), ("I called my sister.", 0)),
    (("So I was thinking that", 400), ("maybe we should take a break.", 0)),
    (("Thanks a lot.", 0),),
)


@pytest.mark.usefixtures("speech_cache")
def test_silero_scores_the_speech_after_a_skipped_stretch_as_if_it_had_heard_it():
    conv = conversation(TURNS, gaps_ms=1800)
    w = SileroVad.window
    wins = [conv.pcm[k : k + w] for k in range(0, len(conv.pcm) - w + 1, w)]
    heard = SileroVad()
    full = np.array([heard(x) for x in wins])
    skipping = SileroVad()
    got, run, diffs = [], 0, []
    for x in wins:
        if not np.any(x):
            run += 1
            if run > QUIET_SCORED:
                got.append(0.0)
                continue
        elif run > QUIET_SCORED:
            skipping.after_silence()
            diffs.append(len(got))
            run = 0
        else:
            run = 0
        got.append(skipping(x))
    got = np.array(got)
    assert len(diffs) >= len(TURNS)  # every turn began after a skipped stretch
    for i in diffs:
        first = slice(i, i + 10)  # the first 320 ms of speech after the silence
        assert np.abs(full[first] - got[first]).max() < 0.1, (full[first].round(2), got[first].round(2))


@pytest.mark.usefixtures("speech_cache")
def test_onsets_and_preroll_are_unchanged_on_speech_with_digital_silence_gaps():
    conv = conversation(TURNS, gaps_ms=2500)  # idle silence after closes that may come 1.1 s late
    runs = []
    for floor in (None, -60.0):
        seg = Segmenter(SegmenterConfig(quiet_floor_dbfs=floor))
        runs.append((turns_of(feed(seg, conv.pcm)), seg))
    (plain, plain_seg), (quiet, quiet_seg) = runs
    # every window went to the VAD or was skipped; a third of this audio is idle digital silence
    assert quiet_seg.vad_calls + quiet_seg.vad_skipped == plain_seg.vad_calls
    assert quiet_seg.vad_skipped > 0.3 * plain_seg.vad_calls and plain_seg.vad_skipped == 0
    assert len(plain) == len(quiet) == len(TURNS)
    for a, b in zip(plain, quiet, strict=True):
        oa: TurnOpen = a["open"]
        ob: TurnOpen = b["open"]
        assert (oa.onset_ms, oa.t_ms) == (ob.onset_ms, ob.t_ms)
        assert a["chunks"][0] == b["chunks"][0]  # the pre-roll: same start, same samples
        assert (a["close"].t_ms, a["close"].reason) == (b["close"].t_ms, b["close"].reason)


def room_noise(seconds: float, dbfs: float, seed: int = 3) -> np.ndarray:
    """Steady broadband noise at about `dbfs` RMS."""
    rms = 32768.0 * 10 ** (dbfs / 20)
    return (np.random.default_rng(seed).standard_normal(int(seconds * 16000)) * rms).astype(np.int16)


def test_steady_room_noise_above_the_floor_is_not_scored_once_learned():
    seg, _ = gate(margin_db=6.0)
    feed(seg, room_noise(10, -50.0))  # 10 dB over the fixed floor: every window was scored before
    windows = 10 * 16000 // 512
    assert seg.vad_skipped + seg.vad_calls == windows
    assert seg.vad_calls < 0.1 * windows


def test_speech_over_room_noise_still_opens_and_closes_a_turn_at_the_same_time():
    noise = room_noise(6, -50.0)
    speech = np.concatenate(
        [np.zeros(3 * 16000, np.int16), tone(1000, 2000.0), np.zeros(2 * 16000, np.int16)]
    )
    pcm = (noise.astype(np.int32) + speech).clip(-32768, 32767).astype(np.int16)
    runs = []
    for margin in (None, 6.0):
        seg, _ = gate(margin_db=margin)
        runs.append(([d for d in feed(seg, pcm) if type(d).__name__ != "SendAudio"], seg))
    (plain, plain_seg), (learned, learned_seg) = runs
    assert [type(d).__name__ for d in learned] == ["TurnOpen", "TurnClose"]
    assert [(type(d).__name__, d.t_ms) for d in learned] == [(type(d).__name__, d.t_ms) for d in plain]
    assert learned_seg.vad_calls < 0.5 * plain_seg.vad_calls


def test_a_louder_room_is_learned_again_and_speech_over_it_is_heard():
    seg, vad = gate(margin_db=6.0)
    loud = (room_noise(1, -40.0, seed=5).astype(np.int32) + tone(1000, 4000.0)).astype(np.int16)
    # the fan comes on after 4 s: 15 dB louder, learned at ~1.5 dB/s; then someone speaks over it
    pcm = np.concatenate(
        [room_noise(4, -55.0, seed=1), room_noise(25, -40.0, seed=2), loud, room_noise(2, -40.0, seed=6)]
    )
    opens = [d for d in feed(seg, pcm) if isinstance(d, TurnOpen)]
    assert len(opens) == 1 and opens[0].t_ms >= 29000
    assert vad.calls < 0.5 * (len(pcm) // 512)
