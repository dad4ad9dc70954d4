"""The end-of-turn policies are pure functions of a `Pause`: drive them by hand."""

from __future__ import annotations

import math
from dataclasses import replace

from rholive.audio.endpointing import AdaptivePolicy, OneShotPolicy, Pause, SilencePolicy, Verdict


def walk(
    policy, pause: Pause, until_ms: float, answer: float = 0.5, step: float = 32.0
) -> tuple[Verdict, float]:
    """Advance a pause window by window, answering CUES/ASK like the segmenter would."""
    t = step
    while t <= until_ms:
        pause.pause_ms = t
        for _ in range(8):
            v = policy.decide(pause)
            if v is Verdict.CUES:
                assert not pause.cues_done, "cues asked twice in one pause"
                pause.cues_done = True
            elif v is Verdict.ASK:
                pause.probs.append((t, answer))
            else:
                break
        if v in (Verdict.END_OF_TURN, Verdict.SILENCE):
            return v, t
        t += step
    return Verdict.WAIT, t


def test_silence_policy_closes_exactly_at_its_timeout():
    pol = SilencePolicy(500)
    assert pol.decide(Pause(499.9, 1000, 1000)) is Verdict.WAIT
    assert pol.decide(Pause(500, 1000, 1000)) is Verdict.SILENCE
    assert not pol.uses_model


def test_one_shot_policy_asks_once_then_trusts_the_answer_or_waits_for_the_fallback():
    pol = OneShotPolicy(ask_ms=200, threshold=0.5, close_ms=3000)
    assert walk(pol, Pause(0, 2000, 2000), 5000, answer=0.9) == (Verdict.END_OF_TURN, 224)
    p = Pause(0, 2000, 2000)
    assert walk(pol, p, 5000, answer=0.2) == (Verdict.SILENCE, 3008)
    assert len(p.probs) == 1


def finished(level: float, slope: float, turn_ms: float = 3000) -> Pause:
    return Pause(0.0, turn_ms, turn_ms * 0.8, tail_slope=slope, end_level=level)


def test_adaptive_policy_measures_cues_and_asks_the_model_once_at_look_ms():
    pol = AdaptivePolicy()
    p = finished(-4.0, -15.0)
    p.pause_ms = pol.look_ms - 1
    assert pol.decide(p) is Verdict.WAIT
    p.pause_ms = pol.look_ms
    assert pol.decide(p) is Verdict.CUES
    p.cues_done = True
    assert pol.decide(p) is Verdict.ASK
    p.probs.append((p.pause_ms, 0.9))
    assert pol.decide(p) is not Verdict.ASK


def test_adaptive_policy_closes_a_low_falling_ending_early_and_a_rising_one_at_the_fallback():
    pol = AdaptivePolicy()
    early_bar = pol.bars[0]
    v, at = walk(pol, finished(-6.0, -25.0, turn_ms=3000), 2000, answer=0.9)
    assert v is Verdict.END_OF_TURN and at == math.ceil(early_bar[0] / 32) * 32
    v, at = walk(pol, finished(+2.0, +20.0, turn_ms=800), 2000, answer=0.1)
    assert v is Verdict.SILENCE and at >= pol.fallback_ms


def test_adaptive_policy_score_follows_each_cue_in_its_direction():
    pol = AdaptivePolicy()
    base = finished(-2.0, 0.0)
    base.probs.append((160, 0.5))
    s0 = pol.score(base)
    assert pol.score(replace(base, end_level=-5.0)) > s0  # lower ending: more finished
    assert AdaptivePolicy(w_slope=-0.1).score(replace(base, tail_slope=-20.0)) > AdaptivePolicy(
        w_slope=-0.1
    ).score(base)  # falling: more finished (when the slope has a weight)
    assert pol.score(replace(base, turn_ms=6000)) > s0  # longer stretch of speech
    assert pol.score(replace(base, probs=[(160, 0.95)])) > s0  # the model says finished


def test_a_policy_without_model_weight_never_asks():
    pol = AdaptivePolicy(w_model=0.0)
    assert not pol.uses_model
    p = finished(-3.0, -5.0)
    walk(pol, p, 2000)
    assert p.probs == [] and p.cues_done


def test_several_bars_close_a_middling_score_later_than_a_confident_one():
    pol = AdaptivePolicy(bars=((192.0, 2.0), (320.0, 1.0)))
    lo = finished(0.0, 0.0)
    conf = finished(0.0, 0.0)
    base = pol.score(replace(lo, probs=[(0, 0.5)]))

    def with_score(p: Pause, target: float) -> Pause:  # move the pitch level to reach a score
        return replace(p, end_level=(target - base) / pol.w_level)

    v1, t1 = walk(pol, with_score(conf, 2.1), 2000)
    v2, t2 = walk(pol, with_score(lo, 1.5), 2000)
    v3, t3 = walk(pol, with_score(lo, 0.5), 2000)
    assert (v1, t1) == (Verdict.END_OF_TURN, 192)
    assert (v2, t2) == (Verdict.END_OF_TURN, 320)
    assert v3 is Verdict.SILENCE and t3 >= pol.fallback_ms
