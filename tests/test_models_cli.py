"""`rholive models` as a user runs it: a real process against the embedded emulator or an emulator process."""

from __future__ import annotations

import json

from rholive.live import models
from test_cli import EmulatorProcess, run

KEY = "models-cli-key-2718"


def test_models_lists_the_live_models_name_first_with_the_catalog_notes() -> None:
    result = run(["models"])
    assert result.returncode == 0, result.stderr
    assert "embedded emulator" in result.stderr
    lines = result.stdout.splitlines()
    assert [line.split()[0] for line in lines] == [entry.name for entry in models.available()]
    default = next(line for line in lines if line.startswith(models.DEFAULT_MODEL + " "))
    assert "stable, default" in default
    assert "models/gemini-2.5-flash " not in result.stdout  # generateContent only: not a Live model


def test_models_json_is_one_model_event_per_line_over_tls_with_a_key() -> None:
    emu = EmulatorProcess("--tls", "--api-key", KEY)
    try:
        base = emu.url.replace("wss://", "https://")
        assert emu.cert
        result = run(["models", "--base-url", base, "--api-key", KEY, "--ca-file", emu.cert, "--json"])
    finally:
        emu.stop()
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert {r["event"] for r in records} == {"model"}
    assert [r["name"] for r in records] == [entry.name for entry in models.available()]
    assert all(r["status"] in ("stable", "legacy", "deprecated", "preview") for r in records)
    assert KEY not in result.stdout + result.stderr


def test_models_with_a_refused_key_is_one_line_and_no_key() -> None:
    emu = EmulatorProcess("--api-key", KEY)
    try:
        result = run(["models", "--base-url", emu.url, "--api-key", "wrong-key-1414"])
    finally:
        emu.stop()
    assert result.returncode == 1
    assert result.stdout == ""
    assert len(result.stderr.splitlines()) == 1 and "HTTP 403" in result.stderr
    assert "wrong-key-1414" not in result.stderr


def test_models_from_an_unreachable_server_is_one_line() -> None:
    emu = EmulatorProcess()
    url = emu.url
    emu.stop()  # the port is free again: nothing answers there
    for base in (url, url.replace("ws://", "https://")):  # https: aiohttp's text named the SSL context object
        result = run(["models", "--base-url", base, "--api-key", "unreachable-key-99"])
        assert result.returncode == 1
        assert len(result.stderr.splitlines()) == 1 and "cannot read" in result.stderr
        assert "cannot connect to 127.0.0.1:" in result.stderr and "object at 0x" not in result.stderr
        assert "unreachable-key-99" not in result.stderr


def test_a_model_the_catalog_does_not_know_is_unknown() -> None:
    from rholive.live.listing import ListedModel
    from rholive.models_command import model_lines, model_record

    record = model_record(ListedModel("models/gemini-10-live", methods=("bidiGenerateContent",)))
    assert (record["event"], record["status"], record["prices_per_1m_tokens"]) == ("model", "unknown", None)
    assert model_lines([record])[0].startswith("models/gemini-10-live  unknown")
