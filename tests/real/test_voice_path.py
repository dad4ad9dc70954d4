"""End to end on real parts: espeak-ng speech played into a real PulseAudio null sink, captured from its
monitor by our device source, cut into turns by the segmenter, streamed by `rholive run`'s VoiceRun into a
LiveSession over real sockets to the emulator, and the reply back."""

from __future__ import annotations

import asyncio
import io
import json
import subprocess
import wave
from pathlib import Path
from typing import Any

import pytest
from pulse import MONITOR, SINK, PulseDaemon, pulse, require_tool

from rholive.audio.devices import capture
from rholive.audio.pcm import rms_dbfs
from rholive.audio.playback import Speaker
from rholive.audio.synthetic import Clause, render
from rholive.config import Settings
from rholive.conversation import Start
from rholive.copilot.voice import Source, VoiceRun
from rholive.emulator import Emulator, EmulatorOptions
from rholive.live import Endpoint

__all__ = ["pulse"]  # the fixture, imported for pytest

SAFETY_S = 60.0  # generous limits so a hang fails instead of blocking CI; never a timing assertion


def speech_file(tmp_path: Path, clauses: list[Clause]) -> tuple[Path, float]:
    """A WAV of one spoken turn and the length of its speech (seconds, from the construction)."""
    require_tool("espeak-ng")
    conv = render([clauses], lead_ms=500, tail_ms=1500)
    path = tmp_path / "turn.wav"
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(conv.to_bytes())
    turn = conv.turns[0]
    return path, (turn.end_ms - turn.start_ms) / 1000


def play(pulse: PulseDaemon, path: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [require_tool("paplay"), f"--device={SINK}", str(path)], env=pulse.env, stderr=subprocess.PIPE
    )


def lines(out: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.getvalue().splitlines()]


async def start_run(emu: Emulator, out: io.StringIO) -> tuple[VoiceRun, asyncio.Task[int]]:
    source = Source("them", capture(MONITOR, label="them"))
    runner = VoiceRun(Settings(), [source], out=out, err=io.StringIO(), json_mode=True)
    task = asyncio.create_task(runner.run(Endpoint(base_url=emu.url)))
    await asyncio.wait_for(runner.started.wait(), SAFETY_S)
    return runner, task


async def test_speech_through_the_monitor_is_one_answered_turn(pulse: PulseDaemon, tmp_path: Path) -> None:
    path, speech_s = speech_file(
        tmp_path, [Clause("Could you tell me what the weather will be like tomorrow in Paris?")]
    )
    out = io.StringIO()
    async with Emulator(EmulatorOptions()) as emu:
        runner, task = await start_run(emu, out)
        player = play(pulse, path)
        assert runner.conversation is not None
        assert await runner.conversation.wait_answers(1, SAFETY_S)
        runner.stop.set()
        assert await asyncio.wait_for(task, SAFETY_S) == 0
        assert await asyncio.to_thread(player.wait, SAFETY_S) == 0
        [conversation] = emu.conversations
        turns = conversation.turns
    events = lines(out)
    opens = [e for e in events if e["event"] == "turn_open"]
    closes = [e for e in events if e["event"] == "turn_close"]
    assert len(opens) == len(closes) == 1 and len(turns) == 1
    assert opens[0]["speaker"] == closes[0]["speaker"] == "them"
    assert closes[0]["reason"] in ("end_of_turn", "silence")
    # What the emulator heard is exactly what we sent, and it covers the whole sentence (pre-roll and the
    # closing pause on top, but not a second turn's worth).
    assert turns[0].audio_seconds == pytest.approx(closes[0]["audio_ms"] / 1000, abs=0.001)
    assert speech_s <= turns[0].audio_seconds <= speech_s + 2.0
    replies = [e for e in events if e["event"] in ("text", "output_transcription")]
    assert replies and events.index(closes[0]) < events.index(replies[0])
    assert any(e["event"] == "turn_complete" for e in events[events.index(replies[0]) :])


