"""Echo guard: does the assistant take its own voice, played on speakers, for a user? Does a user who talks
over it get through?

Scenes: an espeak-ng reply (24 kHz, as the model sends) is played from t=0 in 20 ms blocks; the mic hears it
after a device delay (40 or 150 ms), through a small room (exponential reverb) at an echo gain of -30..+5 dB,
plus noise at -65 dBFS (or none at all: a digital loopback, whose silent gaps once fooled the guard's gain
learner). Optionally the volume is turned up mid-reply, or a second espeak voice (the user) talks from 1.5 s
at 10..25 dB over the echo. Methods on the same mic audio:

- no guard: the mic goes straight to the turn segmenter (Silero + smart-turn); any turn is a false turn.
- mute while playing: the obvious half-duplex (mic muted while playback is audible, +300 ms tail); never
  fooled, but the user can never interrupt.
- rholive: `GuardedMic` (learned echo gain, barge-in on speech 10 dB over the expected echo for 200 ms).

    uv run python benchmarks/echo_guard.py [--seeds 3]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rholive.audio.codec import decode_pcm16
from rholive.audio.echo_guard import GuardedMic
from rholive.audio.pcm import resample, rms_dbfs
from rholive.audio.segmenter import Segmenter, TurnOpen

REPLIES = [
    "Sure. The meeting moved to Thursday at three, and the budget review is next week.",
    "The function returns the index of the first duplicate, or minus one when every value is unique.",
    "I would start with the database migration, then update the two services that read the old column.",
]
USER = "Wait, stop, I meant the other one."
USER_AT_MS = 1500
RESULTS = Path(__file__).parent / "results" / "echo_guard.json"


@dataclass(frozen=True)
class Scene:
    name: str
    coupling_db: float
    delay_ms: int
    noise_dbfs: float | None = -65.0  # None: exact silence between words
    reverb: bool = True  # False with no noise: a digital loopback (a sink's monitor used as the mic)
    step_db: float = 0.0  # volume turned up by this much at 2 s
    user_sir_db: float | None = None  # user speech this far over the echo, from USER_AT_MS


def espeak(text: str, voice: str, rate: int, where: Path) -> bytes:
    path = where / f"{abs(hash((text, voice)))}.wav"
    subprocess.run(["espeak-ng", "-v", voice, "-w", str(path), text], check=True)
    return decode_pcm16(path, rate)


def mic_audio(reply24: bytes, user16: np.ndarray, scene: Scene, seed: int) -> tuple[bytes, list[float]]:
    """The mic signal (16 kHz s16le) and the level of every 20 ms block played (what Speaker reports)."""
    rng = np.random.default_rng(seed)
    played = np.frombuffer(reply24, "<i2").astype(float)
    step_at = 2 * 24000
    played[step_at:] *= 10 ** (scene.step_db / 20)
    played = np.clip(played, -32768, 32767)
    levels = [rms_dbfs(played[i : i + 480].astype("<i2").tobytes()) for i in range(0, played.size - 479, 480)]
    reply16 = np.frombuffer(resample(played.astype("<i2").tobytes(), 24000, 16000), "<i2").astype(float)
    ir = rng.standard_normal(4000) * np.exp(-np.arange(4000) / 960.0)
    ir[0] += 8
    if not scene.reverb:
        ir = np.eye(1, 4000)[0]
    echo = np.convolve(reply16, ir / np.sqrt(np.sum(ir**2)))[: reply16.size] * 10 ** (scene.coupling_db / 20)
    delay = scene.delay_ms * 16
    mic = np.zeros(reply16.size + delay + 16000)
    mic[delay : delay + echo.size] += echo
    if scene.noise_dbfs is not None:
        mic += rng.standard_normal(mic.size) * 32768 * 10 ** (scene.noise_dbfs / 20)
    if scene.user_sir_db is not None:
        voiced = echo[np.abs(echo) > 1]
        gain = np.sqrt(np.mean(voiced**2) / np.mean(user16**2)) * 10 ** (scene.user_sir_db / 20)
        at = USER_AT_MS * 16
        mic[at : at + user16.size] += (user16 * gain)[: mic.size - at]
    return np.clip(mic, -32768, 32767).astype("<i2").tobytes(), levels


def frames(pcm: bytes) -> list[tuple[int, bytes]]:
    return [(k * 100, pcm[k * 3200 : (k + 1) * 3200]) for k in range(len(pcm) // 3200)]


def run_rholive(pcm: bytes, levels: list[float]) -> tuple[int | None, bool]:
    """(barge-in time, whether any echo-only frame reached the segmenter before the user spoke)."""
    mic = GuardedMic()
    for i, level in enumerate(levels):
        mic.guard.on_playback(i * 20, 20, level)
    leaked = False
    for t, frame in frames(pcm):
        out = mic.feed(t, frame)
        if out.barge_in:
            return t, leaked
        if t + 100 <= USER_AT_MS and any(f != bytes(len(f)) for _, f in out.frames):
            leaked = True
    return None, leaked


def first_turn(pcm: bytes, segmenter: Segmenter) -> float | None:
    for t, frame in frames(pcm):
        for decision in segmenter.push(frame, t):
            if isinstance(decision, TurnOpen):
                return decision.onset_ms
    return None


def muted_until(levels: list[float]) -> float:
    """Mute-while-playing: the mic opens 300 ms after the last audible block."""
    audible = [i for i, lvl in enumerate(levels) if lvl >= -60]
    return (audible[-1] + 1) * 20 + 300 if audible else 0.0


def scenes() -> list[Scene]:
    out: list[Scene] = []
    for delay in (40, 150):
        for coupling in (-30, -10, 0, 5):
            out.append(Scene("echo alone", coupling, delay))
        out.append(Scene("echo alone, digital loopback", 0, delay, noise_dbfs=None, reverb=False))
        for step in (6, 10):
            out.append(Scene(f"volume up +{step} dB mid-reply", -10, delay, step_db=step))
        for sir in (25, 20, 15, 10):
            for coupling in (-20, -10, 0):
                out.append(Scene(f"user {sir} dB over the echo", coupling, delay, user_sir_db=sir))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args()
    if shutil.which("espeak-ng") is None:
        print("espeak-ng is needed (apt-get install espeak-ng)", file=sys.stderr)
        return 2
    rows: dict[str, dict[str, list]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        where = Path(tmp)
        replies = [espeak(text, "en", 24000, where) for text in REPLIES]
        user16 = np.frombuffer(espeak(USER, "en-us+f3", 16000, where), "<i2").astype(float)
        for scene in scenes():
            row = rows.setdefault(scene.name, {"n": [], "raw": [], "ours": [], "latency": [], "leak": []})
            for seed in range(args.seeds):
                for reply in replies:
                    pcm, levels = mic_audio(reply, user16, scene, seed)
                    barge, leaked = run_rholive(pcm, levels)
                    raw_onset = first_turn(pcm, Segmenter(speaker="me"))
                    row["n"].append(1)
                    row["leak"].append(leaked)
                    # Without a guard, a turn that opens before the user speaks is the echo's.
                    row["raw"].append(
                        raw_onset is not None and raw_onset < USER_AT_MS + 1e9 * (scene.user_sir_db is None)
                    )
                    if scene.user_sir_db is None:
                        row["ours"].append(barge is not None)
                    else:
                        row["ours"].append(barge is not None and barge >= USER_AT_MS)
                        if barge is not None and barge >= USER_AT_MS:
                            row["latency"].append(barge + 100 - USER_AT_MS)
                        row.setdefault("mute_wait", []).append(max(0.0, muted_until(levels) - USER_AT_MS))
    print(
        "| scene | runs | no guard: turns on the echo | mute while playing | rholive | rholive echo leaked |"
    )
    print("|---|---:|---|---|---|---|")
    summary = {}
    for name, row in rows.items():
        n = len(row["n"])
        leaks = sum(row["leak"])
        if "user" in name:
            wait = statistics.median(row["mute_wait"])
            lat = f", {statistics.median(row['latency']):.0f} ms median" if row["latency"] else ""
            ours = f"{sum(row['ours'])}/{n} barge-ins{lat}"
            mute = f"0/{n} (user heard {wait / 1000:.1f} s later, after the reply)"
        else:
            ours = f"{sum(row['ours'])}/{n} false barge-ins"
            mute = f"0/{n} false"
        raw = f"{sum(row['raw'])}/{n}"
        print(f"| {name} | {n} | {raw} | {mute} | {ours} | {leaks}/{n} |")
        summary[name] = {
            "runs": n,
            "no_guard_turns": sum(row["raw"]),
            "rholive": sum(row["ours"]),
            "rholive_latency_ms": row["latency"],
            "leaked": leaks,
        }
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(summary, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
