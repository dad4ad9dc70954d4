"""Fixtures: an emulator per test (options overridable per module/test) and a raw client factory."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
import websockets

from rholive.emulator import Emulator, EmulatorOptions

from .helpers import Client, path


@pytest.fixture
def options() -> EmulatorOptions:
    return EmulatorOptions()


@pytest.fixture
async def emulator(options: EmulatorOptions) -> AsyncIterator[Emulator]:
    async with Emulator(options) as emu:
        yield emu


@pytest.fixture
def connect(emulator: Emulator) -> Callable[..., Any]:
    """``async with connect(version=..., constrained=..., headers=..., query=...) as client``."""

    class _Connect:
        def __init__(
            self, version: str = "v1beta", constrained: bool = False, headers=None, query=""
        ) -> None:
            self.url = emulator.url + path(version, constrained) + (f"?{query}" if query else "")
            self.headers = headers or {}

        async def __aenter__(self) -> Client:
            self.ws = await websockets.connect(self.url, additional_headers=self.headers, max_size=None)
            return Client(self.ws)

        async def __aexit__(self, *exc: object) -> None:
            await self.ws.close()

    return _Connect
