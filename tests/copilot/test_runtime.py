"""The copilot runtime against the real emulator over sockets: screen turns, audio turns with the current
frame, `<nothing>` withheld, the transcript store, pause, and a video session outliving the emulator's limit."""

from __future__ import annotations

import asyncio
import io
import json
from importlib.resources import as_file, files
from pathlib import Path

import pytest
from runtime_support import SAFETY_S, Pages, RecordingView, until

from rholive.audio.files import FileSource
from rholive.config import Settings
from rholive.conversation import End, Start
from rholive.copilot.planner import PlannerConfig, TurnPlanner
from rholive.copilot.printer import CopilotPrinter
from rholive.copilot.runtime import Copilot, copilot_setup
from rholive.copilot.screen_source import ScreenConfig, ScreenSource
from rholive.copilot.store import TranscriptStore
from rholive.copilot.voice import Source
from rholive.emulator import Emulator, EmulatorOptions
from rholive.live import Endpoint, LiveSession
from rholive.live import events as ev

SILENT_ON_SCREEN = """
rules:
  - video: true
    audio_max_s: 0
    nothing: true
default:
  echo: true
"""


def eager() -> TurnPlanner:
    """Screen turns as soon as the screen changed (no proactive interval, no quiet time)."""
    return TurnPlanner(PlannerConfig(max_fps=5.0, proactive_interval_s=0.0, quiet_s=0.0))


def asked_only() -> TurnPlanner:
    """After the first frame, screen turns only when asked; frames go inside audio turns."""
    return TurnPlanner(PlannerConfig(max_fps=5.0, proactive_interval_s=1e9, quiet_s=0.0))


class HeardPlanner(TurnPlanner):
    """The real planner, noting in order the speech it was told of and the audio turns it opened."""

    def __init__(self, config: PlannerConfig) -> None:
        super().__init__(config)
        self.heard: list[tuple[str, str]] = []

    def speech_activity(self, who: str, t: float) -> list:
        self.heard.append(("speech", who))
        return super().speech_activity(who, t)

    def audio_turn_open(self, who: str, t: float) -> list:
        self.heard.append(("open", who))
        return super().audio_turn_open(who, t)


def screen_source(pages: Pages) -> ScreenSource:
    return ScreenSource(ScreenConfig(sample_hz=10.0, max_fps=5.0, max_edge=640), open_grabber=lambda: pages)


async def start(copilot: Copilot, emu: Emulator) -> asyncio.Task[int]:
    if copilot.screen is not None:
        await copilot.screen.open()
    task = asyncio.create_task(copilot.run(Endpoint(base_url=emu.url)))
    await asyncio.wait_for(copilot.started.wait(), SAFETY_S)
    return task


async def finish(copilot: Copilot, task: asyncio.Task[int]) -> int:
    copilot.stop.set()
    code = await asyncio.wait_for(task, SAFETY_S)
    if copilot.screen is not None:
        await copilot.screen.aclose()
    return code


def test_setup_with_video_has_compression_and_the_matching_resolution() -> None:
    config = copilot_setup(
        Settings(), video=True, media_resolution="MEDIA_RESOLUTION_LOW", persona="be quiet"
    )
    assert config.compression_trigger_tokens and config.compression_target_tokens
    assert config.media_resolution == "MEDIA_RESOLUTION_LOW"
    assert config.system_instruction == "be quiet"
    assert config.activity_detection.disabled and config.input_transcription
    audio_only = copilot_setup(Settings(), video=False, media_resolution=None, persona=None)
    assert audio_only.compression_trigger_tokens is None and audio_only.media_resolution is None


async def test_screen_changes_make_screen_turns_with_their_frame(tmp_path: Path) -> None:
    pages, view = Pages(), RecordingView()
    store = TranscriptStore(tmp_path / "t.sqlite3")
    out = io.StringIO()
    copilot = Copilot(
        Settings(),
        screen=screen_source(pages),
        view=view,
        trace=CopilotPrinter(out, io.StringIO(), json_mode=True),
        store=store,
        planner=eager(),
    )
    async with Emulator(EmulatorOptions()) as emu:
        task = await start(copilot, emu)
        assert await copilot.wait_answers(1, SAFETY_S)
        await until(lambda: copilot.skipped["unchanged"] >= 3, "static frames to be skipped")
        assert copilot.turns_sent == 1  # a static screen makes no more turns
        pages.show(1)
        assert await copilot.wait_answers(2, SAFETY_S)
        assert await finish(copilot, task) == 0
        [conversation] = emu.conversations
        turns = conversation.turns
    assert [(t.video_frames, t.audio_seconds) for t in turns[:2]] == [(1, 0.0), (1, 0.0)]
    assert view.answers[:2] == [f"I saw 1 video frame ({t.video_bytes / 1000:.1f} KB)." for t in turns[:2]]
    assert ("user_turn", ("screen", "screen changed (100%)")) in view.calls
    events = [json.loads(line) for line in out.getvalue().splitlines()]
    kinds = [e["event"] for e in events]
    assert kinds.count("screen_turn") >= 2 and kinds.count("frame_sent") >= 2
    assert {"event": "frame_skipped", "reason": "unchanged"} in events
    # frame_sent comes before its screen_turn (the frame is inside the turn)
    assert kinds.index("frame_sent") < kinds.index("screen_turn")
    sent, skipped = [args for name, args in view.calls if name == "set_frames"][-1]
    assert sent >= 2 and skipped["unchanged"] >= 3
    assert "listening" in view.statuses() and "thinking" in view.statuses()


