"""What a face sends at setup, from the settings: the model, AUDIO with its transcript, the instruction, the
transcription hints, turn detection; how the session treats its connection; no tools unless a face has some."""

from __future__ import annotations

from dataclasses import replace
from typing import Literal

from rholive.config import Settings
from rholive.live import ActivityDetection, SessionOptions, SetupConfig, ToolRegistry, TranscriptionOptions

TurnMode = Literal["client", "server"]  # who decides the turns: our segmenter, or the server's VAD


def setup_config(settings: Settings) -> SetupConfig:
    """Always AUDIO with its transcript: every Live model today refuses TEXT, a model newer than our catalog
    most likely too; ``settings.modality`` only says whether the answers are also played."""
    hints = transcription_options(settings)
    return SetupConfig(
        model=settings.model,
        response_modality="AUDIO",
        system_instruction=settings.system_instruction,
        voice_name=settings.voice,
        thinking_level=settings.thinking_level,  # fit_setup drops it where the model has no levels
        output_transcription=True,
        input_transcription_options=hints,
        output_transcription_options=hints,
    )


def transcription_options(settings: Settings) -> TranscriptionOptions:
    table = settings.transcription
    return TranscriptionOptions(tuple(table.languages), tuple(table.custom_vocabulary))


def no_tools() -> ToolRegistry:
    """An empty registry: a tool call the face cannot serve gets an error response, so the model goes on
    (without one it waited for an answer forever, and so did the face)."""
    return ToolRegistry()


def session_options(settings: Settings) -> SessionOptions:
    return SessionOptions(
        setup_timeout_s=settings.setup_timeout_s,
        ping_interval_s=settings.ping_interval_s,
        ping_timeout_s=settings.ping_timeout_s,
        stall_timeout_s=settings.stall_timeout_s,
    )


def voice_setup(settings: Settings, turns: TurnMode) -> SetupConfig:
    """The chat setup with activity detection off (our segmenter decides) or on (the server's VAD)."""
    config = setup_config(settings)
    return replace(config, activity_detection=ActivityDetection(disabled=turns == "client"))
