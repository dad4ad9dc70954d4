"""TurnPlanner rules, one at a time, at explicit timestamps (seconds)."""

from __future__ import annotations

import pytest

from rholive.copilot.planner import (
    ASKED,
    PROACTIVE,
    SCREEN,
    SPEECH,
    BargeIn,
    CloseTurn,
    OpenTurn,
    PlannerConfig,
    SendFrame,
    TurnPlanner,
)

CONFIG = PlannerConfig(
    max_fps=1.0, change_threshold=0.05, proactive_interval_s=10.0, quiet_s=2.0, reply_timeout_s=30.0
)


def screen_turn(frame_id: int, reason: str = PROACTIVE) -> list[object]:
    return [OpenTurn("screen", SCREEN, reason), SendFrame(frame_id), CloseTurn("screen", SCREEN)]


def planner() -> TurnPlanner:
    return TurnPlanner(CONFIG)


def answered(p: TurnPlanner, t: float) -> None:
    """The model answers the last turn at t (starts and finishes)."""
    assert p.reply_started(t) == []
    p.reply_finished(t + 0.5)


# ---------------------------------------------------------------- audio turns and their frames


def test_audio_turn_without_screen_change_carries_no_frame() -> None:
    p = planner()
    assert p.audio_turn_open("me", 1.0) == [OpenTurn("audio", "me", SPEECH)]
    assert p.open_turn == OpenTurn("audio", "me", SPEECH)
    assert p.audio_turn_close("me", 3.0) == [CloseTurn("audio", "me")]
    assert p.open_turn is None and p.reply == "waiting"


def test_audio_turn_opens_with_the_latest_changed_frame() -> None:
    p = planner()
    assert p.frame_ready(0.0, 1, 1.0) == []  # no turn open: remembered, not sent
    assert p.frame_ready(1.0, 2, 0.3) == []
    assert p.stats.frames_superseded == 1  # frame 1 never made it to the wire
    assert p.audio_turn_open("them", 1.5) == [OpenTurn("audio", "them", SPEECH), SendFrame(2)]
    assert p.stats.frames_sent == 1


def test_frames_inside_an_audio_turn_respect_max_fps() -> None:
    p = planner()
    p.audio_turn_open("me", 0.0)
    assert p.frame_ready(0.2, 1, 0.5) == [SendFrame(1)]
    assert p.frame_ready(0.7, 2, 0.5) == []  # 0.5 s after the last frame: held
    assert p.tick(1.0) == []  # 0.8 s: still held
    assert p.tick(1.2) == [SendFrame(2)]  # 1.0 s: the held frame goes out
    assert p.tick(1.5) == []  # sent once only


def test_a_held_frame_goes_out_just_before_the_close_when_its_time_has_come() -> None:
    p = planner()
    p.audio_turn_open("me", 0.0)
    assert p.frame_ready(0.5, 1, 0.5) == [SendFrame(1)]
    assert p.frame_ready(1.2, 2, 0.5) == []
    assert p.audio_turn_close("me", 1.6) == [SendFrame(2), CloseTurn("audio", "me")]


def test_a_held_frame_stays_unsent_when_the_turn_closes_too_early() -> None:
    p = planner()
    p.audio_turn_open("me", 0.0)
    p.frame_ready(0.5, 1, 0.5)
    p.frame_ready(1.0, 2, 0.5)
    assert p.audio_turn_close("me", 1.2) == [CloseTurn("audio", "me")]
    assert p.frame_ready(1.3, 3, 0.5) == []  # after the close: no frame until the next turn opens
    assert p.tick(1.4) == []  # model owes a reply: no screen turn either
    assert p.audio_turn_open("me", 5.0) == [OpenTurn("audio", "me", SPEECH), SendFrame(3)]


def test_nothing_is_sent_between_the_close_and_the_next_open() -> None:
    p = planner()
    p.audio_turn_open("me", 0.0)
    p.audio_turn_close("me", 1.0)
    answered(p, 1.5)
    for i, t in enumerate((2.1, 2.4, 2.8), start=1):
        assert p.frame_ready(t, i, 0.001) == []  # small change, below the screen-turn threshold
    assert p.tick(100.0) == []
    assert p.stats.frames_sent == 0


