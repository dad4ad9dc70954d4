"""The assistant must not answer its own voice: a reply played on a real PulseAudio sink is heard back on the
"microphone" (the sink's monitor, i.e. speakers right next to the mic with no loss), and goes through the echo
guard into the segmenter as `rholive run` does. The same captured frames also go, unguarded, into a second
segmenter: that one opening a turn proves the echo is loud enough to matter, so the guard's silence is earned.
"""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path

import numpy as np
from pulse import MONITOR, SINK, PulseDaemon, pulse, require_tool

from rholive.audio.codec import decode_pcm16
from rholive.audio.devices import capture
from rholive.audio.echo_guard import GuardedMic
from rholive.audio.pcm import rms_dbfs
from rholive.audio.playback import Speaker
from rholive.audio.segmenter import Segmenter, TurnOpen

__all__ = ["pulse"]  # the fixture, imported for pytest

SAFETY_S = 90.0  # a hang fails instead of blocking CI; never a timing assertion
REPLY = "Sure. The meeting moved to Thursday at three, and the report is due the Monday after that."
USER = "Wait, stop, I have a question about the budget numbers for next quarter."


def espeak_wav(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / f"{name}.wav"
    subprocess.run([require_tool("espeak-ng"), "-w", str(path), text], check=True)
    return path


def espeak(tmp_path: Path, name: str, text: str, rate: int) -> bytes:
    return decode_pcm16(espeak_wav(tmp_path, name, text), rate=rate)


def scaled(pcm: bytes, gain_db: float) -> bytes:
    x = np.frombuffer(pcm, dtype="<i2").astype(np.float64) * 10 ** (gain_db / 20)
    return np.clip(x, -32768, 32767).astype("<i2").tobytes()


class Ears:
    """One mic stream into a guarded and an unguarded segmenter; the speaker reports to the guard."""

    def __init__(self, speaker: Speaker) -> None:
        self.mic = GuardedMic()
        self.guarded = Segmenter(speaker="me")
        self.raw = Segmenter(speaker="me")
        self.guarded_opens: list[TurnOpen] = []
        self.raw_opens: list[TurnOpen] = []
        self.barge_ins: list[int] = []
        self.levels: list[float] = []
        self.speaker = speaker
        loop = asyncio.get_running_loop()

        def played(monotonic_s: float, chunk_ms: int, level_dbfs: float) -> None:
            loop.call_soon_threadsafe(self.mic.guard.on_playback, monotonic_s * 1000, chunk_ms, level_dbfs)

        speaker.on_played = played

    def hear(self, t_ms: int, pcm: bytes, clock_ms: float | None) -> None:
        self.levels.append(rms_dbfs(pcm))
        self.raw_opens += [d for d in self.raw.push(pcm, t_ms) if isinstance(d, TurnOpen)]
        out = self.mic.feed(t_ms, pcm, clock_ms)
        if out.barge_in:
            self.barge_ins.append(t_ms)
            self.speaker.flush()
        for t, frame in out.frames:
            self.guarded_opens += [d for d in self.guarded.push(frame, t) if isinstance(d, TurnOpen)]


def quiet_for(levels: list[float], n: int) -> bool:
    return len(levels) > n and all(v < -80 for v in levels[-n:])


async def test_a_reply_played_on_speakers_opens_no_turn(pulse: PulseDaemon, tmp_path: Path) -> None:
    reply = espeak(tmp_path, "reply", REPLY, rate=24000)
    async with asyncio.timeout(SAFETY_S), capture(MONITOR, label="me") as mic, Speaker(SINK) as speaker:
        ears = Ears(speaker)
        fed = False
        async for t_ms, pcm in mic:
            ears.hear(t_ms, pcm, mic.clock_ms(t_ms))
            if not fed:
                for i in range(0, len(reply), 4800):  # the model's 100 ms pieces
                    speaker.feed(reply[i : i + 4800])
                speaker.end_of_reply()
                fed = True
            elif (speaker.stats.flushes or speaker.stats.played_ms >= len(reply) / 48) and quiet_for(
                ears.levels, 15
            ):
                break
    assert max(ears.levels) > -30  # the reply was really heard on the mic
    assert ears.raw_opens, "without the guard the echo opens a turn: the scene tests nothing"
    assert ears.guarded_opens == [] and ears.barge_ins == []
    assert ears.mic.guard.stats.muted_ms > 1000


async def test_louder_speech_over_the_reply_is_a_barge_in(pulse: PulseDaemon, tmp_path: Path) -> None:
    reply = scaled(espeak(tmp_path, "reply", REPLY * 2, rate=24000), -24.0)  # quiet speakers
    user_wav = espeak_wav(tmp_path, "user", USER)
    user_t: int | None = None  # mic position when the user starts talking
    async with asyncio.timeout(SAFETY_S), capture(MONITOR, label="me") as mic, Speaker(SINK) as speaker:
        ears = Ears(speaker)
        fed = False
        player: asyncio.subprocess.Process | None = None
        async for t_ms, pcm in mic:
            ears.hear(t_ms, pcm, mic.clock_ms(t_ms))
            if not fed:
                speaker.feed(reply)
                fed = True
            elif player is None and speaker.stats.played_ms > 1500:
                user_t = t_ms
                player = await asyncio.create_subprocess_exec(
                    require_tool("paplay"), f"--device={SINK}", str(user_wav), env=pulse.env
                )
            elif player is not None and player.returncode is not None and quiet_for(ears.levels, 15):
                break
    assert player is not None and player.returncode == 0 and user_t is not None
    assert ears.guarded_opens == [] or all(o.t_ms >= user_t for o in ears.guarded_opens)
    assert len(ears.barge_ins) == 1 and ears.barge_ins[0] >= user_t
    assert speaker.stats.flushes >= 1  # the rest of the reply was dropped
    assert len(ears.guarded_opens) == 1  # the interruption itself is a user turn
    # The pre-roll reaches back before the barge-in decision: the first syllable is part of the turn.
    assert ears.guarded_opens[0].onset_ms <= ears.barge_ins[0]