async def test_device_lost_mid_turn_ends_it_with_stream_end(pulse: PulseDaemon, tmp_path: Path) -> None:
    path, _ = speech_file(
        tmp_path,
        [
            Clause("This is a long sentence that keeps going for quite a while,", 300),
            Clause("so that the sink can vanish while the speaker is still talking about it."),
        ],
    )
    out = io.StringIO()
    async with Emulator(EmulatorOptions()) as emu:
        runner, task = await start_run(emu, out)
        opened = asyncio.Event()
        show = runner.printer.turn

        def observe(action: Any) -> None:
            show(action)
            if isinstance(action, Start):
                opened.set()

        runner.printer.turn = observe  # type: ignore[method-assign]
        player = play(pulse, path)
        await asyncio.wait_for(opened.wait(), SAFETY_S)
        pulse.pactl("unload-module", pulse.module_id("module-null-sink"))
        assert runner.conversation is not None
        assert await runner.conversation.wait_answers(1, SAFETY_S)
        assert await asyncio.wait_for(task, SAFETY_S) == 1  # the only source is gone: the run ends
        await asyncio.to_thread(player.wait, SAFETY_S)
        [conversation] = emu.conversations
        assert len(conversation.turns) == 1 and conversation.turns[0].audio_seconds > 0
    closes = [e for e in lines(out) if e["event"] == "turn_close"]
    assert [c["reason"] for c in closes] == ["stream_end"]
    assert len(runner.lost) == 1 and MONITOR in runner.lost[0]


class Tap:
    """A capture passed through as is, remembering how far it got and how loud it was."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream
        self.t_ms = 0.0
        self.loudest_dbfs = -120.0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream, name)  # clock_ms, name, end_reason, aclose: the capture's own

    async def __aiter__(self) -> Any:
        async for t_ms, pcm in self.stream:
            self.t_ms = t_ms
            self.loudest_dbfs = max(self.loudest_dbfs, rms_dbfs(pcm))
            yield t_ms, pcm


async def until(condition: Any, what: str) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + SAFETY_S
    while not condition():
        if loop.time() > deadline:
            raise TimeoutError(f"gave up waiting for {what}")
        await asyncio.sleep(0.05)  # polling a condition, with a deadline as the safety net


@pytest.mark.parametrize(
    ("label", "turns"),
    [("me", "server"), ("them", "client"), ("them", "server")],
    ids=["mic-server-turns", "them-client-turns", "them-server-turns"],
)
async def test_a_reply_on_speakers_is_never_heard_as_a_user_turn(
    pulse: PulseDaemon, label: str, turns: str
) -> None:
    """A spoken reply plays on the sink whose monitor is captured: as the mic next to the speakers (`me`), or
    as the other side of a call (`them`, the default sink's monitor: it answered its own voice, 7 self-answers
    in 20 s). Our playback is known to the echo guard of every source, so neither our segmenter nor the
    server's VAD ever takes it for a user turn (unguarded, the echo made 2 more turns)."""
    out = io.StringIO()
    async with Emulator(EmulatorOptions()) as emu, Speaker(SINK) as speaker:
        heard = Tap(capture(MONITOR, label=label))
        runner = VoiceRun(
            Settings(modality="audio"),
            [Source(label, heard)],  # type: ignore[arg-type]
            out=out,
            err=io.StringIO(),
            json_mode=True,
            turns=turns,  # type: ignore[arg-type]
            speaker=speaker,
        )
        task = asyncio.create_task(runner.run(Endpoint(base_url=emu.url)))
        await asyncio.wait_for(runner.started.wait(), SAFETY_S)
        assert runner.conversation is not None
        await runner.conversation.session.send_turn("Please read me the long weather report for today.")
        assert await runner.conversation.wait_answers(1, SAFETY_S)
        await until(
            lambda: speaker.stats.played_ms > 1000 and not speaker.audible, "the spoken reply to play"
        )
        played_at = heard.t_ms
        await until(lambda: heard.t_ms >= played_at + 3000, "3 s more of the source")  # the VADs' chance
        runner.stop.set()
        assert await asyncio.wait_for(task, SAFETY_S) == 0
        [conversation] = emu.conversations
        turns_heard = conversation.turns
    assert heard.loudest_dbfs > -30  # the reply was loud on the source: the scene tests something
    assert [t.text for t in turns_heard] == ["Please read me the long weather report for today."]
