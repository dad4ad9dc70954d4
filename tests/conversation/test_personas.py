"""The copilot persona: the silent helper by default, the user's own text from the config, presets by name."""

from __future__ import annotations

from pathlib import Path

import pytest

from rholive.config import load_settings
from rholive.conversation import (
    DEFAULT_PERSONA,
    NOTHING_RULE,
    PERSONAS,
    is_nothing,
    persona_names,
    resolve_persona,
)
from rholive.conversation import voice_note_personas as default_personas


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("RHOLIVE_CONFIG", "RHOLIVE_SYSTEM_INSTRUCTION", "RHOLIVE_PERSONA"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))


def config_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "rholive.toml"
    path.write_text(text)
    return path


def test_the_default_is_the_silent_helper_with_the_nothing_rule() -> None:
    instruction = resolve_persona(None, load_settings())
    assert instruction == PERSONAS[DEFAULT_PERSONA] == PERSONAS["silent-helper"]
    assert "second mind" in instruction and "LeetCode" in instruction
    assert instruction.endswith(NOTHING_RULE)
    assert "<nothing>" in NOTHING_RULE and is_nothing("<nothing>")


def test_every_preset_ends_with_the_nothing_rule() -> None:
    assert set(persona_names()) >= {"silent-helper", "interview", "meeting-notes", "tutor"}
    for name in persona_names():
        assert PERSONAS[name].endswith(NOTHING_RULE), name


def test_the_config_files_instruction_replaces_the_default(tmp_path: Path) -> None:
    settings = load_settings(config_file(tmp_path, 'system_instruction = "Answer in French."\n'))
    assert resolve_persona(None, settings) == "Answer in French."


def test_a_preset_flag_wins_over_the_config_files_instruction(tmp_path: Path) -> None:
    settings = load_settings(config_file(tmp_path, 'system_instruction = "Answer in French."\n'))
    assert resolve_persona("tutor", settings) == PERSONAS["tutor"]
    assert resolve_persona(" Interview ", settings) == PERSONAS["interview"]


def test_a_preset_named_in_the_config_or_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = load_settings(
        config_file(tmp_path, 'persona = "meeting-notes"\nsystem_instruction = "For Telegram."\n')
    )
    assert resolve_persona(None, settings) == PERSONAS["meeting-notes"]
    assert resolve_persona("tutor", settings) == PERSONAS["tutor"]
    monkeypatch.setenv("RHOLIVE_PERSONA", "interview")
    assert resolve_persona(None, load_settings()) == PERSONAS["interview"]


def test_a_blank_instruction_keeps_the_default(tmp_path: Path) -> None:
    settings = load_settings(config_file(tmp_path, 'system_instruction = "  "\n'))
    assert resolve_persona(None, settings) == PERSONAS[DEFAULT_PERSONA]


def test_an_unknown_name_lists_the_valid_ones(tmp_path: Path) -> None:
    with pytest.raises(ValueError) as info:
        resolve_persona("pirate", load_settings())
    message = str(info.value)
    assert "pirate" in message
    for name in persona_names():
        assert name in message
    settings = load_settings(config_file(tmp_path, 'persona = "pirate"\n'))
    with pytest.raises(ValueError, match="unknown persona 'pirate'"):
        resolve_persona(None, settings)


def test_telegram_personas_are_untouched(tmp_path: Path) -> None:
    settings = load_settings(config_file(tmp_path, 'persona = "tutor"\nsystem_instruction = "Be terse."\n'))
    telegram = default_personas(settings.system_instruction, settings.voice)
    assert telegram["assistant"].instruction == "Be terse."
    assert set(telegram) == {"assistant", "tutor", "brief"}
