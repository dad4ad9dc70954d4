"""CPU and memory of the whole `rholive run` process (audio + screen at 1 FPS), at rest and active, in the views
users run: the overlay (Qt on Xvfb, `gui` extra), the terminal view (in a pseudo-terminal, 120x40) and `--json`.

Real parts: an Xvfb server (1920x1080) with a Tk window on it, a PulseAudio daemon with two null sinks (`mic`,
whose monitor is remapped to a source `room`, the microphone: room noise at --noise-dbfs is played into it, so "at rest" is a quiet room, not
digital silence; `call`, where espeak-ng speech is played, is the system audio), the Live API emulator in its
own process. Each scenario is a fresh `rholive run` process:

- rest: static screen, room noise on the mic, nothing on the call;
- active: the window shows a new page of text every second, and espeak-ng speech is played into the call sink
  (sentences with short gaps, so turns open and close and get answered).

CPU is the process's own user+sys CPU time (psutil `cpu_times()`, all its threads). Per phase: the mean (CPU
seconds of the whole phase / its wall time: Whisper's bursts count in full) and the median and p90 of 2 s
windows, in % of one core. The PulseAudio daemon's and the X server's CPU over the same phase are reported
apart (`pulse_pct`, `x_pct`): capture conversion the sound server does for us, and the drawing the overlay asks
of the X server, are costs of running the copilot too. The machine is shared with other work: user+sys time
of a process is what it consumed itself, whatever else runs (wall-clock figures would not be).

`--baseline SRC` runs every scenario a second time with another source tree first on PYTHONPATH (e.g.
`git archive fa8618a src | tar -x -C /tmp/base` then `--baseline /tmp/base/src`), alternating with ours, so
before/after come from the same run. Other scenarios (`--scenarios`): `no-screen` (`rholive run --no-screen
--json`, the audio path alone) and `seed` (the seed's screen loop: 2 FPS capture, a hash of every 1000th byte
to skip exact duplicates, every changed frame sent at full resolution as JPEG quality 75 with simplejpeg, base64
in a realtimeInput.video message over a LiveSession).

    uv run python benchmarks/copilot_cpu.py [--seconds 20] [--scenarios overlay,terminal,json] [--baseline SRC]
"""

from __future__ import annotations

import argparse
import asyncio
import fcntl
import hashlib
import json
import os
import platform
import pty
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
import wave
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import psutil
from machine_info import cpu_model

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "copilot_cpu.json"
SCREEN_APP = ROOT / "tests" / "real" / "screen_app.py"
WIDTH, HEIGHT = 1920, 1080
TERM_COLS, TERM_ROWS = 120, 40
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
                # a source that is not a monitor, so `rholive run` labels it `me` as a real microphone
                "--load=module-remap-source source_name=room master=mic.monitor",
                "--load=module-always-sink",
            ],
            env=self.env,
            check=True,
            capture_output=True,
        )
        self.env["PULSE_SERVER"] = f"unix:{runtime}/pulse/native"
        for _ in range(100):
            if subprocess.run(["pactl", "info"], env=self.env, capture_output=True).returncode == 0:
                break
            time.sleep(0.1)
        else:
            raise RuntimeError("PulseAudio did not answer")
        pid_file = runtime / "pulse" / "pid"
        self.pid = int(pid_file.read_text().split()[0]) if pid_file.exists() else None

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


def noise_wav(path: Path, dbfs: float, seconds: float = 30.0, rate: int = 16000) -> None:
    """White noise at `dbfs` RMS as the copilot hears it: mono at 16 kHz (the server upmixes and resamples it
    for the sink, and our 16 kHz mono capture gets the same level back; 48 kHz stereo noise would lose ~8 dB
    to the downmix and the band limit and fall under the segmenter's quiet floor)."""
    rng = np.random.default_rng(16)
    amplitude = 32768.0 * 10 ** (dbfs / 20)
    samples = rng.normal(0.0, amplitude, int(seconds * rate))
    pcm = np.clip(np.rint(samples), -32768, 32767).astype("<i2")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(pcm.tobytes())


class RoomNoise:
    """The noise file played into the `mic` sink in a loop, for the whole benchmark."""

    def __init__(self, pulse: Pulse, wav: Path) -> None:
        self.pulse, self.wav = pulse, wav
        self.done = threading.Event()
        self.proc: subprocess.Popen[bytes] | None = None
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _loop(self) -> None:
        while not self.done.is_set():
            self.proc = subprocess.Popen(["paplay", "--device=mic", str(self.wav)], env=self.pulse.env)
            self.proc.wait()

    def stop(self) -> None:
        self.done.set()
        if self.proc is not None:
            self.proc.terminate()
        self.thread.join(10)


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


