"""Split a (possibly still streaming) Markdown answer into prose and fenced code blocks. Pure, no Qt.

The overlay renders prose as Markdown and each code block in its own monospace box with a Copy button, so it
needs the blocks apart. Called again on the whole text after every delta: an open fence at the end is a code
block still arriving (`closed=False`), and its text is what has arrived so far.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# CommonMark: up to 3 spaces of indent, then 3+ backticks or tildes; a backtick fence's info has no backtick.
_OPEN = re.compile(r"^( {0,3})(`{3,}|~{3,})(.*)$")


@dataclass(frozen=True)
class Prose:
    text: str


@dataclass(frozen=True)
class Code:
    code: str
    lang: str = ""
    closed: bool = True


Segment = Prose | Code


def _closes(line: str, fence: str) -> bool:
    stripped = line.strip()
    if len(line) - len(line.lstrip(" ")) > 3 or not stripped:
        return False
    return set(stripped) == {fence[0]} and len(stripped) >= len(fence)


def _is_partial_fence(line: str, fence: str) -> bool:
    stripped = line.strip()
    return bool(stripped) and set(stripped) == {fence[0]}


def _dedent(line: str, indent: int) -> str:
    # Lines inside an indented fence lose up to that many leading spaces (CommonMark).
    spaces = len(line) - len(line.lstrip(" "))
    return line[min(spaces, indent) :]


def split_markdown(text: str) -> list[Segment]:
    """Prose and code segments in order; empty prose between blocks is left out."""
    segments: list[Segment] = []
    prose: list[str] = []
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        match = _OPEN.match(lines[i])
        if match is None or (match.group(2)[0] == "`" and "`" in match.group(3)):
            prose.append(lines[i])
            i += 1
            continue
        indent, fence, info = len(match.group(1)), match.group(2), match.group(3).strip()
        if "\n".join(prose).strip():
            segments.append(Prose("\n".join(prose).strip("\n")))
        prose = []
        body: list[str] = []
        i += 1
        closed = False
        while i < len(lines):
            if _closes(lines[i], fence):
                closed = True
                i += 1
                break
            body.append(_dedent(lines[i], indent))
            i += 1
        if not closed and body and (body[-1] == "" or _is_partial_fence(body[-1], fence)):
            # The line still arriving is empty or the closing fence's first backticks: not code (yet).
            body.pop()
        segments.append(Code("\n".join(body), info.split(" ")[0] if info else "", closed))
    if "\n".join(prose).strip():
        segments.append(Prose("\n".join(prose).strip("\n")))
    return segments
