"""Shape and range checks on the parts of ``setup`` (and ``contextUpdate``) the emulator otherwise ignores.

The service refuses a setup whose values are out of range or of the wrong type (1007, a reason naming the
field); accepting them would let a client pass here and fail against the service. Each check raises
``Rejection``; none of them changes what the emulator does with a valid setup.
"""

from __future__ import annotations

import math
import re
from typing import Any

from rholive.emulator.rules import Rejection
from rholive.live import keys

# Fields of GenerationConfig (google-genai 3.6.1), camelCase; anything else is an unknown name.
GENERATION_FIELDS = frozenset(
    {
        "audioTimestamp",
        "audioTranscriptionConfig",
        "candidateCount",
        "enableAffectiveDialog",
        "enableEnhancedCivicAnswers",
        "frequencyPenalty",
        "logprobs",
        "maxOutputTokens",
        "mediaResolution",
        "modelSelectionConfig",
        "presencePenalty",
        "responseFormat",
        "responseJsonSchema",
        "responseLogprobs",
        "responseMimeType",
        "responseModalities",
        "responseSchema",
        "routingConfig",
        "seed",
        "speechConfig",
        "stopSequences",
        "temperature",
        "thinkingConfig",
        "topK",
        "topP",
        "translationConfig",
    }
)
# (lowest, highest) accepted for each float field; None: unbounded on that side
FLOAT_RANGES: dict[str, tuple[float | None, float | None]] = {
    "temperature": (0.0, 2.0),
    "topP": (0.0, 1.0),
    "presencePenalty": (-2.0, 2.0),
    "frequencyPenalty": (-2.0, 2.0),
}
INT_MINIMUMS = {"topK": 1, "maxOutputTokens": 1, "candidateCount": 1}
INT32_MAX = 2**31 - 1
MAX_CANDIDATES = 1  # the Live API streams one answer
MEDIA_RESOLUTIONS = (
    "MEDIA_RESOLUTION_UNSPECIFIED",
    "MEDIA_RESOLUTION_LOW",
    "MEDIA_RESOLUTION_MEDIUM",
    "MEDIA_RESOLUTION_HIGH",
)
START_SENSITIVITY = ("START_SENSITIVITY_UNSPECIFIED", "START_SENSITIVITY_HIGH", "START_SENSITIVITY_LOW")
END_SENSITIVITY = ("END_SENSITIVITY_UNSPECIFIED", "END_SENSITIVITY_HIGH", "END_SENSITIVITY_LOW")
DETECTION_FIELDS = frozenset(
    {"disabled", "startOfSpeechSensitivity", "endOfSpeechSensitivity", "prefixPaddingMs", "silenceDurationMs"}
)
MAX_MS = 10 * 60 * 1000  # a VAD duration beyond ten minutes is a bug in the client, not a setting
TOOL_KINDS = frozenset(
    {
        "functionDeclarations",
        "googleSearch",
        "googleSearchRetrieval",
        "codeExecution",
        "urlContext",
        "retrieval",
        "googleMaps",
        "computerUse",
        "enterpriseWebSearch",
        "fileSearch",
        "mcpServers",
        "exaAiSearch",
        "parallelAiSearch",
    }
)
DECLARATION_FIELDS = frozenset(
    {
        "name",
        "description",
        "behavior",
        "parameters",
        "parametersJsonSchema",
        "response",
        "responseJsonSchema",
    }
)
# the Gemini API's rule for function names
FUNCTION_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.:-]{0,63}$")


def _unknown(key: str, where: str) -> Rejection:
    return Rejection(
        f"Invalid JSON payload received. Unknown name \"{key}\" at '{where}': Cannot find field."
    )


def _only_fields(obj: dict[str, Any], allowed: frozenset[str], where: str) -> None:
    for key in obj:
        if keys.canonical(key) not in allowed:
            raise _unknown(key, where)


def _object_or_none(obj: Any, name: str, where: str) -> dict[str, Any] | None:
    value = keys.get(obj, name)
    if value is not None and not isinstance(value, dict):
        raise Rejection(f"Invalid value at '{where}.{name}': must be an object, got {_kind(value)}")
    return value


