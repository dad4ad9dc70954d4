"""CPU of the terminal view while the copilot runs: rholive's TerminalView vs the obvious rich Live.

    uv run python benchmarks/terminal_redraw.py [--duration 8] [--repeats 3] [--quick]

Each (view, scenario) runs in a fresh child process that feeds the view through the `CopilotView` calls the
runtime makes, in real time, and draws to a 120x40 truecolor terminal whose output goes to /dev/null (so
what is measured is the view's own work: state, layout, rendering, ANSI encoding; not a terminal emulator).
CPU = the child's user+system time over wall time (100 % = one core), all threads included.

Scenarios:
- idle: both meters silent (-100 dBFS, 10 readings a second each), nothing else happens.
- listening: both meters moving (speech-like levels, 10 readings a second each), frame counts every
  second, token totals every 5 s.
- answering: listening, plus a turn and a ~700-character answer with a code block streamed in 20 deltas
  over 2 s, every 2 s: the worst case, an answer always streaming.

Views:
- feeder only: the calls go to a view that does nothing: the floor (the benchmark's own feeding).
- rholive: TerminalView (redraws only on a visible change, at most 10 Hz, by its painter thread; history
  printed once into the scrollback; the answer's Markdown rendered once per change).
- baseline: rich Live with auto_refresh at 10 Hz, rebuilding everything (status, meters, the answer's
  Markdown, a table of the last 20 history entries) on every refresh — the straightforward way.

Results: a markdown table on stdout (medians over the repeats) and benchmarks/results/terminal_redraw.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import statistics
import subprocess
import sys
import time
from collections import deque
from pathlib import Path

from machine_info import cpu_model
from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.markdown import Markdown
from rich.table import Table
from rich.text import Text

from rholive.ui.terminal import TerminalView

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "terminal_redraw.json"
SCENARIOS = ("idle", "listening", "answering")
VIEWS = ("feeder only", "rholive", "baseline")
TICK_S = 0.1
ANSWER = (
    "The loop is quadratic because `list.index` scans the list on every pass. Build a dict once instead, "
    "then each lookup is constant time:\n\n```python\ndef two_sum(nums, target):\n    seen = {}\n"
    "    for i, n in enumerate(nums):\n        if target - n in seen:\n            return seen[target - n], i\n"
    "        seen[n] = i\n    return None\n```\n\nThat makes it **O(n)** time and O(n) memory. If the input is "
    "sorted, two pointers from both ends also work in O(1) extra memory.\n"
)


class NullView:
    redraws = 0

    def start(self) -> None: ...
    def stop(self) -> None: ...
    def set_status(self, status: str, detail: str = "") -> None: ...
    def set_level(self, source: str, dbfs: float) -> None: ...
    def set_frames(self, sent: int, skipped: dict[str, int]) -> None: ...
    def set_tokens(self, total: int) -> None: ...
    def user_turn(self, who: str, text: str) -> None: ...
    def answer_delta(self, text: str) -> None: ...
    def answer_done(self, shown: bool) -> None: ...


class BaselineView(NullView):
    """Everything rebuilt on each of rich's own 10 Hz refreshes."""

    def __init__(self, console: Console) -> None:
        self.status, self.levels, self.frames, self.tokens = "connecting", {}, (0, {}), 0
        self.answer: str | None = None
        self.history: deque[tuple[str, str]] = deque(maxlen=20)
        self.live = Live(console=console, get_renderable=self.build, refresh_per_second=10, transient=False)

    def build(self) -> RenderableType:
        self.redraws += 1
        parts: list[RenderableType] = [Text(f"● {self.status}   tokens {self.tokens:,}")]
        sent, skipped = self.frames
        parts.append(Text(f"frames {sent} sent, {sum(skipped.values())} skipped {skipped}"))
        for name, dbfs in list(self.levels.items()):
            filled = max(0, int((dbfs + 60) / 60 * 32))
            parts.append(Text(f"{name:<5} " + "█" * filled + "·" * (32 - filled) + f" {dbfs:.0f} dBFS"))
        table = Table("who", "text", show_header=False)
        for who, text in list(self.history)[-8:]:
            table.add_row(who, text)
        parts.append(table)
        if self.answer:
            parts.append(Markdown(self.answer))
        return Group(*parts)

    def start(self) -> None:
        self.live.start()

    def stop(self) -> None:
        self.live.stop()

    def set_status(self, status: str, detail: str = "") -> None:
        self.status = status

    def set_level(self, source: str, dbfs: float) -> None:
        self.levels[source] = dbfs

    def set_frames(self, sent: int, skipped: dict[str, int]) -> None:
        self.frames = (sent, dict(skipped))

    def set_tokens(self, total: int) -> None:
        self.tokens = total

    def user_turn(self, who: str, text: str) -> None:
        self.history.append((who, text))

    def answer_delta(self, text: str) -> None:
        self.answer = (self.answer or "") + text

    def answer_done(self, shown: bool) -> None:
        if shown and self.answer:
            self.history.append(("copilot", self.answer))
        self.answer = None