class Terminal:
    """A pseudo-terminal of TERM_COLS x TERM_ROWS for the terminal view; what it draws is read and dropped."""

    def __init__(self) -> None:
        self.master, self.slave = pty.openpty()
        fcntl.ioctl(self.slave, termios.TIOCSWINSZ, struct.pack("HHHH", TERM_ROWS, TERM_COLS, 0, 0))
        self.bytes_read = 0
        self.thread = threading.Thread(target=self._drain, daemon=True)
        self.thread.start()

    def _drain(self) -> None:
        while True:
            try:
                data = os.read(self.master, 65536)
            except OSError:
                return
            if not data:
                return
            self.bytes_read += len(data)

    def close(self) -> None:
        for fd in (self.slave, self.master):
            try:
                os.close(fd)
            except OSError:
                pass


# ---------------------------------------------------------------------------------------------- measuring


WINDOW_S = 2.0  # CPU times tick at 10 ms: 2 s windows resolve 0.5 % of a core


def _cpu_s(proc: psutil.Process | None) -> float:
    if proc is None:
        return 0.0
    try:
        cpu = proc.cpu_times()
    except psutil.Error:
        return 0.0
    return cpu.user + cpu.system


def measure(pid: int, seconds: float, others: dict[str, int | None]) -> dict[str, Any]:
    """CPU % of one core (user+sys of the process): mean over the phase, median/p90 of WINDOW_S windows; RSS;
    and the mean CPU of `others` (the sound server, the X server) over the same phase."""
    proc = psutil.Process(pid)
    side = {name: psutil.Process(p) if p else None for name, p in others.items()}
    side_start = {name: _cpu_s(p) for name, p in side.items()}
    windows: list[float] = []
    rss: list[int] = []
    first_cpu = last_cpu = _cpu_s(proc)
    first_t = last_t = time.monotonic()
    end = last_t + seconds
    while time.monotonic() < end:
        time.sleep(WINDOW_S)
        now_cpu, now_t = _cpu_s(proc), time.monotonic()
        windows.append(100.0 * (now_cpu - last_cpu) / (now_t - last_t))
        rss.append(proc.memory_info().rss)
        last_cpu, last_t = now_cpu, now_t
    wall = last_t - first_t
    result = {
        "cpu_pct_mean": round(100.0 * (last_cpu - first_cpu) / wall, 2),
        "cpu_pct_median": round(statistics.median(windows), 1),
        "cpu_pct_p90": round(sorted(windows)[int(0.9 * (len(windows) - 1))], 1),
        "rss_mb_median": round(statistics.median(rss) / 1e6, 1),
        "windows": len(windows),
    }
    for name, p in side.items():
        result[f"{name}_pct"] = round(100.0 * (_cpu_s(p) - side_start[name]) / wall, 2) if p else None
    return result


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


def wait_ready(log: Path, needle: str, proc: subprocess.Popen[bytes], limit_s: float = 120.0) -> None:
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        if log.exists() and needle in log.read_text(errors="replace"):
            return
        if proc.poll() is not None:
            break
        time.sleep(0.2)
    raise RuntimeError(f"{log}: {needle!r} never appeared:\n{log.read_text(errors='replace')[-2000:]}")


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


# ---------------------------------------------------------------------------------------------- scenarios


@dataclass(frozen=True)
class Scenario:
    key: str  # what --scenarios names
    name: str  # the table's row
    argv: list[str]  # after `python`
    terminal: bool = False  # stdout on a pseudo-terminal
    ready: str = "rholive: listening"


def scenarios(url: str) -> dict[str, Scenario]:
    devices = ["--mic", "room", "--system", "call.monitor", "--base-url", url]
    run = ["-m", "rholive.cli", "run", *devices]
    return {
        s.key: s
        for s in (
            Scenario("overlay", "rholive run (overlay)", run),
            Scenario("terminal", "rholive run --terminal", [*run, "--terminal"], terminal=True),
            Scenario("json", "rholive run --json", [*run, "--json"]),
            Scenario("no-screen", "rholive run --no-screen --json", [*run, "--no-screen", "--json"]),
            Scenario(
                "seed",
                "seed screen loop (2 FPS, full-res JPEG; no audio)",
                [__file__, "--seed-screen", url],
                ready="ready",
            ),
        )
    }


