"""The Live wire layer: builders against the captured protocol, the parser on every server message kind,
and property tests that the parser never raises."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rholive.live import keys, wire
from rholive.live.events import (
    AudioChunk,
    FunctionCall,
    GenerationComplete,
    GoAway,
    Grounding,
    InputTranscription,
    Interrupted,
    OutputTranscription,
    ProtocolError,
    ResumptionUpdate,
    SetupComplete,
    TextPart,
    ToolCall,
    ToolCallCancellation,
    TurnComplete,
    UnknownMessage,
    Usage,
)
from rholive.live.wire import ActivityDetection, FunctionResponse, SetupConfig


def canonical(value: Any) -> Any:
    """A message as the service reads it: camelCase keys, base64 ``data`` in the standard alphabet."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            name = keys.canonical(key)
            if name == "data" and isinstance(item, str):
                item = base64.b64encode(keys.b64decode_any(item)).decode()
            out[name] = canonical(item)
        return out
    if isinstance(value, list):
        return [canonical(v) for v in value]
    return value


def snake_keys(value: Any) -> Any:
    """Every key in snake_case, as parts of the SDK send them; values untouched."""
    if isinstance(value, dict):
        return {keys.snake(k): snake_keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [snake_keys(v) for v in value]
    return value


def wire_json(message: dict[str, Any]) -> Any:
    return json.loads(wire.encode(message))


# ---------------------------------------------------------------- builders vs. live-protocol.md

# The client messages captured from the official SDK (shared/live-protocol.md), one per builder.
CAPTURED = {
    "setup": '{"setup": {"model": "models/gemini-live-2.5-flash-preview", "generationConfig": {"responseModalities": ["TEXT"], "mediaResolution": "MEDIA_RESOLUTION_LOW"}, "systemInstruction": {"parts": [{"text": "..."}], "role": "user"}, "sessionResumption": {"handle": "prev-handle-abc"}, "inputAudioTranscription": {}, "outputAudioTranscription": {}, "realtimeInputConfig": {"automatic_activity_detection": {"disabled": true}}, "contextWindowCompression": {"trigger_tokens": 25600, "sliding_window": {"target_tokens": 12800}}}}',
    "audio": '{"realtime_input": {"audio": {"data": "AAECAw==", "mime_type": "audio/pcm;rate=16000"}}}',
    "video": '{"realtime_input": {"video": {"data": "_9j_4A==", "mime_type": "image/jpeg"}}}',
    "start": '{"realtime_input": {"activityStart": {}}}',
    "end": '{"realtime_input": {"activityEnd": {}}}',
    "stream_end": '{"realtime_input": {"audioStreamEnd": true}}',
    "text": '{"realtime_input": {"text": "Hello there"}}',
    "content": '{"client_content": {"turns": [{"parts": [{"text": "Earlier context"}], "role": "user"}], "turnComplete": false}}',
    "tool": '{"tool_response": {"functionResponses": [{"id": "call-1", "name": "get_time", "response": {"time": "12:00"}}]}}',
}

BUILT = {
    "setup": lambda: wire.setup(
        SetupConfig(
            model="models/gemini-live-2.5-flash-preview",  # as captured in 2025 (shut down since)
            response_modality="TEXT",
            media_resolution="MEDIA_RESOLUTION_LOW",
            system_instruction="...",
            session_resumption=False,
            resumption_handle="prev-handle-abc",
            input_transcription=True,
            output_transcription=True,
            activity_detection=ActivityDetection(disabled=True),
            compression_trigger_tokens=25600,
            compression_target_tokens=12800,
        )
    ),
    "audio": lambda: wire.realtime_audio(b"\x00\x01\x02\x03"),
    "video": lambda: wire.realtime_video(b"\xff\xd8\xff\xe0"),
    "start": wire.activity_start,
    "end": wire.activity_end,
    "stream_end": wire.audio_stream_end,
    "text": lambda: wire.realtime_text("Hello there"),
    "content": lambda: wire.client_content("Earlier context", turn_complete=False),
    "tool": lambda: wire.tool_response([FunctionResponse("call-1", "get_time", {"time": "12:00"})]),
}


@pytest.mark.parametrize("name", sorted(CAPTURED))
def test_builder_matches_captured_sdk_message(name: str) -> None:
    assert wire_json(BUILT[name]()) == canonical(json.loads(CAPTURED[name]))


def test_builders_emit_camel_case_and_standard_base64() -> None:
    text = wire.encode(wire.realtime_video(b"\xff\xd8\xff\xe0"))
    assert text == '{"realtimeInput":{"video":{"data":"/9j/4A==","mimeType":"image/jpeg"}}}'
    assert wire.encode(wire.realtime_audio(b"\x01\x00", rate=24000)) == (
        '{"realtimeInput":{"audio":{"data":"AQA=","mimeType":"audio/pcm;rate=24000"}}}'
    )


def test_setup_with_every_field() -> None:
    tools = [{"functionDeclarations": [{"name": "get_time"}]}]
    config = SetupConfig(
        model="gemini-2.5-flash-native-audio-preview",
        response_modality="AUDIO",
        system_instruction="Be brief.",
        temperature=0.5,
        top_p=0.9,
        top_k=40,
        max_output_tokens=256,
        media_resolution="MEDIA_RESOLUTION_LOW",
        voice_name="Puck",
        language_code="en-US",
        enable_affective_dialog=True,
        thinking_budget=0,
        activity_detection=ActivityDetection(
            disabled=False,
            start_sensitivity="START_SENSITIVITY_LOW",
            end_sensitivity="END_SENSITIVITY_HIGH",
            prefix_padding_ms=20,
            silence_duration_ms=500,
        ),
        activity_handling="NO_INTERRUPTION",
        turn_coverage="TURN_INCLUDES_ALL_INPUT",
        input_transcription=True,
        output_transcription=True,
        session_resumption=True,
        resumption_handle="h-1",
        compression_trigger_tokens=25600,
        compression_target_tokens=12800,
        proactive_audio=True,
        tools=tools,
    )
    assert wire_json(wire.setup(config)) == {
        "setup": {
            "model": "models/gemini-2.5-flash-native-audio-preview",
            "generationConfig": {
                "responseModalities": ["AUDIO"],
                "temperature": 0.5,
                "topP": 0.9,
                "topK": 40,
                "maxOutputTokens": 256,
                "mediaResolution": "MEDIA_RESOLUTION_LOW",
                "speechConfig": {
                    "voiceConfig": {"prebuiltVoiceConfig": {"voiceName": "Puck"}},
                    "languageCode": "en-US",
                },
                "enableAffectiveDialog": True,
                "thinkingConfig": {"thinkingBudget": 0},
            },
            "systemInstruction": {"parts": [{"text": "Be brief."}], "role": "user"},
            "tools": tools,
            "realtimeInputConfig": {
                "automaticActivityDetection": {
                    "disabled": False,
                    "startOfSpeechSensitivity": "START_SENSITIVITY_LOW",
                    "endOfSpeechSensitivity": "END_SENSITIVITY_HIGH",
                    "prefixPaddingMs": 20,
                    "silenceDurationMs": 500,
                },
                "activityHandling": "NO_INTERRUPTION",
                "turnCoverage": "TURN_INCLUDES_ALL_INPUT",
            },
            "inputAudioTranscription": {},
            "outputAudioTranscription": {},
            "sessionResumption": {"transparent": True, "handle": "h-1"},
            "contextWindowCompression": {"triggerTokens": 25600, "slidingWindow": {"targetTokens": 12800}},
            "proactivity": {"proactiveAudio": True},
        }
    }


def test_default_setup_is_minimal() -> None:
    assert wire_json(wire.setup(SetupConfig())) == {
        "setup": {
            "model": "models/gemini-3.8-live",
            "generationConfig": {"responseModalities": ["AUDIO"]},
            "outputAudioTranscription": {},
            "sessionResumption": {"transparent": True},
        }
    }


def test_setup_matches_the_official_sdk_converter() -> None:
    """Same placement of every field as google-genai's own LiveConnectConfig -> setup conversion
    (the SDK refuses ``transparent`` for the Developer API, so that one field is left out here)."""
    from google import genai
    from google.genai import _common, types
    from google.genai import _live_converters as converters

    sdk_config = types.LiveConnectConfig(
        response_modalities=["AUDIO"],
        temperature=0.5,
        top_p=0.9,
        top_k=40,
        max_output_tokens=100,
        media_resolution="MEDIA_RESOLUTION_LOW",
        speech_config=types.SpeechConfig(
            voice_config=types.VoiceConfig(
                prebuilt_voice_config=types.PrebuiltVoiceConfig(voice_name="Puck")
            ),
            language_code="en-US",
        ),
        enable_affective_dialog=True,
        thinking_config=types.ThinkingConfig(thinking_budget=0),
        system_instruction="be brief",
        realtime_input_config=types.RealtimeInputConfig(
            automatic_activity_detection=types.AutomaticActivityDetection(
                disabled=True, prefix_padding_ms=20, silence_duration_ms=500
            ),
            activity_handling="NO_INTERRUPTION",
            turn_coverage="TURN_INCLUDES_ALL_INPUT",
        ),
        input_audio_transcription=types.AudioTranscriptionConfig(),
        output_audio_transcription=types.AudioTranscriptionConfig(),
        session_resumption=types.SessionResumptionConfig(handle="h1"),
        context_window_compression=types.ContextWindowCompressionConfig(
            trigger_tokens=25600, sliding_window=types.SlidingWindow(target_tokens=12800)
        ),
        proactivity=types.ProactivityConfig(proactive_audio=True),
    )
    client = genai.Client(api_key="not-a-real-key")
    params = types.LiveConnectParameters(model="gemini-live-2.5-flash-preview", config=sdk_config)
    sdk = converters._LiveConnectParameters_to_mldev(client._api_client, params.model_dump(exclude_none=True))
    del sdk["config"]
    sdk = json.loads(json.dumps(_common.encode_unserializable_types(_common.convert_to_dict(sdk))))

    ours = SetupConfig(
        model="gemini-live-2.5-flash-preview",
        response_modality="AUDIO",
        temperature=0.5,
        top_p=0.9,
        top_k=40,
        max_output_tokens=100,
        media_resolution="MEDIA_RESOLUTION_LOW",
        voice_name="Puck",
        language_code="en-US",
        enable_affective_dialog=True,
        thinking_budget=0,
        system_instruction="be brief",
        activity_detection=ActivityDetection(disabled=True, prefix_padding_ms=20, silence_duration_ms=500),
        activity_handling="NO_INTERRUPTION",
        turn_coverage="TURN_INCLUDES_ALL_INPUT",
        input_transcription=True,
        output_transcription=True,
        session_resumption=False,
        resumption_handle="h1",
        compression_trigger_tokens=25600,
        compression_target_tokens=12800,
        proactive_audio=True,
    )
    assert wire_json(wire.setup(ours)) == canonical(sdk)


def test_tool_response_with_scheduling_and_will_continue() -> None:
    message = wire.tool_response(
        [
            FunctionResponse("a", "f", {"result": 1}, scheduling="WHEN_IDLE", will_continue=False),
            FunctionResponse("b", "g", {"error": "ValueError: x"}),
        ]
    )
    assert wire_json(message) == {
        "toolResponse": {
            "functionResponses": [
                {
                    "id": "a",
                    "name": "f",
                    "response": {"result": 1},
                    "scheduling": "WHEN_IDLE",
                    "willContinue": False,
                },
                {"id": "b", "name": "g", "response": {"error": "ValueError: x"}},
            ]
        }
    }


def test_client_content_keeps_given_turns() -> None:
    turns = [{"role": "user", "parts": [{"text": "a"}]}, {"role": "model", "parts": [{"text": "b"}]}]
    assert wire.client_content(turns) == {"clientContent": {"turns": turns, "turnComplete": True}}


# ---------------------------------------------------------------- parsing every server message kind


def parse(message: Any) -> list[Any]:
    return wire.parse_server_message(json.dumps(message))


def test_setup_complete() -> None:
    assert parse({"setupComplete": {}}) == [SetupComplete()]
    assert parse({"setup_complete": {"session_id": "s-1"}}) == [SetupComplete(session_id="s-1")]


def test_model_turn_text_thought_and_audio_in_order() -> None:
    pcm = bytes(range(256)) * 4
    frame = {
        "serverContent": {
            "modelTurn": {
                "parts": [
                    {"text": "thinking...", "thought": True},
                    {"text": "Hello"},
                    {
                        "inlineData": {
                            "mimeType": "audio/pcm;rate=24000",
                            "data": base64.b64encode(pcm).decode(),
                        }
                    },
                ]
            }
        }
    }
    assert parse(frame) == [
        TextPart("thinking...", thought=True),
        TextPart("Hello"),
        AudioChunk(pcm, "audio/pcm;rate=24000", 24000),
    ]


def test_snake_case_keys_and_url_safe_unpadded_base64() -> None:
    data = b"\xfb\xff\xfe\x00"  # encodes with '+' and '/' in the standard alphabet
    url_safe = base64.urlsafe_b64encode(data).decode().rstrip("=")
    assert "-" in url_safe or "_" in url_safe
    frame = {
        "server_content": {
            "model_turn": {
                "parts": [{"inline_data": {"mime_type": "audio/pcm;rate=16000", "data": url_safe}}]
            },
            "generation_complete": True,
            "turn_complete": True,
            "turn_complete_reason": "NEED_MORE_INPUT",
        },
        "usage_metadata": {"total_token_count": 9},
    }
    assert parse(frame) == [
        AudioChunk(data, "audio/pcm;rate=16000", 16000),
        GenerationComplete(),
        TurnComplete(reason="NEED_MORE_INPUT"),
        Usage(total_tokens=9),
    ]


def test_audio_without_rate_defaults_to_output_rate() -> None:
    frame = {
        "serverContent": {"modelTurn": {"parts": [{"inlineData": {"mimeType": "audio/pcm", "data": "AAA="}}]}}
    }
    assert parse(frame) == [AudioChunk(b"\x00\x00", "audio/pcm", 24000)]


def test_transcriptions_grounding_and_interruption() -> None:
    frame = {
        "serverContent": {
            "inputTranscription": {"text": "what time"},
            "outputTranscription": {"text": "It is noon.", "finished": True},
            "groundingMetadata": {"webSearchQueries": ["time"]},
            "interrupted": True,
            "turnComplete": False,
        }
    }
    assert parse(frame) == [
        InputTranscription("what time"),
        OutputTranscription("It is noon.", finished=True),
        Grounding(metadata={"webSearchQueries": ["time"]}),
        Interrupted(),
    ]


def test_tool_call_and_cancellation() -> None:
    frame = {
        "toolCall": {
            "functionCalls": [
                {"id": "c1", "name": "get_time", "args": {"tz": "UTC"}},
                {"id": "c2", "name": "ping"},
            ]
        }
    }
    assert parse(frame) == [
        ToolCall(calls=(FunctionCall("c1", "get_time", {"tz": "UTC"}), FunctionCall("c2", "ping", {})))
    ]
    assert parse({"tool_call_cancellation": {"ids": ["c1", "c2"]}}) == [
        ToolCallCancellation(ids=("c1", "c2"))
    ]


def test_tool_call_args_are_not_rewritten() -> None:
    args = {"snake_key": 1, "camelKey": {"inner_key": [1, 2]}}
    (event,) = parse({"tool_call": {"function_calls": [{"id": "x", "name": "f", "args": args}]}})
    assert event.calls[0].args == args


@pytest.mark.parametrize(
    ("time_left", "seconds"),
    [
        ("50s", 50.0),
        ("1.5s", 1.5),
        ({"seconds": 2, "nanos": 500_000_000}, 2.5),
        ({"seconds": "7"}, 7.0),
        (3, 3.0),
    ],
)
def test_go_away_time_left(time_left: Any, seconds: float) -> None:
    assert parse({"goAway": {"timeLeft": time_left}}) == [GoAway(time_left_s=seconds)]
    assert parse({"go_away": {"time_left": time_left}}) == [GoAway(time_left_s=seconds)]


def test_resumption_update_with_int64_as_string() -> None:
    frame = {
        "sessionResumptionUpdate": {
            "newHandle": "h2",
            "resumable": True,
            "lastConsumedClientMessageIndex": "12",
        }
    }
    assert parse(frame) == [ResumptionUpdate(new_handle="h2", resumable=True, last_consumed_index=12)]
    snake = {"session_resumption_update": {"resumable": False}}
    assert parse(snake) == [ResumptionUpdate(new_handle=None, resumable=False, last_consumed_index=None)]


def test_usage_is_last_and_summed_by_modality() -> None:
    frame = {
        "usageMetadata": {
            "promptTokenCount": 30,
            "responseTokenCount": 20,
            "totalTokenCount": 50,
            "promptTokensDetails": [
                {"modality": "TEXT", "tokenCount": 5},
                {"modality": "AUDIO", "tokenCount": 25},
            ],
            "responseTokensDetails": [
                {"modality": "AUDIO", "tokenCount": 12},
                {"modality": "AUDIO", "tokenCount": 8},
            ],
        },
        "serverContent": {"turnComplete": True},
    }
    assert parse(frame) == [
        TurnComplete(),
        Usage(
            prompt_tokens=30,
            response_tokens=20,
            total_tokens=50,
            prompt_by_modality={"TEXT": 5, "AUDIO": 25},
            response_by_modality={"AUDIO": 20},
        ),
    ]


def test_unknown_top_level_fields_give_one_event_and_nested_ones_are_ignored() -> None:
    frame = {
        "futureSignal": {"type": "START"},  # voiceActivity is known now (test_wire_since_seeds)
        "serverContent": {"turnComplete": True, "newThing": {"x": 1}},
        "somethingElse": 1,
    }
    assert parse(frame) == [TurnComplete(), UnknownMessage(fields=("futureSignal", "somethingElse"))]


def test_bytes_frame() -> None:
    assert wire.parse_server_message(b'{"setupComplete":{}}') == [SetupComplete()]


# ---------------------------------------------------------------- malformed frames

MALFORMED = [
    "not json",
    "[1, 2]",
    '"text"',
    "null",
    "{}",
    '{"serverContent": 3}',
    '{"serverContent": {"modelTurn": {"parts": {"text": "x"}}}}',
    '{"serverContent": {"modelTurn": {"parts": [{"text": 5}]}}}',
    '{"serverContent": {"modelTurn": {"parts": [{"inlineData": {"data": "***", "mimeType": "audio/pcm"}}]}}}',
    '{"serverContent": {"modelTurn": {"parts": [{"inlineData": {"mimeType": "audio/pcm"}}]}}}',
    '{"serverContent": {"modelTurn": {"parts": [{"inlineData": {"data": "AA==", "mimeType": "audio/pcm;rate=x"}}]}}}',
    '{"serverContent": {"turnComplete": "yes"}}',
    '{"toolCall": {"functionCalls": [{"id": "a", "args": {}}]}}',
    '{"toolCall": {"functionCalls": [{"id": "a", "name": "f", "args": []}]}}',
    '{"toolCallCancellation": {"ids": [1]}}',
    '{"goAway": {"timeLeft": "soon"}}',
    '{"goAway": {"timeLeft": "-5s"}}',
    '{"sessionResumptionUpdate": {"lastConsumedClientMessageIndex": "seven"}}',
    '{"usageMetadata": {"promptTokenCount": true}}',
    '{"usageMetadata": {"promptTokensDetails": [{"modality": "TEXT", "tokenCount": 1.5}]}}',
    # a valid part next to a broken one: the whole frame is one error, not half its events
    '{"serverContent": {"modelTurn": {"parts": [{"text": "ok"}, {"text": "y", "thought": "x"}]}}}',
]


@pytest.mark.parametrize("raw", MALFORMED)
def test_malformed_frame_gives_exactly_one_protocol_error(raw: str) -> None:
    events = wire.parse_server_message(raw)
    assert len(events) == 1 and isinstance(events[0], ProtocolError), events
    assert events[0].message


def test_invalid_utf8_bytes() -> None:
    (event,) = wire.parse_server_message(b'{"setupComplete": "\xff"}')
    assert isinstance(event, ProtocolError) and "UTF-8" in event.message


def test_excerpt_of_a_big_frame_is_short() -> None:
    raw = (
        '{"serverContent": ' + json.dumps({"modelTurn": {"parts": [{"text": 1}]}, "pad": "x" * 100_000}) + "}"
    )
    (event,) = wire.parse_server_message(raw)
    assert isinstance(event, ProtocolError)
    assert raw.startswith(event.excerpt.rstrip("…")) and len(event.excerpt) <= wire.EXCERPT_CHARS + 1


# ---------------------------------------------------------------- properties: never raise

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=25,
)

