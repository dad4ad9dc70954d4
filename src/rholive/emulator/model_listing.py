"""``GET /{version}/models`` and ``GET /{version}/models/{name}``, as the service answers them.

Built from live/'s catalog: every model still in service with ``bidiGenerateContent``, plus two models that
are not Live models, so a client's filter on ``supportedGenerationMethods`` has something to drop. Paged
like the service: ``pageSize`` (default 50, at most 1000), an opaque ``pageToken``, ``nextPageToken`` while
more remain. The key is checked like at the WebSocket endpoint (none needed when none is configured).
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

from aiohttp import web

from rholive.emulator.auth import Auth, Refused
from rholive.live import models

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000
_NOT_LIVE: tuple[dict[str, Any], ...] = (
    {
        "name": "models/gemini-2.5-flash",
        "displayName": "Gemini 2.5 Flash",
        "supportedGenerationMethods": ["generateContent", "countTokens"],
        "inputTokenLimit": 1_048_576,
    },
    {
        "name": "models/text-embedding-004",
        "displayName": "Text Embedding 004",
        "supportedGenerationMethods": ["embedContent"],
        "inputTokenLimit": 2_048,
    },
)


def _display_name(name: str) -> str:
    return name.removeprefix("models/").replace("-", " ").title()


def listed_models(extra_models: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """What the emulator lists, in order: the Live models in service, then the others."""
    extra = [
        {
            "name": name,
            "displayName": _display_name(name),
            "supportedGenerationMethods": ["bidiGenerateContent"],
        }
        for name in extra_models
    ]
    live = [
        {
            "name": entry.name,
            "displayName": _display_name(entry.name),
            "description": entry.note,
            "supportedGenerationMethods": ["bidiGenerateContent"],
            "inputTokenLimit": entry.input_token_limit,
        }
        for entry in models.available()
    ]
    return live + extra + [dict(model) for model in _NOT_LIVE]


def page(items: list[dict[str, Any]], page_size: str | None, page_token: str | None) -> dict[str, Any]:
    """One page of ``items`` (raises ``Refused`` with 400 for a bad size or token)."""
    try:
        size = DEFAULT_PAGE_SIZE if not page_size else int(page_size)
    except ValueError:
        raise Refused("pageSize must be an integer", 400) from None
    if size < 0:
        raise Refused("pageSize must not be negative", 400)
    size = min(size or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
    start = _offset(page_token) if page_token else 0
    body: dict[str, Any] = {"models": items[start : start + size]}
    if start + size < len(items):
        body["nextPageToken"] = _token(start + size)
    return body


def _token(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode()


def _offset(token: str) -> int:
    try:
        text = base64.urlsafe_b64decode(token.encode()).decode()
        offset = int(text.removeprefix("offset:")) if text.startswith("offset:") else -1
    except ValueError:
        offset = -1
    if offset < 0:
        raise Refused("Invalid page token", 400)
    return offset


def add_routes(
    router: web.UrlDispatcher,
    auth: Auth,
    versions: tuple[str, ...],
    error: Callable[[int, str], web.Response],
    extra_models: tuple[str, ...] = (),
) -> None:
    """Register both handlers on ``router``; ``error`` builds the service's JSON error body."""

    def checked(request: web.Request) -> None:
        if request.match_info["version"] not in versions:
            raise Refused(f"Unknown API version in {request.path}", 404)
        auth.check_key(request.headers, request.query)

    async def list_models(request: web.Request) -> web.Response:
        try:
            checked(request)
            query = request.query
            return web.json_response(
                page(listed_models(extra_models), query.get("pageSize"), query.get("pageToken"))
            )
        except Refused as refused:
            return error(refused.status, refused.reason)

    async def get_model(request: web.Request) -> web.Response:
        try:
            checked(request)
        except Refused as refused:
            return error(refused.status, refused.reason)
        name = f"models/{request.match_info['name']}"
        for model in listed_models(extra_models):
            if model["name"] == name:
                return web.json_response(model)
        version = request.match_info["version"]
        return error(404, f"{name} is not found for API version {version}")

    router.add_get("/{version}/models", list_models)
    router.add_get("/{version}/models/{name}", get_model)
