"""The transcript store on real SQLite files: contents, concurrency (threads, tasks, processes), bad files."""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from rholive.copilot import store as store_module
from rholive.copilot.store import (
    APPLICATION_ID,
    SCHEMA_VERSION,
    TranscriptStore,
    TranscriptStoreError,
    UnknownSessionError,
    UnknownTurnError,
    default_path,
)

MODEL = "models/gemini-live-2.5-flash-preview"


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "rholive" / "transcripts.sqlite3"


def test_default_path_is_under_the_data_dir(tmp_path: Path) -> None:
    assert default_path(tmp_path) == tmp_path / "transcripts.sqlite3"


def test_a_session_round_trips_through_the_file(path: Path) -> None:
    with TranscriptStore(path) as store:
        sid = store.start_session(model=MODEL, at=100.0, persona="silent helper")
        me = store.add_turn(sid, who="me", kind="audio", at=101.0)
        store.set_turn_text(me, "How do I reverse")
        store.set_turn_text(me, " a linked list?")
        them = store.add_turn(sid, who="them", kind="audio", at=102.0, text="Take your time.")
        screen = store.add_turn(sid, who="screen", kind="screen", at=103.0, text="screen changed")
        answer = store.add_answer(sid, turn_id=me, text="Use three pointers.", at=104.0)
        store.add_usage(
            sid, at=104.0, total_tokens=120, prompt_tokens=100, response_tokens=20, by_modality={"AUDIO": 90}
        )
        store.add_usage(
            sid,
            at=105.0,
            total_tokens=30,
            prompt_tokens=25,
            response_tokens=5,
            by_modality={"AUDIO": 5, "TEXT": 20},
        )
        store.end_session(sid, at=110.0)
    assert path.is_file()

    with TranscriptStore(path) as store:  # a fresh connection: everything was committed
        [summary] = store.sessions()
        assert (summary.id, summary.kind, summary.model, summary.persona) == (
            sid,
            "copilot",
            MODEL,
            "silent helper",
        )
        assert (summary.started, summary.ended, summary.turns, summary.answers, summary.tokens) == (
            100.0,
            110.0,
            3,
            1,
            150,
        )
        entries = store.entries(sid)
        assert [(e.id, e.role, e.who, e.kind, e.at, e.text, e.turn_id) for e in entries] == [
            (me, "turn", "me", "audio", 101.0, "How do I reverse a linked list?", None),
            (them, "turn", "them", "audio", 102.0, "Take your time.", None),
            (screen, "turn", "screen", "screen", 103.0, "screen changed", None),
            (answer, "answer", "copilot", "answer", 104.0, "Use three pointers.", me),
        ]
        assert entries[-1].is_answer and not entries[0].is_answer
        usage = store.usage(sid)
        assert (usage.total_tokens, usage.prompt_tokens, usage.response_tokens, usage.reports) == (
            150,
            125,
            25,
            2,
        )
        assert usage.by_modality == {"AUDIO": 95, "TEXT": 20}


def test_file_is_marked_wal_and_versioned(path: Path) -> None:
    TranscriptStore(path).close()
    raw = sqlite3.connect(path)
    assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert raw.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert raw.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    raw.close()


def test_entries_are_in_time_order_ties_in_recording_order(path: Path) -> None:
    with TranscriptStore(path) as store:
        sid = store.start_session(model=MODEL, at=0.0)
        late = store.add_turn(sid, who="me", kind="audio", at=5.0, text="late")
        early = store.add_turn(sid, who="them", kind="audio", at=1.0, text="early")
        tie_a = store.add_answer(sid, turn_id=early, text="a", at=5.0)
        assert [e.id for e in store.entries(sid)] == [early, late, tie_a]


def test_set_turn_text_replaces_when_asked(path: Path) -> None:
    with TranscriptStore(path) as store:
        sid = store.start_session(model=MODEL, at=0.0)
        turn = store.add_turn(sid, who="me", kind="audio", at=1.0, text="draft")
        store.set_turn_text(turn, "final", append=False)
        assert store.entries(sid)[0].text == "final"


