"""``rholive run``: open the devices and the screen, pick the interface, run the `Copilot` until Ctrl-C.

The interface: `--json` prints JSON objects; otherwise the overlay when the `gui` extra is installed and a
display is there (unless `--terminal`), else the terminal view. Everything that can fail because of the
machine (no microphone, no display for the capture, no Wayland X access) fails before the session starts,
with one line saying what to do. `--turns server` streams audio with the server's VAD, which leaves no place
for screen turns: it runs the audio-only `VoiceRun` (as before the copilot existed). With the overlay, the
screen capture blanks the overlay's own window: the copilot does not watch its own answers.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from rholive import interrupts
from rholive.audio import Capture, Speaker, find_device, segmenter_config
from rholive.config import Settings
from rholive.connect import open_endpoint
from rholive.conversation import TurnMode, resolve_persona
from rholive.copilot.planner import PlannerConfig, TurnPlanner
from rholive.copilot.printer import CopilotPrinter
from rholive.copilot.runtime import Controls, Copilot
from rholive.copilot.screen_source import ScreenConfig, ScreenSource
from rholive.copilot.store import TranscriptStore, default_path
from rholive.copilot.voice import Source, open_sources, run_voice
from rholive.live import Endpoint
from rholive.screen import DamageWatch, ScreenCapture, check_display, terminal_area
from rholive.ui import CopilotView


@dataclass
class RunOptions:
    mic: str | None = ""  # None: off; "": the default device
    system: str | None = ""
    output: str | None = None
    json_mode: bool = False
    turns: TurnMode = "client"
    screen: ScreenConfig | None = field(default_factory=ScreenConfig)  # None: --no-screen
    persona: str | None = None  # a preset name (--persona)
    proactive_interval_s: float | None = None
    terminal: bool = False  # --terminal: never the overlay
    store: bool = True


def _persona(name: str | None, settings: Settings) -> tuple[str, str]:
    """(system instruction, its name for the transcript): --persona > the persona setting > the settings'
    system instruction > the silent helper."""
    chosen = name or settings.persona
    return resolve_persona(name, settings), chosen or ("custom" if settings.system_instruction else "default")


def _planner(options: RunOptions) -> TurnPlanner:
    config = PlannerConfig()
    changes: dict[str, Any] = {}
    if options.screen is not None:
        changes["max_fps"] = options.screen.max_fps
    if options.proactive_interval_s is not None:
        changes["proactive_interval_s"] = options.proactive_interval_s
    return TurnPlanner(PlannerConfig(**{**config.__dict__, **changes}))


async def _session(
    settings: Settings,
    options: RunOptions,
    view: CopilotView,
    trace: CopilotPrinter | None,
    controls: Controls,
    *,
    signals: bool,
) -> int:
    persona, persona_name = _persona(options.persona, settings)
    # the overlay knows its own window; the terminal view or the --json trace print into a terminal window
    own_window = getattr(view, "screen_area", None) or (
        terminal_area() if options.screen is not None else None
    )
    screen = _screen_source(options.screen, own_window)
    if screen is not None:
        await screen.open()  # no display / Wayland without X: one clear error, before anything starts
    captures: list[Capture] = []
    speaker: Speaker | None = None
    store: TranscriptStore | None = None
    try:
        captures = open_sources(options.mic, options.system)  # a missing device fails here, naming it
        speaker = Speaker(options.output) if settings.modality == "audio" else None
        store = TranscriptStore(default_path(settings.data_dir)) if options.store else None
        for cap in captures:
            await cap.start()
        if speaker is not None:
            await speaker.start()
        copilot = Copilot(
            settings,
            audio=[Source(cap.label, cap) for cap in captures],
            screen=screen,
            view=view,
            trace=trace,
            store=store,
            speaker=speaker,
            persona=persona,
            persona_name=persona_name,
            planner=_planner(options),
            controls=controls,
        )
        if signals:
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, _stopper(sig, copilot.stop))
        heard = ", ".join(f"{cap.label}: {cap.name}" for cap in captures) or "no audio"
        seen = f"; screen: {_describe_screen(options.screen)}" if options.screen is not None else ""
        print(f"rholive: listening ({heard}){seen}; Ctrl-C to stop", file=sys.stderr, flush=True)
        async with open_endpoint(settings) as endpoint:
            return await _until_stopped(copilot, endpoint)
    finally:
        for cap in captures:
            await cap.aclose()
        if speaker is not None:
            await speaker.aclose()
        if screen is not None:
            await screen.aclose()
        if store is not None:
            store.close()


def _stopper(signum: int, stop: asyncio.Event) -> Callable[[], None]:
    def on_signal() -> None:
        interrupts.note(signum)
        stop.set()

    return on_signal


async def _until_stopped(copilot: Copilot, endpoint: Endpoint) -> int:
    """`copilot.run`, stopped like Ctrl-C when this task is cancelled (the overlay closes by cancelling): it
    winds down itself, so the Live session closes cleanly and the store marks the session ended."""
    run = asyncio.ensure_future(copilot.run(endpoint))
    try:
        return await asyncio.shield(run)
    except asyncio.CancelledError:
        copilot.stop.set()
        await run
        raise


Area = tuple[int, int, int, int]  # left, top, width, height in screen pixels


class _WithoutWindow:
    """A screen capture that blanks our own window (the overlay) in every frame: the copilot must not watch
    its answers, or each line it adds is a screen change, a screen turn, another line (a feedback loop)."""

    def __init__(self, capture: ScreenCapture, window_area: Callable[[], Area | None]) -> None:
        self._capture = capture
        self._window_area = window_area

    def grab(self) -> np.ndarray:
        frame = self._capture.grab()
        area = self._window_area()
        return frame if area is None else blank_area(frame, self._capture.area, area)

    def close(self) -> None:
        self._capture.close()


def blank_area(frame: np.ndarray, origin: dict[str, int], area: Area) -> np.ndarray:
    """`frame` (captured at `origin`'s left/top) with `area` (screen coordinates) painted black; the same
    array when they do not overlap, else a copy (mss frames are read-only views)."""
    left, top, width, height = area
    x0, y0 = max(left - origin["left"], 0), max(top - origin["top"], 0)
    x1 = min(left + width - origin["left"], frame.shape[1])
    y1 = min(top + height - origin["top"], frame.shape[0])
    if x0 >= x1 or y0 >= y1:
        return frame
    out = frame.copy()
    out[y0:y1, x0:x1] = 0
    return out


def _screen_source(
    config: ScreenConfig | None, window_area: Callable[[], Area | None] | None
) -> ScreenSource | None:
    if config is None:
        return None
    if window_area is None:
        return ScreenSource(config)
    area = window_area

    def open_grabber() -> _WithoutWindow:
        return _WithoutWindow(ScreenCapture(monitor=config.monitor, region=config.region), area)

    def open_watch() -> DamageWatch | None:  # our own window's repaints are not screen changes
        return DamageWatch.open(ignore=area)

    return ScreenSource(config, open_grabber, open_watch)


def _describe_screen(config: ScreenConfig) -> str:
    where = (
        f"region {config.region.left},{config.region.top},{config.region.width}x{config.region.height}"
        if config.region
        else f"monitor {config.monitor}"
    )
    return f"{where}, at most {config.max_fps:g} frame/s, long edge <= {config.max_edge} px"


def main(settings: Settings, options: RunOptions) -> int:
    if options.turns == "server":
        if options.screen is not None:
            print("rholive: --turns server has no screen turns: running audio only", file=sys.stderr)
        return asyncio.run(
            run_voice(
                settings,
                mic=options.mic,
                system=options.system,
                output=options.output,
                json_mode=options.json_mode,
                turns="server",
            )
        )
    _preflight(settings, options)
    controls = Controls()
    if options.json_mode:
        printer = CopilotPrinter(sys.stdout, sys.stderr, json_mode=True)
        return asyncio.run(_session(settings, options, printer, printer, controls, signals=True))
    if not options.terminal:
        from rholive.ui.overlay import OverlaySettings, overlay_available, run_with_overlay

        why_not = overlay_available() or _qt_fails()
        if why_not is None:

            def in_overlay(view: CopilotView) -> Awaitable[int]:
                return _session(settings, options, view, None, controls, signals=False)

            overlay_settings = OverlaySettings.from_mapping(settings.overlay)
            return run_with_overlay(in_overlay, controls=controls, settings=overlay_settings)
        print(f"rholive: terminal view: {why_not}", file=sys.stderr)
    return asyncio.run(_terminal(settings, options, controls))


def _preflight(settings: Settings, options: RunOptions) -> None:
    """A bad setting, or what the machine lacks (a display to capture, a sound server, a device), is one error
    line before any interface starts, not after a view has drawn itself."""
    _persona(options.persona, settings)
    try:
        segmenter_config(settings.segmenter)
    except ValueError as exc:
        raise settings.table_error("segmenter", exc) from None
    from rholive.ui.overlay import OverlaySettings

    try:  # checked even for --terminal/--json: a typo there should not wait for the day the overlay runs
        OverlaySettings.from_mapping(settings.overlay).hotkeys.bindings()
    except ValueError as exc:
        raise settings.table_error("overlay", exc) from None
    if options.screen is not None and sys.platform.startswith("linux"):
        check_display()
    if options.mic is not None:
        find_device(options.mic or None, "me")
    if options.system is not None:
        find_device(options.system or None, "them")


def _qt_fails() -> str | None:
    """Qt aborts the whole process when its platform plugin cannot load (e.g. libxcb-icccm4 missing), which
    `overlay_available` cannot see without loading it: try once in a child process."""
    probe = "from PySide6.QtWidgets import QApplication; QApplication([])"
    try:
        env = {**os.environ, "QT_DEBUG_PLUGINS": "1"}  # so the missing library is named
        done = subprocess.run(
            [sys.executable, "-c", probe], capture_output=True, text=True, timeout=20, env=env
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"the overlay could not be tried ({exc})"
    if done.returncode == 0:
        return None
    found = re.search(r"(\S+\.so[.\d]*): cannot open shared object", done.stderr)
    missing = found.group(1) if found else "a library Qt needs"
    return f"Qt cannot open the display: {missing} is missing (e.g. apt-get install libxcb-icccm4 libxcb-keysyms1)"


async def _terminal(settings: Settings, options: RunOptions, controls: Controls) -> int:
    from rholive.ui import TerminalView

    with TerminalView() as view:
        return await _session(settings, options, view, None, controls, signals=True)
