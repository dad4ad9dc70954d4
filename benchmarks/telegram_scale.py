"""Telegram past one machine: 200 chats each send a voice note at once, answered by 1, 2 and 4 Redis workers,
and by the one-process SQLite bot as the baseline — all in the same run, against one `rholive emulator`.

Every bot part runs in its own process (the one-process bot; or a front with ``--no-work`` plus N workers),
started by this script in a child role that calls the same code as the CLI, so Telegram's send limits can be
switched off (``--limits off``, the default: what is measured is the bot, not Telegram's 30 sends/s) or
kept (``--limits telegram``). The fake Bot API runs here and stamps every note and reply: turnaround = the
user sent the note → the reply was uploaded. CPU = user+system time of each bot process during the burst;
memory = its RSS after it. Run: ``uv run python benchmarks/telegram_scale.py [--chats 200] [--workers 1 2 4]``
(needs redis-server; espeak-ng for a spoken note, else a tone).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the fake Bot API lives with the tests
sys.path.insert(0, str(ROOT / "benchmarks"))

from machine_info import cpu_model  # noqa: E402
from telegram_turnaround import make_note  # noqa: E402  (the same note as the one-process benchmark)
from tests.telegram.fake_bot_api import FakeBotAPI  # noqa: E402

TOKEN = "123456789:AABenchmarkTokenNotReal_abcdefghijklmn"
SENTENCE = "Hello, could you tell me what the weather will be like tomorrow morning?"


# ---------------------------------------------------------------- child roles (one bot process each)


def _pacing(limits: str):  # type: ignore[no-untyped-def]
    from rholive.telegram import PacingOptions

    return (
        PacingOptions() if limits == "telegram" else PacingOptions(per_chat_interval_s=0.0, global_rate=0.0)
    )


async def _child(args: argparse.Namespace) -> None:
    import logging

    from rholive.config import Settings
    from rholive.telegram import ChatOptions

    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    settings = Settings(api_key=None, base_url=args.emulator_url, data_dir=Path(args.data_dir))
    options = ChatOptions(max_active_chats=args.max_chats)
    allow = range(args.allow_from, args.allow_from + args.allow_count)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    if args.role == "single":
        from rholive.connect import open_endpoint
        from rholive.telegram import VoiceNoteBot

        async with open_endpoint(settings) as endpoint:
            bot = VoiceNoteBot(
                settings, endpoint, TOKEN, api_url=args.api_url, allow=allow, options=options,
                pacing=_pacing(args.limits), db_path=Path(args.data_dir) / "chats.sqlite3", polling_timeout=1,
            )  # fmt: skip
            await bot.start()
            print("bench: ready", file=sys.stderr, flush=True)
            await stop.wait()
            await bot.stop()
        return
    from rholive.telegram.scale.run import ScaleOptions, serve

    scale = ScaleOptions(args.redis, work=args.role == "worker", polling_timeout=1)
    task = asyncio.create_task(
        serve(
            settings, TOKEN, args.api_url, scale, front=args.role == "front", allow=allow, options=options,
            pacing=_pacing(args.limits), stop=stop,
        )
    )  # fmt: skip
    print("bench: ready", file=sys.stderr, flush=True)  # serve logs its own line once it is up
    await task


# ---------------------------------------------------------------- the parent: processes, burst, figures


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Child:
    def __init__(self, proc: asyncio.subprocess.Process, role: str, ready_text: str) -> None:
        self.proc, self.role, self.ready_text = proc, role, ready_text
        self.ready = asyncio.Event()
        self.lines: list[str] = []
        self.ps = psutil.Process(proc.pid)
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.proc.stderr is not None
        async for raw in self.proc.stderr:
            line = raw.decode(errors="replace").rstrip()
            self.lines.append(line)
            if self.ready_text in line:
                self.ready.set()

    def cpu_s(self) -> float:
        times = self.ps.cpu_times()
        return times.user + times.system

    def rss_mb(self) -> float:
        return self.ps.memory_info().rss / 2**20

    async def stop(self) -> None:
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            async with asyncio.timeout(60):
                await self.proc.wait()
        except TimeoutError:
            self.proc.kill()
            await self.proc.wait()
        await self._reader


async def spawn(role: str, common: list[str]) -> Child:
    ready = {"single": "bench: ready", "front": "front for", "worker": " on Redis "}[role]
    proc = await asyncio.create_subprocess_exec(
        sys.executable, __file__, "--role", role, *common,
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    return Child(proc, role, ready)


@dataclass
class Row:
    name: str
    turnaround_s: list[float]
    wall_s: float
    cpu_s: list[float]  # per answering process
    rss_mb: list[float]
    front_cpu_s: float | None = None


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


async def run_case(
    name: str, workers: int, base: int, args: argparse.Namespace, env: dict[str, str], note: bytes
) -> Row:
    import redis

    with redis.Redis.from_url(env["redis"]) as client:
        client.flushdb()  # each case's fake Bot API numbers its updates from 1 again
    chats = list(range(base, base + args.chats))
    warm = base + args.chats  # one more chat, for the warm-up note
    async with FakeBotAPI(TOKEN) as api:
        with tempfile.TemporaryDirectory() as data:
            common = [
                "--api-url", api.url, "--emulator-url", env["emulator"], "--redis", env["redis"],
                "--data-dir", data, "--allow-from", str(base), "--allow-count", str(args.chats + 1),
                "--max-chats", str(args.max_chats), "--limits", args.limits,
            ]  # fmt: skip
            if workers == 0:
                answering = [await spawn("single", common)]
                front = None
            else:
                front = await spawn("front", common)
                answering = [await spawn("worker", common) for _ in range(workers)]
            children = [*answering, *([front] if front else [])]
            try:
                async with asyncio.timeout(120):
                    await asyncio.gather(*(c.ready.wait() for c in children))
                api.push_voice(warm, note, duration=3)  # warm-up: imports, first session (not counted)
                await api.wait_for(lambda: bool(api.replies(warm)), 120)
                cpu0 = [c.cpu_s() for c in answering]
                front0 = front.cpu_s() if front else 0.0
                ids = {api.push_voice(chat, note, duration=3): chat for chat in chats}
                started = time.monotonic()
                await api.wait_for(lambda: sum(len(api.replies(c)) for c in chats) >= len(chats), 900)
                wall = time.monotonic() - started
                cpu = [c.cpu_s() - c0 for c, c0 in zip(answering, cpu0, strict=True)]
                rss = [c.rss_mb() for c in answering]
                front_cpu = front.cpu_s() - front0 if front else None
            except TimeoutError:
                for child in children:
                    print(f"--- {child.role}:", *child.lines[-20:], sep="\n", file=sys.stderr)
                raise
            finally:
                for child in children:
                    await child.stop()
            turnaround = []
            for chat in chats:
                [reply] = api.replies(chat)
                asked = next(m for m, c in ids.items() if c == chat)
                assert reply.reply_to == asked
                turnaround.append(reply.at - api.pushed_at[asked])
            windows = [line for c in answering for line in c.lines if "send→record window" in line]
            if windows:
                print(f"  {name}: " + " | ".join(w.split(": ", 2)[-1] for w in windows), file=sys.stderr)
            return Row(name, turnaround, wall, cpu, rss, front_cpu)


def main(args: argparse.Namespace) -> None:
    """redis-server and the emulator as processes for the whole run; the cases one after another."""
    exe = shutil.which("redis-server")
    if exe is None:
        sys.exit("telegram_scale: redis-server is not installed (apt-get install redis-server)")
    with tempfile.TemporaryDirectory() as tmp:
        port = _free_port()
        redis_cmd = [
            exe,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--dir",
            tmp,
            "--save",
            "",
            "--appendonly",
            "no",
        ]
        redis_proc = subprocess.Popen(redis_cmd, stdout=subprocess.DEVNULL)
        emulator = subprocess.Popen(
            [sys.executable, "-m", "rholive.cli", "emulator", "--port", "0", "--audio-session-limit", "3600"],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        try:
            assert emulator.stdout is not None
            url = emulator.stdout.readline().rsplit(" ", 1)[-1].strip()
            env = {"emulator": url, "redis": f"redis://127.0.0.1:{port}/0"}
            note, seconds, source = make_note(Path(tmp))
            rows = asyncio.run(run_cases(args, env, note))
        finally:
            emulator.terminate()
            redis_proc.terminate()
            emulator.wait(10)
            redis_proc.wait(10)
    report(args, rows, seconds, source)


async def run_cases(args: argparse.Namespace, env: dict[str, str], note: bytes) -> list[Row]:
    rows = []
    cases = [("one process, SQLite (baseline)", 0)] + [
        (f"Redis, {n} worker{'s' if n > 1 else ''}", n) for n in args.workers
    ]
    for i, (name, workers) in enumerate(cases):
        print(f"case: {name} ...", file=sys.stderr, flush=True)
        rows.append(await run_case(name, workers, 100_000 * (i + 1), args, env, note))
    return rows


def report(args: argparse.Namespace, rows: list[Row], seconds: float, source: str) -> None:
    print(
        f"{args.chats} chats send one voice note each at once ({seconds:.2f} s of {source}). Machine: "
        f"{cpu_model()}, {os.cpu_count()} CPUs, Python {sys.version.split()[0]}. Telegram send limits: "
        f"{args.limits}; each answering process works on {args.max_chats} chats at once.\n"
    )
    print(
        "| case | turnaround median / p99 | notes/s | CPU per answering process | RSS per process | front CPU |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    base = statistics.median(rows[0].turnaround_s)
    for row in rows:
        ms = [s * 1000 for s in row.turnaround_s]
        cpu = " / ".join(f"{c:.1f}" for c in row.cpu_s)
        rss = " / ".join(f"{r:.0f}" for r in row.rss_mb)
        front = f"{row.front_cpu_s:.1f} s" if row.front_cpu_s is not None else "—"
        ratio = statistics.median(row.turnaround_s) / base
        print(
            f"| {row.name} | {statistics.median(ms):.0f} / {pct(ms, 0.99):.0f} ms ({ratio:.2f}×) "
            f"| {len(ms) / row.wall_s:.1f} | {cpu} s | {rss} MB | {front} |"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chats", type=int, default=200)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument(
        "--max-chats", type=int, default=8, help="chats each answering process works on at once"
    )
    parser.add_argument("--limits", choices=["off", "telegram"], default="off")
    parser.add_argument("--role", choices=["single", "front", "worker"], help=argparse.SUPPRESS)
    for flag in ("--api-url", "--emulator-url", "--redis", "--data-dir"):
        parser.add_argument(flag, help=argparse.SUPPRESS)
    parser.add_argument("--allow-from", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--allow-count", type=int, help=argparse.SUPPRESS)
    parsed = parser.parse_args()
    if parsed.role:
        asyncio.run(_child(parsed))
    else:
        main(parsed)
