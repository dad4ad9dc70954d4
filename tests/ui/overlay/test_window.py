"""The overlay window, offscreen (Qt's offscreen platform, `-platform offscreen`): rendering checked on the PNG itself (tesseract OCR
and the code block's background pixels), Copy, streaming, withdrawal, history, click-through, and calls from
another thread as the asyncio runtime makes them.

Without the gui extra these tests skip locally and fail under CI=true; so does OCR without tesseract.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

try:
    from PySide6.QtCore import QCoreApplication, QEventLoop, QPoint, QRect, Qt
    from PySide6.QtGui import QColor, QGuiApplication, QImage
    from PySide6.QtWidgets import QApplication
except ImportError as exc:  # the gui extra is missing
    if os.environ.get("CI") == "true":
        raise RuntimeError(f"CI=true but the gui extra is not installed: {exc}") from exc
    pytest.skip(f"the gui extra (PySide6) is not installed: {exc}", allow_module_level=True)

from rholive.ui.overlay import CODE_BG, CodeBlock, OverlaySettings, OverlayView, OverlayWindow

CI = os.environ.get("CI") == "true"
CODE = 'def two_sum(nums, target):\n    seen = {}\n    for i, n in enumerate(nums):\n        seen[n] = i\n    return "done"'
ANSWER = (
    f"Use a **hash map** to find the complement quickly.\n\n```python\n{CODE}\n```\n\nThen return the pair."
)


@pytest.fixture(scope="module")
def app() -> QApplication:
    # The platform as an argument, not QT_QPA_PLATFORM: the environment would leak into other tests' children.
    instance = QApplication.instance() or QApplication(["rholive-tests", "-platform", "offscreen"])
    assert isinstance(instance, QApplication)
    return instance


@pytest.fixture
def window(app: QApplication) -> Iterator[OverlayWindow]:
    win = OverlayWindow(OverlaySettings(width=520, height=640))
    win.show()
    yield win
    win.close()
    win.deleteLater()
    app.processEvents()


def wait_until(condition: Callable[[], bool], timeout_s: float = 10.0) -> None:
    """Run the Qt event loop until `condition` holds; blocks in Qt while nothing is posted (no polling sleep)."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached")
        QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.WaitForMoreEvents, 50)


def settle(app: QApplication) -> None:
    for _ in range(3):  # queued signals, then the layout passes they trigger
        app.processEvents()


def stream(view: OverlayView, text: str, chunk: int) -> None:
    for start in range(0, len(text), chunk):
        view.answer_delta(text[start : start + chunk])


def tesseract() -> str:
    path = shutil.which("tesseract")
    if path is None:
        message = "tesseract is not installed (apt-get install tesseract-ocr)"
        if CI:
            pytest.fail(message)
        pytest.skip(message)
    return path


def ocr(binary: str, png: Path) -> str:
    out = subprocess.run([binary, str(png), "stdout"], capture_output=True, text=True, timeout=60, check=True)
    return " ".join(out.stdout.split())


def _rect_in(window: OverlayWindow, widget: CodeBlock) -> QRect:
    return QRect(widget.mapTo(window, QPoint(0, 0)), widget.size())


def _share_of_colour(image: QImage, rect: QRect, colour: QColor) -> float:
    hits = total = 0
    for y in range(rect.top(), rect.bottom(), 2):
        for x in range(rect.left(), rect.right(), 2):
            total += 1
            hits += image.pixelColor(x, y).rgb() == colour.rgb()
    return hits / total


def test_rendered_png_has_the_answer_text_and_a_code_block(
    app: QApplication, window: OverlayWindow, tmp_path: Path
) -> None:
    binary = tesseract()
    view = OverlayView(window)
    view.user_turn("them", "Can you solve the problem on the screen?")
    stream(view, ANSWER, 17)
    view.answer_done(True)
    settle(app)
    png = tmp_path / "overlay.png"
    assert window.grab().save(str(png))

    text = ocr(binary, png)
    assert "hash map" in text and "complement" in text and "Then return the pair" in text
    assert "def two_sum" in text and "enumerate" in text
    assert "```" not in text  # the fences are rendered, not shown

    image = QImage(str(png))
    (block,) = window.conversation.answers()[0].code_blocks()
    block_rect = _rect_in(window, block)
    background = QColor(CODE_BG)
    assert _share_of_colour(image, block_rect, background) > 0.6  # a dark box behind the code
    prose = window.conversation.answers()[0].prose_labels()[0]
    prose_rect = QRect(prose.mapTo(window, QPoint(0, 0)), prose.size())
    assert _share_of_colour(image, prose_rect, background) < 0.01

    # The code in the box is the code, in order: OCR of just that region of the PNG.
    crop = tmp_path / "code.png"
    assert image.copy(block_rect).scaled(block_rect.size() * 2).save(str(crop))
    code_text = ocr(binary, crop)
    assert code_text.index("def two_sum") < code_text.index("enumerate") < code_text.index("return")
    assert "hash map" not in code_text


