"""``rholive demo``: the audio and screen paths in a few seconds, no key, no microphone, no network.

A bundled spoken sample (`data/demo.ogg`, two turns made with espeak-ng by `scripts/make_demo_audio.py`) is
played like a microphone (`--speed N` times faster) through the turn segmenter into a Live session on the
embedded emulator; then a typed turn asks the time, the model calls the `get_time` tool and answers with its
result; then a bundled screenshot (`data/screen_problem.jpg`, a coding problem, made by
`scripts/make_demo_screens.py`) goes through the copilot's screen source, frame gate and turn planner as a
screen turn, and the model answers what it saw. The conversation is printed as it happens. With a key or
`--base-url` the same script runs against that endpoint instead.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from importlib.resources import as_file, files
from pathlib import Path
from typing import TextIO

import numpy as np
import simplejpeg

from rholive.audio import FileSource, segmenter_config
from rholive.config import Settings
from rholive.connect import model_refusals_explained, open_endpoint
from rholive.conversation import Conversation, TurnPump, TurnStream, session_options, voice_setup
from rholive.copilot import (
    CopilotPrinter,
    PlannerConfig,
    ScreenConfig,
    ScreenFrame,
    ScreenSource,
    TurnPlanner,
    TurnWire,
)
from rholive.emulator import Brain, CallTool, Say, UserTurn, load_brain
from rholive.live import Endpoint, LiveSession, SetupConfig, ToolRegistry

TYPED_TURN = "What time is it?"
SCREENSHOT = "screen_problem.jpg"
# The brains example of the repository when running from a checkout; a built-in one otherwise (wheel).
SCRIPT = Path(__file__).resolve().parents[2] / "examples" / "brains" / "demo.yaml"


def get_time() -> dict[str, str]:
    """The local time, as HH:MM."""
    return {"time": time.strftime("%H:%M")}


class _FallbackBrain:
    """Says how much it heard, calls get_time when asked the time."""

    def respond(self, turn: UserTurn, history: list[UserTurn]) -> list[CallTool | Say]:
        if "time" in turn.text.lower():
            return [CallTool("get_time", {})]
        if turn.text:
            return [Say(f"You said: {turn.text}")]
        return [Say(f"I heard {turn.audio_seconds:.1f} seconds of audio.")]

    def after_tool(self, name: str, args: dict, response: dict) -> list[CallTool | Say]:
        return [Say(f"The time is {response.get('time', response)}.")]


class Screenshot:
    """A grabber that shows a bundled JPEG screenshot (BGRA, like a capture)."""

    def __init__(self, name: str) -> None:
        jpeg = (files("rholive") / "data" / name).read_bytes()
        self.frame: np.ndarray = simplejpeg.decode_jpeg(jpeg, colorspace="BGRA")

    def grab(self) -> np.ndarray:
        return self.frame

    def close(self) -> None:
        pass


class _ScreenTurnPrinter:
    """What the demo shows of the wire: the screen turn, with its frames."""

    def __init__(self, printer: CopilotPrinter) -> None:
        self.printer = printer

    def screen_turn_sent(self, frames: list[ScreenFrame]) -> None:
        self.printer.screen_turn(len(frames), max(f.changed_fraction for f in frames), False)

    def frame_sent(self, frame: ScreenFrame, turn: str) -> None: ...
    def frame_skipped(self, reason: str) -> None: ...
    def barge_in(self, who: str) -> None: ...


async def screen_turn(session: LiveSession, printer: CopilotPrinter) -> None:
    """The screenshot through the screen source (gate, resize, JPEG) and the planner, as one screen turn."""
    source = await ScreenSource(ScreenConfig(), open_grabber=lambda: Screenshot(SCREENSHOT)).open()
    try:
        planner = TurnPlanner(PlannerConfig(proactive_interval_s=0.0, quiet_s=0.0))
        wire = TurnWire(session, _ScreenTurnPrinter(printer))
        now = time.monotonic()
        frame = await source.sample(now)
        if not isinstance(frame, ScreenFrame):  # the first frame always passes the gate
            raise RuntimeError(f"the demo screenshot was not sent: {frame}")
        wire.keep(frame)
        await wire.perform(planner.frame_ready(now, frame.id, frame.changed_fraction))
        await wire.perform(planner.tick(now))
    finally:
        await source.aclose()


def demo_brain() -> Brain | str:
    if SCRIPT.is_file():
        spec = f"script:{SCRIPT}"
        try:
            load_brain(spec)
            return spec
        except ValueError:
            pass  # an edited example that does not load: the demo still runs
    return _FallbackBrain()


@asynccontextmanager
async def demo_endpoint(settings: Settings, err: TextIO) -> AsyncIterator[Endpoint]:
    if not settings.uses_embedded_emulator:
        async with open_endpoint(settings) as endpoint:
            yield endpoint
        return
    from rholive.emulator import Emulator, EmulatorOptions

    # Connections that last 2.5 s, like the service's ~10 min ones sped up: the demo crosses a goAway and
    # the session resumes on a new connection without losing or repeating a turn.
    options = EmulatorOptions(
        host="127.0.0.1", port=0, brain=demo_brain(), connection_lifetime_s=2.5, goaway_notice_s=1.0
    )
    async with Emulator(options) as emu:
        print(
            f"rholive demo: embedded Live API emulator at {emu.url} (connections expire every 2.5 s)",
            file=err,
            flush=True,
        )
        endpoint = Endpoint(base_url=emu.url, api_version=settings.api_version)
        async with model_refusals_explained(endpoint, settings.model):
            yield endpoint


def demo_setup(settings: Settings) -> SetupConfig:
    """Client turns, and the screen settings of `rholive run` (mediaResolution for 1024 px frames)."""
    return replace(voice_setup(settings, "client"), media_resolution=ScreenConfig().media_resolution)


async def run_demo(
    settings: Settings, *, speed: float = 4.0, out: TextIO | None = None, err: TextIO | None = None
) -> int:
    out = out or sys.stdout  # looked up now: tests and callers swap sys.stdout
    err = err or sys.stderr
    tools = ToolRegistry()
    tools.register(get_time)
    printer = CopilotPrinter(out, err, json_mode=False)
    with as_file(files("rholive") / "data" / "demo.ogg") as sample:
        source = FileSource(sample, speed=speed)
        async with (
            source,
            demo_endpoint(settings, err) as endpoint,
            LiveSession(
                endpoint, demo_setup(settings), tools=tools, options=session_options(settings)
            ) as session,
        ):
            talk = Conversation(session, printer).start()
            print(
                f"-- a spoken sample, played at {speed:g}x through the turn segmenter", file=out, flush=True
            )
            pump = TurnPump("me", session, TurnStream(), printer, config=segmenter_config(settings.segmenter))
            await pump.run(source)
            answered = await talk.wait_answers(pump.turns)
            if answered:
                print("-- a typed turn (the model calls the get_time tool)", file=out, flush=True)
                printer.typed("me", TYPED_TURN)
                await session.send_turn(TYPED_TURN)
                answered = await talk.wait_answers(pump.turns + 1)
            if answered:
                print("-- a bundled screenshot (a coding problem) as a screen turn", file=out, flush=True)
                await screen_turn(session, printer)
                answered = await talk.wait_answers(pump.turns + 2)
            await talk.close()
    if not answered:
        print("rholive: the demo did not get every answer", file=err, flush=True)
    return 0 if answered and not (talk.closed and talk.closed.error) else 1


def main(settings: Settings, *, speed: float = 4.0) -> int:
    if not speed > 0:
        raise ValueError(f"--speed must be a positive number, got {speed}")
    segmenter_config(settings.segmenter)  # a bad [segmenter] table fails before anything starts
    return asyncio.run(run_demo(settings, speed=speed))
