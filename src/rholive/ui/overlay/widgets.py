"""The overlay's parts (Qt): a level meter, a code block with a Copy button, an answer rendered from Markdown,
and the scrolling conversation (history of turns and answers, the streaming answer at the bottom).

All of these live in the Qt thread; `OverlayView` (view.py) is what other threads call.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QColor, QFont, QFontDatabase, QGuiApplication, QPainter, QPaintEvent, QTextDocument
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from rholive.ui.overlay.markdown import Code, Prose, Segment, split_markdown

TEXT = "#e8eaf0"
MUTED = "#9aa3b2"
CODE_BG = "#0b0d12"
WHO_COLOURS = {"me": "#7cc4ff", "them": "#ffb86b", "screen": "#b39dff"}
METER_FLOOR_DB = -60.0


def monospace() -> QFont:
    font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
    font.setStyleHint(QFont.StyleHint.Monospace)
    return font


def meter_fraction(dbfs: float) -> float:
    """-60 dBFS or less is an empty bar, 0 dBFS a full one."""
    return min(1.0, max(0.0, (dbfs - METER_FLOOR_DB) / -METER_FLOOR_DB))


def meter_colour(dbfs: float) -> str:
    return "#5fd38d" if dbfs < -12 else "#f2c94c" if dbfs < -3 else "#eb5757"


class LevelMeter(QWidget):
    """One source's input level as a horizontal bar with its name in front."""

    def __init__(self, source: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.source = source
        self.dbfs = -100.0
        self.setFixedHeight(14)
        self.setMinimumWidth(90)
        self.setToolTip(f"input level: {source}")

    def set_level(self, dbfs: float) -> None:
        if dbfs == self.dbfs:
            return
        before = self._look()
        self.dbfs = dbfs
        if self._look() != before:  # repaint only when a pixel of the bar changes
            self.update()

    def _look(self) -> tuple[int, str]:
        width = self.rect().adjusted(self.LABEL_W, 3, 0, -3).width()
        return round(width * meter_fraction(self.dbfs)), meter_colour(self.dbfs)

    LABEL_W = 42

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        label_w = self.LABEL_W
        painter.setPen(QColor(WHO_COLOURS.get(self.source, TEXT)))
        painter.drawText(0, 0, label_w, self.height(), Qt.AlignmentFlag.AlignVCenter, self.source)
        track = self.rect().adjusted(label_w, 3, 0, -3)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(255, 255, 255, 30))
        painter.drawRoundedRect(track, 3, 3)
        fraction = meter_fraction(self.dbfs)
        if fraction > 0:
            painter.setBrush(QColor(meter_colour(self.dbfs)))
            painter.drawRoundedRect(track.adjusted(0, 0, -round(track.width() * (1 - fraction)), 0), 3, 3)
        painter.end()


class CodeBlock(QFrame):
    """Monospace code on a darker background; Copy puts exactly the code on the clipboard."""

    copied = Signal(str)

    def __init__(self, code: str, lang: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("codeBlock")
        self.setStyleSheet(f"#codeBlock {{ background: {CODE_BG}; border-radius: 6px; }}")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 4, 8, 8)
        layout.setSpacing(2)
        header = QHBoxLayout()
        self.lang_label = QLabel(lang or "code")
        self.lang_label.setStyleSheet(f"color: {MUTED}; font-size: 11px;")
        self.copy_button = QPushButton("Copy")
        self.copy_button.setCursor(Qt.CursorShape.PointingHandCursor)
        self.copy_button.setStyleSheet(
            "QPushButton { color: #e8eaf0; background: #2a2f3a; border: none; border-radius: 4px;"
            " padding: 2px 10px; font-size: 11px; } QPushButton:hover { background: #3a4150; }"
        )
        self.copy_button.clicked.connect(self.copy)
        header.addWidget(self.lang_label)
        header.addStretch(1)
        header.addWidget(self.copy_button)
        layout.addLayout(header)
        self.code_label = QLabel()
        self.code_label.setTextFormat(Qt.TextFormat.PlainText)
        self.code_label.setFont(monospace())
        self.code_label.setStyleSheet(f"color: {TEXT}; background: transparent;")
        self.code_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        # Long lines scroll sideways instead of wrapping, which would change what the code says.
        self.scroller = QScrollArea()
        self.scroller.setWidget(self.code_label)
        self.scroller.setWidgetResizable(True)
        self.scroller.setFrameShape(QFrame.Shape.NoFrame)
        self.scroller.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.scroller.setStyleSheet(
            "QScrollArea, QScrollArea > QWidget > QWidget { background: transparent; }"
        )
        layout.addWidget(self.scroller)
        self.code = ""
        self.set_code(code, lang)

    def set_code(self, code: str, lang: str) -> None:
        self.code = code
        self.lang_label.setText(lang or "code")
        self.code_label.setText(code)
        bar = self.scroller.horizontalScrollBar().sizeHint().height()
        self.scroller.setFixedHeight(self.code_label.sizeHint().height() + bar)

    def copy(self) -> None:
        QGuiApplication.clipboard().setText(self.code)
        self.copy_button.setText("Copied")
        QTimer.singleShot(1500, self, lambda: self.copy_button.setText("Copy"))
        self.copied.emit(self.code)