def _kind(value: Any) -> str:
    """A JSON type name for reasons (never the value itself: it may be huge)."""
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return "null"


def _enum(value: Any, allowed: tuple[str, ...], where: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or value not in allowed:
        shown = repr(value) if isinstance(value, str) and len(value) <= 40 else _kind(value)
        raise Rejection(f"Invalid value at '{where}' ({', '.join(allowed)}): {shown}")
    return value


def finite_number(value: Any, where: str) -> float:
    # strings and booleans are refused although protobuf JSON allows "1.5": no client has a reason to
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise Rejection(f"{where} must be a number, got {_kind(value)}")
    if not math.isfinite(value):
        raise Rejection(f"Invalid value at '{where}': must be a finite number")
    return float(value)


def integer(value: Any, where: str, lowest: int = 0, highest: int = INT32_MAX) -> int:
    """An int32/int64 field: a JSON integer, or an integer in a string (protobuf JSON's int64 form)."""
    if isinstance(value, str) and re.fullmatch(r"-?\d{1,19}", value):
        value = int(value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise Rejection(f"{where} must be an integer, got {_kind(value)}")
    if not lowest <= value <= highest:
        raise Rejection(f"Invalid value at '{where}': {value} is out of range ({lowest}..{highest})")
    return value


def check_generation(generation: dict[str, Any]) -> None:
    _only_fields(generation, GENERATION_FIELDS, "setup.generation_config")
    for name, (lowest, highest) in FLOAT_RANGES.items():
        if keys.get(generation, name) is None:
            continue
        where = f"generationConfig.{name}"
        number = finite_number(keys.get(generation, name), where)
        if (lowest is not None and number < lowest) or (highest is not None and number > highest):
            raise Rejection(
                f"Invalid value at '{where}': {number:g} is out of range ({lowest:g}..{highest:g})"
            )
    for name, lowest in INT_MINIMUMS.items():
        if keys.get(generation, name) is not None:
            integer(keys.get(generation, name), f"generationConfig.{name}", lowest)
    if keys.get(generation, "candidateCount") is not None:
        integer(keys.get(generation, "candidateCount"), "generationConfig.candidateCount", 1, MAX_CANDIDATES)
    if keys.get(generation, "seed") is not None:
        integer(keys.get(generation, "seed"), "generationConfig.seed", -(2**31))
    _enum(keys.get(generation, "mediaResolution"), MEDIA_RESOLUTIONS, "generationConfig.mediaResolution")
    _check_stop_sequences(keys.get(generation, "stopSequences"))
    check_speech(_object_or_none(generation, "speechConfig", "generationConfig"))


def _check_stop_sequences(value: Any) -> None:
    if value is None:
        return
    if not isinstance(value, list) or not all(isinstance(s, str) for s in value):
        raise Rejection("Invalid value at 'generationConfig.stopSequences': must be a list of strings")


def check_speech(speech: dict[str, Any] | None) -> None:
    if speech is None:
        return
    _only_fields(
        speech, frozenset({"voiceConfig", "languageCode", "multiSpeakerVoiceConfig"}), "speech_config"
    )
    language = keys.get(speech, "languageCode")
    if language is not None and not isinstance(language, str):
        raise Rejection("Invalid value at 'speechConfig.languageCode': must be a string")
    _object_or_none(speech, "multiSpeakerVoiceConfig", "speechConfig")
    voice = _object_or_none(speech, "voiceConfig", "speechConfig")
    if voice is None:
        return
    prebuilt = _object_or_none(voice, "prebuiltVoiceConfig", "speechConfig.voiceConfig")
    name = keys.get(prebuilt, "voiceName")
    if name is not None and (not isinstance(name, str) or not name):
        raise Rejection("Invalid value at 'speechConfig.voiceConfig.prebuiltVoiceConfig.voiceName': a name")


def check_instruction(instruction: Any, where: str) -> None:
    """A systemInstruction: a string, or a Content whose parts each carry text."""
    if instruction is None or isinstance(instruction, str):
        return
    if not isinstance(instruction, dict):
        raise Rejection(
            f"Invalid value at '{where}': must be a Content or a string, got {_kind(instruction)}"
        )
    _only_fields(instruction, frozenset({"parts", "role"}), where)
    role = keys.get(instruction, "role")
    if role is not None and not isinstance(role, str):
        raise Rejection(f"Invalid value at '{where}.role': must be a string")
    parts = keys.get(instruction, "parts", [])
    if not isinstance(parts, list):
        raise Rejection(f"Invalid value at '{where}.parts': must be a list of parts")
    for i, part in enumerate(parts):
        if not isinstance(part, dict) or not isinstance(keys.get(part, "text"), str):
            raise Rejection(f"Invalid value at '{where}.parts[{i}]': a system instruction part carries text")


def check_detection(detection: dict[str, Any]) -> None:
    where = "realtimeInputConfig.automaticActivityDetection"
    _only_fields(detection, DETECTION_FIELDS, "setup.realtime_input_config.automatic_activity_detection")
    _enum(
        keys.get(detection, "startOfSpeechSensitivity"),
        START_SENSITIVITY,
        f"{where}.startOfSpeechSensitivity",
    )
    _enum(keys.get(detection, "endOfSpeechSensitivity"), END_SENSITIVITY, f"{where}.endOfSpeechSensitivity")
    for name in ("prefixPaddingMs", "silenceDurationMs"):
        if keys.get(detection, name) is not None:
            integer(keys.get(detection, name), f"{where}.{name}", 0, MAX_MS)


def check_compression(compression: dict[str, Any]) -> None:
    _only_fields(
        compression, frozenset({"triggerTokens", "slidingWindow"}), "setup.context_window_compression"
    )
    trigger = keys.get(compression, "triggerTokens")
    if trigger is not None:
        integer(trigger, "contextWindowCompression.triggerTokens", 0, 2**63 - 1)
    window = _object_or_none(compression, "slidingWindow", "contextWindowCompression")
    if window is None:
        return
    _only_fields(window, frozenset({"targetTokens"}), "setup.context_window_compression.sliding_window")
    target = keys.get(window, "targetTokens")
    if target is not None:
        integer(target, "contextWindowCompression.slidingWindow.targetTokens", 0, 2**63 - 1)


def check_tool(tool: Any, where: str) -> None:
    """One entry of ``tools``: known kinds only; declarations well formed; googleSearch an object."""
    if not isinstance(tool, dict):
        raise Rejection(f"Invalid value at '{where}': a tool must be an object, got {_kind(tool)}")
    _only_fields(tool, TOOL_KINDS, where)
    for kind in sorted(TOOL_KINDS - {"functionDeclarations", "mcpServers"}):  # mcpServers is a list
        _object_or_none(tool, kind, where)
    declarations = keys.get(tool, "functionDeclarations", [])
    if not isinstance(declarations, list):
        raise Rejection(f"Invalid value at '{where}.functionDeclarations': must be a list")
    for j, declaration in enumerate(declarations):
        check_declaration(declaration, f"{where}.functionDeclarations[{j}]")


def check_declaration(declaration: Any, where: str) -> None:
    if not isinstance(declaration, dict):
        raise Rejection(f"Invalid value at '{where}': a function declaration must be an object")
    _only_fields(declaration, DECLARATION_FIELDS, where)
    name = keys.get(declaration, "name")
    if not isinstance(name, str) or not name:
        raise Rejection(f"{where}.name is required")
    if not FUNCTION_NAME.match(name):
        raise Rejection(
            f"Invalid function name at '{where}.name': start with a letter or underscore; letters, digits, "
            "_ . : - only; at most 64 characters"
        )
    description = keys.get(declaration, "description")
    if description is not None and not isinstance(description, str):
        raise Rejection(f"Invalid value at '{where}.description': must be a string")
    for schema in ("parameters", "response"):
        _object_or_none(declaration, schema, where)
