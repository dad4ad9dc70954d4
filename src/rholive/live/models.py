"""The catalog of Live models: what each one accepts, how it behaves, what it costs.

One table, read by the client (``fit_setup`` never sends a field the chosen model refuses; the cost estimate)
and by the emulator (it refuses what the service refuses, per model). The catalog is advice, not a wall: a
model it does not know is sent as given.

Sources (as of late 2026): ``shared/live-protocol.md`` "The service today" (models, statuses, modalities, tools,
proactive/affective audio, thinking, ``interactionStatus``, ``turnCoverage``, shut-down dates), the Gemini API
model pages and the 3.1 Flash Live model card (input limits), the Gemini API pricing page as quoted on the
Gemini developer forum (prices of 2.5 native audio and 3.1 Flash Live). No public price for the 3.8 models was
found: they are priced like 3.1 Flash Live until the page says otherwise (``price_source`` says so), and a
config file can override every price (``[prices]``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Literal

from rholive.live.wire import SetupConfig

Status = Literal["stable", "preview", "legacy", "deprecated", "shut down"]
ProactiveAudio = Literal["always", "opt-in", "none"]
AffectiveDialog = Literal["removed", "opt-in", "none"]
Thinking = Literal["none", "level", "budget"]
ClientContentUse = Literal["any", "history only"]

DEFAULT_MODEL = "models/gemini-3.8-live"
THINKING_LEVELS = ("minimal", "low", "medium", "high")


@dataclass(frozen=True, slots=True)
class Prices:
    """US dollars per 1M tokens. ``audio_in`` also prices video and image input, as the service does."""

    text_in: float
    audio_in: float
    text_out: float
    audio_out: float
    source: str = ""


@dataclass(frozen=True, slots=True)
class LiveModel:
    name: str  # "models/..."
    status: Status
    modalities: tuple[str, ...]  # response modalities the model accepts
    tools_default: Literal["BLOCKING", "NON_BLOCKING"] = "BLOCKING"
    non_blocking_tools: bool = False  # `behavior: NON_BLOCKING` and response `scheduling` are honoured
    proactive_audio: ProactiveAudio = "none"
    affective_dialog: AffectiveDialog = "none"
    thinking: Thinking = "none"
    thinking_levels: tuple[str, ...] = ()
    interaction_status: bool = False  # serverContent.interactionStatus; the answer ends at IDLE
    client_content: ClientContentUse = "any"
    turn_coverage: str = "TURN_INCLUDES_ONLY_ACTIVITY"  # the default when setup does not say
    input_token_limit: int = 131_072
    prices: Prices | None = None
    released: str | None = None
    shut_down: str | None = None  # date
    replacement: str | None = None
    note: str = ""

    @property
    def available(self) -> bool:
        return self.status != "shut down"

    @property
    def audio_only(self) -> bool:
        return "TEXT" not in self.modalities

    def status_text(self) -> str:
        """ "stable", "shut down on 2025-12-09 (use models/gemini-3.8-live)", ..."""
        if self.shut_down:
            return f"shut down on {self.shut_down}" + (
                f" (use {self.replacement})" if self.replacement else ""
            )
        return self.status


_FLASH_LIVE_31 = Prices(0.75, 3.00, 4.50, 12.00, "Gemini API pricing page (3.1 Flash Live), 2026")
_NATIVE_AUDIO_25 = Prices(0.50, 3.00, 2.00, 12.00, "Gemini API pricing page (2.5 Flash native audio), 2025")
_UNPUBLISHED_38 = dataclasses.replace(
    _FLASH_LIVE_31, source="no published price found; assumed equal to 3.1 Flash Live"
)
_SHUT_DOWN = dict(
    status="shut down", modalities=("TEXT", "AUDIO"), shut_down="2025-12-09", replacement=DEFAULT_MODEL
)

CATALOG: tuple[LiveModel, ...] = (
    LiveModel(
        name="models/gemini-3.8-live",
        status="stable",
        modalities=("AUDIO",),
        tools_default="NON_BLOCKING",
        non_blocking_tools=True,
        proactive_audio="always",
        affective_dialog="removed",
        turn_coverage="TURN_INCLUDES_AUDIO_ACTIVITY_AND_ALL_VIDEO",
        prices=_UNPUBLISHED_38,
        released="2026-09-15",
        note="the default; every video frame sent counts",
    ),
    LiveModel(
        name="models/gemini-3.8-live-extended-thinking",
        status="stable",
        modalities=("AUDIO",),
        tools_default="NON_BLOCKING",
        non_blocking_tools=True,
        proactive_audio="always",
        affective_dialog="removed",
        thinking="level",
        thinking_levels=("low", "medium", "high"),
        interaction_status=True,
        turn_coverage="TURN_INCLUDES_AUDIO_ACTIVITY_AND_ALL_VIDEO",
        prices=_UNPUBLISHED_38,
        note="background reasoning with spoken fillers; an answer ends at interactionStatus IDLE",
    ),
    LiveModel(
        name="models/gemini-3.1-flash-live-preview",
        status="legacy",
        modalities=("AUDIO",),
        thinking="level",
        thinking_levels=THINKING_LEVELS,
        client_content="history only",
        prices=_FLASH_LIVE_31,
        released="2026-03-26",
        note="legacy preview; typed turns go as realtimeInput.text",
    ),
    LiveModel(
        name="models/gemini-live-2.5-flash-native-audio",
        status="stable",
        modalities=("AUDIO",),
        proactive_audio="opt-in",
        affective_dialog="opt-in",
        thinking="budget",
        prices=_NATIVE_AUDIO_25,
        note="GA on Vertex AI; proactive audio and affective dialog on v1alpha",
    ),
    LiveModel(
        name="models/gemini-2.5-flash-native-audio-preview-12-2025",
        status="deprecated",
        modalities=("AUDIO",),
        proactive_audio="opt-in",
        affective_dialog="opt-in",
        thinking="budget",
        prices=_NATIVE_AUDIO_25,
        replacement=DEFAULT_MODEL,
        note="deprecated preview",
    ),
    LiveModel(name="models/gemini-live-2.5-flash-preview", **_SHUT_DOWN),  # type: ignore[arg-type]
    LiveModel(name="models/gemini-2.0-flash-live-001", **_SHUT_DOWN),  # type: ignore[arg-type]
)
_BY_NAME = {model.name: model for model in CATALOG}


def full_name(model: str) -> str:
    """``gemini-3.8-live`` -> ``models/gemini-3.8-live`` (the form setup carries)."""
    model = model.strip()
    return model if "/" in model else f"models/{model}"


def lookup(model: str) -> LiveModel | None:
    """The catalog's entry for a model name (with or without ``models/``), or None when unknown."""
    return _BY_NAME.get(full_name(model))


