"""Overlay settings from a config table (pure; no Qt needed)."""

from __future__ import annotations

import pytest

from rholive.ui.overlay import HotkeyError, HotkeySettings, OverlaySettings


def test_from_a_config_table_with_hotkeys() -> None:
    settings = OverlaySettings.from_mapping(
        {"width": 400, "typing_effect_ms": 0, "sources": ["me"], "hotkeys": {"ask_now": "super+a"}}
    )
    assert settings.width == 400 and settings.sources == ("me",)
    assert settings.hotkeys == HotkeySettings(ask_now="super+a")
    assert settings.hotkeys.bindings()["ask_now"].qt_sequence() == "Meta+A"


def test_unknown_settings_are_named() -> None:
    with pytest.raises(ValueError, match=r"unknown overlay setting.*colour"):
        OverlaySettings.from_mapping({"colour": "red"})
    with pytest.raises(HotkeyError, match=r"unknown hotkey action.*quit"):
        OverlaySettings.from_mapping({"hotkeys": {"quit": "ctrl+q"}})