def test_turns_that_break_the_one_speaker_rule_raise() -> None:
    p = planner()
    p.audio_turn_open("me", 0.0)
    with pytest.raises(ValueError, match="still open"):
        p.audio_turn_open("them", 0.5)
    with pytest.raises(ValueError, match="not the open turn"):
        p.audio_turn_close("them", 0.6)
    p.audio_turn_close("me", 1.0)
    with pytest.raises(ValueError, match="not the open turn"):
        p.audio_turn_close("me", 1.1)


# ---------------------------------------------------------------- barge-in


def test_speaking_over_a_streaming_reply_barges_in_first() -> None:
    p = planner()
    p.audio_turn_open("me", 0.0)
    p.audio_turn_close("me", 1.0)
    p.reply_started(1.5)
    assert p.reply == "streaming" and p.model_state == "thinking"
    out = p.audio_turn_open("them", 2.0)
    assert out == [BargeIn("them"), OpenTurn("audio", "them", SPEECH)]
    assert p.stats.barge_ins == 1
    assert p.model_state == "listening"


def test_speaking_while_a_reply_is_owed_but_not_streaming_needs_no_barge_in() -> None:
    p = planner()
    p.audio_turn_open("me", 0.0)
    p.audio_turn_close("me", 1.0)
    assert p.audio_turn_open("them", 1.2) == [OpenTurn("audio", "them", SPEECH)]


def test_the_interruption_of_a_cut_reply_is_not_taken_for_the_new_reply() -> None:
    p = planner()
    p.frame_ready(0.0, 1, 1.0)
    p.audio_turn_open("me", 0.0)
    p.audio_turn_close("me", 1.0)
    p.reply_started(1.5)
    p.audio_turn_open("me", 2.0)  # barge-in: the service cuts the reply
    p.audio_turn_close("me", 2.3)
    p.interrupted(2.4)  # late: it belongs to the cut reply
    p.frame_ready(2.5, 2, 0.5)
    assert p.reply == "waiting"
    assert p.tick(20.0) == []  # still owed: no screen turn over the coming answer
    p.reply_started(20.5)
    p.reply_finished(21.0)
    assert p.reply == "idle"
    assert p.tick(30.0) == screen_turn(2)


def test_interrupted_then_turn_complete_of_the_cut_reply_both_belong_to_it() -> None:
    p = planner()
    p.audio_turn_open("me", 0.0)
    p.audio_turn_close("me", 1.0)
    p.reply_started(1.5)
    p.audio_turn_open("me", 2.0)
    p.interrupted(2.1)
    p.reply_finished(2.1)  # the service's terminal turnComplete of the cut reply
    p.audio_turn_close("me", 3.0)
    assert p.reply == "waiting"
    p.reply_started(3.5)
    p.reply_finished(4.0)
    assert p.reply == "idle"


def test_a_cut_reply_that_had_finished_ends_with_turn_complete_alone() -> None:
    p = planner()
    p.audio_turn_open("me", 0.0)
    p.audio_turn_close("me", 1.0)
    p.reply_started(1.5)
    p.audio_turn_open("me", 2.0)
    p.audio_turn_close("me", 2.5)
    p.reply_finished(2.6)  # the old reply had completed before our activityStart reached the service
    assert p.reply == "waiting"
    p.reply_started(3.0)
    p.reply_finished(3.2)
    assert p.reply == "idle"


def test_a_reply_without_content_is_the_model_choosing_silence_not_a_stale_end() -> None:
    """Proactive audio may answer with a bare turnComplete: waiting for content till reply_timeout_s (30 s)
    held every later screen turn back."""
    p = planner()
    p.frame_ready(0.0, 1, 1.0)
    p.audio_turn_open("me", 0.0)
    p.audio_turn_close("me", 1.0)
    assert p.reply == "waiting"
    p.reply_finished(1.2)  # no reply_started before it: nothing was said
    assert p.reply == "idle" and p.stats.silent_replies == 1 and p.stats.stale_ends == 0
    p.frame_ready(2.0, 2, 0.5)
    assert p.tick(20.0) == screen_turn(2)


