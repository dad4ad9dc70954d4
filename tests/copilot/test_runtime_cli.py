"""`rholive run` as a user meets it when something is wrong: one clear line, a non-zero exit, no traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from rholive.cli import app


@pytest.fixture(autouse=True)
def no_key(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("GEMINI_API_KEY", raising=False)
    monkeypatch.setenv("RHOLIVE_CONFIG", str(tmp_path / "absent.toml"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))


def run(*args: str) -> tuple[int, list[str]]:
    result = CliRunner().invoke(app, ["run", *args])
    return result.exit_code, result.stderr.splitlines()


def test_wayland_without_x_says_what_to_do(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.setenv("WAYLAND_DISPLAY", "wayland-0")
    code, err = run("--json", "--no-mic", "--no-system")
    assert code == 1
    assert len(err) == 1 and "Wayland" in err[0] and "XWayland" in err[0] and "DISPLAY=:0" in err[0]


def test_no_display_at_all(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    code, err = run("--json", "--no-mic", "--no-system")
    assert code == 1 and len(err) == 1 and "DISPLAY is not set" in err[0] and "Xvfb" in err[0]


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--region", "10,10,0,5"], "region width and height must be > 0"),
        (["--region", "nonsense"], "region must be 'x,y,w,h'"),
        (["--max-fps", "0"], "--max-fps must be > 0"),
        (["--max-edge", "8"], "--max-edge must be at least 16 px"),
    ],
)
def test_bad_screen_flags(flags: list[str], message: str) -> None:
    code, err = run("--json", *flags)
    assert code == 1 and len(err) == 1 and message in err[0]


def test_nothing_to_listen_to_or_watch() -> None:
    code, err = run("--json", "--no-screen", "--no-mic", "--no-system")
    assert code == 1 and len(err) == 1 and "nothing to listen to" in err[0]


def test_unknown_persona() -> None:
    code, err = run("--json", "--no-screen", "--persona", "pirate")
    assert code == 1 and len(err) == 1 and "unknown persona 'pirate'" in err[0]


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ('[overlay.hotkeys]\nask_now = "ctrl+alt+nokey"\n', "nokey"),
        ('[overlay.hotkeys]\nask_now = "ctrl+alt+p"\n', "are the same key"),
        ("[overlay]\nopacitty = 0.5\n", "unknown overlay setting(s): opacitty"),
        ("[segmenter]\nrule = 'fast'\n", "rule must be one of"),
    ],
)
def test_bad_config_tables_fail_before_anything_starts(tmp_path: Path, table: str, message: str) -> None:
    config = tmp_path / "config.toml"
    config.write_text(table)
    result = CliRunner().invoke(app, ["--config", str(config), "run", "--no-screen", "--no-system"])
    err = result.stderr.splitlines()
    assert result.exit_code == 2 and len(err) == 1 and message in err[0], err  # a config error: exit 2