@pytest.mark.parametrize("text", ["", "   ", "\n\t"])
def test_an_empty_answer_is_refused_and_not_stored(path: Path, text: str) -> None:
    with TranscriptStore(path) as store:
        sid = store.start_session(model=MODEL, at=0.0)
        with pytest.raises(ValueError, match="empty answer"):
            store.add_answer(sid, turn_id=None, text=text, at=1.0)
        assert store.entries(sid) == [] and store.session(sid).answers == 0


def test_who_and_kind_are_checked(path: Path) -> None:
    with TranscriptStore(path) as store:
        sid = store.start_session(model=MODEL, at=0.0)
        with pytest.raises(ValueError, match="who"):
            store.add_turn(sid, who="model", kind="audio", at=1.0)
        with pytest.raises(ValueError, match="kind"):
            store.add_turn(sid, who="me", kind="video", at=1.0)
        store.add_turn(sid, who="me", kind="typed", at=1.0, text="typed it")
        assert [(e.who, e.kind) for e in store.entries(sid)] == [("me", "typed")]


def test_unknown_sessions_and_turns_are_clear_errors(path: Path) -> None:
    with TranscriptStore(path) as store:
        sid = store.start_session(model=MODEL, at=0.0)
        other = store.start_session(model=MODEL, at=0.0)
        turn = store.add_turn(sid, who="me", kind="audio", at=1.0)
        answer = store.add_answer(sid, turn_id=turn, text="yes", at=2.0)
        for call in (
            lambda: store.add_turn("nope", who="me", kind="audio", at=1.0),
            lambda: store.add_answer("nope", turn_id=None, text="x", at=1.0),
            lambda: store.add_answer("nope", turn_id=turn, text="x", at=1.0),
            lambda: store.add_usage("nope", at=1.0, total_tokens=1),
            lambda: store.end_session("nope", at=1.0),
            lambda: store.entries("nope"),
            lambda: store.session("nope"),
        ):
            with pytest.raises(UnknownSessionError, match=f"no session 'nope' in {path}"):
                call()
        with pytest.raises(UnknownTurnError):
            store.add_answer(other, turn_id=turn, text="x", at=3.0)  # a turn of another session
        with pytest.raises(UnknownTurnError):
            store.add_answer(sid, turn_id=answer, text="x", at=3.0)  # an answer is not a turn
        with pytest.raises(UnknownTurnError):
            store.set_turn_text(answer, "x")
        with pytest.raises(UnknownTurnError):
            store.set_turn_text(999, "x")
        assert len(store.entries(sid)) == 2 and store.entries(other) == []


def test_sessions_newest_first_with_limit(path: Path) -> None:
    with TranscriptStore(path) as store:
        ids = [store.start_session(model=MODEL, at=float(at)) for at in (10, 30, 20)]
        store.add_turn(ids[1], who="me", kind="audio", at=31.0)
        summaries = store.sessions()
        assert [s.id for s in summaries] == [ids[1], ids[2], ids[0]]
        assert [s.turns for s in summaries] == [1, 0, 0]
        assert [s.id for s in store.sessions(limit=2)] == [ids[1], ids[2]]
        assert all(s.ended is None for s in summaries)


