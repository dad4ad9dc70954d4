"""Regenerate docs/overlay.png: the overlay rendered offscreen with a realistic session.

    uv run --extra gui python scripts/overlay_screenshot.py [out.png]

It drives the overlay through `OverlayView`, as the runtime does: turns, a streamed answer with a code block,
levels, frames, tokens and status. Needs no display (QT_QPA_PLATFORM=offscreen).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtWidgets import QApplication

from rholive.ui.overlay import OverlaySettings, OverlayView, OverlayWindow

ANSWER = """**Two Sum** — one pass with a hash map, O(n) time, O(n) space:

```python
def two_sum(nums: list[int], target: int) -> list[int]:
    seen: dict[int, int] = {}
    for i, n in enumerate(nums):
        if target - n in seen:
            return [seen[target - n], i]
        seen[n] = i
    return []
```

Say: *"For each number I look up its complement among the ones already seen."*"""


def stream(view: OverlayView, text: str, chunk: int = 40) -> None:
    for start in range(0, len(text), chunk):
        view.answer_delta(text[start : start + chunk])


def populate(view: OverlayView) -> None:
    view.set_status("connected")
    view.user_turn("me", "Hi, thanks for having me.")
    view.user_turn("them", "Sure. So, how do you usually approach a system you have never seen before?")
    stream(view, "Map the **request path** first (entry point → storage), then read the tests around it.")
    view.answer_done(True)
    view.user_turn("them", "Can you tell me a bit about the last project you worked on?")
    stream(view, "Lead with the **latency win**: p95 from 900 ms to 220 ms by batching the writes.")
    view.answer_done(True)
    view.user_turn("screen", "screen changed: a coding problem (Two Sum) in the browser")
    view.user_turn("them", "Okay, let's do a quick one. Take a look at the problem on your screen.")
    stream(view, ANSWER)
    view.answer_done(True)
    view.set_level("me", -38.0)
    view.set_level("them", -14.0)
    view.set_frames(23, {"unchanged": 412, "small_change": 37})
    view.set_tokens(18_342)
    view.set_status("listening")


class _IdleControls:
    """Enables the Ask / Pause buttons for the picture; nothing runs behind them."""

    def ask_now(self) -> None:
        pass

    def toggle_listening(self) -> bool:
        return True


def main() -> int:
    out = (
        Path(sys.argv[1])
        if len(sys.argv) > 1
        else Path(__file__).resolve().parents[1] / "docs" / "overlay.png"
    )
    app = QApplication.instance() or QApplication(["overlay_screenshot"])
    window = OverlayWindow(OverlaySettings(width=520, height=610), _IdleControls())
    view = OverlayView(window)
    window.show()
    populate(view)
    app.processEvents()
    app.processEvents()
    out.parent.mkdir(parents=True, exist_ok=True)
    if not window.grab().save(str(out)):
        print(f"could not write {out}", file=sys.stderr)
        return 1
    print(out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
