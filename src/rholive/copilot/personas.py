"""Who the copilot is: its system instruction, picked with `--persona NAME` or set in the config file.

Precedence, highest first: `--persona NAME` (a preset), the `persona` setting (a preset named in the config
file or `RHOLIVE_PERSONA`), the `system_instruction` setting (the user's own text replaces the default), the
default preset `silent-helper` (the seed's "silent helper"). The presets where silence makes sense end with
the `<nothing>` rule that `rholive.conversation.answers` filters out. Telegram has its own personas
(`rholive.telegram.personas`); these are the copilot's.
"""

from __future__ import annotations

from typing import Protocol

NOTHING_RULE = (
    "When there is nothing new to answer, solve, do or comment on, reply with exactly <nothing> and no other "
    "text."
)

_SETTING = (
    "You hear the user and the people they are talking with (a call or a meeting), and you see the user's "
    "screen. Your replies appear in a small window next to their work: be brief, use markdown, put code in "
    "fenced code blocks."
)

PERSONAS: dict[str, str] = {
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

DEFAULT_PERSONA = "silent-helper"


class PersonaSettings(Protocol):
    """The part of `rholive.config.Settings` this module reads."""

    @property
    def system_instruction(self) -> str | None: ...

    @property
    def persona(self) -> str | None: ...


def persona_names() -> list[str]:
    return sorted(PERSONAS)


def preset(name: str) -> str:
    """The instruction of a preset; ValueError naming the valid presets when there is none by that name."""
    key = name.strip().lower()
    if key not in PERSONAS:
        raise ValueError(f"unknown persona {name!r}; choose one of: {', '.join(persona_names())}")
    return PERSONAS[key]


def resolve_persona(name: str | None, settings: PersonaSettings) -> str:
    """The copilot's system instruction for `--persona name` (None: not given) and these settings."""
    if name is not None:
        return preset(name)
    if settings.persona:
        return preset(settings.persona)
    if settings.system_instruction and settings.system_instruction.strip():
        return settings.system_instruction
    return PERSONAS[DEFAULT_PERSONA]
