"""The ``setup`` message, validated like the service and reduced to what the emulator acts on."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from rholive.emulator import setup_checks
from rholive.emulator.rules import POLICY, Rejection
from rholive.live import LiveModel, keys, models

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
TURN_COVERAGE = (
    "TURN_COVERAGE_UNSPECIFIED",
    "TURN_INCLUDES_ONLY_ACTIVITY",
    "TURN_INCLUDES_ALL_INPUT",
    "TURN_INCLUDES_AUDIO_ACTIVITY_AND_ALL_VIDEO",
)
REALTIME_CONFIG_FIELDS = ("automaticActivityDetection", "activityHandling", "turnCoverage")
BEHAVIORS = ("UNSPECIFIED", "BLOCKING", "NON_BLOCKING")
OPT_IN_VERSION = "v1alpha"  # proactive audio and affective dialog, where they are opt-in


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
    all_video: bool = False  # every video frame counts, inside an activity or not
    # function name -> True when the model goes on talking while it runs (NON_BLOCKING)
    tools: dict[str, bool] = field(default_factory=dict)
    history_seeding: bool = False  # historyConfig.initialHistoryInClientContent
    client_content: str = "any"  # "history only": clientContent only seeds history
    interaction_status: bool = False  # serverContent.interactionStatus, with a spoken filler first


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


def _check_model(model: Any, version: str, extra_models: tuple[str, ...] = ()) -> LiveModel:
    """The catalog decides: an unknown or shut-down model is "not found", like the service says it."""
    if not isinstance(model, str) or not model:
        raise Rejection(f"setup.model is required (e.g. {models.DEFAULT_MODEL})")
    if model in extra_models:
        return served_like_the_default(model)
    entry = models.lookup(model) if model.startswith("models/") else None
    if entry is None or not entry.available:
        raise Rejection(
            f"{model} is not found for API version {version}, or is not supported for bidiGenerateContent",
            POLICY,
        )
    return entry


def served_like_the_default(name: str) -> LiveModel:
    """An extra model (EmulatorOptions.extra_models): the default model's behaviour under another name."""
    default = models.lookup(models.DEFAULT_MODEL)
    assert default is not None
    return dataclasses.replace(
        default, name=name, status="preview", prices=None, note="served beyond the catalog"
    )


def _modality(generation: dict[str, Any] | None, model: LiveModel) -> str:
    modalities = keys.get(generation, "responseModalities")
    if modalities is None:
        return "AUDIO"  # the service's default
    if not isinstance(modalities, list) or len(modalities) != 1:
        raise Rejection("generationConfig.responseModalities must hold exactly one modality: TEXT or AUDIO")
    modality = str(modalities[0]).upper()
    if modality not in MODALITIES:
        raise Rejection(f"Unsupported response modality {modalities[0]!r} (TEXT or AUDIO)")
    if modality not in model.modalities:
        raise Rejection("Cannot extract voices from a non-audio request.")
    return modality


def _unknown_here(name: str, where: str, model: LiveModel, version: str) -> Rejection:
    # Opt-in fields exist only in the v1alpha schema: other versions do not know the field at all.
    return Rejection(
        f"Invalid JSON payload received. Unknown name \"{name}\" at '{where}' ({OPT_IN_VERSION} only)"
    )


def _check_proactivity(setup: dict[str, Any], model: LiveModel, version: str) -> None:
    proactivity = _object(setup, "proactivity", "setup")
    if proactivity is None or not keys.has(proactivity, "proactiveAudio"):
        return
    if model.proactive_audio == "always":
        raise Rejection(
            f"proactivity.proactiveAudio is not supported by {model.name}: proactive audio is always on "
            "there; leave the field out"
        )
    if model.proactive_audio == "none":
        raise Rejection(f"proactivity.proactiveAudio is not supported by {model.name}")
    if version != OPT_IN_VERSION:
        raise _unknown_here("proactivity", "setup", model, version)


def _check_affective(generation: dict[str, Any] | None, model: LiveModel, version: str) -> None:
    if not keys.has(generation, "enableAffectiveDialog"):
        return
    if model.affective_dialog == "removed":
        raise Rejection(
            f"generationConfig.enableAffectiveDialog is no longer supported: affective dialog was removed "
            f"from {model.name}"
        )
    if model.affective_dialog == "none":
        raise Rejection(f"generationConfig.enableAffectiveDialog is not supported by {model.name}")
    if version != OPT_IN_VERSION:
        raise _unknown_here("enableAffectiveDialog", "setup.generation_config", model, version)


def _check_thinking(generation: dict[str, Any] | None, model: LiveModel) -> None:
    thinking = _object(generation, "thinkingConfig", "generationConfig")
    if thinking is None:
        return
    if model.thinking == "none":
        raise Rejection(f"generationConfig.thinkingConfig is not supported by {model.name}")
    if model.thinking == "level" and keys.has(thinking, "thinkingBudget"):
        raise Rejection(f"thinkingConfig.thinkingBudget is not supported by {model.name}: use thinkingLevel")
    if model.thinking == "budget" and keys.has(thinking, "thinkingLevel"):
        raise Rejection(f"thinkingConfig.thinkingLevel is not supported by {model.name}: use thinkingBudget")
    level = keys.get(thinking, "thinkingLevel")
    if level is not None and str(level).lower() not in model.thinking_levels:
        allowed = ", ".join(model.thinking_levels)
        raise Rejection(
            f"thinkingConfig.thinkingLevel {level!r} is not supported by {model.name} ({allowed})"
        )


