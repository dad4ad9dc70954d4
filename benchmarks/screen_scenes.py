"""Real screens for benchmarks/screen_pipeline.py, drawn by Qt (PySide6, the `gui` extra) on an X server.

Run as its own process on the display under test (an X client must not live in the measuring process). Reads
commands on stdin and answers "ok" once the drawing has reached the X server:
  show SCENE N   SCENE is text | code | web | video; N picks the content (page N, file N, article N, frame N)
  quit
The words drawn are `scene_words(SCENE, N)`, so the benchmark knows the text it should read back.

- text: a document viewer, prose in an 11 pt proportional font on white;
- code: a dark-theme editor, 10 pt monospace, line numbers, keywords/strings/comments coloured, a caret;
- web: an article in a browser-like page (nav bar, headings, links, a sidebar table, coloured boxes, a picture);
- video: natural-image-like frames (1/f noise landscape panning across) with a subtitle line.
"""

from __future__ import annotations

import sys

import numpy as np

VOCAB = (
    "the of and to in is was for that with as on by at from his her which this are be or an had not have but "
    "were they one all their been has more when who will would there about some other into time only could its "
    "after first also made many these than them then new can people may any most two over such years state "
    "where between through during under while world well used back because each work life before great old "
    "system number should part long still country public group since company government around against "
    "program within local water early house report market history service general power small order second "
    "family level social design during large human light result course field music change health record "
    "research problem reason process window screen answer meeting question network memory server client"
).split()


def _rng(scene: str, n: int) -> np.random.Generator:
    return np.random.default_rng([sum(map(ord, scene)), n])


def prose(scene: str, n: int, paragraphs: int, words: tuple[int, int] = (40, 80)) -> list[str]:
    rng = _rng(scene, n)
    out = []
    for _ in range(paragraphs):
        count = int(rng.integers(*words))
        picked = [VOCAB[i] for i in rng.integers(0, len(VOCAB), count)]
        sentences, i = [], 0
        while i < len(picked):
            k = int(rng.integers(6, 14))
            chunk = picked[i : i + k]
            sentences.append(" ".join([chunk[0].capitalize(), *chunk[1:]]) + ".")
            i += k
        out.append(" ".join(sentences))
    return out


def code_lines(n: int, count: int = 60) -> list[str]:
    rng = _rng("code", n)
    lines: list[str] = []
    while len(lines) < count:
        name = "_".join(VOCAB[i] for i in rng.integers(0, len(VOCAB), 2))
        arg = VOCAB[int(rng.integers(0, len(VOCAB)))]
        lines.append(f"def {name}({arg}, limit=10):")
        lines.append(f'    """Return the {VOCAB[int(rng.integers(0, len(VOCAB)))]} of each {arg}."""')
        for _ in range(int(rng.integers(2, 6))):
            a, b, c = (VOCAB[i] for i in rng.integers(0, len(VOCAB), 3))
            kind = int(rng.integers(0, 4))
            if kind == 0:
                lines.append(f"    {a}_{b} = {arg}.get('{c}', {int(rng.integers(0, 999))})")
            elif kind == 1:
                lines.append(f"    for {a} in {b}({arg}):  # {c} {a} {b}")
            elif kind == 2:
                lines.append(f"        if {a} > limit:")
                lines.append(f"            return {b}_{c}({a})")
            else:
                lines.append(f'    print("{a} {b} {c}", {arg})')
        lines.append(f"    return {arg}")
        lines.append("")
    return lines[:count]


def article(n: int) -> tuple[str, list[str], list[str]]:
    rng = _rng("web", n)
    title = " ".join(VOCAB[i] for i in rng.integers(0, len(VOCAB), 5)).title()
    return title, prose("web", n, 5, (50, 90)), [VOCAB[i] for i in rng.integers(0, len(VOCAB), 12)]


