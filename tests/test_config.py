from pathlib import Path

import pytest

from rholive.config import load_settings


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("GEMINI_API_KEY", "RHOLIVE_API_KEY", "RHOLIVE_MODEL", "RHOLIVE_BASE_URL", "RHOLIVE_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))


def test_defaults_use_the_embedded_emulator() -> None:
    settings = load_settings()
    assert settings.api_key is None
    assert settings.uses_embedded_emulator


def test_gemini_api_key_from_env_is_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GEMINI_API_KEY", "sk-very-secret")
    settings = load_settings()
    assert settings.api_key is not None
    assert settings.api_key.get_secret_value() == "sk-very-secret"
    assert "sk-very-secret" not in repr(settings)
    assert not settings.uses_embedded_emulator


def test_precedence_flag_over_env_over_toml(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    toml = tmp_path / "rholive.toml"
    toml.write_text('model = "models/from-toml"\napi_version = "v1alpha"\nmodality = "audio"\n')
    monkeypatch.setenv("RHOLIVE_MODEL", "models/from-env")
    settings = load_settings(toml)
    assert (settings.model, settings.api_version, settings.modality) == (
        "models/from-env",
        "v1alpha",
        "audio",
    )
    settings = load_settings(toml, model="models/from-flag", modality=None)
    assert settings.model == "models/from-flag"
    assert settings.modality == "audio"


def test_default_toml_location(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    path = tmp_path / "config" / "rholive" / "config.toml"
    path.parent.mkdir(parents=True)
    path.write_text('base_url = "ws://127.0.0.1:9"\n')
    assert load_settings().base_url == "ws://127.0.0.1:9"


def test_missing_config_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="config file not found"):
        load_settings(tmp_path / "nope.toml")


def test_short_ping_timeout_is_refused() -> None:
    with pytest.raises(ValueError, match=r"^setting ping_timeout_s: .*60 s"):
        load_settings(ping_timeout_s=20)


def test_transcription_table_reaches_the_setup(tmp_path: Path) -> None:
    from rholive.conversation import setup_config
    from rholive.live import models, wire

    toml = tmp_path / "rholive.toml"
    toml.write_text('[transcription]\nlanguages = ["fr-FR"]\ncustom_vocabulary = ["rholive"]\n')
    config = setup_config(load_settings(toml))
    body = wire.setup(models.fit_setup(config))["setup"]  # as LiveSession sends it
    assert body["outputAudioTranscription"] == {"languageCodes": ["fr-FR"], "customVocabulary": ["rholive"]}


def test_a_misspelled_transcription_key_is_one_line(tmp_path: Path) -> None:
    toml = tmp_path / "rholive.toml"
    toml.write_text('[transcription]\nlangauges = ["fr-FR"]\n')
    with pytest.raises(ValueError, match=r"transcription\.langauges") as error:
        load_settings(toml)
    assert "\n" not in str(error.value)


def test_the_model_table_gives_the_name_and_a_thinking_level_sent_only_where_the_model_takes_it(
    tmp_path: Path,
) -> None:
    from rholive.conversation import setup_config
    from rholive.live import models, wire

    toml = tmp_path / "rholive.toml"
    toml.write_text('[model]\nname = "gemini-3.8-live-extended-thinking"\nthinking_level = "High"\n')
    settings = load_settings(toml)
    assert (settings.model, settings.thinking_level) == ("models/gemini-3.8-live-extended-thinking", "high")
    setup = wire.setup(models.fit_setup(setup_config(settings)))["setup"]
    assert setup["generationConfig"]["thinkingConfig"] == {"thinkingLevel": "high"}
    assert (
        setup["generationConfig"]["responseModalities"] == ["AUDIO"] and "outputAudioTranscription" in setup
    )
    on_38 = wire.setup(models.fit_setup(setup_config(load_settings(toml, model="gemini-3.8-live"))))["setup"]
    assert "thinkingConfig" not in on_38["generationConfig"]  # 3.8 refuses any thinkingConfig


def test_a_bad_model_table_or_level_is_one_line(tmp_path: Path) -> None:
    toml = tmp_path / "rholive.toml"
    toml.write_text('[model]\nname = "gemini-3.8-live"\nthinking = "high"\n')
    with pytest.raises(ValueError, match=r"unknown key\(s\) in \[model\]: thinking"):
        load_settings(toml)
    with pytest.raises(ValueError, match="thinking_level must be one of minimal, low, medium, high"):
        load_settings(thinking_level="extreme")


def test_a_shut_down_model_from_the_environment_is_one_line_before_connecting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("RHOLIVE_MODEL", "gemini-2.0-flash-live-001")
    with pytest.raises(ValueError) as refused:
        load_settings()
    line = str(refused.value)
    assert "\n" not in line and "shut down on 2025-12-09" in line and "models/gemini-3.8-live" in line