async def test_audio_turns_carry_the_current_frame_and_are_answered(tmp_path: Path) -> None:
    pages, view = Pages(cycle=True), RecordingView()  # the screen changes all the time
    store = TranscriptStore(tmp_path / "t.sqlite3")
    with as_file(files("rholive") / "data" / "demo.ogg") as sample:
        source = FileSource(sample, speed=4.0)
        copilot = Copilot(
            Settings(),
            audio=[Source("me", source)],
            screen=screen_source(pages),
            view=view,
            store=store,
            planner=HeardPlanner(asked_only().config),  # screen turns only when asked
        )
        async with source, Emulator(EmulatorOptions()) as emu:
            task = await start(copilot, emu)
            await until(lambda: copilot.audio_turns == 2, "the sample's two turns")
            assert await copilot.wait_answers(copilot.turns_sent, SAFETY_S)
            assert await finish(copilot, task) == 0
            [conversation] = emu.conversations
            turns = conversation.turns
    audio_turns = [t for t in turns if t.audio_seconds > 0]
    assert len(audio_turns) == 2
    assert all(t.video_frames >= 1 for t in audio_turns)  # the current frame went inside the turn
    # the planner heard each speaker start before the segmenter confirmed the turn (screen turns wait)
    heard = copilot.planner.heard  # type: ignore[attr-defined]
    opens = [k for k, step in enumerate(heard) if step == ("open", "me")]
    assert len(opens) == 2 and heard[opens[0] - 1] == heard[opens[1] - 1] == ("speech", "me")
    assert copilot.answers == len(turns) and len(view.answers) == len(turns)
    assert any("seconds of audio" in a for a in view.answers)
    # the store has who spoke, the input transcription (the emulator's "[n s of audio]") and the answers
    [session] = store.sessions()
    entries = store.entries(session.id)
    spoken = [e for e in entries if e.kind == "audio" and not e.is_answer]
    assert [e.who for e in spoken] == ["me", "me"]
    assert all("s of audio]" in e.text for e in spoken)
    answers = [e for e in entries if e.is_answer]
    assert [a.text for a in answers] == view.answers
    assert session.ended is not None and session.model


async def test_nothing_is_never_shown_nor_stored(tmp_path: Path) -> None:
    brain = tmp_path / "silent.yaml"
    brain.write_text(SILENT_ON_SCREEN)
    pages, view = Pages(), RecordingView()
    store = TranscriptStore(tmp_path / "t.sqlite3")
    out = io.StringIO()
    copilot = Copilot(
        Settings(),
        screen=screen_source(pages),
        view=view,
        trace=CopilotPrinter(out, io.StringIO(), json_mode=True),
        store=store,
        planner=eager(),
    )
    async with Emulator(EmulatorOptions(brain=f"script:{brain}")) as emu:
        task = await start(copilot, emu)
        assert await copilot.wait_answers(1, SAFETY_S)
        pages.show(2)
        assert await copilot.wait_answers(2, SAFETY_S)
        assert await finish(copilot, task) == 0
    assert copilot.withheld == copilot.answers >= 2
    assert view.shown_text() == "" and view.answers == []
    assert "nothing" not in out.getvalue().replace("answer_withheld", "")
    assert out.getvalue().count('"answer_withheld"') == copilot.answers
    [session] = store.sessions()
    entries = store.entries(session.id)
    assert [e for e in entries if e.is_answer] == []
    assert [e.kind for e in entries][:2] == ["screen", "screen"]