def subtitle(n: int) -> str:
    rng = _rng("video", n // 4)  # a subtitle stays up for a few frames, like in a film
    return " ".join(VOCAB[i] for i in rng.integers(0, len(VOCAB), 8)).capitalize() + "."


def scene_words(scene: str, n: int) -> list[str]:
    """The words drawn for this scene (lower case, letters only), visible or not."""
    if scene == "text":
        text = " ".join(prose("text", n, 14))
    elif scene == "code":
        text = " ".join(code_lines(n))
    elif scene == "web":
        title, paras, side = article(n)
        text = " ".join([title, *paras, *side, *NAV])
    else:
        text = subtitle(n)
    return words_of(text)


def words_of(text: str) -> list[str]:
    cleaned = "".join(c.lower() if c.isalpha() else " " for c in text)
    return [w for w in cleaned.split() if len(w) > 1]


NAV = ["Home", "News", "Science", "Technology", "Culture", "Search"]


def landscape(width: int, height: int, seed: int = 7) -> np.ndarray:
    """A colour texture with natural images' 1/f spectrum: sky gradient above, rough ground below; RGB uint8."""
    rng = np.random.default_rng(seed)
    fy = np.fft.fftfreq(height)[:, None]
    fx = np.fft.rfftfreq(width)[None, :]
    radius = np.sqrt(fx * fx + fy * fy)
    radius[0, 0] = 1.0
    out = np.empty((height, width, 3), np.float32)
    for ch, tint in enumerate((0.9, 1.0, 0.8)):
        spectrum = (rng.normal(size=radius.shape) + 1j * rng.normal(size=radius.shape)) / radius**1.1
        spectrum[0, 0] = 0
        field = np.fft.irfft2(spectrum, s=(height, width)).astype(np.float32)
        field = (field - field.mean()) / field.std()
        out[..., ch] = field * 38 * tint
    rows = np.linspace(0, 1, height, dtype=np.float32)[:, None]
    horizon = 0.45 + 0.08 * np.sin(np.linspace(0, 9, width, dtype=np.float32))[None, :]
    sky = rows < horizon
    base = np.where(sky[..., None], [120, 165, 220], [85, 110, 60]).astype(np.float32)
    out = base + out * np.where(sky, 0.35, 1.0)[..., None]
    return np.clip(out, 0, 255).astype(np.uint8)


def main() -> None:
    from PySide6.QtCore import Qt
    from PySide6.QtGui import (
        QColor,
        QCursor,
        QFont,
        QImage,
        QPainter,
        QPixmap,
        QSyntaxHighlighter,
        QTextCharFormat,
    )
    from PySide6.QtWidgets import (
        QApplication,
        QLabel,
        QPlainTextEdit,
        QStackedWidget,
        QTextBrowser,
        QTextEdit,
        QVBoxLayout,
        QWidget,
    )

    app = QApplication(sys.argv)
    screen = app.primaryScreen().geometry()
    win = QWidget()
    win.setWindowFlags(Qt.WindowType.FramelessWindowHint)
    win.setGeometry(screen)
    layout = QVBoxLayout(win)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.setSpacing(0)
    title = QLabel()
    title.setFixedHeight(30)
    title.setStyleSheet("background:#dedede; color:#202020; padding-left:10px; font: 10pt 'DejaVu Sans'")
    layout.addWidget(title)
    stack = QStackedWidget()
    layout.addWidget(stack)

    doc = QTextEdit(readOnly=True)
    doc.setStyleSheet("background:white; color:#1a1a1a; border:0")
    doc.setFont(QFont("DejaVu Serif", 11))
    doc.document().setDocumentMargin(60)

    editor = QPlainTextEdit()
    editor.setStyleSheet("background:#1e1e1e; color:#d4d4d4; border:0; selection-background-color:#264f78")
    editor.setFont(QFont("DejaVu Sans Mono", 10))

    class Highlight(QSyntaxHighlighter):
        def highlightBlock(self, text: str) -> None:
            def fmt(colour: str) -> QTextCharFormat:
                f = QTextCharFormat()
                f.setForeground(QColor(colour))
                return f

            for i, word in enumerate(text.split(" ")):
                if word in ("def", "for", "in", "if", "return", "print(", "limit=10):"):
                    start = len(" ".join(text.split(" ")[:i])) + (1 if i else 0)
                    self.setFormat(start, len(word), fmt("#569cd6"))
            for quote in ("'", '"'):
                start = text.find(quote)
                end = text.rfind(quote)
                if 0 <= start < end:
                    self.setFormat(start, end - start + 1, fmt("#ce9178"))
            if (hash_at := text.find("#")) >= 0:
                self.setFormat(hash_at, len(text) - hash_at, fmt("#6a9955"))
            if text[:4].strip().isdigit():
                self.setFormat(0, 4, fmt("#858585"))

    Highlight(editor.document())

    web = QTextBrowser()
    web.setStyleSheet("background:#fafafa; border:0")
    web.setFont(QFont("DejaVu Sans", 10))
    picture = QImage(landscape(480, 270, seed=3).tobytes(), 480, 270, 480 * 3, QImage.Format.Format_RGB888)
    web.document().addResource(3, "pic://1", picture.copy())  # 3 = QTextDocument.ImageResource

    video = QLabel()
    video.setAlignment(Qt.AlignmentFlag.AlignCenter)
    video.setStyleSheet("background:black")
    texture = landscape(screen.width() * 2, screen.height(), seed=11)

    for widget in (doc, editor, web, video):
        stack.addWidget(widget)
    win.show()

    def show(scene: str, n: int) -> None:
        if scene == "text":
            title.setText(f"report-{n}.odt — Document Viewer")
            doc.setHtml("".join(f"<p style='line-height:130%'>{p}</p>" for p in prose("text", n, 14)))
            stack.setCurrentWidget(doc)
        elif scene == "code":
            title.setText(f"module_{n}.py — Editor")
            lines = code_lines(n)
            editor.setPlainText("\n".join(f"{i + 1:3d} {line}" for i, line in enumerate(lines)))
            stack.setCurrentWidget(editor)
            editor.setFocus()
            cursor = editor.textCursor()
            cursor.setPosition(len(lines[0]) + 4)
            editor.setTextCursor(cursor)
        elif scene == "web":
            head, paras, side = article(n)
            title.setText(f"{head} — Browser")
            nav = " &nbsp; ".join(f"<a style='color:white' href='#'>{w}</a>" for w in NAV)
            rows = "".join(
                f"<tr><td>{w}</td><td align=right>{(i * 37 + n) % 100}</td></tr>" for i, w in enumerate(side)
            )
            body = "".join(f"<p>{p}</p>" for p in paras[1:])
            web.setHtml(
                f"<table width=100% bgcolor='#1f3b73' cellpadding=10><tr><td style='font-size:13pt'>{nav}</td>"
                "</tr></table>"
                f"<h1 style='color:#1f3b73'>{head}</h1>"
                f"<table width=100% cellspacing=12><tr><td valign=top width=70%>"
                f"<p style='background:#fff4d6; padding:8px'><b>{paras[0]}</b></p>"
                f"<img src='pic://1'>{body}</td>"
                f"<td valign=top bgcolor='#eef2f8'><h3>Related</h3><table width=100%>{rows}</table></td></tr></table>"
            )
            stack.setCurrentWidget(web)
        else:
            title.setText("film.mkv — Video Player")
            w, h = screen.width(), screen.height() - 30
            x = (n * 24) % (texture.shape[1] - w)
            frame = np.ascontiguousarray(texture[:h, x : x + w])
            image = QImage(frame.data, w, h, w * 3, QImage.Format.Format_RGB888).copy()
            painter = QPainter(image)
            painter.setFont(QFont("DejaVu Sans", 22, QFont.Weight.Bold))
            line = subtitle(n)
            box = painter.fontMetrics().boundingRect(line).width() + 40
            painter.fillRect((w - box) // 2, h - 115, box, 50, QColor(0, 0, 0, 170))  # players' caption box
            painter.setPen(QColor("white"))
            painter.drawText(0, h - 120, w, 60, Qt.AlignmentFlag.AlignCenter, line)
            painter.end()
            video.setPixmap(QPixmap.fromImage(image))
            stack.setCurrentWidget(video)

    for line in sys.stdin:
        cmd = line.split()
        if not cmd:
            continue
        if cmd[0] == "quit":
            break
        if cmd[0] == "show":
            show(cmd[1], int(cmd[2]))
        win.repaint()
        app.processEvents()
        QCursor.pos()  # a round trip to the X server: it has processed our drawing
        print("ok", flush=True)


if __name__ == "__main__":
    main()
