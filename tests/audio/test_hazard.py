"""HazardPolicy is a pure function of a `Pause`: the close time follows from the evidence. And the
segmenter never closes while the signal may still be speech, in noise too."""

from __future__ import annotations

import numpy as np
import pytest

from rholive.audio.endpointing import HazardPolicy, Pause, SilencePolicy, Verdict
from rholive.audio.segmenter import Segmenter, SegmenterConfig, TurnClose
from rholive.audio.synthetic import Clause, Voice, add_noise, render

from .speech import feed, speech_cache

__all__ = ["speech_cache"]


def close_at(
    pol: HazardPolicy, words: str | None, level: float = -2.0, turn_ms: float = 2500
) -> float | None:
    """Walk a pause window by window (32 ms), answering LISTEN and CUES; when does it close?"""
    p = Pause(0.0, turn_ms, turn_ms * 0.8)
    asked: list[Verdict] = []
    t = 32.0
    while t <= 3000:
        p.pause_ms = t
        for _ in range(4):
            v = pol.decide(p)
            if v is Verdict.LISTEN:
                p.words, p.words_whole, p.words_done = words, True, True
            elif v is Verdict.CUES:
                p.end_level, p.cues_done = level, True
            else:
                break
            asked.append(v)
        if v in (Verdict.END_OF_TURN, Verdict.SILENCE):
            assert asked == [Verdict.LISTEN, Verdict.CUES], "words first, then the pitch, once each"
            return t
        t += 32.0
    return None


def test_a_finished_sentence_closes_before_one_that_goes_on_and_both_within_max_ms() -> None:
    pol = HazardPolicy()
    done = close_at(pol, "Can you send me the report before lunch?")
    going = close_at(pol, "I wanted to ask you about the")
    assert done is not None and going is not None
    assert pol.min_ms <= done < going <= pol.max_ms + 32


def test_nothing_is_decided_before_the_words_are_in_or_before_min_ms() -> None:
    pol = HazardPolicy(min_ms=400.0, bias=10.0)  # an eager bias: only min_ms holds it
    p = Pause(pol.listen_ms - 1, 2000, 1500)
    assert pol.decide(p) is Verdict.WAIT
    p.pause_ms = pol.listen_ms
    assert pol.decide(p) is Verdict.LISTEN
    assert close_at(pol, "Yes.") == pytest.approx(416.0)


def test_the_score_rises_with_the_pause_and_more_evidence_closes_earlier() -> None:
    pol = HazardPolicy()
    p = Pause(200.0, 2000, 1500, words="Thanks a lot.", words_done=True, words_whole=True, cues_done=True)
    s200 = pol.score(p)
    p.pause_ms = 400.0
    assert pol.score(p) > s200
    low, high = close_at(pol, "Thanks a lot.", level=-4.0), close_at(pol, "Thanks a lot.", level=3.0)
    assert low is not None and high is not None and low <= high  # a falling pitch is a cue to finish


def test_no_words_is_judged_on_the_audio_and_the_pause_alone() -> None:
    pol = HazardPolicy()
    assert close_at(pol, "") == close_at(pol, None)
    assert close_at(pol, "") is not None


# -- never during speech -----------------------------------------------------------------------


@pytest.mark.usefixtures("speech_cache")
@pytest.mark.parametrize("kind", ["pink", "babble", "white"])
def test_no_close_while_the_signal_is_speech_even_in_noise(kind: str) -> None:
    """The most eager policy there is (close on the first quiet window) under 5 dB noise: every
    close lands after the speech it follows has ended, not inside a word."""
    turns = [
        [Clause("I wanted to ask you about", 450, unfinished=True), Clause("the budget for next year.")],
        [Clause("When the movie ended,", 300), Clause("everybody just sat there in silence.")],
        [Clause("Yes.")],
    ]
    conv = render(turns, Voice("en-gb-x-rp", 150, 40), 1800)
    noisy = add_noise(conv, kind, 5.0, np.random.default_rng(4))
    seg = Segmenter(SegmenterConfig(policy=SilencePolicy(32.0)))
    closes = [d for d in feed(seg, noisy.pcm) if isinstance(d, TurnClose) and d.reason != "stream_end"]
    assert closes
    for c in closes:
        for t in noisy.turns:
            inside = t.start_ms < c.t_ms < t.end_ms and not any(a <= c.t_ms <= b for a, b in t.pauses)
            assert not inside, f"closed at {c.t_ms:.0f} ms inside the speech of {t.text!r}"


@pytest.mark.usefixtures("speech_cache")
@pytest.mark.parametrize("guard", [True, False])
def test_the_guard_holds_a_close_while_a_deaf_vad_misses_soft_speech(guard: bool) -> None:
    """A VAD that misses the softer half of every sentence (energy, a high threshold) and a policy
    that closes on its first quiet window: the guard keeps every close out of the speech; without
    it the same gate closes inside words (so this test can fail)."""
    turns = [
        [Clause("The museum downtown has a new exhibition about ancient maps.")],
        [Clause("I think the second option is better.")],
    ]
    conv = render(turns, Voice("en-us", 150, 50), 1800)
    cfg = SegmenterConfig(vad="energy", energy_threshold=0.03, policy=SilencePolicy(32.0), close_guard=guard)
    closes = [
        d for d in feed(Segmenter(cfg), conv.pcm) if isinstance(d, TurnClose) and d.reason != "stream_end"
    ]
    inside = [c for c in closes for t in conv.turns if t.start_ms < c.t_ms < t.end_ms]
    if guard:
        assert closes and not inside
    else:
        assert inside