def test_the_cut_replys_turn_complete_then_a_silent_answer() -> None:
    p = planner()
    p.audio_turn_open("me", 0.0)
    p.audio_turn_close("me", 1.0)  # owed, not started yet
    p.audio_turn_open("me", 1.1)  # cuts it
    p.audio_turn_close("me", 2.0)
    p.reply_finished(2.1)  # the cut reply's own turnComplete
    assert p.reply == "waiting" and p.stats.stale_ends == 1
    p.reply_finished(2.5)  # the answer to the second turn: silence
    assert p.reply == "idle" and p.stats.silent_replies == 1


def test_an_interruption_nobody_caused_ends_the_reply() -> None:
    p = planner()
    p.audio_turn_open("me", 0.0)
    p.audio_turn_close("me", 1.0)
    p.reply_started(1.5)
    p.interrupted(2.0)
    assert p.reply == "idle"


# ---------------------------------------------------------------- proactive screen turns


def idle_with_change(frame_id: int = 1, fraction: float = 0.5) -> TurnPlanner:
    p = planner()
    assert p.frame_ready(0.0, frame_id, fraction) == []
    return p


def test_a_significant_change_with_an_idle_model_and_quiet_room_makes_a_screen_turn() -> None:
    p = idle_with_change()
    assert p.tick(0.5) == screen_turn(1)
    assert p.reply == "waiting" and p.busy and p.model_state == "thinking"
    assert p.stats.screen_turns == 1 and p.stats.frames_sent == 1


def test_small_changes_add_up_to_a_screen_turn() -> None:
    p = planner()
    p.frame_ready(0.0, 1, 0.02)
    assert p.tick(0.5) == []  # 0.02 < 0.05
    p.frame_ready(1.0, 2, 0.02)
    assert p.tick(1.5) == []  # 0.04
    p.frame_ready(2.0, 3, 0.02)
    assert p.tick(2.5) == screen_turn(3)  # 0.06


def test_no_screen_turn_while_a_reply_streams_or_is_owed() -> None:
    p = planner()
    p.audio_turn_open("me", 0.0)
    p.audio_turn_close("me", 1.0)
    p.frame_ready(1.1, 1, 0.5)
    assert p.tick(5.0) == []  # owed
    p.reply_started(5.5)
    assert p.tick(6.0) == []  # streaming
    p.reply_finished(7.0)
    assert p.tick(7.1) == screen_turn(1)


def test_no_screen_turn_while_someone_speaks_or_just_spoke() -> None:
    p = idle_with_change()
    p.speech_activity("them", 0.2)  # speech the segmenter has not confirmed as a turn yet
    assert p.tick(1.0) == []
    assert p.tick(2.1) == []  # 1.9 s of quiet < 2.0
    assert p.tick(2.2) == screen_turn(1)


def test_no_screen_turn_during_an_audio_turn_and_quiet_counts_from_its_close() -> None:
    p = planner()
    p.audio_turn_open("me", 0.0)
    p.audio_turn_close("me", 1.0)
    answered(p, 1.0)
    p.frame_ready(1.6, 1, 0.5)
    assert p.tick(2.9) == []  # 1.9 s after the close
    assert p.tick(3.0) == screen_turn(1)


def test_screen_turns_are_at_least_the_proactive_interval_apart() -> None:
    p = idle_with_change()
    assert p.tick(0.5) == screen_turn(1)
    answered(p, 1.0)
    p.frame_ready(2.0, 2, 0.5)
    assert p.tick(10.4) == []
    assert p.tick(10.5) == screen_turn(2)


def test_a_screen_turn_waits_for_the_frame_interval() -> None:
    p = TurnPlanner(PlannerConfig(max_fps=0.2, proactive_interval_s=0.0, quiet_s=0.0))
    p.audio_turn_open("me", 0.0)
    assert p.frame_ready(0.1, 1, 0.5) == [SendFrame(1)]
    p.audio_turn_close("me", 0.2)
    answered(p, 0.3)
    p.frame_ready(0.9, 2, 0.5)
    assert p.tick(5.0) == []  # 4.9 s since frame 1 < 1 / 0.2
    assert p.tick(5.1) == screen_turn(2)


