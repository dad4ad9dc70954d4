"""The estimated cost in the transcript store, and a store written by an older rholive migrated in place."""

from __future__ import annotations

import io
import sqlite3
from datetime import UTC
from pathlib import Path

import pytest

from rholive.copilot import history
from rholive.copilot.store import APPLICATION_ID, SCHEMA_VERSION, TranscriptStore

# the schema rholive wrote before costs were stored (version 1), as it was released
_V1 = """
CREATE TABLE sessions (id TEXT PRIMARY KEY, kind TEXT NOT NULL, model TEXT NOT NULL, persona TEXT NOT NULL,
    started REAL NOT NULL, ended REAL);
CREATE TABLE entries (id INTEGER PRIMARY KEY AUTOINCREMENT, session_id TEXT NOT NULL REFERENCES sessions(id),
    role TEXT NOT NULL, who TEXT NOT NULL, kind TEXT NOT NULL, at REAL NOT NULL, text TEXT NOT NULL,
    turn_id INTEGER REFERENCES entries(id));
CREATE INDEX entries_by_session ON entries(session_id, at, id);
CREATE TABLE usage (id INTEGER PRIMARY KEY AUTOINCREMENT, session_id TEXT NOT NULL REFERENCES sessions(id),
    at REAL NOT NULL, total_tokens INTEGER NOT NULL, prompt_tokens INTEGER NOT NULL,
    response_tokens INTEGER NOT NULL, by_modality TEXT NOT NULL);
CREATE INDEX usage_by_session ON usage(session_id);
"""
T0 = 1_764_613_642.0


@pytest.fixture
def v1_file(tmp_path: Path) -> Path:
    path = tmp_path / "old.sqlite3"
    raw = sqlite3.connect(path)
    raw.executescript(_V1)
    raw.execute(f"PRAGMA application_id={APPLICATION_ID}")
    raw.execute("PRAGMA user_version=1")
    raw.execute("INSERT INTO sessions VALUES ('0ld5e551', 'copilot', 'models/x', '', ?, ?)", (T0, T0 + 60))
    raw.execute("INSERT INTO usage VALUES (NULL, '0ld5e551', ?, 500, 400, 100, '{}')", (T0 + 5,))
    raw.commit()
    raw.close()
    return path


def test_an_older_store_is_migrated_and_keeps_its_rows(v1_file: Path) -> None:
    with TranscriptStore(v1_file) as store:
        old = store.session("0ld5e551")
        assert (old.tokens, old.cost_usd) == (500, None)  # reports from before costs: no estimate
        store.add_usage("0ld5e551", at=T0 + 10, total_tokens=100, cost_usd=0.25)
        assert store.usage("0ld5e551").cost_usd == 0.25
    raw = sqlite3.connect(v1_file)
    assert raw.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 2
    raw.close()
    with TranscriptStore(v1_file) as store:  # opening again: nothing left to migrate
        assert store.session("0ld5e551").cost_usd == 0.25


def test_costs_are_summed_per_session_and_shown_by_history(tmp_path: Path) -> None:
    path = tmp_path / "t.sqlite3"
    with TranscriptStore(path) as store:
        priced = store.start_session(model="models/gemini-3.8-live", at=T0)
        store.add_usage(priced, at=T0 + 1, total_tokens=10, cost_usd=0.001)
        store.add_usage(priced, at=T0 + 2, total_tokens=10, cost_usd=0.0025)
        unpriced = store.start_session(model="models/mine", at=T0 + 100)
        store.add_usage(unpriced, at=T0 + 101, total_tokens=10)
        assert store.session(priced).cost_usd == pytest.approx(0.0035)
        assert store.session(unpriced).cost_usd is None
    out = io.StringIO()
    history.main(path, out=out, tz=UTC)
    rows = out.getvalue().splitlines()
    assert rows[0].endswith("COST")
    assert rows[1].startswith(unpriced) and rows[1].endswith(" -")
    assert rows[2].startswith(priced) and rows[2].endswith(" $0.0035")
    out = io.StringIO()
    history.main(path, session=unpriced, out=out, tz=UTC)
    assert "cost: no estimate" in out.getvalue().splitlines()
    out = io.StringIO()
    history.main(path, session=priced, markdown=True, out=out, tz=UTC)
    assert "- **Cost:** $0.0035 (estimated)" in out.getvalue()
