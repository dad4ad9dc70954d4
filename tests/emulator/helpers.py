"""A raw Live client over a real socket (websockets), PCM generators and message builders for tests."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Callable
from typing import Any

import numpy as np
import websockets
from websockets.asyncio.client import ClientConnection

MODEL = "models/gemini-3.8-live"  # the default model: it answers in AUDIO only
WAIT_S = 10.0  # upper bound for any single wait, so a broken emulator fails a test instead of hanging it


def path(version: str = "v1beta", constrained: bool = False) -> str:
    method = "BidiGenerateContentConstrained" if constrained else "BidiGenerateContent"
    return f"/ws/google.ai.generativelanguage.{version}.GenerativeService.{method}"


def setup_message(modality: str = "AUDIO", model: str = MODEL, **fields: Any) -> dict[str, Any]:
    """AUDIO with outputAudioTranscription by default: the transcript is the answer's text (``texts``)."""
    setup: dict[str, Any] = {"model": model, "generationConfig": {"responseModalities": [modality]}}
    if modality == "AUDIO":
        setup["outputAudioTranscription"] = {}
    setup.update(fields)
    return {"setup": setup}


def manual(**fields: Any) -> dict[str, Any]:
    """Setup fields for client-side turn detection (activity markers)."""
    return {"realtimeInputConfig": {"automaticActivityDetection": {"disabled": True}}, **fields}


def tone(seconds: float, rate: int = 16000, amplitude: float = 8000.0) -> bytes:
    t = np.arange(round(seconds * rate)) / rate
    return (np.sin(2 * np.pi * 440.0 * t) * amplitude).astype("<i2").tobytes()


def silence(seconds: float, rate: int = 16000) -> bytes:
    return bytes(2 * round(seconds * rate))


def audio_message(pcm: bytes, rate: int = 16000) -> dict[str, Any]:
    data = base64.b64encode(pcm).decode()
    return {"realtimeInput": {"audio": {"data": data, "mimeType": f"audio/pcm;rate={rate}"}}}


def chunks(pcm: bytes, ms: int = 100, rate: int = 16000) -> list[bytes]:
    step = rate * ms // 1000 * 2
    return [pcm[i : i + step] for i in range(0, len(pcm), step)]


def text_turn(text: str, complete: bool = True) -> dict[str, Any]:
    return {
        "clientContent": {"turns": [{"role": "user", "parts": [{"text": text}]}], "turnComplete": complete}
    }


class Client:
    """A thin JSON client: send dicts, receive dicts, and see how the server closed."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.received: list[dict[str, Any]] = []

    async def send(self, message: dict[str, Any] | str) -> None:
        await self.ws.send(message if isinstance(message, str) else json.dumps(message))

    async def recv(self) -> dict[str, Any]:
        async with asyncio.timeout(WAIT_S):
            message = json.loads(await self.ws.recv())
        self.received.append(message)
        return message

    async def until(self, predicate: Callable[[dict[str, Any]], bool]) -> list[dict[str, Any]]:
        """Messages up to and including the first that satisfies ``predicate``."""
        got = []
        while True:
            message = await self.recv()
            got.append(message)
            if predicate(message):
                return got

    async def until_key(self, *path: str) -> list[dict[str, Any]]:
        return await self.until(lambda m: dig(m, *path) is not None)

    async def closed(self) -> tuple[int | None, str]:
        """Read until the server closes; the close code and reason (code None: no close frame, 1006)."""
        try:
            async with asyncio.timeout(WAIT_S):
                while True:
                    self.received.append(json.loads(await self.ws.recv()))
        except websockets.ConnectionClosed as closed:
            if closed.rcvd is None:
                return None, ""
            return closed.rcvd.code, closed.rcvd.reason
        raise AssertionError("unreachable")

    async def setup(self, message: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        await self.send(message or setup_message())
        return await self.until_key("setupComplete")

    async def turn(self) -> list[dict[str, Any]]:
        """Everything up to the usageMetadata that follows a turnComplete."""
        return await self.until_key("usageMetadata")


def dig(message: dict[str, Any], *path: str) -> Any:
    for key in path:
        if not isinstance(message, dict):
            return None
        message = message.get(key)  # type: ignore[assignment]
    return message


def texts(messages: list[dict[str, Any]]) -> str:
    """What the model said: its text parts, or the transcript of its speech."""
    parts = "".join(
        part.get("text", "") for m in messages for part in dig(m, "serverContent", "modelTurn", "parts") or []
    )
    spoken = "".join(dig(m, "serverContent", "outputTranscription", "text") or "" for m in messages)
    return parts + spoken
