"""The one layer that drives a LiveSession for every face: setup from the settings and the model catalog, turns
onto the wire, the answer stream (printers, the `<nothing>` filter), the cost against a budget,
and every persona (one registry).

Faces (chat, replay, demo, the copilot, Telegram) import from here; this package imports `live/`, the pure
gates of `audio/`, and the settings, never a face.
"""

from rholive.conversation.answers import AnswerFilter, could_be_nothing, is_nothing
from rholive.conversation.budget import BUDGET_EXIT, cost_event, cost_meter
from rholive.conversation.collect import AnswerCollector, WholeAnswer
from rholive.conversation.personas import (
    COPILOT_PERSONAS,
    DEFAULT_PERSONA,
    NOTHING_RULE,
    PERSONAS,
    VOICE_NOTE_DEFAULT,
    Persona,
    find_persona,
    persona_names,
    preset,
    resolve_persona,
    voice_note_personas,
)
from rholive.conversation.printers import ChatPrinter, VoicePrinter
from rholive.conversation.setup import (
    TurnMode,
    no_tools,
    session_options,
    setup_config,
    transcription_options,
    voice_setup,
)
from rholive.conversation.talk import AnswerSink, Conversation
from rholive.conversation.turn_stream import Audio, End, Start, TurnStream, WireAction, apply
from rholive.conversation.turns import (
    ANSWER_TIMEOUT_S,
    SERVER_QUIET_S,
    TurnPump,
    stream_server_turns,
    until_over_budget,
    wait_until,
)

__all__ = [
    "ANSWER_TIMEOUT_S",
    "BUDGET_EXIT",
    "COPILOT_PERSONAS",
    "DEFAULT_PERSONA",
    "NOTHING_RULE",
    "PERSONAS",
    "SERVER_QUIET_S",
    "VOICE_NOTE_DEFAULT",
    "AnswerCollector",
    "AnswerFilter",
    "AnswerSink",
    "Audio",
    "ChatPrinter",
    "Conversation",
    "End",
    "Persona",
    "Start",
    "TurnMode",
    "TurnPump",
    "TurnStream",
    "VoicePrinter",
    "WholeAnswer",
    "WireAction",
    "apply",
    "cost_event",
    "cost_meter",
    "could_be_nothing",
    "find_persona",
    "is_nothing",
    "no_tools",
    "persona_names",
    "preset",
    "resolve_persona",
    "session_options",
    "setup_config",
    "stream_server_turns",
    "transcription_options",
    "until_over_budget",
    "voice_note_personas",
    "voice_setup",
    "wait_until",
]
