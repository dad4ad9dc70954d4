"""Messages and fields added since the seeds (shared/live-protocol.md), spelled as google-genai 3.6.1
types.py spells them: builders of the new client messages, the parser on hand-built server frames."""

from __future__ import annotations

import json
from typing import Any

import pytest

from rholive.live import wire
from rholive.live.events import (
    InputTranscription,
    InteractionStatus,
    InterimInputTranscription,
    OutputTranscription,
    TurnComplete,
    UnknownMessage,
    Usage,
    VoiceActivity,
    WaitingForInput,
    event_to_dict,
)
from rholive.live.wire import FunctionResponse, HistoryTurn, ResponseBlob, SetupConfig, TranscriptionOptions


def sent(message: dict[str, Any]) -> Any:
    return json.loads(wire.encode(message))


def parse(frame: dict[str, Any]) -> list[Any]:
    return wire.parse_server_message(json.dumps(frame))


# ---------------------------------------------------------------- client messages


def test_context_update_carries_the_instruction_as_content_and_the_tools_wrapped() -> None:
    tools = [{"functionDeclarations": [{"name": "get_time"}]}]
    assert sent(wire.context_update("Be a pirate.", tools)) == {
        "contextUpdate": {
            "systemInstruction": {"parts": [{"text": "Be a pirate."}], "role": "user"},
            "tools": {"tools": tools},
        }
    }


def test_context_update_sends_only_what_changes_and_an_empty_list_clears_the_tools() -> None:
    assert sent(wire.context_update(tools=[])) == {"contextUpdate": {"tools": {"tools": []}}}
    assert "tools" not in sent(wire.context_update("x"))["contextUpdate"]
    with pytest.raises(ValueError, match="needs"):
        wire.context_update()


def test_history_is_one_client_content_with_roles_that_ends_the_history() -> None:
    turns = [HistoryTurn("user", "hi"), HistoryTurn("model", "hello")]
    assert sent(wire.history(turns)) == {
        "clientContent": {
            "turns": [
                {"parts": [{"text": "hi"}], "role": "user"},
                {"parts": [{"text": "hello"}], "role": "model"},
            ],
            "turnComplete": True,
        }
    }


def test_setup_with_history_config_transcription_options_and_proactive_video() -> None:
    options = TranscriptionOptions(language_codes=("fr-FR", "en-US"), custom_vocabulary=("rholive",))
    config = SetupConfig(
        model="some-future-live-model",
        input_transcription=True,
        input_transcription_options=options,
        output_transcription=True,
        output_transcription_options=TranscriptionOptions(language_codes=("fr-FR",)),
        history_in_client_content=True,
        proactive_video=True,
    )
    body = sent(wire.setup(config))["setup"]
    assert body["inputAudioTranscription"] == {
        "languageCodes": ["fr-FR", "en-US"],
        "customVocabulary": ["rholive"],
    }
    assert body["outputAudioTranscription"] == {"languageCodes": ["fr-FR"]}
    assert body["historyConfig"] == {"initialHistoryInClientContent": True}
    assert body["proactivity"] == {"proactiveVideo": True}


def test_setup_without_the_new_fields_is_unchanged() -> None:
    body = sent(wire.setup(SetupConfig(input_transcription=True)))["setup"]
    assert body["inputAudioTranscription"] == {}
    assert "historyConfig" not in body and "proactivity" not in body


def test_function_response_with_media_parts_and_will_continue() -> None:
    response = FunctionResponse(
        "c1",
        "snap",
        {"status": "ok"},
        scheduling="WHEN_IDLE",
        will_continue=True,
        parts=(ResponseBlob(b"\xff\xd8", "image/jpeg"),),
    )
    [item] = sent(wire.tool_response([response]))["toolResponse"]["functionResponses"]
    assert item == {
        "id": "c1",
        "name": "snap",
        "response": {"status": "ok"},
        "scheduling": "WHEN_IDLE",
        "willContinue": True,
        "parts": [{"inlineData": {"data": "/9g=", "mimeType": "image/jpeg"}}],
    }


# ---------------------------------------------------------------- server messages


