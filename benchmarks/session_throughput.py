"""Many concurrent Live sessions streaming microphone audio and hearing spoken answers: rholive vs google-genai.

Each session streams 16 kHz mono PCM in 100 ms chunks, in real time, for ``--duration`` seconds against the
rholive emulator (TLS, its own process, automatic activity detection on with the server VAD). Every
``--turn-every`` seconds the audio holds 1 s of a loud tone (speech for the emulator's energy VAD), then faint
noise: the VAD ends the turn after 800 ms and the emulator answers with 24 kHz speech (espeak-ng), output
transcription and usage. Both clients receive and decode every reply (audio bytes counted): what is measured
is a conversation's cost, sending and receiving. ``--no-replies`` streams faint noise only (no turn, no reply,
no resumption update: what the replay buffer keeps then is what the memory figure shows).

Each (client, N, repeat) run gets a fresh child process, so the CPU time (user + system, of that process only:
the machine may be shared) and memory reported are that client's alone. The clients run in turn within each
repeat; the ratio ours / SDK is taken per repeat and its median reported. ``--before SRC`` adds a client
``rholive-before`` that imports rholive from another source tree (e.g. an older commit's ``src``), measured in
the same run.

Send lag, for chunk i due at ``due_i``: the moment the chunk's frame was handed to the socket − ``due_i``,
through each client's public API. google-genai: ``await session.send_realtime_input(audio=...)`` returns (it
awaits the socket's send). rholive: ``await session.send_audio(...)`` then ``await session.flush()`` (which
returns once everything queued was handed to the socket). Both include the event loop's scheduling delay.

Run: ``uv run python benchmarks/session_throughput.py --sessions 200 --duration 30 --repeats 4``
(``--quick``: N = 10 for 5 s, once). Results: a table on stdout and ``benchmarks/results/session_throughput.json``.
Memory while no resumption update comes: ``--no-replies --duration 60 --clients rholive --output ...``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import multiprocessing as mp
import os
import platform
import resource
import ssl
import statistics
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import psutil
from machine_info import cpu_model

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "session_throughput.json"
RATE = 16000
CHUNK_S = 0.1
TONE_S = 1.0  # the spoken part of each turn
CONNECT_PARALLEL = 20  # TLS handshakes in flight at once while opening sessions
REPLY_WAIT_S = 15.0  # after its last chunk, how long a session waits for the answers still owed
SDK = "google-genai"  # as users run it: it offers permessage-deflate, which the emulator accepts
SDK_PLAIN = "google-genai-no-deflate"  # the same with compression=None (rholive's default: no deflate)
CLIENTS = ("rholive", SDK, SDK_PLAIN)
STARVED_MS = 100.0  # a repeat whose lag p50 exceeds this for any client ran starved of CPU: not compared
BEFORE = "rholive-before"


@dataclass
class RunSpec:
    client: str
    sessions: int
    duration_s: float
    turn_every_s: float  # 0: no turns (faint noise only)
    url: str  # wss://127.0.0.1:PORT
    cert_path: str
    emulator_pid: int
    model: str
    src: str = ""  # import rholive from this source tree first ("": the installed one)


@dataclass
class SessionStats:
    lags: list[float] = field(default_factory=list)
    answers: int = 0  # turnComplete received
    audio_bytes: int = 0  # decoded reply audio
    evicted: int = 0  # rholive: messages the replay buffer stopped keeping


def chunks(spec: RunSpec) -> tuple[list[bytes], int]:
    """The chunk sequence of one session and the number of turns in it."""
    rng = np.random.default_rng(7)
    noise = rng.normal(0.0, 30.0, int(RATE * CHUNK_S)).clip(-32768, 32767).astype("<i2").tobytes()
    t = np.arange(int(RATE * CHUNK_S)) / RATE
    tone = (3000 * np.sin(2 * np.pi * 220 * t)).astype("<i2").tobytes()  # 220 Hz: whole periods per chunk
    count = round(spec.duration_s / CHUNK_S)
    if not spec.turn_every_s:
        return [noise] * count, 0
    period = round(spec.turn_every_s / CHUNK_S)
    spoken = round(TONE_S / CHUNK_S)
    out = [tone if i % period < spoken else noise for i in range(count)]
    turns = sum(1 for i in range(0, count, period) if i + spoken + 9 <= count)  # 900 ms after: a turn end
    return out, turns


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def sleep_until(loop: asyncio.AbstractEventLoop, deadline: float) -> None:
    delay = deadline - loop.time()
    if delay > 0:
        await asyncio.sleep(delay)


class Gate:
    """Everyone connects, then streaming starts at one common t0; the measurement ends when all are done."""

    def __init__(self, sessions: int) -> None:
        self.connect_slots = asyncio.Semaphore(CONNECT_PARALLEL)
        self._sessions = sessions
        self._connected = 0
        self._done = 0
        self.all_connected = asyncio.Event()
        self.all_finished = asyncio.Event()
        self.t0 = 0.0

    async def ready(self) -> float:
        self._connected += 1
        if self._connected == self._sessions:
            self.t0 = (
                asyncio.get_running_loop().time() + 0.5
            )  # a common start, shortly after the last connect
            self.all_connected.set()
        await self.all_connected.wait()
        return self.t0

    def finished(self) -> None:
        self._done += 1
        if self._done == self._sessions:
            self.all_finished.set()


async def stream(
    spec: RunSpec, index: int, gate: Gate, audio: list[bytes], send: Any, stats: SessionStats
) -> None:
    """Send ``audio`` on this session's schedule; ``send(chunk)`` returns once the frame is on the socket."""
    loop = asyncio.get_running_loop()
    t0 = await gate.ready()
    offset = index / spec.sessions * CHUNK_S
    for i, chunk in enumerate(audio):
        deadline = t0 + offset + i * CHUNK_S
        await sleep_until(loop, deadline)
        await send(chunk)
        stats.lags.append(loop.time() - deadline)


