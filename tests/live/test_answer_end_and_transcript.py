"""Pure logic: when an answer is over (AnswerEnd), the session's transcript, the history seed's numbering."""

from __future__ import annotations

from rholive.live.answer_end import AnswerEnd
from rholive.live.events import InteractionStatus, OutputTranscription, TurnComplete, Usage
from rholive.live.replay import ReplayBuffer
from rholive.live.transcript import Transcript
from rholive.live.wire import HistoryTurn


def test_a_turn_complete_without_status_ends_the_answer() -> None:
    end = AnswerEnd()
    assert not end.frame([OutputTranscription("hi")])
    assert end.frame([TurnComplete(), Usage()])


def test_in_progress_defers_the_end_to_idle() -> None:
    end = AnswerEnd()
    assert not end.frame([TurnComplete(), InteractionStatus("IN_PROGRESS")])
    assert not end.frame([OutputTranscription("still thinking aloud")])
    assert not end.frame([InteractionStatus("IN_PROGRESS")])
    assert end.frame([TurnComplete(), InteractionStatus("IDLE")])


def test_idle_alone_ends_a_deferred_answer_once() -> None:
    end = AnswerEnd()
    assert not end.frame([TurnComplete(), InteractionStatus("IN_PROGRESS")])
    assert end.frame([InteractionStatus("IDLE")])
    assert not end.frame([InteractionStatus("IDLE")])  # nothing was pending


def test_requires_action_is_the_old_name_of_idle() -> None:
    end = AnswerEnd()
    end.frame([TurnComplete(), InteractionStatus("IN_PROGRESS")])
    assert end.frame([InteractionStatus("REQUIRES_ACTION")])


def test_a_fresh_connection_forgets_background_work() -> None:
    end = AnswerEnd()
    end.frame([TurnComplete(), InteractionStatus("IN_PROGRESS")])
    end.reset()
    assert not end.frame([InteractionStatus("IDLE")])


def test_transcript_joins_pieces_per_side_and_alternates() -> None:
    transcript = Transcript()
    transcript.piece("user", "what time ")
    transcript.piece("user", "is it?")
    transcript.piece("model", "It is ")
    transcript.piece("model", "noon.")
    transcript.close()
    transcript.user("thanks")
    assert transcript.turns() == [
        HistoryTurn("user", "what time is it?"),
        HistoryTurn("model", "It is noon."),
        HistoryTurn("user", "thanks"),
    ]


def test_answered_leaves_out_the_pending_user_turn() -> None:
    transcript = Transcript([HistoryTurn("user", "a"), HistoryTurn("model", "b")])
    transcript.user("c")
    assert transcript.answered() == [HistoryTurn("user", "a"), HistoryTurn("model", "b")]


def test_the_open_answer_is_not_history_until_it_closes() -> None:
    transcript = Transcript([HistoryTurn("user", "a")])
    transcript.piece("model", "half an ans")
    assert transcript.turns() == [HistoryTurn("user", "a")]


def test_transcript_is_bounded_oldest_first() -> None:
    transcript = Transcript(max_chars=10)
    for text in ("aaaa", "bbbb", "cccc"):
        transcript.user(text)
    assert [t.text for t in transcript.turns()] == ["bbbb", "cccc"]


def test_a_skipped_seed_is_numbered_but_never_resent() -> None:
    replay = ReplayBuffer()
    replay.skip()  # the history seed is message 1
    replay.record('{"realtimeInput":{"text":"hi"}}')
    replay.update("h1", True, 1)  # the server consumed the seed only
    assert replay.restart(fresh=False) == ['{"realtimeInput":{"text":"hi"}}']


def test_restart_numbers_the_resent_after_a_seed() -> None:
    replay = ReplayBuffer()
    replay.record('{"realtimeInput":{"text":"pending"}}')
    resend = replay.restart(fresh=True, skipped=1)
    assert resend == ['{"realtimeInput":{"text":"pending"}}']
    replay.update("h2", True, 2)  # seed (1) and the resent turn (2) consumed
    assert len(replay) == 0
