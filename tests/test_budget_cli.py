"""`--budget` and the `cost` events of `rholive chat`, as a user runs them against the emulator."""

from __future__ import annotations

import json
from pathlib import Path

from rholive.live.cost import format_usd
from test_cli import EmulatorProcess, run

KEY = "budget-key-8080"


def chat(emu: EmulatorProcess, *args: str, stdin: str) -> tuple[int, list[dict[str, object]], str]:
    result = run(["chat", "--base-url", emu.url, "--api-key", KEY, "--json", *args], stdin=stdin)
    return result.returncode, [json.loads(line) for line in result.stdout.splitlines()], result.stderr


def test_a_tiny_budget_ends_the_session_after_the_turn_that_crossed_it() -> None:
    emu = EmulatorProcess("--api-key", KEY)
    try:
        code, events, stderr = chat(emu, "--budget", "0.0001", stdin="first\nsecond\nthird\n")
    finally:
        emu.stop()
    assert code == 3, stderr
    assert [e["text"] for e in events if e["event"] == "user_turn"] == ["first"]
    answer = "".join(str(e["text"]) for e in events if e["event"] == "output_transcription")
    assert "first" in answer and "second" not in answer
    costs = [e for e in events if e["event"] == "cost"]
    assert costs and all(e["estimated"] is True for e in costs)
    total = costs[-1]["total_usd"]
    assert isinstance(total, float) and total >= 0.0001
    assert stderr.splitlines() == [
        f"rholive: budget of $0.0001 reached (estimated {format_usd(total)}): session ended"
    ]


def test_cost_events_follow_each_usage_and_add_up_under_a_large_budget() -> None:
    emu = EmulatorProcess("--api-key", KEY)
    try:
        code, events, stderr = chat(emu, "--budget", "100", stdin="one\ntwo\n")
    finally:
        emu.stop()
    assert code == 0, stderr
    kinds = [e["event"] for e in events]
    assert kinds.count("usage") == kinds.count("cost") == 2
    assert all(kinds[i + 1] == "cost" for i, kind in enumerate(kinds) if kind == "usage")
    costs = [e for e in events if e["event"] == "cost"]
    assert costs[1]["total_usd"] == costs[0]["usd"] + costs[1]["usd"]  # type: ignore[operator]
    assert stderr == ""


def test_a_budget_needs_prices_and_the_prices_table_gives_them(tmp_path: Path) -> None:
    emu = EmulatorProcess("--api-key", KEY, "--extra-model", "gemini-custom")  # newer than our catalog
    try:
        code, events, stderr = chat(emu, "--model", "models/gemini-custom", "--budget", "1", stdin="hi\n")
        assert code == 1 and events == []
        assert len(stderr.splitlines()) == 1 and "[prices]" in stderr
        config = tmp_path / "config.toml"
        config.write_text(
            "budget_usd = 0.0001\n[prices]\ntext_in = 1000\naudio_in = 1000\ntext_out = 1000\naudio_out = 1000\n"
        )
        flags = ["--base-url", emu.url, "--api-key", KEY, "--json", "--model", "models/gemini-custom"]
        result = run(["--config", str(config), "chat", *flags], stdin="hi\nthere\n")
        assert result.returncode == 3, result.stderr
        assert "budget of $0.0001 reached" in result.stderr
        assert result.stdout.count('"event": "user_turn"') == 1
        config.write_text("[prices]\nvideo_in = 1.0\n")
        result = run(["--config", str(config), "chat", "--base-url", emu.url, "--api-key", KEY], stdin="x\n")
        assert result.returncode == 2 and "unknown key(s) in [prices]: video_in" in result.stderr
    finally:
        emu.stop()


def test_an_unknown_model_has_cost_events_without_an_estimate() -> None:
    emu = EmulatorProcess("--api-key", KEY, "--extra-model", "gemini-custom")  # newer than our catalog
    try:
        code, events, _ = chat(emu, "--model", "models/gemini-custom", stdin="hi\n")
    finally:
        emu.stop()
    assert code == 0
    cost = next(e for e in events if e["event"] == "cost")
    assert cost["usd"] is None and cost["total_usd"] is None
    assert cost["note"] == "no price known for models/gemini-custom"