async def wait_answers(stats: SessionStats, turns: int, answered: asyncio.Event) -> None:
    if stats.answers < turns:
        try:
            await asyncio.wait_for(answered.wait(), REPLY_WAIT_S)
        except TimeoutError:
            pass  # reported: answers received < expected


async def rholive_session(
    spec: RunSpec, ctx: ssl.SSLContext, index: int, gate: Gate, stats: SessionStats
) -> None:
    from rholive.live import AudioChunk, Endpoint, LiveSession, SetupConfig, TurnComplete

    audio, turns = chunks(spec)
    answered = asyncio.Event()
    session = LiveSession(Endpoint(base_url=spec.url, api_key="k", ssl=ctx), SetupConfig(model=spec.model))

    async def receive() -> None:
        async for event in session:
            if isinstance(event, AudioChunk):
                stats.audio_bytes += len(event.data)
            elif isinstance(event, TurnComplete):
                stats.answers += 1
                if stats.answers >= turns:
                    answered.set()

    async def send(chunk: bytes) -> None:
        await session.send_audio(chunk, RATE)
        await session.flush()

    async with gate.connect_slots:
        await session.connect()
    receiver = asyncio.create_task(receive())
    try:
        await stream(spec, index, gate, audio, send, stats)
        await wait_answers(stats, turns, answered)
        stats.evicted = session.replay_evicted
        gate.finished()
        await gate.all_finished.wait()
    finally:
        await session.close()
        await receiver


async def genai_session(spec: RunSpec, client: Any, index: int, gate: Gate, stats: SessionStats) -> None:
    from google.genai import types

    audio, turns = chunks(spec)
    answered = asyncio.Event()
    config = types.LiveConnectConfig(
        response_modalities=[types.Modality.AUDIO],
        output_audio_transcription=types.AudioTranscriptionConfig(),
    )
    mime = f"audio/pcm;rate={RATE}"
    await gate.connect_slots.acquire()
    released = False
    try:
        async with client.aio.live.connect(model=spec.model, config=config) as session:
            gate.connect_slots.release()
            released = True

            async def receive() -> None:
                while True:  # receive() ends after each turn
                    async for message in session.receive():
                        content = message.server_content
                        if content is None:
                            continue
                        for part in (content.model_turn.parts or []) if content.model_turn else []:
                            if part.inline_data is not None and part.inline_data.data:
                                stats.audio_bytes += len(part.inline_data.data)
                        if content.turn_complete:
                            stats.answers += 1
                            if stats.answers >= turns:
                                answered.set()

            async def send(chunk: bytes) -> None:
                await session.send_realtime_input(audio=types.Blob(data=chunk, mime_type=mime))

            receiver = asyncio.create_task(receive())
            try:
                await stream(spec, index, gate, audio, send, stats)
                await wait_answers(stats, turns, answered)
                gate.finished()
                await gate.all_finished.wait()
            finally:
                receiver.cancel()
                await asyncio.gather(receiver, return_exceptions=True)
    finally:
        if not released:
            gate.connect_slots.release()


