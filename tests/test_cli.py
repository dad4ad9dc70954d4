"""The commands as a user runs them: real processes, real sockets, stdin/stdout."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
RHOLIVE = [sys.executable, "-m", "rholive.cli"]


def env_without_key() -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("GEMINI_API_KEY", "RHOLIVE_API_KEY", "RHOLIVE_BASE_URL")
    }
    env["XDG_CONFIG_HOME"] = "/nonexistent-rholive-test"
    return env


def run(args: list[str], stdin: str = "", timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        RHOLIVE + args, input=stdin, capture_output=True, text=True, timeout=timeout, env=env_without_key()
    )


class EmulatorProcess:
    def __init__(self, *args: str) -> None:
        self.proc = subprocess.Popen(
            [*RHOLIVE, "emulator", "--port", "0", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env_without_key(),
        )
        assert self.proc.stdout is not None
        self.first_line = self.proc.stdout.readline().strip()
        self.url = self.first_line.rsplit(" ", 1)[-1]
        self.cert = self.proc.stdout.readline().strip().rsplit(" ", 1)[-1] if "--tls" in args else None

    def stop(self) -> str:
        self.proc.terminate()
        _, err = self.proc.communicate(timeout=10)
        return err


@pytest.fixture
def emulator_process() -> Iterator[EmulatorProcess]:
    emu = EmulatorProcess("--api-key", "sekrit-key-123")
    yield emu
    emu.stop()


def test_emulator_first_line_is_the_contract(emulator_process: EmulatorProcess) -> None:
    assert emulator_process.first_line.startswith("rholive emulator listening on ws://127.0.0.1:")
    assert int(emulator_process.url.rsplit(":", 1)[1]) > 0


def test_chat_text_turns_over_one_session(emulator_process: EmulatorProcess) -> None:
    base = emulator_process.url.replace("ws://", "http://")
    result = run(
        ["chat", "--base-url", base, "--api-key", "sekrit-key-123"], stdin="hello there\n\nsecond line\n"
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 2 and "hello there" in lines[0] and "second line" in lines[1]
    assert "sekrit-key-123" not in result.stdout + result.stderr


def test_chat_json_prints_one_event_per_line(emulator_process: EmulatorProcess) -> None:
    result = run(
        ["chat", "--base-url", emulator_process.url, "--api-key", "sekrit-key-123", "--json"], stdin="hi\n"
    )
    assert result.returncode == 0, result.stderr
    events = [json.loads(line) for line in result.stdout.splitlines()]
    kinds = [e["event"] for e in events]
    assert "connected" in kinds and kinds[-1] == "closed"
    assert {"user_turn", "output_transcription", "answer", "turn_complete", "usage"} <= set(kinds)
    answers = [e["text"] for e in events if e["event"] == "answer"]
    assert len(answers) == 1 and '"hi"' in answers[0]  # the transcript of the spoken answer


def test_chat_with_a_wrong_key_is_one_line_and_no_key(emulator_process: EmulatorProcess) -> None:
    result = run(["chat", "--base-url", emulator_process.url, "--api-key", "wrong-key-456"], stdin="hi\n")
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0 and "rholive: error:" in result.stderr
    assert "1008" in result.stderr and "wrong-key-456" not in result.stderr + result.stdout


def test_chat_without_key_uses_the_embedded_emulator_and_says_so() -> None:
    result = run(["chat"], stdin="anyone there\n")
    assert result.returncode == 0, result.stderr
    assert "embedded emulator" in result.stderr
    assert "anyone there" in result.stdout


def test_chat_over_tls_with_the_emulator_certificate() -> None:
    emu = EmulatorProcess("--tls")
    try:
        assert emu.first_line.startswith("rholive emulator listening on wss://")
        assert emu.cert and Path(emu.cert).is_file()
        base = emu.url.replace("wss://", "https://")
        result = run(
            ["chat", "--base-url", base, "--ca-file", emu.cert, "--modality", "audio"], stdin="speak\n"
        )
        assert result.returncode == 0, result.stderr
        assert "speak" in result.stdout  # the output transcription of the spoken reply
    finally:
        emu.stop()


def test_bad_config_file_is_one_line() -> None:
    result = run(["--config", "/nonexistent.toml", "chat"])
    assert result.returncode == 1
    assert result.stderr.strip() == "rholive: error: config file not found: /nonexistent.toml"


def test_chat_waits_through_background_reasoning_of_the_extended_thinking_model(
    emulator_process: EmulatorProcess,
) -> None:
    """That model ends a filler with turnComplete + IN_PROGRESS; the answer is over only at IDLE."""
    flags = ["--base-url", emulator_process.url, "--api-key", "sekrit-key-123", "--json"]
    result = run(
        ["chat", *flags, "--model", "models/gemini-3.8-live-extended-thinking"], stdin="first\nsecond\n"
    )
    assert result.returncode == 0, result.stderr
    events = [json.loads(line) for line in result.stdout.splitlines()]
    statuses = [e["status"] for e in events if e["event"] == "interaction_status"]
    assert statuses == ["IN_PROGRESS", "IDLE", "IN_PROGRESS", "IDLE"]
    answers = [e["text"] for e in events if e["event"] == "answer"]
    assert len(answers) == 2 and '"first"' in answers[0] and '"second"' in answers[1]
    assert not any(e["event"] == "interrupted" for e in events)  # "second" waited for the whole answer


@pytest.mark.parametrize(
    ("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 0)], ids=["ctrl-c", "sigterm"]
)
def test_the_emulator_exits_130_on_ctrl_c_and_0_on_sigterm(sig: signal.Signals, code: int) -> None:
    emulator = EmulatorProcess()
    emulator.proc.send_signal(sig)
    assert emulator.proc.wait(timeout=30) == code


def test_version_and_short_help() -> None:
    version = run(["--version"])
    assert version.returncode == 0 and version.stdout.startswith("rholive ")
    short = run(["chat", "-h"])
    assert short.returncode == 0 and "--model" in short.stdout


def test_chat_answers_a_tool_call_it_cannot_serve_and_goes_on() -> None:
    """The bundled demo brain calls get_time for "What time is it?": chat has no such tool and hung forever,
    even after stdin ended. Now the call gets an error response and the model answers on."""
    emulator = EmulatorProcess("--brain", f"script:{ROOT / 'examples' / 'brains' / 'demo.yaml'}")
    try:
        result = run(["chat", "--base-url", emulator.url, "--json"], stdin="What time is it?\nhello\n")
    finally:
        emulator.stop()
    assert result.returncode == 0, result.stderr
    events = [json.loads(line) for line in result.stdout.splitlines()]
    results = [e for e in events if e["event"] == "tool_result"]
    assert [r["name"] for r in results] == ["get_time"] and "error" in json.dumps(results[0])
    assert len([e for e in events if e["event"] == "answer"]) == 2  # the tool turn, then "hello"


def test_chat_never_prints_a_raw_nothing(tmp_path: Path) -> None:
    """The README promises `<nothing>` is never shown: chat printed it as the answer."""
    brain = tmp_path / "nothing.yaml"
    brain.write_text('rules:\n  - text: "quiet"\n    nothing: true\ndefault:\n  echo: true\n')
    emulator = EmulatorProcess("--brain", f"script:{brain}")
    try:
        plain = run(["chat", "--base-url", emulator.url], stdin="quiet\nhello\n")
        as_json = run(["chat", "--base-url", emulator.url, "--json"], stdin="quiet\nhello\n")
    finally:
        emulator.stop()
    assert plain.returncode == 0, plain.stderr
    assert "nothing" not in plain.stdout.lower() and '"hello"' in plain.stdout
    events = [json.loads(line) for line in as_json.stdout.splitlines()]
    assert [e["event"] for e in events if e["event"] in ("answer", "answer_withheld")] == [
        "answer_withheld",
        "answer",
    ]


def test_run_help_names_the_personas() -> None:
    from rholive.conversation import persona_names

    result = run(["run", "--help"])
    assert result.returncode == 0
    assert all(name in result.stdout for name in persona_names())
