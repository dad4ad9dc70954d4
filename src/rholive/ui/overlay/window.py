"""The overlay window (Qt thread only): frameless, translucent, always on top, no taskbar entry.

Header (title, Ask / Pause / Click-through / Hide / Close), the conversation (history and the streaming answer),
one level meter per source and a status line. The window's methods are the Qt-side halves of `CopilotView`;
`OverlayView` (view.py) marshals the runtime's calls onto them.
"""

from __future__ import annotations

import time

from PySide6.QtCore import QPoint, Qt, QTimer, Signal
from PySide6.QtGui import (
    QCloseEvent,
    QColor,
    QGuiApplication,
    QKeySequence,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QShortcut,
)
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizeGrip, QToolButton, QVBoxLayout, QWidget

from rholive.ui.dashboard import cost_text
from rholive.ui.overlay.settings import OverlaySettings
from rholive.ui.overlay.widgets import MUTED, TEXT, Conversation, LevelMeter
from rholive.ui.view import CopilotControls

# Counters (frames skipped twice a second at rest, tokens, cost) redraw the status line at most this often; a
# change of state (listening, thinking, ...) redraws it at once. A rich-text label relayouts on every setText.
COUNTERS_EVERY_S = 1.0

STATUS_COLOURS = {
    "connecting": "#f2c94c",
    "connected": "#5fd38d",
    "reconnecting": "#f2994a",
    "listening": "#5fd38d",
    "thinking": "#7cc4ff",
    "paused": "#9aa3b2",
    "closed": "#eb5757",
}


# Thin dark scroll bars; the platform's default ones are light boxes on the dark overlay.
SCROLLBARS = (
    "QScrollBar:vertical { background: transparent; width: 8px; margin: 0; }"
    "QScrollBar:horizontal { background: transparent; height: 8px; margin: 0; }"
    "QScrollBar::handle { background: rgba(255,255,255,60); border-radius: 4px; min-height: 24px; min-width: 24px; }"
    "QScrollBar::handle:hover { background: rgba(255,255,255,100); }"
    "QScrollBar::add-line, QScrollBar::sub-line { width: 0; height: 0; }"
    "QScrollBar::add-page, QScrollBar::sub-page { background: none; }"
)


def _button(text: str, tip: str) -> QToolButton:
    button = QToolButton()
    button.setText(text)
    button.setToolTip(tip)
    button.setCursor(Qt.CursorShape.PointingHandCursor)
    button.setStyleSheet(
        f"QToolButton {{ color: {TEXT}; background: rgba(255,255,255,22); border: none; border-radius: 4px;"
        " padding: 2px 8px; } QToolButton:hover { background: rgba(255,255,255,45); }"
        " QToolButton:checked { background: #3d5a80; } QToolButton:disabled { color: #6b7280; }"
    )
    return button