# Keys the parser looks for, in both spellings, so that random frames reach the deep paths.
_VOCAB = [
    "setupComplete", "serverContent", "toolCall", "toolCallCancellation", "goAway", "sessionResumptionUpdate",
    "usageMetadata", "modelTurn", "parts", "text", "thought", "inlineData", "mimeType", "data",
    "inputTranscription", "outputTranscription", "finished", "interrupted", "generationComplete", "turnComplete",
    "turnCompleteReason", "groundingMetadata", "functionCalls", "id", "name", "args", "ids", "timeLeft", "seconds",
    "nanos", "newHandle", "resumable", "lastConsumedClientMessageIndex", "promptTokenCount", "responseTokenCount",
    "totalTokenCount", "promptTokensDetails", "responseTokensDetails", "modality", "tokenCount", "sessionId",
]  # fmt: skip
vocab_keys = st.sampled_from(_VOCAB + [keys.snake(k) for k in _VOCAB])
leaf_values = (
    st.none()
    | st.booleans()
    | st.integers(-5, 10**20)
    | st.floats()
    | st.sampled_from(
        ["AAA=", "AQID", "_-8", "audio/pcm;rate=16000", "audio/pcm;rate=0", "1.5s", "12", "x", ""]
    )
)
shaped = st.recursive(
    leaf_values,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(vocab_keys, inner, max_size=5),
    max_leaves=30,
)


