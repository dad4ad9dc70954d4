"""The turn segmenter: a pure gate from 16 kHz mono PCM frames (with stream positions) to turns.

Feed it frames of any size with `push(pcm, t_ms)`; it answers with decisions the runtime maps to
the wire: `TurnOpen` -> activityStart, `SendAudio` -> realtimeInput audio, `TurnClose` ->
activityEnd. No clock reads, no I/O, no asyncio: every time is a stream position in ms, so the
same audio always gives the same turns, to the millisecond.

Rules: a turn opens once `open_ms` of speech has been heard (clicks and coughs are shorter); its
audio starts `preroll_ms` before the detected onset so the first syllable is never lost; audio is
then streamed in `chunk_ms` pieces; a pause is handed to the end-of-turn policy (see
`endpointing.py`), which may ask the smart-turn model or transcribe the last words (Whisper tiny.en,
`lexical.py`) at a few checkpoints; a turn never exceeds
`max_turn_ms`; `finish()` closes an open turn with `stream_end`.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field, replace
from typing import Literal

import numpy as np

from rholive.audio.blas import one_blas_thread
from rholive.audio.endpointing import (
    AdaptivePolicy,
    EndpointPolicy,
    HazardPolicy,
    Pause,
    SilencePolicy,
    Verdict,
)
from rholive.audio.prosody import end_cues
from rholive.audio.vad import EnergyVad, FrameVad, SileroVad, SmartTurn, Transcriber, TurnModel

RATE = 16000
SPM = RATE // 1000  # samples per ms

BACKGROUND_RISE = 10 ** (0.05 / 10)  # 0.05 dB a 32 ms window: ~1.5 dB/s, so speech never becomes background
QUIET_SCORED = 8  # quiet windows still scored before skipping: Silero lags the end of speech
GUARD_WINDOWS = 3  # a close waits while any of the last few VAD windows was not clearly silent
GUARD_DB = 10.0  # ... or while a 10 ms frame of the last 160 ms is this much louder than the background
GUARD_TAIL_FRAMES = 16  # (a stop consonant's closure is shorter: a quiet 64 ms can still be inside a word)
GUARD_RISE_DB = (
    6.0  # ... or while the last 30 ms are this much louder than the pause so far (speech resuming)
)
GUARD_MAX_MS = 2500.0  # a pause longer than this closes even if the background stays loud
MAX_GAP_FILL_MS = 2000  # capture gaps up to this long count as silence; longer ones end the stream

CloseReason = Literal["end_of_turn", "silence", "max_length", "stream_end"]


@dataclass(frozen=True)
class TurnOpen:
    t_ms: float  # stream position at which the turn was confirmed (send activityStart now)
    speaker: str
    onset_ms: float  # where the detected speech began (audio is sent from before this)


@dataclass(frozen=True)
class SendAudio:
    pcm: bytes  # s16le mono 16 kHz
    t_ms: float  # stream position of the first sample

    @property
    def end_ms(self) -> float:
        return self.t_ms + len(self.pcm) / 2 / SPM


@dataclass(frozen=True)
class TurnClose:
    t_ms: float  # stream position at which the turn ended (send activityEnd now)
    reason: CloseReason
    speaker: str = ""


Decision = TurnOpen | SendAudio | TurnClose


@dataclass(frozen=True)
class SegmenterConfig:
    vad: Literal["silero", "energy"] = "silero"
    energy_threshold: float = 0.01  # energy VAD: RMS as a fraction of full scale
    energy_window: int = 320  # energy VAD window (samples; the seed used 20 ms frames)
    speech_threshold: float = 0.5  # VAD probability that counts as speech
    silence_threshold: float = 0.35  # below this an open turn counts as paused (hysteresis)
    open_ms: float = 192.0  # speech needed before a turn opens
    open_dips: int = 1  # non-speech windows tolerated inside that onset run
    resume_ms: float = 64.0  # speech needed to end a pause (blips in noise don't)
    preroll_ms: float = 400.0  # audio sent from before the onset
    chunk_ms: float = 100.0
    max_turn_ms: float = 30000.0
    refine_pause_start: bool = True  # measure a pause from the loudness envelope, not Silero's verdict
    refine_in_noise: bool = True  # ... under noise too (from halfway between background and speech)
    # While no turn is open, windows quieter than this (RMS, dB of full scale) count as silence
    # without running the VAD, once `QUIET_SCORED` of them in a row have been scored: the monitor
    # of an idle sound card is exact zeros. 0 or None: score every window.
    quiet_floor_dbfs: float | None = -60.0
    # ... and so do windows less than this many dB over the room's steady background (its level while
    # idle, followed down at once and up slowly): room noise above the fixed floor would otherwise keep
    # Silero running at rest. Speech stands well above it; a window over it is scored, and so are the
    # `QUIET_SCORED` after it. None: the fixed floor only.
    background_margin_db: float | None = 6.0
    # a close waits while the signal may still be speech (see Segmenter._sounding); the baselines
    # (seed rule, plain silence timeouts) run without it, as they were
    close_guard: bool = True
    policy: EndpointPolicy = field(default_factory=lambda: default_policy())

    def __post_init__(self) -> None:
        if not 0.0 <= self.silence_threshold <= self.speech_threshold <= 1.0:
            raise ValueError("need 0 <= silence_threshold <= speech_threshold <= 1")
        if min(self.open_ms, self.resume_ms, self.chunk_ms) <= 0 or self.preroll_ms < 0:
            raise ValueError("open_ms, resume_ms and chunk_ms must be positive, preroll_ms not negative")
        if self.max_turn_ms < self.open_ms + 100:
            raise ValueError("max_turn_ms must leave at least 100 ms after open_ms")
        if self.quiet_floor_dbfs is not None and self.quiet_floor_dbfs > 0:
            raise ValueError("quiet_floor_dbfs is in dB of full scale: 0 or below (or None)")
        if self.background_margin_db is not None and self.background_margin_db < 1.0:
            raise ValueError("background_margin_db must be at least 1 dB (or None)")


def default_policy() -> EndpointPolicy:
    """Ours: the end-of-turn hazard (transcript completeness from Whisper tiny.en and the text
    model, pitch, pause length) when the `asr` extra is installed, else the audio-only rule
    (pitch cues + smart-turn)."""
    from rholive.audio.lexical import available

    return HazardPolicy() if available() else AdaptivePolicy()


def seed_rule(
    open_voiced_frames: int = 4, close_silence_ms: float = 600.0, max_turn_ms: float = 8000.0
) -> SegmenterConfig:
    """The seed's segmenter: energy VAD on 20 ms frames, open after `open_voiced_frames` voiced
    frames in a row, close after `close_silence_ms` of silence, cap at `max_turn_ms`. The seed's
    turn began with its first voiced frame (no pre-roll)."""
    return SegmenterConfig(
        vad="energy",
        speech_threshold=0.5,
        silence_threshold=0.5,
        open_ms=open_voiced_frames * 20.0,
        open_dips=0,
        resume_ms=20.0,
        preroll_ms=0.0,
        max_turn_ms=max_turn_ms,
        refine_pause_start=False,
        close_guard=False,
        policy=SilencePolicy(close_silence_ms),
    )


def silence_rule(close_ms: float, base: SegmenterConfig | None = None) -> SegmenterConfig:
    """Silero VAD with a plain silence timeout (counted from Silero's end of speech)."""
    return replace(
        base or SegmenterConfig(), policy=SilencePolicy(close_ms), refine_pause_start=False, close_guard=False
    )


class Segmenter:
    """One audio source's turn gate (`speaker` labels its turns: "me" or "them")."""

    def __init__(
        self,
        config: SegmenterConfig | None = None,
        speaker: str = "me",
        vad: FrameVad | None = None,
        turn_model: TurnModel | None = None,
        transcriber: Transcriber | None = None,
    ):
        self.config = cfg = config or SegmenterConfig()
        self.speaker = speaker
        one_blas_thread()  # BLAS workers spinning next to a model call cost a core (blas.py)
        if vad is None:
            vad = SileroVad() if cfg.vad == "silero" else EnergyVad(cfg.energy_threshold, cfg.energy_window)
        self.vad = vad
        if turn_model is None and cfg.policy.uses_model:
            turn_model = SmartTurn()
        self.turn_model = turn_model
        if transcriber is None and cfg.policy.uses_words:
            from rholive.audio.lexical import TinyWhisper  # optional extra: import only when used

            pol = cfg.policy  # a policy may ask for a longer transcript (HazardPolicy: 3 s)
            transcriber = TinyWhisper(
                seconds=getattr(pol, "transcript_s", 2.0), max_tokens=getattr(pol, "transcript_tokens", 16)
            )
        self.transcriber = transcriber
        self.transcriber_calls = 0
        self.window = vad.window
        self._open_n = int(cfg.open_ms * SPM)
        self._resume_n = int(cfg.resume_ms * SPM)
        self._preroll_n = int(cfg.preroll_ms * SPM)
        self._chunk_n = max(1, int(cfg.chunk_ms * SPM))
        self._max_n = int(cfg.max_turn_ms * SPM)
        self.model_calls = 0
        self.guard_holds = 0  # closes put off because the signal could still be speech
        floor = cfg.quiet_floor_dbfs
        # mean square of a window (int16 units) below which it is quiet; None: never
        self._quiet_ms = (32768.0 * 10 ** (floor / 20)) ** 2 * self.window if floor else None
        margin = cfg.background_margin_db
        self._over_background = 10 ** (margin / 10) if margin is not None else None
        self._background: float | None = None  # the idle background's mean square, lower envelope
        self._noise_skipped = False  # the quiet run being skipped held room noise, not digital silence
        self.vad_calls = 0
        self.vad_skipped = 0  # windows counted as silence without running the VAD
        self._quiet_run = 0  # consecutive quiet windows while idle
        self._pos: int | None = None  # stream position (samples) of the next sample to arrive
        self._pending = np.zeros(0, dtype=np.int16)
        # idle state: recent audio (for the pre-roll) and the onset run being counted
        self._ring: deque[tuple[int, np.ndarray]] = deque()
        self._floor = 0  # pre-roll never reaches back into a closed turn's audio
        self._run_start: int | None = None
        self._run_voiced = 0
        self._run_dips = 0
        self._open = False

    @property
    def is_open(self) -> bool:
        return self._open

    @property
    def onset_pending(self) -> bool:
        """Speech is heard but is not a turn yet (shorter than the minimum speech length so far)."""
        return not self._open and self._run_start is not None

    # -- input ----------------------------------------------------------------------------------

    def push(self, pcm: bytes, t_ms: float) -> list[Decision]:
        """Feed s16le mono 16 kHz audio whose first sample is at stream position `t_ms`."""
        if len(pcm) % 2:
            raise ValueError("PCM must be whole 16-bit samples (odd byte count)")
        start = round(t_ms * SPM)
        out: list[Decision] = []
        if self._pos is None:
            self._pos = start
            self._floor = start
        elif start < self._pos - SPM:
            raise ValueError(f"t_ms went backwards: {t_ms} < {self._pos / SPM}")
        elif start > self._pos + MAX_GAP_FILL_MS * SPM:
            # A long capture break (device lost, machine suspended): end what was open there and
            # start again at the new position rather than invent seconds of silence.
            out += self.finish()
            self._pos = self._floor = start
        elif start > self._pos + SPM:
            # A short capture gap: fill it with silence so positions stay true to the stream.
            self._ingest(np.zeros(start - self._pos, dtype=np.int16), out)
        self._ingest(np.frombuffer(pcm, dtype="<i2"), out)
        return out

    def finish(self, t_ms: float | None = None) -> list[Decision]:
        """The stream ended (at `t_ms`, default: after the last sample). Closes an open turn."""
        out: list[Decision] = []
        if self._pos is None:
            return out
        end = self._pos if t_ms is None else max(self._pos, round(t_ms * SPM))
        if self._open:
            tail = self._pending
            if len(tail):
                self._out.append(tail)
                self._out_n += len(tail)
            self._flush(out, everything=True)
            out.append(TurnClose(end / SPM, "stream_end", self.speaker))
            self._open = False
        self._pending = np.zeros(0, dtype=np.int16)
        self._pos = end
        self._floor = end
        self._ring.clear()
        self._reset_run()
        return out

    # -- windows --------------------------------------------------------------------------------

    def _ingest(self, samples: np.ndarray, out: list[Decision]) -> None:
        assert self._pos is not None
        buf = np.concatenate((self._pending, samples)) if len(self._pending) else samples
        first = self._pos - len(self._pending)  # stream position of buf[0]
        w = self.window
        n_full = len(buf) // w
        for k in range(n_full):
            self._step(buf[k * w : (k + 1) * w], first + k * w, out)
        self._pending = buf[n_full * w :].copy()
        self._pos += len(samples)

    def _score(self, win: np.ndarray) -> float:
        """The VAD's speech probability, or 0 for a window of clear silence while idle."""
        if self._quiet_ms is None or self._open:
            self.vad_calls += 1
            return self.vad(win)
        x = win.astype(np.float32)
        energy = max(float(np.dot(x, x)), 1.0)
        silent = energy < self._quiet_ms
        if silent or self._near_background(energy):
            self._quiet_run += 1
            self._noise_skipped |= not silent and self._quiet_run > QUIET_SCORED
            if self._quiet_run > QUIET_SCORED:
                self.vad_skipped += 1
                self._learn_background(energy)
                return 0.0
        else:
            # after digital silence Silero's state is put where zeros would have left it; after room
            # noise it keeps the noise it last heard, which is closer to what it would have heard
            if self._quiet_run > QUIET_SCORED and not self._noise_skipped:
                self.vad.after_silence()
            self._quiet_run = 0
            self._noise_skipped = False
        self.vad_calls += 1
        p = self.vad(win)
        if p < self.config.silence_threshold:  # only what the VAD calls non-speech becomes background
            self._learn_background(energy)
        return p

    def _near_background(self, energy: float) -> bool:
        """Within the margin over the idle background (the level of what the VAD called non-speech)."""
        return (
            self._over_background is not None
            and self._background is not None
            and energy < self._background * self._over_background
        )

    def _learn_background(self, energy: float) -> None:
        """The background's lower envelope: down at once, up by `BACKGROUND_RISE` a window; never below the
        fixed floor, so it can rise again after digital silence."""
        energy = max(energy, self._quiet_ms or 0.0)
        background = self._background
        self._background = energy if background is None else min(energy, background * BACKGROUND_RISE)

    def _step(self, win: np.ndarray, start: int, out: list[Decision]) -> None:
        cfg = self.config
        p = self._score(win)
        end = start + len(win)
        if not self._open:
            self._idle_step(win, start, p >= cfg.speech_threshold, out)
            return
        self._out.append(win)
        self._out_n += len(win)
        self._turn.append(win)
        self._recent.append(p)
        self._flush(out)
        if self._speaking:
            if p < cfg.silence_threshold:
                self._speaking = False
                at = self._speech_end(start, end) if cfg.refine_pause_start else start
                self._pause = Pause(0.0, (at - self._onset) / SPM, self._speech_n / SPM, start_ms=at / SPM)
                self._pause_start = at
                self._resume_run = 0
            else:
                self._speech_n += len(win)
        elif p >= cfg.speech_threshold:
            self._resume_run += len(win)
            if self._resume_run >= self._resume_n:
                self._speaking = True
                self._speech_n += self._resume_run
                self._pause = None
        else:
            self._resume_run = 0
        if end - self._onset >= self._max_n:
            self._close(end, "max_length", out)
        elif not self._speaking:
            self._consult(end, out)

    def _recent_levels(self, frame: int) -> np.ndarray | None:
        """The level (dB, int16 units) of each `frame`-sample frame of the last 3 s of the turn's audio;
        None when there are fewer than 10 frames."""
        audio = self._model_audio()[-3 * RATE :]
        n = len(audio) // frame
        if n < 10:
            return None
        x = audio[len(audio) - n * frame :].astype(np.float64).reshape(n, frame)
        return 10 * np.log10((x * x).mean(axis=1) + 1.0)

    def _speech_end(self, start: int, now: int, frame: int = 160, back_ms: int = 160) -> int:
        """Where the speech before this pause really stopped (Silero said "silence" at `start`).

        Silero keeps scoring speech for 0-150 ms after the last sound (it looks at context), so a
        pause measured from its verdict is short by a varying amount. In a quiet background the
        last 10 ms frame more than 8 dB above the background (the quietest tenth of the last
        3 s) marks the end exactly; under noise the soft tail of a word drowns and that estimate
        is worse than Silero's, so it is kept only when speech stands 35 dB above the background.
        """
        level = self._recent_levels(frame)
        if level is None:
            return start
        n = len(level)
        floor, loudest = np.percentile(level, (10, 90))
        if loudest - floor < 35.0:
            if not self.config.refine_in_noise:
                return start
            return self._speech_end_in_noise(start, now, level, floor, loudest, frame)
        back = min(n, back_ms * SPM // frame)
        loud = np.flatnonzero(level[n - back :] > floor + 8.0)
        if loud.size == 0:
            return now - back * frame
        return now - (back - 1 - int(loud[-1])) * frame

    def _speech_end_in_noise(
        self,
        start: int,
        now: int,
        level: np.ndarray,
        floor: float,
        loudest: float,
        frame: int,
        back_ms: int = 320,
    ) -> int:
        """Under noise Silero says "silence" 50-200 ms after the last word. The last 10 ms frame
        louder than halfway between the background and the speech (in dB) is an earlier, still
        safe estimate: the soft tail of a word is lost, never a loud syllable. Only ever earlier
        than Silero's verdict (a burst of noise in the pause cannot make the pause shorter)."""
        if loudest - floor < 6.0:
            return start
        back = min(len(level), back_ms * SPM // frame)
        loud = np.flatnonzero(level[len(level) - back :] > floor + 0.5 * (loudest - floor))
        if loud.size == 0:
            return start
        return min(start, now - (back - 1 - int(loud[-1])) * frame)

    def _idle_step(self, win: np.ndarray, start: int, speech: bool, out: list[Decision]) -> None:
        self._ring.append((start, win))
        # an onset run lasts at most (open + a window) of speech, each window followed by up to
        # `open_dips` quiet ones; keep that much plus the pre-roll
        keep = self._preroll_n + (self._open_n + self.window) * (1 + self.config.open_dips) + self.window
        while self._ring and start - self._ring[0][0] > keep:
            self._ring.popleft()
        if speech:
            if self._run_start is None:
                self._run_start = start
            self._run_voiced += len(win)
            self._run_dips = 0
        elif self._run_start is not None:
            self._run_dips += 1
            if self._run_dips > self.config.open_dips:
                self._reset_run()
        if self._run_start is not None and self._run_voiced >= self._open_n:
            self._open_turn(self._run_start, start + len(win), out)

    def _reset_run(self) -> None:
        self._run_start = None
        self._run_voiced = 0
        self._run_dips = 0

    # -- turn lifecycle -------------------------------------------------------------------------

    def _open_turn(self, onset: int, now: int, out: list[Decision]) -> None:
        from_pos = max(onset - self._preroll_n, self._floor)
        pre = [w[max(0, from_pos - s) :] for s, w in self._ring if s + len(w) > from_pos]
        first = max(from_pos, self._ring[0][0]) if self._ring else now
        self._open = True
        self._quiet_run = 0  # not tracked inside a turn: a pause is always scored
        self._onset = onset
        self._speaking = True
        self._speech_n = now - onset
        self._pause: Pause | None = None
        self._pause_start = now
        self._resume_run = 0
        self._recent: deque[float] = deque(maxlen=GUARD_WINDOWS)
        self._turn: list[np.ndarray] = list(pre)
        self._out: list[np.ndarray] = []
        self._out_n = 0
        self._sent = first
        self._ring.clear()
        self._reset_run()
        out.append(TurnOpen(now / SPM, self.speaker, onset / SPM))
        pcm = np.concatenate(pre) if pre else np.zeros(0, dtype=np.int16)
        if len(pcm):
            out.append(SendAudio(pcm.astype("<i2").tobytes(), first / SPM))
            self._sent += len(pcm)

    def _flush(self, out: list[Decision], everything: bool = False) -> None:
        if self._out_n < self._chunk_n and not (everything and self._out_n):
            return
        pcm = np.concatenate(self._out)
        out.append(SendAudio(pcm.astype("<i2").tobytes(), self._sent / SPM))
        self._sent += len(pcm)
        self._out = []
        self._out_n = 0

    def _consult(self, now: int, out: list[Decision]) -> None:
        pause = self._pause
        assert pause is not None
        pause.pause_ms = (now - self._pause_start) / SPM
        policy = self.config.policy
        for _ in range(16):  # a policy asks at most once per checkpoint; bound it anyway
            verdict = policy.decide(pause)
            if verdict is Verdict.WAIT:
                return
            if verdict is Verdict.CUES:
                audio = self._model_audio()
                silent = now - self._pause_start  # the pause itself is not part of the cues
                cues = end_cues(audio[: max(0, len(audio) - silent)])
                pause.tail_slope, pause.end_level, pause.cues_done = cues.slope, cues.level, True
                continue
            if verdict is Verdict.LISTEN:
                assert self.transcriber is not None, "this policy needs a transcriber"
                audio = self._model_audio()
                pause.words = self.transcriber(audio)
                pause.words_score = getattr(self.transcriber, "last_score", None)
                pause.words_whole = self._turn_n() <= self.transcriber.seconds * RATE
                pause.words_done = True
                self.transcriber_calls += 1
                continue
            if verdict is Verdict.ASK:
                assert self.turn_model is not None, "this policy needs a turn model"
                pause.probs.append((pause.pause_ms, self.turn_model(self._model_audio())))
                self.model_calls += 1
                continue
            if self.config.close_guard and pause.pause_ms < GUARD_MAX_MS and self._sounding(now):
                self.guard_holds += 1
                return  # never close while the signal may still be speech; asked again next window
            self._close(now, verdict.value, out)  # type: ignore[arg-type]
            return
        raise RuntimeError(f"end-of-turn policy {policy!r} keeps asking without deciding")

    def _sounding(self, now: int, frame: int = 160) -> bool:
        """Whether the signal right now may still be speech: a recent VAD window scored above the
        pause threshold, or a 10 ms frame of the last 160 ms stands `GUARD_DB` over the background
        (the quietest tenth of the last 3 s) and over -55 dBFS, or the last 30 ms are `GUARD_RISE_DB`
        louder than the pause so far (a word starting again, before the VAD has confirmed it).
        Under noise Silero can drop a soft last word or be late on the next one."""
        if any(p >= self.config.silence_threshold for p in self._recent):
            return True
        level = self._recent_levels(frame)
        if level is None:
            return False
        n = len(level)
        floor = float(np.percentile(level, 10))
        tail = float(level[-GUARD_TAIL_FRAMES:].max())
        if tail > floor + GUARD_DB and tail > 20 * np.log10(32768.0) - 55.0:
            return True
        # a word starting again: the last 30 ms louder than this pause has been so far
        paused = min(n, (now - self._pause_start) // frame)
        if paused < 8:
            return False
        before = level[n - paused : n - 3]
        return float(level[-3:].max()) > float(np.median(before)) + GUARD_RISE_DB

    def _turn_n(self) -> int:
        return sum(len(w) for w in self._turn)

    def _model_audio(self) -> np.ndarray:
        limit = 8 * RATE
        parts: list[np.ndarray] = []
        n = 0
        for w in reversed(self._turn):
            parts.append(w)
            n += len(w)
            if n >= limit:
                break
        return np.concatenate(parts[::-1])[-limit:]

    def _close(self, now: int, reason: CloseReason, out: list[Decision]) -> None:
        self._flush(out, everything=True)
        out.append(TurnClose(now / SPM, reason, self.speaker))
        self._open = False
        self._floor = now
        self._turn = []
        self._pause = None