def test_resolve_full_prefix_last_and_ambiguity(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # ids are random; fix the draws to get shared prefixes and one collision (the store draws again)
    draws = iter(["ab12cd34", "ab12cd34", "ab99ff00", "0123abcd"])
    monkeypatch.setattr(store_module.secrets, "token_hex", lambda n: next(draws))
    with TranscriptStore(path) as store:
        with pytest.raises(UnknownSessionError, match="no sessions yet"):
            store.resolve("last")
        first = store.start_session(model=MODEL, at=1.0)
        second = store.start_session(model=MODEL, at=2.0)
        third = store.start_session(model=MODEL, at=0.5)
        assert (first, second, third) == ("ab12cd34", "ab99ff00", "0123abcd")
        assert store.resolve("ab12cd34") == first
        assert store.resolve("ab1") == first
        assert store.resolve("0") == third
        assert store.resolve("last") == second  # the newest by start time
        with pytest.raises(UnknownSessionError, match="ambiguous"):
            store.resolve("ab")
        for ref in ("", "zz", "%", "_b12cd34"):  # LIKE wildcards are literal
            with pytest.raises(UnknownSessionError):
                store.resolve(ref)


def test_two_stores_on_one_file_see_each_others_writes(path: Path) -> None:
    writer, reader = TranscriptStore(path), TranscriptStore(path)
    try:
        sid = writer.start_session(model=MODEL, at=1.0)
        turn = writer.add_turn(sid, who="me", kind="audio", at=2.0)
        assert reader.session(sid).turns == 1 and reader.session(sid).ended is None
        writer.set_turn_text(turn, "hello")
        assert reader.entries(sid)[0].text == "hello"
        reader_sid = reader.start_session(model=MODEL, at=3.0)  # both can write
        assert {s.id for s in writer.sessions()} == {sid, reader_sid}
    finally:
        writer.close()
        reader.close()


def test_reading_does_not_wait_for_an_open_write_transaction(path: Path) -> None:
    with TranscriptStore(path) as store:
        sid = store.start_session(model=MODEL, at=1.0)
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        other.execute("UPDATE sessions SET model = 'changed'")
        try:
            reader = TranscriptStore(path, busy_timeout_s=0.0)  # WAL: would fail at once if it had to wait
            assert reader.session(sid).model == MODEL  # the uncommitted change is not seen
            reader.close()
        finally:
            other.execute("ROLLBACK")
            other.close()


def test_a_write_blocked_by_another_writer_is_one_clear_error(path: Path) -> None:
    with TranscriptStore(path, busy_timeout_s=0.0) as store:
        sid = store.start_session(model=MODEL, at=1.0)
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        try:
            with pytest.raises(TranscriptStoreError, match=rf"{path}: database is locked \(another process"):
                store.add_turn(sid, who="me", kind="audio", at=2.0)
        finally:
            other.execute("COMMIT")
            other.close()
        store.add_turn(sid, who="me", kind="audio", at=3.0)  # the store goes on
        assert store.session(sid).turns == 1


def test_threads_share_one_store(path: Path) -> None:
    with TranscriptStore(path) as store:
        sid = store.start_session(model=MODEL, at=0.0)
        ids: list[int] = []
        lock = threading.Lock()

        def work(who: str) -> None:
            for i in range(100):
                turn = store.add_turn(sid, who=who, kind="audio", at=float(i))
                store.set_turn_text(turn, who)
                with lock:
                    ids.append(turn)

        threads = [threading.Thread(target=work, args=(who,)) for who in ("me", "them", "screen", "me")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        entries = store.entries(sid)
        assert len(ids) == len(set(ids)) == len(entries) == 400
        assert all(entry.text == entry.who for entry in entries)


async def test_tasks_of_one_event_loop_interleave_their_writes(path: Path) -> None:
    with TranscriptStore(path) as store:
        sessions = [store.start_session(model=MODEL, at=0.0) for _ in range(3)]

        async def conversation(sid: str, n: int) -> None:
            for i in range(20):
                turn = store.add_turn(sid, who="me", kind="audio", at=float(i))
                for word in ("one ", "two ", str(n)):
                    await asyncio.sleep(0)  # let the other tasks write between the deltas
                    store.set_turn_text(turn, word)
                store.add_answer(sid, turn_id=turn, text=f"answer {n}.{i}", at=i + 0.5)
                store.add_usage(sid, at=i + 0.5, total_tokens=10)

        await asyncio.gather(*(conversation(sid, n) for n, sid in enumerate(sessions)))
        for n, sid in enumerate(sessions):
            entries = store.entries(sid)
            turns = [e for e in entries if not e.is_answer]
            answers = [e for e in entries if e.is_answer]
            assert [t.text for t in turns] == [f"one two {n}"] * 20
            assert [a.turn_id for a in answers] == [t.id for t in turns]
            assert store.session(sid).tokens == 200


_WRITER = """
import sys
from rholive.copilot.store import TranscriptStore
with TranscriptStore(sys.argv[1]) as store:
    sid = store.start_session(model="m", kind=sys.argv[2], at=1.0)
    for i in range(200):
        turn = store.add_turn(sid, who="them", kind="audio", at=float(i))
        store.set_turn_text(turn, sys.argv[2])
    store.end_session(sid, at=300.0)
"""


def test_processes_create_and_write_one_file_at_once(path: Path) -> None:
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", _WRITER, str(path), f"proc{n}"], stderr=subprocess.PIPE, text=True
        )
        for n in range(2)
    ]
    with TranscriptStore(path) as store:  # this process writes too, while they run
        sid = store.start_session(model="m", kind="here", at=1.0)
        for i in range(200):
            store.add_turn(sid, who="me", kind="audio", at=float(i), text="here")
        errors = [proc.communicate(timeout=60)[1] for proc in writers]
        assert [proc.returncode for proc in writers] == [0, 0], errors
        summaries = {s.kind: s for s in store.sessions()}
        assert set(summaries) == {"here", "proc0", "proc1"}
        for kind, summary in summaries.items():
            assert summary.turns == 200
            assert {e.text for e in store.entries(summary.id)} == {kind}


