"""``rholive history``: the transcript store as a table of sessions, one conversation, or Markdown.

The formatting functions are pure (summaries and entries in, text out; ``tz`` None means local time);
`main` does the I/O.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterable
from datetime import datetime, tzinfo
from pathlib import Path
from typing import TextIO

from rholive.copilot.store import (
    Entry,
    SessionSummary,
    SessionUsage,
    TranscriptStore,
    UnknownSessionError,
)
from rholive.live import format_usd

NO_SESSIONS = "no sessions yet"
NOT_ENDED = "not ended (still running, or its process stopped without ending it)"
_DEFAULT_KIND = {"me": "audio", "them": "audio", "screen": "screen", "copilot": "answer"}
_WHO_WIDTH = 7  # "copilot"
_FENCE = re.compile(r"^ {0,3}(```|~~~)")
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>#|])")


def _time(at: float, tz: tzinfo | None, fmt: str) -> str:
    return datetime.fromtimestamp(at, tz).astimezone(tz).strftime(fmt)


def duration(seconds: float) -> str:
    """``45s``, ``17m39s``, ``2h05m``."""
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


def _span(summary: SessionSummary) -> str:
    return "open" if summary.ended is None else duration(summary.ended - summary.started)


def _tokens(usage: SessionUsage) -> str:
    parts = [f"prompt {usage.prompt_tokens:,}", f"response {usage.response_tokens:,}"]
    details = ", ".join(parts)
    if usage.by_modality:
        details += "; " + ", ".join(f"{name} {n:,}" for name, n in sorted(usage.by_modality.items()))
    return f"{usage.total_tokens:,} ({details}) in {_count(usage.reports, 'report')}"


def _cost(cost_usd: float | None) -> str:
    """The session's estimated cost, or why there is none (never a made-up $0)."""
    return "no estimate" if cost_usd is None else f"{format_usd(cost_usd)} (estimated)"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'s' * (n != 1)}"


def _label(entry: Entry) -> str:
    if entry.kind == _DEFAULT_KIND.get(entry.who):
        return entry.who
    return f"{entry.who} ({entry.kind})"


# -- the table of sessions ------------------------------------------------------------------------------

_COLUMNS = ("SESSION", "STARTED", "LENGTH", "KIND", "MODEL", "TURNS", "ANSWERS", "TOKENS", "COST")


def _rows(summaries: Iterable[SessionSummary], tz: tzinfo | None) -> list[tuple[str, ...]]:
    return [
        (
            s.id,
            _time(s.started, tz, "%Y-%m-%d %H:%M"),
            _span(s),
            s.kind,
            s.model,
            str(s.turns),
            str(s.answers),
            f"{s.tokens:,}",
            "-" if s.cost_usd is None else format_usd(s.cost_usd),
        )
        for s in summaries
    ]


def sessions_lines(summaries: Iterable[SessionSummary], tz: tzinfo | None = None) -> list[str]:
    """A plain table (columns aligned with spaces), for pipes and files."""
    rows = [_COLUMNS, *_rows(summaries, tz)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(_COLUMNS))]
    numeric = {5, 6, 7, 8}
    return [
        "  ".join(
            cell.rjust(widths[i]) if i in numeric else cell.ljust(widths[i]) for i, cell in enumerate(row)
        ).rstrip()
        for row in rows
    ]


def sessions_table(summaries: Iterable[SessionSummary], tz: tzinfo | None = None) -> object:
    """The same table for a terminal (a `rich.table.Table`)."""
    from rich.table import Table

    table = Table(box=None, header_style="bold", pad_edge=False)
    for i, name in enumerate(_COLUMNS):
        table.add_column(name.lower(), justify="right" if i >= 5 else "left", no_wrap=i < 3)
    for row in _rows(summaries, tz):
        table.add_row(*row)
    return table


# -- one conversation, plain -----------------------------------------------------------------------------


def conversation_lines(
    summary: SessionSummary, entries: Iterable[Entry], usage: SessionUsage, tz: tzinfo | None = None
) -> list[str]:
    ended = NOT_ENDED
    if summary.ended is not None:
        ended = f"ended {_time(summary.ended, tz, '%H:%M:%S')} ({_span(summary)})"
    head = f"session {summary.id} · {summary.kind} · {summary.model}"
    if summary.persona:
        head += f" · persona: {_first_line(summary.persona, 60)}"
    lines = [
        head,
        f"started {_time(summary.started, tz, '%Y-%m-%d %H:%M:%S')}, {ended} · "
        f"{_count(summary.turns, 'turn')} · {_count(summary.answers, 'answer')}",
        f"tokens: {_tokens(usage)}",
        f"cost: {_cost(usage.cost_usd)}",
        "",
    ]
    entries = list(entries)
    width = max([_WHO_WIDTH, *(len(_label(entry)) for entry in entries)])
    indent = " " * (len("00:00:00  ") + width + 2)
    day = _time(summary.started, tz, "%Y-%m-%d")
    for entry in entries:
        if (entry_day := _time(entry.at, tz, "%Y-%m-%d")) != day:
            day = entry_day
            lines.append(f"-- {day}")
        text = entry.text.strip() or "(no transcription)"
        first, *rest = text.splitlines() or [""]
        label = _label(entry)
        lines.append(f"{_time(entry.at, tz, '%H:%M:%S')}  {label:<{width}}  {first}".rstrip())
        lines.extend((indent + line).rstrip() for line in rest)
    if not summary.turns and not summary.answers:
        lines.append("(no turns)")
    return lines


