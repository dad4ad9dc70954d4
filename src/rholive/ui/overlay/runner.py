"""Qt in the main thread, the asyncio runtime in a worker thread, each ending the other. See __init__.py."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
import threading
from collections.abc import Awaitable, Callable
from types import FrameType
from typing import Any

from PySide6.QtCore import QObject, Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import QApplication

from rholive import interrupts
from rholive.ui.overlay.hotkeys import GlobalHotkeys, HotkeysUnavailable
from rholive.ui.overlay.settings import OverlaySettings
from rholive.ui.overlay.view import OverlayView
from rholive.ui.overlay.window import OverlayWindow
from rholive.ui.view import CopilotControls

log = logging.getLogger("rholive.ui.overlay_runner")  # its name before the move, as logs show it
STOP_GRACE_MS = 10_000  # after the window closes, how long the runtime gets to wind down


class _Ending(QObject):
    """Carries "the runtime ended" from its thread to a slot in the Qt thread (this object lives there)."""

    ended = Signal(int)

    def __init__(self, on_ended: Callable[[int], None]) -> None:
        super().__init__()
        self._on_ended = on_ended
        self.ended.connect(self.deliver, Qt.ConnectionType.QueuedConnection)

    @Slot(int)
    def deliver(self, code: int) -> None:
        self._on_ended(code)


class RuntimeThread:
    """Runs `main(view)` on its own event loop in a daemon thread; `cancel()` is safe from any thread."""

    def __init__(self, main: Callable[[OverlayView], Awaitable[int]], view: OverlayView) -> None:
        self._main = main
        self._view = view
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[int] | None = None
        self._cancel_requested = False
        self.cancelled_by_ui = False
        self.exit_code: int | None = None
        self.error: BaseException | None = None
        self.on_end: Callable[[int], None] = lambda code: None
        self._thread = threading.Thread(target=self._run, name="rholive-runtime", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def join(self, timeout: float | None = None) -> bool:
        self._thread.join(timeout)
        return not self._thread.is_alive()

    async def _wrapped(self) -> int:
        with self._lock:
            self._loop = asyncio.get_running_loop()
            self._task = asyncio.current_task()  # type: ignore[assignment]
            if self._cancel_requested:
                raise asyncio.CancelledError
        return await self._main(self._view)

    def _run(self) -> None:
        code = 1
        try:
            with asyncio.Runner() as runner:
                code = runner.run(self._wrapped())
        except asyncio.CancelledError:
            code = 0 if self.cancelled_by_ui else 1
        except BaseException as exc:  # re-raised in the main thread by run_with_overlay
            self.error = exc
            code = 1
        finally:
            self.exit_code = code
            self.on_end(code)

    def cancel(self) -> None:
        with self._lock:
            self.cancelled_by_ui = True
            self._cancel_requested = True
            if self._loop is not None and self._task is not None:
                self._loop.call_soon_threadsafe(self._task.cancel)


def _start_hotkeys(settings: OverlaySettings, view: OverlayView) -> GlobalHotkeys | None:
    if not settings.global_hotkeys:
        return None
    hotkeys = GlobalHotkeys(settings.hotkeys.bindings(), view.hotkey)
    try:
        hotkeys.start()
    except HotkeysUnavailable as exc:
        log.warning("%s", exc)
        view.note(str(exc))
        return None
    if hotkeys.failed:
        message = "global hotkeys not grabbed: " + "; ".join(hotkeys.failed.values())
        log.warning("%s", message)
        view.note(message)
    return hotkeys


def run_with_overlay(
    main: Callable[[OverlayView], Awaitable[int]],
    *,
    controls: CopilotControls | None = None,
    settings: OverlaySettings | None = None,
) -> int:
    settings = settings or OverlaySettings()
    app = QApplication.instance() or QApplication([sys.argv[0] if sys.argv else "rholive"])
    assert isinstance(app, QApplication)
    app.setQuitOnLastWindowClosed(False)  # the app quits when the runtime has stopped, not before
    window = OverlayWindow(settings, controls)
    view = OverlayView(window)
    runtime = RuntimeThread(main, view)
    ending = {"runtime_done": False}

    def runtime_ended(_code: int) -> None:
        ending["runtime_done"] = True
        window.close()
        app.quit()

    def window_closed() -> None:
        if not ending["runtime_done"]:
            runtime.cancel()
            QTimer.singleShot(STOP_GRACE_MS, app.quit)

    carrier = _Ending(runtime_ended)
    runtime.on_end = carrier.ended.emit
    window.closed.connect(window_closed)

    # Ctrl+C in the terminal, or a polite kill (SIGTERM, as the terminal view also takes it): close the window,
    # which stops the runtime. Python runs signal handlers only between Qt events, so a timer keeps them flowing.
    previous: dict[int, Any] = {}
    if threading.current_thread() is threading.main_thread():

        def on_signal(signum: int, _frame: FrameType | None) -> None:
            interrupts.note(signum)
            window.close()

        for sig in (signal.SIGINT, signal.SIGTERM):
            previous[sig] = signal.signal(sig, on_signal)
    pulse = QTimer()
    pulse.timeout.connect(lambda: None)
    pulse.start(200)

    hotkeys = _start_hotkeys(settings, view)
    window.set_global_hotkeys(set(hotkeys.grabbed()) if hotkeys is not None else set())
    window.place_top_right()
    window.show()
    runtime.start()
    try:
        app.exec()
    finally:
        pulse.stop()
        if hotkeys is not None:
            hotkeys.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    # Normally the runtime has already ended (that is what quit the app); else the grace timer fired.
    if not runtime.join(timeout=1.0):
        print(
            f"rholive: the runtime did not stop within {STOP_GRACE_MS // 1000} s of closing", file=sys.stderr
        )
        return 1
    if runtime.error is not None:
        raise runtime.error
    return runtime.exit_code if runtime.exit_code is not None else 1