def assert_events_or_one_error(events: list[Any]) -> None:
    assert isinstance(events, list)
    errors = [e for e in events if isinstance(e, ProtocolError)]
    assert errors == [] or events == errors[:1], events
    assert all(hasattr(e, "kind") for e in events)


@given(json_values)
def test_any_json_value_gives_events_or_one_error(value: Any) -> None:
    text = json.dumps(value)
    assert_events_or_one_error(wire.parse_server_message(text))
    assert_events_or_one_error(wire.parse_server_message(text.encode()))


@given(st.dictionaries(vocab_keys, shaped, min_size=1, max_size=4))
@settings(max_examples=300)
def test_protocol_shaped_frames_give_events_or_one_error(frame: dict[str, Any]) -> None:
    assert_events_or_one_error(wire.parse_server_message(json.dumps(frame)))


@given(st.binary(max_size=200))
def test_any_bytes_give_events_or_one_error(raw: bytes) -> None:
    assert_events_or_one_error(wire.parse_server_message(raw))


@given(st.text(max_size=200))
def test_any_text_gives_events_or_one_error(raw: str) -> None:
    assert_events_or_one_error(wire.parse_server_message(raw))


# ---------------------------------------------------------------- round trips


@given(st.binary(max_size=2000), st.sampled_from([8000, 16000, 24000, 48000]))
def test_audio_round_trip_read_like_a_server(pcm: bytes, rate: int) -> None:
    message = json.loads(wire.encode(wire.realtime_audio(pcm, rate)))
    (field,) = message.keys()
    blob = keys.get(keys.get(message, "realtimeInput"), "audio")
    assert field == "realtimeInput"
    assert keys.b64decode_any(keys.get(blob, "data")) == pcm
    assert keys.get(blob, "mimeType") == f"audio/pcm;rate={rate}"


