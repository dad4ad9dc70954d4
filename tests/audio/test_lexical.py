"""The lexical end-of-turn cue: the word rule (pure) and the policy that uses it, driven by hand."""

from __future__ import annotations

import pytest

from rholive.audio.endpointing import AdaptivePolicy, LexicalPolicy, Pause, Verdict
from rholive.audio.lexical import continues, strip_repeats


@pytest.mark.parametrize(
    "text",
    [
        "So I was thinking that",
        "I wanted to ask you about",
        "some of the",
        "The reason I'm calling is",
        "We could try to fix the bug tonight and",
        "the team in Berlin for help, um",
        "So",
        "Well...",
        "I guess we should.",
        "and then",
        "We tested it for three weeks, but then",
    ],
)
def test_endings_a_speaker_rarely_stops_on_continue(text: str) -> None:
    assert continues(text) is True


@pytest.mark.parametrize(
    "text",
    [
        "Yes.",
        "Can you send me the report before lunch?",
        "Why not?",
        "I think so.",
        "Thank you",
        "Very well.",
        "See you then.",
        "Then.",
    ],
)
def test_other_endings_do_not(text: str) -> None:
    assert continues(text) is False


def test_no_words_is_no_answer() -> None:
    assert continues("") is None
    assert continues(" ... ") is None


def test_an_opener_continues_only_as_the_turns_first_word() -> None:
    assert continues("So") is True
    assert continues("so", turn_words=1) is True
    assert continues("so", turn_words=7) is False  # "... and I think so" (only the tail was heard)


def test_whisper_repeating_itself_after_the_end_is_dropped() -> None:
    assert strip_repeats("Yes. Yes.") == "yes."
    assert strip_repeats("I guess we should. I guess,") == "i guess we should."
    assert strip_repeats("When I got home, when I got") == "when i got home,"
    assert strip_repeats("The plan. A new idea.") == "the plan. a new idea."
    assert continues("Report before lunch. Report before") is False
    assert continues("When I got home, when I got") is True  # Whisper heard a comma


def walk(
    policy: LexicalPolicy, pause: Pause, words: str, until_ms: float = 3000
) -> tuple[Verdict, float, int]:
    """Advance a pause window by window, answering LISTEN/CUES/ASK like the segmenter would;
    returns the verdict, when, and how often it listened."""
    t, listened = 32.0, 0
    while t <= until_ms:
        pause.pause_ms = t
        for _ in range(8):
            v = policy.decide(pause)
            if v is Verdict.LISTEN:
                listened += 1
                pause.words, pause.words_whole, pause.words_done = words, True, True
            elif v is Verdict.CUES:
                pause.cues_done = True
            elif v is Verdict.ASK:
                pause.probs.append((t, 0.5))
            else:
                break
        if v in (Verdict.END_OF_TURN, Verdict.SILENCE):
            return v, t, listened
        t += 32.0
    return Verdict.WAIT, t, listened


def test_lexical_policy_listens_once_then_closes_a_finished_word_at_its_bar() -> None:
    pol = LexicalPolicy(bars=((192.0, None),), hold_ms=640)
    assert not pol.uses_model and pol.uses_words
    assert walk(pol, Pause(0, 2000, 1800), "Can you send me the report before lunch?") == (
        Verdict.END_OF_TURN,
        192,
        1,
    )


def test_lexical_policy_holds_a_continuing_word_until_hold_ms() -> None:
    pol = LexicalPolicy(bars=((192.0, None),), hold_ms=640)
    assert walk(pol, Pause(0, 2000, 1800), "I wanted to ask you about") == (Verdict.SILENCE, 640, 1)


def test_lexical_policy_without_words_falls_back_to_the_audio_rule() -> None:
    audio = AdaptivePolicy(w_model=0.0, fallback_ms=576)
    pol = LexicalPolicy(audio=audio)
    low = Pause(0, 3000, 2500, tail_slope=-20.0, end_level=+3.0)  # high ending: not finished
    v, at, _ = walk(pol, low, "")
    assert v is Verdict.SILENCE and at == pytest.approx(576, abs=32)


def test_lexical_policy_can_require_the_audio_score_for_a_finished_word() -> None:
    pol = LexicalPolicy(bars=((192.0, 5.0),), audio=AdaptivePolicy(w_model=0.0, fallback_ms=576))
    v, at, _ = walk(pol, Pause(0, 2000, 1800, tail_slope=0.0, end_level=0.0), "Thanks a lot.")
    assert v is Verdict.SILENCE and at >= 576  # the score (about 0.3) never reaches 5


def test_a_falling_bar_closes_a_less_certain_ending_later() -> None:
    audio = AdaptivePolicy(w_model=0.0, fallback_ms=576)
    pol = LexicalPolicy(bars=((128.0, 1.0), (320.0, 0.0)), audio=audio)
    sure = Pause(0, 3000, 2500, end_level=-8.0)  # a low ending after a long stretch: score > 1
    unsure = Pause(0, 3000, 2500, end_level=+1.0)  # score about 0.24: only the second bar
    doubtful = Pause(0, 3000, 2500, end_level=+6.0)  # score below 0: the fallback
    assert walk(pol, sure, "the budget for next year.")[:2] == (Verdict.END_OF_TURN, 128)
    assert walk(pol, unsure, "the budget for next year.")[:2] == (Verdict.END_OF_TURN, 320)
    assert walk(pol, doubtful, "the budget for next year.")[:2] == (Verdict.SILENCE, 576)


def test_done_ms_sets_the_fallback_after_a_finished_word_only() -> None:
    audio = AdaptivePolicy(w_model=0.0, fallback_ms=576)
    pol = LexicalPolicy(bars=((192.0, 5.0),), audio=audio, done_ms=416.0, hold_ms=640)
    flat = Pause(0, 2000, 1800, tail_slope=0.0, end_level=0.0)  # score about 0.3: never the bar
    assert walk(pol, flat, "Thanks a lot.")[:2] == (Verdict.SILENCE, 416)
    held = Pause(0, 2000, 1800, tail_slope=0.0, end_level=0.0)
    assert walk(pol, held, "I wanted to ask you about")[:2] == (Verdict.SILENCE, 640)
    silent = Pause(0, 2000, 1800, tail_slope=0.0, end_level=0.0)
    assert walk(pol, silent, "")[:2] == (Verdict.SILENCE, 576)  # nothing heard: the audio rule
    assert pol.fallback_ms == 640
