"""Survival under the service's failures: N numbered turns through ``rholive chat`` against ``rholive emulator
--chaos RATE --seed S``, with every failure kind drawn, and the same turns with ``--chaos 0`` as the baseline of
the same run.

Each typed line is ``qNNN``; the echo brain answers ``You said: "qNNN".``, so every answer names its turn. From
``chat --json``: turns lost (no answer names them), turns answered twice, answers cut (``answer_cut``) and
repeated, stalls detected (``stall``) and recovered (answered after it), contexts restored, reconnects, whether
the session was alive at the end (exit code 0, no error ``closed``), and the wall time.

Run: ``uv run python benchmarks/chaos.py [--turns 100] [--rate 0.33] [--seeds 1,2,3]``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path

from machine_info import cpu_model

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "chaos.json"
RHOLIVE = [sys.executable, "-m", "rholive"]
TURN = re.compile(r"q(\d{3})")


@dataclass
class Run:
    rate: float
    seed: int
    turns: int
    lost: int
    doubled: int
    cut: int
    stalls: int
    stalls_recovered: int
    restored: int
    reconnects: int
    alive: bool
    seconds: float
    injected: dict[str, int]


class Emulator:
    """``rholive emulator`` in a child process on a free port. Connections last ``lifetime_s`` (goAway 1 s
    before), like the service's ~10 min scaled down, so a run crosses many connections and chaos hits some."""

    def __init__(self, rate: float, seed: int, lifetime_s: float | None, extra: tuple[str, ...] = ()) -> None:
        args = [*RHOLIVE, "emulator", "--port", "0", "--chaos", str(rate), "--seed", str(seed), *extra]
        if lifetime_s is not None:
            args += ["--connection-lifetime", str(lifetime_s), "--goaway-notice", "1"]
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        first = self.proc.stdout.readline()
        match = re.search(r"listening on (\S+)", first)
        if match is None:
            self.proc.kill()
            raise RuntimeError(f"emulator did not start: {first!r} {self.proc.stderr.read()}")  # type: ignore[union-attr]
        self.url = match.group(1)

    def stop(self) -> str:
        self.proc.terminate()
        _, err = self.proc.communicate(timeout=10)
        return err


def injected_kinds(emulator_stderr: str) -> dict[str, int]:
    """The emulator logs each injected failure as ``chaos: <kind>``."""
    return dict(Counter(re.findall(r"chaos: (\w[\w-]*)", emulator_stderr)))


