"""API keys and ephemeral tokens: accepted where the service accepts them, refused with a clear reason."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import aiohttp
import pytest

from rholive.emulator import EmulatorOptions

from .helpers import dig, setup_message, text_turn

KEY = "test-key-0123456789"


class Clock:
    """The emulator's wall clock, moved by the test instead of sleeping."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def options(clock: Clock) -> EmulatorOptions:
    return EmulatorOptions(api_keys=["other-key", KEY], clock=clock)


def rfc3339(offset_s: float) -> str:
    return datetime.fromtimestamp(time.time() + offset_s, UTC).isoformat().replace("+00:00", "Z")


async def mint(emulator, body: dict[str, Any], key: str | None = KEY, version: str = "v1alpha"):
    headers = {"x-goog-api-key": key} if key else {}
    async with aiohttp.ClientSession() as http:
        async with http.post(
            f"{emulator.http_url}/{version}/auth_tokens", json=body, headers=headers
        ) as resp:
            return resp.status, await resp.json()


async def refused(connect, **kwargs: Any) -> str:
    async with connect(**kwargs) as client:
        await client.send(setup_message())
        code, reason = await client.closed()
    assert code == 1008
    assert not any("setupComplete" in m for m in client.received)
    return reason


async def works(connect, message: dict[str, Any] | None = None, **kwargs: Any) -> list[dict[str, Any]]:
    async with connect(**kwargs) as client:
        got = await client.setup(message)
        await client.send(text_turn("hi"))
        return got + await client.turn()


async def test_missing_key_is_refused(connect) -> None:
    reason = await refused(connect)
    assert "Missing API key" in reason


async def test_wrong_key_is_refused_without_echoing_it(connect) -> None:
    reason = await refused(connect, headers={"x-goog-api-key": "wrong-secret-key"})
    assert "API key not valid" in reason
    assert "wrong-secret-key" not in reason


async def test_key_in_header_or_query_is_accepted(connect) -> None:
    assert await works(connect, headers={"x-goog-api-key": KEY})
    assert await works(connect, query=f"key={KEY}", version="v1")


async def test_token_endpoint_needs_a_key(emulator) -> None:
    status, body = await mint(emulator, {}, key=None)
    assert (status, body["error"]["status"]) == (401, "UNAUTHENTICATED")
    status, body = await mint(emulator, {}, key="wrong")
    assert (status, body["error"]["status"]) == (403, "PERMISSION_DENIED")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"expireTime": "2000-01-01T00:00:00Z"}, "expireTime must be in the future"),
        ({"expireTime": "tomorrow"}, "not a valid RFC 3339"),
        ({"uses": -1}, "uses must not be negative"),
        ({"bidiGenerateContentSetup": "model"}, "must be an object"),
    ],
)
async def test_token_request_is_validated(emulator, body, message) -> None:
    status, answer = await mint(emulator, body)
    assert status == 400
    assert message in answer["error"]["message"]


async def test_token_has_one_use_by_default_and_resuming_is_free(emulator, connect) -> None:
    status, token = await mint(emulator, {})
    assert status == 200 and token["name"].startswith("auth_tokens/") and token["uses"] == 1
    auth = {"Authorization": f"Token {token['name']}"}
    got = await works(
        connect, setup_message(sessionResumption={}), headers=auth, constrained=True, version="v1alpha"
    )
    handle = [dig(m, "sessionResumptionUpdate", "newHandle") for m in got if "sessionResumptionUpdate" in m][
        -1
    ]
    reason = await refused(connect, headers=auth, constrained=True, version="v1alpha")
    assert "no uses left" in reason
    assert token["name"] not in reason
    # resuming with a handle does not count as a use
    resumed = await works(
        connect,
        setup_message(sessionResumption={"handle": handle}),
        headers=auth,
        constrained=True,
        version="v1alpha",
    )
    assert any("setupComplete" in m for m in resumed)
    assert emulator.conversations[0].connections == 2


