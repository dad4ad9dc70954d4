"""What the overlay can be configured with (no Qt here, so the CLI and config can build it without the extra)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from rholive.ui.overlay_hotkeys import HotkeySettings


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

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> OverlaySettings:
        """From a config table such as `[overlay]` with an optional `[overlay.hotkeys]` sub-table."""
        known = {f.name for f in fields(cls)}
        unknown = set(values) - known
        if unknown:
            raise ValueError(f"unknown overlay setting(s): {', '.join(sorted(unknown))}")
        kwargs = dict(values)
        if "hotkeys" in kwargs:
            kwargs["hotkeys"] = HotkeySettings.from_mapping(kwargs["hotkeys"])
        if "sources" in kwargs:
            kwargs["sources"] = tuple(kwargs["sources"])
        return cls(**kwargs)
