"""The whole copilot on real parts: a Tk window on a real Xvfb server captured with mss, espeak-ng speech played
into a real PulseAudio null sink and captured from its monitor, the Live session over real sockets to the
emulator with a script brain, the real transcript store on disk."""

from __future__ import annotations

import asyncio
import io
import json
import os
from pathlib import Path
from typing import Any

import pytest
from pulse import MONITOR, PulseDaemon, pulse
from test_screen_xvfb import Window
from test_voice_path import play, speech_file, until
from xvfb import XServer, xvfb

from rholive.audio.devices import capture
from rholive.audio.synthetic import Clause
from rholive.config import Settings
from rholive.conversation import Start
from rholive.copilot.planner import PlannerConfig, TurnPlanner
from rholive.copilot.printer import CopilotPrinter
from rholive.copilot.runtime import Copilot
from rholive.copilot.screen_source import ScreenConfig, ScreenSource
from rholive.copilot.store import TranscriptStore
from rholive.copilot.voice import Source
from rholive.emulator import Emulator, EmulatorOptions
from rholive.live import Endpoint

__all__ = ["pulse", "xvfb"]  # fixtures, imported for pytest

SAFETY_S = 60.0  # generous limits so a hang fails instead of blocking CI; never a timing assertion
BRAIN = Path(__file__).resolve().parents[2] / "examples" / "brains" / "copilot_silent.yaml"


class View:
    """Records what the user would see."""

    def __init__(self) -> None:
        self.shown = ""
        self.answers: list[str] = []
        self.turns: list[tuple[str, str]] = []
        self.frames: tuple[int, dict[str, int]] = (0, {})

    def set_status(self, status: str, detail: str = "") -> None: ...
    def set_level(self, source: str, dbfs: float) -> None: ...
    def set_tokens(self, total: int) -> None: ...
    def set_cost(self, usd: float | None) -> None: ...

    def set_frames(self, sent: int, skipped: dict[str, int]) -> None:
        self.frames = (sent, dict(skipped))

    def user_turn(self, who: str, text: str) -> None:
        self.turns.append((who, text))

    def answer_delta(self, text: str) -> None:
        self.shown += text

    def answer_done(self, shown: bool) -> None:
        if shown:
            self.answers.append(self.shown)
        self.shown = ""


async def test_copilot_on_a_real_screen_and_a_real_sink(
    xvfb: XServer,
    pulse: PulseDaemon,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DISPLAY", xvfb.display)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    wav, _ = speech_file(
        tmp_path, [Clause("Could you look at the function on my screen and tell me what is wrong?")]
    )
    window = Window({**os.environ, "DISPLAY": xvfb.display})
    store = TranscriptStore(tmp_path / "transcripts.sqlite3")
    view, out = View(), io.StringIO()
    screen = ScreenSource(ScreenConfig(max_fps=1.0, max_edge=1024))
    planner = TurnPlanner(PlannerConfig(max_fps=1.0, proactive_interval_s=0.0, quiet_s=0.0))
    try:
        await screen.open()
        async with Emulator(EmulatorOptions(brain=f"script:{BRAIN}")) as emu:
            copilot = Copilot(
                Settings(),
                audio=[Source("them", capture(MONITOR, label="them"))],
                screen=screen,
                view=view,
                trace=CopilotPrinter(out, io.StringIO(), json_mode=True),
                store=store,
                planner=planner,
            )
            opened = asyncio.Event()
            turn = copilot.trace.turn  # type: ignore[union-attr]

            def observe(action: Any) -> None:
                turn(action)
                if isinstance(action, Start):
                    opened.set()

            copilot.trace.turn = observe  # type: ignore[union-attr, method-assign]
            task = asyncio.create_task(copilot.run(Endpoint(base_url=emu.url)))
            await asyncio.wait_for(copilot.started.wait(), SAFETY_S)
            # 1. the first frame of the screen is a screen turn; the brain stays silent on it
            assert await copilot.wait_answers(1, SAFETY_S)
            await until(lambda: copilot.skipped["unchanged"] >= 2, "the static screen to be skipped")
            assert copilot.screen_turns == 1
            # 2. a new page of text: another screen turn with its frame inside
            await asyncio.to_thread(window.show, 1)
            assert await copilot.wait_answers(2, SAFETY_S)
            assert copilot.screen_turns == 2
            # 3. speech into the sink; the screen changes while it is spoken: the frame goes inside the turn
            player = play(pulse, wav)
            await asyncio.wait_for(opened.wait(), SAFETY_S)
            await asyncio.to_thread(window.show, 2)
            await until(lambda: copilot.audio_turns == 1, "the spoken turn to close")
            assert await copilot.wait_answers(copilot.turns_sent, SAFETY_S)
            assert await asyncio.to_thread(player.wait, SAFETY_S) == 0
            copilot.stop.set()
            assert await asyncio.wait_for(task, SAFETY_S) == 0
            [conversation] = emu.conversations
            turns = conversation.turns
    finally:
        await screen.aclose()
        window.close()
    screen_turns = [t for t in turns if t.audio_seconds == 0]
    spoken = [t for t in turns if t.audio_seconds > 0]
    assert len(screen_turns) >= 2 and all(t.video_frames == 1 for t in screen_turns)
    assert len(spoken) == 1 and spoken[0].video_frames >= 1
    # <nothing> (the brain's answer to screen turns) never reached the view, the trace or the store
    heard = f"{spoken[0].audio_seconds:.1f}"
    assert view.answers == [f"I heard {heard} seconds and saw {spoken[0].video_frames} frame(s)."]
    assert "nothing" not in out.getvalue().replace("answer_withheld", "")
    assert copilot.withheld == len(screen_turns)
    events = [json.loads(line) for line in out.getvalue().splitlines()]
    kinds = [e["event"] for e in events]
    assert kinds.count("screen_turn") == len(screen_turns)
    frames_in_audio = [e for e in events if e["event"] == "frame_sent" and e["turn"] == "audio"]
    opened_at, closed_at = kinds.index("turn_open"), kinds.index("turn_close")
    assert frames_in_audio and all(opened_at < events.index(e) < closed_at for e in frames_in_audio)
    sent, skipped = view.frames
    assert sent == len(screen_turns) + len(frames_in_audio) and skipped.get("unchanged", 0) >= 2
    # the store has the session: who spoke, the screen turns, the one answer
    [session] = store.sessions()
    entries = store.entries(session.id)
    assert [e.who for e in entries if not e.is_answer and e.kind == "audio"] == ["them"]
    assert sum(1 for e in entries if e.kind == "screen" and not e.is_answer) == len(screen_turns)
    assert [e.text for e in entries if e.is_answer] == view.answers
    assert session.ended is not None