@given(st.binary(max_size=2000), st.sampled_from([8000, 16000, 24000]), st.text(max_size=30))
def test_the_send_templates_write_what_encode_writes(data: bytes, rate: int, mime: str) -> None:
    """The hot path builds realtime blobs from a template; the text must be exactly encode()'s."""
    assert wire.realtime_audio_text(data, rate) == wire.encode(wire.realtime_audio(data, rate))
    assert wire.realtime_video_text(data, mime) == wire.encode(wire.realtime_video(data, mime))
    assert wire.realtime_audio_text(memoryview(data)) == wire.encode(wire.realtime_audio(data))


@given(st.binary(max_size=600))
def test_base64_either_alphabet_padded_or_not(data: bytes) -> None:
    standard = base64.b64encode(data).decode()
    for text in (standard, base64.urlsafe_b64encode(data).decode(), standard.rstrip("=")):
        assert keys.b64decode_any(text) == data


def test_an_audio_frame_and_a_full_server_content_read_alike() -> None:
    """The parser's short cut for frames that carry only modelTurn gives what the full read gives."""
    blob = {"mimeType": "audio/pcm;rate=24000", "data": base64.b64encode(b"\x01\x00\x02\x00").decode()}
    turn = {"role": "model", "parts": [{"inlineData": blob}, {"text": "hi"}]}
    alone = wire.parse_server_message(json.dumps({"serverContent": {"modelTurn": turn}}))
    with_more = wire.parse_server_message(
        json.dumps({"serverContent": {"modelTurn": turn, "interrupted": False}})
    )
    assert (
        alone == with_more == [AudioChunk(b"\x01\x00\x02\x00", "audio/pcm;rate=24000", 24000), TextPart("hi")]
    )
    (error,) = wire.parse_server_message(json.dumps({"serverContent": {"modelTurn": {"parts": "x"}}}))
    assert isinstance(error, ProtocolError)