def run_one(
    scenario: Scenario,
    env: dict[str, str],
    log: Path,
    seconds: float,
    activity: Activity,
    others: dict[str, int | None],
) -> dict[str, Any]:
    term = Terminal() if scenario.terminal else None
    with log.open("wb") as out:
        stdout: Any = term.slave if term is not None else out
        proc = subprocess.Popen(
            [sys.executable, *scenario.argv],
            stdout=stdout,
            stderr=out,
            stdin=subprocess.DEVNULL,
            env=env,
            cwd=ROOT,
        )
    try:
        wait_ready(log, scenario.ready, proc)
        time.sleep(3.0)  # let the first frames and model loading settle
        rest = measure(proc.pid, seconds, others)
        activity.on.set()
        active = measure(proc.pid, seconds, others)
        activity.on.clear()
        time.sleep(2.0)  # the last sentence ends before the next scenario's rest
    finally:
        proc.send_signal(2)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if term is not None:
            term.close()
    result: dict[str, Any] = {
        "rest": rest,
        "active": active,
        "events": count_events(log),
        "exit": proc.returncode,
    }
    if term is not None:
        result["terminal_bytes"] = term.bytes_read
    return result


# ---------------------------------------------------------------------------------------------- main


def machine(load_at_start: tuple[float, ...]) -> dict[str, Any]:
    model = cpu_model()
    return {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpu_count": os.cpu_count(),
        "cpu_model": model,
        "loadavg_at_start": [round(x, 2) for x in load_at_start],
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=20.0, help="per phase (rest, active)")
    parser.add_argument(
        "--scenarios", default="overlay,terminal,json", help="overlay,terminal,json,no-screen,seed"
    )
    parser.add_argument("--baseline", metavar="SRC", help="another tree's src/ to run each scenario with too")
    parser.add_argument("--repeats", type=int, default=1, help="fresh processes per scenario and tree")
    parser.add_argument("--noise-dbfs", type=float, default=-58.0, help="room noise on the mic (RMS)")
    parser.add_argument("--json-out", type=Path, default=RESULTS)
    parser.add_argument("--seed-screen", metavar="URL", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.seed_screen:
        asyncio.run(seed_screen_loop(args.seed_screen))
        return

    load_at_start = os.getloadavg()
    work = Path(tempfile.mkdtemp(prefix="copilot-cpu-"))
    xvfb, pulse = Xvfb(), Pulse()
    env = {**pulse.env, "DISPLAY": xvfb.display, "XDG_DATA_HOME": str(work / "data")}
    env |= {"TERM": "xterm-256color", "COLORTERM": "truecolor", "QT_QPA_PLATFORM": "xcb"}
    for name in ("WAYLAND_DISPLAY", "GEMINI_API_KEY", "PYTHONPATH", "NO_COLOR"):
        env.pop(name, None)
    wavs = []
    for i, sentence in enumerate(SENTENCES):
        wav = work / f"s{i}.wav"
        subprocess.run(["espeak-ng", "-w", str(wav), sentence], check=True)
        wavs.append(wav)
    noise_wav(work / "noise.wav", args.noise_dbfs)
    noise = RoomNoise(pulse, work / "noise.wav")
    window = Window(env)
    activity = Activity(window, pulse, wavs)
    emulator, url = start_emulator(env)
    known = scenarios(url)
    chosen = [known[key.strip()] for key in args.scenarios.split(",") if key.strip()]
    trees: list[tuple[str, dict[str, str]]] = [("ours", env)]
    if args.baseline:
        base_src = str(Path(args.baseline).resolve())
        trees.insert(0, ("baseline", {**env, "PYTHONPATH": base_src}))
    others = {"pulse": pulse.pid, "x": xvfb.proc.pid}
    results: list[dict[str, Any]] = []
    try:
        for repeat in range(args.repeats):
            for scenario in chosen:
                for tree, tree_env in trees:  # alternating, so drifting load hits both trees alike
                    if scenario.key == "seed" and tree != "ours":
                        continue
                    log = work / f"{len(results)}.log"
                    one = run_one(scenario, tree_env, log, args.seconds, activity, others)
                    results.append(
                        {
                            "scenario": scenario.name,
                            "key": scenario.key,
                            "tree": tree,
                            "repeat": repeat,
                            **one,
                        }
                    )
                    print(
                        f"{scenario.name} [{tree}]: rest {one['rest']}, active {one['active']}",
                        file=sys.stderr,
                        flush=True,
                    )
    finally:
        activity.stop()
        noise.stop()
        window.close()
        emulator.terminate()
        emulator.wait(10)
        pulse.stop()
        xvfb.stop()
    report = {
        "machine": machine(load_at_start),
        "loadavg_at_end": [round(x, 2) for x in os.getloadavg()],
        "seconds_per_phase": args.seconds,
        "repeats": args.repeats,
        "noise_dbfs": args.noise_dbfs,
        "baseline": args.baseline,
        "method": "user+sys CPU time of the measured process (psutil.cpu_times): mean over each phase, and the "
        "median of 2 s windows; pulse_pct / x_pct: the PulseAudio daemon's and Xvfb's CPU over the same phase; "
        "the machine was shared with other work",
        "results": results,
    }
    args.json_out.parent.mkdir(parents=True, exist_ok=True)
    args.json_out.write_text(json.dumps(report, indent=2) + "\n")
    print(table(report))


def _rows(results: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Results grouped by (scenario, tree), in first-seen order."""
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for r in results:
        groups.setdefault((r["key"], r["tree"]), []).append(r)
    return list(groups.values())


def _med(runs: list[dict[str, Any]], phase: str, field: str) -> float:
    values = [r[phase][field] for r in runs if r[phase].get(field) is not None]
    return statistics.median(values) if values else float("nan")


def _cell(runs: list[dict[str, Any]], phase: str) -> str:
    text = f"{_med(runs, phase, 'cpu_pct_mean'):.1f}% ({_med(runs, phase, 'cpu_pct_median'):.1f}%)"
    if len(runs) > 1:
        text += " [" + ", ".join(f"{x[phase]['cpu_pct_mean']:.1f}" for x in runs) + "]"
    return text


def table(report: dict[str, Any]) -> str:
    m = report["machine"]
    repeats = report.get("repeats", 1)
    lines = [
        f"Machine: {m['cpu_model']}, {m['cpu_count']} cores, {m['platform']}; load average "
        f"{m['loadavg_at_start'][0]} at start, {report['loadavg_at_end'][0]} at end; "
        f"{report['seconds_per_phase']:g} s per phase, {repeats} fresh process(es) per row; "
        f"room noise {report['noise_dbfs']:g} dBFS on the mic.",
        "CPU = user+sys of the process, % of one core: mean over the phase (median of 2 s windows); with "
        "repeats, the median over the processes and each process's mean in brackets; sound server and X server apart.",
        "",
        "| process | tree | at rest: mean (median) | active: mean (median) | pulse rest / active | X rest / active "
        "| RSS rest / active | frames sent | turns |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for runs in _rows(report["results"]):
        r = runs[0]
        ev = r["events"]
        turns = ev.get("turn_close", 0) + ev.get("screen_turn", 0)
        frames = ev.get("frame_sent", "—")

        lines.append(
            f"| {r['scenario']} | {r['tree']} | {_cell(runs, 'rest')} | {_cell(runs, 'active')} "
            f"| {_med(runs, 'rest', 'pulse_pct'):.2f}% / {_med(runs, 'active', 'pulse_pct'):.2f}% "
            f"| {_med(runs, 'rest', 'x_pct'):.2f}% / {_med(runs, 'active', 'x_pct'):.2f}% "
            f"| {_med(runs, 'rest', 'rss_mb_median'):.0f} / {_med(runs, 'active', 'rss_mb_median'):.0f} MB "
            f"| {frames} | {turns or '—'} |"
        )
    ratios = _ratios(report["results"])
    if ratios:
        lines += ["", "ours / baseline (median of the per-process mean CPU, same run): " + "; ".join(ratios)]
    return "\n".join(lines)


def _ratios(results: list[dict[str, Any]]) -> list[str]:
    out = []
    groups = {(runs[0]["key"], runs[0]["tree"]): runs for runs in _rows(results)}
    for (key, tree), runs in groups.items():
        base = groups.get((key, "baseline"))
        if tree != "ours" or base is None:
            continue
        parts = []
        for phase in ("rest", "active"):
            before = _med(base, phase, "cpu_pct_mean")
            if before > 0:
                parts.append(f"{phase} {_med(runs, phase, 'cpu_pct_mean') / before:.2f}")
        out.append(f"{key}: " + ", ".join(parts))
    return out


if __name__ == "__main__":
    main()