def _raises_naming_the_file(path: Path, match: str) -> None:
    with pytest.raises(TranscriptStoreError, match=match) as caught:
        TranscriptStore(path)
    assert str(caught.value).startswith(f"{path}: ")
    assert "\n" not in str(caught.value)


def test_a_file_that_is_not_sqlite_is_one_error_and_left_untouched(tmp_path: Path) -> None:
    path = tmp_path / "transcripts.sqlite3"
    content = b"these are my notes, not a database\n" * 200
    path.write_bytes(content)
    _raises_naming_the_file(path, "not a rholive transcript store")
    assert path.read_bytes() == content
    assert sorted(p.name for p in tmp_path.iterdir()) == ["transcripts.sqlite3"]


def test_a_damaged_sqlite_file_is_one_error(path: Path) -> None:
    with TranscriptStore(path) as store:
        store.start_session(model=MODEL, at=1.0)
    data = bytearray(path.read_bytes())
    data[100:] = b"\xff" * (len(data) - 100)  # keep the header, wreck the pages
    path.write_bytes(bytes(data))
    for stale in path.parent.glob("transcripts.sqlite3-*"):
        stale.unlink()
    _raises_naming_the_file(path, r"the transcript store is damaged \(database disk image is malformed\)")


def test_another_programs_sqlite_file_is_refused_and_untouched(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    raw = sqlite3.connect(path)
    raw.execute("CREATE TABLE notes (body TEXT)")
    raw.commit()
    raw.close()
    before = path.read_bytes()
    _raises_naming_the_file(path, r"not a rholive transcript store \(another SQLite file\)")
    assert path.read_bytes() == before  # not even switched to WAL


def test_a_newer_schema_is_refused(path: Path) -> None:
    TranscriptStore(path).close()
    raw = sqlite3.connect(path)
    raw.execute(f"PRAGMA user_version={SCHEMA_VERSION + 1}")
    raw.close()
    _raises_naming_the_file(path, "newer than this rholive reads")


def test_an_empty_file_becomes_a_store(tmp_path: Path) -> None:
    path = tmp_path / "empty.sqlite3"
    path.touch()
    with TranscriptStore(path) as store:
        assert store.sessions() == []


def test_a_directory_at_the_path_is_one_error(tmp_path: Path) -> None:
    (tmp_path / "dir").mkdir()
    _raises_naming_the_file(tmp_path / "dir", "cannot open the transcript store")