def test_copy_puts_exactly_the_code_on_the_clipboard(app: QApplication, window: OverlayWindow) -> None:
    view = OverlayView(window)
    stream(view, ANSWER + "\n\nAnd a shell line:\n\n~~~sh\nuv run pytest -q\n~~~\n", 9)
    view.answer_done(True)
    settle(app)
    first, second = window.conversation.answers()[0].code_blocks()
    QGuiApplication.clipboard().setText("something else")
    first.copy_button.click()
    assert QGuiApplication.clipboard().text() == CODE
    second.copy_button.click()
    assert QGuiApplication.clipboard().text() == "uv run pytest -q"
    assert second.copy_button.text() == "Copied"


def test_deltas_append_to_one_answer_without_rebuilding_it(app: QApplication, window: OverlayWindow) -> None:
    view = OverlayView(window)
    view.answer_delta("Use a **hash")
    settle(app)
    (answer,) = window.conversation.answers()
    first_label = answer.prose_labels()[0]
    assert answer.text == "Use a **hash"
    view.answer_delta(" map** to find the complement quickly.\n\n```python\ndef two")
    settle(app)
    assert window.conversation.answers() == [answer]
    assert answer.prose_labels()[0] is first_label  # updated in place
    (block,) = answer.code_blocks()
    assert block.code == "def two"
    view.answer_delta("_sum(nums, target):\n")
    settle(app)
    assert answer.code_blocks() == [block] and block.code == "def two_sum(nums, target):"
    assert "complement" in first_label.text()


def test_answer_done_false_withdraws_the_streamed_text(app: QApplication, window: OverlayWindow) -> None:
    view = OverlayView(window)
    view.user_turn("screen", "screen changed")
    view.answer_delta("<noth")
    view.answer_delta("ing>")
    settle(app)
    assert len(window.conversation.answers()) == 1
    view.answer_done(False)
    settle(app)
    assert window.conversation.answers() == []
    assert [getattr(e, "who", None) for e in window.conversation.entries] == ["screen"]
    view.answer_delta("A real answer.")
    view.answer_done(True)
    settle(app)
    assert [a.text for a in window.conversation.answers()] == ["A real answer."]


def test_history_keeps_turns_and_answers_up_to_the_limit(app: QApplication) -> None:
    win = OverlayWindow(OverlaySettings(history_limit=4))
    view = OverlayView(win)
    for n in range(3):
        view.user_turn("me", f"question {n}")
        view.answer_delta(f"answer {n}")
        view.answer_done(True)
    settle(app)
    kinds = [getattr(e, "who", None) or e.text for e in win.conversation.entries]  # type: ignore[attr-defined]
    assert kinds == ["me", "answer 1", "me", "answer 2"]
    win.deleteLater()


def test_status_line_shows_state_frames_and_tokens(app: QApplication, window: OverlayWindow) -> None:
    view = OverlayView(window)
    view.set_status("reconnecting", "goAway")
    view.set_frames(12, {"unchanged": 30, "small_change": 5})
    view.set_tokens(1234)
    settle(app)
    assert window.status_text() == "reconnecting (goAway) · frames 12 sent, 35 skipped · 1,234 tokens"
    assert "small_change 5" in window.status_label.toolTip()
    view.set_status("thinking")
    settle(app)
    assert window.status_text().startswith("thinking · ")
    view.set_cost(0.01234)
    settle(app)
    assert window.status_text().endswith("· 1,234 tokens · est. $0.0123")
    view.set_cost(None)
    settle(app)
    assert window.status_text().endswith("· 1,234 tokens · no cost estimate")


