"""The service's model list (``GET /{version}/models``, every page) and which of those are Live models.

Same credentials and TLS rules as the WebSocket: the key travels in the ``x-goog-api-key`` header, never in
the URL; wss/https trusts the system store unless the endpoint carries its own context (``--ca-file``).
Failures are one ``ListingError`` line holding the HTTP status and the server's reason, never the key.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import aiohttp

from rholive.live.endpoint import Endpoint
from rholive.live.errors import LiveError

LIVE_METHOD = "bidiGenerateContent"
PAGE_SIZE = 100
MAX_PAGES = 100  # a server that keeps handing out tokens must not keep us reading forever
REASON_CHARS = 300


class ListingError(LiveError):
    """The model list could not be read (refused key, unreachable server, a body that is not a list)."""


@dataclass(frozen=True, slots=True)
class ListedModel:
    name: str
    display_name: str = ""
    methods: tuple[str, ...] = ()
    input_token_limit: int | None = None

    @property
    def is_live(self) -> bool:
        return LIVE_METHOD in self.methods


def parse_page(body: Any) -> tuple[list[ListedModel], str | None]:
    """The models of one page and the next page's token (None on the last page)."""
    if not isinstance(body, dict):
        raise ListingError("the model list is not a JSON object")
    raw = body.get("models") or []
    if not isinstance(raw, list):
        raise ListingError("the model list's 'models' is not a list")
    listed = [_model(item) for item in raw if isinstance(item, dict) and isinstance(item.get("name"), str)]
    token = body.get("nextPageToken")
    return listed, token if isinstance(token, str) and token else None


def _model(item: dict[str, Any]) -> ListedModel:
    methods = item.get("supportedGenerationMethods") or []
    limit = item.get("inputTokenLimit")
    return ListedModel(
        name=item["name"],
        display_name=str(item.get("displayName") or ""),
        methods=tuple(str(m) for m in methods) if isinstance(methods, list) else (),
        input_token_limit=limit if isinstance(limit, int) else None,
    )


def live_models(listed: list[ListedModel]) -> list[ListedModel]:
    return [model for model in listed if model.is_live]


async def list_models(
    endpoint: Endpoint, *, page_size: int = PAGE_SIZE, timeout_s: float = 15.0
) -> list[ListedModel]:
    """Every model the endpoint lists, all pages followed."""
    url = f"{endpoint.http_root}/{endpoint.version}/models"
    ssl = endpoint.ssl_for_connect() if endpoint.secure else True
    timeout = aiohttp.ClientTimeout(total=timeout_s)
    listed: list[ListedModel] = []
    token: str | None = None
    try:
        async with aiohttp.ClientSession(timeout=timeout, headers=endpoint.headers()) as http:
            for _ in range(MAX_PAGES):
                params = {"pageSize": str(page_size)} | ({"pageToken": token} if token else {})
                async with http.get(url, params=params, ssl=ssl) as response:
                    text = await response.text()
                    if response.status != 200:
                        raise ListingError(f"{url}: HTTP {response.status}: {_reason(endpoint, text)}")
                    models, token = parse_page(_json(text))
                listed.extend(models)
                if token is None:
                    return listed
    except aiohttp.ClientConnectorError as exc:  # its text names the SSL context object: say what failed
        reason = exc.os_error.strerror or type(exc.os_error).__name__
        raise ListingError(f"cannot read {url}: cannot connect to {exc.host}:{exc.port} ({reason})") from None
    except (aiohttp.ClientError, OSError, TimeoutError) as exc:
        detail = endpoint.redact(str(exc)) or type(exc).__name__
        raise ListingError(f"cannot read {url}: {detail}") from None
    raise ListingError(f"{url}: still more pages after {MAX_PAGES}; giving up")


async def live_model_names(endpoint: Endpoint, *, timeout_s: float = 5.0) -> list[str] | None:
    """The Live models the endpoint lists now, or None when the list cannot be read (the caller falls back
    on the catalog)."""
    try:
        listed = await list_models(endpoint, timeout_s=timeout_s)
    except ListingError:
        return None
    return [model.name for model in live_models(listed)]


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        raise ListingError("the model list is not JSON") from None


def _reason(endpoint: Endpoint, text: str) -> str:
    """``error.message`` of a Google-style error body, else the start of the body."""
    try:
        message = json.loads(text)["error"]["message"]
    except (ValueError, KeyError, TypeError):
        message = text
    return endpoint.redact(str(message).strip()[:REASON_CHARS]) or "no reason given"
