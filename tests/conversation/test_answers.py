"""`<nothing>` and its variants are never shown; real answers are shown whole, as they stream."""

from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from rholive.conversation import AnswerFilter, could_be_nothing, is_nothing

NOTHING = [
    "<nothing>",
    " < Nothing > ",
    "<NOTHING>.",
    "`<nothing>`",
    "**<nothing>**",
    "<nothing/>",
    "<nothing />",
    "nothing.",
    "Nothing",
    "&lt;nothing&gt;",
    "[nothing]",
    "(Nothing.)",
    "[Nothing.]",
    "{nothing}",
    '"<nothing>"',
    "\u201c<nothing>\u201d",
    "_nothing_",
    "```\n<nothing>\n```",
    "<nothing>!\n",
    "",
    "  \n",
]

REAL = [
    "Nothing is wrong with line 3.",
    "Nothing to add here.",
    "nothingness",
    "<nothing> but see above",
    "<nothing><nothing>",
    "No, the loop is off by one.",
    "Not yet: wait for the build.",
    "**Answer**: use a heap.",
    "```python\nprint(1)\n```",
    "<nothing>x",
    "n",
    "<noth",
    "<",
]


@pytest.mark.parametrize("text", NOTHING)
def test_nothing_variants_are_nothing(text: str) -> None:
    assert is_nothing(text)


@pytest.mark.parametrize("text", REAL)
def test_real_answers_are_not(text: str) -> None:
    assert not is_nothing(text)


def test_could_be_nothing_holds_prefixes_only() -> None:
    for prefix in ["<", "< n", "<NOTH", "**<nothing", "No", "&l", "&lt; noth", "<nothing /", "  `"]:
        assert could_be_nothing(prefix), prefix
    for text in ["<x", "No,", "**A", "```p", "nothing to", "<nothing> b"]:
        assert not could_be_nothing(text), text


def stream(deltas: list[str]) -> tuple[list[str], str | None]:
    f = AnswerFilter()
    shown = [f.feed(d) for d in deltas]
    return shown, f.finish()


def test_a_real_answer_is_held_only_while_it_could_be_nothing() -> None:
    f = AnswerFilter()
    assert f.feed("N") == ""
    assert f.feed("o") == ""
    assert f.feed(", the") == "No, the"
    assert f.released
    assert f.feed(" loop") == " loop"
    assert f.finish() == ""
    assert f.text == "No, the loop"


def test_nothing_streamed_shows_nothing() -> None:
    shown, rest = stream(["<", "noth", "ing", ">"])
    assert shown == ["", "", "", ""] and rest is None


def test_a_short_real_answer_that_looked_like_the_start_of_nothing_comes_out_at_finish() -> None:
    shown, rest = stream(["No"])
    assert shown == [""] and rest == "No"


def test_an_empty_reply_shows_nothing() -> None:
    assert stream([]) == ([], None)
    assert stream(["", " "]) == (["", ""], None)


def splits(text: str) -> st.SearchStrategy[list[str]]:
    """`text` cut into deltas at random places (empty deltas included)."""
    cuts = st.lists(st.integers(0, len(text)), max_size=8).map(sorted)
    return cuts.map(lambda c: [text[a:b] for a, b in zip([0, *c], [*c, len(text)], strict=True)])


# Nothing marks built from the grammar: spaces, quotes and markdown around, case, punctuation after.
_core = st.sampled_from(["<nothing>", "< nothing >", "<nothing/>", "[nothing]", "(nothing)", "nothing"])
_around = st.sampled_from(["", " ", "**", "`", "```\n", '"', "'", "_", "\n"])
_after = st.sampled_from(["", ".", "!", " .", "\n", ":"])


@st.composite
def nothing_variants(draw: st.DrawFn) -> str:
    core = "".join(c.upper() if draw(st.booleans()) else c for c in draw(_core))
    wrap = draw(_around)
    return draw(_around) + wrap + core + draw(_after) + wrap[::-1] + draw(_after)


@given(data=st.data(), text=nothing_variants())
def test_any_split_of_a_nothing_variant_shows_nothing(data: st.DataObject, text: str) -> None:
    assert is_nothing(text)
    shown, rest = stream(data.draw(splits(text)))
    assert all(s == "" for s in shown) and rest is None


@given(data=st.data(), text=st.one_of(st.text(max_size=40), st.sampled_from(REAL)))
@example(data=None, text="No, the loop")  # type: ignore[arg-type]
def test_any_split_of_a_real_answer_shows_exactly_the_answer(data: st.DataObject | None, text: str) -> None:
    if is_nothing(text):
        return
    deltas = [text] if data is None else data.draw(splits(text))
    shown, rest = stream(deltas)
    assert rest is not None
    assert "".join(shown) + rest == text