def available() -> list[LiveModel]:
    return [model for model in CATALOG if model.available]


def shut_down_line(model: str) -> str | None:
    """The one line for a model the catalog knows to be shut down (None for any other model)."""
    entry = lookup(model)
    if entry is None or entry.available:
        return None
    return refused_line(entry.name, entry.status_text())


def refused_line(model: str, why: str, live_models: list[str] | None = None) -> str:
    """One line saying the model cannot be used, why, what can be, and how to pick it."""
    names = live_models if live_models else [m.name for m in available()]
    return (
        f"model {full_name(model)} cannot be used: {why}; Live models available now: {', '.join(names)}; "
        f"pick one with --model (or RHOLIVE_MODEL, or model = ... in the config file)"
    )


def typed_turns_as_realtime_text(model: str) -> bool:
    """True when the model takes ``clientContent`` only as seeded history: typed turns go as
    ``realtimeInput.text``. Unknown models keep ``clientContent``."""
    entry = lookup(model)
    return entry is not None and entry.client_content == "history only"


def fit_setup(config: SetupConfig) -> SetupConfig:
    """``config`` without what the chosen model refuses, in the modality it answers in.

    An audio-only model asked for TEXT answers in AUDIO with ``outputAudioTranscription`` (the transcript is
    the text); a field the model rejects (``proactiveAudio`` where it is always on, affective dialog where
    it was removed, a thinking setting of the other kind) is left out. Unknown models pass unchanged."""
    entry = lookup(config.model)
    if entry is None:
        return config
    changes: dict[str, object] = {"model": entry.name}
    if config.response_modality not in entry.modalities:
        changes["response_modality"] = entry.modalities[0]
        changes["output_transcription"] = True
    if entry.proactive_audio != "opt-in":
        changes["proactive_audio"] = None
    if entry.affective_dialog != "opt-in":
        changes["enable_affective_dialog"] = None
    if entry.thinking != "budget":
        changes["thinking_budget"] = None
    if entry.thinking != "level" or config.thinking_level not in entry.thinking_levels:
        changes["thinking_level"] = None
    if entry.proactive_audio == "none":
        changes["proactive_video"] = None  # proactiveVideo needs proactive audio
    if not entry.non_blocking_tools:
        changes["tools"] = _without_behavior(config.tools)  # blocking is all these models know
    return dataclasses.replace(config, **changes)  # type: ignore[arg-type]


def _without_behavior(tools: list[dict[str, Any]]) -> list[dict[str, Any]]:
    def plain(declaration: Any) -> Any:
        if not isinstance(declaration, dict):
            return declaration
        return {k: v for k, v in declaration.items() if k != "behavior"}

    out = []
    for tool in tools:
        declarations = tool.get("functionDeclarations") if isinstance(tool, dict) else None
        if isinstance(declarations, list):
            tool = {**tool, "functionDeclarations": [plain(d) for d in declarations]}
        out.append(tool)
    return out
