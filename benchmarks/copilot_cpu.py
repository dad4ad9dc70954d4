"""CPU and memory of the whole `rholive run` process (audio + screen at 1 FPS), at rest and active.

Real parts: an Xvfb server (1920x1080) with a Tk window on it, a PulseAudio daemon with two null sinks (`mic`,
silent, stands for the microphone; `call`, where espeak-ng speech is played, is the system audio), the Live
API emulator in its own process. Each scenario is a fresh `python -m rholive.cli run --json ...` process:

- rest: static screen, silence;
- active: the window shows a new page of text every second, and espeak-ng speech is played into the sink
  (sentences with short gaps, so turns open and close and get answered).

CPU is the process's own user+sys CPU time (psutil `cpu_times()`, all its threads), sampled every 2 s:
per window, CPU-seconds / window length, in % of one core; the table gives the median over the windows and the
RSS median. The machine is shared with other work: user+sys time of the process is what it consumed itself,
whatever else runs (wall-clock figures would not be). Baselines in the same run:

- `rholive run --no-screen` (the audio path alone);
- the seed's screen loop (screen only, no audio): 2 FPS capture, a hash of every 1000th byte to skip exact
  duplicates, every other frame sent at full resolution as JPEG quality 75 (simplejpeg; the seed used a Rust
  encoder, Pillow would be slower), base64 in a realtimeInput.video message over a LiveSession.

    uv run python benchmarks/copilot_cpu.py [--seconds 20]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import psutil
from machine_info import cpu_model

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "copilot_cpu.json"
SCREEN_APP = ROOT / "tests" / "real" / "screen_app.py"
WIDTH, HEIGHT = 1920, 1080
SENTENCES = [
    "Could you look at the function on my screen and tell me what is wrong with it?",
    "I think the loop stops one element too early, but I am not sure.",
    "And what would be a better name for this variable?",
]


# ---------------------------------------------------------------------------------------------- real parts


class Xvfb:
    def __init__(self) -> None:
        read_fd, write_fd = os.pipe()
        self.proc = subprocess.Popen(
            ["Xvfb", "-displayfd", str(write_fd), "-screen", "0", f"{WIDTH}x{HEIGHT}x24", "-nolisten", "tcp"],
            pass_fds=(write_fd,),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(write_fd)
        with os.fdopen(read_fd, "rb") as pipe:
            number = pipe.readline().strip().decode()
        if not number:
            raise RuntimeError("Xvfb did not start")
        self.display = f":{number}"

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


class Pulse:
    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="pa-bench-", dir="/tmp"))
        runtime = self.root / "run"
        runtime.mkdir(mode=0o700)
        (self.root / "home").mkdir()
        self.env = {**os.environ, "XDG_RUNTIME_DIR": str(runtime), "HOME": str(self.root / "home")}
        subprocess.run(
            [
                "pulseaudio",
                "--daemonize=yes",
                "--exit-idle-time=-1",
                "-n",
                "--load=module-native-protocol-unix",
                "--load=module-null-sink sink_name=call",
                "--load=module-null-sink sink_name=mic",
                "--load=module-always-sink",
            ],
            env=self.env,
            check=True,
            capture_output=True,
        )
        self.env["PULSE_SERVER"] = f"unix:{runtime}/pulse/native"
        for _ in range(100):
            if subprocess.run(["pactl", "info"], env=self.env, capture_output=True).returncode == 0:
                return
            time.sleep(0.1)
        raise RuntimeError("PulseAudio did not answer")

    def stop(self) -> None:
        subprocess.run(["pulseaudio", "--kill"], env=self.env, capture_output=True)
        shutil.rmtree(self.root, ignore_errors=True)


class Window:
    """tests/real/screen_app.py: `show N` draws a page of text and answers ok."""

    def __init__(self, env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(SCREEN_APP)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        self._ack()

    def _ack(self) -> None:
        assert self.proc.stdout is not None
        if self.proc.stdout.readline().strip() != "ok":
            raise RuntimeError("screen app failed")

    def show(self, page: int) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(f"show {page}\n")
        self.proc.stdin.flush()
        self._ack()

    def close(self) -> None:
        if self.proc.stdin:
            self.proc.stdin.close()
        self.proc.wait(10)


class Activity:
    """While on: a new page every second, speech played into the `call` sink (a short gap between)."""

    def __init__(self, window: Window, pulse: Pulse, wavs: list[Path]) -> None:
        self.window, self.pulse, self.wavs = window, pulse, wavs
        self.on = threading.Event()
        self.done = threading.Event()
        self.threads = [threading.Thread(target=f, daemon=True) for f in (self._pages, self._speech)]
        for thread in self.threads:
            thread.start()

    def _pages(self) -> None:
        page = 0
        while not self.done.is_set():
            if self.on.wait(0.2):
                page += 1
                self.window.show(page)
                self.done.wait(1.0)

    def _speech(self) -> None:
        i = 0
        while not self.done.is_set():
            if self.on.wait(0.2):
                wav = self.wavs[i % len(self.wavs)]
                subprocess.run(["paplay", "--device=call", str(wav)], env=self.pulse.env, check=False)
                i += 1
                self.done.wait(1.5)

    def stop(self) -> None:
        self.on.clear()
        self.done.set()
        for thread in self.threads:
            thread.join(30)


# ---------------------------------------------------------------------------------------------- measuring


WINDOW_S = 2.0  # CPU times tick at 10 ms: 2 s windows resolve 0.5 % of a core


def measure(pid: int, seconds: float) -> dict[str, Any]:
    """CPU % of one core (user+sys of the process) per WINDOW_S window, and RSS, over `seconds`."""
    proc = psutil.Process(pid)
    windows: list[float] = []
    rss: list[int] = []
    cpu = proc.cpu_times()
    last_cpu, last_t = cpu.user + cpu.system, time.monotonic()
    end = last_t + seconds
    while time.monotonic() < end:
        time.sleep(WINDOW_S)
        cpu = proc.cpu_times()
        now_cpu, now_t = cpu.user + cpu.system, time.monotonic()
        windows.append(100.0 * (now_cpu - last_cpu) / (now_t - last_t))
        rss.append(proc.memory_info().rss)
        last_cpu, last_t = now_cpu, now_t
    return {
        "cpu_pct_median": round(statistics.median(windows), 1),
        "cpu_pct_p90": round(sorted(windows)[int(0.9 * (len(windows) - 1))], 1),
        "rss_mb_median": round(statistics.median(rss) / 1e6, 1),
        "windows": len(windows),
    }


def start_emulator(env: dict[str, str]) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "rholive.cli", "emulator", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if "listening on" not in line:
        raise RuntimeError(f"emulator did not start: {line!r}")
    return proc, line.split("listening on", 1)[1].strip()


def start_run(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    out = log.open("wb")
    return subprocess.Popen([sys.executable, *args], stdout=out, stderr=subprocess.STDOUT, env=env, cwd=ROOT)


def wait_ready(log: Path, needle: str, limit_s: float = 120.0) -> None:
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        if log.exists() and needle in log.read_text(errors="replace"):
            return
        time.sleep(0.2)
    raise RuntimeError(f"{log}: {needle!r} never appeared")


def count_events(log: Path) -> dict[str, int]:
    counts: dict[str, int] = {}
    for line in log.read_text(errors="replace").splitlines():
        if line.startswith("{"):
            try:
                kind = json.loads(line).get("event", "")
            except json.JSONDecodeError:
                continue
            counts[kind] = counts.get(kind, 0) + 1
    return counts


# ---------------------------------------------------------------------------------------------- seed loop


async def seed_screen_loop(url: str) -> None:
    """The seed's screen path: 2 FPS, duplicate check on every 1000th byte, full-resolution JPEG q75."""
    import base64

    import mss
    import numpy as np
    import simplejpeg

    from rholive.live import Endpoint, LiveSession, SetupConfig

    async with LiveSession(Endpoint(base_url=url), SetupConfig()) as session:
        print("seed loop ready", flush=True)
        with mss.MSS() as sct:
            area = sct.monitors[1]
            last = b""
            next_t = time.monotonic()
            while True:
                shot = sct.grab(area)
                raw = shot.raw
                digest = hashlib.sha256(bytes(raw[::1000])).digest()
                if digest != last:
                    last = digest
                    frame = np.frombuffer(raw, np.uint8).reshape(shot.height, shot.width, 4)
                    jpeg = simplejpeg.encode_jpeg(frame, quality=75, colorspace="BGRA")
                    base64.b64encode(jpeg)  # the seed built its JSON message by hand around this
                    await session.send_video(jpeg)
                    print('{"event": "frame_sent"}', flush=True)
                next_t += 0.5
                await asyncio.sleep(max(0.0, next_t - time.monotonic()))