def make_view(kind: str, console: Console) -> NullView | TerminalView:
    if kind == "rholive":
        return TerminalView(console, max_fps=10.0)
    if kind == "baseline":
        return BaselineView(console)
    return NullView()


def feed(view: NullView | TerminalView, scenario: str, duration_s: float) -> None:
    """The runtime's calls in real time, paced by absolute deadlines (a 100 ms tick)."""
    rng = random.Random(7)
    deltas = [ANSWER[i : i + len(ANSWER) // 20 + 1] for i in range(0, len(ANSWER), len(ANSWER) // 20 + 1)]
    view.set_status("listening")
    t0 = time.monotonic()
    sent, skipped = 0, {"unchanged": 0, "small_change": 0}
    for tick in range(int(duration_s / TICK_S)):
        due = t0 + tick * TICK_S
        wait = due - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        for source in ("me", "them"):
            view.set_level(source, -100.0 if scenario == "idle" else rng.uniform(-60.0, -8.0))
        if scenario == "idle":
            continue
        if tick % 10 == 0:
            sent += 1
            skipped["unchanged"] += rng.randint(0, 3)
            view.set_frames(sent, skipped)
        if tick % 50 == 0:
            view.set_tokens(tick * 37)
        if scenario == "answering":
            step = tick % 20
            if step == 0:
                view.user_turn("them", "why is my two_sum so slow on big inputs?")
            view.answer_delta(deltas[step] if step < len(deltas) else "")
            if step == 19:
                view.answer_done(True)


def run_one(kind: str, scenario: str, duration_s: float) -> dict[str, float]:
    with open(os.devnull, "w") as sink:
        console = Console(file=sink, force_terminal=True, width=120, height=40, color_system="truecolor")
        view = make_view(kind, console)
        view.start()
        r0, w0 = resource.getrusage(resource.RUSAGE_SELF), time.monotonic()
        feed(view, scenario, duration_s)
        r1, w1 = resource.getrusage(resource.RUSAGE_SELF), time.monotonic()
        redraws = view.redraws
        view.stop()
    cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    wall = w1 - w0
    return {"cpu_percent": 100.0 * cpu / wall, "redraws_per_s": redraws / wall, "wall_s": wall}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=8.0, help="seconds per run")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="3 s runs, 1 repeat")
    parser.add_argument("--child", nargs=3, metavar=("VIEW", "SCENARIO", "DURATION"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, scenario, duration = args.child
        print(json.dumps(run_one(kind, scenario, float(duration))))
        return
    duration, repeats = (3.0, 1) if args.quick else (args.duration, args.repeats)
    results: dict[str, dict[str, dict[str, float]]] = {}
    for scenario in SCENARIOS:
        for kind in VIEWS:
            runs = []
            for _ in range(repeats):
                child = [sys.executable, __file__, "--child", kind, scenario, str(duration)]
                out = subprocess.run(child, check=True, capture_output=True, text=True).stdout
                runs.append(json.loads(out.strip().splitlines()[-1]))
            results.setdefault(scenario, {})[kind] = {
                key: statistics.median(run[key] for run in runs) for key in ("cpu_percent", "redraws_per_s")
            }
            print(f"{scenario:<10} {kind:<12} {results[scenario][kind]}", file=sys.stderr)
    machine = f"{cpu_model()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    print(f"Terminal view CPU ({machine}; {duration:g} s runs, median of {repeats}; 120x40 terminal)\n")
    print("| scenario | view | CPU (% of one core) | redraws/s | CPU ms per redraw |")
    print("|---|---|---:|---:|---:|")
    for scenario, by_view in results.items():
        for kind, row in by_view.items():
            rate = row["redraws_per_s"]
            per = f"{row['cpu_percent'] * 10 / rate:.2f}" if rate >= 0.5 else "–"
            print(f"| {scenario} | {kind} | {row['cpu_percent']:.2f} | {rate:.1f} | {per} |")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {"machine": machine, "duration_s": duration, "repeats": repeats, "results": results}, indent=2
        )
        + "\n"
    )


if __name__ == "__main__":
    main()
