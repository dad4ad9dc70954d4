"""Half-duplex echo guard: the assistant must not take its own voice, heard back through speakers, for a user.

A pure gate. It is told what the speaker played (time, duration, level) and asked about each microphone frame
(time, duration, level). While playback is audible, a mic frame may only reach the segmenter if it is clearly
louder than the echo expected from that playback, for long enough to be speech (barge-in); otherwise it is
replaced by silence, so the turn detector never opens a turn on the echo. All times are milliseconds on one
clock that the caller picks (for example `time.monotonic() * 1000` for both the speaker and the mic).

Expected echo = the loudest block played during the last `tail_ms` (device latency plus room reverberation)
+ the echo path's gain (`coupling_db`: speaker → room → mic, learned while only echo is heard). A mic frame is
a barge-in candidate when it exceeds the expected echo by `margin_db` and is above `min_speech_dbfs`; after
`barge_ms` of consecutive candidates the gate declares a barge-in (the caller flushes playback) and passes the
held frames on, so the first syllable of the interruption is not lost.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field
from typing import Literal

from rholive.audio.pcm import SILENCE_DBFS, rms_dbfs

GuardState = Literal["open", "guarded", "barge_in"]


@dataclass
class EchoGuardConfig:
    tail_ms: float = 300.0  # playback stays audible this long after a block (output latency + reverb)
    coupling_db: float = 0.0  # first guess of the echo path gain; 0 dB assumes loud speakers next to the mic
    learn: bool = True  # adapt coupling_db from frames below the barge-in bar
    learn_up_ms: float = 150.0  # time constants of that tracking: rising fast and falling slowly keeps
    learn_down_ms: float = 1500.0  # the estimate near the loudest echoes (~90th percentile)
    margin_db: float = 10.0  # "clearly louder": how far above the expected echo a barge-in must be
    min_speech_dbfs: float = -45.0  # never a barge-in below this, however quiet the playback
    barge_ms: float = 200.0  # how long the louder speech must last
    audible_dbfs: float = -60.0  # playback blocks quieter than this are treated as silence
    min_coupling_db: float = -50.0
    max_coupling_db: float = 10.0


@dataclass(frozen=True)
class EchoDecision:
    state: GuardState
    allow: bool  # pass this frame to the segmenter as it is (False: it is echo, pass silence instead)
    candidate: bool  # louder than the echo but not long enough yet: hold it until decided
    barge_in: bool  # barge-in confirmed on this frame: flush playback now
    echo_dbfs: float  # expected echo level at this frame (SILENCE_DBFS when nothing is audible)


@dataclass
class EchoGuardStats:
    mic_frames: int = 0
    guarded_frames: int = 0  # frames heard while playback was audible
    muted_ms: float = 0.0  # mic audio replaced by silence
    barge_ins: int = 0


class EchoGuard:
    def __init__(self, config: EchoGuardConfig | None = None) -> None:
        self.config = config or EchoGuardConfig()
        self.coupling_db = self.config.coupling_db
        self.stats = EchoGuardStats()
        self._played: deque[tuple[float, float, float]] = deque()  # (start, end, level) of audible blocks
        self._run_ms = 0.0  # consecutive candidate audio so far
        self._barging = False

    def on_playback(self, t_ms: float, duration_ms: float, level_dbfs: float) -> None:
        """The speaker played a block starting at `t_ms` (silence and quiet blocks may be reported too)."""
        if level_dbfs >= self.config.audible_dbfs:
            self._played.append((t_ms, t_ms + duration_ms, level_dbfs))

    def echo_reference(self, t_ms: float, duration_ms: float) -> float:
        """The loudest block that can still be heard in the mic frame [t_ms, t_ms + duration_ms)."""
        horizon = t_ms - self.config.tail_ms
        while self._played and self._played[0][1] < horizon - self.config.tail_ms:
            self._played.popleft()  # keep one extra tail of history for frames that arrive late
        levels = [lvl for start, end, lvl in self._played if end > horizon and start < t_ms + duration_ms]
        return max(levels, default=SILENCE_DBFS)

    def on_mic(self, t_ms: float, duration_ms: float, level_dbfs: float) -> EchoDecision:
        cfg = self.config
        self.stats.mic_frames += 1
        reference = self.echo_reference(t_ms, duration_ms)
        if reference <= SILENCE_DBFS:
            self._run_ms = 0.0
            self._barging = False
            return EchoDecision("open", True, False, False, SILENCE_DBFS)
        self.stats.guarded_frames += 1
        echo = reference + self.coupling_db
        if self._barging:  # the user has the floor until playback has died away
            return EchoDecision("barge_in", True, False, False, echo)
        louder = level_dbfs >= echo + cfg.margin_db and level_dbfs >= cfg.min_speech_dbfs
        if not louder:
            self._run_ms = 0.0
            # A mic frame below the audible floor (the echo not arrived yet, a pause between words, a digital
            # loopback's silence) says nothing about the echo gain: learning from it would lower the bar.
            if cfg.learn and level_dbfs >= cfg.audible_dbfs:
                self._learn(level_dbfs - reference, duration_ms)
            self.stats.muted_ms += duration_ms
            return EchoDecision("guarded", False, False, False, echo)
        self._run_ms += duration_ms
        if self._run_ms >= cfg.barge_ms:
            self._barging = True
            self.stats.barge_ins += 1
            return EchoDecision("barge_in", True, False, True, echo)
        return EchoDecision("guarded", False, True, False, echo)

    def _learn(self, observed_db: float, duration_ms: float) -> None:
        # A quantile tracker of the echo gain: it rises fast (loud echoes must not open turns) and decays
        # slowly (turning the volume down lowers the bar for barge-in within a few seconds). Only frames
        # under the bar feed it, so an interruption never teaches the guard that the echo is loud.
        cfg = self.config
        tau = cfg.learn_up_ms if observed_db > self.coupling_db else cfg.learn_down_ms
        step = 1.0 - math.exp(-duration_ms / tau)
        updated = self.coupling_db + step * (observed_db - self.coupling_db)
        self.coupling_db = min(cfg.max_coupling_db, max(cfg.min_coupling_db, updated))


@dataclass
class GuardOutput:
    frames: list[tuple[int, bytes]] = field(default_factory=list)  # (t, pcm) for the segmenter, in order
    barge_in: bool = False  # flush playback now


class GuardedMic:
    """Applies an EchoGuard to mic PCM: echo becomes silence, a barge-in's held frames pass on intact.

    `feed(t_ms, pcm)` returns the frames to hand to the segmenter, in order, each with its own timestamp:
    nothing is dropped, a muted frame keeps its place as silence. Candidate frames are held (at most
    `barge_ms`) until the guard decides.
    """

    def __init__(self, guard: EchoGuard | None = None, rate: int = 16000) -> None:
        self.guard = guard or EchoGuard()
        self.rate = rate
        self._held: list[tuple[int, bytes]] = []

    def feed(self, t_ms: int, pcm: bytes, clock_ms: float | None = None) -> GuardOutput:
        """`t_ms` labels the frame for the segmenter; `clock_ms` (default `t_ms`) places it on the clock the
        playback reports use."""
        duration_ms = len(pcm) / 2 / self.rate * 1000
        when = t_ms if clock_ms is None else clock_ms
        decision = self.guard.on_mic(when, duration_ms, rms_dbfs(pcm))
        out = GuardOutput(barge_in=decision.barge_in)
        if decision.candidate:
            self._held.append((t_ms, pcm))
        elif decision.allow:
            out.frames = [*self._held, (t_ms, pcm)]
            self._held = []
        else:
            # An unconfirmed run was echo after all (or a cough): it reaches the segmenter as silence.
            out.frames = [(t, bytes(len(p))) for t, p in [*self._held, (t_ms, pcm)]]
            self._held = []
        return out

    def finish(self) -> list[tuple[int, bytes]]:
        """End of stream: frames still held were never confirmed as a barge-in; they leave as silence."""
        held, self._held = self._held, []
        return [(t, bytes(len(p))) for t, p in held]