async def test_paused_copilot_sends_nothing_and_resumes() -> None:
    pages, view = Pages(), RecordingView()
    copilot = Copilot(Settings(), screen=screen_source(pages), view=view, planner=eager())
    async with Emulator(EmulatorOptions()) as emu:
        task = await start(copilot, emu)
        assert await copilot.wait_answers(1, SAFETY_S)
        done = await asyncio.to_thread(
            copilot.controls.toggle_listening
        )  # from another thread, like a hotkey
        assert done is False
        await until(lambda: not copilot.listening, "the pause to reach the loop")
        grabs = pages.grabs
        pages.show(3)
        await until(lambda: "paused" in view.statuses(), "the paused status")
        assert copilot.turns_sent == 1
        assert await asyncio.to_thread(copilot.controls.toggle_listening) is True
        assert await copilot.wait_answers(2, SAFETY_S)  # the change seen after resuming is a turn
        assert pages.grabs > grabs
        assert await finish(copilot, task) == 0


async def test_ask_now_forces_a_screen_turn_on_a_static_screen() -> None:
    pages, view = Pages(), RecordingView()
    copilot = Copilot(Settings(), screen=screen_source(pages), view=view, planner=asked_only())
    async with Emulator(EmulatorOptions()) as emu:
        task = await start(copilot, emu)
        await until(lambda: copilot.skipped["unchanged"] >= 2, "the static screen to be sampled")
        before = copilot.turns_sent
        await asyncio.to_thread(copilot.controls.ask_now)
        await until(lambda: copilot.turns_sent > before, "the asked screen turn")
        assert await copilot.wait_answers(copilot.turns_sent, SAFETY_S)
        assert await finish(copilot, task) == 0
        turns = emu.conversations[0].turns
    assert turns[-1].video_frames == 1 and turns[-1].audio_seconds == 0
    assert ("user_turn", ("screen", "asked now")) in view.calls


async def test_a_video_session_outlives_the_video_session_limit() -> None:
    limit = 1.5
    options = EmulatorOptions(video_session_limit_s=limit)
    async with Emulator(options) as emu:
        # Control: the same screen turn without compression is ended by the emulator at the limit.
        plain = copilot_setup(Settings(), video=False, media_resolution=None, persona=None)
        async with LiveSession(Endpoint(base_url=emu.url), plain) as session:
            await session.activity_start()
            await session.send_video(Pages().grab()[:64, :64, :3].tobytes())
            await session.activity_end()
            async for event in session:  # the emulator closes the connection at the limit
                if isinstance(event, ev.Reconnecting | ev.Closed):
                    break
        ended = emu.conversations[0].ended
        assert ended is not None and "Session limit" in ended

        pages, view = Pages(), RecordingView()
        copilot = Copilot(Settings(), screen=screen_source(pages), view=view, planner=eager())
        task = await start(copilot, emu)
        assert await copilot.wait_answers(1, SAFETY_S)
        loop = asyncio.get_running_loop()
        past = loop.time() + limit + 0.5
        page = 0
        while loop.time() < past:  # keep the screen changing past the limit; each change is answered
            page = (page + 1) % 4
            pages.show(page)
            assert await copilot.wait_answers(copilot.answers + 1, SAFETY_S)
        assert copilot.closed is None and "reconnecting" not in view.statuses()
        assert await finish(copilot, task) == 0
        assert emu.conversations[-1].ended is None and copilot.answers >= 3


