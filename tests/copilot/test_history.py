"""`rholive history`: the formatting (pure, in UTC) and the command through typer's runner and a real process."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from datetime import UTC
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rholive.cli import app
from rholive.copilot import history
from rholive.copilot.store import TranscriptStore

MODEL = "models/gemini-live-2.5-flash-preview"
T0 = 1764613642.0  # 2025-12-01 18:27:22 UTC


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "transcripts.sqlite3"


def fill(path: Path) -> tuple[str, str]:
    """Two sessions: an ended one with a conversation, and a newer one still open."""
    with TranscriptStore(path) as store:
        old = store.start_session(model=MODEL, at=T0, persona="silent helper")
        me = store.add_turn(old, who="me", kind="audio", at=T0 + 3)
        store.set_turn_text(me, "How do I reverse")
        store.set_turn_text(me, " a *linked* list?")
        store.add_turn(old, who="them", kind="audio", at=T0 + 5)  # never transcribed
        store.add_turn(old, who="screen", kind="screen", at=T0 + 8, text="screen changed")
        store.add_answer(old, turn_id=me, text="Use three pointers:\n```python\nprev = None", at=T0 + 10)
        store.add_turn(old, who="me", kind="typed", at=T0 + 18, text="thanks")
        store.add_usage(
            old,
            at=T0 + 10,
            total_tokens=1200,
            prompt_tokens=1000,
            response_tokens=200,
            by_modality={"AUDIO": 800},
            cost_usd=0.0123,
        )
        store.end_session(old, at=T0 + 1058)
        new = store.start_session(model="models/other", at=T0 + 7200)
    return old, new


# -- pure formatting ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seconds", "text"), [(0, "0s"), (59.4, "59s"), (61, "1m01s"), (1058, "17m38s"), (7500, "2h05m")]
)
def test_duration(seconds: float, text: str) -> None:
    assert history.duration(seconds) == text


def test_sessions_table_plain(path: Path) -> None:
    old, new = fill(path)
    with TranscriptStore(path) as store:
        lines = history.sessions_lines(store.sessions(), tz=UTC)
    assert lines == [
        "SESSION   STARTED           LENGTH  KIND     MODEL                                 TURNS  ANSWERS  TOKENS"
        "     COST",
        f"{new}  2025-12-01 20:27  open    copilot  models/other                              0        0       0"
        "        -",
        f"{old}  2025-12-01 18:27  17m38s  copilot  models/gemini-live-2.5-flash-preview      4        1   1,200"
        "  $0.0123",
    ]


def test_conversation_plain(path: Path) -> None:
    old, _ = fill(path)
    with TranscriptStore(path) as store:
        lines = history.conversation_lines(store.session(old), store.entries(old), store.usage(old), tz=UTC)
    assert lines == [
        f"session {old} · copilot · {MODEL} · persona: silent helper",
        "started 2025-12-01 18:27:22, ended 18:45:00 (17m38s) · 4 turns · 1 answer",
        "tokens: 1,200 (prompt 1,000, response 200; AUDIO 800) in 1 report",
        "cost: $0.0123 (estimated)",
        "",
        "18:27:25  me          How do I reverse a *linked* list?",
        "18:27:27  them        (no transcription)",
        "18:27:30  screen      screen changed",
        "18:27:32  copilot     Use three pointers:",
        "                      ```python",
        "                      prev = None",
        "18:27:40  me (typed)  thanks",
    ]


def test_conversation_of_an_open_session_across_midnight(path: Path) -> None:
    with TranscriptStore(path) as store:
        sid = store.start_session(model=MODEL, at=T0 + 5 * 3600)  # 23:27:22
        store.add_turn(sid, who="me", kind="audio", at=T0 + 6 * 3600, text="after midnight")
        lines = history.conversation_lines(store.session(sid), store.entries(sid), store.usage(sid), tz=UTC)
    assert history.NOT_ENDED in lines[1]
    assert lines[-2:] == ["-- 2025-12-02", "00:27:22  me       after midnight"]


def test_markdown_of_one_session(path: Path) -> None:
    old, _ = fill(path)
    with TranscriptStore(path) as store:
        text = history.session_markdown(store.session(old), store.entries(old), store.usage(old), tz=UTC)
    assert text.startswith(f"# Session `{old}`\n\n- **Started:** 2025-12-01 18:27:22 +0000\n")
    assert "- **Ended:** 2025-12-01 18:45:00 +0000 (17m38s)\n" in text
    assert "- **Tokens:** 1,200 (prompt 1,000, response 200; AUDIO 800) in 1 report\n" in text
    assert "- **Persona:** silent helper\n" in text
    # a transcription is quoted and escaped; the answer is Markdown and kept, its open code fence closed
    assert "**18:27:25 · me**\n\n> How do I reverse a \\*linked\\* list?\n" in text
    assert "**18:27:27 · them**\n\n> (no transcription)\n" in text
    assert "**18:27:32 · copilot**\n\nUse three pointers:\n```python\nprev = None\n```\n" in text
    assert text.endswith("**18:27:40 · me (typed)**\n\n> thanks\n")


def test_markdown_long_persona_is_quoted_whole(path: Path) -> None:
    persona = "You are a silent helper.\nAnswer only when asked. Say <nothing> otherwise."
    with TranscriptStore(path) as store:
        sid = store.start_session(model=MODEL, at=T0, persona=persona)
        text = history.session_markdown(store.session(sid), [], store.usage(sid), tz=UTC)
    assert (
        "- **Persona:**\n\n  > You are a silent helper.\n  > Answer only when asked. Say \\<nothing\\> otherwise.\n"
        in text
    )


def test_a_terminal_gets_a_rich_table(path: Path) -> None:
    old, new = fill(path)

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    out = Terminal()
    assert history.main(path, out=out, tz=UTC) == 0
    plain = re.sub(r"\x1b\[[0-9;]*m", "", out.getvalue())
    assert "session" in plain and "SESSION" not in plain  # rich's header, not the plain one
    assert old in plain and new in plain and "17m38s" in plain


# -- the command -----------------------------------------------------------------------------------------


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["history", *args])
    return result.exit_code, result.stdout, result.stderr


def test_cli_lists_sessions(path: Path) -> None:
    old, new = fill(path)
    code, out, err = invoke("--db", str(path))
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].startswith("SESSION") and [line.split()[0] for line in lines[1:]] == [new, old]
    code, out, _ = invoke("--db", str(path), "--limit", "1")
    assert code == 0 and [line.split()[0] for line in out.splitlines()[1:]] == [new]


def test_cli_shows_one_session_by_id_prefix_or_last(path: Path) -> None:
    old, new = fill(path)
    code, out, err = invoke("--db", str(path), "--session", old)
    assert code == 0, err
    assert out.splitlines()[0].startswith(f"session {old}") and "How do I reverse a *linked* list?" in out
    assert "Use three pointers:" in out and "tokens: 1,200" in out
    assert invoke("--db", str(path), "--session", old[:5])[1] == out
    code, out, _ = invoke("--db", str(path), "--session", "last")
    assert code == 0 and out.startswith(f"session {new}") and "(no turns)" in out


def test_cli_markdown_of_one_and_of_all(path: Path) -> None:
    old, new = fill(path)
    code, out, _ = invoke("--db", str(path), "--session", old, "--markdown")
    assert code == 0 and out.startswith(f"# Session `{old}`") and "```python\nprev = None\n```" in out
    code, out, _ = invoke("--db", str(path), "--markdown")
    assert code == 0 and out.startswith("# rholive transcripts\n\n2 sessions, newest first.\n")
    assert out.index(f"## Session `{new}`") < out.index(f"## Session `{old}`")


def test_cli_unknown_session_is_one_line_and_exit_1(path: Path) -> None:
    fill(path)
    code, out, err = invoke("--db", str(path), "--session", "zz")
    assert code == 1 and out == ""
    assert err == f"rholive: error: no session 'zz' in {path}\n"


@pytest.mark.parametrize("args", [[], ["--markdown"], ["--session", "last"]])
def test_cli_missing_or_empty_store_says_no_sessions_yet(path: Path, args: list[str]) -> None:
    code, out, err = invoke("--db", str(path), *args)
    assert code == 0 and (out + err) == "no sessions yet\n"
    assert not path.exists()  # reading does not create the store
    if "--markdown" in args:
        assert out == ""  # stdout is the document
    TranscriptStore(path).close()  # now the file exists and is empty
    code, out, err = invoke("--db", str(path), *args)
    assert code == 0 and (out + err) == "no sessions yet\n"


def test_cli_asking_an_empty_store_for_an_id_is_an_error(path: Path) -> None:
    code, _, err = invoke("--db", str(path), "--session", "ab12")
    assert code == 1 and err == f"rholive: error: no session 'ab12' in {path} (no sessions yet)\n"


# -- as a user runs it: a real process, the default data directory ----------------------------------------


def run_history(data_home: Path, *args: str, **kwargs: object) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RHOLIVE_")}
    env |= {"XDG_DATA_HOME": str(data_home), "XDG_CONFIG_HOME": "/nonexistent-rholive-test", "TZ": "UTC"}
    return subprocess.run(
        [sys.executable, "-m", "rholive.cli", "history", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        **kwargs,  # type: ignore[call-overload]
    )


def test_process_reads_the_default_store_while_a_session_writes(tmp_path: Path) -> None:
    store_path = tmp_path / "rholive" / "transcripts.sqlite3"
    assert run_history(tmp_path).stdout == "no sessions yet\n"
    with TranscriptStore(store_path) as store:  # a copilot session in progress in this process
        sid = store.start_session(model=MODEL, at=T0)
        turn = store.add_turn(sid, who="them", kind="audio", at=T0 + 1)
        store.set_turn_text(turn, "Can you share your screen?")
        result = run_history(tmp_path, "--session", "last")
        assert result.returncode == 0, result.stderr
        assert f"session {sid}" in result.stdout and "not ended" in result.stdout
        assert "18:27:23  them     Can you share your screen?" in result.stdout


def test_process_with_a_corrupt_store_prints_one_line(tmp_path: Path) -> None:
    store_path = tmp_path / "rholive" / "transcripts.sqlite3"
    store_path.parent.mkdir()
    store_path.write_text("not sqlite at all\n" * 100)
    result = run_history(tmp_path)
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.splitlines() == [
        f"rholive: error: {store_path}: not a rholive transcript store (not an SQLite file: file is not a database)"
    ]


def test_process_stops_quietly_when_the_pipe_closes(tmp_path: Path) -> None:
    """`rholive history | head -1` where head has already gone: the first write fails with EPIPE. (Closing
    before anything is read makes that certain, whatever the size of the pipe's buffer.)"""
    store_path = tmp_path / "rholive" / "transcripts.sqlite3"
    with TranscriptStore(store_path) as store:
        for i in range(3):
            store.start_session(model=MODEL, at=T0 + i)
    env = {k: v for k, v in os.environ.items() if not k.startswith("RHOLIVE_")}
    env |= {"XDG_DATA_HOME": str(tmp_path), "XDG_CONFIG_HOME": "/nonexistent-rholive-test"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "rholive.cli", "history"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()
    err = proc.stderr.read()
    assert proc.wait(timeout=60) == 0 and err == ""
