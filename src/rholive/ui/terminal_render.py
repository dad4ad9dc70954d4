"""Rich renderables for the terminal view: the live region (status, meters, counters, the streaming answer)
and the history entries printed above it into the terminal's own scrollback.

Rendering is pure given a `Snapshot`; the only state kept is a cache of rendered lines, so a redraw caused by
a meter renders one line and a streaming answer renders only its last Markdown block again.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator

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
    if snap.cost:
        line.append(f" · {snap.cost}")
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
    run_char, run_style, run = "", _EMPTY, 0
    for i in range(cells):
        if i < bar.filled:
            # Zones by position: green up to -18 dBFS, yellow to -6, red above (scaled to the floor).
            db_at = floor_dbfs + (i + 1) / cells * -floor_dbfs
            char, style = "█", _CELL_STYLES[0 if db_at <= -18 else 1 if db_at <= -6 else 2]
        elif i == bar.peak:
            char, style = "▏", _PEAK
        else:
            char, style = "·", _EMPTY
        if (char, style) != (run_char, run_style) and run:
            line.append(run_char * run, run_style)  # one span per run of equal cells
            run = 0
        run_char, run_style, run = char, style, run + 1
    line.append(run_char * run, run_style)
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


def markdown_blocks(text: str) -> list[str]:
    """Splits Markdown at blank lines outside code fences where the next line starts a new top-level block
    (not indented), so finished paragraphs and code blocks of a streaming answer are rendered only once."""
    blocks: list[str] = []
    current: list[str] = []
    fence: str | None = None
    after_blank = False
    for line in text.split("\n"):
        stripped = line.lstrip()
        if fence is None and after_blank and stripped and not line[0].isspace() and current:
            blocks.append("\n".join(current).rstrip("\n"))
            current = []
        if stripped[:3] in ("```", "~~~"):
            fence = stripped[:3] if fence is None else None if stripped.startswith(fence) else fence
        after_blank = fence is None and not stripped
        current.append(line)
    if current and "\n".join(current).strip():
        blocks.append("\n".join(current).rstrip("\n"))
    return blocks


class _Lines:
    """Already rendered lines, yielded as they are."""

    def __init__(self, lines: list[list[Segment]]) -> None:
        self.lines = lines

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> Iterator[Segment]:
        for line in self.lines:
            yield from line
            yield Segment.line()


class LiveRegion:
    """Builds the live region for a snapshot. Every line (status, counters, each meter, each Markdown block of
    the answer) is rendered once per distinct content and width and then reused: a redraw caused by one meter
    renders that meter's line only."""

    def __init__(self, cache_lines: int = 512) -> None:
        self._cache: OrderedDict[Hashable, list[list[Segment]]] = OrderedDict()
        self._cache_size = cache_lines
        self.markdown_renders = 0  # Markdown blocks parsed and rendered (for tests and benchmarks)
        # The painter thread and rich's own redraw (when other output is printed) may render at once.
        self._lock = threading.Lock()

    def frame(self, snap: Snapshot, *, final: bool = False) -> RenderableType:
        return _Frame(self, snap, final)

    def lines(
        self, key: Hashable, console: Console, options: ConsoleOptions, make: Callable[[], RenderableType]
    ) -> list[list[Segment]]:
        key = (key, options.max_width)
        with self._lock:
            lines = self._cache.get(key)
            if lines is not None:
                self._cache.move_to_end(key)
                return lines
        lines = console.render_lines(make(), options.update(height=None), pad=False)
        with self._lock:
            self._cache[key] = lines
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return lines

    def answer_lines(self, console: Console, options: ConsoleOptions, text: str) -> list[list[Segment]]:
        out: list[list[Segment]] = []
        for block in markdown_blocks(text):
            if out:
                out.append([])  # the blank line rich's Markdown puts between blocks
            out += self.lines(("md", block), console, options, lambda b=block: self._markdown(b))
        return out

    def _markdown(self, block: str) -> Markdown:
        self.markdown_renders += 1
        return Markdown(block)


class _Frame:
    def __init__(self, region: LiveRegion, snap: Snapshot, final: bool) -> None:
        self.region, self.snap, self.final = region, snap, final

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        snap, region, width = self.snap, self.region, options.max_width
        out = region.lines(
            ("status", snap.status, snap.detail, snap.tokens, snap.cost),
            console,
            options,
            lambda: status_line(snap),
        )
        out = out + region.lines(
            ("frames", snap.frames_sent, snap.frames_skipped), console, options, lambda: frames_line(snap)
        )
        if not self.final:
            cells = meter_width(width)
            for name, reading in snap.meters:
                key = (
                    "meter",
                    name,
                    cells,
                    to_cells(reading, cells, snap.floor_dbfs),
                    reading.level <= SILENCE_DBFS,
                    None if reading.peak <= SILENCE_DBFS else round(reading.peak),
                )
                out += region.lines(
                    key, console, options, lambda n=name, r=reading: meter_line(n, r, snap.floor_dbfs, cells)
                )
        if snap.streaming is not None:
            head = len(out)
            title = "answer (cut off)" if self.final else "answer · streaming"
            out += region.lines(
                ("rule", title), console, options, lambda: Rule(title, style="green", align="left")
            )
            if looks_like_marker(snap.streaming):
                out += region.lines(("wait",), console, options, lambda: Text("…", style="dim"))
            else:
                lines = region.answer_lines(console, options, snap.streaming)
                if not self.final:
                    # The tail while it streams: what fits under the header, leaving a line for the cursor.
                    room = max(MIN_ANSWER_LINES, options.max_height - head - 2)
                    lines = lines[-room:]
                out += lines
        yield _Lines(out)
