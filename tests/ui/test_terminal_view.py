"""The terminal view driven by explicit calls, drawn to an in-memory terminal (rich, force_terminal) or, when
piped, to plain streams. The refresh clock is injected: no sleeps."""

from __future__ import annotations

import io
import re
import threading

from rich.console import Console

from rholive.ui.terminal import TerminalView
from rholive.ui.terminal_file import KeepingFile
from rholive.ui.terminal_render import markdown_blocks

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
ANSWER = "Reverse it with a slice:\n\n```python\nitems = items[::-1]\n```\n"


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t

    def advance(self, s: float = 0.2) -> None:
        self.t += s


def tty(width: int = 100, height: int = 30) -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return Console(file=out, force_terminal=True, width=width, height=height, color_system="truecolor"), out


def screen_text(view: TerminalView, width: int = 100, height: int = 30) -> str:
    """The live region as last drawn, as plain text."""
    console = Console(file=io.StringIO(), width=width, height=height, record=True)
    console.print(view.frame())
    return console.export_text()


def live_view(clock: Clock, console: Console) -> TerminalView:
    view = TerminalView(console, clock=clock, painter_thread=False)
    assert view.live
    view.start()
    return view


def test_region_shows_status_meters_frames_and_tokens() -> None:
    clock, (console, _) = Clock(), tty()
    view = live_view(clock, console)
    view.set_status("reconnecting", "goAway")
    view.set_level("me", -20.0)
    view.set_level("them", -45.0)
    view.set_frames(37, {"unchanged": 100, "small_change": 20})
    view.set_tokens(12345)
    clock.advance()
    view.refresh()
    text = screen_text(view)
    assert "reconnecting (goAway)" in text
    assert "tokens 12,345" in text
    assert "screen frames 37 sent · 120 skipped (unchanged 100, small_change 20)" in text
    me = next(line for line in text.splitlines() if line.startswith("me "))
    them = next(line for line in text.splitlines() if line.startswith("them "))
    assert "-20 dBFS" in me and "-45 dBFS" in them
    assert me.count("█") > them.count("█") > 0  # the louder source lights more cells
    # The peak holds after the level drops.
    view.set_level("me", -70.0)
    clock.advance()
    view.refresh()
    me = next(line for line in screen_text(view).splitlines() if line.startswith("me "))
    assert "peak  -20" in me and "█" not in me and "▏" in me
    view.stop()


def test_streamed_answer_is_markdown_with_its_code_block_then_goes_to_history() -> None:
    clock, (console, out) = Clock(), tty()
    view = live_view(clock, console)
    view.user_turn("them", "how do I reverse a list?")
    for part in ("Reverse it with a slice:\n\n", "```python\nitems = ", "items[::-1]\n```\n"):
        clock.advance()
        view.answer_delta(part)
    text = screen_text(view)
    assert "answer · streaming" in text
    assert "Reverse it with a slice:" in text and "items = items[::-1]" in text
    assert "```" not in text  # rendered as a code block, not shown as raw Markdown
    clock.advance()
    view.answer_done(True)
    assert "answer · streaming" not in screen_text(view)  # the region no longer holds it ...
    view.stop()
    raw = out.getvalue()
    history = ANSI.sub("", raw[raw.index("copilot:") :])
    assert "items = items[::-1]" in history  # ... the scrollback does
    # Syntax highlighting: the code line is drawn with the code theme's background colour.
    code_line = next(
        line for line in raw[raw.index("copilot:") :].splitlines() if "items" in ANSI.sub("", line)
    )
    assert "\x1b[" in code_line and "48;2;" in code_line


