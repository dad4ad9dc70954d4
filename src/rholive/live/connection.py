"""Opening one Live connection: WebSocket upgrade, ``setup``, wait for ``setupComplete``.

Refusals become ``SetupRejected`` with the close code (or HTTP status) and the server's reason; failures to
reach the server become ``ConnectFailed``. Credentials are redacted from every reason and log line.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus, InvalidURI

from rholive.live import wire
from rholive.live.endpoint import Endpoint, RedactingLogger
from rholive.live.errors import ConnectFailed, SetupRejected
from rholive.live.events import ServerEvent, SetupComplete
from rholive.live.options import SessionOptions

log = logging.getLogger("rholive.live")
_ws_log = logging.getLogger("rholive.live.websocket")
REASON_CHARS = 300


async def open_connection(
    endpoint: Endpoint, setup_text: str, options: SessionOptions
) -> tuple[ClientConnection, list[ServerEvent]]:
    """A connection past ``setupComplete`` and the server events read up to and including it."""
    ws = await _upgrade(endpoint, options)
    try:
        await ws.send(setup_text)
        return ws, await _until_setup_complete(ws, options.setup_timeout_s)
    except ConnectionClosed as exc:
        if exc.rcvd is not None:
            raise SetupRejected(exc.rcvd.code, endpoint.redact(exc.rcvd.reason)) from None
        raise ConnectFailed("connection lost before setupComplete (no close frame)") from None
    except TimeoutError:
        await _close_quietly(ws, 1000, "setup timed out")
        raise ConnectFailed(f"no setupComplete within {options.setup_timeout_s:g} s") from None
    except BaseException:
        await _close_quietly(ws, 1000, "client gave up")
        raise


async def _upgrade(endpoint: Endpoint, options: SessionOptions) -> ClientConnection:
    try:
        return await connect(
            endpoint.url(),
            additional_headers=endpoint.headers(),
            ssl=endpoint.ssl_for_connect(),
            max_size=options.max_message_bytes,
            ping_interval=options.ping_interval_s,
            ping_timeout=options.ping_timeout_s,
            open_timeout=options.open_timeout_s,
            close_timeout=options.close_timeout_s,
            compression="deflate" if options.compression else None,
            logger=RedactingLogger(_ws_log, endpoint),
        )
    except InvalidStatus as exc:
        response = exc.response
        raise SetupRejected(response.status_code, _http_reason(endpoint, response.body), http=True) from None
    except (OSError, TimeoutError, InvalidHandshake, InvalidURI) as exc:
        detail = endpoint.redact(str(exc)) or type(exc).__name__
        raise ConnectFailed(f"cannot connect to {endpoint.url()}: {detail}") from None


async def _until_setup_complete(ws: ClientConnection, timeout_s: float) -> list[ServerEvent]:
    events: list[ServerEvent] = []
    async with asyncio.timeout(timeout_s):
        while True:
            events.extend(wire.parse_server_message(await ws.recv()))
            if any(isinstance(e, SetupComplete) for e in events):
                return events


def _http_reason(endpoint: Endpoint, body: bytes | None) -> str:
    """The ``error.message`` of a Google-style JSON error body, else the start of the body."""
    text = (body or b"").decode("utf-8", "replace").strip()
    with contextlib.suppress(ValueError, AttributeError, TypeError):
        message = json.loads(text)["error"]["message"]
        if isinstance(message, str):
            text = message
    return endpoint.redact(text[:REASON_CHARS])


async def _close_quietly(ws: ClientConnection, code: int, reason: str) -> None:
    with contextlib.suppress(Exception):
        await ws.close(code, reason)