async def run_clients(spec: RunSpec) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    ctx = ssl.create_default_context(cafile=spec.cert_path)
    me = psutil.Process()
    emulator = psutil.Process(spec.emulator_pid)
    gate = Gate(spec.sessions)
    stats = [SessionStats() for _ in range(spec.sessions)]
    if spec.client in (SDK, SDK_PLAIN):
        from google import genai

        # the SDK passes the async client args that websockets' connect() takes on to it
        ws_args: dict[str, Any] = {"ssl": ctx} if spec.client == SDK else {"ssl": ctx, "compression": None}
        client = genai.Client(
            api_key="k",
            http_options={"base_url": spec.url.replace("wss://", "https://"), "async_client_args": ws_args},
        )
        tasks = [
            asyncio.create_task(genai_session(spec, client, k, gate, stats[k])) for k in range(spec.sessions)
        ]
    else:
        import rholive.live  # noqa: F401  (imports are not part of the per-session memory)

        tasks = [
            asyncio.create_task(rholive_session(spec, ctx, k, gate, stats[k])) for k in range(spec.sessions)
        ]
    rss_before = me.memory_info().rss

    connect_started = loop.time()
    waiter = asyncio.create_task(gate.all_connected.wait())
    done, _ = await asyncio.wait([waiter, *tasks], return_when=asyncio.FIRST_COMPLETED)
    if waiter not in done:
        for task in done:
            task.result()  # a session failed to connect: raise its error
    connect_s = loop.time() - connect_started
    await sleep_until(loop, gate.t0)
    cpu_start, emu_cpu_start, wall_start = cpu_seconds(), sum(emulator.cpu_times()[:2]), time.monotonic()
    rss_samples: list[tuple[float, int]] = []
    finished = asyncio.create_task(gate.all_finished.wait())
    while not finished.done():
        await asyncio.wait([finished, *tasks], timeout=1.0, return_when=asyncio.FIRST_COMPLETED)
        rss_samples.append((time.monotonic() - wall_start, me.memory_info().rss))
        for task in tasks:
            if task.done() and task.exception() is not None:
                raise task.exception()  # type: ignore[misc]
    wall = time.monotonic() - wall_start
    cpu = cpu_seconds() - cpu_start
    emu_cpu = sum(emulator.cpu_times()[:2]) - emu_cpu_start
    await asyncio.gather(*tasks)

    lags = np.array([lag for s in stats for lag in s.lags]) * 1000
    _, turns = chunks(spec)
    rss_peak = max(rss for _, rss in rss_samples)
    return {
        "client": spec.client,
        "imported_from": str(Path(sys.modules["rholive"].__file__).parent.parent)
        if "rholive" in sys.modules
        else "",
        "sessions": spec.sessions,
        "duration_s": spec.duration_s,
        "chunks_sent": int(lags.size),
        "chunks_expected": spec.sessions * round(spec.duration_s / CHUNK_S),
        "answers": sum(s.answers for s in stats),
        "answers_expected": spec.sessions * turns,
        "reply_audio_mb": round(sum(s.audio_bytes for s in stats) / 1e6, 2),
        "replay_evicted": sum(s.evicted for s in stats),
        "connect_all_s": round(connect_s, 3),
        "lag_ms": percentiles(lags),
        "cpu_s": round(cpu, 3),
        "wall_s": round(wall, 3),
        # per second of audio streamed, not of wall time: a client starved of CPU by other processes takes longer
        # (its wall time grows) but does the same work
        "cpu_pct_per_session": round(cpu / spec.duration_s / spec.sessions * 100, 4),
        "cpu_pct_total": round(cpu / wall * 100, 2),
        "emulator_cpu_pct": round(emu_cpu / wall * 100, 2),
        "rss_mb_per_session": round((rss_peak - rss_before) / spec.sessions / 2**20, 4),
        "rss_growth_mb_per_session_min": round(rss_slope(rss_samples) * 60 / spec.sessions / 2**20, 4),
        "rss_mb_process": round(rss_peak / 2**20, 1),
    }