def test_calls_from_another_thread_arrive_in_order_in_the_qt_thread(app: QApplication) -> None:
    ran_in: set[int] = set()

    class Recording(OverlayWindow):
        def answer_delta(self, text: str) -> None:
            ran_in.add(threading.get_ident())
            super().answer_delta(text)

    win = Recording()
    view = OverlayView(win)
    words = [f"w{n} " for n in range(200)]

    def runtime() -> None:
        view.set_status("thinking")
        view.user_turn("them", "what is on screen?")
        for word in words:
            view.answer_delta(word)
        view.answer_done(True)
        view.set_status("listening")

    worker = threading.Thread(target=runtime)
    worker.start()
    worker.join()
    wait_until(lambda: win.status_text().startswith("listening"))
    assert [a.text for a in win.conversation.answers()] == ["".join(words)]
    assert ran_in == {threading.get_ident()}  # the Qt (main) thread, never the worker
    win.deleteLater()


def test_level_updates_are_coalesced(app: QApplication, window: OverlayWindow) -> None:
    view = OverlayView(window)
    flushes: list[int] = []
    view._bridge.state.connect(lambda: flushes.append(1))  # counts posted state updates

    def runtime() -> None:
        for n in range(500):
            view.set_level("me", -60.0 + n * 0.1)
            view.set_level("them", -30.0)

    worker = threading.Thread(target=runtime)
    worker.start()
    worker.join()
    wait_until(lambda: window.meters["them"].dbfs == -30.0)
    assert window.meters["me"].dbfs == pytest.approx(-60.0 + 499 * 0.1)
    assert len(flushes) == 1 and view.coalesced == 999
    view.set_level("screen-audio", -20.0)  # a source not configured gets its own meter
    settle(app)
    assert window.meters["screen-audio"].dbfs == -20.0


def test_window_is_frameless_translucent_on_top_and_not_in_the_taskbar(window: OverlayWindow) -> None:
    flags = window.windowFlags()
    assert flags & Qt.WindowType.FramelessWindowHint
    assert flags & Qt.WindowType.WindowStaysOnTopHint
    assert (flags & Qt.WindowType.Tool) == Qt.WindowType.Tool
    assert window.testAttribute(Qt.WidgetAttribute.WA_TranslucentBackground)


def test_click_through_toggles_the_input_transparency_flag(app: QApplication, window: OverlayWindow) -> None:
    assert not window.click_through()
    window.toggle_click_through()
    assert window.windowFlags() & Qt.WindowType.WindowTransparentForInput
    assert window.isVisible() and window.through_button.isChecked()
    assert window.windowFlags() & Qt.WindowType.WindowStaysOnTopHint  # other flags kept
    window.toggle_click_through()
    assert not window.windowFlags() & Qt.WindowType.WindowTransparentForInput
    assert window.isVisible()


def test_actions_call_the_controls(app: QApplication, window: OverlayWindow) -> None:
    class Controls:
        asked = 0
        listening = True

        def ask_now(self) -> None:
            self.asked += 1

        def toggle_listening(self) -> bool:
            self.listening = not self.listening
            return self.listening

    assert not window.ask_button.isEnabled()  # nothing to call yet
    view = OverlayView(window)
    controls = Controls()
    view.set_controls(controls)
    settle(app)
    window.ask_button.click()
    view.hotkey("ask_now")
    view.hotkey("toggle_listening")
    settle(app)
    assert controls.asked == 2 and controls.listening is False
    assert window.pause_button.text() == "Resume"
    view.hotkey("toggle_visible")
    settle(app)
    assert not window.isVisible()
    view.hotkey("toggle_visible")
    settle(app)
    assert window.isVisible()


def test_typing_effect_reveals_gradually_and_done_flushes(app: QApplication) -> None:
    win = OverlayWindow(OverlaySettings(typing_effect_ms=1000))
    win.answer_delta("letters arrive slowly")
    assert win.conversation.answers() == []  # nothing revealed before the first tick
    win.answer_done(True)
    assert [a.text for a in win.conversation.answers()] == ["letters arrive slowly"]
    win.deleteLater()


