"""One settings object for every command.

Precedence, highest first: command-line flags, environment (``GEMINI_API_KEY``, ``RHOLIVE_*``), the TOML file
(``--config``, ``RHOLIVE_CONFIG`` or ``~/.config/rholive/config.toml``), defaults.
"""

from __future__ import annotations

import difflib
import os
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from rholive.live import DEFAULT_MODEL, PRICE_FIELDS, models


def _xdg(var: str, fallback: str) -> Path:
    return Path(os.environ.get(var) or Path.home() / fallback)


def default_config_file() -> Path:
    return _xdg("XDG_CONFIG_HOME", ".config") / "rholive" / "config.toml"


def default_data_dir() -> Path:
    return _xdg("XDG_DATA_HOME", ".local/share") / "rholive"


class TranscriptionSettings(BaseModel):
    """The ``[transcription]`` table: hints for the service's transcription of the user and of the model."""

    model_config = ConfigDict(extra="forbid")  # a misspelled key is one error line, not a silent no-op

    languages: list[str] = Field(default_factory=list)  # BCP-47 codes, e.g. ["fr-FR", "en-US"]
    custom_vocabulary: list[str] = Field(default_factory=list)  # names and terms to favour


class Settings(BaseSettings):
    # extra="forbid": a misspelled key or table in the file is an error, never silently ignored
    model_config = SettingsConfigDict(env_prefix="RHOLIVE_", extra="forbid", populate_by_name=True)

    api_key: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("api_key", "GEMINI_API_KEY", "RHOLIVE_API_KEY")
    )
    base_url: str | None = None
    api_version: str = "v1beta"
    model: str = DEFAULT_MODEL
    thinking_level: str | None = None  # models with thinkingLevel (live.models.THINKING_LEVELS)
    # how answers reach the user: "text" shows the transcript, "audio" also speaks it (the wire modality
    # comes from the model: today's Live models all answer in AUDIO with an output transcription)
    modality: Literal["text", "audio"] = "text"

    @field_validator("modality", mode="before")
    @classmethod
    def _modality_any_case(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value

    ca_file: Path | None = None
    system_instruction: str | None = None
    persona: str | None = (
        None  # the copilot's preset (rholive.conversation.personas); `--persona` overrides it
    )
    voice: str | None = None
    data_dir: Path = Field(default_factory=default_data_dir)
    # the [segmenter] table (audio.segmenter_settings)
    segmenter: dict[str, Any] = Field(default_factory=dict)
    overlay: dict[str, Any] = Field(default_factory=dict)  # the [overlay] table (ui.overlay.settings)
    # the [prices] table: USD per 1M tokens over the catalog's (text_in, audio_in, text_out, audio_out)
    prices: dict[str, float] = Field(default_factory=dict)
    budget_usd: float | None = None  # end the session once the estimated cost reaches this (--budget)
    transcription: TranscriptionSettings = Field(default_factory=TranscriptionSettings)
    setup_timeout_s: float = 15.0
    ping_interval_s: float = 20.0
    ping_timeout_s: float = 60.0
    # no answer this long after a turn: reconnect and send it once more; a second time: say so, go on
    stall_timeout_s: float = 8.0
    _config_file: Path | None = PrivateAttr(default=None)  # the TOML file read, for error lines

    def table_error(self, table: str, problem: Exception) -> ConfigError:
        """A bad value inside a table (``[overlay]``, ``[segmenter]``) checked by its own module: one line
        naming the file and the table."""
        where = (
            f"{self._config_file}: " if self._config_file is not None and self._config_file.is_file() else ""
        )
        return ConfigError(f"{where}[{table}]: {problem}")

    @model_validator(mode="before")
    @classmethod
    def _model_table(cls, data: Any) -> Any:
        # `[model]` in the TOML file: name = "...", thinking_level = "..."
        if isinstance(data, dict) and isinstance(data.get("model"), dict):
            table = dict(data["model"])
            unknown = set(table) - {"name", "thinking_level"}
            if unknown:
                raise ValueError(
                    f"unknown key(s) in [model]: {', '.join(sorted(unknown))} (name, thinking_level)"
                )
            data = {**data, "model": table.get("name", DEFAULT_MODEL)}
            if "thinking_level" in table:
                data.setdefault("thinking_level", table["thinking_level"])
        return data

    @field_validator("model")
    @classmethod
    def _model_in_service(cls, value: str) -> str:
        line = models.shut_down_line(value)
        if line is not None:
            raise ValueError(line)
        return models.full_name(value)

    @field_validator("thinking_level")
    @classmethod
    def _known_level(cls, value: str | None) -> str | None:
        if value is not None and value.lower() not in models.THINKING_LEVELS:
            raise ValueError(
                f"thinking_level must be one of {', '.join(models.THINKING_LEVELS)}, not {value!r}"
            )
        return None if value is None else value.lower()

    @field_validator("prices")
    @classmethod
    def _known_prices(cls, value: dict[str, float]) -> dict[str, float]:
        unknown = set(value) - set(PRICE_FIELDS)
        if unknown:
            raise ValueError(
                f"unknown key(s) in [prices]: {', '.join(sorted(unknown))} ({', '.join(PRICE_FIELDS)})"
            )
        if any(price < 0 for price in value.values()):
            raise ValueError("prices must not be negative")
        return value

    @field_validator("budget_usd")
    @classmethod
    def _positive_budget(cls, value: float | None) -> float | None:
        if value is not None and value <= 0:
            raise ValueError("the budget must be more than $0")
        return value

    @field_validator("api_key", mode="before")
    @classmethod
    def _blank_key_is_none(cls, value: Any) -> Any:
        return None if value in ("", None) else value

    @field_validator("stall_timeout_s")
    @classmethod
    def _positive_stall_timeout(cls, value: float) -> float:
        if value <= 0:
            raise ValueError("stall_timeout_s must be positive")
        return value

    @field_validator("ping_timeout_s")
    @classmethod
    def _ping_timeout_floor(cls, value: float) -> float:
        # The service can take 8-30 s to answer a ping; shorter timeouts kill healthy sessions.
        if value < 60.0:
            raise ValueError("ping_timeout_s below 60 s drops healthy Live sessions")
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml_file = _CONFIG_FILE_OVERRIDE.get("path") or Path(
            os.environ.get("RHOLIVE_CONFIG") or default_config_file()
        )
        toml = TomlConfigSettingsSource(settings_cls, toml_file=toml_file)
        return (init_settings, env_settings, toml)

    @property
    def uses_embedded_emulator(self) -> bool:
        return self.api_key is None and not self.base_url


# Set by load_settings for the duration of one construction (pydantic builds sources from the class).
_CONFIG_FILE_OVERRIDE: dict[str, Path] = {}


class ConfigError(ValueError):
    """A setting the user gave is wrong (unknown key, wrong type, bad TOML): one line, exit code 2."""


def config_file_in_use(config_file: Path | None = None) -> Path:
    return config_file or Path(os.environ.get("RHOLIVE_CONFIG") or default_config_file())


def load_settings(config_file: Path | None = None, **flags: Any) -> Settings:
    """Settings with ``flags`` (command-line values; None means "not given") on top of env and TOML."""
    if config_file is not None and not config_file.is_file():
        raise FileNotFoundError(f"config file not found: {config_file}")
    toml_file = config_file_in_use(config_file)
    from_file = _read_toml(toml_file)  # a syntax error names the file here, not deep inside pydantic
    overrides = {key: value for key, value in flags.items() if value is not None}
    if config_file is not None:
        _CONFIG_FILE_OVERRIDE["path"] = config_file
    try:
        settings = Settings(**overrides)
        settings._config_file = toml_file
        return settings
    except ValidationError as exc:
        raise ConfigError(settings_error(exc, toml_file, from_file)) from None
    finally:
        _CONFIG_FILE_OVERRIDE.pop("path", None)


def _read_toml(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read: {exc.strerror}") from None


def settings_error(
    exc: ValidationError, toml_file: Path | None = None, from_file: dict[str, Any] | None = None
) -> str:
    """One line for the first bad setting: where it came from, its name, what is wrong, the nearest valid key
    for a misspelled one (pydantic's own text is many lines)."""
    error = exc.errors()[0]
    where = ".".join(str(part) for part in error["loc"]) or "settings"
    top = str(error["loc"][0]) if error["loc"] else ""
    origin = f"{toml_file}: " if toml_file is not None and from_file and top in from_file else ""
    if error["type"] == "extra_forbidden":
        nearest = difflib.get_close_matches(top, sorted(Settings.model_fields), n=1)
        hint = f" (did you mean {nearest[0]!r}?)" if nearest else ""
        return f"{origin}unknown setting {where!r}{hint}"
    message = str(error["msg"]).removeprefix("Value error, ")
    return f"{origin}setting {where}: {message}"
