"""The official google-genai SDK against the emulator in TLS mode: proof that the emulator speaks the real
protocol (the SDK's snake_case keys, URL-safe base64, api versions, its token flow and error handling)."""

from __future__ import annotations

import ssl
import warnings
from typing import Any

import pytest
from google import genai
from google.genai import errors, types

from rholive.emulator import Emulator, EmulatorOptions

from .helpers import silence, tone
from .test_tools import ToolBrain

KEY = "sdk-test-key"
MODEL = "gemini-3.8-live"  # AUDIO only: the transcript is the answer's text
SPOKEN = {"response_modalities": ["AUDIO"], "output_audio_transcription": {}}


@pytest.fixture
def options() -> EmulatorOptions:
    return EmulatorOptions(tls=True, api_keys=[KEY])


def sdk(emulator: Emulator, key: str = KEY, version: str = "v1beta") -> genai.Client:
    context = ssl.create_default_context(cafile=str(emulator.cert_path))
    assert emulator.http_url.startswith("https://")
    return genai.Client(
        api_key=key,
        http_options={
            "base_url": emulator.http_url,
            "api_version": version,
            "async_client_args": {"ssl": context},
        },
    )


async def one_turn(session: Any) -> list[types.LiveServerMessage]:
    got = []
    async for message in session.receive():  # the SDK's receive() stops after turnComplete
        got.append(message)
    return got


def said(messages: list[types.LiveServerMessage]) -> str:
    """The output transcription: what the model said."""
    return "".join(
        m.server_content.output_transcription.text or ""
        for m in messages
        if m.server_content and m.server_content.output_transcription
    )


async def test_setup_and_a_text_turn(emulator) -> None:
    client = sdk(emulator)
    config = {**SPOKEN, "system_instruction": "Be brief."}
    async with client.aio.live.connect(model=MODEL, config=config) as session:
        await session.send_client_content(
            turns=types.Content(role="user", parts=[types.Part(text="hello from the SDK")]),
            turn_complete=True,
        )
        got = await one_turn(session)
    assert "hello from the SDK" in said(got)
    assert b"".join(m.data for m in got if m.data)  # spoken: 24 kHz PCM
    assert got[-1].server_content.turn_complete
    assert got[-1].usage_metadata.prompt_token_count == 5  # 18 characters / 4
    assert [t.text for t in emulator.conversations[0].turns] == ["hello from the SDK"]


async def test_realtime_audio_between_activity_markers(emulator) -> None:
    client = sdk(emulator, version="v1alpha")
    config = {
        "response_modalities": ["AUDIO"],
        "realtime_input_config": {"automatic_activity_detection": {"disabled": True}},
        "input_audio_transcription": {},
        "output_audio_transcription": {},
    }
    pcm = tone(0.7) + silence(0.3)
    async with client.aio.live.connect(model=MODEL, config=config) as session:
        await session.send_realtime_input(activity_start=types.ActivityStart())
        for i in range(0, len(pcm), 3200):  # 100 ms chunks
            await session.send_realtime_input(
                audio=types.Blob(data=pcm[i : i + 3200], mime_type="audio/pcm;rate=16000")
            )
        await session.send_realtime_input(activity_end=types.ActivityEnd())
        got = await one_turn(session)
    [turn] = emulator.conversations[0].turns
    assert turn.audio_seconds == pytest.approx(1.0) and turn.audio_bytes == len(pcm)
    audio = b"".join(m.data for m in got if m.data)
    assert len(audio) > 24000  # at least half a second of 24 kHz speech came back
    heard = "".join(
        m.server_content.input_transcription.text
        for m in got
        if m.server_content and m.server_content.input_transcription
    )
    assert heard == "[1.0 s of audio]"
    said = "".join(
        m.server_content.output_transcription.text
        for m in got
        if m.server_content and m.server_content.output_transcription
    )
    assert said


async def test_resumption_updates_and_resume(emulator) -> None:
    client = sdk(emulator)
    # the SDK refuses `transparent` outside Vertex, so no consumed index here (our own client asks for it)
    config = {**SPOKEN, "session_resumption": {}}
    async with client.aio.live.connect(model=MODEL, config=config) as session:
        await session.send_realtime_input(text="remember me")
        got = await one_turn(session)
        after = (
            await session._receive()
        )  # the update that follows the turn (receive() stopped at turnComplete)
    handles = [m.session_resumption_update for m in [*got, after] if m.session_resumption_update]
    assert handles[0].new_handle and handles[0].resumable
    assert after.session_resumption_update.last_consumed_client_message_index is None
    resume = {
        **SPOKEN,
        "session_resumption": {"handle": after.session_resumption_update.new_handle},
    }
    async with client.aio.live.connect(model=MODEL, config=resume) as session:
        await session.send_realtime_input(text="and now?")
        await one_turn(session)
    [conversation] = emulator.conversations
    assert [t.text for t in conversation.turns] == ["remember me", "and now?"]
    assert conversation.connections == 2


