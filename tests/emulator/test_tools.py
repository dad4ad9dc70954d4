"""Tool calls: toolCall out, the matching toolResponse in, the brain's follow-up streamed; cancellation on
interruption; unknown ids refused. The brain here is a plug-in passed through ``EmulatorOptions.brain``."""

from __future__ import annotations

from typing import Any

import pytest

from rholive.emulator import EmulatorOptions
from rholive.emulator.brains import CallTool, Say, UserTurn

from .helpers import dig, manual, setup_message, text_turn, texts


class ToolBrain:
    """Asks for the weather in a city; two tools at once for "both"; answers with what the tools said."""

    def respond(self, turn: UserTurn, history: list[UserTurn]) -> list[Any]:
        if turn.text == "both":
            return [CallTool("get_time", {}), CallTool("get_weather", {"city": "Oslo"})]
        if turn.text.startswith("weather in "):
            return [Say("Let me check."), CallTool("get_weather", {"city": turn.text[len("weather in ") :]})]
        return [Say(f"plain answer to {turn.text}")]

    def after_tool(self, name: str, args: dict[str, Any], response: dict[str, Any]) -> list[Any]:
        return [Say(f"{name}({args}) said {response}")]


@pytest.fixture
def options() -> EmulatorOptions:
    return EmulatorOptions(brain=ToolBrain())


def tool_response(*answers: tuple[str, str, dict[str, Any]]) -> dict[str, Any]:
    return {
        "toolResponse": {"functionResponses": [{"id": i, "name": n, "response": r} for i, n, r in answers]}
    }


async def test_tool_round_trip(connect) -> None:
    async with connect() as client:
        await client.setup()
        await client.send(text_turn("weather in Paris"))
        before = await client.until_key("toolCall")
        [call] = before[-1]["toolCall"]["functionCalls"]
        assert (call["name"], call["args"]) == ("get_weather", {"city": "Paris"})
        assert texts(before) == "Let me check."
        await client.send(tool_response((call["id"], "get_weather", {"sky": "clear"})))
        after = await client.turn()
    assert texts(after) == "get_weather({'city': 'Paris'}) said {'sky': 'clear'}"
    assert dig(after[-1], "serverContent", "turnComplete")


async def test_two_calls_in_one_message_answered_separately(connect) -> None:
    async with connect() as client:
        await client.setup()
        await client.send({"realtimeInput": {"text": "both"}})
        calls = (await client.until_key("toolCall"))[-1]["toolCall"]["functionCalls"]
        assert [c["name"] for c in calls] == ["get_time", "get_weather"] and calls[0]["id"] != calls[1]["id"]
        await client.send(tool_response((calls[1]["id"], "get_weather", {"t": 5})))
        await client.send(tool_response((calls[0]["id"], "get_time", {"now": "12:00"})))
        answer = texts(await client.turn())
    assert answer.index("get_time") < answer.index("get_weather")  # follow-ups in the order of the calls


async def test_interruption_cancels_the_pending_call(connect, emulator) -> None:
    async with connect() as client:
        await client.setup(setup_message(**manual()))
        await client.send(text_turn("weather in Rome"))
        [call] = (await client.until_key("toolCall"))[-1]["toolCall"]["functionCalls"]
        await client.send({"realtimeInput": {"activityStart": {}}})
        got = await client.until_key("serverContent", "interrupted")
        assert {"toolCallCancellation": {"ids": [call["id"]]}} in got
        await client.send(tool_response((call["id"], "get_weather", {"late": True})))  # a race, not an error
        await client.send({"realtimeInput": {"activityEnd": {}}})
        assert "plain answer" in texts(await client.turn())
    assert len(emulator.conversations[0].turns) == 2


async def test_response_with_a_wrong_id_is_refused(connect) -> None:
    async with connect() as client:
        await client.setup()
        await client.send(text_turn("weather in Lima"))
        await client.until_key("toolCall")
        await client.send(tool_response(("call-999", "get_weather", {})))
        code, reason = await client.closed()
    assert (code, reason) == (1007, "toolResponse for unknown function call id 'call-999'")


class BrokenBrain:
    def respond(self, turn: UserTurn, history: list[UserTurn]) -> list[Any]:
        if turn.text == "break":
            raise RuntimeError("rule 3 has no answer")
        return [Say(f"fine: {turn.text}, after {len(history)} turns")]

    def after_tool(self, name: str, args: dict[str, Any], response: dict[str, Any]) -> list[Any]:
        return []


async def test_a_failing_brain_is_one_clear_reply_and_the_session_goes_on(connect, emulator) -> None:
    emulator.options.brain = BrokenBrain()
    async with connect() as client:
        await client.setup()
        await client.send(text_turn("break"))
        assert texts(await client.turn()) == "[emulator brain error: rule 3 has no answer]"
        await client.send(text_turn("again"))
        assert texts(await client.turn()) == "fine: again, after 1 turns"


async def test_a_bad_brain_spec_fails_at_start() -> None:
    from rholive.emulator import Emulator

    with pytest.raises(ValueError):
        await Emulator(brain="no-such-brain").start()
