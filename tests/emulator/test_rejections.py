"""Every rule the service enforces, over a real socket: the close code and the specific reason."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from .helpers import MODEL, audio_message, manual, setup_message, silence, text_turn

AUDIO = {"data": base64.b64encode(silence(0.02)).decode(), "mimeType": "audio/pcm;rate=16000"}
JPEG = {"data": "_9j_4A==", "mimeType": "image/jpeg"}

# (setup, messages after setupComplete, expected code, words in the reason)
AFTER_SETUP: list[tuple[str, dict[str, Any], list[Any], int, str]] = [
    ("second setup", setup_message(), [setup_message()], 1007, "setup must be sent only once"),
    (
        "two top-level fields",
        setup_message(),
        [{**text_turn("a"), **audio_message(b"\0\0")}],
        1007,
        "exactly one",
    ),
    ("no top-level field", setup_message(), [{}], 1007, "exactly one of setup"),
    ("unknown top-level field", setup_message(), [{"realtime": {}}], 1007, 'Unknown name "realtime"'),
    ("not JSON", setup_message(), ["{nope"], 1007, "not valid JSON"),
    ("JSON but not an object", setup_message(), ["[1, 2]"], 1007, "must be a JSON object"),
    (
        "blob mixed with a marker",
        setup_message(**manual()),
        [{"realtimeInput": {"audio": AUDIO, "activityStart": {}}}],
        1007,
        "exactly one of audio, video, text",
    ),
    ("empty realtimeInput", setup_message(), [{"realtimeInput": {}}], 1007, "got nothing"),
    (
        "activityStart with automatic detection",
        setup_message(),
        [{"realtimeInput": {"activityStart": {}}}],
        1007,
        "activityStart is only allowed when",
    ),
    (
        "activityEnd with automatic detection",
        setup_message(),
        [{"realtimeInput": {"activityEnd": {}}}],
        1007,
        "activityEnd is only allowed when",
    ),
    (
        "audioStreamEnd with detection disabled",
        setup_message(**manual()),
        [{"realtimeInput": {"audioStreamEnd": True}}],
        1007,
        "audioStreamEnd is only allowed when automatic activity detection is enabled",
    ),
    (
        "activityEnd without activityStart",
        setup_message(**manual()),
        [{"realtimeInput": {"activityEnd": {}}}],
        1007,
        "without a preceding activityStart",
    ),
    (
        "two activityStart",
        setup_message(**manual()),
        [{"realtimeInput": {"activityStart": {}}}, {"realtimeInput": {"activityStart": {}}}],
        1007,
        "already open",
    ),
    (
        "bad base64",
        setup_message(),
        [{"realtimeInput": {"audio": {"data": "%%%not base64", "mimeType": "audio/pcm;rate=16000"}}}],
        1007,
        "base64 decoding failed",
    ),
    (
        "audio as wav",
        setup_message(),
        [{"realtimeInput": {"audio": {**AUDIO, "mimeType": "audio/wav"}}}],
        1007,
        "got 'audio/wav'",
    ),
    (
        "odd number of PCM bytes",
        setup_message(),
        [{"realtimeInput": {"audio": {"data": "AAEC", "mimeType": "audio/pcm;rate=16000"}}}],
        1007,
        "not whole 16-bit samples",
    ),
    (
        "video as gif",
        setup_message(),
        [{"realtimeInput": {"video": {**JPEG, "mimeType": "image/gif"}}}],
        1007,
        "image/jpeg or image/png",
    ),
    (
        "legacy mediaChunks with a bad type",
        setup_message(),
        [{"realtimeInput": {"mediaChunks": [AUDIO, {**JPEG, "mimeType": "text/plain"}]}}],
        1007,
        "mediaChunks[1].mimeType",
    ),
    (
        "toolResponse for an unknown id",
        setup_message(),
        [{"toolResponse": {"functionResponses": [{"id": "nope", "name": "f", "response": {}}]}}],
        1007,
        "unknown function call id 'nope'",
    ),
    (
        "toolResponse without id",
        setup_message(),
        [{"toolResponse": {"functionResponses": [{"name": "f", "response": {}}]}}],
        1007,
        ".id is required",
    ),
    (
        "clientContent with an unknown field",
        setup_message(),
        [{"clientContent": {"turns": [], "turn_complete": True, "extra": 1}}],
        1007,
        'Unknown name "extra"',
    ),
]


@pytest.mark.parametrize(
    ("name", "setup", "messages", "code", "reason"), AFTER_SETUP, ids=[r[0] for r in AFTER_SETUP]
)
async def test_rule_after_setup_closes_with_reason(connect, name, setup, messages, code, reason) -> None:
    async with connect() as client:
        await client.setup(setup)
        for message in messages:
            await client.send(message)
        got_code, got_reason = await client.closed()
    assert got_code == code
    assert reason in got_reason


HOLE = "__hole__"


def raw(message: dict[str, Any], text: str) -> str:
    """The message as JSON text with ``text`` (not JSON, or too deep to build as an object) in the hole."""
    return json.dumps(message).replace(f'"{HOLE}"', text)


SETUP_RULES: list[tuple[str, Any, int, str]] = [
    ("setup not first", text_turn("hi"), 1007, "first message must be setup (got clientContent)"),
    (
        "two modalities",
        setup_message(generationConfig={"responseModalities": ["TEXT", "AUDIO"]}),
        1007,
        "exactly one",
    ),
    ("unknown modality", setup_message("VIDEO"), 1007, "Unsupported response modality"),
    (
        "native audio model with TEXT",
        setup_message("TEXT", model="models/gemini-2.5-flash-native-audio-preview-12-2025"),
        1007,
        "Cannot extract voices from a non-audio request",
    ),
    ("missing model", {"setup": {}}, 1007, "setup.model is required"),
    (
        "unknown model",
        {"setup": {"model": "models/gpt-4o"}},
        1008,
        "models/gpt-4o is not found for API version v1beta",
    ),
    ("unknown setup field", setup_message(responseModality="TEXT"), 1007, 'Unknown name "responseModality"'),
    (
        "bad silenceDurationMs",
        setup_message(realtimeInputConfig={"automaticActivityDetection": {"silenceDurationMs": "soon"}}),
        1007,
        "silenceDurationMs must be an integer",
    ),
    (
        "unknown resumption handle",
        setup_message(sessionResumption={"handle": "nope"}),
        1008,
        "handle not found",
    ),
    # what an outside fuzzer found accepted, or crashing the handler
    (
        "NaN temperature",
        raw(setup_message(generationConfig={"temperature": HOLE}), "NaN"),
        1007,
        "not valid JSON",
    ),
    (
        "string temperature",
        setup_message(generationConfig={"temperature": "0.5"}),
        1007,
        "temperature must be a number",
    ),
    ("temperature above 2", setup_message(generationConfig={"temperature": 2.5}), 1007, "out of range"),
    ("topP above 1", setup_message(generationConfig={"topP": 1.5}), 1007, "topP': 1.5 is out of range"),
    ("topK 0", setup_message(generationConfig={"topK": 0}), 1007, "topK': 0 is out of range"),
    (
        "negative maxOutputTokens",
        setup_message(generationConfig={"maxOutputTokens": -5}),
        1007,
        "maxOutputTokens",
    ),
    ("two candidates", setup_message(generationConfig={"candidateCount": 2}), 1007, "candidateCount"),
    (
        "penalty as a list",
        setup_message(generationConfig={"presencePenalty": [1]}),
        1007,
        "presencePenalty must be",
    ),
    (
        "unknown generationConfig field",
        setup_message(generationConfig={"temprature": 1}),
        1007,
        'Unknown name "temprature"',
    ),
    (
        "voiceName a number",
        setup_message(
            generationConfig={"speechConfig": {"voiceConfig": {"prebuiltVoiceConfig": {"voiceName": 3}}}}
        ),
        1007,
        "voiceName",
    ),
    (
        "number as instruction text",
        setup_message(systemInstruction={"parts": [{"text": 5}]}),
        1007,
        "systemInstruction.parts[0]",
    ),
    ("instruction a number", setup_message(systemInstruction=5), 1007, "must be a Content or a string"),
    (
        "list as start sensitivity",
        setup_message(
            realtimeInputConfig={"automaticActivityDetection": {"startOfSpeechSensitivity": ["HIGH"]}}
        ),
        1007,
        "startOfSpeechSensitivity",
    ),
    (
        "unknown end sensitivity",
        setup_message(
            realtimeInputConfig={
                "automaticActivityDetection": {"endOfSpeechSensitivity": "END_SENSITIVITY_MAX"}
            }
        ),
        1007,
        "endOfSpeechSensitivity",
    ),
    (
        "infinite silenceDurationMs",
        raw(
            setup_message(realtimeInputConfig={"automaticActivityDetection": {"silenceDurationMs": HOLE}}),
            "1e999",
        ),
        1007,
        "not valid JSON",
    ),
    (
        "function name with a space",
        setup_message(tools=[{"functionDeclarations": [{"name": "get time"}]}]),
        1007,
        "Invalid function name",
    ),
    (
        "parameters a string",
        setup_message(tools=[{"functionDeclarations": [{"name": "f", "parameters": "x"}]}]),
        1007,
        "parameters': must be an object",
    ),
    (
        "googleSearch a list",
        setup_message(tools=[{"googleSearch": []}]),
        1007,
        "googleSearch': must be an object",
    ),
    ("unknown tool kind", setup_message(tools=[{"googleSerch": {}}]), 1007, 'Unknown name "googleSerch"'),
    (
        "negative triggerTokens",
        setup_message(contextWindowCompression={"triggerTokens": -1}),
        1007,
        "triggerTokens",
    ),
    (
        "targetTokens a word",
        setup_message(contextWindowCompression={"slidingWindow": {"targetTokens": "many"}}),
        1007,
        "targetTokens must be an integer",
    ),
    (
        "transparent a string",
        setup_message(sessionResumption={"transparent": "yes"}),
        1007,
        "transparent must be a boolean",
    ),
    (
        "deep nesting",
        raw(setup_message(labels=HOLE), "[" * 200 + "]" * 200),
        1007,
        "nesting deeper than 100",
    ),
    ("very deep nesting", '{"setup": %s}' % ("[" * 100000 + "]" * 100000), 1007, "nesting deeper than 100"),
]


@pytest.mark.parametrize(("name", "first", "code", "reason"), SETUP_RULES, ids=[r[0] for r in SETUP_RULES])
async def test_setup_rule_closes_with_reason(connect, name, first, code, reason) -> None:
    async with connect() as client:
        await client.send(first)
        got_code, got_reason = await client.closed()
    assert (got_code, reason in got_reason) == (code, True), got_reason
    assert not any("setupComplete" in m for m in client.received)


async def test_both_spellings_and_both_base64_alphabets_are_accepted(connect, emulator) -> None:
    pcm = bytes([0xFB, 0xFF]) * 800  # base64 of this needs '+' / '/' in the standard alphabet
    urlsafe = base64.urlsafe_b64encode(pcm).decode().rstrip("=")
    async with connect() as client:
        await client.setup(
            {"setup": {"model": MODEL, "generation_config": {"response_modalities": ["AUDIO"]}, **manual()}}
        )
        await client.send({"realtime_input": {"activity_start": {}}})
        await client.send(
            {"realtime_input": {"audio": {"data": urlsafe, "mime_type": "audio/pcm;rate=16000"}}}
        )
        await client.send(
            {"realtime_input": {"media_chunks": [{"data": urlsafe, "mime_type": "audio/pcm;rate=16000"}]}}
        )
        await client.send({"realtime_input": {"activity_end": {}}})
        await client.turn()
    turn = emulator.conversations[0].turns[0]
    assert turn.audio_bytes == 2 * len(pcm)


async def test_a_rejected_connection_does_not_disturb_another(connect, emulator) -> None:
    async with connect() as good, connect() as bad:
        await good.setup()
        await bad.setup()
        await bad.send({"realtimeInput": {}})
        assert (await bad.closed())[0] == 1007
        await good.send(text_turn("still here"))
        assert "still here" in "".join(str(m) for m in await good.turn())
