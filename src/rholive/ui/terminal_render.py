"""Rich renderables for the terminal view: the live region (status, meters, counters, the streaming answer)
and the history entries printed above it into the terminal's own scrollback.

Rendering is pure given a `Snapshot`; the only state kept is a cache of the streamed answer's rendered lines,
so a redraw caused by a meter does not parse the Markdown again.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.markdown import Markdown
from rich.rule import Rule
from rich.segment import Segment
from rich.style import Style
from rich.text import Text

from rholive.ui.dashboard import ANSWER, Entry, Snapshot, looks_like_marker
from rholive.ui.meter import SILENCE_DBFS, MeterReading, to_cells

METER_CELLS = 32
MIN_ANSWER_LINES = 3
STATUS_STYLE = {
    "connecting": "yellow",
    "connected": "green",
    "reconnecting": "bold yellow",
    "listening": "bold green",
    "thinking": "bold cyan",
    "paused": "bold magenta",
    "closed": "red",
}
WHO_STYLE = {"me": "bold cyan", "them": "bold magenta", "screen": "bold blue", ANSWER: "bold green"}
_CELL_STYLES = (Style(color="green"), Style(color="yellow"), Style(color="red"))
_EMPTY = Style(dim=True)
_PEAK = Style(color="white", bold=True)


def meter_width(console_width: int) -> int:
    """Cells of a meter bar on a console this wide (the label and the numbers take ~24 columns)."""
    return max(8, min(METER_CELLS, console_width - 24))


def status_line(snap: Snapshot) -> Text:
    line = Text(no_wrap=True, overflow="ellipsis")
    line.append("● ", style=STATUS_STYLE.get(snap.status, ""))
    line.append(snap.status, style=STATUS_STYLE.get(snap.status, ""))
    if snap.detail:
        line.append(f" ({snap.detail})", style="dim")
    line.append(f"   tokens {snap.tokens:,}")
    return line


def frames_line(snap: Snapshot) -> Text:
    skipped = sum(n for _, n in snap.frames_skipped)
    line = Text(
        f"screen frames {snap.frames_sent:,} sent · {skipped:,} skipped", no_wrap=True, overflow="ellipsis"
    )
    if snap.frames_skipped:
        reasons = ", ".join(f"{reason} {n:,}" for reason, n in snap.frames_skipped)
        line.append(f" ({reasons})", style="dim")
    return line


def meter_line(name: str, reading: MeterReading, floor_dbfs: float, cells: int) -> Text:
    bar = to_cells(reading, cells, floor_dbfs)
    line = Text(f"{name:<5} ", no_wrap=True, overflow="ellipsis")
    for i in range(cells):
        # Zones by position: green up to -18 dBFS, yellow to -6, red above (scaled to the floor).
        db_at = floor_dbfs + (i + 1) / cells * -floor_dbfs
        zone = 0 if db_at <= -18 else 1 if db_at <= -6 else 2
        if i < bar.filled:
            line.append("█", _CELL_STYLES[zone])
        elif i == bar.peak:
            line.append("▏", _PEAK)
        else:
            line.append("·", _EMPTY)
    level = "  silent" if reading.level <= SILENCE_DBFS else f"{bar.level_db:>4d} dBFS"
    line.append(f" {level}")
    if reading.peak > SILENCE_DBFS:
        line.append(f"  peak {round(reading.peak):>4d}", style="dim")
    return line


def entry_renderable(entry: Entry) -> RenderableType:
    """One history entry as printed into the scrollback: `who: text`, answers as Markdown under their label."""
    label = Text(f"{entry.who}:", style=WHO_STYLE.get(entry.who, "bold"))
    if entry.who != ANSWER:
        return Text.assemble(label, " ", entry.text)
    return Group(label, Markdown(entry.text), Text(""))


class _Lines:
    """Already rendered lines, yielded as they are (the cache of the streamed answer)."""

    def __init__(self, lines: list[list[Segment]]) -> None:
        self.lines = lines

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> Iterator[Segment]:
        for line in self.lines:
            yield from line
            yield Segment.line()


class LiveRegion:
    """Builds the live region for a snapshot; caches the answer's rendered Markdown by (text, width)."""

    def __init__(self) -> None:
        self._cache_key: tuple[str, int] | None = None
        self._cache_lines: list[list[Segment]] = []
        self.markdown_renders = 0  # how often the answer was parsed and rendered (for tests and benchmarks)
        # The painter thread and rich's own redraw (when other output is printed) may render at once.
        self._lock = threading.Lock()

    def frame(self, snap: Snapshot, *, final: bool = False) -> RenderableType:
        return _Frame(self, snap, final)

    def answer_lines(self, console: Console, options: ConsoleOptions, text: str) -> list[list[Segment]]:
        key = (text, options.max_width)
        with self._lock:
            if key != self._cache_key:
                self._cache_lines = console.render_lines(
                    Markdown(text), options.update(height=None), pad=False
                )
                self._cache_key = key
                self.markdown_renders += 1
            return self._cache_lines


class _Frame:
    def __init__(self, region: LiveRegion, snap: Snapshot, final: bool) -> None:
        self.region, self.snap, self.final = region, snap, final

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        snap, width = self.snap, options.max_width
        head: list[RenderableType] = [status_line(snap), frames_line(snap)]
        if not self.final:
            cells = meter_width(width)
            head += [meter_line(name, reading, snap.floor_dbfs, cells) for name, reading in snap.meters]
        yield from head
        if snap.streaming is None:
            return
        title = "answer (cut off)" if self.final else "answer · streaming"
        yield Rule(title, style="green", align="left")
        if looks_like_marker(snap.streaming):
            yield Text("…", style="dim")
            return
        lines = self.region.answer_lines(console, options, snap.streaming)
        if not self.final:
            # The tail while it streams: what fits under the header, leaving a line for the cursor.
            room = max(MIN_ANSWER_LINES, options.max_height - len(head) - 2)
            lines = lines[-room:]
        yield _Lines(lines)
