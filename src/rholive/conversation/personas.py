"""Who the assistant is: every persona of rholive in one registry, a system instruction and optionally a voice.

Each face has its own set, since what fits next to a screen does not fit a voice note:
- the copilot (`rholive run --persona NAME` or the `persona` setting): `COPILOT_PERSONAS`, default
  `silent-helper` (the seed's "silent helper"). The presets where silence makes sense end with the `<nothing>`
  rule that `rholive.conversation.answers` filters out.
- Telegram (`/persona NAME`): `voice_note_personas()`, default `assistant`; answers are heard, so they are brief.

The copilot's precedence, highest first: `--persona NAME`, the `persona` setting (config file or
`RHOLIVE_PERSONA`), the `system_instruction` setting (the user's own text replaces the default), the default.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Persona:
    name: str
    instruction: str
    voice: str | None = None  # a prebuilt voice name (e.g. "Puck"); None: the model's default


def find_persona(personas: Mapping[str, Persona], name: str) -> Persona:
    """The persona by that name (any case, spaces ignored); ValueError naming the valid ones when none."""
    key = name.strip().lower()
    if key not in personas:
        raise ValueError(f"unknown persona {name!r}; choose one of: {', '.join(sorted(personas))}")
    return personas[key]


# ---------------------------------------------------------------------------------------------- the copilot

NOTHING_RULE = (
    "When there is nothing new to answer, solve, do or comment on, reply with exactly <nothing> and no other "
    "text."
)

_SETTING = (
    "You hear the user and the people they are talking with (a call or a meeting), and you see the user's "
    "screen. Your replies appear in a small window next to their work: be brief, use markdown, put code in "
    "fenced code blocks."
)

_COPILOT_TEXTS = {
    "silent-helper": (
        "You are a silent helper, the user's second mind for whatever they are doing. Do not wait to be asked: "
        "when a coding problem (for example a LeetCode exercise) is on the screen, solve it; when someone on "
        "the call asks a question, answer it the way the user would. The user should not have to think or "
        f"ask you for anything. {_SETTING}\n\n{NOTHING_RULE}"
    ),
    "interview": (
        "You help the user through a job interview. When the interviewer asks a question, give the answer the "
        "user can say in their own words: the key points first, short and confident. When a coding or "
        "system-design problem is on the screen, give a working solution with its time and space complexity "
        f"and a sentence on how to explain it. {_SETTING}\n\n{NOTHING_RULE}"
    ),
    "meeting-notes": (
        "You keep notes of the user's meeting. Write a short note only when something worth keeping happens: "
        "a decision, an action item (who does what, by when), a number or a date, or a question put to the "
        f"user that they have not answered. One or two bullet points per note. {_SETTING}\n\n{NOTHING_RULE}"
    ),
    "tutor": (
        "You are a patient tutor for what the user is learning on screen. Do not hand over solutions: when "
        "they are stuck, give a hint or a question that leads them one step further; when they make a "
        "mistake, point to it and explain why it is wrong; when they ask, explain the idea behind it with a "
        f"small example. {_SETTING}\n\n{NOTHING_RULE}"
    ),
}

COPILOT_PERSONAS: dict[str, Persona] = {
    name: Persona(name, instruction) for name, instruction in _COPILOT_TEXTS.items()
}
PERSONAS: dict[str, str] = dict(_COPILOT_TEXTS)  # the copilot's instructions by name
DEFAULT_PERSONA = "silent-helper"


class PersonaSettings(Protocol):
    """The part of `rholive.config.Settings` this module reads."""

    @property
    def system_instruction(self) -> str | None: ...

    @property
    def persona(self) -> str | None: ...


def persona_names() -> list[str]:
    """The copilot's presets."""
    return sorted(COPILOT_PERSONAS)


def preset(name: str) -> str:
    """The instruction of a copilot preset; ValueError naming the valid presets when there is none by that name."""
    return find_persona(COPILOT_PERSONAS, name).instruction


def resolve_persona(name: str | None, settings: PersonaSettings) -> str:
    """The copilot's system instruction for `--persona name` (None: not given) and these settings."""
    if name is not None:
        return preset(name)
    if settings.persona:
        return preset(settings.persona)
    if settings.system_instruction and settings.system_instruction.strip():
        return settings.system_instruction
    return COPILOT_PERSONAS[DEFAULT_PERSONA].instruction


# ---------------------------------------------------------------------------------------------- voice notes

_BRIEF = "Your answers are heard as voice notes: keep them short and natural, no markdown, no lists."
VOICE_NOTE_DEFAULT = "assistant"


def voice_note_personas(
    system_instruction: str | None = None, voice: str | None = None
) -> dict[str, Persona]:
    """Telegram's set. ``system_instruction``/``voice`` from the settings shape the ``assistant`` persona."""
    assistant = (
        system_instruction or f"You are a helpful assistant talking with someone on Telegram. {_BRIEF}"
    )
    return {
        "assistant": Persona("assistant", assistant, voice),
        "tutor": Persona(
            "tutor",
            f"You are a patient language tutor. Gently correct mistakes, then answer. {_BRIEF}",
            voice,
        ),
        "brief": Persona("brief", f"Answer in one or two sentences at most. {_BRIEF}", voice),
    }
