"""``rholive chat`` over a service that stalls or cuts answers: lines typed during an answer wait for it (also
across a reconnect), EOF never hangs, a cut answer is marked and its repeat starts on its own line."""

from __future__ import annotations

import asyncio
import io
import json
from pathlib import Path

import pytest

from rholive.chat import run_chat
from rholive.config import load_settings
from rholive.conversation import ChatPrinter
from rholive.emulator import Emulator
from rholive.live import events as ev

from .conftest import WAIT_S, holding_emulator


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("GEMINI_API_KEY", "RHOLIVE_API_KEY", "RHOLIVE_MODEL", "RHOLIVE_BASE_URL", "RHOLIVE_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))


async def chat(emu: Emulator, lines: str, json_mode: bool) -> tuple[int, str, str]:
    settings = load_settings(base_url=emu.url, stall_timeout_s=0.5)  # the configured deadline
    out, err = io.StringIO(), io.StringIO()
    # WAIT_S bounds a hang only (the old chat waited forever here)
    code = await asyncio.wait_for(
        run_chat(settings, json_mode=json_mode, stdin=io.StringIO(lines), out=out, err=err), WAIT_S
    )
    return code, out.getvalue(), err.getvalue()


async def test_after_eof_a_stalled_server_gets_the_stall_handling_then_chat_exits() -> None:
    async with Emulator(holding_emulator(holds=99)) as emu:  # no answer, ever
        code, out, err = await chat(emu, "hello\n", json_mode=False)
    assert code == 0 and out == ""
    assert err.count("no answer came to that turn") == 1
    assert "reconnecting (stall: no answer within 0.5 s" in err  # the turn was sent once more first


async def test_a_line_read_during_an_answer_waits_for_it_even_across_a_reconnect() -> None:
    async with Emulator(holding_emulator(holds=1)) as emu:  # the first turn stalls once
        code, out, _ = await chat(emu, "one\ntwo\n", json_mode=True)
    assert code == 0
    events = [json.loads(line) for line in out.splitlines()]
    kinds = [e["event"] for e in events]
    assert [e["text"] for e in events if e["event"] == "answer"] == ["reply 1: one", "reply 2: two"]
    assert "interrupted" not in kinds and "answer_cut" not in kinds
    second_sent = kinds.index("user_turn", kinds.index("user_turn") + 1)
    assert kinds.index("reconnecting") < kinds.index("answer_complete") < second_sent
    assert [t.text for t in emu.conversations[0].turns] == ["one", "two"]


def test_a_cut_answer_ends_its_line_with_a_marker_and_the_repeat_has_its_own() -> None:
    out, err = io.StringIO(), io.StringIO()
    printer = ChatPrinter(out, err, json_mode=False)
    for event in (
        ev.OutputTranscription("let me "),
        ev.AnswerCut(reason="go_away", text="let me"),
        ev.OutputTranscription("let me check: 42"),
        ev.AnswerComplete(),
    ):
        printer.event(event)
    assert out.getvalue() == "let me  [cut]\nlet me check: 42\n"


def test_json_reports_the_cut_and_one_answer_with_the_repeat_only() -> None:
    out = io.StringIO()
    printer = ChatPrinter(out, io.StringIO(), json_mode=True)
    for event in (
        ev.OutputTranscription("let me"),
        ev.AnswerCut(reason="go_away", text="let me"),
        ev.OutputTranscription("let me check"),
        ev.AnswerComplete(),
    ):
        printer.event(event)
    events = [json.loads(line) for line in out.getvalue().splitlines()]
    assert {"event": "answer_cut", "reason": "go_away", "text": "let me"} in events
    assert [e for e in events if e["event"] == "answer"] == [{"event": "answer", "text": "let me check"}]
