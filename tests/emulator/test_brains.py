"""Brains: the echo wording for each kind of turn, script rules (matching, answers, templates, errors), and the
demo script driving a real emulator over a socket (tool call, then the templated answer)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rholive.emulator import EmulatorOptions
from rholive.emulator.brains import CallTool, EchoBrain, Say, ScriptBrain, UserTurn, load_brain

from .helpers import text_turn, texts

DEMO = Path(__file__).resolve().parents[2] / "examples" / "brains" / "demo.yaml"
COPILOT = DEMO.with_name("copilot.yaml")


def echo(turn: UserTurn) -> str:
    [action] = EchoBrain().respond(turn, [])
    assert isinstance(action, Say)
    return action.text


# -- echo


def test_echo_text() -> None:
    assert echo(UserTurn(1, text="hello there")) == 'You said: "hello there".'


def test_echo_audio() -> None:
    assert echo(UserTurn(1, audio_seconds=2.31, audio_bytes=73920)) == "I heard 2.3 seconds of audio."


def test_echo_video_plural_and_singular() -> None:
    assert echo(UserTurn(1, video_frames=3, video_bytes=45200)) == "I saw 3 video frames (45.2 KB)."
    assert echo(UserTurn(1, video_frames=1, video_bytes=900)) == "I saw 1 video frame (0.9 KB)."


def test_echo_mixed_turn_says_everything_in_order() -> None:
    turn = UserTurn(2, text="look", audio_seconds=1.0, audio_bytes=32000, video_frames=2, video_bytes=2048)
    assert echo(turn) == 'You said: "look". I heard 1.0 seconds of audio. I saw 2 video frames (2.0 KB).'


def test_echo_empty_turn() -> None:
    assert echo(UserTurn(1)) == "I received an empty turn: no text, audio or video."


def test_echo_after_tool() -> None:
    assert EchoBrain().after_tool("get_time", {}, {"time": "12:00"}) == [
        Say('Tool get_time returned {"time": "12:00"}.')
    ]


def test_load_brain_choices(tmp_path: Path) -> None:
    assert isinstance(load_brain("echo"), EchoBrain)
    with pytest.raises(ValueError, match="valid choices are 'echo' and 'script:PATH'"):
        load_brain("parrot")
    with pytest.raises(ValueError, match="needs a file"):
        load_brain("script:")


# -- script rules


def script(tmp_path: Path, rules: object, name: str = "brain.yaml") -> ScriptBrain:
    path = tmp_path / name
    path.write_text(json.dumps(rules))  # JSON is valid YAML too
    brain = load_brain(f"script:{path}")
    assert isinstance(brain, ScriptBrain)
    return brain


def test_first_matching_rule_wins_and_text_is_case_insensitive(tmp_path: Path) -> None:
    brain = script(tmp_path, [{"text": "hello", "say": "first"}, {"text": "hello there", "say": "second"}])
    assert brain.respond(UserTurn(1, text="HELLO There"), []) == [Say("first")]


def test_no_match_and_no_default_falls_back_to_echo(tmp_path: Path) -> None:
    brain = script(tmp_path, [{"text": "hello", "say": "hi"}])
    assert brain.respond(UserTurn(1, text="bye"), []) == [Say('You said: "bye".')]


def test_default_rule_and_top_level_default(tmp_path: Path) -> None:
    in_list = script(tmp_path, [{"default": True, "say": "fallback"}, {"text": "a", "say": "A"}], "one.json")
    assert in_list.respond(UserTurn(1, text="zzz"), []) == [Say("fallback")]
    assert in_list.respond(UserTurn(1, text="a"), []) == [Say("A")]  # the default never shadows a rule
    top = script(tmp_path, {"rules": [], "default": {"nothing": True}}, "two.yml")
    assert top.respond(UserTurn(1, text="zzz"), []) == [Say("<nothing>")]


def test_regex_audio_video_and_turn_conditions(tmp_path: Path) -> None:
    brain = script(
        tmp_path,
        [
            {"regex": r"weather in (?P<city>\w+)", "say": "Weather for {match.city} ({match.1})."},
            {"audio_min_s": 1.0, "audio_max_s": 2.0, "say": "medium audio"},
            {"video": True, "say": "{turn.video_frames} frames"},
            {"turn": 3, "say": "third turn"},
            {"default": True, "echo": True},
        ],
    )
    assert brain.respond(UserTurn(1, text="Weather in Oslo?"), []) == [Say("Weather for Oslo (Oslo).")]
    assert brain.respond(UserTurn(1, audio_seconds=1.5), []) == [Say("medium audio")]
    assert brain.respond(UserTurn(1, audio_seconds=2.5), []) == [Say("I heard 2.5 seconds of audio.")]
    assert brain.respond(UserTurn(1, video_frames=4, video_bytes=10), []) == [Say("4 frames")]
    assert brain.respond(UserTurn(3, text="x"), []) == [Say("third turn")]
    assert brain.respond(UserTurn(4, text="x"), []) == [Say('You said: "x".')]


def test_call_then_template_and_missing_field_left_as_written(tmp_path: Path) -> None:
    brain = script(
        tmp_path,
        [
            {
                "text": "time",
                "call": {"name": "get_time", "args": {"tz": "UTC"}},
                "then": "The time is {response.time}.",
            }
        ],
    )
    assert brain.respond(UserTurn(1, text="what time is it"), []) == [CallTool("get_time", {"tz": "UTC"})]
    assert brain.after_tool("get_time", {"tz": "UTC"}, {"time": "12:00"}) == [Say("The time is 12:00.")]
    brain.respond(UserTurn(2, text="time again"), [])
    assert brain.after_tool("get_time", {"tz": "UTC"}, {"error": "down"}) == [
        Say("The time is {response.time}.")
    ]


def test_a_call_without_then_gets_the_echo_tool_wording(tmp_path: Path) -> None:
    brain = script(tmp_path, [{"call": "ping"}])
    assert brain.respond(UserTurn(1, text="x"), []) == [CallTool("ping", {})]
    assert brain.after_tool("ping", {}, {"ok": True}) == [Say('Tool ping returned {"ok": true}.')]


def test_several_actions_in_one_rule(tmp_path: Path) -> None:
    brain = script(
        tmp_path,
        [
            {
                "text": "both",
                "actions": [
                    {"say": "Checking."},
                    {"call": {"name": "a"}, "then": "a={response.v}"},
                    {"call": {"name": "b"}},
                ],
            }
        ],
    )
    assert brain.respond(UserTurn(1, text="both"), []) == [
        Say("Checking."),
        CallTool("a", {}),
        CallTool("b", {}),
    ]
    assert brain.after_tool("a", {}, {"v": 1}) == [Say("a=1")]
    assert brain.after_tool("b", {}, {"v": 2}) == [Say('Tool b returned {"v": 2}.')]


def test_extension_less_file_is_read_as_json_or_yaml(tmp_path: Path) -> None:
    path = tmp_path / "rules"
    path.write_text("- text: hi\n  say: hello\n")
    assert load_brain(f"script:{path}").respond(UserTurn(1, text="hi"), []) == [Say("hello")]


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        ("- text: hi\n  say: [unclosed\n", "bad.yaml", r"bad\.yaml: not valid YAML"),
        ('[{"text": "hi",}]', "bad.json", r"bad\.json: not valid JSON"),
        (
            "- text: hi\n  say: x\n- text: yo\n  sya: x\n",
            "typo.yaml",
            r"typo\.yaml: rule 2: unknown key\(s\) \['sya'\]",
        ),
        ("- text: hi\n", "noanswer.yaml", r"rule 1: has no answer"),
        ("- text: hi\n  say: a\n  nothing: true\n", "two.yaml", r"rule 1: has several answers"),
        ("- regex: '(unclosed'\n  say: a\n", "regex.yaml", r"rule 1: bad regex"),
        ("- say: a\n  then: b\n", "then.yaml", r"rule 1: 'then' only goes with 'call'"),
        ("- call: {args: {}}\n", "call.yaml", r"rule 1: 'call' needs a name"),
        ("- turn: 0\n  say: a\n", "turn.yaml", r"rule 1: 'turn' must be a turn number"),
        ("- audio_min_s: soon\n  say: a\n", "num.yaml", r"rule 1: 'audio_min_s' must be a number"),
        ("just a string\n", "shape.yaml", r"shape\.yaml: expected a list of rules"),
        ("- default: true\n  say: a\n- default: true\n  say: b\n", "dup.yaml", r"rule 2: a second default"),
    ],
)
def test_bad_scripts_are_one_clear_line(tmp_path: Path, content: str, name: str, message: str) -> None:
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(ValueError, match=message) as raised:
        load_brain(f"script:{path}")
    assert "\n" not in str(raised.value)


def test_missing_script_file(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"nope\.yaml: cannot read it"):
        load_brain(f"script:{tmp_path / 'nope.yaml'}")


# -- the example scripts


def test_demo_script_rules() -> None:
    brain = load_brain(f"script:{DEMO}")
    [hello] = brain.respond(UserTurn(1, text="Hello!"), [])
    assert isinstance(hello, Say) and hello.text.startswith("Hello!")
    assert brain.respond(UserTurn(2, text="What time is it?"), []) == [CallTool("get_time", {})]
    assert brain.after_tool("get_time", {}, {"time": "09:30"}) == [Say("The time is 09:30.")]
    for small_talk in ("ok thanks", "Okay, thank you!", "thanks"):
        assert brain.respond(UserTurn(3, text=small_talk), []) == [Say("<nothing>")]
    assert brain.respond(UserTurn(4, text="okay so what now"), []) == [Say('You said: "okay so what now".')]


def test_copilot_script_loads_and_stays_quiet_on_short_sounds() -> None:
    brain = load_brain(f"script:{COPILOT}")
    assert brain.respond(UserTurn(1, audio_seconds=0.3, audio_bytes=9600), []) == [Say("<nothing>")]
    assert brain.respond(UserTurn(2, audio_seconds=2.0, audio_bytes=64000), []) == [
        Say("I heard 2.0 seconds.")
    ]


@pytest.fixture
def options() -> EmulatorOptions:
    return EmulatorOptions(brain=f"script:{DEMO}")


async def test_demo_script_through_the_emulator(connect) -> None:
    async with connect() as client:
        await client.setup()
        await client.send(text_turn("what's the time?"))
        before = await client.until_key("toolCall")
        [call] = before[-1]["toolCall"]["functionCalls"]
        assert call["name"] == "get_time"
        await client.send(
            {
                "toolResponse": {
                    "functionResponses": [
                        {"id": call["id"], "name": "get_time", "response": {"time": "12:00"}}
                    ]
                }
            }
        )
        assert texts(await client.turn()) == "The time is 12:00."
        await client.send(text_turn("hi"))
        assert texts(await client.turn()).startswith("Hello!")