def test_interaction_status_follows_the_turn_complete_it_qualifies() -> None:
    frame = {
        "serverContent": {
            "turnComplete": True,
            "turnCompleteReason": "NEED_MORE_INPUT",
            "interactionStatus": "IN_PROGRESS",
        }
    }
    assert parse(frame) == [TurnComplete(reason="NEED_MORE_INPUT"), InteractionStatus("IN_PROGRESS")]
    assert parse({"serverContent": {"interactionStatus": "IDLE"}}) == [InteractionStatus("IDLE")]


def test_waiting_for_input() -> None:
    assert parse({"serverContent": {"waitingForInput": True}}) == [WaitingForInput()]
    assert parse({"serverContent": {"waitingForInput": False}}) == []


@pytest.mark.parametrize(("offset", "seconds"), [("1.5s", 1.5), ({"seconds": 2, "nanos": 500000000}, 2.5)])
def test_voice_activity(offset: Any, seconds: float) -> None:
    frame = {"voiceActivity": {"voiceActivityType": "ACTIVITY_START", "audioOffset": offset}}
    assert parse(frame) == [VoiceActivity("ACTIVITY_START", seconds)]
    assert parse({"voice_activity": {"voice_activity_type": "ACTIVITY_END"}}) == [
        VoiceActivity("ACTIVITY_END", None)
    ]


def test_interim_input_transcription_and_language_codes() -> None:
    frame = {
        "serverContent": {
            "interimInputTranscription": {"text": "bonj", "languageCode": "fr-FR"},
            "inputTranscription": {"text": "bonjour", "finished": True, "languageCode": "fr-FR"},
            "outputTranscription": {"text": "salut", "languageCode": "fr-FR"},
        }
    }
    events = parse(frame)
    assert InterimInputTranscription("bonj", False, "fr-FR") in events
    assert InputTranscription("bonjour", True, "fr-FR") in events
    assert OutputTranscription("salut", False, "fr-FR") in events


def test_usage_details() -> None:
    frame = {
        "usageMetadata": {
            "promptTokenCount": 100,
            "responseTokenCount": 20,
            "thoughtsTokenCount": "7",
            "cachedContentTokenCount": 64,
            "toolUsePromptTokenCount": 9,
            "totalTokenCount": 136,
        }
    }
    [usage] = parse(frame)
    assert isinstance(usage, Usage)
    assert (usage.thoughts_tokens, usage.cached_tokens, usage.tool_use_prompt_tokens) == (7, 64, 9)


def test_no_new_field_is_reported_as_unknown() -> None:
    frames = [
        {"serverContent": {"interactionStatus": "IDLE", "waitingForInput": True}},
        {"serverContent": {"interimInputTranscription": {"text": "a"}}},
        {"voiceActivity": {"voiceActivityType": "ACTIVITY_END", "audioOffset": "0.2s"}},
    ]
    for frame in frames:
        assert not [e for e in parse(frame) if isinstance(e, UnknownMessage)]


def test_new_event_names_are_stable() -> None:
    assert event_to_dict(VoiceActivity("ACTIVITY_START", 1.0)) == {
        "event": "voice_activity",
        "activity": "ACTIVITY_START",
        "audio_offset_s": 1.0,
    }
    assert event_to_dict(InteractionStatus("IDLE"))["event"] == "interaction_status"
    assert event_to_dict(WaitingForInput())["event"] == "waiting_for_input"
    assert event_to_dict(InterimInputTranscription("a"))["event"] == "interim_input_transcription"


def test_proactive_video_is_left_out_where_the_model_has_no_proactive_audio() -> None:
    from rholive.live import models

    legacy = models.fit_setup(SetupConfig(model="gemini-3.1-flash-live-preview", proactive_video=True))
    assert legacy.proactive_video is None
    assert models.fit_setup(SetupConfig(proactive_video=True)).proactive_video is True  # 3.8: always on


def test_usage_totals_add_the_details_up() -> None:
    from rholive.live.usage import UsageTotals

    totals = UsageTotals()
    for _ in range(2):
        totals.add(Usage(thoughts_tokens=3, cached_tokens=10, tool_use_prompt_tokens=1))
    assert (totals.thoughts_tokens, totals.cached_tokens, totals.tool_use_prompt_tokens) == (6, 20, 2)
