"""Where a Live session connects and how it authenticates.

The credential travels in a header only (``x-goog-api-key`` for keys, ``Authorization: Token ...`` for
ephemeral tokens), never in the URL, so the URL can be printed and logged. ``repr`` shows no secret.
"""

from __future__ import annotations

import logging
import re
import ssl as _ssl
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

SERVICE_URL = "wss://generativelanguage.googleapis.com"
DEFAULT_VERSION = "v1beta"
TOKEN_VERSION = "v1alpha"  # the service accepts ephemeral tokens on v1alpha
_SCHEMES = {"ws": "ws", "wss": "wss", "http": "ws", "https": "wss"}
_VERSION = re.compile(r"v\d+[a-z0-9]*")
REDACTED = "***"


@dataclass(frozen=True)
class Endpoint:
    """A Live endpoint. ``base_url`` takes ws://, wss://, http:// (→ ws) or https:// (→ wss); None is the
    real service. ``api_version`` None means v1beta, or v1alpha with an ephemeral token."""

    base_url: str | None = None
    api_key: str | None = field(default=None, repr=False)
    ephemeral_token: str | None = field(default=None, repr=False)
    api_version: str | None = None
    ssl: _ssl.SSLContext | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.api_key and self.ephemeral_token:
            raise ValueError("give either an API key or an ephemeral token, not both")
        if not _VERSION.fullmatch(self.version):
            raise ValueError(f"invalid API version {self.version!r} (like v1, v1beta, v1alpha)")
        self.url()  # a bad base_url fails here, not at connect time

    @property
    def version(self) -> str:
        if self.api_version:
            return self.api_version
        return TOKEN_VERSION if self.ephemeral_token else DEFAULT_VERSION

    @property
    def method(self) -> str:
        """Ephemeral tokens are only accepted by the constrained method."""
        return "BidiGenerateContentConstrained" if self.ephemeral_token else "BidiGenerateContent"

    @property
    def root(self) -> str:
        """``ws(s)://host[:port][/prefix]`` without a trailing slash."""
        parts = urlsplit((self.base_url or SERVICE_URL).strip())
        scheme = _SCHEMES.get(parts.scheme.lower())
        if scheme is None or not parts.netloc:
            raise ValueError("base_url must look like ws://, wss://, http:// or https://HOST[:PORT]")
        if parts.query or parts.fragment or "@" in parts.netloc:
            # a key in a query string or in user info would end up in logs: refuse it outright
            raise ValueError("base_url must not carry a query, a fragment or credentials")
        return f"{scheme}://{parts.netloc}{parts.path.rstrip('/')}"

    @property
    def is_google(self) -> bool:
        """The Gemini Developer API itself (not the emulator or a proxy)."""
        return urlsplit(self.root).hostname == urlsplit(SERVICE_URL).hostname

    @property
    def secure(self) -> bool:
        return self.root.startswith("wss://")

    @property
    def http_root(self) -> str:
        """The same server for REST calls (``POST /v1alpha/auth_tokens``)."""
        return "https" + self.root[3:] if self.secure else "http" + self.root[2:]

    def url(self) -> str:
        """The full WebSocket URL. Holds no credential: safe to print."""
        service = f"google.ai.generativelanguage.{self.version}.GenerativeService.{self.method}"
        return f"{self.root}/ws/{service}"

    def headers(self) -> dict[str, str]:
        if self.ephemeral_token:
            return {"Authorization": f"Token {self.ephemeral_token}"}
        if self.api_key:
            return {"x-goog-api-key": self.api_key}
        return {}

    @property
    def auth(self) -> str:
        if self.ephemeral_token:
            return "ephemeral token"
        return "api key" if self.api_key else "none"

    def secrets(self) -> tuple[str, ...]:
        """Strings that must never be shown (for redaction of logs and error reasons)."""
        return tuple(s for s in (self.api_key, self.ephemeral_token) if s)

    def redact(self, text: str) -> str:
        for secret in self.secrets():
            text = text.replace(secret, REDACTED)
        return text

    def ssl_for_connect(self) -> _ssl.SSLContext | None:
        """websockets refuses an ssl argument with a ws:// URL, and ``None`` with a wss:// one: a secure
        endpoint with no context of its own trusts the system's store (which honours ``SSL_CERT_FILE``)."""
        if not self.secure:
            return None
        return self.ssl or _ssl.create_default_context()

    def __repr__(self) -> str:
        return f"Endpoint(url={self.url()!r}, auth={self.auth!r})"

    __str__ = __repr__


class RedactingLogger(logging.LoggerAdapter):  # type: ignore[type-arg]
    """Handed to websockets, whose DEBUG logs print every handshake header (the key among them)."""

    def __init__(self, logger: logging.Logger, endpoint: Endpoint) -> None:
        super().__init__(logger, {})
        self._endpoint = endpoint

    def log(self, level: int, msg: Any, *args: Any, **kwargs: Any) -> None:
        if self.isEnabledFor(level):
            clean = tuple(self._endpoint.redact(a) if isinstance(a, str) else a for a in args)
            super().log(level, msg, *clean, **kwargs)
