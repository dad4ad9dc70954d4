"""Thousands of malformed client messages, mutated from valid ones, over real sockets to one emulator.

Every connection must end with 1007 or 1008 and a specific reason: never 1000, never an error that reached
the log, never the connection's last-resort "Invalid client message" (that would mean no check foresaw it).
The emulator runs in a thread so that hypothesis can drive a plain synchronous client.
"""

from __future__ import annotations

import asyncio
import base64
import copy
import json
import logging
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import websockets
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from websockets.sync.client import connect

from rholive.emulator import Emulator

from .helpers import audio_message, manual, path, setup_message, silence, text_turn

EXAMPLES = 1000  # per phase (setup, after setup): 2,000 connections in all
SENTINEL = "{not json"  # refused after any message the emulator accepted: every connection ends in a close
DEEP = "__deep__"  # replaced in the JSON text by nesting too deep for any parser to accept
FULL_SETUP = setup_message(
    generationConfig={
        "responseModalities": ["AUDIO"],
        "temperature": 0.7,
        "topP": 0.9,
        "topK": 40,
        "maxOutputTokens": 512,
        "candidateCount": 1,
        "presencePenalty": 0.1,
        "frequencyPenalty": 0.1,
        "mediaResolution": "MEDIA_RESOLUTION_LOW",
        "speechConfig": {
            "voiceConfig": {"prebuiltVoiceConfig": {"voiceName": "Puck"}},
            "languageCode": "en-US",
        },
    },
    systemInstruction={"role": "user", "parts": [{"text": "Be brief."}]},
    tools=[
        {
            "functionDeclarations": [
                {"name": "get_time", "description": "now", "parameters": {"type": "OBJECT", "properties": {}}}
            ]
        },
        {"googleSearch": {}},
    ],
    realtimeInputConfig={
        "automaticActivityDetection": {
            "startOfSpeechSensitivity": "START_SENSITIVITY_LOW",
            "endOfSpeechSensitivity": "END_SENSITIVITY_HIGH",
            "prefixPaddingMs": 20,
            "silenceDurationMs": 500,
        },
        "activityHandling": "START_OF_ACTIVITY_INTERRUPTS",
        "turnCoverage": "TURN_INCLUDES_ONLY_ACTIVITY",
    },
    sessionResumption={"transparent": True},
    contextWindowCompression={"triggerTokens": 25600, "slidingWindow": {"targetTokens": 12800}},
    inputAudioTranscription={},
    historyConfig={"initialHistoryInClientContent": False},
)
SETUPS = [setup_message(), FULL_SETUP, setup_message(**manual())]
AFTER_SETUP = [
    (SETUPS[0], text_turn("hello")),
    (SETUPS[0], audio_message(silence(0.02))),
    (SETUPS[0], {"realtimeInput": {"text": "hi"}}),
    (SETUPS[0], {"realtimeInput": {"video": {"data": "_9j_4A==", "mimeType": "image/jpeg"}}}),
    (SETUPS[0], {"realtimeInput": {"audioStreamEnd": True}}),
    (SETUPS[2], {"realtimeInput": {"activityStart": {}}}),
    (SETUPS[0], {"toolResponse": {"functionResponses": [{"id": "call-1", "name": "f", "response": {}}]}}),
    (
        SETUPS[0],
        {
            "contextUpdate": {
                "systemInstruction": {"parts": [{"text": "x"}]},
                "tools": {"tools": FULL_SETUP["setup"]["tools"]},
            }
        },
    ),
    (
        SETUPS[0],
        {
            "clientContent": {
                "turns": [
                    {
                        "role": "user",
                        "parts": [
                            {
                                "inlineData": {
                                    "data": base64.b64encode(b"\0\0").decode(),
                                    "mimeType": "audio/pcm",
                                }
                            }
                        ],
                    }
                ],
                "turnComplete": False,
            }
        },
    ),
]

