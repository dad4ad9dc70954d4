"""Emulator brains: what the emulated model answers to each user turn.

A brain gets the closed `UserTurn` (plus the turns before it) and returns actions: `Say(text)` to speak or
print, `CallTool(name, args)` to emit a toolCall and wait for its response (then `after_tool` is asked
what to say). `Say("<nothing>")` is a persona's spoken "nothing to add" marker; `Silent()` (or `Say("")`)
is the model choosing not to speak at all: the turn ends with a bare `turnComplete`, like proactive audio
deciding to stay quiet.

``load_brain("echo")`` (default) states what it received, deterministically:

- text:   ``You said: "hello there".``
- audio:  ``I heard 2.3 seconds of audio.``              (one decimal)
- video:  ``I saw 3 video frames (45.2 KB).``            (1 frame → "1 video frame"; KB = 1000 bytes)
- mixed:  the sentences above joined by one space, in that order (text, audio, video)
- empty:  ``I received an empty turn: no text, audio or video.``
- the text exactly ``(silence)``: no answer at all (``Silent()``: a bare ``turnComplete``)
- after a tool: ``Tool get_time returned {"time": "12:00"}.``  (the response as compact JSON)
- with turns given as history (clientContent context, seeded history), one more sentence after the above:
  `` I know 3 earlier turns of this conversation.``

``load_brain("script:PATH")`` reads rules from a YAML or JSON file (by extension; otherwise JSON, then YAML).
The file is a list of rules, or a mapping ``{rules: [...], default: <answer>}``. A rule is a mapping of
conditions (all must hold; none means "always") and an answer::

    - text: "what time"        # case-insensitive substring of the turn's text
      regex: "time|clock"      # re.search, case-insensitive
      audio_min_s: 0.5         # turn.audio_seconds >= 0.5     audio_max_s: 3  (<= 3)
      video: true              # the turn carried video frames (false: it carried none)
      turn: 2                  # the 2nd turn of the conversation
      call: {name: get_time, args: {}}
      then: "The time is {response.time}."   # said after the tool's response

Answers: ``say: "..."``, ``nothing: true`` (→ ``Say("<nothing>")``), ``silent: true`` or ``say: ""`` (no
answer: a bare ``turnComplete``), ``echo: true`` (the echo wording),
``call: {name, args}`` with optional ``then``, or ``actions: [<answer>, ...]`` for several in order.
The first matching rule wins; a rule with ``default: true`` (or the top-level ``default``) answers when none
matches, else the echo wording. Templates in ``say``/``then`` may use ``{turn.text}``, ``{turn.number}``,
``{turn.audio_seconds}``, ``{turn.video_frames}``, ``{turn.instruction}`` (the system instruction in force),
``{turn.tools}``..., ``{match.0}``/``{match.1}``/``{match.name}`` (regex
groups), ``{args.x}`` and ``{response.x}`` (nested: ``{response.a.b}``); an unknown placeholder is left as
it is written. A ``then``-less call is followed by the echo tool wording. Rules are numbered from 1 in errors.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict, deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import yaml

NOTHING = "<nothing>"
SILENCE_REQUEST = "(silence)"  # the echo brain's cue to answer nothing


@dataclass
class UserTurn:
    """What the emulator received in one user turn."""

    number: int  # 1-based within the conversation
    text: str = ""  # typed text (realtimeInput.text / clientContent text), joined
    audio_seconds: float = 0.0
    audio_bytes: int = 0
    video_frames: int = 0
    video_bytes: int = 0
    role: str = "user"  # "model" for a model turn given as history
    history: bool = False  # given as history (clientContent context, seeded history): never answered
    instruction: str = ""  # the system instruction in force when the turn ended (contextUpdate changes it)
    tools: tuple[str, ...] = ()  # the functions declared when the turn ended


@dataclass
class Say:
    text: str


@dataclass
class CallTool:
    name: str
    args: dict = field(default_factory=dict)


@dataclass
class Silent:
    """The model chooses not to answer: no content, only the turn's end."""


Action = Say | CallTool | Silent


class Brain(Protocol):
    def respond(self, turn: UserTurn, history: list[UserTurn]) -> list[Action]: ...

    def after_tool(self, name: str, args: dict, response: dict) -> list[Action]: ...


# -- echo