async def test_go_away_then_deadline(emulator) -> None:
    emulator.options.connection_lifetime_s = 0.5
    emulator.options.goaway_notice_s = 0.25
    client = sdk(emulator)
    async with client.aio.live.connect(model=MODEL, config=SPOKEN) as session:
        message = await session._receive()
        assert message.go_away is not None and message.go_away.time_left == "0.25s"
        with pytest.raises(errors.APIError) as raised:
            await session._receive()
    assert raised.value.code == 1011 and "Deadline expired" in str(raised.value)


async def test_a_wrong_key_is_an_error_with_the_reason(emulator) -> None:
    client = sdk(emulator, key="not-the-key")
    with pytest.raises(errors.APIError) as raised:
        async with client.aio.live.connect(model=MODEL, config=SPOKEN):
            pass
    assert raised.value.code == 1008
    assert "API key not valid" in str(raised.value) and "not-the-key" not in str(raised.value)


async def test_a_broken_rule_is_an_error_with_the_reason(emulator) -> None:
    client = sdk(emulator)
    config = SPOKEN  # automatic detection on: activity markers are refused
    async with client.aio.live.connect(model=MODEL, config=config) as session:
        await session.send_realtime_input(activity_start=types.ActivityStart())
        with pytest.raises(errors.APIError) as raised:
            await session._receive()
    assert raised.value.code == 1007 and "activityStart is only allowed" in str(raised.value)


async def test_ephemeral_token_flow(emulator) -> None:
    client = sdk(emulator, version="v1alpha")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the SDK flags its token support as experimental
        token = await client.aio.auth_tokens.create(
            config={
                "uses": 1,
                "live_connect_constraints": {"model": MODEL, "config": SPOKEN},
                "http_options": {"api_version": "v1alpha"},
            }
        )
        assert token.name.startswith("auth_tokens/")
        holder = sdk(emulator, key=token.name, version="v1alpha")
        async with holder.aio.live.connect(model=MODEL, config={"response_modalities": ["AUDIO"]}) as session:
            await session.send_realtime_input(text="token talk")
            got = await one_turn(session)
        assert "token talk" in said(got)  # transcribed: the token's locked setup won
        with pytest.raises(errors.APIError) as raised:
            async with holder.aio.live.connect(model=MODEL, config=SPOKEN):
                pass
    assert raised.value.code == 1008 and "no uses left" in str(raised.value)


async def test_a_tool_round_trip(emulator) -> None:
    emulator.options.brain = ToolBrain()
    client = sdk(emulator)
    async with client.aio.live.connect(model=MODEL, config=SPOKEN) as session:
        await session.send_client_content(
            turns=types.Content(role="user", parts=[types.Part(text="weather in Oslo")])
        )
        calls = None
        async for message in session.receive():
            if message.tool_call:
                calls = message.tool_call.function_calls
                break
        assert calls and calls[0].name == "get_weather" and calls[0].args == {"city": "Oslo"}
        await session.send_tool_response(
            function_responses=[
                types.FunctionResponse(id=calls[0].id, name=calls[0].name, response={"sky": "grey"})
            ]
        )
        got = await one_turn(session)
    assert "said {'sky': 'grey'}" in said(got)


# ----------------------------------------------------------------------------- the service today


async def refused_by_sdk(client: genai.Client, model: str, config: dict[str, Any]) -> errors.APIError:
    with pytest.raises(errors.APIError) as raised:
        async with client.aio.live.connect(model=model, config=config) as session:
            await session._receive()
    return raised.value


async def test_text_is_refused_by_the_audio_only_default_model(emulator) -> None:
    error = await refused_by_sdk(sdk(emulator), MODEL, {"response_modalities": ["TEXT"]})
    assert error.code == 1007 and "Cannot extract voices from a non-audio request" in str(error)


