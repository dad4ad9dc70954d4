"""When does a pause end the turn? Pure policies, consulted by the segmenter during a pause.

The segmenter keeps a `Pause` record while the speaker is silent inside an open turn and asks the
policy after every VAD window. The policy answers WAIT, ASK (run the end-of-turn model now on the
turn's audio; the answer is appended to `pause.probs` and the policy is asked again), or a close
reason. The model therefore runs only at the few checkpoints the policy names, never per frame.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol


class Verdict(StrEnum):
    WAIT = "wait"
    ASK = "ask"
    END_OF_TURN = "end_of_turn"
    SILENCE = "silence"


@dataclass
class Pause:
    """What is known about the current pause; the segmenter fills it, the policy reads it."""

    pause_ms: float  # silence so far (from the end of the last speech window)
    turn_ms: float  # from the turn's onset to the start of this pause
    speech_ms: float  # voiced time in the turn so far
    probs: list[tuple[float, float]] = field(default_factory=list)  # (pause_ms, p(end of turn)) asked
    tail_slope: float | None = None  # pitch slope of the last voiced ~300 ms, semitones per second
    start_ms: float = 0.0  # stream position where the pause began


class EndpointPolicy(Protocol):
    uses_model: bool

    def decide(self, pause: Pause) -> Verdict: ...


@dataclass(frozen=True)
class SilencePolicy:
    """Close after a fixed silence (the seed's rule, and the plain-timeout baselines)."""

    close_ms: float = 800.0
    uses_model: bool = False

    def decide(self, pause: Pause) -> Verdict:
        return Verdict.SILENCE if pause.pause_ms >= self.close_ms else Verdict.WAIT


@dataclass(frozen=True)
class OneShotPolicy:
    """Ask the model once after `ask_ms` of silence; close if p > `threshold`, else after `close_ms`.

    This is pipecat's default arrangement (VAD stop_secs 0.2, smart-turn once, 3 s fallback), kept
    as a baseline that runs inside our gate.
    """

    ask_ms: float = 200.0
    threshold: float = 0.5
    close_ms: float = 3000.0
    uses_model: bool = True

    def decide(self, pause: Pause) -> Verdict:
        if pause.pause_ms >= self.close_ms:
            return Verdict.SILENCE
        if pause.pause_ms >= self.ask_ms:
            if not pause.probs:
                return Verdict.ASK
            if pause.probs[0][1] > self.threshold:
                return Verdict.END_OF_TURN
        return Verdict.WAIT


@dataclass(frozen=True)
class Checkpoint:
    at_ms: float  # pause length at which the model is asked
    threshold: float  # close when p(end of turn) is at least this


@dataclass(frozen=True)
class AdaptivePolicy:
    """Several model checkpoints per pause with a bar that falls as the pause lengthens.

    Early in a pause only a confident "finished" closes (true ends score high at once; the model's
    score for an unfinished clause creeps up as the silence grows, so a late low bar would split
    hesitations). Extra evidence moves the bar:
    - the score's history in this pause: a score that is still rising fast at a checkpoint is a
      hesitation being re-read as a stop by the growing silence, not a confident end;
    - the turn's length so far: a very short first stretch (under `short_turn_ms`) is more often a
      hesitation start ("So ...") than a whole turn, so its bar is raised by `short_turn_raise`;
    - the pitch of the last syllables: a clear fall (below `fall_st_per_s`) lowers the bar by
      `fall_bonus`, a clear rise (continuation) raises it by `rise_penalty`.
    A plain silence fallback closes anything still open after `fallback_ms`.
    """

    checkpoints: Sequence[Checkpoint] = (
        Checkpoint(160.0, 0.85),
        Checkpoint(320.0, 0.85),
        Checkpoint(480.0, 0.75),
    )
    fallback_ms: float = 700.0
    max_rise: float = 1.0  # p may rise by at most this between checkpoints and still close
    short_turn_ms: float = 0.0
    short_turn_raise: float = 0.0
    fall_st_per_s: float = -1e9
    fall_bonus: float = 0.0
    rise_st_per_s: float = 1e9
    rise_penalty: float = 0.0
    uses_model: bool = True

    def bar(self, pause: Pause, base: float) -> float:
        bar = base
        if pause.turn_ms < self.short_turn_ms:
            bar += self.short_turn_raise
        if pause.tail_slope is not None:
            if pause.tail_slope <= self.fall_st_per_s:
                bar -= self.fall_bonus
            elif pause.tail_slope >= self.rise_st_per_s:
                bar += self.rise_penalty
        return bar

    def decide(self, pause: Pause) -> Verdict:
        if pause.pause_ms >= self.fallback_ms:
            return Verdict.SILENCE
        asked = len(pause.probs)
        if asked < len(self.checkpoints) and pause.pause_ms >= self.checkpoints[asked].at_ms:
            return Verdict.ASK
        if asked == 0:
            return Verdict.WAIT
        at, p = pause.probs[-1]
        if at != pause.pause_ms:  # only act on an answer given at this very window
            return Verdict.WAIT
        rise = p - pause.probs[-2][1] if asked >= 2 else 0.0
        if rise > self.max_rise:
            return Verdict.WAIT
        return (
            Verdict.END_OF_TURN
            if p >= self.bar(pause, self.checkpoints[asked - 1].threshold)
            else Verdict.WAIT
        )