@given(st.text())
def test_text_round_trips(text: str) -> None:
    realtime = json.loads(wire.encode(wire.realtime_text(text)))
    assert keys.get(keys.get(realtime, "realtimeInput"), "text") == text
    content = json.loads(wire.encode(wire.client_content(text)))
    (turn,) = keys.get(keys.get(content, "clientContent"), "turns")
    assert turn["role"] == "user" and turn["parts"] == [{"text": text}]


@given(st.dictionaries(st.text(max_size=8), json_values, max_size=4), st.text(max_size=10))
def test_tool_response_round_trip(response: dict[str, Any], call_id: str) -> None:
    message = json.loads(wire.encode(wire.tool_response([FunctionResponse(call_id, "f", response)])))
    (item,) = keys.get(keys.get(message, "toolResponse"), "functionResponses")
    assert (item["id"], item["name"], item["response"]) == (call_id, "f", response)


@given(
    st.lists(
        st.one_of(
            st.text(max_size=30).map(lambda t: ("text", t)),
            st.binary(max_size=300).map(lambda b: ("audio", b)),
        )
    ),
    st.booleans(),
    st.booleans(),
)
def test_server_content_round_trip_in_either_spelling(
    parts: list[tuple[str, Any]], snake_case: bool, url_safe: bool
) -> None:
    encode = base64.urlsafe_b64encode if url_safe else base64.b64encode
    wire_parts = [
        {"text": v}
        if kind == "text"
        else {"inlineData": {"mimeType": "audio/pcm;rate=24000", "data": encode(v).decode()}}
        for kind, v in parts
    ]
    frame: Any = {"serverContent": {"modelTurn": {"parts": wire_parts}, "turnComplete": True}}
    if snake_case:
        frame = snake_keys(frame)
    expected = [TextPart(v) if kind == "text" else AudioChunk(v) for kind, v in parts]
    assert parse(frame) == [*expected, TurnComplete()]