def _first_line(text: str, width: int) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= width and "\n" not in text.strip() else line[: width - 1] + "…"


# -- Markdown ---------------------------------------------------------------------------------------------


def _escape(text: str) -> str:
    return _MD_SPECIAL.sub(r"\\\1", text)


def _closed_fences(answer: str) -> str:
    """The answer as it came (it is Markdown), with a code fence it left open closed, so it cannot swallow
    the rest of the document."""
    fences = sum(1 for line in answer.splitlines() if _FENCE.match(line))
    return answer + "\n```" if fences % 2 else answer


def session_markdown(
    summary: SessionSummary,
    entries: Iterable[Entry],
    usage: SessionUsage,
    tz: tzinfo | None = None,
    level: int = 1,
) -> str:
    stamp = "%Y-%m-%d %H:%M:%S %z"
    ended = NOT_ENDED
    if summary.ended is not None:
        ended = f"{_time(summary.ended, tz, stamp)} ({_span(summary)})"
    out = [
        f"{'#' * level} Session `{summary.id}`",
        "",
        f"- **Started:** {_time(summary.started, tz, stamp)}",
        f"- **Ended:** {ended}",
        f"- **Kind:** {_escape(summary.kind)}",
        f"- **Model:** `{summary.model}`",
        f"- **Turns:** {summary.turns} · **Answers:** {summary.answers}",
        f"- **Tokens:** {_tokens(usage)}",
        f"- **Cost:** {_cost(usage.cost_usd)}",
    ]
    persona = summary.persona.strip()
    if persona and "\n" not in persona and len(persona) <= 80:
        out.append(f"- **Persona:** {_escape(persona)}")
    elif persona:
        out += ["- **Persona:**", "", *(f"  > {_escape(line)}".rstrip() for line in persona.splitlines())]
    day = _time(summary.started, tz, "%Y-%m-%d")
    for entry in entries:
        when = _time(entry.at, tz, "%H:%M:%S")
        if (entry_day := _time(entry.at, tz, "%Y-%m-%d")) != day:
            day = entry_day
            when = f"{day} {when}"
        out += ["", f"**{when} · {_label(entry)}**", ""]
        if entry.is_answer:
            out.append(_closed_fences(entry.text.strip("\n")))
        else:
            text = entry.text.strip() or "(no transcription)"
            out += [f"> {_escape(line)}".rstrip() for line in text.splitlines()]
    return "\n".join(out) + "\n"


# -- the command -----------------------------------------------------------------------------------------


def main(
    path: Path,
    *,
    session: str | None = None,
    markdown: bool = False,
    limit: int | None = None,
    out: TextIO | None = None,
    tz: tzinfo | None = None,
) -> int:
    """Print the table, a conversation or Markdown; returns the exit code. Store errors (a file that is not
    a transcript store, an unknown session) propagate as `TranscriptStoreError` for the CLI to print."""
    out = out or sys.stdout
    try:
        _show(path, session=session, markdown=markdown, limit=limit, out=out, tz=tz)
    except BrokenPipeError:
        # `rholive history | head`: the reader left; stop quietly (and keep Python from complaining at exit)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    return 0


def _show(
    path: Path, *, session: str | None, markdown: bool, limit: int | None, out: TextIO, tz: tzinfo | None
) -> None:
    if not path.exists():  # reading never creates the store
        _nothing(path, session, markdown, out)
        return
    with TranscriptStore(path) as store:
        if session == "last" and not store.sessions(limit=1):
            _nothing(path, session, markdown, out)
            return
        if session is not None:
            session_id = store.resolve(session)
            summary = store.session(session_id)
            entries, usage = store.entries(session_id), store.usage(session_id)
            if markdown:
                out.write(session_markdown(summary, entries, usage, tz))
            else:
                out.write("\n".join(conversation_lines(summary, entries, usage, tz)) + "\n")
            return
        summaries = store.sessions(limit=limit)
        if not summaries:
            _nothing(path, session, markdown, out)
            return
        if markdown:
            parts = [
                session_markdown(s, store.entries(s.id), store.usage(s.id), tz, level=2) for s in summaries
            ]
            count = f"{len(summaries)} session{'s' * (len(summaries) != 1)}, newest first."
            out.write(f"# rholive transcripts\n\n{count}\n\n" + "\n".join(parts))
            return
    if out.isatty():
        from rich.console import Console

        Console(file=out).print(sessions_table(summaries, tz))
    else:
        out.write("\n".join(sessions_lines(summaries, tz)) + "\n")


def _nothing(path: Path, session: str | None, markdown: bool, out: TextIO) -> None:
    """An empty or missing store: "no sessions yet" (on stderr under --markdown: stdout is the document);
    asking for a session by id is still an error."""
    if session is not None and session != "last":
        raise UnknownSessionError(f"no session {session!r} in {path} ({NO_SESSIONS})")
    print(NO_SESSIONS, file=sys.stderr if markdown else out)
