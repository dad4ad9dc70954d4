"""The service as it is today (live-protocol.md, "The service today"), over real sockets: per-model rules
from the catalog, NON_BLOCKING tools and their scheduling, batched tool responses, contextUpdate, history
seeding, turnCoverage, interactionStatus and the smaller fixes clients found against the emulator."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from rholive.emulator import EmulatorOptions
from rholive.emulator.brains import CallTool, EchoBrain, Say, UserTurn

from .helpers import dig, manual, setup_message, text_turn, texts, tone

EXTENDED = "models/gemini-3.8-live-extended-thinking"
FLASH_31 = "models/gemini-3.1-flash-live-preview"
NATIVE_25 = "models/gemini-live-2.5-flash-native-audio"


class ToolsBrain:
    """ "slow" calls lookup, "wait" calls confirm, "both" calls both; says what the instruction and tools are
    for "context"; answers like the echo brain otherwise."""

    def respond(self, turn: UserTurn, history: list[UserTurn]) -> list[Any]:
        if turn.text == "slow":
            return [CallTool("lookup", {"q": 1})]
        if turn.text == "wait":
            return [CallTool("confirm", {})]
        if turn.text == "both":
            return [CallTool("lookup", {"q": 2}), CallTool("confirm", {})]
        if turn.text == "context":
            return [Say(f"instruction={turn.instruction!r} tools={list(turn.tools)}")]
        return EchoBrain().respond(turn, history)

    def after_tool(self, name: str, args: dict[str, Any], response: dict[str, Any]) -> list[Any]:
        return [Say(f"{name} gave {response}")]


@pytest.fixture
def options() -> EmulatorOptions:
    return EmulatorOptions(brain=ToolsBrain())


def declared(**behaviors: str) -> list[dict[str, Any]]:
    """setup.tools declaring each function, with its behavior when not empty."""
    functions = [{"name": n, **({"behavior": b} if b else {})} for n, b in behaviors.items()]
    return [{"functionDeclarations": functions}]


def response(call_id: str, name: str, result: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "toolResponse": {"functionResponses": [{"id": call_id, "name": name, "response": result, **extra}]}
    }


def turn_complete(message: dict[str, Any]) -> bool:
    return bool(dig(message, "serverContent", "turnComplete"))


def calls_in(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [c for m in messages for c in dig(m, "toolCall", "functionCalls") or []]


# ----------------------------------------------------------------------------- per-model rules


def setup_for(model: str, modality: str = "AUDIO", **fields: Any) -> dict[str, Any]:
    return setup_message(modality, model=model, **fields)


def thinking(**config: Any) -> dict[str, Any]:
    return {"responseModalities": ["AUDIO"], "thinkingConfig": config}


REFUSED_SETUPS: list[tuple[str, dict[str, Any], str, int, str]] = [
    (
        "shut-down model",
        setup_for("models/gemini-2.0-flash-live-001"),
        "v1beta",
        1008,
        "models/gemini-2.0-flash-live-001 is not found for API version v1beta, or is not supported for "
        "bidiGenerateContent",
    ),
    (
        "unknown gemini model",
        setup_for("models/gemini-9-live"),
        "v1",
        1008,
        "is not found for API version v1,",
    ),
    ("TEXT on 3.8", setup_for("models/gemini-3.8-live", "TEXT"), "v1beta", 1007, "Cannot extract voices"),
    ("TEXT on 3.1", setup_for(FLASH_31, "TEXT"), "v1beta", 1007, "Cannot extract voices"),
    (
        "proactiveAudio false where it is always on",
        setup_for("models/gemini-3.8-live", proactivity={"proactiveAudio": False}),
        "v1alpha",
        1007,
        "proactive audio is always on",
    ),
    (
        "proactiveAudio on a model without it",
        setup_for(FLASH_31, proactivity={"proactiveAudio": True}),
        "v1alpha",
        1007,
        "proactivity.proactiveAudio is not supported by models/gemini-3.1-flash-live-preview",
    ),
    (
        "opt-in proactiveAudio outside v1alpha",
        setup_for(NATIVE_25, proactivity={"proactiveAudio": True}),
        "v1beta",
        1007,
        'Unknown name "proactivity"',
    ),
    (
        "affective dialog where it was removed",
        setup_for(
            "models/gemini-3.8-live",
            generationConfig={"responseModalities": ["AUDIO"], "enableAffectiveDialog": True},
        ),
        "v1alpha",
        1007,
        "affective dialog was removed",
    ),
    (
        "affective dialog on a model without it",
        setup_for(
            FLASH_31, generationConfig={"responseModalities": ["AUDIO"], "enableAffectiveDialog": True}
        ),
        "v1alpha",
        1007,
        "enableAffectiveDialog is not supported",
    ),
    (
        "opt-in affective dialog outside v1alpha",
        setup_for(
            NATIVE_25, generationConfig={"responseModalities": ["AUDIO"], "enableAffectiveDialog": True}
        ),
        "v1",
        1007,
        'Unknown name "enableAffectiveDialog"',
    ),
    (
        "thinkingConfig on a model without thinking",
        setup_for("models/gemini-3.8-live", generationConfig=thinking(thinkingLevel="low")),
        "v1beta",
        1007,
        "thinkingConfig is not supported by models/gemini-3.8-live",
    ),
    (
        "thinkingBudget on a level model",
        setup_for(FLASH_31, generationConfig=thinking(thinkingBudget=512)),
        "v1beta",
        1007,
        "use thinkingLevel",
    ),
    (
        "thinkingLevel on a budget model",
        setup_for(NATIVE_25, generationConfig=thinking(thinkingLevel="low")),
        "v1beta",
        1007,
        "use thinkingBudget",
    ),
    (
        "a thinkingLevel the model lacks",
        setup_for(EXTENDED, generationConfig=thinking(thinkingLevel="minimal")),
        "v1beta",
        1007,
        "thinkingLevel 'minimal' is not supported",
    ),
    (
        "unknown function behavior",
        setup_for("models/gemini-3.8-live", tools=declared(f="SOMETIMES")),
        "v1beta",
        1007,
        "behavior",
    ),
]


@pytest.mark.parametrize(
    ("name", "first", "version", "code", "reason"), REFUSED_SETUPS, ids=[r[0] for r in REFUSED_SETUPS]
)
async def test_the_catalog_decides_what_a_setup_may_ask(connect, name, first, version, code, reason) -> None:
    async with connect(version=version) as client:
        await client.send(first)
        got_code, got_reason = await client.closed()
    assert (got_code, reason in got_reason) == (code, True), got_reason
    assert not any("setupComplete" in m for m in client.received)


ACCEPTED_SETUPS: list[tuple[str, dict[str, Any], str]] = [
    (
        "opt-in audio features on v1alpha",
        setup_for(
            NATIVE_25,
            proactivity={"proactiveAudio": True},
            generationConfig={"responseModalities": ["AUDIO"], "enableAffectiveDialog": True},
        ),
        "v1alpha",
    ),
    (
        "3.1 thinkingLevel minimal",
        setup_for(FLASH_31, generationConfig=thinking(thinkingLevel="MINIMAL")),
        "v1",
    ),
    ("2.5 thinkingBudget", setup_for(NATIVE_25, generationConfig=thinking(thinkingBudget=0)), "v1beta"),
    (
        "extended thinking high",
        setup_for(EXTENDED, generationConfig=thinking(thinkingLevel="high")),
        "v1beta",
    ),
]


@pytest.mark.parametrize(("name", "first", "version"), ACCEPTED_SETUPS, ids=[r[0] for r in ACCEPTED_SETUPS])
async def test_what_the_catalog_allows_is_answered_in_audio(connect, name, first, version) -> None:
    async with connect(version=version) as client:
        await client.setup(first)
        await client.send({"realtimeInput": {"text": "hello"}})
        got = await client.turn()
    assert 'You said: "hello".' in texts(got)
    assert any(p.get("inlineData") for m in got for p in dig(m, "serverContent", "modelTurn", "parts") or [])


async def test_audio_without_output_transcription_has_no_transcript(connect) -> None:
    async with connect() as client:
        await client.setup(setup_for(FLASH_31, outputAudioTranscription=None))
        await client.send({"realtimeInput": {"text": "hello"}})
        got = await client.turn()
    assert not any(dig(m, "serverContent", "outputTranscription") for m in got)
    assert any(dig(m, "serverContent", "modelTurn") for m in got)


# ----------------------------------------------------------------------------- small fixes


async def test_audio_pcm_without_a_rate_is_16khz(connect, emulator) -> None:
    pcm = tone(0.5)
    blob = {"data": base64.b64encode(pcm).decode(), "mimeType": "audio/pcm"}
    async with connect() as client:
        await client.setup(setup_message(**manual()))
        await client.send({"realtimeInput": {"activityStart": {}}})
        await client.send({"realtimeInput": {"audio": blob}})
        await client.send({"realtimeInput": {"activityEnd": {}}})
        await client.turn()
    assert emulator.conversations[0].turns[0].audio_seconds == pytest.approx(0.5)


async def test_an_interrupted_turn_ends_with_turn_complete(connect, emulator) -> None:
    emulator.options.reply_delay_s = 30.0  # the reply is held until the interruption comes
    async with connect() as client:
        await client.setup(setup_message(**manual()))
        await client.send(text_turn("one"))
        await client.send({"realtimeInput": {"activityStart": {}}})
        await client.until_key("serverContent", "interrupted")
        after = await client.recv()
        emulator.options.reply_delay_s = 0.0
        await client.send({"realtimeInput": {"activityEnd": {}}})
        nxt = await client.turn()
    assert after == {"serverContent": {"turnComplete": True}}  # before anything of the next turn
    assert turn_complete(nxt[-1])


async def test_turns_of_one_client_content_stay_apart(connect, emulator) -> None:
    content = {
        "turns": [
            {"role": "user", "parts": [{"text": "first"}]},
            {"role": "user", "parts": [{"text": "second"}]},
            {"role": "model", "parts": [{"text": "noted"}]},
            {"role": "user", "parts": [{"text": "third"}, {"text": "fourth"}]},
        ],
        "turnComplete": True,
    }
    async with connect() as client:
        await client.setup()
        await client.send({"clientContent": content})
        got = await client.turn()
    turns = emulator.conversations[0].turns
    assert [(t.role, t.text, t.history) for t in turns] == [
        ("user", "first\nsecond", True),
        ("model", "noted", True),
        ("user", "third\nfourth", False),
    ]
    assert texts(got) == 'You said: "third\nfourth". I know 2 earlier turns of this conversation.'


async def test_blank_realtime_text_opens_no_turn(connect, emulator) -> None:
    async with connect() as client:
        await client.setup()
        await client.send({"realtimeInput": {"text": "  \n "}})
        await client.send({"realtimeInput": {"text": "real"}})
        got = await client.turn()
    assert texts(got).startswith('You said: "real".')
    assert [t.text for t in emulator.conversations[0].turns] == ["real"]


async def test_turn_coverage_all_video_is_the_3_8_default(connect, emulator) -> None:
    frame = {"realtimeInput": {"video": {"data": "_9j_4A==", "mimeType": "image/jpeg"}}}
    for model in ("models/gemini-3.8-live", FLASH_31):
        async with connect() as client:
            await client.setup(setup_for(model, **manual()))
            await client.send(frame)  # outside any activity
            await client.send({"realtimeInput": {"activityStart": {}}})
            await client.send({"realtimeInput": {"activityEnd": {}}})
            await client.turn()
    assert [c.turns[0].video_frames for c in emulator.conversations] == [1, 0]


async def test_turn_coverage_all_video_can_be_asked(connect, emulator) -> None:
    config = manual()
    config["realtimeInputConfig"]["turnCoverage"] = "TURN_INCLUDES_AUDIO_ACTIVITY_AND_ALL_VIDEO"
    async with connect() as client:
        await client.setup(setup_for(FLASH_31, **config))
        await client.send({"realtimeInput": {"video": {"data": "_9j_4A==", "mimeType": "image/jpeg"}}})
        await client.send({"realtimeInput": {"activityStart": {}}})
        await client.send({"realtimeInput": {"audio": {"data": "AAAAAA==", "mimeType": "audio/pcm"}}})
        await client.send({"realtimeInput": {"activityEnd": {}}})
        await client.turn()
    assert emulator.conversations[0].turns[0].video_frames == 1


async def test_extended_thinking_fills_then_answers_then_goes_idle(connect) -> None:
    async with connect() as client:
        await client.setup(setup_for(EXTENDED))
        await client.send({"realtimeInput": {"text": "why is the sky blue"}})
        filler = await client.until(turn_complete)
        answer = await client.until(turn_complete)
    assert texts(filler) == "Let me think."
    assert dig(filler[-1], "serverContent", "interactionStatus") == "IN_PROGRESS"
    assert texts(answer).startswith('You said: "why is the sky blue".')
    assert dig(answer[-1], "serverContent", "interactionStatus") == "IDLE"


# ----------------------------------------------------------------------------- tools


async def test_two_responses_in_one_message_both_reach_the_brain(connect) -> None:
    async with connect() as client:
        await client.setup(setup_message(tools=declared(lookup="BLOCKING", confirm="BLOCKING")))
        await client.send({"realtimeInput": {"text": "both"}})
        first, second = calls_in(await client.until_key("toolCall"))
        await client.send(
            {
                "toolResponse": {
                    "functionResponses": [
                        {"id": first["id"], "name": "lookup", "response": {"hits": 3}},
                        {"id": second["id"], "name": "confirm", "response": {"ok": True}},
                    ]
                }
            }
        )
        answer = texts(await client.turn())
    assert answer == "lookup gave {'hits': 3}confirm gave {'ok': True}"


async def test_non_blocking_call_lets_the_turn_end_then_speaks_when_idle(connect, emulator) -> None:
    async with connect() as client:
        await client.setup(setup_message(tools=declared(lookup="")))  # 3.8: NON_BLOCKING by default
        await client.send({"realtimeInput": {"text": "slow"}})
        first = await client.turn()
        [call] = calls_in(first)
        await client.send(response(call["id"], "lookup", {"n": 7}, scheduling="WHEN_IDLE"))
        follow_up = await client.turn()
    assert texts(first) == "I'm looking into it."  # a filler, and the turn ends without the result
    assert texts(follow_up) == "lookup gave {'n': 7}"
    assert [r.response for r in emulator.conversations[0].tool_results] == [{"n": 7}]


async def test_silent_response_is_taken_in_without_a_word(connect, emulator) -> None:
    async with connect() as client:
        await client.setup(setup_message(tools=declared(lookup="NON_BLOCKING")))
        await client.send({"realtimeInput": {"text": "slow"}})
        [call] = calls_in(await client.turn())
        await client.send(response(call["id"], "lookup", {"quiet": 1}, scheduling="SILENT"))
        await client.send({"realtimeInput": {"text": "next"}})
        nxt = await client.turn()
    assert texts(nxt) == 'You said: "next".'  # nothing about the tool came before it
    assert [r.response for r in emulator.conversations[0].tool_results] == [{"quiet": 1}]


async def test_when_idle_waits_for_the_answer_in_progress(connect) -> None:
    async with connect() as client:
        await client.setup(setup_message(tools=declared(lookup="", confirm="BLOCKING")))
        await client.send({"realtimeInput": {"text": "slow"}})
        [background] = calls_in(await client.turn())
        await client.send({"realtimeInput": {"text": "wait"}})  # an answer blocked on confirm
        [blocking] = calls_in(await client.until_key("toolCall"))
        await client.send(response(background["id"], "lookup", {"late": 1}, scheduling="WHEN_IDLE"))
        await client.send(response(blocking["id"], "confirm", {"ok": 1}))
        current = await client.turn()
        follow_up = await client.turn()
    assert texts(current) == "confirm gave {'ok': 1}"
    assert not any(dig(m, "serverContent", "interrupted") for m in current)
    assert texts(follow_up) == "lookup gave {'late': 1}"


async def test_interrupt_response_cuts_the_answer_in_progress(connect, emulator) -> None:
    async with connect() as client:
        await client.setup(setup_message(tools=declared(lookup="")))
        await client.send({"realtimeInput": {"text": "slow"}})
        [call] = calls_in(await client.turn())
        emulator.options.reply_delay_s = 30.0  # the next answer is held, in progress
        await client.send({"realtimeInput": {"text": "talk"}})
        await client.send(response(call["id"], "lookup", {"urgent": 1}, scheduling="INTERRUPT"))
        cut = await client.until(turn_complete)
        follow_up = await client.turn()
    assert [m["serverContent"] for m in cut[-2:]] == [{"interrupted": True}, {"turnComplete": True}]
    assert texts(follow_up) == "lookup gave {'urgent': 1}"


async def test_will_continue_allows_more_responses_for_the_same_id(connect) -> None:
    async with connect() as client:
        await client.setup(setup_message(tools=declared(lookup="")))
        await client.send({"realtimeInput": {"text": "slow"}})
        [call] = calls_in(await client.turn())
        await client.send(response(call["id"], "lookup", {"part": 1}, willContinue=True))
        one = await client.turn()
        await client.send(response(call["id"], "lookup", {"part": 2}))  # the last one
        two = await client.turn()
        await client.send(response(call["id"], "lookup", {"part": 3}))  # the call is finished
        code, reason = await client.closed()
    assert (texts(one), texts(two)) == ("lookup gave {'part': 1}", "lookup gave {'part': 2}")
    assert (code, reason) == (1007, f"toolResponse for unknown function call id {call['id']!r}")


@pytest.mark.parametrize(
    ("model", "tools"),
    [("models/gemini-3.8-live", declared(lookup="BLOCKING")), (FLASH_31, declared(lookup="NON_BLOCKING"))],
    ids=["behavior BLOCKING", "a model with blocking tools only"],
)
async def test_blocking_calls_hold_the_answer(connect, model, tools) -> None:
    async with connect() as client:
        await client.setup(setup_for(model, tools=tools))
        await client.send({"realtimeInput": {"text": "slow"}})
        before = await client.until_key("toolCall")
        [call] = calls_in(before)
        await client.send(response(call["id"], "lookup", {"n": 1}))
        rest = await client.turn()
    assert not any(turn_complete(m) for m in before)
    assert texts(rest) == "lookup gave {'n': 1}"


async def test_resumable_is_false_while_a_tool_runs_and_that_handle_is_refused(connect) -> None:
    resumable = {"sessionResumption": {}, "tools": declared(lookup="")}
    async with connect() as client:
        await client.setup(setup_message(**resumable))
        await client.until_key("sessionResumptionUpdate")  # the one after setup
        await client.send({"realtimeInput": {"text": "slow"}})
        busy = await client.until_key("sessionResumptionUpdate")
        [call] = calls_in(busy)
        await client.send(response(call["id"], "lookup", {"n": 1}))
        idle = await client.until_key("sessionResumptionUpdate")
    assert busy[-1]["sessionResumptionUpdate"]["resumable"] is False
    assert idle[-1]["sessionResumptionUpdate"]["resumable"] is True
    async with connect() as client:
        stale = busy[-1]["sessionResumptionUpdate"]["newHandle"]
        await client.send(setup_message(sessionResumption={"handle": stale}))
        code, reason = await client.closed()
    assert code == 1008 and "not resumable" in reason
    async with connect() as client:
        await client.setup(
            setup_message(sessionResumption={"handle": idle[-1]["sessionResumptionUpdate"]["newHandle"]})
        )


# ----------------------------------------------------------------------------- contextUpdate


async def test_context_update_changes_instruction_and_tools(connect) -> None:
    async with connect() as client:
        await client.setup(setup_message(systemInstruction={"parts": [{"text": "Be brief."}]}))
        await client.send({"realtimeInput": {"text": "context"}})
        before = texts(await client.turn())
        update = {
            "systemInstruction": {"parts": [{"text": "Speak French."}]},
            "tools": {"tools": declared(f="")},
        }
        await client.send({"contextUpdate": update})
        await client.send({"realtimeInput": {"text": "context"}})
        after = texts(await client.turn())
        await client.send({"contextUpdate": {"tools": {"tools": []}}})  # clears the tools, keeps the rest
        await client.send({"realtimeInput": {"text": "context"}})
        cleared = texts(await client.turn())
    assert before == "instruction='Be brief.' tools=[]"
    assert after == "instruction='Speak French.' tools=['f']"
    assert cleared == "instruction='Speak French.' tools=[]"


@pytest.mark.parametrize(
    ("update", "reason"),
    [
        ({"tools": [{"functionDeclarations": [{"name": "f"}]}]}, "must be an object holding the list"),
        ({}, "must set systemInstruction or tools"),
        ({"instructions": "x"}, 'Unknown name "instructions"'),
        ({"tools": {"tools": [{"functionDeclarations": [{}]}]}}, "name is required"),
    ],
)
async def test_a_bad_context_update_is_refused(connect, update, reason) -> None:
    async with connect() as client:
        await client.setup()
        await client.send({"contextUpdate": update})
        code, got = await client.closed()
    assert code == 1007 and reason in got


# ----------------------------------------------------------------------------- history seeding

SEED = {
    "turns": [
        {"role": "user", "parts": [{"text": "my name is Ada"}]},
        {"role": "model", "parts": [{"text": "hello Ada"}]},
        {"role": "user", "parts": [{"text": "I like tea"}]},
    ],
    "turnComplete": True,
}


@pytest.mark.parametrize("model", ["models/gemini-3.8-live", FLASH_31])
async def test_history_is_seeded_without_an_answer(connect, emulator, model) -> None:
    emulator.options.brain = "echo"
    async with connect() as client:
        await client.setup(setup_for(model, historyConfig={"initialHistoryInClientContent": True}))
        await client.send({"clientContent": {**SEED, "turnComplete": False}})
        await client.send({"clientContent": {"turns": [], "turnComplete": True}})
        await client.send({"realtimeInput": {"text": "what is my name"}})
        got = await client.turn()
    # the first answer is to the realtime turn: the seeded turns got none
    assert texts(got) == 'You said: "what is my name". I know 3 earlier turns of this conversation.'
    turns = emulator.conversations[0].turns
    assert [(t.role, t.history) for t in turns] == [
        ("user", True),
        ("model", True),
        ("user", True),
        ("user", False),
    ]


async def test_3_1_takes_client_content_only_to_seed_history(connect) -> None:
    async with connect() as client:
        await client.setup(setup_for(FLASH_31, historyConfig={"initialHistoryInClientContent": True}))
        await client.send({"clientContent": SEED})
        await client.send(text_turn("typed"))  # after the seeding: no more clientContent
        code, reason = await client.closed()
    assert code == 1007 and "send typed turns as realtimeInput.text" in reason
    async with connect() as client:
        await client.setup(setup_for(FLASH_31))
        await client.send(text_turn("typed"))
        code, reason = await client.closed()
    assert code == 1007 and "realtimeInput.text" in reason