def markdown_html(text: str, font: QFont) -> str:
    """Markdown (GitHub dialect) as Qt rich text, with raw HTML off: `vector<int>` in an answer is text, not a
    tag that would vanish."""
    doc = QTextDocument()
    doc.setDefaultFont(font)
    features = QTextDocument.MarkdownFeature
    doc.setMarkdown(text, features.MarkdownDialectGitHub | features.MarkdownNoHTML)
    return doc.toHtml()


class ProseLabel(QLabel):
    """Answer prose rendered from Markdown; `markdown` is the source it shows."""

    def __init__(self, markdown: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setTextFormat(Qt.TextFormat.RichText)
        self.setWordWrap(True)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
        self.setOpenExternalLinks(True)
        self.setStyleSheet(f"color: {TEXT}; background: transparent;")
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Minimum)
        self.markdown = ""
        self.set_markdown(markdown)

    def set_markdown(self, markdown: str) -> None:
        self.markdown = markdown
        self.setText(markdown_html(markdown, self.font()))


class AnswerWidget(QFrame):
    """An answer as prose labels (Markdown) and code blocks. `set_text` takes the whole text so far and only
    touches the blocks that changed, so streaming does not rebuild the widget on every delta."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("answer")
        self.setStyleSheet("#answer { background: rgba(255,255,255,14); border-radius: 8px; }")
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(10, 8, 10, 8)
        self._layout.setSpacing(6)
        self._segments: list[Segment] = []
        self._blocks: list[QWidget] = []
        self.text = ""

    def set_text(self, text: str) -> None:
        self.text = text
        segments = split_markdown(text)
        for i, segment in enumerate(segments):
            old = self._segments[i] if i < len(self._segments) else None
            if old == segment:
                continue
            if old is not None and type(old) is type(segment):
                block = self._blocks[i]
                if isinstance(segment, Code) and isinstance(block, CodeBlock):
                    block.set_code(segment.code, segment.lang)
                elif isinstance(segment, Prose) and isinstance(block, ProseLabel):
                    block.set_markdown(segment.text)
                continue
            self._replace_from(i)
            block = (
                CodeBlock(segment.code, segment.lang)
                if isinstance(segment, Code)
                else ProseLabel(segment.text)
            )
            self._blocks.append(block)
            self._layout.addWidget(block)
        self._replace_from(len(segments))
        self._segments = segments

    def _replace_from(self, index: int) -> None:
        while len(self._blocks) > index:
            block = self._blocks.pop()
            self._layout.removeWidget(block)
            block.deleteLater()
        del self._segments[index:]

    def code_blocks(self) -> list[CodeBlock]:
        return [b for b in self._blocks if isinstance(b, CodeBlock)]

    def prose_labels(self) -> list[ProseLabel]:
        return [b for b in self._blocks if isinstance(b, ProseLabel)]


class TurnWidget(QLabel):
    """One sent turn in the history: who (me / them / screen) and its transcription or description."""

    def __init__(self, who: str, text: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.who = who
        self.setTextFormat(Qt.TextFormat.RichText)
        self.setWordWrap(True)
        colour = WHO_COLOURS.get(who, TEXT)
        safe = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        self.setText(
            f'<span style="color:{colour}; font-weight:600">{who}</span> <span style="color:{MUTED}">{safe}</span>'
        )
        self.setStyleSheet("background: transparent;")


class Conversation(QScrollArea):
    """History of turns and answers, newest at the bottom; follows new content unless scrolled up."""

    def __init__(self, history_limit: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.history_limit = history_limit
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        inner = QWidget()
        inner.setObjectName("conversation")
        self.setStyleSheet("QScrollArea, #conversation { background: transparent; }")
        self._layout = QVBoxLayout(inner)
        self._layout.setContentsMargins(2, 2, 8, 2)
        self._layout.setSpacing(8)
        self._layout.addStretch(1)  # entries sit at the bottom, as in a chat
        self.setWidget(inner)
        self.entries: list[QWidget] = []
        self.streaming: AnswerWidget | None = None
        self._follow = True
        bar = self.verticalScrollBar()
        bar.valueChanged.connect(lambda value: setattr(self, "_follow", value >= bar.maximum() - 4))
        bar.rangeChanged.connect(lambda _lo, hi: bar.setValue(hi) if self._follow else None)

    def _add(self, widget: QWidget) -> None:
        self.entries.append(widget)
        self._layout.addWidget(widget)
        while len(self.entries) > self.history_limit:
            old = self.entries.pop(0)
            if old is self.streaming:
                self.streaming = None
            self._layout.removeWidget(old)
            old.deleteLater()

    def add_turn(self, who: str, text: str) -> None:
        self._add(TurnWidget(who, text))

    def append_answer(self, delta: str) -> None:
        if self.streaming is None:
            self.streaming = AnswerWidget()
            self._add(self.streaming)
        self.streaming.set_text(self.streaming.text + delta)

    def finish_answer(self, shown: bool) -> None:
        answer, self.streaming = self.streaming, None
        if answer is not None and not shown:
            self.entries.remove(answer)
            self._layout.removeWidget(answer)
            answer.deleteLater()

    def answers(self) -> list[AnswerWidget]:
        return [e for e in self.entries if isinstance(e, AnswerWidget)]