def parse_tools(tools: Any, model: LiveModel, where: str = "setup.tools") -> dict[str, bool]:
    """Function name -> whether it runs NON_BLOCKING (only models that honour it; others always block)."""
    if tools is None:
        return {}
    if not isinstance(tools, list):
        raise Rejection(f"{where} must be a list of tools")
    functions: dict[str, bool] = {}
    for i, tool in enumerate(tools):
        setup_checks.check_tool(tool, f"{where}[{i}]")
        declarations = keys.get(tool, "functionDeclarations", [])
        if not isinstance(declarations, list):
            raise Rejection(f"{where}[{i}].functionDeclarations must be a list")
        for j, declaration in enumerate(declarations):
            name = keys.get(declaration, "name")
            if not isinstance(name, str) or not name:
                raise Rejection(f"{where}[{i}].functionDeclarations[{j}].name is required")
            behavior = keys.get(declaration, "behavior") or "UNSPECIFIED"
            if behavior not in BEHAVIORS:
                raise Rejection(
                    f"Invalid value at '{where}[{i}].function_declarations[{j}].behavior': {behavior!r}"
                )
            if behavior == "UNSPECIFIED":
                behavior = model.tools_default
            functions[name] = model.non_blocking_tools and behavior == "NON_BLOCKING"
    return functions


def _history_seeding(setup: dict[str, Any]) -> bool:
    history = _object(setup, "historyConfig", "setup") or {}
    for key in history:
        if keys.canonical(key) != "initialHistoryInClientContent":
            raise Rejection(
                f"Invalid JSON payload received. Unknown name \"{key}\" at 'setup.history_config'."
            )
    seeding = keys.get(history, "initialHistoryInClientContent", False)
    if not isinstance(seeding, bool):
        raise Rejection("historyConfig.initialHistoryInClientContent must be a boolean")
    return seeding


def system_text(instruction: Any) -> str:
    """The text of a systemInstruction given as a string or a Content."""
    if isinstance(instruction, str):
        return instruction
    parts = keys.get(instruction, "parts", [])
    return (
        "".join(keys.get(p, "text", "") for p in parts if isinstance(p, dict))
        if isinstance(parts, list)
        else ""
    )


def parse_setup(setup: Any, version: str = "v1beta", extra_models: tuple[str, ...] = ()) -> SessionConfig:
    if not isinstance(setup, dict):
        raise Rejection("setup must be an object")
    for key in setup:
        if keys.canonical(key) not in SETUP_FIELDS:
            raise Rejection(
                f"Invalid JSON payload received. Unknown name \"{key}\" at 'setup': Cannot find field."
            )
    model = _check_model(keys.get(setup, "model"), version, extra_models)
    generation = _object(setup, "generationConfig", "setup")
    _check_proactivity(setup, model, version)
    _check_affective(generation, model, version)
    _check_thinking(generation, model)
    if generation is not None:
        setup_checks.check_generation(generation)
    setup_checks.check_instruction(keys.get(setup, "systemInstruction"), "setup.systemInstruction")
    realtime = _object(setup, "realtimeInputConfig", "setup") or {}
    for key in realtime:
        if keys.canonical(key) not in REALTIME_CONFIG_FIELDS:
            raise Rejection(
                f"Invalid JSON payload received. Unknown name \"{key}\" at 'setup.realtime_input_config'."
            )
    detection = _object(realtime, "automaticActivityDetection", "realtimeInputConfig") or {}
    setup_checks.check_detection(detection)
    handling = keys.get(realtime, "activityHandling") or "ACTIVITY_HANDLING_UNSPECIFIED"
    if handling not in ACTIVITY_HANDLING:
        raise Rejection(f"Invalid value for realtimeInputConfig.activityHandling: {handling!r}")
    coverage = keys.get(realtime, "turnCoverage") or "TURN_COVERAGE_UNSPECIFIED"
    if coverage not in TURN_COVERAGE:
        raise Rejection(f"Invalid value for realtimeInputConfig.turnCoverage: {coverage!r}")
    if coverage == "TURN_COVERAGE_UNSPECIFIED":
        coverage = model.turn_coverage
    disabled = keys.get(detection, "disabled", False)
    if not isinstance(disabled, bool):
        raise Rejection("automaticActivityDetection.disabled must be a boolean")
    resumption = _object(setup, "sessionResumption", "setup")
    handle = keys.get(resumption, "handle")
    if handle is not None and not isinstance(handle, str):
        raise Rejection("sessionResumption.handle must be a string")
    if not isinstance(keys.get(resumption, "transparent", False), bool):
        raise Rejection("sessionResumption.transparent must be a boolean")
    compression = _object(setup, "contextWindowCompression", "setup")
    if compression is not None:
        setup_checks.check_compression(compression)
    resolution = keys.get(generation, "mediaResolution")
    return SessionConfig(
        model=model.name,
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
        compression=compression is not None,
        low_media_resolution=resolution == "MEDIA_RESOLUTION_LOW",
        system_instruction=system_text(keys.get(setup, "systemInstruction")),
        all_video=coverage != "TURN_INCLUDES_ONLY_ACTIVITY",
        tools=parse_tools(keys.get(setup, "tools"), model),
        history_seeding=_history_seeding(setup),
        client_content=model.client_content,
        interaction_status=model.interaction_status,
    )