def drive(
    turns: int,
    rate: float,
    seed: int,
    pace_s: float,
    lifetime_s: float | None,
    timeout_s: float,
    extra: tuple[str, ...] = (),
) -> Run:
    """One ``rholive chat --json`` typed into at a human pace (a line every ``pace_s``; chat queues a line
    that arrives during an answer)."""
    emulator = Emulator(rate, seed, lifetime_s, extra)
    env = {k: v for k, v in os.environ.items() if k not in ("GEMINI_API_KEY", "RHOLIVE_API_KEY")}
    started = time.perf_counter()
    chat = subprocess.Popen(
        [*RHOLIVE, "chat", "--base-url", emulator.url, "--json"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    out: list[str] = []
    reader = threading.Thread(target=lambda: out.extend(chat.stdout), daemon=True)  # type: ignore[arg-type]
    reader.start()
    assert chat.stdin is not None
    try:
        for i in range(1, turns + 1):
            chat.stdin.write(f"q{i:03d}\n")
            chat.stdin.flush()
            time.sleep(pace_s)
        chat.stdin.close()
        alive_exit = chat.wait(timeout=timeout_s) == 0
    except (subprocess.TimeoutExpired, BrokenPipeError):
        chat.kill()
        alive_exit = False
    reader.join(timeout=10)
    stdout = "".join(out)
    seconds = time.perf_counter() - started
    injected = injected_kinds(emulator.stop())
    events = [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]
    return summarize(events, turns, rate, seed, seconds, alive_exit, injected)


def summarize(
    events: list[dict[str, object]],
    turns: int,
    rate: float,
    seed: int,
    seconds: float,
    alive_exit: bool,
    injected: dict[str, int],
) -> Run:
    answered: Counter[int] = Counter()
    stalled_turns: list[int] = []
    pending: int | None = None
    for event in events:
        kind = event["event"]
        if kind == "user_turn":
            match = TURN.search(str(event.get("text", "")))
            pending = int(match.group(1)) if match else None
        elif kind == "answer":
            for number in {int(n) for n in TURN.findall(str(event.get("text", "")))}:
                answered[number] += 1
        elif pending is not None and (
            kind == "stall" or (kind == "reconnecting" and str(event.get("reason", "")).startswith("stall"))
        ):
            stalled_turns.append(pending)  # the watchdog saw it: a reconnect (first time) or a `stall` event
    cut = sum(1 for e in events if e["event"] == "answer_cut")
    closed_in_error = any(e["event"] == "closed" and e.get("error") for e in events)
    return Run(
        rate=rate,
        seed=seed,
        turns=turns,
        lost=sum(1 for n in range(1, turns + 1) if answered[n] == 0),
        # a cut answer and its repeat are one answer shown once (the cut part is marked), not a double
        doubled=sum(1 for n in range(1, turns + 1) if answered[n] > 1 + _cuts_of(events, n)),
        cut=cut,
        stalls=len(stalled_turns),
        stalls_recovered=sum(1 for n in stalled_turns if answered[n] > 0),
        restored=sum(1 for e in events if e["event"] == "context_restored"),
        reconnects=sum(1 for e in events if e["event"] == "reconnecting"),
        alive=alive_exit and not closed_in_error,
        seconds=round(seconds, 2),
        injected=injected,
    )


def _cuts_of(events: list[dict[str, object]], number: int) -> int:
    """Answers to turn ``number`` that were marked cut (their repeat follows)."""
    cuts, last_answer = 0, None
    for event in events:
        if event["event"] == "answer":
            last_answer = {int(n) for n in TURN.findall(str(event.get("text", "")))}
        elif event["event"] == "answer_cut" and last_answer and number in last_answer:
            cuts += 1
    return cuts


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--turns", type=int, default=100)
    parser.add_argument("--rate", type=float, default=0.33)
    parser.add_argument("--seeds", default="1,2,3")
    parser.add_argument("--pace", type=float, default=0.5, help="seconds between typed lines")
    parser.add_argument(
        "--lifetime", type=float, default=4.0, help="seconds a connection lasts (goAway 1 s before)"
    )
    parser.add_argument("--timeout", type=float, default=300.0, help="after the last line, seconds")
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    runs: list[Run] = []
    for seed in seeds:
        for rate in (0.0, args.rate):  # the baseline first, same seed, same machine, same run
            run = drive(args.turns, rate, seed, args.pace, args.lifetime, args.timeout)
            runs.append(run)
            print(json.dumps(asdict(run)), flush=True)
    # the watchdog's own path: a stall with no connection rotation to hide it (one turn never answered)
    stall_run = drive(10, 0.0, 0, args.pace, None, args.timeout, ("--stall-after", "3"))
    print(json.dumps(asdict(stall_run)), flush=True)
    chaos = [r for r in runs if r.rate > 0]
    calm = [r for r in runs if r.rate == 0]
    print(
        f"\n{platform.node()} ({cpu_model()}, {os.cpu_count()} cores), {args.turns} turns x {len(seeds)} seeds, "
        f"--chaos {args.rate}, a line every {args.pace:g} s, connections of {args.lifetime:g} s:"
    )
    print(
        "| run | lost | answered twice | cut (marked) | stalls recovered | restored | reconnects | alive | "
        "time (median) |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for name, group in (("--chaos 0 (baseline)", calm), (f"--chaos {args.rate}", chaos)):
        print(
            f"| {name} | {sum(r.lost for r in group)} | {sum(r.doubled for r in group)} | "
            f"{sum(r.cut for r in group)} | {sum(r.stalls_recovered for r in group)} of "
            f"{sum(r.stalls for r in group)} | {sum(r.restored for r in group)} | "
            f"{sum(r.reconnects for r in group)} | {sum(r.alive for r in group)} of {len(group)} | "
            f"{statistics.median(r.seconds for r in group):.1f} s |"
        )
    print(
        f"| --stall-after 3, 10 turns, no rotation | {stall_run.lost} | {stall_run.doubled} | {stall_run.cut} | "
        f"{stall_run.stalls_recovered} of {stall_run.stalls} | {stall_run.restored} | {stall_run.reconnects} | "
        f"{int(stall_run.alive)} of 1 | {stall_run.seconds:.1f} s |"
    )
    injected: Counter[str] = Counter()
    for run in chaos:
        injected.update(run.injected)
    print(f"failures injected: {dict(sorted(injected.items()))}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps([asdict(r) for r in [*runs, stall_run]], indent=1))


if __name__ == "__main__":
    main()
