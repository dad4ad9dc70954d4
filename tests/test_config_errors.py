"""A typo or a wrong value in the settings is one line naming the file, the key and what would be right, exit 2
(issue 12: misspelled keys and tables were silently accepted, `opacity = "high"` flooded tracebacks)."""

from __future__ import annotations

from pathlib import Path

import pytest

from test_cli import run


def with_config(tmp_path: Path, text: str, *args: str) -> tuple[int, str]:
    config = tmp_path / "rholive.toml"
    config.write_text(text)
    result = run(["--config", str(config), *args], stdin="hello\n", timeout=60)
    return result.returncode, result.stderr


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('personna = "tutor"\n', "unknown setting 'personna' (did you mean 'persona'?)"),
        ("[overly]\nopacity = 0.5\n", "unknown setting 'overly' (did you mean 'overlay'?)"),
        ("model = \n", "not valid TOML"),
        ('modality = "video"\n', "setting modality: Input should be 'text' or 'audio'"),
    ],
)
def test_a_bad_file_is_one_line_naming_it_and_exit_2(tmp_path: Path, text: str, expected: str) -> None:
    code, stderr = with_config(tmp_path, text, "chat")
    assert code == 2
    assert stderr.count("\n") == 1 and "Traceback" not in stderr
    assert str(tmp_path / "rholive.toml") in stderr and expected in stderr


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('[overlay]\nopacity = "high"\n', "[overlay]: opacity must be a number from 0.1 to 1, not 'high'"),
        ("[overlay]\nopacity = 3\n", "[overlay]: opacity must be from 0.1 to 1, not 3"),
        ("[overlay]\nopacitty = 0.5\n", "unknown overlay setting(s): opacitty (did you mean 'opacity'?)"),
    ],
)
def test_a_bad_overlay_table_stops_run_before_it_starts(tmp_path: Path, text: str, expected: str) -> None:
    code, stderr = with_config(tmp_path, text, "run", "--terminal", "--no-screen")
    assert code == 2
    assert stderr.count("\n") == 1 and str(tmp_path / "rholive.toml") in stderr and expected in stderr


def test_modality_in_any_case_and_a_wrong_one_names_the_choices() -> None:
    ok = run(["chat", "--modality", "AUDIO"], stdin="hi\n")
    assert ok.returncode == 0, ok.stderr
    bad = run(["chat", "--modality", "video"], stdin="hi\n")
    assert bad.returncode == 2
    assert "setting modality: Input should be 'text' or 'audio'" in bad.stderr and bad.stderr.count("\n") == 1
