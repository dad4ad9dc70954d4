"""The replay buffer's bound: a server that stops sending resumption updates must not make it grow for the
whole session. Answered turns are not kept at all; past its cap the oldest unanswered input goes (counted)."""

from __future__ import annotations

from rholive.live import wire
from rholive.live.replay import ReplayBuffer


def turn(n: int, chunks: int = 3) -> list[str]:
    audio = [wire.encode(wire.realtime_audio(bytes([n]) * 600)) for _ in range(chunks)]
    return [wire.encode(wire.activity_start()), *audio, wire.encode(wire.activity_end())]


def kept_bytes(replay: ReplayBuffer) -> int:
    return sum(len(text) for text in replay.restart(fresh=False))


def test_answered_turns_are_forgotten_at_their_answer_and_the_pending_turn_is_whole() -> None:
    answered = [turn(n) for n in range(1, 6)]
    cap = 2 * sum(map(len, answered[0]))
    replay = ReplayBuffer("handle-0", max_bytes=cap)
    for messages in answered:
        for text in messages:
            replay.record(text)
        replay.turn_complete()  # no resumption update comes: the server stopped sending them
    assert replay.bytes == 0 and replay.evicted == 0  # nothing answered is kept, so nothing was evicted
    pending = turn(9)
    for text in pending:
        replay.record(text)
    assert replay.restart(fresh=False) == pending


def test_unanswered_streaming_past_the_cap_keeps_its_newest_part() -> None:
    """Server-side VAD: audio streams with no turn markers, and no turnComplete comes for a long time."""
    chunks = [wire.encode(wire.realtime_audio(bytes([n]) * 600)) for n in range(40)]
    cap = 10 * len(chunks[0])
    replay = ReplayBuffer("handle-0", max_bytes=cap)
    for text in chunks:
        replay.record(text)
    assert replay.bytes <= cap and replay.evicted == 30
    assert replay.restart(fresh=False) == chunks[-10:]


def test_a_resume_and_a_fresh_start_resend_the_same() -> None:
    """Both start from what follows the last answer: an answered turn resent would be answered twice."""
    first, second = turn(1), turn(2)
    resumed, fresh = ReplayBuffer("handle-0"), ReplayBuffer("handle-0")
    for replay in (resumed, fresh):
        for text in first:
            replay.record(text)
        replay.turn_complete()  # then the connection closes before any resumption update
        for text in second:
            replay.record(text)
    assert resumed.restart(fresh=False) == fresh.restart(fresh=True) == second


def test_bytes_follow_updates_and_restarts() -> None:
    replay = ReplayBuffer()
    first, second = turn(1), turn(2)
    for text in first + second:
        replay.record(text)
    assert replay.bytes == sum(map(len, first + second))
    replay.update("handle-1", True, len(first))  # the server consumed the first turn
    assert replay.bytes == sum(map(len, second)) == kept_bytes(replay)
    assert replay.evicted == 0  # under the cap nothing is forgotten without an update
