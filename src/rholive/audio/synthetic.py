"""Generated speech with known boundaries: espeak-ng clauses, exact pauses, generated noise.

Used by the segmenter tests, `benchmarks/endpointing.py` and the demo sample. A conversation is a
list of turns; a turn is a list of clauses said one after another with a known pause between
them; turns are separated by a known gap. The ground truth (where each turn's speech starts and
ends, sample-exact) comes from the construction itself, not from a detector.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import subprocess
import wave
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape

import numpy as np

RATE = 16000


class EspeakMissing(RuntimeError):
    pass


def have_espeak() -> bool:
    return shutil.which("espeak-ng") is not None


def _cache_dir() -> Path | None:
    d = os.environ.get("RHOLIVE_SPEECH_CACHE")
    return Path(d) if d else None


def espeak(
    text: str, voice: str = "en-us", wpm: int = 165, pitch: int = 50, ssml: bool = False
) -> np.ndarray:
    """Say `text` with espeak-ng; int16 mono at 16 kHz, leading and trailing silence trimmed.

    Results are cached on disk when RHOLIVE_SPEECH_CACHE names a directory (tests and the
    benchmark synthesise the same clauses many times).
    """
    key = hashlib.sha1(f"{voice}|{wpm}|{pitch}|{ssml}|{text}".encode()).hexdigest()[:20]
    cache = _cache_dir()
    if cache is not None:
        hit = cache / f"{key}.npy"
        if hit.is_file():
            return np.load(hit)
    if not have_espeak():
        raise EspeakMissing("espeak-ng is not installed (apt-get install espeak-ng)")
    proc = subprocess.run(
        [
            "espeak-ng",
            *(["-m"] if ssml else []),
            "-v",
            voice,
            "-s",
            str(wpm),
            "-p",
            str(pitch),
            "--stdout",
            text,
        ],
        capture_output=True,
        check=True,
    )
    with wave.open(io.BytesIO(proc.stdout)) as w:
        rate = w.getframerate()
        raw = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
    import soxr

    pcm = soxr.resample(raw.astype(np.float32), rate, RATE).clip(-32768, 32767).astype(np.int16)
    pcm = trim(pcm)
    if cache is not None:
        cache.mkdir(parents=True, exist_ok=True)
        np.save(cache / f"{key}.npy", pcm)
    return pcm


def trim(pcm: np.ndarray, floor_dbfs: float = -50.0, frame: int = 80) -> np.ndarray:
    """Cut leading/trailing 5 ms frames whose RMS is under `floor_dbfs` (espeak's own padding)."""
    n = len(pcm) // frame
    if n == 0:
        return pcm
    x = pcm[: n * frame].astype(np.float64).reshape(n, frame)
    level = 20 * np.log10(np.sqrt((x * x).mean(axis=1)) / 32768.0 + 1e-12)
    loud = np.flatnonzero(level > floor_dbfs)
    if loud.size == 0:
        return pcm[:0]
    return pcm[loud[0] * frame : (loud[-1] + 1) * frame]


@dataclass(frozen=True)
class Clause:
    text: str
    pause_after_ms: int = 0  # silence after this clause inside the same turn (ignored on the last)
    unfinished: bool = False  # the sentence goes on after the pause (a hesitation)


@dataclass(frozen=True)
class Voice:
    name: str = "en-us"
    wpm: int = 165
    pitch: int = 50


@dataclass
class TruthTurn:
    start_ms: float
    end_ms: float
    text: str
    pauses: list[tuple[float, float]] = field(default_factory=list)  # silences inside the turn
    hesitations: int = 0  # pauses after an unfinished clause
    pause_kinds: list[str] = field(default_factory=list)  # "hesitation" or "clause", per pause
    style: str = "joined"  # "joined" (one utterance with breaks) or "fragments"


@dataclass
class Conversation:
    pcm: np.ndarray  # int16, 16 kHz
    turns: list[TruthTurn]

    @property
    def duration_ms(self) -> float:
        return len(self.pcm) * 1000.0 / RATE

    def to_bytes(self) -> bytes:
        return self.pcm.astype("<i2").tobytes()


def _quiet_runs(pcm: np.ndarray, frame: int = 80, floor_dbfs: float = -50.0) -> list[tuple[int, int]]:
    """(start, end) sample positions of runs of frames under `floor_dbfs`."""
    n = len(pcm) // frame
    x = pcm[: n * frame].astype(np.float64).reshape(n, frame)
    quiet = 20 * np.log10(np.sqrt((x * x).mean(axis=1)) / 32768.0 + 1e-12) < floor_dbfs
    runs, start = [], None
    for i, q in enumerate(quiet):
        if q and start is None:
            start = i
        elif not q and start is not None:
            runs.append((start * frame, i * frame))
            start = None
    return runs


def say_joined(clauses: Sequence[Clause], v: Voice) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """The whole sentence in one espeak utterance with SSML breaks between the clauses, so the
    intonation runs on across each pause as in fluent speech. Returns the audio and where the
    breaks landed (the longest quiet runs; espeak's break lengths are close to the asked ones)."""
    body = "".join(
        escape(c.text) + (f' <break time="{c.pause_after_ms}ms"/> ' if j < len(clauses) - 1 else "")
        for j, c in enumerate(clauses)
    )
    pcm = espeak(f"<speak>{body}</speak>", v.name, v.wpm, v.pitch, ssml=True)
    k = len(clauses) - 1
    runs = sorted(_quiet_runs(pcm), key=lambda r: r[1] - r[0], reverse=True)[:k]
    if len(runs) < k or any(
        b - a < 0.6 * 16 * c.pause_after_ms for (a, b), c in zip(sorted(runs), clauses[:-1], strict=True)
    ):
        raise LookupError(f"could not find the pauses espeak made in {body!r}")
    return pcm, sorted(runs)


def say_fragments(clauses: Sequence[Clause], v: Voice) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """Each clause its own utterance (so each ends like a finished statement), exact silences."""
    parts: list[np.ndarray] = []
    pauses: list[tuple[int, int]] = []
    pos = 0
    for j, c in enumerate(clauses):
        speech = espeak(c.text, v.name, v.wpm, v.pitch)
        parts.append(speech)
        pos += len(speech)
        if j < len(clauses) - 1:
            n = c.pause_after_ms * RATE // 1000
            parts.append(np.zeros(n, dtype=np.int16))
            pauses.append((pos, pos + n))
            pos += n
    return np.concatenate(parts), pauses


def render(
    turns: Sequence[Sequence[Clause]],
    voices: Sequence[Voice] | Voice = Voice(),
    gaps_ms: Sequence[int] | int = 1500,
    lead_ms: int = 1000,
    tail_ms: int = 2500,
    joined: Sequence[bool] | bool = True,
) -> Conversation:
    """Lay the turns out in time: `lead_ms` of silence, turn, gap, turn, ..., `tail_ms`.

    `joined` (per turn): say the sentence as one utterance with breaks (fluent prosody), or each
    clause as its own utterance (a speaker trailing off at every pause).
    """
    voice_list = [voices] * len(turns) if isinstance(voices, Voice) else list(voices)
    gap_list = [gaps_ms] * len(turns) if isinstance(gaps_ms, int) else list(gaps_ms)
    join_list = [joined] * len(turns) if isinstance(joined, bool) else list(joined)
    parts: list[np.ndarray] = [np.zeros(lead_ms * RATE // 1000, dtype=np.int16)]
    pos = len(parts[0])
    truth: list[TruthTurn] = []
    ms = 1000 / RATE
    for i, clauses in enumerate(turns):
        v = voice_list[i % len(voice_list)]
        join = join_list[i % len(join_list)] and len(clauses) > 1
        try:
            speech, breaks = (say_joined if join else say_fragments)(clauses, v)
        except LookupError:  # this voice ran a break into a soft sound: say it clause by clause
            join = False
            speech, breaks = say_fragments(clauses, v)
        kinds = ["hesitation" if c.unfinished else "clause" for c in clauses[:-1]]
        truth.append(
            TruthTurn(
                pos * ms,
                (pos + len(speech)) * ms,
                " ".join(c.text for c in clauses),
                [((pos + a) * ms, (pos + b) * ms) for a, b in breaks],
                sum(c.unfinished for c in clauses[:-1]),
                kinds,
                "joined" if join else "fragments",
            )
        )
        parts.append(speech)
        pos += len(speech)
        after = gap_list[i % len(gap_list)] if i < len(turns) - 1 else tail_ms
        parts.append(np.zeros(after * RATE // 1000, dtype=np.int16))
        pos += after * RATE // 1000
    return Conversation(np.concatenate(parts), truth)


# --- noise ---------------------------------------------------------------------------------------


def _shaped_noise(n: int, rng: np.random.Generator, exponent: float) -> np.ndarray:
    """Noise whose power falls as 1/f**exponent (1 = pink, 2 = brown), unit RMS."""
    spec = np.fft.rfft(rng.standard_normal(n))
    f = np.fft.rfftfreq(n, 1 / RATE)
    f[0] = f[1]
    spec /= f ** (exponent / 2)
    x = np.fft.irfft(spec, n)
    return x / (np.sqrt(np.mean(x * x)) + 1e-12)


def pink_noise(n: int, rng: np.random.Generator) -> np.ndarray:
    return _shaped_noise(n, rng, 1.0)


def brown_noise(n: int, rng: np.random.Generator) -> np.ndarray:
    return _shaped_noise(n, rng, 2.0)


def white_noise(n: int, rng: np.random.Generator) -> np.ndarray:
    return rng.standard_normal(n)


def hum_noise(n: int, rng: np.random.Generator) -> np.ndarray:
    """Mains hum (50 or 60 Hz and its odd harmonics, slowly wavering) over a little hiss, unit RMS."""
    t = np.arange(n) / RATE
    base = 50.0 if rng.random() < 0.5 else 60.0
    x = np.zeros(n)
    for k in (1, 3, 5, 7):
        x += np.sin(2 * np.pi * base * k * t + rng.uniform(0, 2 * np.pi)) / k
    x *= 1.0 + 0.2 * np.sin(2 * np.pi * rng.uniform(0.1, 0.5) * t)
    x += 0.1 * rng.standard_normal(n)
    return x / (np.sqrt(np.mean(x * x)) + 1e-12)


BABBLE_LINES = (
    "the quarterly numbers came in higher than anyone had expected last spring",
    "please remember to water the plants on the balcony before you leave",
    "the train to the airport leaves every twenty minutes from platform four",
    "we could paint the kitchen yellow or maybe a soft shade of green",
    "my cousin is moving to a small town near the coast next month",
    "the library closes early on sundays during the summer holidays",
)
BABBLE_VOICES = (Voice("en-gb", 175, 40), Voice("en-us+f3", 160, 60), Voice("en-gb-x-rp+m3", 150, 45))


def babble_noise(n: int, rng: np.random.Generator, talkers: int = 16) -> np.ndarray:
    """A crowd of espeak talkers, looped and offset at random: speech-like noise, unit RMS.

    Sixteen talkers blur into a cafeteria murmur; with four or fewer the background is competing
    speech, which any VAD (rightly) hears as speech.
    """
    out = np.zeros(n)
    for k in range(talkers):
        v = BABBLE_VOICES[k % len(BABBLE_VOICES)]
        lines = [espeak(t, v.name, v.wpm, v.pitch) for t in BABBLE_LINES]
        order = rng.permutation(len(lines))
        loop = np.concatenate([np.concatenate((lines[i], np.zeros(1600, np.int16))) for i in order])
        loop = loop.astype(np.float64)
        reps = int(np.ceil((n + len(loop)) / len(loop)))
        off = int(rng.integers(0, len(loop)))
        out += np.tile(loop, reps)[off : off + n]
    return out / (np.sqrt(np.mean(out * out)) + 1e-12)


def speech_rms(conv: Conversation) -> float:
    """RMS of the speech inside the true turns (pauses included: what a listener hears as level)."""
    segs = [conv.pcm[int(t.start_ms * RATE / 1000) : int(t.end_ms * RATE / 1000)] for t in conv.turns]
    x = np.concatenate(segs).astype(np.float64)
    return float(np.sqrt(np.mean(x * x)))


def add_noise(conv: Conversation, kind: str, snr_db: float, rng: np.random.Generator) -> Conversation:
    """Mix generated noise (`pink`, `brown`, `white`, `hum`, `babble`) under the whole conversation
    at `snr_db`."""
    n = len(conv.pcm)
    kinds = {
        "pink": pink_noise,
        "brown": brown_noise,
        "white": white_noise,
        "hum": hum_noise,
        "babble": babble_noise,
    }
    noise = kinds[kind](n, rng)
    level = speech_rms(conv) / (10 ** (snr_db / 20))
    mixed = conv.pcm.astype(np.float64) + noise * level
    return Conversation(mixed.clip(-32768, 32767).astype(np.int16), conv.turns)
