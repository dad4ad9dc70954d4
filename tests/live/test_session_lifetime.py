"""Issue 11, the client side: a session survives what long sessions meet on the service: refused resumes
(1007 and 1008), bursts of drops, goAway in the middle of an answer, silent stalls. Real emulator, real
sockets; the test drives the faults (aborts, a goAway posted while the answer waits on a tool, a brain that
makes the emulator hold a reply)."""

from __future__ import annotations

from typing import Any

import pytest

from rholive.emulator import Emulator, EmulatorOptions
from rholive.emulator.brains import CallTool, Say, UserTurn
from rholive.emulator.conversation import Store
from rholive.emulator.rules import Rejection
from rholive.live import Endpoint, FunctionResponse, HistoryTurn, LiveSession, SessionOptions, SetupConfig
from rholive.live import events as ev

from .conftest import Events, emulator_options, holding_emulator

FAST_RETRY = SessionOptions(backoff_initial_s=0.05, backoff_max_s=0.2)
AUDIO = SetupConfig(output_transcription=True)  # the default model: AUDIO with its transcript


def seeded(conversation: Any) -> list[tuple[str, str]]:
    return [(t.role, t.text) for t in conversation.turns if t.history]


@pytest.mark.parametrize("code", [1007, 1008])
async def test_a_refused_resume_continues_afresh_with_the_conversation_and_the_pending_turn(
    code: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(self: Store, handle: str) -> Any:
        raise Rejection("Invalid session resumption handle: session not found", code)

    # setup, turn 1, turn 2: the emulator drops the socket once it consumed turn 2, before answering it
    async with Emulator(emulator_options(drop_after_messages=3)) as emu:
        monkeypatch.setattr(Store, "resume", refuse)  # every resume is refused from now on
        async with LiveSession(Endpoint(emu.url), AUDIO, options=FAST_RETRY) as session:
            seen = Events(session)
            await session.send_turn("turn 1")
            await seen.until(lambda s: s.count(ev.AnswerComplete) == 1)
            await session.send_turn("turn 2")
            await seen.until(lambda s: s.count(ev.AnswerComplete) == 2)
            assert session.is_open
    restored = seen.of(ev.ContextRestored)
    assert len(restored) == 1 and restored[0].turns == 2 and f"({code})" in restored[0].reason
    assert seen.count(ev.ContextLost) == 0 and not seen.of(ev.Closed)[0].error
    _first, second = emu.conversations
    assert seeded(second) == [("user", "turn 1"), ("model", "reply 1: turn 1")]
    assert [t.text for t in second.turns if not t.history] == ["turn 2"]  # the pending turn, once
    assert seen.replies() == ["reply 1: turn 1", "reply 3: turn 2"]  # the seeded turns are numbered too
    assert session.history[-1] == HistoryTurn("model", "reply 3: turn 2")


async def test_a_refused_fresh_setup_still_ends_the_session(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only a refusal of a setup without a handle is fatal: there, our setup is what is wrong."""
    async with Emulator(emulator_options()) as emu:
        async with LiveSession(Endpoint(emu.url), AUDIO, options=FAST_RETRY) as session:
            seen = Events(session)

            def refuse(self: Store, handle: str) -> Any:
                raise Rejection("Invalid session resumption handle: session not found", 1007)

            def refuse_fresh(self: Store, brain: Any, now: float) -> Any:
                raise Rejection("Invalid argument", 1007)

            monkeypatch.setattr(Store, "resume", refuse)
            monkeypatch.setattr(Store, "new", refuse_fresh)
            emu.conversations[0].live.abort()
            await seen.ended()
    closed = seen.items[-1]
    assert isinstance(closed, ev.Closed) and closed.error and closed.code == 1007
    assert closed.reason == "Invalid argument"


async def test_twenty_drops_each_followed_by_a_good_connection_never_end_the_session() -> None:
    async with Emulator(emulator_options()) as emu:
        async with LiveSession(Endpoint(emu.url), AUDIO, options=FAST_RETRY) as session:
            seen = Events(session)
            for n in range(1, 21):
                await session.send_turn(f"turn {n}")
                await seen.until(lambda s, n=n: s.count(ev.AnswerComplete) == n)
                emu.conversations[0].live.abort()
                await seen.until(lambda s, n=n: s.count(ev.Resumed) == n)
            assert session.is_open
    assert seen.count(ev.Reconnecting) == 20
    assert all(r.attempt == 1 and r.delay_s == 0 for r in seen.of(ev.Reconnecting))  # no backoff
    assert seen.replies() == [f"reply {n}: turn {n}" for n in range(1, 21)]
    assert not seen.of(ev.Closed)[0].error


async def test_giving_up_says_for_how_long_the_service_could_not_be_reached() -> None:
    options = SessionOptions(backoff_initial_s=0.01, backoff_max_s=0.05, max_reconnect_attempts=3)
    async with Emulator(emulator_options()) as emu:
        async with LiveSession(Endpoint(emu.url), AUDIO, options=options) as session:
            seen = Events(session)
            await emu.stop()
            await seen.ended()
    delays = [r.delay_s for r in seen.of(ev.Reconnecting)]
    assert delays[0] == 0 and all(d > 0 for d in delays[1:])  # backoff only after failed connects
    closed = seen.items[-1]
    assert isinstance(closed, ev.Closed) and closed.error
    assert "gave up after 3 failed reconnection attempt(s) over " in closed.reason
    assert "could not be reached" in closed.reason


class ToolBrain:
    """Says a first sentence, calls the application's tool ``lookup`` (blocking: the answer waits for the
    response), then says the rest: the test acts while the answer is held in the middle."""

    def respond(self, turn: UserTurn, history: list[UserTurn]) -> list[Any]:
        return [Say("let me check"), CallTool("lookup", {"q": turn.text})]

    def after_tool(self, name: str, args: dict[str, Any], response: dict[str, Any]) -> list[Any]:
        return [Say(f"it is {response['value']}")]  # pieces join as they come: "let me checkit is 42"


async def answer_tool_calls(session: LiveSession, seen: Events, count: int) -> None:
    await seen.until(lambda s: s.count(ev.ToolCall) >= count)
    call = seen.of(ev.ToolCall)[count - 1].calls[0]
    await session.send_tool_response(FunctionResponse(call.id, call.name, {"value": 42}))


async def test_go_away_waits_for_the_answer_in_progress_then_switches() -> None:
    async with Emulator(EmulatorOptions(brain=ToolBrain(), words_per_part=2)) as emu:
        options = SessionOptions(go_away_margin_s=2.0)
        async with LiveSession(Endpoint(emu.url), AUDIO, options=options) as session:
            seen = Events(session)
            await session.send_turn("what is it?")
            await seen.until(lambda s: s.count(ev.ToolCall) == 1)
            emu.conversations[0].live.post({"goAway": {"timeLeft": "30s"}})  # mid-answer
            await seen.until(lambda s: s.count(ev.GoAway) == 1)
            await answer_tool_calls(session, seen, 1)
            await seen.until(lambda s: s.count(ev.Resumed) == 1)
    kinds = seen.kinds()
    assert kinds.index("answer_complete") < kinds.index("reconnecting")  # the answer ended, then the switch
    assert seen.of(ev.Reconnecting)[0].reason == "go_away"
    assert seen.count(ev.AnswerCut) == 0 and seen.count(ev.ToolCall) == 1
    assert seen.replies() == ["let me checkit is 42"]


async def test_an_answer_cut_at_the_go_away_deadline_is_marked_and_repeated_as_a_new_answer() -> None:
    async with Emulator(EmulatorOptions(brain=ToolBrain(), words_per_part=2)) as emu:
        options = SessionOptions(go_away_margin_s=2.0)
        async with LiveSession(Endpoint(emu.url), AUDIO, options=options) as session:
            seen = Events(session)
            await session.send_turn("what is it?")
            await seen.until(lambda s: s.count(ev.ToolCall) == 1)
            # less time left than the margin: the session must leave now, cutting the answer
            emu.conversations[0].live.post({"goAway": {"timeLeft": "1s"}})
            await seen.until(lambda s: s.count(ev.Resumed) == 1)
            await answer_tool_calls(session, seen, 2)  # the resumed model asks again
            await seen.until(lambda s: s.count(ev.AnswerComplete) == 1)
    (cut,) = seen.of(ev.AnswerCut)
    assert cut.text == "let me check" and cut.reason == "go_away"
    kinds = seen.kinds()
    assert kinds.index("answer_cut") < kinds.index("reconnecting")
    assert seen.replies() == ["let me checkit is 42"]  # the repeat, whole, once
    assert [t.text for t in emu.conversations[0].turns] == ["what is it?"]
    assert session.history == [
        HistoryTurn("user", "what is it?"),
        HistoryTurn("model", "let me checkit is 42"),
    ]


STALL = SessionOptions(stall_timeout_s=0.5)  # the configured deadline, not a measurement


async def test_a_stalled_turn_is_sent_once_more_on_a_new_connection_and_answered() -> None:
    async with Emulator(holding_emulator(holds=1)) as emu:
        async with LiveSession(Endpoint(emu.url), AUDIO, options=STALL) as session:
            seen = Events(session)
            await session.send_turn("hello")
            await seen.until(lambda s: s.count(ev.AnswerComplete) == 1)
    (reconnecting,) = seen.of(ev.Reconnecting)
    assert reconnecting.reason == "stall: no answer within 0.5 s"
    assert seen.of(ev.Resumed) == [ev.Resumed(replayed=1)]
    assert seen.count(ev.Stalled) == 0 and seen.count(ev.AnswerCut) == 0
    assert seen.replies() == ["reply 1: hello"]


async def test_a_second_stall_of_the_same_turn_is_said_once_and_the_session_goes_on() -> None:
    async with Emulator(holding_emulator(holds=2)) as emu:
        async with LiveSession(Endpoint(emu.url), AUDIO, options=STALL) as session:
            seen = Events(session)
            await session.send_turn("hello")
            await seen.until(lambda s: s.count(ev.Stalled) == 1)
            assert session.is_open
            await session.send_turn("still there?")
            await seen.until(lambda s: any(r.endswith("still there?") for r in s.replies()))
    assert seen.of(ev.Stalled) == [ev.Stalled(timeout_s=0.5)]
    # it left the stuck connection too: nothing of the abandoned turn can come later as another answer
    assert seen.count(ev.Reconnecting) == 2
    kinds = seen.kinds()
    assert kinds.index("stall") < len(kinds) - 1 - kinds[::-1].index("reconnecting")
    assert seen.count(ev.Interrupted) == 0 and seen.count(ev.AnswerCut) == 0
    assert "hello" not in " ".join(seen.replies())
    assert not seen.of(ev.Closed)[0].error


async def test_a_deliberate_silence_is_not_a_stall() -> None:
    class Silent:
        def respond(self, turn: UserTurn, history: list[UserTurn]) -> list[Any]:
            return [Say("<nothing>")] if turn.text == "shh" else [Say(f"ok {turn.text}")]

        def after_tool(self, name: str, args: dict[str, Any], response: dict[str, Any]) -> list[Any]:
            return []

    async with Emulator(EmulatorOptions(brain=Silent())) as emu:
        async with LiveSession(Endpoint(emu.url), AUDIO, options=STALL) as session:
            seen = Events(session)
            await session.send_turn("shh")
            await seen.until(lambda s: s.count(ev.AnswerComplete) == 1)  # a turnComplete with no content
            await session.send_turn("next")
            await seen.until(lambda s: s.count(ev.AnswerComplete) == 2)
    assert seen.count(ev.Reconnecting) == 0 and seen.count(ev.Stalled) == 0
