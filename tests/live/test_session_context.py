"""LiveSession against the real emulator over real sockets: contextUpdate, history seeding (first connection
and after a lost context), AnswerComplete, typed turns for history-only models."""

from __future__ import annotations

import json

from rholive.emulator import Emulator
from rholive.emulator.conversation import Conversation
from rholive.live import Endpoint, LiveSession, SessionOptions, SetupConfig
from rholive.live import events as ev
from rholive.live.wire import HistoryTurn

from .conftest import Events, emulator_options

FAST_RETRY = SessionOptions(backoff_initial_s=0.01, backoff_max_s=0.05)
SPOKEN = SetupConfig(
    output_transcription=True
)  # the default model answers in AUDIO: its text is the transcript


def answers(seen: Events) -> list[str]:
    """The text of every finished answer (ended by AnswerComplete), in order."""
    return seen.replies(ev.AnswerComplete)


def seeded(conversation: Conversation) -> list[tuple[str, str]]:
    """The turns the emulator took in as history, as (role, text)."""
    return [(t.role, t.text) for t in conversation.turns if t.history]


async def test_update_context_changes_the_instruction_without_a_new_connection(emu: Emulator) -> None:
    config = SetupConfig(system_instruction="You are a tutor.")
    async with LiveSession(Endpoint(emu.url), config, options=FAST_RETRY) as session:
        seen = Events(session)
        await session.update_context(system_instruction="You are a pirate.")
        await session.send_turn("ahoy")
        await seen.until(lambda s: s.count(ev.AnswerComplete) == 1)
        [conversation] = emu.conversations
        assert conversation.connections == 1
        assert conversation.turns[0].instruction == "You are a pirate."  # in force when the turn ended
        assert session.config.system_instruction == "You are a pirate."

        conversation.live.abort()  # a later connection (a resume here) sets up with the new instruction
        await seen.until(lambda s: s.count(ev.Connected) == 2)
        assert conversation.connections == 2
        assert conversation.live.config.system_instruction == "You are a pirate."


async def test_update_context_replaces_the_tools(emu: Emulator) -> None:
    tools = [{"functionDeclarations": [{"name": "get_time"}]}]
    async with LiveSession(Endpoint(emu.url)) as session:
        await session.update_context(tools=tools)
        await session.flush()
        assert session.config.tools == tools
        assert session.config.system_instruction is None
        assert json.loads(session._setup_text())["setup"]["tools"] == tools


async def test_the_first_connection_is_seeded_with_the_given_history_and_does_not_answer_it(
    emu: Emulator,
) -> None:
    history = [HistoryTurn("user", "my name is Ada"), HistoryTurn("model", "Hello Ada.")]
    async with LiveSession(Endpoint(emu.url), SPOKEN, history=history) as session:
        seen = Events(session)
        await session.send_turn("what is my name?")
        await seen.until(lambda s: s.count(ev.AnswerComplete) == 1)
    [conversation] = emu.conversations
    assert seeded(conversation) == [("user", "my name is Ada"), ("model", "Hello Ada.")]
    assert [t.text for t in conversation.turns if not t.history] == ["what is my name?"]  # the seed: no turn
    assert answers(seen) == ["reply 3: what is my name?"]  # the emulator numbers the seeded turns too
    assert seen.of(ev.HistorySeeded) == [ev.HistorySeeded(turns=2)]


async def test_a_lost_context_is_restored_from_the_transcript(emu: Emulator) -> None:
    config = SetupConfig(
        session_resumption=False, output_transcription=True
    )  # no handle ever: every reconnection starts fresh
    async with LiveSession(Endpoint(emu.url), config, options=FAST_RETRY) as session:
        seen = Events(session)
        await session.send_turn("one")
        await seen.until(lambda s: s.count(ev.AnswerComplete) == 1)
        emu.conversations[0].live.abort()
        await seen.until(lambda s: s.count(ev.HistorySeeded) == 1)
        await session.send_turn("two")
        await seen.until(lambda s: s.count(ev.AnswerComplete) == 2)
    _first, second = emu.conversations
    assert seeded(second) == [("user", "one"), ("model", "reply 1: one")]
    assert [t.text for t in second.turns if not t.history] == ["two"]
    assert answers(seen) == ["reply 1: one", "reply 3: two"]  # turn 3 of the seeded conversation
    [lost] = seen.of(ev.ContextLost)
    assert "only the text" in lost.reason
    assert session.history == [
        HistoryTurn("user", "one"),
        HistoryTurn("model", "reply 1: one"),
        HistoryTurn("user", "two"),
        HistoryTurn("model", "reply 3: two"),
    ]


async def test_without_a_transcript_a_fresh_start_is_not_seeded(emu: Emulator) -> None:
    config = SetupConfig(session_resumption=False)
    async with LiveSession(Endpoint(emu.url), config, options=FAST_RETRY) as session:
        seen = Events(session)
        emu.conversations[0].live.abort()
        await seen.until(lambda s: s.count(ev.ContextLost) == 1)
    assert seen.count(ev.HistorySeeded) == 0
    assert seeded(emu.conversations[1]) == []


async def test_answer_complete_comes_after_the_turn_complete_of_an_ordinary_model(emu: Emulator) -> None:
    async with LiveSession(Endpoint(emu.url)) as session:
        seen = Events(session)
        await session.send_turn("hi")
        await seen.until(lambda s: s.count(ev.AnswerComplete) == 1)
    kinds = seen.kinds()
    assert kinds.index("answer_complete") > kinds.index("turn_complete")


async def test_typed_turns_go_as_realtime_text_where_client_content_is_history_only() -> None:
    # realtimeInput.text does not interrupt a reply in progress; a clientContent turn would (the same flow
    # on the default model: test_session.test_a_new_turn_during_a_reply_interrupts_it)
    async with Emulator(emulator_options(reply_delay_s=1.0)) as emu:
        config = SetupConfig(
            model="models/gemini-3.1-flash-live-preview", input_transcription=True, output_transcription=True
        )
        async with LiveSession(Endpoint(emu.url), config) as session:
            seen = Events(session)
            await session.send_turn("first")
            await seen.until(lambda s: s.count(ev.InputTranscription) == 1)
            await session.send_turn("second")
            await seen.until(lambda s: s.count(ev.AnswerComplete) == 2)
    assert seen.count(ev.Interrupted) == 0
    assert answers(seen) == ["reply 1: first", "reply 2: second"]
