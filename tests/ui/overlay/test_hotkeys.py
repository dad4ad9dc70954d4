"""Global hotkeys: spec parsing (pure), and XGrabKey for real on Xvfb with keys typed by `xdotool key`.

The Xvfb tests fail under CI=true when Xvfb, xdotool, python-xlib or (for the window test) PySide6 is missing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "real"))
from xvfb import XServer, xvfb  # noqa: F401  (fixture)

from rholive.ui.overlay import (
    GlobalHotkeys,
    Hotkey,
    HotkeyError,
    HotkeySettings,
    HotkeysUnavailable,
    parse_hotkey,
)

CI = os.environ.get("CI") == "true"


def _require(what: str, present: bool, install: str) -> None:
    if not present:
        message = f"{what} is not available ({install})"
        if CI:
            pytest.fail(message)
        pytest.skip(message)


def _xdotool() -> str:
    path = shutil.which("xdotool")
    _require("xdotool", path is not None, "apt-get install xdotool")
    assert path is not None
    try:
        import Xlib  # noqa: F401
    except ImportError:
        _require("python-xlib", False, "uv sync --extra gui")
    return path


def press(server: XServer, keys: str) -> None:
    subprocess.run(
        [_xdotool(), "key", keys], env={**os.environ, "DISPLAY": server.display}, check=True, timeout=30
    )


class Recorder:
    def __init__(self) -> None:
        self.actions: list[str] = []
        self._arrived = threading.Condition()

    def __call__(self, action: str) -> None:
        with self._arrived:
            self.actions.append(action)
            self._arrived.notify_all()

    def wait_for(self, count: int) -> list[str]:
        with self._arrived:
            assert self._arrived.wait_for(lambda: len(self.actions) >= count, timeout=10), self.actions
            return list(self.actions)


# -- parsing -------------------------------------------------------------------------------------------------
def test_parse_specs_in_any_case_and_spacing() -> None:
    assert parse_hotkey("ctrl+alt+space") == Hotkey(frozenset({"ctrl", "alt"}), "space")
    assert parse_hotkey(" Control + Shift + P ") == Hotkey(frozenset({"ctrl", "shift"}), "p")
    assert parse_hotkey("win+F12") == Hotkey(frozenset({"super"}), "f12")


def test_qt_sequence_and_x_keysym_names() -> None:
    assert parse_hotkey("alt+ctrl+space").qt_sequence() == "Ctrl+Alt+Space"
    assert parse_hotkey("super+shift+h").qt_sequence() == "Shift+Meta+H"
    assert parse_hotkey("ctrl+pageup").x_keysym_name() == "Prior"
    assert parse_hotkey("ctrl+alt+p").x_keysym_name() == "p"


@pytest.mark.parametrize(
    ("spec", "says"),
    [("p", "expected modifiers and a key"), ("ctrl+alt+", "expected"), ("hyper+x", "unknown modifier 'hyper'"),
     ("ctrl+é", "unknown key"), ("ctrl+alt+banana", "unknown key 'banana'")],
)  # fmt: skip
def test_bad_specs_say_what_is_wrong(spec: str, says: str) -> None:
    with pytest.raises(HotkeyError, match=says):
        parse_hotkey(spec)


def test_settings_reject_one_key_for_two_actions_and_unknown_actions() -> None:
    with pytest.raises(HotkeyError, match="ask_now and toggle_visible are the same key"):
        HotkeySettings(toggle_visible="alt+ctrl+SPACE").bindings()
    with pytest.raises(HotkeyError, match="unknown hotkey action"):
        HotkeySettings.from_mapping({"ask": "ctrl+a"})
    assert "toggle_visible" not in HotkeySettings.from_mapping({"toggle_visible": ""}).bindings()


def test_no_display_is_one_clear_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("XDG_SESSION_TYPE", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    with pytest.raises(HotkeysUnavailable, match="no X display"):
        GlobalHotkeys(HotkeySettings().bindings(), print).start()
    monkeypatch.setenv("WAYLAND_DISPLAY", "wayland-0")
    with pytest.raises(HotkeysUnavailable, match=r"Wayland has no global hotkeys.*own shortcuts still work"):
        GlobalHotkeys(HotkeySettings().bindings(), print).start()


# -- real X server -------------------------------------------------------------------------------------------
def test_grabbed_keys_fire_their_actions_on_xvfb(xvfb: XServer) -> None:  # noqa: F811
    _xdotool()
    recorder = Recorder()
    hotkeys = GlobalHotkeys(HotkeySettings().bindings(), recorder, display=xvfb.display)
    hotkeys.start()
    try:
        assert hotkeys.failed == {}
        press(xvfb, "ctrl+alt+p")
        press(xvfb, "p")  # no modifiers: not a hotkey
        press(xvfb, "ctrl+p")  # one modifier short: not a hotkey
        press(xvfb, "ctrl+alt+space")
        assert recorder.wait_for(2) == ["toggle_listening", "ask_now"]
        press(xvfb, "Num_Lock")  # NumLock on must not disable the hotkeys
        press(xvfb, "ctrl+alt+h")
        assert recorder.wait_for(3)[-1] == "toggle_visible"
    finally:
        hotkeys.stop()


def test_a_key_another_program_holds_is_reported_and_the_rest_work(xvfb: XServer) -> None:  # noqa: F811
    _xdotool()
    other = GlobalHotkeys({"held": parse_hotkey("ctrl+alt+h")}, lambda action: None, display=xvfb.display)
    other.start()
    recorder = Recorder()
    hotkeys = GlobalHotkeys(HotkeySettings().bindings(), recorder, display=xvfb.display)
    try:
        hotkeys.start()
        assert hotkeys.failed == {"toggle_visible": "Ctrl+Alt+H is already taken by another program"}
        assert hotkeys.grabbed() == ["ask_now", "toggle_listening", "toggle_click_through"]
        press(xvfb, "ctrl+alt+t")
        assert recorder.wait_for(1) == ["toggle_click_through"]
    finally:
        hotkeys.stop()
        other.stop()
    # Stopping releases the grabs: a new grabber gets every key.
    again = GlobalHotkeys(HotkeySettings().bindings(), recorder, display=xvfb.display)
    again.start()
    again.stop()
    assert again.failed == {}


def test_hotkeys_drive_the_overlay_window(xvfb: XServer) -> None:  # noqa: F811
    _xdotool()
    try:
        from PySide6.QtCore import QCoreApplication, QEventLoop
        from PySide6.QtWidgets import QApplication

        from rholive.ui.overlay import OverlayView, OverlayWindow
    except ImportError as exc:
        _require(f"PySide6 ({exc})", False, "uv sync --extra gui")
    app = QApplication.instance() or QApplication(["rholive-tests", "-platform", "offscreen"])  # keys: Xvfb

    class Controls:
        asked = 0

        def ask_now(self) -> None:
            self.asked += 1

        def toggle_listening(self) -> bool:
            return True

    controls = Controls()
    window = OverlayWindow(controls=controls)
    window.show()
    view = OverlayView(window)
    hotkeys = GlobalHotkeys(HotkeySettings().bindings(), view.hotkey, display=xvfb.display)
    hotkeys.start()

    def run_until(condition: object) -> None:
        deadline = time.monotonic() + 10
        while not condition():  # type: ignore[operator]
            assert time.monotonic() < deadline, "hotkey did not arrive"
            QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.WaitForMoreEvents, 50)

    try:
        press(xvfb, "ctrl+alt+t")
        run_until(window.click_through)
        press(xvfb, "ctrl+alt+space")
        run_until(lambda: controls.asked == 1)
        press(xvfb, "ctrl+alt+h")
        run_until(lambda: not window.isVisible())
    finally:
        hotkeys.stop()
        window.close()
        window.deleteLater()
        app.processEvents()
