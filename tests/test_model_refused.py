"""A model the endpoint refuses at setup: one line on stderr, the Live models available, a non-zero exit.

The emulator on this branch refuses any model name without "gemini" (close 1008, "... is not found ... or is
not supported for bidiGenerateContent"), so the refused name here is ``models/nova-live-1``: a name like
``models/gemini-9-live`` is still accepted until the emulator gets per-model rules.
"""

from __future__ import annotations

import wave
from pathlib import Path

from rholive.live import SetupRejected, models
from rholive.live.refusal import is_model_refusal, refusal_why
from rholive.live.session import FATAL_CLOSE_CODES
from test_cli import EmulatorProcess, run

REFUSED = "models/nova-live-1"
KEY = "refusal-key-5150"


def assert_one_refusal_line(stderr: str) -> None:
    lines = [line for line in stderr.splitlines() if "emulator at" not in line]
    assert len(lines) == 1, stderr
    line = lines[0]
    assert line.startswith(f"rholive: error: model {REFUSED} cannot be used: the service refused it (")
    available = ", ".join(entry.name for entry in models.available())
    assert f"Live models available now: {available};" in line
    assert "pick one with --model" in line


def test_chat_with_a_refused_model_is_one_line_and_a_non_zero_exit() -> None:
    emu = EmulatorProcess("--api-key", KEY)
    try:
        result = run(
            ["chat", "--base-url", emu.url, "--api-key", KEY, "--model", REFUSED], stdin="hello\nagain\n"
        )
    finally:
        emu.stop()
    assert result.returncode == 1
    assert result.stdout == ""
    assert len(result.stderr.splitlines()) == 1
    assert_one_refusal_line(result.stderr)
    assert KEY not in result.stderr


def test_replay_and_demo_with_a_refused_model_on_the_embedded_emulator(tmp_path: Path) -> None:
    silence = tmp_path / "quiet.wav"
    with wave.open(str(silence), "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(16000)
        w.writeframes(b"\0\0" * 1600)
    for args in (["replay", str(silence)], ["demo"]):
        result = run([*args, "--model", REFUSED])
        assert result.returncode == 1, (args, result.stderr)
        assert_one_refusal_line(result.stderr)


def test_a_shut_down_model_is_refused_before_connecting() -> None:
    result = run(["chat", "--model", "models/gemini-2.0-flash-live-001"], stdin="hi\n")
    assert result.returncode == 2  # a setting the user gave (flag, env, file): exit 2
    assert len(result.stderr.splitlines()) == 1
    assert "shut down on 2025-12-09" in result.stderr and "embedded emulator" not in result.stderr


def test_which_refusals_are_about_the_model() -> None:
    assert 1008 in FATAL_CLOSE_CODES  # a refused model is never retried
    cut = SetupRejected(1008, "models/some-very-long-model-name-that-goes-on-and-on-and-on is not fou")
    assert is_model_refusal(cut, "models/some-very-long-model-name-that-goes-on-and-on-and-on")
    assert is_model_refusal(SetupRejected(1008, "x is not supported for bidiGenerateContent"), "m")
    assert not is_model_refusal(SetupRejected(1008, "Session resumption handle not found or expired"), "m")
    assert not is_model_refusal(SetupRejected(1008, "API key not valid. Please pass a valid API key."), "m")
    assert not is_model_refusal(SetupRejected(1007, f"{REFUSED} is not found"), REFUSED)
    assert not is_model_refusal(SetupRejected(404, f"{REFUSED} is not found", http=True), REFUSED)
    gone = "models/gemini-2.0-flash-live-001"
    assert refusal_why(SetupRejected(1008, "whatever"), gone).startswith("shut down on 2025-12-09")
