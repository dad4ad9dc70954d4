"""run_with_overlay: Qt in the main thread, the asyncio runtime in a worker, each ending the other (offscreen Qt).

Skips locally without the gui extra, fails under CI=true.
"""

from __future__ import annotations

import asyncio
import os
import signal
import threading

import pytest

try:
    from PySide6.QtCore import QMetaObject, Qt
    from PySide6.QtWidgets import QApplication
except ImportError as exc:
    if os.environ.get("CI") == "true":
        raise RuntimeError(f"CI=true but the gui extra is not installed: {exc}") from exc
    pytest.skip(f"the gui extra (PySide6) is not installed: {exc}", allow_module_level=True)

from rholive.ui.overlay import OverlaySettings, OverlayView, overlay_available, run_with_overlay

NO_HOTKEYS = OverlaySettings(global_hotkeys=False)


@pytest.fixture(autouse=True)
def offscreen_app() -> QApplication:
    # run_with_overlay reuses an existing QApplication: make it an offscreen one (the platform as an argument,
    # so no QT_QPA_PLATFORM leaks into other tests' child processes).
    app = QApplication.instance() or QApplication(["rholive-tests", "-platform", "offscreen"])
    assert isinstance(app, QApplication)
    return app


def close_window_from_runtime(view: OverlayView) -> None:
    # As a user closing it would; queued into the Qt thread, which owns the window.
    QMetaObject.invokeMethod(view.window, "close", Qt.ConnectionType.QueuedConnection)


def test_the_runtime_ending_closes_the_window_and_gives_its_exit_code() -> None:
    seen: dict[str, OverlayView] = {}
    closed_in: list[int] = []

    async def main(view: OverlayView) -> int:
        seen["view"] = view
        # Direct: the recorder runs in whichever thread closes the window, which must be Qt's (this one).
        view.window.closed.connect(
            lambda: closed_in.append(threading.get_ident()), Qt.ConnectionType.DirectConnection
        )
        view.set_status("listening")
        view.user_turn("me", "hello")
        view.answer_delta("hi **there**")
        view.answer_done(True)
        await asyncio.sleep(0)
        return 7

    assert run_with_overlay(main, settings=NO_HOTKEYS) == 7
    window = seen["view"].window
    assert not window.isVisible()
    assert closed_in == [threading.get_ident()]
    assert [a.text for a in window.conversation.answers()] == ["hi **there**"]  # delivered before closing


def test_closing_the_window_cancels_the_runtime() -> None:
    cleaned_up: list[str] = []

    async def main(view: OverlayView) -> int:
        close_window_from_runtime(view)
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cleaned_up.append("closed the session")
            raise
        return 3

    assert run_with_overlay(main, settings=NO_HOTKEYS) == 0
    assert cleaned_up == ["closed the session"]


def test_ctrl_c_in_the_terminal_closes_the_overlay_and_stops_the_runtime() -> None:
    async def main(view: OverlayView) -> int:
        os.kill(os.getpid(), signal.SIGINT)
        await asyncio.Event().wait()
        return 3

    assert run_with_overlay(main, settings=NO_HOTKEYS) == 0
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # restored


def test_an_error_in_the_runtime_is_raised_in_the_caller() -> None:
    async def main(view: OverlayView) -> int:
        raise ValueError("bad microphone name")

    with pytest.raises(ValueError, match="bad microphone name"):
        run_with_overlay(main, settings=NO_HOTKEYS)


def test_controls_given_up_front_drive_the_buttons() -> None:
    class Controls:
        asked = 0

        def ask_now(self) -> None:
            self.asked += 1

        def toggle_listening(self) -> bool:
            return False

    controls = Controls()

    async def main(view: OverlayView) -> int:
        view.hotkey("ask_now")  # as the global hotkey thread does
        close_window_from_runtime(view)
        await asyncio.Event().wait()
        return 3

    run_with_overlay(main, controls=controls, settings=NO_HOTKEYS)
    assert controls.asked == 1


def test_without_an_x_display_hotkeys_are_off_with_one_note(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    seen: dict[str, OverlayView] = {}

    async def main(view: OverlayView) -> int:
        seen["view"] = view
        return 0

    assert run_with_overlay(main) == 0
    window = seen["view"].window
    assert "global hotkeys off: no X display" in window.status_text()
    assert not window.hide_button.isEnabled()  # nothing could show it again


def test_overlay_available_says_why_not(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    assert overlay_available() is None
    monkeypatch.delenv("QT_QPA_PLATFORM")
    reason = overlay_available()
    assert reason is not None and "DISPLAY" in reason and "WAYLAND_DISPLAY" in reason
    monkeypatch.setenv("WAYLAND_DISPLAY", "wayland-0")
    assert overlay_available() is None
