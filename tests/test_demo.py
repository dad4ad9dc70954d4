"""`rholive demo`: the bundled sample, the segmenter, a typed turn and a tool call, and a bundled screenshot as a
screen turn, on the embedded emulator."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rholive.audio.codec import decode_pcm16, duration_s
from rholive.cli import app
from rholive.demo import Screenshot


@pytest.fixture(autouse=True)
def no_key(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("GEMINI_API_KEY", raising=False)
    monkeypatch.delenv("RHOLIVE_API_KEY", raising=False)
    monkeypatch.delenv("RHOLIVE_BASE_URL", raising=False)
    monkeypatch.setenv("RHOLIVE_CONFIG", str(tmp_path / "absent.toml"))


def test_sample_is_bundled_and_small() -> None:
    sample = files("rholive") / "data" / "demo.ogg"
    data = sample.read_bytes()
    assert len(data) < 60_000
    assert 5 < duration_s(decode_pcm16(data), 16000) < 20


def test_screenshot_is_bundled_small_and_decodes() -> None:
    data = files("rholive") / "data"
    assert sum(len((data / name).read_bytes()) for name in ("demo.ogg", "screen_problem.jpg")) < 100_000
    frame = Screenshot("screen_problem.jpg").grab()
    assert frame.shape == (720, 1280, 4)
    assert frame[..., :3].std() > 20  # a rendered page, not a blank image


def test_demo_shows_the_conversation() -> None:
    result = CliRunner().invoke(app, ["demo", "--speed", "8"])
    assert result.exit_code == 0, result.stderr
    out = result.stdout.splitlines()
    opened = [line for line in out if line.startswith("me: (speaking")]
    ended = [line for line in out if line.startswith("me: (turn ended")]
    assert len(opened) == len(ended) == 2  # the sample's two turns, not split, not merged
    assert "model: (calls get_time({}))" in out
    replies = [line for line in out if line.startswith("model: ") and not line.startswith("model: (calls")]
    assert len(replies) == 4 and all(len(r) > len("model: ") for r in replies)
    assert "me: What time is it?" in out
    tool = [line for line in out if line.startswith("tool get_time")]
    assert len(tool) == 1
    shown_time = tool[0].split('"time": "')[1].split('"')[0]
    assert shown_time in replies[2]  # the answer uses the tool's result
    assert out.index(tool[0]) < out.index(replies[2])
    # the screenshot: one screen turn with its frame, answered after the typed turn
    screen = [line for line in out if line.startswith("screen: (a screen turn: 1 frame(s)")]
    assert len(screen) == 1 and out.index(replies[2]) < out.index(screen[0]) < out.index(replies[3])
    assert replies[3].startswith("model: I saw 1 video frame (")