async def test_a_shut_down_model_is_refused(emulator) -> None:
    error = await refused_by_sdk(sdk(emulator), "gemini-live-2.5-flash-preview", SPOKEN)
    assert error.code == 1008
    assert "models/gemini-live-2.5-flash-preview is not found for API version v1beta" in str(error)


def declared_tools(behavior: types.Behavior | None = None) -> list[types.Tool]:
    functions = [
        types.FunctionDeclaration(name=name, behavior=behavior) for name in ("get_time", "get_weather")
    ]
    return [types.Tool(function_declarations=functions)]


async def calls_of(session: Any) -> list[types.FunctionCall]:
    async for message in session.receive():
        if message.tool_call:
            return list(message.tool_call.function_calls or [])
    raise AssertionError("the turn ended without a toolCall")


async def test_parallel_tool_responses_in_one_message(emulator) -> None:
    emulator.options.brain = ToolBrain()
    config = {**SPOKEN, "tools": declared_tools(types.Behavior.BLOCKING)}
    async with sdk(emulator).aio.live.connect(model=MODEL, config=config) as session:
        await session.send_realtime_input(text="both")
        calls = await calls_of(session)
        await session.send_tool_response(
            function_responses=[
                types.FunctionResponse(id=calls[0].id, name=calls[0].name, response={"now": "12:00"}),
                types.FunctionResponse(id=calls[1].id, name=calls[1].name, response={"sky": "blue"}),
            ]
        )
        answer = said(await one_turn(session))
    assert "get_time({}) said {'now': '12:00'}" in answer
    assert "get_weather({'city': 'Oslo'}) said {'sky': 'blue'}" in answer


async def test_non_blocking_tool_with_scheduling(emulator) -> None:
    emulator.options.brain = ToolBrain()
    config = {**SPOKEN, "tools": declared_tools()}  # gemini-3.8-live: NON_BLOCKING by default
    async with sdk(emulator).aio.live.connect(model=MODEL, config=config) as session:
        await session.send_realtime_input(text="weather in Rome")
        first = await one_turn(session)
        [call] = [c for m in first if m.tool_call for c in m.tool_call.function_calls]
        quiet = types.FunctionResponse(
            id=call.id,
            name=call.name,
            response={"sky": "grey"},
            will_continue=True,
            scheduling=types.FunctionResponseScheduling.SILENT,
        )
        await session.send_tool_response(function_responses=[quiet])
        loud = types.FunctionResponse(
            id=call.id, name=call.name, response={"sky": "clear"}, scheduling="WHEN_IDLE"
        )
        await session.send_tool_response(function_responses=[loud])
        follow_up = await one_turn(session)
    assert said(first) == "Let me check.I'm looking into it."  # the turn ended without waiting
    assert said(follow_up) == "get_weather({'city': 'Rome'}) said {'sky': 'clear'}"
    assert [r.response for r in emulator.conversations[0].tool_results] == [{"sky": "grey"}, {"sky": "clear"}]


async def test_context_update_from_the_sdk(emulator) -> None:
    from .test_service_today import ToolsBrain

    emulator.options.brain = ToolsBrain()
    config = {**SPOKEN, "system_instruction": "Be brief."}
    async with sdk(emulator).aio.live.connect(model=MODEL, config=config) as session:
        await session.send_context_update(system_instruction="Answer in Dutch.", tools=declared_tools())
        await session.send_realtime_input(text="context")
        got = await one_turn(session)
    assert said(got) == "instruction='Answer in Dutch.' tools=['get_time', 'get_weather']"


async def test_history_seeding_from_the_sdk(emulator) -> None:
    config = {**SPOKEN, "history_config": types.HistoryConfig(initial_history_in_client_content=True)}
    history = [
        types.Content(role="user", parts=[types.Part(text="my name is Ada")]),
        types.Content(role="model", parts=[types.Part(text="hello Ada")]),
    ]
    async with sdk(emulator).aio.live.connect(model=MODEL, config=config) as session:
        await session.send_client_content(turns=history, turn_complete=True)
        await session.send_realtime_input(text="who am I")
        got = await one_turn(session)
    assert said(got) == 'You said: "who am I". I know 2 earlier turns of this conversation.'


async def test_ephemeral_tokens_are_v1alpha_only(emulator) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the SDK flags its token support as experimental
        with pytest.raises(errors.APIError) as raised:
            await sdk(emulator).aio.auth_tokens.create(
                config={"uses": 1, "http_options": {"api_version": "v1beta"}}
            )
    assert raised.value.code == 404 and "only available on API version v1alpha" in str(raised.value)