def rss_slope(samples: list[tuple[float, int]]) -> float:
    """Bytes per second over the second half of the streaming (after start-up allocations settled)."""
    half = [(t, rss) for t, rss in samples if t >= samples[-1][0] / 2]
    if len(half) < 3:
        return float("nan")
    t, rss = np.array(half, dtype=float).T
    return float(np.polyfit(t, rss, 1)[0])


def percentiles(values: np.ndarray) -> dict[str, float]:
    if values.size == 0:
        return {"p50": float("nan"), "p99": float("nan"), "max": float("nan")}
    p50, p99 = np.percentile(values, [50, 99])
    return {"p50": round(float(p50), 3), "p99": round(float(p99), 3), "max": round(float(values.max()), 3)}


def child_main(spec: RunSpec) -> dict[str, Any]:
    if spec.src:
        sys.path.insert(0, spec.src)  # before anything imports rholive in this fresh process
    # one warning per session when the replay window starts dropping (--no-replies): counted in the JSON instead
    logging.getLogger("rholive.live").setLevel(logging.ERROR)
    return asyncio.run(run_clients(spec))


# ---------------------------------------------------------------------------------------------- emulator


class EmulatorProcess:
    def __init__(self) -> None:
        exe = Path(sys.executable).parent / "rholive"
        command = [str(exe)] if exe.exists() else [sys.executable, "-m", "rholive.cli"]
        self.proc = subprocess.Popen(
            [*command, "emulator", "--port", "0", "--tls"], stdout=subprocess.PIPE, text=True, cwd=ROOT
        )
        self.url = self.cert_path = ""
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            if line.startswith("rholive emulator listening on "):
                self.url = line.split(" on ", 1)[1].strip()
            elif line.startswith("rholive emulator certificate: "):
                self.cert_path = line.split(": ", 1)[1].strip()
                break
        if not (self.url and self.cert_path):
            self.stop()
            raise SystemExit("the emulator did not print its URL and certificate")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


# ---------------------------------------------------------------------------------------------- report


def machine() -> dict[str, Any]:
    return {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpu_count": os.cpu_count(),
        "cpu_model": cpu_model() or platform.processor(),
        "load_avg_at_start": [round(x, 2) for x in os.getloadavg()],
    }


NOTES = [
    "lag = when the chunk's frame was handed to the socket (public API: SDK send_realtime_input() returned;"
    " rholive send_audio() + flush() returned) minus its due time t0 + offset + i * 100 ms.",
    "CPU % per session = CPU time (user+sys) of the client's own process during streaming / seconds of audio"
    " streamed / N; 100 % = one core. The ratio ours / SDK (CPU time, same N and work) is per repeat, then the"
    " median over repeats. A lag p50 of seconds means the process was starved of CPU by other processes.",
    "Replies: every client reads every server message and decodes the reply audio (bytes counted).",
    f"{SDK}: as users run it (websockets offers permessage-deflate and the emulator accepts it; whether the"
    f" service does is not known here). {SDK_PLAIN}: the same client with compression=None, like rholive.",
    f"Compared: repeats where no client's lag p50 exceeded {STARVED_MS:g} ms (starved of CPU by other"
    " processes) and all got the same reply audio; all repeats when none qualifies (repeats compared 0).",
    "RSS per session = (peak RSS while streaming − RSS before connecting) / N; growth = the slope of RSS over"
    " the second half of the streaming, per session and minute.",
    "Each (client, N, repeat) runs in a fresh child process; the emulator runs in its own process on the same"
    " machine (its CPU % is in the JSON).",
]