def test_history_keeps_order_and_says_who_spoke() -> None:
    clock, (console, out) = Clock(), tty()
    view = live_view(clock, console)
    view.user_turn("them", "can you share the agenda?")
    view.user_turn("me", "sure, one second")
    clock.advance()
    view.user_turn("screen", "screen changed")
    view.answer_delta("The agenda has **three** items.")
    clock.advance()
    view.answer_done(True)
    clock.advance()
    view.user_turn("them", "thanks")
    view.stop()
    text = ANSI.sub("", out.getvalue())
    order = [
        text.index("them: can you share the agenda?"),
        text.index("me: sure, one second"),
        text.index("screen: screen changed"),
        text.index("copilot:"),
        text.index("The agenda has three items."),
        text.index("them: thanks"),
    ]
    assert order == sorted(order)
    assert [(e.who, e.text) for e in view.state.history][-2:] == [
        ("copilot", "The agenda has **three** items."),
        ("them", "thanks"),
    ]


def test_withdrawn_answer_never_appears() -> None:
    clock, (console, out) = Clock(), tty()
    view = live_view(clock, console)
    view.user_turn("me", "hmm")
    clock.advance()
    view.answer_delta("<nothing>")
    clock.advance()
    view.refresh()
    assert "answer · streaming" in screen_text(view)  # something is coming (shown as "…")
    view.answer_done(False)
    clock.advance()
    view.refresh()
    assert "answer" not in screen_text(view)
    view.stop()
    text = ANSI.sub("", out.getvalue())
    assert "nothing" not in text and "copilot:" not in text
    assert [e.who for e in view.state.history] == ["me"]
    assert view.state.answers_withdrawn == 1


def test_a_withdrawn_answer_that_did_show_text_is_gone_from_history() -> None:
    clock, (console, out) = Clock(), tty()
    view = live_view(clock, console)
    clock.advance()
    view.answer_delta("Not worth saying after all, this is long enough to show")
    assert "Not worth saying" in screen_text(view)
    clock.advance()
    view.answer_done(False)
    view.stop()
    final = ANSI.sub("", out.getvalue()).rsplit("● ", 1)[1]  # the region as left on screen
    assert "Not worth saying" not in final
    assert "copilot:" not in ANSI.sub("", out.getvalue())


def test_level_updates_coalesce_to_one_redraw_per_interval() -> None:
    clock, (console, _) = Clock(), tty()
    view = live_view(clock, console)
    start = view.redraws
    for i in range(1000):  # one second of updates, one every millisecond
        view.set_level("me" if i % 2 else "them", -60.0 + (i % 50))
        clock.advance(0.001)
    drawn = view.redraws - start
    assert 1 <= drawn <= 11  # at most one per 100 ms interval
    # Right after a redraw, with the clock standing still, no change is drawn however many come in.
    view.refresh(force=True)
    before = view.redraws
    for i in range(200):
        view.set_level("me", -10.0 - i % 30)
        view.set_tokens(i)
    assert view.redraws == before
    clock.advance(0.1)
    assert view.refresh() and view.redraws == before + 1  # the pending change goes out once due
    assert not view.refresh()  # and only once
    view.stop()


def test_meter_redraws_do_not_render_the_answer_again() -> None:
    clock, (console, _) = Clock(), tty()
    view = live_view(clock, console)
    clock.advance()
    view.answer_delta(ANSWER)
    renders = view._region.markdown_renders
    assert renders == 2  # the paragraph and the code block
    for i in range(20):
        clock.advance()
        view.set_level("me", -40.0 + i)
    assert view.redraws >= 20
    assert view._region.markdown_renders == renders
    view.stop()


def test_streaming_renders_only_the_growing_block_again() -> None:
    clock, (console, _) = Clock(), tty()
    view = live_view(clock, console)
    view.answer_delta("First paragraph, finished.\n\n```python\ndef f():\n\n")
    clock.advance()
    view.refresh()
    renders = view._region.markdown_renders
    for part in ("    return 1\n", "```\n\nAnd a ", "last line."):
        clock.advance()
        view.answer_delta(part)
    # The code block twice (it grew, then closed), the new last paragraph twice (it grew); the first
    # paragraph never again.
    assert view._region.markdown_renders == renders + 4
    text = screen_text(view)
    assert "First paragraph, finished." in text and "return 1" in text and "And a last line." in text
    view.stop()


