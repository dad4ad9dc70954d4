"""LiveSession against the real emulator over real sockets: turns, tools, interruption, goAway, drops,
refusals, ephemeral tokens. No sleeps: every wait is on an observed condition."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from rholive.emulator import Emulator, EmulatorOptions
from rholive.live import ActivityDetection, Endpoint, LiveSession, SetupConfig, SetupRejected, ToolRegistry
from rholive.live import events as ev

from .conftest import Events
from .lead_support import NumberingBrain


@pytest.fixture
def options() -> EmulatorOptions:
    return EmulatorOptions(brain=NumberingBrain(), words_per_part=2)


@pytest.fixture
async def emulator(options: EmulatorOptions) -> AsyncIterator[Emulator]:
    async with Emulator(options) as emu:
        yield emu


def endpoint(emu: Emulator, **kw: Any) -> Endpoint:
    return Endpoint(base_url=emu.url, **kw)


async def test_text_turn_streams_and_the_iterator_goes_on_after_turn_complete(emulator: Emulator) -> None:
    async with LiveSession(endpoint(emulator), SetupConfig()) as session:
        seen = Events(session)
        await session.send_turn("hello")
        await seen.until(lambda t: t.count(ev.TurnComplete) == 1)
        await session.send_turn("again")
        await seen.until(lambda t: t.count(ev.TurnComplete) == 2)
    await seen.ended()
    assert seen.replies() == ["answer 1: hello ok", "answer 2: again ok"]
    assert seen.count(ev.OutputTranscription) > 2  # streamed in several parts
    assert seen.count(ev.Connected) == 1
    assert isinstance(seen.items[-1], ev.Closed) and not seen.items[-1].error
    assert session.usage.reports == 2 and session.usage.total_tokens > 0
    assert session.usage.prompt_by_modality["TEXT"] > 0


async def test_tool_round_trip_sync_and_async(emulator: Emulator) -> None:
    tools = ToolRegistry()

    @tools.tool
    def shout(value: str) -> dict[str, str]:
        """Upper-case a word."""
        return {"loud": value.upper()}

    @tools.tool
    async def count(value: str) -> int:
        """Count letters."""
        return len(value)

    async with LiveSession(endpoint(emulator), SetupConfig(), tools=tools) as session:
        seen = Events(session)
        await session.send_turn("tool shout hey")
        await seen.until(lambda t: t.count(ev.TurnComplete) == 1)
        await session.send_turn("tool count four")
        await seen.until(lambda t: t.count(ev.TurnComplete) == 2)
    assert seen.replies() == ["shout gave {'loud': 'HEY'}", "count gave {'result': 4}"]
    calls = seen.of(ev.ToolCall)
    results = seen.of(ev.ToolResult)
    assert [c.calls[0].id for c in calls] == [r.id for r in results]


async def test_interruption_by_a_new_turn(emulator: Emulator) -> None:
    emulator.options.reply_delay_s = 2.0
    async with LiveSession(endpoint(emulator), SetupConfig()) as session:
        seen = Events(session)
        await session.send_turn("first")
        await seen.until(lambda t: t.count(ev.ResumptionUpdate) >= 1)
        await session.send_turn("second")
        await seen.until(lambda t: t.count(ev.Interrupted) == 1)
        emulator.options.reply_delay_s = 0.0
        await seen.until(lambda t: "answer 2: second ok" in t.replies())


async def test_go_away_then_resume_loses_and_doubles_nothing(emulator: Emulator) -> None:
    emulator.options.connection_lifetime_s = 1.0
    emulator.options.goaway_notice_s = 0.6
    emulator.options.reply_delay_s = 0.15
    async with LiveSession(endpoint(emulator), SetupConfig()) as session:
        seen = Events(session)
        for i in range(1, 13):
            await session.send_turn(f"turn {i}")
            await seen.until(lambda t, i=i: len(t.replies()) >= i, within=20)
    assert seen.count(ev.GoAway) >= 2, "the test must cross several connection deadlines"
    assert seen.count(ev.Resumed) >= 2
    assert not seen.of(ev.ContextLost)
    conversation = emulator.conversations[0]
    assert len(emulator.conversations) == 1
    assert [t.text for t in conversation.turns] == [f"turn {i}" for i in range(1, 13)]
    assert seen.replies() == [f"answer {i}: turn {i} ok" for i in range(1, 13)]


async def test_messages_sent_during_a_drop_are_replayed_once(emulator: Emulator) -> None:
    # Audio turns with activity markers; the 6th client message (mid-turn) kills the TCP connection.
    emulator.options.drop_after_messages = 6
    config = SetupConfig(activity_detection=ActivityDetection(disabled=True))
    chunk = b"\x10\x20" * 1600  # 100 ms
    async with LiveSession(endpoint(emulator), config) as session:
        seen = Events(session)
        for turn in range(2):
            await session.activity_start()
            for _ in range(5):
                await session.send_audio(chunk)
            await session.activity_end()
            await seen.until(lambda t, turn=turn: len(t.replies()) >= turn + 1, within=20)
    reconnects = seen.of(ev.Reconnecting)
    assert reconnects and "1006" in reconnects[0].reason
    assert seen.count(ev.Resumed) == 1 and seen.of(ev.Resumed)[0].replayed > 0
    turns = emulator.conversations[0].turns
    assert [round(t.audio_seconds, 2) for t in turns] == [0.5, 0.5]
    assert seen.replies() == ["answer 1: 0.5 s ok", "answer 2: 0.5 s ok"]


async def test_drop_without_any_handle_reports_context_lost(emulator: Emulator) -> None:
    emulator.options.drop_after_messages = 3  # setup, turn 1, turn 2 -> dropped at the second turn
    async with LiveSession(endpoint(emulator), SetupConfig(session_resumption=False)) as session:
        seen = Events(session)
        await session.send_turn("one")
        await seen.until(lambda t: len(t.replies()) == 1)
        await session.send_turn("two")
        await seen.until(lambda t: len(t.replies()) == 2, within=20)
    assert seen.count(ev.ContextLost) == 1
    assert len(emulator.conversations) == 2
    fresh = emulator.conversations[1].turns
    assert [t.text for t in fresh if not t.history] == ["two"]  # answered "one" was not asked again
    assert [(t.role, t.text) for t in fresh if t.history] == [("user", "one"), ("model", "answer 1: one ok")]
    assert seen.replies()[1] == "answer 3: two ok"  # a new conversation, seeded with the first exchange


async def test_1007_is_surfaced_with_its_reason_and_not_retried(emulator: Emulator) -> None:
    async with LiveSession(endpoint(emulator), SetupConfig()) as session:
        seen = Events(session)
        await session.activity_start()  # not allowed while automatic activity detection is on
        await seen.ended()
    closed = seen.of(ev.Closed)[0]
    assert closed.error and closed.code == 1007 and "activity" in closed.reason.lower()
    assert not seen.of(ev.Reconnecting)
    assert emulator.conversations[0].connections == 1


async def test_refused_key_raises_setup_rejected_without_the_key() -> None:
    async with Emulator(EmulatorOptions(api_keys=["right-key"])) as emu:
        with pytest.raises(SetupRejected) as info:
            await LiveSession(endpoint(emu, api_key="wrong-secret-key"), SetupConfig()).connect()
        assert info.value.code == 1008 and info.value.reason
        assert "wrong-secret-key" not in str(info.value)
        async with LiveSession(endpoint(emu, api_key="right-key"), SetupConfig()) as session:
            seen = Events(session)
            await session.send_turn("hi")
            await seen.until(lambda t: t.count(ev.TurnComplete) == 1)


async def test_ephemeral_token_flow() -> None:
    async with Emulator(EmulatorOptions(api_keys=["master"])) as emu:
        async with aiohttp.ClientSession() as http:
            reply = await http.post(
                f"{emu.http_url}/v1alpha/auth_tokens", json={"uses": 1}, headers={"x-goog-api-key": "master"}
            )
            assert reply.status == 200
            token = (await reply.json())["name"]
        ep = Endpoint(base_url=emu.url, ephemeral_token=token, api_version="v1alpha")
        assert "Constrained" in ep.url() and token not in ep.url()
        async with LiveSession(ep, SetupConfig()) as session:
            seen = Events(session)
            await session.send_turn("with a token")
            await seen.until(lambda t: t.count(ev.TurnComplete) == 1)
        with pytest.raises(SetupRejected) as info:  # one use only
            await LiveSession(ep, SetupConfig()).connect()
        assert token not in str(info.value)


async def test_unreachable_server_is_one_clear_error() -> None:
    async with Emulator(EmulatorOptions()) as emu:
        url = emu.url
    with pytest.raises(Exception, match="cannot connect"):
        await LiveSession(Endpoint(base_url=url), SetupConfig()).connect()