BAD_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([float("nan"), float("inf"), -float("inf"), -1.0, 1e308, 2.5]),
    st.text(max_size=8),
    st.sampled_from(["START_SENSITIVITY_LOUD", "TEXT", "NaN", "-1", "1e9", "", "models/x", DEEP]),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.sampled_from(["text", "parts", "name", "x", "data"]), st.integers(), max_size=2),
)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every place in a message a value could be changed (the root excluded)."""
    children = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, child in children:
        yield (*prefix, key)
        yield from _paths(child, (*prefix, key))


def _containers(node: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if isinstance(node, dict):
        yield prefix
    children = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, child in children:
        yield from _containers(child, (*prefix, key))


def _at(node: Any, where: tuple[Any, ...]) -> Any:
    for key in where:
        node = node[key]
    return node


@st.composite
def mutated(draw: st.DrawFn, message: dict[str, Any]) -> str:
    """The message with one to three mutations, as the JSON text sent."""
    message = copy.deepcopy(message)
    for _ in range(draw(st.integers(1, 3))):
        how = draw(st.sampled_from(["replace", "replace", "delete", "add"]))
        if how == "add":
            where = draw(st.sampled_from(list(_containers(message))))
            _at(message, where)[draw(st.sampled_from(["bogus", "temperature", "parts", "model"]))] = draw(
                BAD_VALUES
            )
            continue
        places = list(_paths(message))
        if not places:
            break
        where = draw(st.sampled_from(places))
        parent = _at(message, where[:-1])
        if how == "delete":
            del parent[where[-1]]
        else:
            parent[where[-1]] = draw(BAD_VALUES)
    depth = draw(st.sampled_from([150, 5000, 100_000]))
    return json.dumps(message).replace(f'"{DEEP}"', "[" * depth + "]" * depth)


class ThreadedEmulator:
    """An emulator on its own event loop thread, for a synchronous client."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.emulator = Emulator()
        asyncio.run_coroutine_threadsafe(self.emulator.start(), self.loop).result()
        self.url = self.emulator.url + path()

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self.emulator.stop(), self.loop).result()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join()
        self.loop.close()


@pytest.fixture(scope="module")
def served() -> Iterator[ThreadedEmulator]:
    emulator = ThreadedEmulator()
    yield emulator
    emulator.stop()


def _close_of(url: str, before: list[dict[str, Any]], frames: list[str]) -> tuple[int | None, str]:
    """Send ``before`` (each answered by its setupComplete), then ``frames`` and the sentinel; the close."""
    with connect(url, max_size=None, open_timeout=10, close_timeout=10) as ws:
        try:
            for message in before:
                ws.send(json.dumps(message))
                while "setupComplete" not in json.loads(ws.recv(timeout=10)):
                    pass
            for frame in [*frames, SENTINEL]:
                ws.send(frame)
            while True:
                ws.recv(timeout=10)
        except websockets.ConnectionClosed as closed:
            return (closed.rcvd.code, closed.rcvd.reason) if closed.rcvd else (None, "")
    raise AssertionError("unreachable")


def _check(close: tuple[int | None, str], frame: str) -> None:
    code, reason = close
    assert code in (1007, 1008), (close, frame[:300])
    assert reason and not reason.startswith("Invalid client message"), (close, frame[:300])


@pytest.fixture
def errors(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    caplog.set_level(logging.WARNING)
    return caplog.records


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_malformed_setups_close_1007_or_1008_with_a_reason(
    served: ThreadedEmulator, errors: list[logging.LogRecord], data: st.DataObject
) -> None:
    frame = data.draw(mutated(data.draw(st.sampled_from(SETUPS))))
    _check(_close_of(served.url, [], [frame]), frame)
    assert not [r for r in errors if r.levelno >= logging.ERROR]


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_malformed_messages_after_setup_close_1007_or_1008_with_a_reason(
    served: ThreadedEmulator, errors: list[logging.LogRecord], data: st.DataObject
) -> None:
    setup, message = data.draw(st.sampled_from(AFTER_SETUP))
    frame = data.draw(mutated(message))
    _check(_close_of(served.url, [setup], [frame]), frame)
    assert not [r for r in errors if r.levelno >= logging.ERROR]


@pytest.mark.parametrize("case", range(len(AFTER_SETUP)))
def test_the_messages_mutated_are_valid_as_they_are(served: ThreadedEmulator, case: int) -> None:
    # otherwise the mutations would mostly test the first check a message meets
    setup, message = AFTER_SETUP[case]
    code, reason = _close_of(served.url, [setup], [json.dumps(message)])
    # a tool response is well formed; only its id is unknown (no toolCall was made)
    expected = "unknown function call id" if "toolResponse" in message else "the message is not valid JSON"
    assert code == 1007 and expected in reason