def valid_repeats(results: list[dict[str, Any]], n: int) -> set[int]:
    """Repeats where no client was starved of CPU and every client got the same reply audio (none interrupted
    by a late next turn): only those compare like with like."""
    valid = set()
    for repeat in {r["repeat"] for r in results if r["sessions"] == n}:
        runs = [r for r in results if r["sessions"] == n and r["repeat"] == repeat]
        audio = [r["reply_audio_mb"] for r in runs]
        if all(r["lag_ms"]["p50"] <= STARVED_MS for r in runs) and max(audio) - min(audio) <= 0.01 * max(
            audio
        ):
            valid.add(repeat)
    return valid


def ratio(results: list[dict[str, Any]], r: dict[str, Any], baseline: str) -> float | None:
    base = [
        b
        for b in results
        if b["client"] == baseline and b["sessions"] == r["sessions"] and b["repeat"] == r["repeat"]
    ]
    return r["cpu_s"] / base[0]["cpu_s"] if base and base[0]["cpu_s"] > 0 else None


def summary(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per (client, N), over the valid repeats (all repeats when none is valid, flagged): medians, and the
    median of the per-repeat CPU-time ratio to each SDK variant."""
    out = []
    keys = sorted({(r["client"], r["sessions"]) for r in results}, key=lambda k: (k[1], k[0]))
    for client, n in keys:
        valid = valid_repeats(results, n)
        runs = [r for r in results if r["client"] == client and r["sessions"] == n]
        used = [r for r in runs if r["repeat"] in valid] or runs
        row: dict[str, Any] = {
            "client": client,
            "sessions": n,
            "repeats": len(runs),
            "repeats_compared": len(used) if valid else 0,
            "lag_p50_ms": statistics.median(r["lag_ms"]["p50"] for r in used),
            "lag_p99_ms": statistics.median(r["lag_ms"]["p99"] for r in used),
            "cpu_pct_per_session": statistics.median(r["cpu_pct_per_session"] for r in used),
            "rss_mb_per_session": statistics.median(r["rss_mb_per_session"] for r in used),
            "rss_growth_mb_per_session_min": statistics.median(
                r["rss_growth_mb_per_session_min"] for r in used
            ),
            "answers": f"{min(r['answers'] for r in used)}/{used[0]['answers_expected']}",
            "reply_audio_mb": statistics.median(r["reply_audio_mb"] for r in used),
        }
        for baseline, name in ((SDK, "cpu_ratio_to_sdk"), (SDK_PLAIN, "cpu_ratio_to_sdk_no_deflate")):
            for suffix, over in (("", used), ("_all_repeats", runs)):
                ratios = [x for x in (ratio(results, r, baseline) for r in over) if x is not None]
                row[name + suffix] = round(statistics.median(ratios), 3) if ratios else None
                row[name + suffix + "_range"] = (
                    [round(min(ratios), 3), round(max(ratios), 3)] if ratios else None
                )
        out.append(row)
    return out


def table(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| client | N | repeats compared | lag p50 ms | lag p99 ms | CPU % per session | CPU / SDK (median, range) "
        "| CPU / SDK without deflate | same, all repeats | RSS MB per session | RSS growth MB/session/min "
        "| answers | reply audio MB |",
        "|---|---:|---:|---:|---:|---:|---|---|---|---:|---:|---:|---:|",
    ]

    def cell(r: dict[str, Any], name: str) -> str:
        if r[name] is None or r["client"] in (SDK, SDK_PLAIN):
            return "—"
        low, high = r[name + "_range"]
        return f"{r[name]:.3f} ({low:.2f}–{high:.2f})"

    for r in rows:
        lines.append(
            f"| {r['client']} | {r['sessions']} | {r['repeats_compared']}/{r['repeats']} | {r['lag_p50_ms']:.2f} "
            f"| {r['lag_p99_ms']:.2f} | {r['cpu_pct_per_session']:.3f} | {cell(r, 'cpu_ratio_to_sdk')} "
            f"| {cell(r, 'cpu_ratio_to_sdk_no_deflate')} "
            f"| {cell(r, 'cpu_ratio_to_sdk_all_repeats')}; {cell(r, 'cpu_ratio_to_sdk_no_deflate_all_repeats')} "
            f"| {r['rss_mb_per_session']:.3f} "
            f"| {r['rss_growth_mb_per_session_min']:.3f} | {r['answers']} | {r['reply_audio_mb']:.2f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", default="200", help="comma-separated session counts")
    parser.add_argument("--duration", type=float, default=30.0, help="seconds of audio per session")
    parser.add_argument("--turn-every", type=float, default=10.0, help="seconds between the user's turns")
    parser.add_argument("--no-replies", action="store_true", help="faint noise only: no turn, no reply")
    parser.add_argument("--repeats", type=int, default=3, help="runs of every client per N (fresh processes)")
    parser.add_argument("--quick", action="store_true", help="N = 10 for 5 s, once")
    parser.add_argument("--clients", default=",".join(CLIENTS), help=",".join(CLIENTS))
    parser.add_argument("--before", type=Path, help=f"also run {BEFORE}: rholive imported from this src dir")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    counts = [10] if args.quick else [int(n) for n in args.sessions.split(",") if n.strip()]
    duration = 5.0 if args.quick else args.duration
    repeats = 1 if args.quick else args.repeats
    turn_every = 0.0 if args.no_replies else args.turn_every
    clients = [c.strip() for c in args.clients.split(",") if c.strip()]
    unknown = sorted(set(clients) - set(CLIENTS))
    if unknown or not counts or min(counts) < 1 or duration < CHUNK_S or repeats < 1:
        parser.error(
            f"bad arguments (unknown clients: {unknown})" if unknown else "bad counts/duration/repeats"
        )
    if turn_every and turn_every < TONE_S + 1.5:
        parser.error(f"--turn-every must leave time for an answer (at least {TONE_S + 1.5:g} s)")
    if args.before is not None:
        if not (args.before / "rholive" / "live" / "session.py").is_file():
            parser.error(f"--before {args.before}: no rholive/live/session.py there")
        clients.insert(1, BEFORE)

    from rholive.live.models import DEFAULT_MODEL  # audio-only, as every Live model today

    info = machine()
    print(
        f"machine: {info['platform']}, {info['cpu_count']} CPUs, {info['cpu_model']}, Python {info['python']}"
    )
    print(f"load average at start: {info['load_avg_at_start']}")
    emulator = EmulatorProcess()
    results: list[dict[str, Any]] = []
    try:
        for n in counts:
            for repeat in range(repeats):
                for client in clients:
                    src = str(args.before.resolve()) if client == BEFORE else ""
                    spec = RunSpec(
                        client,
                        n,
                        duration,
                        turn_every,
                        emulator.url,
                        emulator.cert_path,
                        emulator.proc.pid,
                        DEFAULT_MODEL,
                        src,
                    )
                    with ProcessPoolExecutor(max_workers=1, mp_context=mp.get_context("spawn")) as pool:
                        result = pool.submit(child_main, spec).result()
                    result["repeat"] = repeat
                    result["load_avg"] = round(os.getloadavg()[0], 2)
                    results.append(result)
                    lag = result["lag_ms"]
                    print(
                        f"  #{repeat} {client:>14} N={n:<4} lag p50 {lag['p50']:.2f} ms p99 {lag['p99']:.2f} ms, "
                        f"CPU {result['cpu_pct_total']:.1f} % (emulator {result['emulator_cpu_pct']:.1f} %), "
                        f"answers {result['answers']}/{result['answers_expected']}, "
                        f"reply audio {result['reply_audio_mb']} MB, RSS {result['rss_mb_per_session']:.3f} MB/session "
                        f"(+{result['rss_growth_mb_per_session_min']:.3f}/min), load {result['load_avg']}",
                        flush=True,
                    )
    finally:
        emulator.stop()

    rows = summary(results)
    print()
    print(table(rows))
    print()
    for note in NOTES:
        print(f"- {note}")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    report = {
        "command": " ".join(
            ["benchmarks/session_throughput.py", *(argv if argv is not None else sys.argv[1:])]
        ),
        "machine": info,
        "chunk_ms": int(CHUNK_S * 1000),
        "sample_rate": RATE,
        "duration_s": duration,
        "turn_every_s": turn_every,
        "notes": NOTES,
        "summary": rows,
        "results": results,
    }
    args.output.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nwrote {args.output.relative_to(ROOT) if args.output.is_relative_to(ROOT) else args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