def echo_wording(turn: UserTurn) -> str:
    parts = []
    if turn.text:
        parts.append(f'You said: "{turn.text}".')
    if turn.audio_seconds > 0 or turn.audio_bytes > 0:
        parts.append(f"I heard {turn.audio_seconds:.1f} seconds of audio.")
    if turn.video_frames > 0:
        noun = "video frame" if turn.video_frames == 1 else "video frames"
        parts.append(f"I saw {turn.video_frames} {noun} ({turn.video_bytes / 1000:.1f} KB).")
    return " ".join(parts) or "I received an empty turn: no text, audio or video."


def tool_wording(name: str, response: dict) -> str:
    return f"Tool {name} returned {json.dumps(response, ensure_ascii=False, default=str)}."


def history_wording(history: list[UserTurn]) -> str:
    """`` I know 3 earlier turns of this conversation.`` when turns were given as history, else nothing."""
    known = sum(1 for t in history if t.history)
    if not known:
        return ""
    return f" I know {known} earlier {'turn' if known == 1 else 'turns'} of this conversation."


class EchoBrain:
    """States what it received (see the module docstring for the exact wording)."""

    def respond(self, turn: UserTurn, history: list[UserTurn]) -> list[Action]:
        if turn.text == SILENCE_REQUEST:
            return [Silent()]
        return [Say(echo_wording(turn) + history_wording(history))]

    def after_tool(self, name: str, args: dict, response: dict) -> list[Action]:
        return [Say(tool_wording(name, response))]


# -- templates

_PLACEHOLDER = re.compile(r"\{(turn|match|args|response)\.([A-Za-z0-9_]+(?:\.[A-Za-z0-9_]+)*)\}")


def _lookup(root: Any, path: list[str]) -> Any:
    node = root
    for key in path:
        if isinstance(node, dict) and key in node:
            node = node[key]
        elif isinstance(node, list) and key.isdigit() and int(key) < len(node):
            node = node[int(key)]
        else:
            raise KeyError(key)
    return node


def render(template: str, context: dict[str, Any]) -> str:
    """Fill ``{scope.path}`` placeholders; any that cannot be filled stay as written (never an error)."""

    def fill(m: re.Match[str]) -> str:
        try:
            value = _lookup(context.get(m.group(1)), m.group(2).split("."))
        except KeyError:
            return m.group(0)
        if value is None:
            return m.group(0)
        if isinstance(value, float):
            return f"{value:.1f}"
        if isinstance(value, dict | list):
            return json.dumps(value, ensure_ascii=False, default=str)
        return str(value)

    return _PLACEHOLDER.sub(fill, template)


def _turn_context(turn: UserTurn, match: re.Match[str] | None) -> dict[str, Any]:
    groups: dict[str, Any] = {}
    if match is not None:
        groups = {str(i): g for i, g in enumerate([match.group(0), *match.groups()])}
        groups.update({k: v for k, v in match.groupdict().items()})
    return {"turn": vars(turn).copy(), "match": groups}


# -- script rules

_CONDITIONS = {"text", "regex", "audio_min_s", "audio_max_s", "video", "turn", "default"}
_ANSWERS = {"say", "nothing", "silent", "echo", "call", "then", "actions"}


@dataclass
class _Step:
    """One answer: say a template, stay silent, echo, or call a tool (then say `then`)."""

    kind: str  # "say" | "nothing" | "silent" | "echo" | "call"
    text: str = ""
    name: str = ""
    args: dict = field(default_factory=dict)
    then: str | None = None


@dataclass
class _Rule:
    steps: list[_Step]
    text: str | None = None
    regex: re.Pattern[str] | None = None
    audio_min_s: float | None = None
    audio_max_s: float | None = None
    video: bool | None = None
    turn: int | None = None
    is_default: bool = False

    def match(self, turn: UserTurn) -> tuple[bool, re.Match[str] | None]:
        if self.text is not None and self.text.lower() not in turn.text.lower():
            return False, None
        found = None
        if self.regex is not None:
            found = self.regex.search(turn.text)
            if found is None:
                return False, None
        if self.audio_min_s is not None and turn.audio_seconds < self.audio_min_s:
            return False, None
        if self.audio_max_s is not None and turn.audio_seconds > self.audio_max_s:
            return False, None
        if self.video is not None and (turn.video_frames > 0) != self.video:
            return False, None
        if self.turn is not None and turn.number != self.turn:
            return False, None
        return True, found


