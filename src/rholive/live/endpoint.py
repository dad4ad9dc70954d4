"""Where a Live session connects and how it authenticates. The URL never carries a secret."""

from __future__ import annotations

import ssl as ssl_module
from dataclasses import dataclass, field
from urllib.parse import urlsplit

GOOGLE_BASE_URL = "wss://generativelanguage.googleapis.com"
_PATH = "/ws/google.ai.generativelanguage.{version}.GenerativeService.{method}"
_SCHEMES = {"ws": "ws", "wss": "wss", "http": "ws", "https": "wss"}


@dataclass(frozen=True)
class Endpoint:
    base_url: str | None = None  # ws://, wss://, http:// or https://; None = the real service
    api_key: str | None = field(default=None, repr=False)
    ephemeral_token: str | None = field(default=None, repr=False)
    api_version: str = "v1beta"
    ssl: ssl_module.SSLContext | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        scheme = urlsplit(self.base_url or GOOGLE_BASE_URL).scheme
        if scheme not in _SCHEMES:
            raise ValueError(
                f"base URL must start with ws://, wss://, http:// or https:// (got {scheme or 'none'}://)"
            )

    @property
    def is_google(self) -> bool:
        return self.base_url is None or urlsplit(self.base_url).hostname == urlsplit(GOOGLE_BASE_URL).hostname

    @property
    def secure(self) -> bool:
        return self.url().startswith("wss://")

    def url(self) -> str:
        parts = urlsplit(self.base_url or GOOGLE_BASE_URL)
        method = "BidiGenerateContentConstrained" if self.ephemeral_token else "BidiGenerateContent"
        prefix = parts.path.rstrip("/")
        return f"{_SCHEMES[parts.scheme]}://{parts.netloc}{prefix}{_PATH.format(version=self.api_version, method=method)}"

    def headers(self) -> dict[str, str]:
        if self.ephemeral_token:
            return {"Authorization": f"Token {self.ephemeral_token}"}
        if self.api_key:
            return {"x-goog-api-key": self.api_key}
        return {}
