"""The emulator's model list, as the service serves it: paged, keyed, Live and other models."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from rholive.emulator import Emulator, EmulatorOptions
from rholive.live import models

KEY = "listing-key-42"


@pytest.fixture
def options() -> EmulatorOptions:
    return EmulatorOptions(api_keys=[KEY])


async def get(emulator: Emulator, path: str, key: str | None = KEY, **params: str) -> tuple[int, Any]:
    headers = {"x-goog-api-key": key} if key else {}
    async with (
        aiohttp.ClientSession() as http,
        http.get(emulator.http_url + path, headers=headers, params=params) as response,
    ):
        return response.status, await response.json()


async def test_every_page_together_lists_the_live_models_in_service_and_others(emulator: Emulator) -> None:
    names: list[str] = []
    methods: dict[str, list[str]] = {}
    token: str | None = None
    pages = 0
    while True:
        params = {"pageSize": "2"} | ({"pageToken": token} if token else {})
        status, body = await get(emulator, "/v1beta/models", **params)
        assert status == 200
        assert len(body["models"]) <= 2
        for model in body["models"]:
            names.append(model["name"])
            methods[model["name"]] = model["supportedGenerationMethods"]
            assert model["displayName"] and model["inputTokenLimit"] > 0
        pages += 1
        token = body.get("nextPageToken")
        if token is None:
            break
    live = [name for name in names if "bidiGenerateContent" in methods[name]]
    assert live == [entry.name for entry in models.available()]
    assert pages == -(-len(names) // 2)
    assert any("bidiGenerateContent" not in m for m in methods.values())  # something for a filter to drop
    assert "models/gemini-2.0-flash-live-001" not in names  # shut down: no longer listed


async def test_one_model_and_an_unknown_one(emulator: Emulator) -> None:
    status, body = await get(emulator, "/v1beta/models/gemini-3.8-live")
    assert status == 200 and body["supportedGenerationMethods"] == ["bidiGenerateContent"]
    status, body = await get(emulator, "/v1beta/models/gemini-9-live")
    assert status == 404 and "models/gemini-9-live is not found" in body["error"]["message"]


async def test_the_key_is_checked_like_at_the_websocket(emulator: Emulator) -> None:
    status, body = await get(emulator, "/v1beta/models", key=None)
    assert status == 401 and body["error"]["status"] == "UNAUTHENTICATED"
    status, body = await get(emulator, "/v1beta/models", key="wrong-key-777")
    assert status == 403 and "wrong-key-777" not in str(body)


async def test_bad_paging_and_versions_are_refused(emulator: Emulator) -> None:
    status, body = await get(emulator, "/v1beta/models", pageToken="not-a-token")
    assert status == 400 and body["error"]["message"] == "Invalid page token"
    status, _ = await get(emulator, "/v1beta/models", pageSize="many")
    assert status == 400
    status, _ = await get(emulator, "/v9/models")
    assert status == 404
