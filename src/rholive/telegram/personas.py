"""Personas a chat can pick with ``/persona NAME``: a system instruction and, optionally, a voice."""

from __future__ import annotations

from dataclasses import dataclass

_BRIEF = "Your answers are heard as voice notes: keep them short and natural, no markdown, no lists."


@dataclass(frozen=True, slots=True)
class Persona:
    name: str
    instruction: str
    voice: str | None = None  # a prebuilt voice name (e.g. "Puck"); None: the model's default


def default_personas(system_instruction: str | None = None, voice: str | None = None) -> dict[str, Persona]:
    """The built-in set. ``system_instruction``/``voice`` from the settings shape the ``assistant`` persona."""
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


DEFAULT_PERSONA = "assistant"
