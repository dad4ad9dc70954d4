"""Shared parts of the copilot runtime tests: an in-memory screen, a view that records, a condition wait."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import numpy as np

SAFETY_S = 60.0  # a hang fails the test instead of blocking CI; never a timing assertion


class Pages:
    """A grabber showing one of a few synthetic pages (text-like stripes); `show(i)` flips the page."""

    def __init__(self, width: int = 1280, height: int = 720, cycle: bool = False) -> None:
        self.page = 0
        self.cycle = cycle  # a new page at every grab
        self.grabs = 0
        self._pages = [self._render(seed, width, height) for seed in range(4)]

    @staticmethod
    def _render(seed: int, width: int, height: int) -> np.ndarray:
        rng = np.random.default_rng(seed)
        frame = np.full((height, width, 4), 255, np.uint8)
        for row in range(40, height - 40, 24):  # "lines of text": dark runs of random length
            start = int(rng.integers(20, 200))
            frame[row : row + 12, start : start + int(rng.integers(200, width - start - 20)), :3] = 30
        return frame

    def show(self, page: int) -> None:
        self.page = page

    def grab(self) -> np.ndarray:
        self.grabs += 1
        if self.cycle:
            self.page = (self.page + 1) % len(self._pages)
        return self._pages[self.page]

    def close(self) -> None:
        pass


class RecordingView:
    """A CopilotView that remembers every call (a list in memory is a sink)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[Any, ...]]] = []
        self.answer = ""
        self.answers: list[str] = []
        self.withdrawn = 0

    def _rec(self, name: str, *args: Any) -> None:
        self.calls.append((name, args))

    def set_status(self, status: str, detail: str = "") -> None:
        self._rec("set_status", status, detail)

    def set_level(self, source: str, dbfs: float) -> None:
        self._rec("set_level", source, dbfs)

    def set_frames(self, sent: int, skipped: dict[str, int]) -> None:
        self._rec("set_frames", sent, dict(skipped))

    def set_tokens(self, total: int) -> None:
        self._rec("set_tokens", total)

    def set_cost(self, usd: float | None) -> None:
        self._rec("set_cost", usd)

    def user_turn(self, who: str, text: str) -> None:
        self._rec("user_turn", who, text)

    def answer_delta(self, text: str) -> None:
        self._rec("answer_delta", text)
        self.answer += text

    def answer_done(self, shown: bool) -> None:
        self._rec("answer_done", shown)
        if shown:
            self.answers.append(self.answer)
        else:
            self.withdrawn += 1
        self.answer = ""

    def statuses(self) -> list[str]:
        return [args[0] for name, args in self.calls if name == "set_status"]

    def shown_text(self) -> str:
        return "".join(args[0] for name, args in self.calls if name == "answer_delta")


async def until(condition: Callable[[], bool], what: str, limit_s: float = SAFETY_S) -> None:
    """Poll a condition on the event loop; fail naming `what` after `limit_s` (a safety net, not a timing)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit_s
    while not condition():
        if loop.time() > deadline:
            raise TimeoutError(f"gave up waiting for {what}")
        await asyncio.sleep(0.02)
