"""CPU of the whole audio path, from a real PulseAudio monitor to turn decisions.

    uv run python benchmarks/audio_cpu.py [--phase-s 12] [--window-s 2] [--json PATH]

Starts its own PulseAudio daemon with a null sink (as tests/real/pulse.py does), captures the sink's
monitor through our `Capture` (16 kHz mono s16le from the server via libpulse-simple, 100 ms chunks) and feeds
every chunk to the configuration under test. Each configuration is measured at rest (nothing plays:
the monitor delivers digital silence) and while speaking (espeak-ng turns with pauses, played into
the sink with paplay in a loop). The figure is the process's user+sys CPU time per window of
captured audio, as % of one core, median over the windows (the first window of each phase is
dropped as warm-up). CPU time, not wall clock: the machine is shared, and other processes' load
must not count. The PulseAudio daemon and paplay are other processes and are not counted.

Configurations, all in the same run: capture alone (the floor), capture + the seed's energy rule
(600 ms silence), capture + Silero with a plain 800 ms timeout, capture + ours audio-only (Silero
+ pitch cues + smart-turn) and capture + ours (Silero + Whisper tiny.en on the last words before
each pause + pitch cues; with the `asr` extra), and ours again with Silero run on every window
(`quiet_floor_dbfs=None`: the cost of scoring digital silence). "Model calls" counts smart-turn and
Whisper calls.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import wave
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "real"))
os.environ.setdefault("RHOLIVE_SPEECH_CACHE", str(Path(tempfile.gettempdir()) / "rholive-speech-cache"))

from machine_info import cpu_model  # noqa: E402
from pulse import MONITOR, SINK, PulseDaemon  # noqa: E402

from rholive.audio.devices import capture  # noqa: E402
from rholive.audio.endpointing import AdaptivePolicy, LexicalPolicy  # noqa: E402
from rholive.audio.lexical import available as lexical_available  # noqa: E402
from rholive.audio.segmenter import (  # noqa: E402
    Segmenter,
    SegmenterConfig,
    TurnOpen,
    seed_rule,
    silence_rule,
)
from rholive.audio.synthetic import Clause, have_espeak, render  # noqa: E402

Consumer = Callable[[bytes, int], int]  # (pcm, t_ms) -> turns opened by this chunk


def segmenter_consumer(make: Callable[[], Segmenter]) -> Callable[[], tuple[Consumer, Segmenter | None]]:
    def build() -> tuple[Consumer, Segmenter | None]:
        seg = make()

        def feed(pcm: bytes, t_ms: int) -> int:
            return sum(isinstance(d, TurnOpen) for d in seg.push(pcm, t_ms))

        return feed, seg

    return build


def capture_only() -> tuple[Consumer, Segmenter | None]:
    return (lambda pcm, t_ms: 0), None


CONFIGS: dict[str, Callable[[], tuple[Consumer, Segmenter | None]]] = {
    "capture + resample only": capture_only,
    "seed rule (energy VAD, 600 ms)": segmenter_consumer(lambda: Segmenter(seed_rule())),
    "Silero + 800 ms silence": segmenter_consumer(lambda: Segmenter(silence_rule(800))),
    "ours, audio only (Silero + pitch cues + smart-turn)": segmenter_consumer(
        lambda: Segmenter(SegmenterConfig(policy=AdaptivePolicy()))
    ),
}
if lexical_available():
    CONFIGS["ours (Silero + last word + pitch cues)"] = segmenter_consumer(
        lambda: Segmenter(SegmenterConfig(policy=LexicalPolicy()))
    )
    CONFIGS["ours, Silero on every window (no quiet floor)"] = segmenter_consumer(
        lambda: Segmenter(SegmenterConfig(policy=LexicalPolicy(), quiet_floor_dbfs=None))
    )


def speech_wav(path: Path) -> float:
    """A loop of four turns with pauses inside and 1.5 s between them; returns its length in s."""
    turns = [
        [Clause("Could you send me the report before lunch?")],
        [Clause("So I was thinking that", 350, unfinished=True), Clause("maybe we should take a break.")],
        [Clause("When I got home,", 300), Clause("I called my sister.")],
        [Clause("Sounds good to me.")],
    ]
    conv = render(turns, gaps_ms=1500, lead_ms=300, tail_ms=1200)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(conv.to_bytes())
    return conv.duration_ms / 1000


async def measure(
    daemon: PulseDaemon,
    build: Callable[[], tuple[Consumer, Segmenter | None]],
    wav: Path | None,
    phase_s: float,
    window_s: float,
) -> dict:
    feed, seg = build()
    if seg is not None:  # load and warm the models outside the windows
        import numpy as np

        for model in (seg.turn_model, seg.transcriber):
            if model is not None:
                model(np.zeros(16000, dtype=np.int16))
    windows: list[float] = []
    opened = 0
    player: asyncio.subprocess.Process | None = None
    per_window = round(window_s * 10)  # 100 ms chunks
    n_chunks = round(phase_s * 10)
    try:
        async with asyncio.timeout(phase_s * 4 + 30), capture(MONITOR, label="them") as source:
            c0 = time.process_time()
            k = 0
            async for t_ms, pcm in source:
                if wav is not None and (player is None or player.returncode is not None):
                    player = await asyncio.create_subprocess_exec(
                        "paplay", f"--device={SINK}", str(wav), env=daemon.env, stderr=subprocess.DEVNULL
                    )
                opened += feed(pcm, t_ms)
                k += 1
                if k % per_window == 0:
                    c1 = time.process_time()
                    windows.append((c1 - c0) / window_s)
                    c0 = c1
                if k >= n_chunks:
                    break
    finally:
        if player is not None and player.returncode is None:
            player.terminate()
            await player.wait()
    kept = windows[1:] or windows
    return {
        "windows": kept,
        "cpu_pct_median": 100 * statistics.median(kept),
        "cpu_pct_max": 100 * max(kept),
        "turns_opened": opened,
        "model_calls": (seg.model_calls + seg.transcriber_calls) if seg is not None else 0,
        "audio_s": k / 10,
    }


def table(results: dict) -> str:
    lines = [
        "| configuration | at rest (silence) | while speaking | turns opened / model calls while speaking |",
        "|---|---|---|---|",
    ]
    for name, r in results.items():
        rest, talk = r["rest"], r["speaking"]
        lines.append(
            f"| {name} | {rest['cpu_pct_median']:.1f}% | {talk['cpu_pct_median']:.1f}% "
            f"| {talk['turns_opened']} / {talk['model_calls']} |"
        )
    return "\n".join(lines)


async def run(phase_s: float, window_s: float) -> dict:
    daemon = PulseDaemon(Path(tempfile.mkdtemp(prefix="pa-", dir="/tmp")))
    daemon.start()
    os.environ["PULSE_SERVER"] = daemon.server
    os.environ["XDG_RUNTIME_DIR"] = str(daemon.runtime)
    try:
        wav = daemon.root / "speech.wav"
        loop_s = speech_wav(wav)
        results: dict = {}
        for name, build in CONFIGS.items():
            results[name] = {
                "rest": await measure(daemon, build, None, phase_s, window_s),
                "speaking": await measure(daemon, build, wav, phase_s, window_s),
            }
            print(
                f"  {name}: rest {results[name]['rest']['cpu_pct_median']:.1f}%, "
                f"speaking {results[name]['speaking']['cpu_pct_median']:.1f}%",
                file=sys.stderr,
            )
        return {"configs": results, "speech_loop_s": loop_s}
    finally:
        daemon.stop()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--phase-s", type=float, default=12.0, help="captured seconds per configuration and phase"
    )
    ap.add_argument("--window-s", type=float, default=2.0, help="CPU is read over windows this long")
    ap.add_argument("--json", default=str(Path(__file__).parent / "results" / "audio_cpu.json"))
    args = ap.parse_args(argv)
    missing = [t for t in ("pulseaudio", "pactl", "paplay", "espeak-ng") if not have_tool(t)]
    if missing or not have_espeak():
        print(
            f"missing: {', '.join(missing)} (apt-get install pulseaudio pulseaudio-utils espeak-ng)",
            file=sys.stderr,
        )
        return 2
    t0 = time.perf_counter()
    out = asyncio.run(run(args.phase_s, args.window_s))
    out["machine"] = {"cpus": os.cpu_count(), "python": platform.python_version(), "cpu": cpu_model()}
    out["method"] = {"phase_s": args.phase_s, "window_s": args.window_s, "statistic": "median of windows"}
    md = table(out["configs"])
    out["markdown"] = md
    print(md)
    path = Path(args.json)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, indent=2))
    print(f"\nwrote {path} in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    return 0


def have_tool(name: str) -> bool:
    import shutil

    return shutil.which(name) is not None


if __name__ == "__main__":
    raise SystemExit(main())
