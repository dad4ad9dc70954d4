"""Many concurrent Live sessions streaming microphone-rate audio: rholive's LiveSession vs the google-genai SDK.

Each session streams 16 kHz mono PCM in 100 ms chunks, in real time, for ``--duration`` seconds against the
rholive emulator (TLS, automatic activity detection on with the server VAD). The audio is low-level noise,
well under the emulator's VAD threshold, so no user turn opens and the model never answers: what is
measured is the cost of streaming input, not of handling replies.

The emulator runs in its own process; each (client, N) run gets a fresh child process, so the CPU time and
memory reported are that client's alone. Sessions are phase-staggered across the 100 ms chunk period (session
k sends at t0 + k/N * 0.1 + i * 0.1), like independent microphones, and paced with absolute deadlines.

Send lag, for chunk i due at ``due_i``:
- ``write lag`` = the moment the chunk's WebSocket frame was handed to the socket (websockets'
  ``send()`` returned) − ``due_i``. For the SDK this is when ``await session.send_realtime_input(...)``
  returns (it awaits ``ws.send`` itself). For rholive, ``send_audio()`` only enqueues and an ordered writer
  task sends; the benchmark wraps that connection's ``send`` to timestamp the same moment.
- ``enqueue lag`` (rholive only) = when ``await session.send_audio()`` returned − ``due_i``.
Both include the event loop's own scheduling delay (waking the sender late under load), which is the point.

Run: ``uv run python benchmarks/session_throughput.py --sessions 1,50,200 --duration 30`` (or ``--quick``).
Results: a markdown table on stdout and ``benchmarks/results/session_throughput.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import platform
import resource
import ssl
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

from rholive.live.models import DEFAULT_MODEL

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "session_throughput.json"
RATE = 16000
CHUNK_S = 0.1
CONNECT_PARALLEL = 20  # TLS handshakes in flight at once while opening sessions
MODEL = DEFAULT_MODEL  # audio-only, as every Live model today
CLIENTS = ("rholive", "google-genai")


@dataclass
class RunSpec:
    client: str
    sessions: int
    duration_s: float
    url: str  # wss://127.0.0.1:PORT
    cert_path: str
    emulator_pid: int


@dataclass
class SessionLags:
    write: list[float] = field(default_factory=list)
    enqueue: list[float] = field(default_factory=list)


def quiet_chunk() -> bytes:
    """100 ms of faint noise (RMS ~30 on a 16-bit scale): audio, but far below the VAD's speech threshold."""
    rng = np.random.default_rng(7)
    samples = rng.normal(0.0, 30.0, int(RATE * CHUNK_S)).clip(-32768, 32767).astype("<i2")
    return samples.tobytes()


def ssl_context(cert_path: str) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=cert_path)
    return ctx


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


# ---------------------------------------------------------------------------------------------- clients


async def sleep_until(loop: asyncio.AbstractEventLoop, deadline: float) -> None:
    delay = deadline - loop.time()
    if delay > 0:
        await asyncio.sleep(delay)


async def rholive_session(
    spec: RunSpec, ctx: ssl.SSLContext, index: int, gate: Gate, chunk: bytes, lags: SessionLags
) -> None:
    from rholive.live import Endpoint, LiveSession, SetupConfig

    loop = asyncio.get_running_loop()
    endpoint = Endpoint(base_url=spec.url, api_key="k", ssl=ctx)
    session = LiveSession(endpoint, SetupConfig(model=MODEL))
    async with gate.connect_slots:
        await session.connect()
    write_times: list[float] = []
    count = round(spec.duration_s / CHUNK_S)
    all_written = asyncio.Event()
    while session._ws is None:  # noqa: ASYNC110  (the run task adopts the socket on its first step)
        await asyncio.sleep(0)
    ws = session._ws  # instrumentation only: timestamp each frame as the session's writer hands it over
    original_send = ws.send

    async def timed_send(message: Any) -> None:
        await original_send(message)
        write_times.append(loop.time())
        if len(write_times) == count:
            all_written.set()

    ws.send = timed_send  # type: ignore[method-assign]
    try:
        t0 = await gate.ready()
        offset = index / spec.sessions * CHUNK_S
        due = [t0 + offset + i * CHUNK_S for i in range(count)]
        for deadline in due:
            await sleep_until(loop, deadline)
            await session.send_audio(chunk, RATE)
            lags.enqueue.append(loop.time() - deadline)
        try:
            await asyncio.wait_for(all_written.wait(), 30.0)
        except TimeoutError:
            raise RuntimeError(
                f"rholive wrote {len(write_times)}/{count} chunks (state: {session._state})"
            ) from None
        lags.write.extend(w - d for w, d in zip(write_times, due, strict=False))
        gate.finished()
        await gate.all_finished.wait()
    finally:
        await session.close()