def test_markdown_blocks_split_outside_fences_only() -> None:
    text = "Para one\nstill one.\n\n```\ncode\n\nmore code\n```\n\n- item\n\n  continued item\n\nEnd"
    assert markdown_blocks(text) == [
        "Para one\nstill one.",
        "```\ncode\n\nmore code\n```",
        "- item\n\n  continued item",
        "End",
    ]
    assert markdown_blocks("") == [] and markdown_blocks("one") == ["one"]


def test_long_answer_shows_its_tail_within_the_terminal_height() -> None:
    clock, (console, _) = Clock(), tty(width=60, height=14)
    view = live_view(clock, console)
    view.set_level("me", -30.0)
    clock.advance()
    view.answer_delta("".join(f"line {i}\n\n" for i in range(40)))
    text = screen_text(view, width=60, height=14)
    assert len(text.splitlines()) <= 14
    assert "line 39" in text and "line 0\n" not in text
    view.stop()


def test_stop_leaves_history_and_a_final_status_on_screen() -> None:
    clock, (console, out) = Clock(), tty()
    view = live_view(clock, console)
    view.set_status("listening")
    view.set_level("me", -20.0)
    view.set_tokens(99)
    view.user_turn("them", "one")
    clock.advance()
    view.answer_delta("two")
    clock.advance()
    view.answer_done(True)
    clock.advance()
    view.set_status("closed")
    view.stop()
    raw = out.getvalue()
    assert raw.endswith("\x1b[?25h")  # the cursor is given back
    text = ANSI.sub("", raw)
    tail = text[text.rindex("● closed") :]
    assert "tokens 99" in tail and "dBFS" not in tail  # final status, no meters
    assert text.index("them: one") < text.index("copilot:") < text.rindex("● closed")


def test_calls_do_not_wait_for_a_stuck_terminal() -> None:
    class StuckTerminal(io.StringIO):
        """Blocks every write once armed, until released: a terminal that stopped reading."""

        def __init__(self) -> None:
            super().__init__()
            self.armed, self.entered, self.release = False, threading.Event(), threading.Event()

        def write(self, s: str) -> int:
            if self.armed:
                self.entered.set()
                assert self.release.wait(30)
            return super().write(s)

    out = StuckTerminal()
    view = TerminalView(Console(file=out, force_terminal=True, width=80, height=24), max_fps=1000)
    view.start()
    try:
        out.armed = True
        view.set_status("listening")
        assert out.entered.wait(30)  # the painter thread is now stuck in a write
        for i in range(500):
            view.set_level("me", -40.0 + i % 30)
            view.user_turn("me", f"turn {i}")
            view.answer_delta("x")
        assert not out.release.is_set()  # all of the above returned while the painter was stuck
    finally:
        out.armed = False
        out.release.set()
        view.stop()
    text = ANSI.sub("", out.getvalue())
    assert "me: turn 0" in text and "me: turn 499" in text  # nothing lost once it could write again


def test_piped_output_is_plain_lines() -> None:
    out, err = io.StringIO(), io.StringIO()
    view = TerminalView(Console(file=out, width=80), err=err)
    assert not view.live
    view.start()
    view.set_status("connected")
    view.set_status("connected")  # unchanged: no second line
    view.set_status("reconnecting", "goAway")
    view.set_level("me", -20.0)
    view.set_frames(3, {"unchanged": 5})
    view.set_tokens(42)
    view.user_turn("them", "what's the\ncomplexity?")
    view.answer_delta("O(n log n):\n")
    assert out.getvalue() == "them: what's the complexity?\n"  # the answer waits until complete
    view.answer_delta("```\nsorted(xs)\n```")
    view.answer_done(True)
    view.user_turn("me", "ok")
    view.answer_delta("<nothing>")
    view.answer_done(False)
    view.user_turn("screen", "screen changed")
    view.stop()
    assert out.getvalue() == (
        "them: what's the complexity?\ncopilot: O(n log n):\n```\nsorted(xs)\n```\nme: ok\nscreen: screen changed\n"
    )
    assert err.getvalue() == (
        "rholive: status: connected\n"
        "rholive: status: reconnecting (goAway)\n"
        "rholive: tokens 42, screen frames 3 sent, 5 skipped\n"
    )
    assert "\x1b" not in out.getvalue() + err.getvalue()