class _RuleError(Exception):
    pass


def _number(raw: dict, key: str) -> float | None:
    value = raw.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _RuleError(f"{key!r} must be a number, not {value!r}")
    return float(value)


def _parse_steps(raw: Any, where: str = "") -> list[_Step]:
    if not isinstance(raw, dict):
        raise _RuleError(f"an answer{where} must be a mapping, not {raw!r}")
    if "actions" in raw:
        extra = set(raw) & (_ANSWERS - {"actions"})
        if extra:
            raise _RuleError(f"use either 'actions' or {sorted(extra)}, not both")
        items = raw["actions"]
        if not isinstance(items, list) or not items:
            raise _RuleError("'actions' must be a non-empty list")
        steps: list[_Step] = []
        for i, item in enumerate(items, 1):
            unknown = set(item) - _ANSWERS if isinstance(item, dict) else set()
            if unknown:
                raise _RuleError(f"action {i}: unknown key(s) {sorted(unknown)}")
            steps += _parse_steps(item, f" (action {i})")
        return steps
    given = [k for k in ("say", "nothing", "silent", "echo", "call") if k in raw]
    if len(given) != 1:
        what = "no answer" if not given else f"several answers {given}"
        raise _RuleError(
            f"has {what}{where}: give exactly one of say, nothing, silent, echo, call (or actions)"
        )
    kind = given[0]
    if "then" in raw and kind != "call":
        raise _RuleError(f"'then'{where} only goes with 'call'")
    if kind == "say":
        if not isinstance(raw["say"], str):
            raise _RuleError(f"'say'{where} must be a string")
        return [_Step("say", text=raw["say"])]
    if kind in ("nothing", "silent", "echo"):
        if raw[kind] is not True:
            raise _RuleError(f"'{kind}'{where} must be true")
        return [_Step(kind)]
    call = raw["call"]
    if isinstance(call, str):
        call = {"name": call}
    if not isinstance(call, dict) or not isinstance(call.get("name"), str) or not call["name"]:
        raise _RuleError(f"'call'{where} needs a name: call: {{name: get_time, args: {{}}}}")
    if set(call) - {"name", "args"}:
        raise _RuleError(f"'call'{where} has unknown key(s) {sorted(set(call) - {'name', 'args'})}")
    args = call.get("args") or {}
    if not isinstance(args, dict):
        raise _RuleError(f"'call.args'{where} must be a mapping")
    then = raw.get("then")
    if then is not None and not isinstance(then, str):
        raise _RuleError(f"'then'{where} must be a string")
    return [_Step("call", name=call["name"], args=args, then=then)]


def _parse_rule(raw: Any) -> _Rule:
    if not isinstance(raw, dict):
        raise _RuleError(f"must be a mapping, not {type(raw).__name__}")
    unknown = set(raw) - _CONDITIONS - _ANSWERS
    if unknown:
        raise _RuleError(
            f"unknown key(s) {sorted(unknown)} (conditions: {sorted(_CONDITIONS)}; answers: {sorted(_ANSWERS)})"
        )
    rule = _Rule(steps=_parse_steps({k: v for k, v in raw.items() if k in _ANSWERS}))
    if "text" in raw:
        if not isinstance(raw["text"], str) or not raw["text"]:
            raise _RuleError("'text' must be a non-empty string")
        rule.text = raw["text"]
    if "regex" in raw:
        if not isinstance(raw["regex"], str):
            raise _RuleError("'regex' must be a string")
        try:
            rule.regex = re.compile(raw["regex"], re.IGNORECASE)
        except re.error as exc:
            raise _RuleError(f"bad regex {raw['regex']!r}: {exc}") from None
    rule.audio_min_s = _number(raw, "audio_min_s")
    rule.audio_max_s = _number(raw, "audio_max_s")
    for key in ("video", "default"):
        if key in raw and not isinstance(raw[key], bool):
            raise _RuleError(f"'{key}' must be true or false")
    rule.video = raw.get("video")
    rule.is_default = bool(raw.get("default", False))
    if "turn" in raw:
        if isinstance(raw["turn"], bool) or not isinstance(raw["turn"], int) or raw["turn"] < 1:
            raise _RuleError("'turn' must be a turn number (1, 2, ...)")
        rule.turn = raw["turn"]
    return rule


