"""LiveSession survives the service's connection behaviour: goAway, dropped sockets, refused handles.

The emulator's conversation records every user turn it received; a resumed session must deliver each
turn exactly once (none lost in a dead socket, none doubled by a replay) and every turn must be answered.
"""

from __future__ import annotations

import pytest

from rholive.emulator import Emulator
from rholive.live import ActivityDetection, Endpoint, LiveSession, SessionOptions, SetupConfig
from rholive.live import events as ev

from .conftest import Events, emulator_options

FAST_RETRY = SessionOptions(backoff_initial_s=0.05, backoff_max_s=0.2)
MAX_TURNS = 60


async def test_go_away_resumes_on_a_new_connection_with_no_lost_or_doubled_turn() -> None:
    # goAway 0.5 s into every connection; the server would close it 1 s later
    options = emulator_options(connection_lifetime_s=1.5, goaway_notice_s=1.0, reply_delay_s=0.05)
    async with Emulator(options) as emu:
        async with LiveSession(Endpoint(emu.url), SetupConfig(), options=FAST_RETRY) as session:
            seen = Events(session)
            sent: list[str] = []
            while seen.count(ev.Resumed) < 3 and len(sent) < MAX_TURNS:
                sent.append(f"turn {len(sent) + 1}")
                await session.send_turn(sent[-1])
                await seen.until(lambda s: len(s.replies()) == len(sent))
        await seen.ended()
    assert seen.count(ev.Resumed) >= 3, "the emulator sent no goAway"
    assert {e.reason for e in seen.of(ev.Reconnecting)} == {"go_away"}
    assert all(e.resumed for e in seen.of(ev.Connected)[1:])
    assert seen.count(ev.ContextLost) == 0
    (conversation,) = emu.conversations
    assert [t.text for t in conversation.turns] == sent  # each turn arrived exactly once, in order
    assert seen.replies() == [f"reply {n}: turn {n}" for n in range(1, len(sent) + 1)]
    assert conversation.connections == session.connections >= 4
    assert isinstance(seen.items[-1], ev.Closed) and not seen.items[-1].error


async def test_messages_queued_while_reconnecting_go_out_afterwards_in_order() -> None:
    options = emulator_options(connection_lifetime_s=1.0, goaway_notice_s=0.7)  # goAway every 0.3 s
    async with Emulator(options) as emu:
        config = SetupConfig(activity_detection=ActivityDetection(disabled=True))
        async with LiveSession(Endpoint(emu.url), config, options=FAST_RETRY) as session:
            seen = Events(session)
            await seen.until(lambda s: s.count(ev.Reconnecting) == 1)
            # sent while the session is between connections: queued, then sent in order, possibly
            # spread over several connections (replayed when a goAway cut the turn)
            await session.activity_start()
            await session.send_text("one")
            await session.send_text("two")
            await session.activity_end()
            await seen.until(lambda s: s.count(ev.TurnComplete) == 1)
    (turn,) = emu.conversations[0].turns
    assert turn.text.split() == ["one", "two"]
    assert seen.replies() == [f"reply 1: {turn.text}"]


async def test_a_dropped_connection_is_resumed_and_the_unconsumed_turn_replayed() -> None:
    # the emulator aborts TCP (no close frame: 1006) right after consuming the 3rd client message
    async with Emulator(emulator_options(drop_after_messages=3)) as emu:
        async with LiveSession(Endpoint(emu.url), SetupConfig(), options=FAST_RETRY) as session:
            seen = Events(session)
            await session.send_turn("turn 1")
            await seen.until(lambda s: s.count(ev.TurnComplete) == 1)
            await session.send_turn("turn 2")  # consumed, then the socket dies before any reply
            await seen.until(lambda s: s.count(ev.TurnComplete) == 2)
            await session.send_turn("turn 3")
            await seen.until(lambda s: s.count(ev.TurnComplete) == 3)
    (reconnecting,) = seen.of(ev.Reconnecting)
    assert "1006" in reconnecting.reason
    (resumed,) = seen.of(ev.Resumed)
    assert resumed.replayed == 1  # turn 2: sent after the last consumed index the server reported
    (conversation,) = emu.conversations
    assert [t.text for t in conversation.turns] == ["turn 1", "turn 2", "turn 3"]
    assert seen.replies() == ["reply 1: turn 1", "reply 2: turn 2", "reply 3: turn 3"]
    assert session.usage.reports == 3  # usage accumulates across connections


