"""A brain for the contract tests whose answers say which turn they answer, so a lost or doubled turn shows."""

from __future__ import annotations

from typing import Any

from rholive.emulator.brains import CallTool, Say, UserTurn


class NumberingBrain:
    """Answers "answer N: TEXT" (N = the turn's number), or calls a tool for "tool NAME ARG"."""

    def respond(self, turn: UserTurn, history: list[UserTurn]) -> list[Any]:
        if turn.text.startswith("tool "):
            _, name, arg = turn.text.split(" ", 2)
            return [CallTool(name, {"value": arg})]
        return [Say(f"answer {turn.number}: {turn.text or f'{turn.audio_seconds:.1f} s'} ok")]

    def after_tool(self, name: str, args: dict[str, Any], response: dict[str, Any]) -> list[Any]:
        return [Say(f"{name} gave {response}")]