def test_piped_output_marks_an_answer_cut_off_by_stop() -> None:
    out, err = io.StringIO(), io.StringIO()
    view = TerminalView(Console(file=out), err=err)
    view.answer_delta("Half an ans")
    view.stop()
    assert out.getvalue() == "copilot: Half an ans (cut off)\n"


def test_a_failed_write_is_reported_once_and_its_output_sent_later() -> None:
    class FlakyTerminal(io.StringIO):
        """Raises on the first write once armed (a terminal gone away for a moment)."""

        def __init__(self) -> None:
            super().__init__()
            self.armed, self.failed = False, threading.Event()

        def write(self, s: str) -> int:
            if self.armed:
                self.armed = False
                self.failed.set()
                raise OSError(5, "Input/output error")
            return super().write(s)

    out, err = FlakyTerminal(), io.StringIO()
    view = TerminalView(Console(file=out, force_terminal=True, width=80, height=24), err=err, max_fps=1000)
    view.start()
    out.armed = True
    view.user_turn("them", "are you there?")  # its draw fails ...
    assert out.failed.wait(30)
    view.user_turn("them", "still here?")
    view.stop()
    assert view.draw_errors == 1
    assert err.getvalue() == "rholive: terminal view could not write: [Errno 5] Input/output error\n"
    text = ANSI.sub("", out.getvalue())
    # ... and what it could not write goes out first with the next draw, once.
    assert text.count("them: are you there?") == 1 and text.count("them: still here?") == 1


def test_stop_twice_is_harmless() -> None:
    out, err = io.StringIO(), io.StringIO()
    view = TerminalView(Console(file=out), err=err)
    view.stop()
    view.stop()
    assert err.getvalue().count("rholive: tokens") == 1


def test_a_real_pseudo_terminal_gets_the_live_view() -> None:
    import os
    import pty

    master, slave = pty.openpty()
    received = bytearray()

    def drain() -> None:  # read the terminal's side so writes never fill the pty buffer
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # the slave side was closed
                return
            if not chunk:
                return
            received.extend(chunk)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    with open(slave, "w", encoding="utf-8", closefd=True) as tty_file:
        console = Console(file=tty_file, width=80, height=24)  # no force_terminal: detected from the file
        with TerminalView(console, err=io.StringIO()) as view:
            assert view.live
            view.set_status("listening")
            view.set_level("me", -20.0)
            view.user_turn("me", "hello over a real tty")
    reader.join(30)
    os.close(master)
    text = ANSI.sub("", received.decode("utf-8", "replace")).replace("\r", "")
    assert "me: hello over a real tty" in text and "● listening" in text


def test_unwritten_output_is_bounded_and_the_drop_counted() -> None:
    class DeadTerminal(io.StringIO):
        def write(self, s: str) -> int:
            raise OSError(5, "Input/output error")

    file = KeepingFile(DeadTerminal(), limit_chars=10)
    assert file.write("0123456789") == 10
    file.write("abcdef")
    assert (file.errors, file.dropped_chars) == (2, 6)
    file.file = io.StringIO()  # the terminal is back
    file.write("!")
    assert file.file.getvalue() == "6789abcdef!"
    assert file.isatty() is False  # the rest of the file's interface is the real file's
