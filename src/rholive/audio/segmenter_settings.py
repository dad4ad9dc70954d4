"""The `[segmenter]` table of the config file → a `SegmenterConfig`.

    [segmenter]
    rule = "rholive"       # ours (default) | "seed": energy VAD, fixed silence, cap | "silence": Silero + timeout
    preroll_ms = 400       # any SegmenterConfig field of a number or flag may be set, e.g.
    open_ms = 192          # open_ms, resume_ms, preroll_ms, max_turn_ms, speech_threshold, ...
    close_silence_ms = 600 # rule = "seed" or "silence": the silence that closes a turn
    open_voiced_frames = 4 # rule = "seed": voiced 20 ms frames that open a turn

The seed's parameters (open frames, close silence, max turn) stay available this way. Unknown keys are an
error naming them, so a typo does not silently leave the default in place.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields, replace
from typing import Any

from rholive.audio.segmenter import SegmenterConfig, seed_rule, silence_rule

RULES = ("rholive", "seed", "silence")
_RULE_KEYS = {"rule", "close_silence_ms", "open_voiced_frames"}
_TUNABLE = {f.name for f in fields(SegmenterConfig)} - {"policy"}


def segmenter_config(values: Mapping[str, Any] | None) -> SegmenterConfig:
    values = dict(values or {})
    unknown = set(values) - _RULE_KEYS - _TUNABLE
    if unknown:
        valid = ", ".join(sorted(_RULE_KEYS | _TUNABLE))
        raise ValueError(f"unknown [segmenter] setting(s): {', '.join(sorted(unknown))} (valid: {valid})")
    rule = values.pop("rule", "rholive")
    close_ms = values.pop("close_silence_ms", None)
    open_frames = values.pop("open_voiced_frames", None)
    if rule not in RULES:
        raise ValueError(f"[segmenter] rule must be one of {', '.join(RULES)}, not {rule!r}")
    if rule == "rholive" and (close_ms is not None or open_frames is not None):
        raise ValueError('[segmenter] close_silence_ms / open_voiced_frames need rule = "seed" or "silence"')
    if rule == "silence" and open_frames is not None:
        raise ValueError('[segmenter] open_voiced_frames needs rule = "seed"')
    if rule == "seed":
        base = seed_rule(
            open_voiced_frames=4 if open_frames is None else int(open_frames),
            close_silence_ms=600.0 if close_ms is None else float(close_ms),
            max_turn_ms=float(values.pop("max_turn_ms", 8000.0)),
        )
    elif rule == "silence":
        base = silence_rule(800.0 if close_ms is None else float(close_ms))
    else:
        base = SegmenterConfig()
    return replace(base, **values) if values else base
