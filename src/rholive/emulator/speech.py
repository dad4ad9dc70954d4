"""The emulator's voice: text → 16-bit little-endian mono PCM at a given rate.

espeak-ng when it is installed (its WAV output resampled to `rate`), otherwise (or with ``engine="tone"``) a
soft 220 Hz tone with short fades, as long as the text would take to say (``speech_duration_s``: 150 words a
minute, at least 0.3 s). Empty text is no audio. Results are cached: replies repeat.
"""

from __future__ import annotations

import asyncio
import io
import logging
import shutil
import subprocess
import wave
from functools import lru_cache

import numpy as np

from rholive.audio import resample

log = logging.getLogger(__name__)

ENGINES = ("espeak", "tone")
WORDS_PER_MINUTE = 150
CHARS_PER_WORD = 6.0
MIN_DURATION_S = 0.3
TONE_HZ = 220.0
TONE_AMPLITUDE = 0.2  # of full scale: audible, never harsh
FADE_S = 0.02  # no clicks at either end


class SpeechError(RuntimeError):
    """espeak-ng was asked for explicitly and could not speak."""


def speech_duration_s(text: str) -> float:
    """How long `text` takes to say at 150 words a minute (at least 0.3 s; 0 for empty text).

    Words are counted as 6 characters (an average English word and its space), so long words take longer."""
    chars = len(" ".join(text.split()))
    if chars == 0:
        return 0.0
    return max(MIN_DURATION_S, chars / CHARS_PER_WORD * 60.0 / WORDS_PER_MINUTE)


def have_espeak() -> bool:
    return shutil.which("espeak-ng") is not None


def synthesize(text: str, rate: int = 24000, engine: str | None = None) -> bytes:
    """Speak `text` as s16le mono PCM at `rate` Hz. engine: None (espeak-ng if installed, else tone),
    "espeak" (SpeechError when it cannot) or "tone"."""
    if engine is not None and engine not in ENGINES:
        raise ValueError(f"unknown speech engine {engine!r}: valid choices are {', '.join(ENGINES)}")
    if rate <= 0:
        raise ValueError(f"sample rate must be positive, not {rate}")
    if not text.strip():
        return b""
    return _synthesize_cached(text, rate, engine)


async def synthesize_async(text: str, rate: int = 24000, engine: str | None = None) -> bytes:
    """`synthesize` in a worker thread (espeak-ng takes tens of milliseconds)."""
    return await asyncio.to_thread(synthesize, text, rate, engine)


@lru_cache(maxsize=128)
def _synthesize_cached(text: str, rate: int, engine: str | None) -> bytes:
    if engine == "tone":
        return tone(speech_duration_s(text), rate)
    if not have_espeak():
        if engine == "espeak":
            raise SpeechError("espeak-ng is not installed (apt-get install espeak-ng)")
        return tone(speech_duration_s(text), rate)
    try:
        return espeak(text, rate)
    except SpeechError:
        if engine == "espeak":
            raise
        log.warning("espeak-ng failed; speaking a tone instead", exc_info=True)
        return tone(speech_duration_s(text), rate)


def espeak(text: str, rate: int) -> bytes:
    # text goes in on stdin, never as an argument: a text starting with "-" must not become an option
    try:
        proc = subprocess.run(
            ["espeak-ng", "--stdout", "--stdin"],
            input=text.encode("utf-8"),
            capture_output=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SpeechError(f"espeak-ng could not run: {exc}") from None
    if proc.returncode != 0:
        detail = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        raise SpeechError(
            f"espeak-ng exited with {proc.returncode}: {detail[-1] if detail else 'no message'}"
        )
    try:
        with wave.open(io.BytesIO(proc.stdout)) as w:
            src_rate, channels, width = w.getframerate(), w.getnchannels(), w.getsampwidth()
            # streamed WAV headers carry a placeholder frame count: read whatever is there
            raw = w.readframes(w.getnframes())
    except (wave.Error, EOFError) as exc:
        raise SpeechError(f"espeak-ng gave no readable WAV: {exc}") from None
    if width != 2:
        raise SpeechError(f"espeak-ng gave {8 * width}-bit audio, expected 16-bit")
    raw = raw[: len(raw) // (2 * channels) * 2 * channels]
    if channels > 1:
        frames = np.frombuffer(raw, dtype="<i2").reshape(-1, channels).mean(axis=1)
        raw = frames.astype("<i2").tobytes()
    return resample(raw, src_rate, rate)


def tone(seconds: float, rate: int) -> bytes:
    """A soft 220 Hz sine with 20 ms fades in and out, `seconds` long."""
    n = round(seconds * rate)
    if n <= 0:
        return b""
    t = np.arange(n) / rate
    wave_ = np.sin(2 * np.pi * TONE_HZ * t) * TONE_AMPLITUDE
    fade = min(int(FADE_S * rate), n // 2)
    if fade > 0:
        ramp = np.linspace(0.0, 1.0, fade, endpoint=False)
        wave_[:fade] *= ramp
        wave_[n - fade :] *= ramp[::-1]
    return (wave_ * 32767).astype("<i2").tobytes()
