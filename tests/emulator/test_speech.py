"""Speech: espeak-ng output at the asked rate (plausible length, not silent), the tone engine, empty text."""

from __future__ import annotations

import os

import numpy as np
import pytest

from rholive.emulator import speech


def samples(pcm: bytes) -> np.ndarray:
    return np.frombuffer(pcm, dtype="<i2").astype(np.float64)


def rms(pcm: bytes) -> float:
    return float(np.sqrt(np.mean(samples(pcm) ** 2)))


@pytest.fixture
def espeak_ng() -> None:
    if speech.have_espeak():
        return
    if os.environ.get("CI") == "true":
        pytest.fail("espeak-ng is not installed (CI must install it: apt-get install espeak-ng)")
    pytest.skip("espeak-ng is not installed (apt-get install espeak-ng)")


@pytest.mark.usefixtures("espeak_ng")
def test_espeak_speech_has_a_plausible_length_and_is_not_silent() -> None:
    text = "The quick brown fox jumps over the lazy dog."
    pcm = speech.synthesize(text, 24000, engine="espeak")
    assert len(pcm) % 2 == 0
    seconds = len(pcm) / 2 / 24000
    assert 1.0 < seconds < 6.0  # nine words
    assert rms(pcm) > 500  # speech, not silence
    # not a tone: a steady sine would keep the same level in every 50 ms window
    windows = samples(pcm)[: len(pcm) // 2 // 1200 * 1200].reshape(-1, 1200)
    levels = np.sqrt((windows**2).mean(axis=1))
    assert levels.min() < 0.2 * levels.max()


@pytest.mark.usefixtures("espeak_ng")
def test_espeak_honours_the_rate() -> None:
    at_16k = speech.synthesize("Rate check, one two three.", 16000, engine="espeak")
    at_24k = speech.synthesize("Rate check, one two three.", 24000, engine="espeak")
    assert abs(len(at_24k) / 2 - 1.5 * len(at_16k) / 2) <= 3  # same duration, 1.5 times the samples


@pytest.mark.usefixtures("espeak_ng")
def test_text_that_looks_like_an_option_is_spoken() -> None:
    pcm = speech.synthesize("--help -v xx", 24000, engine="espeak")
    assert len(pcm) / 2 / 24000 > 0.3 and rms(pcm) > 300


def test_tone_lasts_as_long_as_the_text_would_take() -> None:
    text = "one two three four five six"
    pcm = speech.synthesize(text, 16000, engine="tone")
    assert speech.speech_duration_s(text) == pytest.approx(1.8)  # 27 characters = 4.5 words at 150 a minute
    assert len(pcm) == 2 * 28800
    x = samples(pcm)
    assert abs(x[0]) < 100 and abs(x[-1]) < 500  # faded in and out: no click
    assert 3000 < rms(pcm) < 8000  # soft but audible
    # 220 Hz: zero crossings in the steady middle second
    middle = x[8000:24000]
    crossings = np.count_nonzero(np.diff(np.signbit(middle)))
    assert crossings == pytest.approx(440, abs=2)


def test_tone_has_a_minimum_length() -> None:
    assert speech.speech_duration_s("hi") == pytest.approx(0.3)
    assert speech.speech_duration_s("  spaced   out ") == speech.speech_duration_s("spaced out")
    assert len(speech.synthesize("hi", 24000, engine="tone")) == 2 * 7200


def test_empty_text_is_no_audio() -> None:
    assert speech.synthesize("", 24000) == b""
    assert speech.synthesize("   ", 24000, engine="tone") == b""
    assert speech.speech_duration_s("") == 0.0


def test_bad_engine_and_rate_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown speech engine 'festival'"):
        speech.synthesize("hi", 24000, engine="festival")
    with pytest.raises(ValueError, match="sample rate must be positive"):
        speech.synthesize("hi", 0)


async def test_async_variant_gives_the_same_audio() -> None:
    assert await speech.synthesize_async("same words", 24000, "tone") == speech.synthesize(
        "same words", 24000, "tone"
    )