# ---------------------------------------------------------------------------------------------- main


def machine() -> dict[str, Any]:
    model = cpu_model()
    return {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpu_count": os.cpu_count(),
        "cpu_model": model,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=20.0, help="per phase (rest, active)")
    parser.add_argument("--seed-screen", metavar="URL", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.seed_screen:
        asyncio.run(seed_screen_loop(args.seed_screen))
        return

    work = Path(tempfile.mkdtemp(prefix="copilot-cpu-"))
    xvfb, pulse = Xvfb(), Pulse()
    env = {**pulse.env, "DISPLAY": xvfb.display, "XDG_DATA_HOME": str(work / "data")}
    env.pop("WAYLAND_DISPLAY", None)
    env.pop("GEMINI_API_KEY", None)
    wavs = []
    for i, sentence in enumerate(SENTENCES):
        wav = work / f"s{i}.wav"
        subprocess.run(["espeak-ng", "-w", str(wav), sentence], check=True)
        wavs.append(wav)
    window = Window(env)
    activity = Activity(window, pulse, wavs)
    emulator, url = start_emulator(env)
    common = ["--json", "--mic", "mic.monitor", "--system", "call.monitor", "--base-url", url]
    scenarios = [
        (
            "rholive run (audio + screen, 1 FPS, 1024 px)",
            ["-m", "rholive.cli", "run", *common],
            '"listening"',
        ),
        (
            "rholive run --no-screen (audio only)",
            ["-m", "rholive.cli", "run", "--no-screen", *common],
            '"listening"',
        ),
        (
            "seed screen loop (2 FPS, full-res JPEG, no gate; no audio)",
            [__file__, "--seed-screen", url],
            "ready",
        ),
    ]
    results: list[dict[str, Any]] = []
    try:
        for name, argv, ready in scenarios:
            log = work / f"{len(results)}.log"
            proc = start_run(argv, env, log)
            try:
                wait_ready(log, ready)
                time.sleep(3.0)  # let the first frames and model loading settle
                rest = measure(proc.pid, args.seconds)
                activity.on.set()
                active = measure(proc.pid, args.seconds)
                activity.on.clear()
            finally:
                proc.send_signal(2)
                try:
                    proc.wait(30)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
            events = count_events(log)
            results.append({"scenario": name, "rest": rest, "active": active, "events": events})
            print(f"{name}: rest {rest}, active {active}", file=sys.stderr, flush=True)
    finally:
        activity.stop()
        window.close()
        emulator.terminate()
        emulator.wait(10)
        pulse.stop()
        xvfb.stop()
    report = {
        "machine": machine(),
        "seconds_per_phase": args.seconds,
        "method": "user+sys CPU time of the measured process (psutil.cpu_times), 2 s windows, median; "
        "the machine was shared with other work",
        "results": results,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    print(table(report))


def table(report: dict[str, Any]) -> str:
    m = report["machine"]
    lines = [
        f"Machine: {m['cpu_model']}, {m['cpu_count']} cores, {m['platform']}; "
        f"{report['seconds_per_phase']:g} s per phase; CPU = user+sys of the process, % of one core, median of 2 s windows.",
        "",
        "| process | CPU at rest | CPU active | RSS at rest | RSS active | frames sent | turns |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in report["results"]:
        ev = r["events"]
        turns = ev.get("turn_close", 0) + ev.get("screen_turn", 0)
        frames = ev.get("frame_sent", "—")
        lines.append(
            f"| {r['scenario']} | {r['rest']['cpu_pct_median']}% | {r['active']['cpu_pct_median']}% "
            f"| {r['rest']['rss_mb_median']} MB | {r['active']['rss_mb_median']} MB | {frames} | {turns or '—'} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