@pytest.mark.parametrize("code", [1000, 1001, 1011])
async def test_a_close_the_app_did_not_ask_for_is_resumed(code: int) -> None:
    async with Emulator(emulator_options(close_code=code, close_after_messages=2)) as emu:
        async with LiveSession(Endpoint(emu.url), SetupConfig(), options=FAST_RETRY) as session:
            seen = Events(session)
            await session.send_turn("hello")
            await seen.until(lambda s: s.count(ev.TurnComplete) == 1)
    assert f"({code} Emulator fault" in seen.of(ev.Reconnecting)[0].reason
    assert seen.of(ev.Resumed)[0].replayed == 1
    assert [t.text for t in emu.conversations[0].turns] == ["hello"]
    assert seen.replies() == ["reply 1: hello"]


@pytest.mark.parametrize("code", [1007, 1008])
async def test_a_refusal_mid_session_ends_it_without_retry(code: int) -> None:
    async with Emulator(emulator_options(close_code=code, close_after_messages=2)) as emu:
        async with LiveSession(Endpoint(emu.url), SetupConfig(), options=FAST_RETRY) as session:
            seen = Events(session)
            await session.send_turn("hello")
            await seen.ended()
    closed = seen.items[-1]
    assert isinstance(closed, ev.Closed) and closed.error and closed.code == code
    assert "Emulator fault" in closed.reason
    assert seen.count(ev.Reconnecting) == 0 and emu.conversations[0].connections == 1


async def test_reconnection_gives_up_after_the_configured_attempts() -> None:
    options = SessionOptions(backoff_initial_s=0.01, backoff_max_s=0.05, max_reconnect_attempts=3)
    async with Emulator(emulator_options()) as emu:
        async with LiveSession(Endpoint(emu.url), SetupConfig(), options=options) as session:
            seen = Events(session)
            await emu.stop()  # closes with 1001, then nothing listens on the port any more
            await seen.ended()
    attempts = seen.of(ev.Reconnecting)
    assert [a.attempt for a in attempts] == [1, 2, 3]
    assert "1001" in attempts[0].reason and "cannot connect" in attempts[1].reason
    closed = seen.items[-1]
    assert isinstance(closed, ev.Closed) and closed.error and "gave up after 3" in closed.reason


async def test_a_drop_without_any_handle_reports_context_lost_and_resends_the_pending_turn() -> None:
    async with Emulator(emulator_options(drop_after_messages=2)) as emu:
        config = SetupConfig(session_resumption=False)  # no handle will ever exist
        async with LiveSession(Endpoint(emu.url), config, options=FAST_RETRY) as session:
            seen = Events(session)
            await session.send_turn("hello")
            await seen.until(lambda s: s.count(ev.TurnComplete) == 1)
            await session.send_turn("again")
            await seen.until(lambda s: s.count(ev.TurnComplete) == 2)
    (lost,) = seen.of(ev.ContextLost)
    assert "resumption is off" in lost.reason
    assert seen.count(ev.Resumed) == 0
    assert [c.resumed for c in seen.of(ev.Connected)] == [False, False]
    first, second = emu.conversations
    assert [t.text for t in first.turns] == ["hello"]  # consumed, then the socket died
    assert [t.text for t in second.turns] == ["hello", "again"]  # the pending turn was sent again
    assert seen.replies() == ["reply 1: hello", "reply 2: again"]


async def test_a_refused_handle_starts_afresh_and_says_the_context_was_lost() -> None:
    # the session limit ends the conversation for good: its handles are refused (1008) afterwards
    options = emulator_options(audio_session_limit_s=1.0)
    async with Emulator(options) as emu:
        async with LiveSession(Endpoint(emu.url), SetupConfig(), options=FAST_RETRY) as session:
            seen = Events(session)
            await seen.until(lambda s: s.count(ev.ContextLost) == 1)
            await session.send_turn("still there?")
            await seen.until(lambda s: s.count(ev.TurnComplete) == 1)
    lost = seen.of(ev.ContextLost)[0]
    assert "resumption refused" in lost.reason and "Session limit" in lost.reason
    assert len(emu.conversations) >= 2