def test_angle_brackets_in_prose_are_text_not_html(app: QApplication, window: OverlayWindow) -> None:
    view = OverlayView(window)
    view.answer_delta("Use std::vector<int> and a <b>map</b>; **bold** still works.")
    view.answer_done(True)
    settle(app)
    (label,) = window.conversation.answers()[0].prose_labels()
    html = label.text()
    assert "vector&lt;int&gt;" in html and "&lt;b&gt;map&lt;/b&gt;" in html
    assert "font-weight:700" in html  # the Markdown emphasis is rendered


def test_the_history_follows_new_content_unless_scrolled_up(app: QApplication, window: OverlayWindow) -> None:
    view = OverlayView(window)
    for n in range(30):
        view.user_turn("them", f"question number {n} " * 3)
    settle(app)
    bar = window.conversation.verticalScrollBar()
    assert bar.maximum() > 0 and bar.value() == bar.maximum()  # at the newest entry
    bar.setValue(0)  # the user scrolls up to read
    view.answer_delta("a new answer\n\n" * 5)
    settle(app)
    assert bar.value() == 0  # not yanked back down
    bar.setValue(bar.maximum())
    view.answer_delta("more\n\n" * 5)
    settle(app)
    assert bar.value() == bar.maximum()


def test_without_their_global_hotkeys_hide_and_click_through_are_off(
    app: QApplication, window: OverlayWindow
) -> None:
    # A hidden or click-through window gets no input: only the global hotkey could undo it.
    window.set_global_hotkeys({"ask_now", "toggle_listening"})
    assert not window.hide_button.isEnabled() and not window.through_button.isEnabled()
    window.toggle_visible()
    window.toggle_click_through()
    assert window.isVisible() and not window.click_through()
    window.set_global_hotkeys({"toggle_visible", "toggle_click_through"})
    window.toggle_click_through()
    assert window.click_through()
    window.toggle_visible()
    assert not window.isVisible()


def test_a_burst_of_deltas_is_one_render_and_keeps_its_place(app: QApplication) -> None:
    rendered: list[str] = []

    class Recording(OverlayWindow):
        def answer_delta(self, text: str) -> None:
            rendered.append(text)
            super().answer_delta(text)

    win = Recording()
    view = OverlayView(win)
    # nothing processed in between: the Qt thread is busy while these arrive
    view.answer_delta("Use a ")
    view.answer_delta("hash ")
    view.answer_delta("map.")
    view.answer_done(True)
    view.user_turn("me", "and then?")
    view.answer_delta("Sort ")
    view.answer_delta("it.")
    settle(app)
    assert rendered == ["Use a hash map.", "Sort it."]
    assert view.coalesced_deltas == 3
    kinds = [getattr(e, "who", None) or e.text for e in win.conversation.entries]  # type: ignore[attr-defined]
    assert kinds == ["Use a hash map.", "me", "Sort it."]
    win.deleteLater()


def test_a_level_that_barely_moves_posts_nothing(app: QApplication, window: OverlayWindow) -> None:
    view = OverlayView(window)
    flushes: list[int] = []
    view._bridge.state.connect(lambda: flushes.append(1))
    view.set_level("me", -58.0)
    settle(app)
    assert window.meters["me"].dbfs == -58.0 and len(flushes) == 1
    view.set_level("me", -58.3)  # room noise wobbling: not worth a cross-thread post and a repaint
    settle(app)
    assert len(flushes) == 1 and window.meters["me"].dbfs == -58.0
    view.set_level("me", -40.0)  # a word
    settle(app)
    assert len(flushes) == 2 and window.meters["me"].dbfs == -40.0


def test_counters_redraw_the_status_line_later_a_state_change_at_once(
    app: QApplication, window: OverlayWindow
) -> None:
    window.set_status("listening")
    assert "listening" in window.status_label.text()
    window.set_frames(0, {"unchanged": 1})  # right after a redraw: folded into the next one
    assert "1 skipped" in window.status_text() and "1 skipped" not in window.status_label.text()
    wait_until(lambda: "1 skipped" in window.status_label.text())
    window.set_frames(0, {"unchanged": 2})
    window.set_status("thinking")  # a change of state is drawn at once, with the counters as they are
    assert "thinking" in window.status_label.text() and "2 skipped" in window.status_label.text()
