"""What the overlay can be configured with (no Qt here, so the CLI and config can build it without the extra)."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from rholive.ui.overlay.hotkeys import HotkeySettings


@dataclass(frozen=True)
class OverlaySettings:
    width: int = 460
    height: int = 620
    opacity: float = 0.86  # of the background only; text stays opaque
    history_limit: int = 200  # turns + answers kept in the window
    typing_effect_ms: int = 0  # 0: show deltas as they arrive; >0: reveal one character per this many ms
    sources: tuple[str, ...] = ("me", "them")
    hotkeys: HotkeySettings = field(default_factory=HotkeySettings)
    global_hotkeys: bool = True  # False: only the in-window shortcuts

    def __post_init__(self) -> None:
        # checked here, once, so a wrong value is one line at start, not an error per frame in the Qt thread
        _number("width", self.width, 200, 4000, whole=True)
        _number("height", self.height, 120, 4000, whole=True)
        _number("opacity", self.opacity, 0.1, 1.0)
        _number("history_limit", self.history_limit, 1, 100_000, whole=True)
        _number("typing_effect_ms", self.typing_effect_ms, 0, 1000, whole=True)
        if not isinstance(self.global_hotkeys, bool):
            raise ValueError(f"global_hotkeys must be true or false, not {self.global_hotkeys!r}")
        unknown = set(self.sources) - {"me", "them"}
        if unknown or not self.sources:
            raise ValueError(f'sources must be a list of "me" and "them", not {list(self.sources)!r}')

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> OverlaySettings:
        """From a config table such as `[overlay]` with an optional `[overlay.hotkeys]` sub-table."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            nearest = difflib.get_close_matches(unknown[0], sorted(known), n=1)
            hint = f" (did you mean {nearest[0]!r}?)" if nearest else ""
            raise ValueError(f"unknown overlay setting(s): {', '.join(unknown)}{hint}")
        kwargs = dict(values)
        if "hotkeys" in kwargs:
            kwargs["hotkeys"] = HotkeySettings.from_mapping(kwargs["hotkeys"])
        if "sources" in kwargs:
            kwargs["sources"] = tuple(kwargs["sources"])
        return cls(**kwargs)


def _number(name: str, value: object, low: float, high: float, whole: bool = False) -> None:
    kinds = (int,) if whole else (int, float)
    if isinstance(value, bool) or not isinstance(value, kinds):
        kind = "a whole number" if whole else "a number"
        raise ValueError(f"{name} must be {kind} from {low:g} to {high:g}, not {value!r}")
    if not low <= value <= high:  # type: ignore[operator]
        raise ValueError(f"{name} must be from {low:g} to {high:g}, not {value!r}")
