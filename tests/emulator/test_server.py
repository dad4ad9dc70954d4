"""The server itself: endpoints, ports, TLS, silence on stdout, and no secret in any log line."""

from __future__ import annotations

import contextlib
import logging
import ssl

import aiohttp
import pytest
import websockets

from rholive.emulator import Emulator, EmulatorOptions

from .helpers import Client, path, setup_message, text_turn


@pytest.mark.parametrize(
    ("version", "constrained"), [("v1", False), ("v1beta", False), ("v1alpha", False), ("v1alpha", True)]
)
async def test_every_version_and_method(connect, version, constrained) -> None:
    """The constrained (ephemeral token) method exists on v1alpha only: test_auth covers its refusal."""
    async with connect(version=version, constrained=constrained) as client:
        await client.setup()
        await client.send(text_turn("ping"))
        assert "ping" in str(await client.turn())


async def test_unknown_paths_and_plain_http(emulator) -> None:
    async with aiohttp.ClientSession() as http:
        bad_ws = emulator.http_url + path("v2")
        async with http.get(bad_ws) as resp:
            assert resp.status == 404
        async with http.get(emulator.http_url + path()) as resp:
            assert resp.status == 400  # not a WebSocket upgrade
        async with http.post(emulator.http_url + "/v9/auth_tokens", json={}) as resp:
            assert resp.status == 404


async def test_port_zero_picks_a_free_port_and_start_prints_nothing(capsys) -> None:
    async with Emulator(EmulatorOptions(port=0)) as first, Emulator(port=0) as second:
        assert first.port and second.port and first.port != second.port
        assert first.url == f"ws://127.0.0.1:{first.port}"
        assert first.http_url == f"http://127.0.0.1:{first.port}"
        assert first.cert_path is None
    assert capsys.readouterr() == ("", "")


async def test_tls_serves_wss_and_https(tmp_path) -> None:
    async with Emulator(tls=True, tls_dir=str(tmp_path)) as emu:
        assert emu.url.startswith("wss://127.0.0.1:") and emu.cert_path == tmp_path / "cert.pem"
        assert (tmp_path / "key.pem").stat().st_mode & 0o077 == 0
        context = ssl.create_default_context(cafile=str(emu.cert_path))
        async with websockets.connect(emu.url + path(), ssl=context) as ws:
            client = Client(ws)
            await client.setup()
        with pytest.raises(ssl.SSLCertVerificationError):  # and it is really TLS, checked against the file
            await websockets.connect(emu.url + path(), ssl=ssl.create_default_context())
        async with aiohttp.ClientSession() as http:
            async with http.post(f"{emu.http_url}/v1alpha/auth_tokens", json={}, ssl=context) as resp:
                assert resp.status == 200


async def test_no_secret_reaches_the_logs(caplog) -> None:
    key = "secret-key-never-logged"
    caplog.set_level(logging.DEBUG)
    async with Emulator(api_keys=[key]) as emu:
        async with aiohttp.ClientSession() as http:
            async with http.post(f"{emu.http_url}/v1alpha/auth_tokens?key={key}", json={}) as resp:
                token = (await resp.json())["name"]
        for url in (
            f"{emu.url}{path()}?key={key}",
            f"{emu.url}{path()}?key=wrong-{key}",
            f"{emu.url}{path('v1alpha', True)}?access_token={token}",
            f"{emu.url}{path('v1alpha', True)}?access_token={token}",  # used up: refused
        ):
            async with websockets.connect(url) as ws:
                client = Client(ws)
                await client.send(setup_message())
                await client.send(text_turn("hello"))
                with contextlib.suppress(websockets.ConnectionClosed):  # two of them are refused
                    await client.recv()
    # the server side (ours and aiohttp's); the websockets *client* used here logs its own request line
    server = [r.getMessage() for r in caplog.records if r.name.startswith(("rholive", "aiohttp"))]
    assert any("closing connection: 1008" in line for line in server)  # it did log, yet:
    assert not [line for line in server if key in line or token.split("/")[1] in line]


async def test_stop_closes_open_sessions_with_1001() -> None:
    emu = await Emulator().start()
    async with websockets.connect(emu.url + path()) as ws:
        client = Client(ws)
        await client.setup()
        await emu.stop()
        assert await client.closed() == (1001, "Emulator shutting down")