async def test_token_uses_and_access_token_query(emulator, connect) -> None:
    _, token = await mint(emulator, {"uses": 2})
    for _ in range(2):
        assert await works(
            connect, query=f"access_token={token['name']}", constrained=True, version="v1alpha"
        )
    assert "no uses left" in await refused(
        connect, query=f"access_token={token['name']}", constrained=True, version="v1alpha"
    )


async def test_token_only_on_the_constrained_endpoint(emulator, connect) -> None:
    _, token = await mint(emulator, {})
    reason = await refused(connect, headers={"Authorization": f"Token {token['name']}"})
    assert "only accepted on the BidiGenerateContentConstrained endpoint" in reason


async def test_tokens_are_v1alpha_only(emulator, connect) -> None:
    for version in ("v1beta", "v1"):
        status, answer = await mint(emulator, {}, version=version)
        assert (status, answer["error"]["status"]) == (404, "NOT_FOUND")
        assert "only available on API version v1alpha" in answer["error"]["message"]
    _, token = await mint(emulator, {})
    auth = {"Authorization": f"Token {token['name']}"}
    reason = await refused(connect, headers=auth, constrained=True, version="v1beta")
    assert "only available on API version v1alpha, not v1beta" in reason
    assert await works(connect, headers=auth, constrained=True, version="v1alpha")  # the use was not spent


async def test_unknown_token_is_refused(connect) -> None:
    reason = await refused(
        connect, headers={"Authorization": "Token auth_tokens/made-up"}, constrained=True, version="v1alpha"
    )
    assert "unknown token" in reason and "made-up" not in reason


async def test_token_expiry_and_new_session_window(emulator, connect, clock: Clock) -> None:
    _, token = await mint(emulator, {"uses": 0, "expireTime": rfc3339(600)})  # 0: no use limit
    auth = {"Authorization": f"Token {token['name']}"}
    got = await works(
        connect, setup_message(sessionResumption={}), headers=auth, constrained=True, version="v1alpha"
    )
    handle = [dig(m, "sessionResumptionUpdate", "newHandle") for m in got if "sessionResumptionUpdate" in m][
        -1
    ]
    clock.offset = 120  # past newSessionExpireTime (default: 60 s after creation), before expireTime
    assert "can no longer start new sessions" in await refused(
        connect, headers=auth, constrained=True, version="v1alpha"
    )
    assert await works(
        connect,
        setup_message(sessionResumption={"handle": handle}),
        headers=auth,
        constrained=True,
        version="v1alpha",
    )
    clock.offset = 700  # past expireTime: nothing works any more, not even resuming
    reason = await refused(connect, headers=auth, constrained=True, version="v1alpha")
    assert "expired" in reason


async def test_locked_setup_overrides_the_client(emulator, connect) -> None:
    locked = {
        "model": "models/gemini-3.8-live",
        "generationConfig": {"responseModalities": ["AUDIO"]},
    }
    _, token = await mint(emulator, {"bidiGenerateContentSetup": locked})
    got = await works(
        connect,
        setup_message("TEXT"),
        headers={"Authorization": f"Token {token['name']}"},
        constrained=True,
        version="v1alpha",
    )
    parts = [p for m in got for p in dig(m, "serverContent", "modelTurn", "parts") or []]
    assert parts and all("inlineData" in p for p in parts)  # AUDIO, though the client asked for TEXT


@pytest.mark.parametrize("mask", [None, "generationConfig.responseModalities"])
async def test_field_mask_locks_only_the_named_fields(emulator, connect, mask) -> None:
    locked = {"generationConfig": {"responseModalities": ["AUDIO"]}, "outputAudioTranscription": {}}
    body: dict[str, Any] = {"bidiGenerateContentSetup": locked}
    if mask:
        body["fieldMask"] = mask
    _, token = await mint(emulator, body)
    auth = {"Authorization": f"Token {token['name']}"}
    got = await works(connect, setup_message("TEXT"), headers=auth, constrained=True, version="v1alpha")
    parts = [p for m in got for p in dig(m, "serverContent", "modelTurn", "parts") or []]
    assert parts and all("inlineData" in p for p in parts)  # the modality is locked either way
    transcribed = any(dig(m, "serverContent", "outputTranscription") for m in got)
    assert transcribed == (mask is None)  # without a mask every locked field applies