class OverlayWindow(QWidget):
    closed = Signal()  # the user closed the window: the runtime should stop

    def __init__(
        self, settings: OverlaySettings | None = None, controls: CopilotControls | None = None
    ) -> None:
        super().__init__(
            None,
            Qt.WindowType.FramelessWindowHint | Qt.WindowType.WindowStaysOnTopHint | Qt.WindowType.Tool,
        )
        self.settings = settings or OverlaySettings()
        self.controls = controls
        self.setAttribute(Qt.WidgetAttribute.WA_TranslucentBackground)
        self.setStyleSheet(SCROLLBARS)
        self.setWindowTitle("rholive")
        self.resize(self.settings.width, self.settings.height)
        self._drag_from: QPoint | None = None
        self._status, self._status_detail = "connecting", ""
        self._frames = (0, 0)
        self._tokens = 0
        self._cost = ""  # empty until the first usage report
        self._note = ""
        # Hide / click-through are allowed until the runner says their global hotkeys are missing.
        self._undoable = {"toggle_visible": True, "toggle_click_through": True}
        self._pending = ""  # typing effect: text received but not yet revealed
        self._typing = QTimer(self)
        self._typing.timeout.connect(self._reveal_one)
        self._status_html = ""
        self._status_drawn_at = -COUNTERS_EVERY_S
        self._status_later = QTimer(self)
        self._status_later.setSingleShot(True)
        self._status_later.timeout.connect(self._refresh_status)
        self._build()
        self._bind_shortcuts()
        self._refresh_status()

    # -- layout -----------------------------------------------------------------------------------------
    def _build(self) -> None:
        root = QVBoxLayout(self)
        root.setContentsMargins(12, 8, 12, 8)
        root.setSpacing(6)
        header = QHBoxLayout()
        self.title = QLabel("rholive")
        self.title.setStyleSheet(f"color: {TEXT}; font-weight: 700;")
        header.addWidget(self.title)
        header.addStretch(1)
        keys = self.settings.hotkeys
        self.ask_button = _button("Ask", f"answer for the screen now ({keys.ask_now})")
        self.pause_button = _button("Pause", f"pause or resume listening ({keys.toggle_listening})")
        self.through_button = _button(
            "Click-through", f"let clicks pass through ({keys.toggle_click_through})"
        )
        self.through_button.setCheckable(True)
        self.hide_button = _button("Hide", f"hide; the hotkey shows it again ({keys.toggle_visible})")
        self.close_button = _button("×", "close the overlay and stop")
        self.ask_button.clicked.connect(self.ask_now)
        self.pause_button.clicked.connect(self.toggle_listening)
        self.through_button.clicked.connect(self.toggle_click_through)
        self.hide_button.clicked.connect(self.toggle_visible)
        self.close_button.clicked.connect(self.close)
        for b in (
            self.ask_button,
            self.pause_button,
            self.through_button,
            self.hide_button,
            self.close_button,
        ):
            header.addWidget(b)
        root.addLayout(header)
        self.conversation = Conversation(self.settings.history_limit)
        root.addWidget(self.conversation, 1)
        self._meters_row = QHBoxLayout()
        self.meters = {source: LevelMeter(source) for source in self.settings.sources}
        for meter in self.meters.values():
            self._meters_row.addWidget(meter, 1)
        root.addLayout(self._meters_row)
        footer = QHBoxLayout()
        self.status_label = QLabel()
        self.status_label.setTextFormat(Qt.TextFormat.RichText)
        self.status_label.setWordWrap(True)
        footer.addWidget(self.status_label, 1)
        footer.addWidget(QSizeGrip(self), 0, Qt.AlignmentFlag.AlignBottom | Qt.AlignmentFlag.AlignRight)
        root.addLayout(footer)
        self._update_controls_enabled()

    def _bind_shortcuts(self) -> None:
        # In-window shortcuts: the same keys as the global hotkeys, for when those cannot be grabbed.
        actions = {
            "ask_now": self.ask_now,
            "toggle_listening": self.toggle_listening,
            "toggle_visible": self.toggle_visible,
            "toggle_click_through": self.toggle_click_through,
        }
        for action, hotkey in self.settings.hotkeys.bindings().items():
            shortcut = QShortcut(QKeySequence(hotkey.qt_sequence()), self)
            shortcut.setContext(Qt.ShortcutContext.WindowShortcut)
            shortcut.activated.connect(actions[action])

    def place_top_right(self, margin: int = 24) -> None:
        """Out of the way of what the copilot watches: the top right corner of the primary screen."""
        screen = self.screen() or QGuiApplication.primaryScreen()
        if screen is not None:
            area = screen.availableGeometry()
            self.move(area.right() - self.width() - margin, area.top() + margin)

    def set_controls(self, controls: CopilotControls | None) -> None:
        self.controls = controls
        self._update_controls_enabled()

    def _update_controls_enabled(self) -> None:
        self.ask_button.setEnabled(self.controls is not None)
        self.pause_button.setEnabled(self.controls is not None)

    # -- actions (buttons, shortcuts, global hotkeys) ---------------------------------------------------
    def run_action(self, action: str) -> None:
        getattr(self, action)()

    def ask_now(self) -> None:
        if self.controls is not None:
            self.controls.ask_now()

    def toggle_listening(self) -> None:
        if self.controls is not None:
            listening = self.controls.toggle_listening()
            self.pause_button.setText("Pause" if listening else "Resume")

    def toggle_visible(self) -> None:
        if self.isVisible() and not self._undoable["toggle_visible"]:
            return  # hidden, nothing could bring it back
        self.setVisible(not self.isVisible())

    def set_global_hotkeys(self, grabbed: set[str]) -> None:
        """Which global hotkeys work. Hiding and click-through can only be undone by theirs (a hidden or
        click-through window gets no input), so without it their buttons and shortcuts are off."""
        keys = self.settings.hotkeys
        for action, button, spec in (
            ("toggle_visible", self.hide_button, keys.toggle_visible),
            ("toggle_click_through", self.through_button, keys.toggle_click_through),
        ):
            ok = action in grabbed
            self._undoable[action] = ok
            button.setEnabled(ok)
            if not ok:
                button.setToolTip(f"off: needs its global hotkey ({spec or 'none set'}) to be undone")

    def toggle_click_through(self) -> None:
        if not self.click_through() and not self._undoable["toggle_click_through"]:
            return  # nothing could turn it off again
        self.set_click_through(not self.click_through())

    def click_through(self) -> bool:
        return bool(self.windowFlags() & Qt.WindowType.WindowTransparentForInput)

    def set_click_through(self, on: bool) -> None:
        """Clicks go to the window below. Only a hotkey can turn it off again (the window gets no input)."""
        visible = self.isVisible()
        self.setWindowFlag(Qt.WindowType.WindowTransparentForInput, on)
        self.through_button.setChecked(on)
        if visible:
            self.show()  # changing window flags hides the window

    def set_note(self, note: str) -> None:
        """One extra line in the status, e.g. why global hotkeys are off."""
        self._note = note
        self._refresh_status()

    # -- CopilotView, Qt side ---------------------------------------------------------------------------
    def set_status(self, status: str, detail: str = "") -> None:
        self._status, self._status_detail = status, detail
        if status == "paused":
            self.pause_button.setText("Resume")
        elif status == "listening":
            self.pause_button.setText("Pause")
        self._refresh_status()

    def set_levels(self, levels: dict[str, float]) -> None:
        for source, dbfs in levels.items():
            meter = self.meters.get(source)
            if meter is None:  # a source not configured up front still gets a meter
                meter = self.meters[source] = LevelMeter(source)
                self._meters_row.addWidget(meter, 1)
            meter.set_level(dbfs)

    def set_frames(self, sent: int, skipped: dict[str, int]) -> None:
        self._frames = (sent, sum(skipped.values()))
        reasons = ", ".join(f"{reason} {n}" for reason, n in sorted(skipped.items()))
        self.status_label.setToolTip(f"frames skipped: {reasons}" if reasons else "")
        self._refresh_counters()

    def set_tokens(self, total: int) -> None:
        self._tokens = total
        self._refresh_counters()

    def set_cost(self, usd: float | None) -> None:
        self._cost = cost_text(usd)
        self._refresh_counters()

    def user_turn(self, who: str, text: str) -> None:
        self.conversation.add_turn(who, text)

    def answer_delta(self, text: str) -> None:
        if self.settings.typing_effect_ms <= 0:
            self.conversation.append_answer(text)
            return
        self._pending += text
        if not self._typing.isActive():
            self._typing.start(self.settings.typing_effect_ms)

    def answer_done(self, shown: bool) -> None:
        if self._pending and shown:
            self.conversation.append_answer(self._pending)
        self._pending = ""
        self._typing.stop()
        self.conversation.finish_answer(shown)

    def _reveal_one(self) -> None:
        if not self._pending:
            self._typing.stop()
            return
        char, self._pending = self._pending[0], self._pending[1:]
        self.conversation.append_answer(char)

    def status_text(self) -> str:
        sent, skipped = self._frames
        parts = [self._status + (f" ({self._status_detail})" if self._status_detail else "")]
        parts.append(f"frames {sent} sent, {skipped} skipped")
        parts.append(f"{self._tokens:,} tokens")
        if self._cost:
            parts.append(self._cost)
        text = " · ".join(parts)
        return f"{text}\n{self._note}" if self._note else text

    def _refresh_counters(self) -> None:
        """A counter changed: redraw now if the line was not drawn in the last COUNTERS_EVERY_S, else then."""
        wait_s = self._status_drawn_at + COUNTERS_EVERY_S - time.monotonic()
        if wait_s <= 0:
            self._refresh_status()
        elif not self._status_later.isActive():
            self._status_later.start(max(1, round(wait_s * 1000)))

    def _refresh_status(self) -> None:
        self._status_later.stop()
        colour = STATUS_COLOURS.get(self._status, MUTED)
        lines = self.status_text().split("\n")
        html = f'<span style="color:{colour}">●</span> <span style="color:{MUTED}">{lines[0]}</span>'
        if len(lines) > 1:
            html += f'<br><span style="color:#f2994a">{lines[1]}</span>'
        self._status_drawn_at = time.monotonic()
        if html != self._status_html:
            self._status_html = html
            self.status_label.setText(html)

    # -- window behaviour -------------------------------------------------------------------------------
    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QColor(255, 255, 255, 40))
        painter.setBrush(QColor(18, 20, 26, round(255 * self.settings.opacity)))
        painter.drawRoundedRect(self.rect().adjusted(0, 0, -1, -1), 10, 10)
        painter.end()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        # Frameless: dragging anywhere outside the content moves the window.
        if event.button() == Qt.MouseButton.LeftButton:
            self._drag_from = event.globalPosition().toPoint() - self.frameGeometry().topLeft()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._drag_from is not None and event.buttons() & Qt.MouseButton.LeftButton:
            self.move(event.globalPosition().toPoint() - self._drag_from)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        self._drag_from = None

    def closeEvent(self, event: QCloseEvent) -> None:
        self.closed.emit()
        super().closeEvent(event)
