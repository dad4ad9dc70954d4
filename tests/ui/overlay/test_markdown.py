"""Splitting a streamed Markdown answer into prose and fenced code blocks (pure)."""

from __future__ import annotations

from rholive.ui.overlay import Code, Prose, split_markdown

ANSWER = "Use a set:\n\n```python\nseen = set()\nfor x in xs:\n    seen.add(x)\n```\n\nThat is O(n)."


def test_prose_code_prose() -> None:
    assert split_markdown(ANSWER) == [
        Prose("Use a set:"),
        Code("seen = set()\nfor x in xs:\n    seen.add(x)", "python"),
        Prose("That is O(n)."),
    ]


def test_no_fence_is_one_prose_segment() -> None:
    assert split_markdown("**bold** and `inline` code") == [Prose("**bold** and `inline` code")]
    assert split_markdown("") == []


def test_every_prefix_of_a_streamed_answer_splits_consistently() -> None:
    # Streaming calls split on each prefix: the code seen so far is always a prefix of the final code, and the
    # first backticks of the closing fence never show up as code.
    final_code = "seen = set()\nfor x in xs:\n    seen.add(x)"
    for end in range(len(ANSWER) + 1):
        for segment in split_markdown(ANSWER[:end]):
            if isinstance(segment, Code):
                assert final_code.startswith(segment.code), (end, segment)
                assert "`" not in segment.code


def test_open_fence_is_an_unclosed_block() -> None:
    assert split_markdown("Try:\n```js\nlet a = 1;") == [
        Prose("Try:"),
        Code("let a = 1;", "js", closed=False),
    ]


def test_tilde_fence_longer_closing_fence_and_indent() -> None:
    text = "  ~~~~ sh extra\n  echo ~~~\n  ~~~~~\nafter"
    assert split_markdown(text) == [Code("echo ~~~", "sh"), Prose("after")]


def test_shorter_or_other_fence_does_not_close() -> None:
    text = "````\n```\ninner\n```\n````"
    assert split_markdown(text) == [Code("```\ninner\n```", "")]
    assert split_markdown("```\na\n~~~\nb\n```") == [Code("a\n~~~\nb", "")]


def test_backtick_info_with_backtick_is_not_a_fence() -> None:
    assert split_markdown("``` a`b\ntext") == [Prose("``` a`b\ntext")]


def test_blank_lines_inside_code_are_kept() -> None:
    assert split_markdown("```\na\n\n\nb\n```") == [Code("a\n\n\nb", "")]