def _read_document(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ValueError(f"brain script {path}: cannot read it ({exc.strerror or exc})") from None
    suffix = path.suffix.lower()
    parsers = {".json": ("JSON",), ".yaml": ("YAML",), ".yml": ("YAML",)}.get(suffix, ("JSON", "YAML"))
    problem = ""
    for kind in parsers:
        try:
            return json.loads(text) if kind == "JSON" else yaml.safe_load(text)
        except (json.JSONDecodeError, yaml.YAMLError) as exc:
            problem = " ".join(str(exc).split())  # one line
    raise ValueError(f"brain script {path}: not valid {' or '.join(parsers)}: {problem}")


class ScriptBrain:
    """Answers from rules read once from a YAML/JSON file (format in the module docstring)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        document = _read_document(self.path)
        default_raw: Any = None
        if isinstance(document, dict):
            unknown = set(document) - {"rules", "default"}
            if unknown:
                raise ValueError(f"brain script {self.path}: unknown top-level key(s) {sorted(unknown)}")
            default_raw = document.get("default")
            document = document.get("rules", [])
        if not isinstance(document, list):
            raise ValueError(
                f"brain script {self.path}: expected a list of rules or {{rules: [...], default: ...}}"
            )
        self.rules: list[_Rule] = []
        self.default: _Rule | None = None
        for index, raw in enumerate(document, 1):
            try:
                rule = _parse_rule(raw)
            except _RuleError as exc:
                raise ValueError(f"brain script {self.path}: rule {index}: {exc}") from None
            if rule.is_default:
                if self.default is not None:
                    raise ValueError(f"brain script {self.path}: rule {index}: a second default rule")
                self.default = rule
            else:
                self.rules.append(rule)
        if default_raw is not None:
            if self.default is not None:
                raise ValueError(f"brain script {self.path}: both a default rule and a top-level default")
            try:
                self.default = _Rule(steps=_parse_steps(default_raw))
            except _RuleError as exc:
                raise ValueError(f"brain script {self.path}: default: {exc}") from None
        # `then` templates of the calls made, waiting for their responses (per name and args)
        self._pending: dict[tuple[str, str], deque[str | None]] = defaultdict(deque)

    def respond(self, turn: UserTurn, history: list[UserTurn]) -> list[Action]:
        chosen, found = None, None
        for rule in self.rules:
            ok, found = rule.match(turn)
            if ok:
                chosen = rule
                break
        if chosen is None:
            chosen, found = self.default, None
        if chosen is None:
            return [Say(echo_wording(turn))]
        context = _turn_context(turn, found)
        actions: list[Action] = []
        for step in chosen.steps:
            if step.kind == "say":
                text = render(step.text, context)
                actions.append(Say(text) if text else Silent())
            elif step.kind == "silent":
                actions.append(Silent())
            elif step.kind == "nothing":
                actions.append(Say(NOTHING))
            elif step.kind == "echo":
                actions.append(Say(echo_wording(turn)))
            else:
                then = None if step.then is None else render(step.then, context)  # turn/match filled now
                self._pending[_call_key(step.name, step.args)].append(then)
                actions.append(CallTool(step.name, dict(step.args)))
        return actions

    def after_tool(self, name: str, args: dict, response: dict) -> list[Action]:
        waiting = self._pending.get(_call_key(name, args))
        then = waiting.popleft() if waiting else None
        if then is None:
            return [Say(tool_wording(name, response))]
        return [Say(render(then, {"args": args, "response": response}))]


def _call_key(name: str, args: dict) -> tuple[str, str]:
    return name, json.dumps(args, sort_keys=True, default=str)


def load_brain(spec: str) -> Brain:
    """``"echo"`` or ``"script:PATH"``; anything else (or a broken script) raises ValueError."""
    if spec == "echo":
        return EchoBrain()
    if spec.startswith("script:"):
        path = spec[len("script:") :]
        if not path:
            raise ValueError("brain 'script:' needs a file: script:PATH")
        return ScriptBrain(path)
    raise ValueError(f"unknown brain {spec!r}: valid choices are 'echo' and 'script:PATH'")
