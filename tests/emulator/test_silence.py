"""The model may choose not to speak: a turn then ends with a bare turnComplete, no content at all."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import websockets

from rholive.emulator import Emulator
from rholive.emulator.brains import Silent, UserTurn, load_brain

from .helpers import Client, dig, path, text_turn, texts

RULES = [{"text": "quiet", "silent": True}, {"text": "hush", "say": ""}]


def content_of(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What the model produced in a turn: parts and transcripts."""
    return [
        m
        for m in messages
        if dig(m, "serverContent", "modelTurn") is not None
        or dig(m, "serverContent", "outputTranscription") is not None
    ]


async def test_echo_brain_stays_silent_on_the_silence_cue(connect) -> None:
    async with connect() as client:
        await client.setup()
        await client.send(text_turn("(silence)"))
        quiet = await client.turn()
        await client.send(text_turn("hi"))
        spoken = await client.turn()
    assert content_of(quiet) == [] and dig(quiet[-1], "serverContent", "turnComplete") is True
    assert texts(spoken) == 'You said: "hi".'  # the conversation goes on


def test_script_silent_and_empty_say_are_silence(tmp_path: Path) -> None:
    script = tmp_path / "brain.json"
    script.write_text(json.dumps(RULES))
    brain = load_brain(f"script:{script}")
    assert brain.respond(UserTurn(1, text="be quiet"), []) == [Silent()]
    assert brain.respond(UserTurn(1, text="hush"), []) == [Silent()]


@pytest.mark.parametrize("said", ["be quiet", "hush now"])
async def test_a_silent_script_answer_is_a_bare_turn_complete(tmp_path: Path, said: str) -> None:
    script = tmp_path / "brain.json"
    script.write_text(json.dumps(RULES))
    async with Emulator(brain=f"script:{script}") as emulator:
        async with websockets.connect(emulator.url + path(), max_size=None) as ws:
            client = Client(ws)
            await client.setup()
            await client.send(text_turn(said))
            turn = await client.turn()
    assert content_of(turn) == [] and dig(turn[-1], "serverContent", "turnComplete") is True
