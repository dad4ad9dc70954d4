"""Voice-note turnaround of the Telegram bot: one chat note after note, then 100 chats sending a note at once.

Turnaround = the voice-note update reached our handler → the reply voice note was uploaded (sendVoice
returned). Overhead = turnaround minus the model's own time (from our activityEnd to its turnComplete): what
downloading, decoding, streaming, encoding and uploading cost. The Live peer is the emulator, in a child
process so that the CPU and memory figures are the bot's (the fake Bot API shares the bot's process: its
share is included). Run: ``uv run python benchmarks/telegram_turnaround.py [--chats 100] [--notes 20]``.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import os
import resource
import shutil
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

from tests.telegram.fake_bot_api import FakeBotAPI  # noqa: E402

from rholive.audio.codec import decode_pcm16, duration_s, encode_ogg_opus  # noqa: E402
from rholive.config import Settings  # noqa: E402
from rholive.live import Endpoint  # noqa: E402
from rholive.telegram import ChatOptions, PacingOptions, Timing, VoiceNoteBot  # noqa: E402

TOKEN = "123456789:AABenchmarkTokenNotReal_abcdefghijklmn"
SENTENCE = "Hello, could you tell me what the weather will be like tomorrow morning?"


def _serve_emulator(ready: mp.Queue, stop: mp.Event) -> None:  # type: ignore[type-arg]
    from rholive.emulator import Emulator, EmulatorOptions

    async def main() -> None:
        async with Emulator(EmulatorOptions(audio_session_limit_s=None)) as emu:
            ready.put(emu.url)
            await asyncio.to_thread(stop.wait)

    asyncio.run(main())


def make_note(folder: Path) -> tuple[bytes, float, str]:
    exe = shutil.which("espeak-ng")
    if exe is not None:
        wav = folder / "note.wav"
        subprocess.run([exe, "-w", str(wav), SENTENCE], check=True, capture_output=True)
        pcm, source = decode_pcm16(wav, 16000), "espeak-ng speech"
    else:
        import numpy as np

        t = np.arange(int(2.5 * 16000)) / 16000
        pcm, source = (
            (np.sin(2 * np.pi * 220 * t) * 8000).astype("<i2").tobytes(),
            "a 220 Hz tone (no espeak-ng)",
        )
    ogg = encode_ogg_opus(pcm, 16000)
    return ogg, duration_s(decode_pcm16(ogg, 16000), 16000), source


@dataclass
class Row:
    name: str
    notes: int
    timings: list[Timing]
    end_to_end_s: list[float]
    wall_s: float
    cpu_s: float
    rss_mb: float
    peak_mb: float


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


async def run_case(
    name: str,
    api: FakeBotAPI,
    endpoint: Endpoint,
    workdir: Path,
    note: bytes,
    chats: list[int],
    rounds: int,
    options: ChatOptions,
    pacing: PacingOptions,
) -> Row:
    timings: list[Timing] = []
    end_to_end: list[float] = []  # the user sent the note → the reply was uploaded
    pushed: dict[int, float] = {}
    arrived = asyncio.Event()
    loop = asyncio.get_running_loop()

    def record(timing: Timing) -> None:
        timings.append(timing)
        end_to_end.append(loop.time() - pushed[timing.chat_id])
        arrived.set()

    async def until(count: int) -> None:
        async with asyncio.timeout(600):
            while len(timings) < count:
                arrived.clear()
                await arrived.wait()

    settings = Settings(api_key=None, data_dir=workdir)
    process = psutil.Process()
    bot = VoiceNoteBot(
        settings,
        endpoint,
        TOKEN,
        api_url=api.url,
        allow=chats,
        options=options,
        pacing=pacing,
        db_path=workdir / f"{name.replace(' ', '_')}.sqlite3",
        on_timing=record,
        polling_timeout=1,
    )
    async with bot:
        # warm-up: one note per chat opens its session (not counted)
        for chat in chats[:1]:
            pushed[chat] = loop.time()
            api.push_voice(chat, note, duration=3)
        await until(1)
        timings.clear()
        end_to_end.clear()
        cpu0, wall0 = sum(process.cpu_times()[:2]), time.perf_counter()
        for _ in range(rounds):
            expected = len(timings) + len(chats)
            for chat in chats:
                pushed[chat] = loop.time()
                api.push_voice(chat, note, duration=3)
            await until(expected)
        wall = time.perf_counter() - wall0
        cpu = sum(process.cpu_times()[:2]) - cpu0
        rss = process.memory_info().rss / 2**20
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return Row(name, rounds * len(chats), list(timings), end_to_end, wall, cpu, rss, peak)


async def main(args: argparse.Namespace) -> None:
    ctx = mp.get_context("spawn")
    ready: mp.Queue = ctx.Queue()  # type: ignore[type-arg]
    stop = ctx.Event()
    child = ctx.Process(target=_serve_emulator, args=(ready, stop), daemon=True)
    child.start()
    try:
        url = await asyncio.to_thread(ready.get, True, 60)
        base_mb = psutil.Process().memory_info().rss / 2**20
        endpoint = Endpoint(base_url=url)
        with tempfile.TemporaryDirectory() as tmp:
            workdir = Path(tmp)
            note, seconds, source = make_note(workdir)
            off = PacingOptions(per_chat_interval_s=0.0, global_rate=0.0)
            rows: list[Row] = []
            async with FakeBotAPI(TOKEN) as api:
                rows.append(
                    await run_case(
                        "1 chat, notes in a row",
                        api,
                        endpoint,
                        workdir,
                        note,
                        [1],
                        args.notes,
                        ChatOptions(),
                        off,
                    )
                )
                many = list(range(10_000, 10_000 + args.chats))
                rows.append(
                    await run_case(
                        f"{args.chats} chats at once, no limits",
                        api,
                        endpoint,
                        workdir,
                        note,
                        many,
                        1,
                        ChatOptions(max_active_chats=args.chats),
                        off,
                    )
                )
                many = list(range(20_000, 20_000 + args.chats))
                rows.append(
                    await run_case(
                        f"{args.chats} chats at once, defaults",
                        api,
                        endpoint,
                        workdir,
                        note,
                        many,
                        1,
                        ChatOptions(),
                        PacingOptions(),
                    )
                )
    finally:
        stop.set()
        child.join(10)

    print(
        f"Voice note: {seconds:.2f} s of {source}, OGG/Opus {len(note)} bytes. "
        f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]}. Baseline RSS before the bot: {base_mb:.0f} MB."
    )
    print("Defaults: max_active_chats=8, global 30 sends/s, 1 s between sends to one chat.\n")
    print(
        "| case | notes | turnaround median / p99 | overhead median / p99 | user-to-reply median / p99 "
        "| model median | wall | bot CPU (per note) | RSS after / peak |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for row in rows:
        total = [t.total_s * 1000 for t in row.timings]
        over = [t.overhead_s * 1000 for t in row.timings]
        e2e = [s * 1000 for s in row.end_to_end_s]
        model = [t.model_s * 1000 for t in row.timings]
        print(
            f"| {row.name} | {row.notes} | {statistics.median(total):.0f} / {pct(total, 0.99):.0f} ms "
            f"| {statistics.median(over):.0f} / {pct(over, 0.99):.0f} ms "
            f"| {statistics.median(e2e):.0f} / {pct(e2e, 0.99):.0f} ms | {statistics.median(model):.0f} ms "
            f"| {row.wall_s:.2f} s | {row.cpu_s:.2f} s ({1000 * row.cpu_s / row.notes:.0f} ms) "
            f"| {row.rss_mb:.0f} / {row.peak_mb:.0f} MB |"
        )
    print(
        "\nturnaround: update handed to the bot → reply uploaded; overhead: turnaround minus the model's time "
        "(activityEnd → turnComplete); user-to-reply: the fake Bot API got the note → reply uploaded "
        "(includes long-poll delivery and queueing). Bot CPU includes the in-process fake Bot API."
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chats", type=int, default=100)
    parser.add_argument("--notes", type=int, default=20)
    asyncio.run(main(parser.parse_args()))
