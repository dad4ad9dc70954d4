"""Test helper: espeak-ng speech with known pauses, synthesised once per test session.

espeak-ng is a real part: when it is missing the tests that need it FAIL under CI=true and are
skipped (with the reason) otherwise.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from functools import cache

import numpy as np
import pytest

from rholive.audio.segmenter import Decision, Segmenter, SendAudio, TurnClose, TurnOpen
from rholive.audio.synthetic import RATE, Clause, Conversation, Voice, have_espeak, render

SPM = RATE // 1000
DEFAULT_VOICE = Voice("en-us", 165, 50)


def require_espeak() -> None:
    if have_espeak():
        return
    if os.environ.get("CI") == "true":
        pytest.fail("espeak-ng is not installed and CI=true (apt-get install espeak-ng)")
    pytest.skip("espeak-ng is not installed (apt-get install espeak-ng)")


@pytest.fixture(scope="session", autouse=False)
def speech_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Cache synthesised clauses on disk for the session (espeak runs once per clause)."""
    require_espeak()
    mp = pytest.MonkeyPatch()
    mp.setenv("RHOLIVE_SPEECH_CACHE", str(tmp_path_factory.mktemp("speech")))
    yield
    mp.undo()


@cache
def conversation(
    turns: tuple[tuple[tuple[str, int], ...], ...],
    gaps_ms: int = 2000,
    lead_ms: int = 1000,
    voice: Voice = DEFAULT_VOICE,
    joined: bool = False,
) -> Conversation:
    """Turns as ((clause text, pause after in ms), ...); clauses said separately by default so the
    pauses are exact silences."""
    return render(
        [[Clause(text, pause) for text, pause in turn] for turn in turns],
        voice,
        gaps_ms,
        lead_ms=lead_ms,
        joined=joined,
    )


def feed(
    seg: Segmenter, pcm: np.ndarray, frame_sizes: Sequence[int] = (320,), start_ms: float = 0.0
) -> list[Decision]:
    """Push `pcm` through `seg` in frames (cycling through `frame_sizes`), then finish."""
    out: list[Decision] = []
    raw = pcm.astype("<i2").tobytes()
    k = 0
    i = 0
    while k < len(pcm):
        n = frame_sizes[i % len(frame_sizes)]
        out += seg.push(raw[2 * k : 2 * (k + n)], start_ms + k / SPM)
        k += n
        i += 1
    out += seg.finish()
    return out


def turns_of(decisions: Sequence[Decision]) -> list[dict]:
    """Group decisions into turns: open, audio (concatenated), audio start, close."""
    turns: list[dict] = []
    cur: dict | None = None
    for d in decisions:
        if isinstance(d, TurnOpen):
            assert cur is None, "a turn opened while another was open"
            cur = {"open": d, "chunks": [], "close": None}
        elif isinstance(d, SendAudio):
            assert cur is not None, "audio sent outside a turn"
            cur["chunks"].append(d)
        elif isinstance(d, TurnClose):
            assert cur is not None, "a close without an open turn"
            cur["close"] = d
            turns.append(cur)
            cur = None
    assert cur is None, "a turn was left open"
    return turns
