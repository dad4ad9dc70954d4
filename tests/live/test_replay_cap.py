"""The replay buffer's bound: a server that stops sending resumption updates must not make it grow for the
whole session. Answered turns are not kept at all; past its cap the oldest unanswered input goes (counted)."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from rholive.emulator import Emulator
from rholive.live import Endpoint, LiveSession, SetupConfig, wire
from rholive.live import events as ev
from rholive.live.replay import AMBIENT_MAX_BYTES, ReplayBuffer

from .conftest import Events


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


def audio(n: int) -> str:
    return wire.encode(wire.realtime_audio(bytes([n % 256]) * 600))


def test_realtime_input_outside_a_turn_keeps_only_its_newest_window() -> None:
    """Server-side VAD and no update: the buffer stays at the ambient window, and every drop is counted."""
    chunks = [audio(n) for n in range(100)]
    window = 10 * len(chunks[0])
    replay = ReplayBuffer("handle-0", ambient_max_bytes=window)
    for text in chunks:
        replay.record(text)
    assert replay.bytes == replay.ambient_bytes == window
    assert replay.evicted == replay.evicted_ambient == 90 and len(replay) == 10
    assert replay.restart(fresh=False) == chunks[-10:]


def test_a_client_marked_turn_is_kept_whole_past_the_ambient_window() -> None:
    pending = turn(1, chunks=50)
    replay = ReplayBuffer("handle-0", ambient_max_bytes=5 * len(audio(0)))
    for text in pending:
        replay.record(text)
    assert replay.evicted == 0 and replay.ambient_bytes == 0
    assert replay.restart(fresh=False) == pending


def test_a_pending_typed_turn_survives_the_window_moving_past_it() -> None:
    """Ambient audio older and newer than a typed turn: only audio goes, the turn and the order stay."""
    typed = wire.encode(wire.client_content("what is on my screen?"))
    before, after = [audio(n) for n in range(5)], [audio(n) for n in range(100, 400)]
    replay = ReplayBuffer("handle-0", ambient_max_bytes=20 * len(audio(0)))
    for text in [*before, typed, *after]:
        replay.record(text)
    assert replay.evicted == replay.evicted_ambient == 285
    assert len(replay) == 21 and replay.bytes == len(typed) + replay.ambient_bytes
    assert replay.restart(fresh=False) == [typed, *after[-20:]]


def test_the_rest_of_a_turn_resumed_mid_way_is_still_the_turn() -> None:
    """The server consumed activityStart and the turn goes on after a resume: its audio is turn audio, whatever
    its length, though activityStart itself is no longer kept."""
    replay = ReplayBuffer("handle-0", ambient_max_bytes=5 * len(audio(0)))
    first = turn(1, chunks=10)[:-1]  # activityStart and audio, no activityEnd yet
    for text in first:
        replay.record(text)
    replay.update("handle-1", True, 1)  # activityStart consumed
    assert replay.restart(fresh=False) == first[1:]
    rest = [audio(n) for n in range(20)] + [wire.encode(wire.activity_end())]
    for text in rest:
        replay.record(text)
    assert replay.evicted == 0
    assert replay.restart(fresh=False) == first[1:] + rest


async def test_a_session_streaming_with_no_update_resends_only_the_window_and_counts_the_rest(
    emu: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    """Server-side VAD, faint noise (no turn, no answer, no resumption update), then a drop: the resume resends
    the newest ~1 MiB only; what went before is counted and said once."""
    noise = (np.random.default_rng(3).normal(0, 30, 1600).astype("<i2")).tobytes()  # 100 ms, under the VAD
    kept = AMBIENT_MAX_BYTES // len(wire.realtime_audio_text(noise))
    chunks = kept + 40
    emu.options.drop_after_messages = chunks + 2  # the setup, the chunks, then one more drops the connection
    with caplog.at_level(logging.WARNING, logger="rholive.live"):
        async with LiveSession(Endpoint(emu.url), SetupConfig()) as session:
            seen = Events(session)
            for _ in range(chunks + 1):
                await session.send_audio(noise)
            await seen.until(lambda s: s.count(ev.Resumed) == 1)
            assert session.replay_evicted == 41
    assert seen.of(ev.Resumed)[0].replayed == kept
    warnings = [r.getMessage() for r in caplog.records if "outside a turn" in r.getMessage()]
    assert len(warnings) == 1 and "1024 KiB" in warnings[0]