async def genai_session(
    spec: RunSpec, client: Any, index: int, gate: Gate, chunk: bytes, lags: SessionLags
) -> None:
    from google.genai import types

    loop = asyncio.get_running_loop()
    config = types.LiveConnectConfig(
        response_modalities=[types.Modality.AUDIO],
        output_audio_transcription=types.AudioTranscriptionConfig(),
    )
    await gate.connect_slots.acquire()
    released = False
    try:
        async with client.aio.live.connect(model=MODEL, config=config) as session:
            gate.connect_slots.release()
            released = True
            t0 = await gate.ready()
            offset = index / spec.sessions * CHUNK_S
            count = round(spec.duration_s / CHUNK_S)
            for i in range(count):
                deadline = t0 + offset + i * CHUNK_S
                await sleep_until(loop, deadline)
                await session.send_realtime_input(
                    audio=types.Blob(data=chunk, mime_type=f"audio/pcm;rate={RATE}")
                )
                lags.write.append(loop.time() - deadline)
            gate.finished()
            await gate.all_finished.wait()
    finally:
        if not released:
            gate.connect_slots.release()


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


async def run_clients(spec: RunSpec) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    ctx = ssl_context(spec.cert_path)
    chunk = quiet_chunk()
    me = psutil.Process()
    emulator = psutil.Process(spec.emulator_pid)
    gate = Gate(spec.sessions)
    lags = [SessionLags() for _ in range(spec.sessions)]
    if spec.client == "rholive":
        import rholive.live  # noqa: F401  (imports are not part of the per-session memory)

        tasks = [
            asyncio.create_task(rholive_session(spec, ctx, k, gate, chunk, lags[k]))
            for k in range(spec.sessions)
        ]
    else:
        from google import genai

        client = genai.Client(
            api_key="k",
            http_options={
                "base_url": spec.url.replace("wss://", "https://"),
                "async_client_args": {"ssl": ctx},
            },
        )
        tasks = [
            asyncio.create_task(genai_session(spec, client, k, gate, chunk, lags[k]))
            for k in range(spec.sessions)
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
    rss_peak = rss_before
    finished = asyncio.create_task(gate.all_finished.wait())
    while not finished.done():
        await asyncio.wait([finished, *tasks], timeout=1.0, return_when=asyncio.FIRST_COMPLETED)
        rss_peak = max(rss_peak, me.memory_info().rss)
        for task in tasks:
            if task.done() and task.exception() is not None:
                raise task.exception()  # type: ignore[misc]
    wall = time.monotonic() - wall_start
    cpu = cpu_seconds() - cpu_start
    emu_cpu = sum(emulator.cpu_times()[:2]) - emu_cpu_start
    rss_end = me.memory_info().rss
    await asyncio.gather(*tasks)

    write = np.array([lag for s in lags for lag in s.write]) * 1000
    enqueue = np.array([lag for s in lags for lag in s.enqueue]) * 1000
    expected = spec.sessions * round(spec.duration_s / CHUNK_S)
    return {
        "client": spec.client,
        "sessions": spec.sessions,
        "duration_s": spec.duration_s,
        "chunks_sent": int(write.size),
        "chunks_expected": expected,
        "connect_all_s": round(connect_s, 3),
        "write_lag_ms": percentiles(write),
        "enqueue_lag_ms": percentiles(enqueue) if enqueue.size else None,
        "cpu_s": round(cpu, 3),
        "wall_s": round(wall, 3),
        "cpu_pct_per_session": round(cpu / wall / spec.sessions * 100, 4),
        "cpu_pct_total": round(cpu / wall * 100, 2),
        "emulator_cpu_pct": round(emu_cpu / wall * 100, 2),
        "rss_mb_per_session": round((max(rss_peak, rss_end) - rss_before) / spec.sessions / 2**20, 4),
        "rss_mb_process": round(max(rss_peak, rss_end) / 2**20, 1),
    }


def percentiles(values: np.ndarray) -> dict[str, float]:
    if values.size == 0:
        return {"p50": float("nan"), "p99": float("nan"), "max": float("nan")}
    p50, p99 = np.percentile(values, [50, 99])
    return {"p50": round(float(p50), 3), "p99": round(float(p99), 3), "max": round(float(values.max()), 3)}


def child_main(spec: RunSpec) -> dict[str, Any]:
    return asyncio.run(run_clients(spec))


# ---------------------------------------------------------------------------------------------- emulator


class EmulatorProcess:
    def __init__(self) -> None:
        exe = Path(sys.executable).parent / "rholive"
        command = [str(exe)] if exe.exists() else [sys.executable, "-m", "rholive.cli"]
        self.proc = subprocess.Popen(
            [*command, "emulator", "--port", "0", "--tls"],
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
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
    model = cpu_model()
    return {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpu_count": os.cpu_count(),
        "cpu_model": model or platform.processor(),
    }


NOTES = [
    "lag = when the chunk's WebSocket frame was handed to the socket (websockets send() returned) minus its"
    " due time t0 + offset + i * 100 ms; includes event-loop scheduling delay.",
    "google-genai: measured as `await session.send_realtime_input(audio=...)` returning (the SDK awaits ws.send).",
    "rholive: send_audio() only enqueues; the frame write is timestamped by wrapping the session's connection"
    " send(). Enqueue lag (send_audio() returned) is in the JSON.",
    "CPU % per session = client process CPU time (user+sys) during streaming / wall time / N; 100 % = one core.",
    "RSS per session = (peak client RSS during streaming − RSS before connecting) / N (after imports).",
    "Each (client, N) runs in a fresh child process; the emulator runs in its own process on the same machine"
    " (its CPU % is in the JSON). Audio is faint noise below the VAD threshold: no turns, no replies.",
]


def table(results: list[dict[str, Any]]) -> str:
    rows = [
        "| client | N | lag p50 ms | lag p99 ms | CPU % per session | RSS MB per session |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lag = r["write_lag_ms"]
        rows.append(
            f"| {r['client']} | {r['sessions']} | {lag['p50']:.2f} | {lag['p99']:.2f} "
            f"| {r['cpu_pct_per_session']:.3f} | {r['rss_mb_per_session']:.3f} |"
        )
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", default="1,50,200", help="comma-separated session counts")
    parser.add_argument("--duration", type=float, default=30.0, help="seconds of audio per session")
    parser.add_argument("--quick", action="store_true", help="N = 1,10 for 5 s")
    parser.add_argument("--clients", default=",".join(CLIENTS), help="rholive,google-genai")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    counts = [1, 10] if args.quick else [int(n) for n in args.sessions.split(",") if n.strip()]
    duration = 5.0 if args.quick else args.duration
    clients = [c.strip() for c in args.clients.split(",") if c.strip()]
    unknown = sorted(set(clients) - set(CLIENTS))
    if unknown or not counts or min(counts) < 1 or duration < CHUNK_S:
        parser.error(
            f"bad arguments (unknown clients: {unknown})" if unknown else "bad session counts/duration"
        )

    info = machine()
    print(
        f"machine: {info['platform']}, {info['cpu_count']} CPUs, {info['cpu_model']}, Python {info['python']}"
    )
    emulator = EmulatorProcess()
    results: list[dict[str, Any]] = []
    try:
        for n in counts:
            for client in clients:
                spec = RunSpec(client, n, duration, emulator.url, emulator.cert_path, emulator.proc.pid)
                with ProcessPoolExecutor(max_workers=1, mp_context=mp.get_context("spawn")) as pool:
                    result = pool.submit(child_main, spec).result()
                results.append(result)
                lag = result["write_lag_ms"]
                print(
                    f"  {client:>12} N={n:<4} lag p50 {lag['p50']:.2f} ms p99 {lag['p99']:.2f} ms, "
                    f"CPU {result['cpu_pct_total']:.1f} % (emulator {result['emulator_cpu_pct']:.1f} %), "
                    f"chunks {result['chunks_sent']}/{result['chunks_expected']}",
                    flush=True,
                )
    finally:
        emulator.stop()

    print()
    print(table(results))
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
        "notes": NOTES,
        "results": results,
    }
    args.output.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nwrote {args.output.relative_to(ROOT) if args.output.is_relative_to(ROOT) else args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