@pytest.fixture(autouse=True)
def no_key(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("GEMINI_API_KEY", raising=False)
    monkeypatch.setenv("RHOLIVE_CONFIG", str(tmp_path / "absent.toml"))


async def test_barge_in_withdraws_the_streaming_answer_and_hides_its_tail() -> None:
    """Driven step by step on a running copilot: a reply streams, then `me` starts speaking over it."""
    view = RecordingView()
    copilot = Copilot(Settings(), screen=screen_source(Pages()), view=view, planner=asked_only())
    async with Emulator(EmulatorOptions()) as emu:
        task = await start(copilot, emu)
        await until(lambda: copilot.skipped["unchanged"] >= 1, "the first frames")
        await copilot.wait_answers(copilot.turns_sent, SAFETY_S)
        async with copilot._lock:
            await copilot._answer_text("Here is a long answer", copilot.clock())
        assert view.answer == "Here is a long answer"
        await copilot._audio_actions([Start("me", 0.0, 0.0)])  # the planner says BargeIn
        assert view.withdrawn == 1 and view.answer == ""
        async with copilot._lock:
            await copilot._answer_text(" that goes on", copilot.clock())  # the cut reply's tail
        assert view.answer == "" and "goes on" not in view.shown_text()
        async with copilot._lock:
            await copilot._on_event(ev.Interrupted())  # how the service ends a cut reply
        await copilot._audio_actions([End("me", 500.0, "end_of_turn", 500.0)])
        assert await copilot.wait_answers(copilot.answers + 1, SAFETY_S)  # the new turn is answered
        assert await finish(copilot, task) == 0
    assert view.answers[-1].startswith("I received an empty turn") or view.answers[-1].startswith("I saw")


class FlakyPages(Pages):
    """The X server hiccups: the 3rd and 4th grabs fail."""

    def grab(self):  # type: ignore[no-untyped-def]
        if self.grabs in (2, 3):
            self.grabs += 1
            raise RuntimeError("XGetImage() failed")
        return super().grab()


async def test_a_failing_capture_is_counted_reported_once_and_the_loop_goes_on() -> None:
    pages, err = FlakyPages(), io.StringIO()
    copilot = Copilot(Settings(), screen=screen_source(pages), view=RecordingView(), planner=eager(), err=err)
    async with Emulator(EmulatorOptions()) as emu:
        task = await start(copilot, emu)
        await until(lambda: copilot.skipped["unchanged"] >= 2, "frames after the failures")
        assert await finish(copilot, task) == 0
    assert copilot.skipped["capture_error"] == 2
    notes = [line for line in err.getvalue().splitlines() if "screen capture failed" in line]
    assert len(notes) == 1 and "XGetImage() failed" in notes[0]


class RecordingSpeaker:
    """A speaker that keeps what it was given (a list in memory is a sink)."""

    def __init__(self) -> None:
        self.played = bytearray()
        self.flushes = 0
        self.replies = 0
        self.on_played = None

    def feed(self, pcm: bytes) -> None:
        self.played += pcm

    def flush(self) -> None:
        self.flushes += 1

    def end_of_reply(self) -> None:
        self.replies += 1


FIRST_SILENT = """
rules:
  - turn: 1
    nothing: true
default:
  echo: true
"""


async def test_a_spoken_nothing_is_never_played(tmp_path: Path) -> None:
    """AUDIO modality: the emulator speaks `<nothing>` (espeak); its audio waits for the transcript, is dropped."""
    brain = tmp_path / "first_silent.yaml"
    brain.write_text(FIRST_SILENT)
    pages, view, speaker = Pages(), RecordingView(), RecordingSpeaker()
    copilot = Copilot(
        Settings(modality="audio"),
        screen=screen_source(pages),
        view=view,
        speaker=speaker,  # type: ignore[arg-type]
        planner=eager(),
    )
    async with Emulator(EmulatorOptions(brain=f"script:{brain}")) as emu:
        task = await start(copilot, emu)
        assert await copilot.wait_answers(1, SAFETY_S)
        assert copilot.withheld == 1 and copilot.unspoken_bytes > 0 and len(speaker.played) == 0
        pages.show(1)
        assert await copilot.wait_answers(2, SAFETY_S)
        assert await finish(copilot, task) == 0
    assert len(speaker.played) > 0 and speaker.replies == 2  # the second reply was spoken
    assert view.answers == [view.answers[0]] and view.answers[0].startswith("I saw 1 video frame")


TRULY_SILENT_ON_SCREEN = """
rules:
  - video: true
    audio_max_s: 0
    silent: true
default:
  echo: true
"""


async def test_a_model_that_chooses_silence_is_answered_not_stalled(tmp_path: Path) -> None:
    """With proactive audio the model may say nothing at all (a bare turnComplete): the planner counts the
    turn answered and goes on to the next screen turn, and the stall watchdog does not take it for a stall."""
    brain = tmp_path / "truly_silent.yaml"
    brain.write_text(TRULY_SILENT_ON_SCREEN)
    pages, view = Pages(), RecordingView()
    out = io.StringIO()
    copilot = Copilot(
        Settings(stall_timeout_s=0.5),
        screen=screen_source(pages),
        view=view,
        trace=CopilotPrinter(out, io.StringIO(), json_mode=True),
        # never give up waiting for a reply: only taking the silence for the answer lets the next turn start
        planner=TurnPlanner(
            PlannerConfig(max_fps=5.0, proactive_interval_s=0.0, quiet_s=0.0, reply_timeout_s=None)
        ),
    )
    async with Emulator(EmulatorOptions(brain=f"script:{brain}")) as emu:
        task = await start(copilot, emu)
        assert await copilot.wait_answers(1, SAFETY_S)
        pages.show(2)
        assert await copilot.wait_answers(2, SAFETY_S)  # the silence did not block the next screen turn
        assert copilot.planner.stats.silent_replies >= 1
        assert await finish(copilot, task) == 0
        [conversation] = emu.conversations
        assert conversation.connections == 1  # no stall reconnect
        assert [t.video_frames for t in conversation.turns[:2]] == [1, 1]
    assert view.answers == [] and view.shown_text() == ""
    events = [json.loads(line)["event"] for line in out.getvalue().splitlines()]
    assert "stall" not in events
