"""Replies that mean "nothing to show", and a streaming filter that never lets a letter of them reach the screen.

The persona tells the model to answer `<nothing>` when it has nothing to add. Models wrap and vary it, so a whole
reply counts as nothing when, ignoring case, it is one of these marks:

    <nothing>   < nothing >   <nothing/>   &lt;nothing&gt;   nothing

with spaces, quotes, brackets or markdown emphasis/code around it (`` `<nothing>` ``, `**<nothing>**`,
`"nothing"`, `(nothing)`, `[Nothing.]`) and punctuation after it (`<NOTHING>.`, `nothing!`). A bare "nothing"
counts: as a whole reply it is the same answer badly formatted. A real answer that merely contains the word
("Nothing is wrong with line 3", "Nothing to add here", "<nothing> but see above", "<nothing><nothing>") is
shown. An empty or blank reply also has nothing to show.

`AnswerFilter` holds text back only while everything received so far could still become such a mark, so a real
answer starting "No, ..." or "**Answer**" is held for a few characters at most, and what it shows, joined,
is exactly the reply.
"""

from __future__ import annotations

import re

_AROUND = "*_`\"'\u201c\u201d\u2018\u2019\u00ab\u00bb"  # markdown emphasis/code and quotes
_LEAD = f"[\\s{re.escape(_AROUND)}\\(\\[{{]*"  # brackets too: "(nothing)", "[nothing]", "{nothing}"
_TRAIL = f"[\\s{re.escape(_AROUND)}\\)\\]}}.!,;:\u2026]*"


def _mark(opening: str, closing: str, slash: bool = False) -> list[str]:
    """The regex atoms of one mark, each one character, `\\s*` or `/?`: enough to build its prefixes."""
    if not opening:
        return list("nothing")
    atoms = [*map(re.escape, opening), r"\s*", *"nothing", r"\s*"]
    if slash:
        atoms += ["/?", r"\s*"]
    return [*atoms, *map(re.escape, closing)]


_MARKS = [
    _mark("<", ">", slash=True),
    _mark("&lt;", "&gt;", slash=True),
    _mark("", ""),
]


def _prefixes(atoms: list[str]) -> str:
    """Every proper prefix of a mark, as nested optional groups: (?:a(?:b(?:c)?)?)?"""
    out = ""
    for atom in reversed(atoms[:-1]):
        out = f"(?:{atom}{out})?"
    return out


_WHOLE = f"{_LEAD}(?:{'|'.join(''.join(m) for m in _MARKS)}){_TRAIL}"
_NOTHING = re.compile(_WHOLE, re.IGNORECASE)
_COULD_BE = re.compile(f"{_WHOLE}|{_LEAD}(?:{'|'.join(_prefixes(m) for m in _MARKS)})", re.IGNORECASE)


def is_nothing(text: str) -> bool:
    """The whole reply means nothing to show (a nothing mark, or blank)."""
    return _NOTHING.fullmatch(text) is not None or not text.strip()


def could_be_nothing(text: str) -> bool:
    """`text` is a nothing mark or the start of one (more text could still make it one)."""
    return _COULD_BE.fullmatch(text) is not None


class AnswerFilter:
    """One reply, fed as it streams: `feed` returns what may be shown now, `finish` the rest (or None)."""

    def __init__(self) -> None:
        self._held: list[str] = []
        self._released = False
        self._text: list[str] = []

    @property
    def text(self) -> str:
        """Everything fed so far."""
        return "".join(self._text)

    @property
    def released(self) -> bool:
        """The reply is known to be a real answer; from now on every delta is shown as it comes."""
        return self._released

    def feed(self, delta: str) -> str:
        self._text.append(delta)
        if self._released:
            return delta
        self._held.append(delta)
        held = "".join(self._held)
        if could_be_nothing(held):
            return ""
        self._released = True
        self._held.clear()
        return held

    def finish(self) -> str | None:
        """The text not shown yet ("" when all was shown), or None when the whole reply meant nothing."""
        if self._released:
            return ""
        held = "".join(self._held)
        self._held.clear()
        return None if is_nothing(held) else held
