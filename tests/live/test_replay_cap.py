"""The replay buffer's bound: a server that stops sending resumption updates must not make it grow for the
whole session. Past its cap it forgets the oldest answered turns first (counted), whole, and the turn in
progress stays whole."""

from __future__ import annotations

from rholive.live import wire
from rholive.live.replay import ReplayBuffer


def turn(n: int, chunks: int = 3) -> list[str]:
    audio = [wire.encode(wire.realtime_audio(bytes([n]) * 600)) for _ in range(chunks)]
    return [wire.encode(wire.activity_start()), *audio, wire.encode(wire.activity_end())]


def kept_bytes(replay: ReplayBuffer) -> int:
    return sum(len(text) for text in replay.restart(fresh=False))


def test_past_the_cap_answered_turns_go_first_and_the_pending_turn_is_whole() -> None:
    answered = [turn(n) for n in range(1, 6)]
    cap = 2 * sum(map(len, answered[0]))  # room for about two answered turns
    replay = ReplayBuffer("handle-0", max_bytes=cap)
    for messages in answered:
        for text in messages:
            replay.record(text)
        replay.turn_complete()  # no resumption update comes: the server stopped sending them
    assert replay.evicted > 0 and replay.bytes <= cap
    pending = turn(9)
    for text in pending:
        replay.record(text)
    assert replay.bytes <= cap
    assert replay.restart(fresh=False)[-len(pending) :] == pending  # the turn being spoken is whole


def test_unanswered_streaming_past_the_cap_keeps_its_newest_part() -> None:
    """Server-side VAD: audio streams with no turn markers, and no turnComplete comes for a long time."""
    chunks = [wire.encode(wire.realtime_audio(bytes([n]) * 600)) for n in range(40)]
    cap = 10 * len(chunks[0])
    replay = ReplayBuffer("handle-0", max_bytes=cap)
    for text in chunks:
        replay.record(text)
    assert replay.bytes <= cap and replay.evicted == 30
    assert replay.restart(fresh=False) == chunks[-10:]


def test_the_newest_answered_turns_are_the_ones_kept() -> None:
    answered = [turn(n) for n in range(1, 6)]
    cap = 2 * sum(map(len, answered[0]))
    replay = ReplayBuffer("handle-0", max_bytes=cap)
    for messages in answered:
        for text in messages:
            replay.record(text)
        replay.turn_complete()
    resend = replay.restart(fresh=False)
    assert resend == [text for messages in answered for text in messages][-len(resend) :]
    assert answered[-1][1] in resend and answered[0][1] not in resend  # each turn's audio is its own
    assert resend[0] == wire.encode(wire.activity_start())  # whole turns only: a resume never starts mid-turn
    assert replay.evicted + len(resend) == sum(map(len, answered))


def test_bytes_follow_updates_and_restarts() -> None:
    replay = ReplayBuffer()
    first, second = turn(1), turn(2)
    for text in first + second:
        replay.record(text)
    assert replay.bytes == sum(map(len, first + second))
    replay.update("handle-1", True, len(first))  # the server consumed the first turn
    assert replay.bytes == sum(map(len, second)) == kept_bytes(replay)
    assert replay.evicted == 0  # under the cap nothing is forgotten without an update
