"""The ``setup`` message, validated like the service and reduced to what the emulator acts on."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rholive.emulator.rules import POLICY, Rejection
from rholive.live import keys

# Fields of BidiGenerateContentSetup (the SDK's converter sends these); anything else is refused like the
# service does, which catches misspelled keys early.
SETUP_FIELDS = frozenset(
    {
        "model",
        "generationConfig",
        "systemInstruction",
        "tools",
        "realtimeInputConfig",
        "sessionResumption",
        "contextWindowCompression",
        "inputAudioTranscription",
        "outputAudioTranscription",
        "proactivity",
        "historyConfig",
        "avatarConfig",
        "safetySettings",
        "labels",
        "explicitVadSignal",
    }
)
MODALITIES = ("TEXT", "AUDIO")
ACTIVITY_HANDLING = ("ACTIVITY_HANDLING_UNSPECIFIED", "START_OF_ACTIVITY_INTERRUPTS", "NO_INTERRUPTION")
TURN_COVERAGE = ("TURN_COVERAGE_UNSPECIFIED", "TURN_INCLUDES_ONLY_ACTIVITY", "TURN_INCLUDES_ALL_INPUT")


@dataclass(frozen=True, slots=True)
class SessionConfig:
    model: str
    modality: str  # TEXT | AUDIO
    auto_detection: bool = True
    silence_duration_ms: int | None = None  # None: the emulator's default
    prefix_padding_ms: int | None = None
    start_sensitivity: str | None = None
    interrupts: bool = True  # False with activityHandling NO_INTERRUPTION
    all_input: bool = False  # turnCoverage TURN_INCLUDES_ALL_INPUT
    input_transcription: bool = False
    output_transcription: bool = False
    resumption: bool = False  # sessionResumption present: send sessionResumptionUpdate
    resumption_handle: str | None = None
    transparent: bool = False  # send lastConsumedClientMessageIndex
    compression: bool = False  # contextWindowCompression present: no session limit
    low_media_resolution: bool = False
    system_instruction: str = ""


def _int_field(obj: Any, name: str, where: str) -> int | None:
    value = keys.get(obj, name)
    if value is None:
        return None
    try:
        number = int(value)  # protobuf JSON may carry integers as strings
    except (TypeError, ValueError):
        raise Rejection(f"{where}.{name} must be an integer, got {value!r}") from None
    if number < 0:
        raise Rejection(f"{where}.{name} must not be negative")
    return number


def _object(obj: Any, name: str, where: str) -> dict[str, Any] | None:
    value = keys.get(obj, name)
    if value is not None and not isinstance(value, dict):
        raise Rejection(f"{where}.{name} must be an object")
    return value


def _check_model(model: Any, version: str) -> str:
    if not isinstance(model, str) or not model:
        raise Rejection("setup.model is required (e.g. models/gemini-live-2.5-flash-preview)")
    if not model.startswith("models/") or "gemini" not in model:
        raise Rejection(
            f"{model} is not found for API version {version}, or is not supported for bidiGenerateContent",
            POLICY,
        )
    return model


def _modality(generation: dict[str, Any] | None, model: str) -> str:
    modalities = keys.get(generation, "responseModalities")
    if modalities is None:
        return "AUDIO"  # the service's default
    if not isinstance(modalities, list) or len(modalities) != 1:
        raise Rejection("generationConfig.responseModalities must hold exactly one modality: TEXT or AUDIO")
    modality = str(modalities[0]).upper()
    if modality not in MODALITIES:
        raise Rejection(f"Unsupported response modality {modalities[0]!r} (TEXT or AUDIO)")
    if modality == "TEXT" and "native-audio" in model:
        raise Rejection("Cannot extract voices from a non-audio request.")
    return modality


def _system_text(setup: dict[str, Any]) -> str:
    instruction = keys.get(setup, "systemInstruction")
    if isinstance(instruction, str):
        return instruction
    parts = keys.get(instruction, "parts", [])
    return (
        "".join(keys.get(p, "text", "") for p in parts if isinstance(p, dict))
        if isinstance(parts, list)
        else ""
    )


def parse_setup(setup: Any, version: str = "v1beta") -> SessionConfig:
    if not isinstance(setup, dict):
        raise Rejection("setup must be an object")
    for key in setup:
        if keys.canonical(key) not in SETUP_FIELDS:
            raise Rejection(
                f"Invalid JSON payload received. Unknown name \"{key}\" at 'setup': Cannot find field."
            )
    model = _check_model(keys.get(setup, "model"), version)
    generation = _object(setup, "generationConfig", "setup")
    realtime = _object(setup, "realtimeInputConfig", "setup") or {}
    detection = _object(realtime, "automaticActivityDetection", "realtimeInputConfig") or {}
    handling = keys.get(realtime, "activityHandling") or "ACTIVITY_HANDLING_UNSPECIFIED"
    if handling not in ACTIVITY_HANDLING:
        raise Rejection(f"Invalid value for realtimeInputConfig.activityHandling: {handling!r}")
    coverage = keys.get(realtime, "turnCoverage") or "TURN_COVERAGE_UNSPECIFIED"
    if coverage not in TURN_COVERAGE:
        raise Rejection(f"Invalid value for realtimeInputConfig.turnCoverage: {coverage!r}")
    disabled = keys.get(detection, "disabled", False)
    if not isinstance(disabled, bool):
        raise Rejection("automaticActivityDetection.disabled must be a boolean")
    resumption = _object(setup, "sessionResumption", "setup")
    handle = keys.get(resumption, "handle")
    if handle is not None and not isinstance(handle, str):
        raise Rejection("sessionResumption.handle must be a string")
    resolution = keys.get(generation, "mediaResolution")
    return SessionConfig(
        model=model,
        modality=_modality(generation, model),
        auto_detection=not disabled,
        silence_duration_ms=_int_field(detection, "silenceDurationMs", "automaticActivityDetection"),
        prefix_padding_ms=_int_field(detection, "prefixPaddingMs", "automaticActivityDetection"),
        start_sensitivity=keys.get(detection, "startOfSpeechSensitivity"),
        interrupts=handling != "NO_INTERRUPTION",
        all_input=coverage == "TURN_INCLUDES_ALL_INPUT",
        input_transcription=_object(setup, "inputAudioTranscription", "setup") is not None,
        output_transcription=_object(setup, "outputAudioTranscription", "setup") is not None,
        resumption=resumption is not None,
        resumption_handle=handle or None,
        transparent=bool(keys.get(resumption, "transparent", False)),
        compression=_object(setup, "contextWindowCompression", "setup") is not None,
        low_media_resolution=resolution == "MEDIA_RESOLUTION_LOW",
        system_instruction=_system_text(setup),
    )