def test_a_frame_sent_in_an_audio_turn_resets_the_accumulated_change() -> None:
    p = idle_with_change()
    p.audio_turn_open("me", 0.1)  # carries frame 1
    p.audio_turn_close("me", 1.0)
    answered(p, 1.5)
    assert p.tick(30.0) == []  # the model has seen this screen


def test_an_unanswered_turn_is_given_up_after_the_reply_timeout() -> None:
    p = planner()
    p.audio_turn_open("me", 0.0)
    p.audio_turn_close("me", 1.0)
    p.frame_ready(2.0, 1, 0.5)
    assert p.tick(30.9) == []
    assert p.tick(31.0) == screen_turn(1)
    assert p.stats.reply_timeouts == 1


def test_a_streaming_reply_is_never_timed_out() -> None:
    p = planner()
    p.audio_turn_open("me", 0.0)
    p.audio_turn_close("me", 1.0)
    p.reply_started(2.0)
    p.frame_ready(2.0, 1, 0.5)
    assert p.tick(100.0) == []
    assert p.reply == "streaming"


# ---------------------------------------------------------------- ask now


def test_ask_now_when_free_sends_the_latest_frame_even_unchanged() -> None:
    p = idle_with_change()
    assert p.tick(0.5) == screen_turn(1)
    answered(p, 1.0)
    assert p.ask_now(2.0) == screen_turn(1, ASKED)  # nothing changed: the same frame again
    assert p.stats.asked_turns == 1 and not p.ask_pending


def test_ask_now_ignores_the_frame_rate_quiet_and_interval() -> None:
    p = planner()
    p.speech_activity("me", 0.0)
    p.frame_ready(0.0, 1, 0.5)
    assert p.ask_now(0.1) == screen_turn(1, ASKED)


def test_ask_now_while_a_reply_streams_waits_for_its_end() -> None:
    p = idle_with_change()
    p.tick(0.5)
    p.reply_started(1.0)
    assert p.ask_now(1.5) == []
    assert p.ask_pending
    p.frame_ready(1.6, 2, 0.001)
    assert p.reply_finished(3.0) == screen_turn(2, ASKED)
    assert not p.ask_pending


def test_ask_now_during_an_audio_turn_puts_the_screen_in_the_next_turn() -> None:
    p = idle_with_change()
    p.audio_turn_open("me", 0.1)  # carries frame 1
    assert p.ask_now(0.5) == []
    assert p.audio_turn_close("me", 1.0) == [CloseTurn("audio", "me")]
    assert p.ask_pending  # the model owes a reply now
    p.reply_started(1.5)
    assert p.reply_finished(2.0) == screen_turn(1, ASKED)


def test_a_pending_ask_rides_on_the_next_audio_turn() -> None:
    p = idle_with_change()
    p.tick(0.5)
    p.reply_started(1.0)
    p.ask_now(1.1)
    out = p.audio_turn_open("me", 1.2)  # frame 1 already sent at 0.5, forced again for the ask
    assert out == [BargeIn("me"), OpenTurn("audio", "me", SPEECH), SendFrame(1)]
    assert not p.ask_pending


def test_ask_now_before_any_frame_waits_for_the_first_frame() -> None:
    p = planner()
    assert p.ask_now(0.0) == []
    assert p.tick(1.0) == []
    assert p.frame_ready(1.5, 7, 1.0) == screen_turn(7, ASKED)


# ---------------------------------------------------------------- time and config


def test_timestamps_that_go_backwards_count_as_the_latest_seen() -> None:
    p = idle_with_change()
    p.speech_activity("me", 5.0)
    assert p.tick(6.0) == []
    assert p.tick(1.0) == []  # taken as 6.0: still within quiet_s
    assert p.tick(7.0) == screen_turn(1)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"max_fps": 0},
        {"change_threshold": 0},
        {"change_threshold": 1.5},
        {"quiet_s": -1},
        {"proactive_interval_s": -1},
        {"reply_timeout_s": 0},
    ],
)
def test_bad_config_is_refused(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        PlannerConfig(**kwargs)
