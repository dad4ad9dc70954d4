"""The emulator's aiohttp application: one port for the Live WebSocket endpoints and the REST token call.

Refusals of credentials happen after the WebSocket upgrade, like the service: the connection reads the
first message and closes with 1008 and the reason, which every client (ours, the google-genai SDK) surfaces
as an error carrying that reason. An HTTP error at the upgrade would hide the reason from most clients.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
import re
import tempfile
from pathlib import Path
from types import TracebackType
from typing import Any

from aiohttp import web

from rholive.emulator import brains, faults, model_listing, tls
from rholive.emulator.auth import Auth, Refused
from rholive.emulator.connection import Connection, Hub
from rholive.emulator.conversation import Conversation, Store
from rholive.emulator.options import EmulatorOptions

log = logging.getLogger("rholive.emulator")

WS_PATH = re.compile(
    r"^google\.ai\.generativelanguage\.(v1|v1beta|v1alpha)\.GenerativeService\."
    r"(BidiGenerateContent|BidiGenerateContentConstrained)$"
)
VERSIONS = ("v1", "v1beta", "v1alpha")
TOKEN_VERSION = "v1alpha"  # ephemeral tokens exist on this API version only
MAX_MESSAGE = 64 * 1024 * 1024
STATUS_NAMES = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "NOT_FOUND"}


def _error(status: int, message: str) -> web.Response:
    body = {"error": {"code": status, "message": message, "status": STATUS_NAMES.get(status, "UNKNOWN")}}
    return web.json_response(body, status=status)


class Emulator:
    """A local Live API server. ``async with Emulator(opts) as emu: ...`` or ``start()`` / ``stop()``."""

    def __init__(self, options: EmulatorOptions | None = None, **overrides: Any) -> None:
        options = options or EmulatorOptions()
        self.options = dataclasses.replace(options, **overrides) if overrides else options
        self.store = Store(self.options.clock, self.options.handle_lifetime_s, self.options.max_conversations)
        self.auth = Auth(self.options.api_keys, self.options.clock)
        self.cert_path: Path | None = None
        self.key_path: Path | None = None
        self.port = 0
        self._runner: web.AppRunner | None = None
        self._tempdir: tempfile.TemporaryDirectory[str] | None = None
        self._connections: set[Connection] = set()
        opts = self.options
        faults.check_options(opts.refuse_resume, opts.chaos_rate, opts.stall_after)
        chaos = faults.ChaosDraws(opts.chaos_rate, opts.chaos_seed)
        self._hub = Hub(opts, self.auth, self.store, self._make_brain, chaos=chaos)

    # ------------------------------------------------------------------ public view

    @property
    def scheme(self) -> str:
        return "wss" if self.options.tls else "ws"

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self._host_for_url}:{self.port}"

    @property
    def http_url(self) -> str:
        return f"{'https' if self.options.tls else 'http'}://{self._host_for_url}:{self.port}"

    @property
    def _host_for_url(self) -> str:
        host = self.options.host or "127.0.0.1"
        if host in ("0.0.0.0", "::"):
            return "127.0.0.1"
        return f"[{host}]" if ":" in host else host

    @property
    def conversations(self) -> list[Conversation]:
        return self.store.conversations

    @property
    def injected(self) -> list[tuple[int, str]]:
        """The failures ``chaos_rate`` drew: (connection number, kind), in the order drawn."""
        return self._hub.chaos.injected

    def _make_brain(self) -> brains.Brain:
        spec = self.options.brain
        return brains.load_brain(spec) if isinstance(spec, str) else spec

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> Emulator:
        self._make_brain()  # a bad --brain fails here, with the brain's own message
        ssl_context = None
        if self.options.cert_file and self.options.key_file:
            self.cert_path, self.key_path = Path(self.options.cert_file), Path(self.options.key_file)
            ssl_context = tls.server_context(self.cert_path, self.key_path)
        elif self.options.tls:
            directory = self.options.tls_dir
            if directory is None:
                self._tempdir = tempfile.TemporaryDirectory(prefix="rholive-emulator-")
                directory = self._tempdir.name
            self.cert_path, self.key_path = tls.write_self_signed(directory, self.options.host)
            ssl_context = tls.server_context(self.cert_path, self.key_path)
        app = web.Application(client_max_size=MAX_MESSAGE)
        app.router.add_get("/ws/{name}", self._websocket)
        app.router.add_post("/{version}/auth_tokens", self._auth_tokens)
        model_listing.add_routes(app.router, self.auth, VERSIONS, _error, tuple(self.options.extra_models))
        # access_log=None: a request line can carry ?key= or ?access_token=, which must never be logged
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.options.host, self.options.port, ssl_context=ssl_context)
        await site.start()
        self.port = self._runner.addresses[0][1]
        return self

    async def stop(self) -> None:
        async def going_away(connection: Connection) -> None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(connection.close(1001, "Emulator shutting down"), 2.0)

        await asyncio.gather(*(going_away(c) for c in list(self._connections)))
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._tempdir is not None:
            self._tempdir.cleanup()
            self._tempdir = None

    async def __aenter__(self) -> Emulator:
        return await self.start()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    # ------------------------------------------------------------------ handlers

    async def _websocket(self, request: web.Request) -> web.StreamResponse:
        match = WS_PATH.match(request.match_info["name"])
        if match is None:
            return _error(404, f"Unknown Live endpoint {request.path}")
        version, method = match.groups()
        constrained = method.endswith("Constrained")
        try:
            if constrained and version != TOKEN_VERSION:
                raise Refused(
                    f"BidiGenerateContentConstrained (ephemeral tokens) is only available on API version "
                    f"{TOKEN_VERSION}, not {version}"
                )
            credential: Any = self.auth.identify(request.headers, request.query, constrained=constrained)
        except Refused as refused:
            credential = refused  # refused after the upgrade, with the reason in the close frame
        ws = web.WebSocketResponse(max_msg_size=MAX_MESSAGE, autoping=True)
        if not ws.can_prepare(request).ok:
            return _error(400, "This endpoint only accepts WebSocket connections")
        await ws.prepare(request)
        connection = Connection(self._hub, ws, request, version, credential)
        self._connections.add(connection)
        try:
            await connection.run()
        finally:
            self._connections.discard(connection)
        return ws

    async def _auth_tokens(self, request: web.Request) -> web.Response:
        version = request.match_info["version"]
        if version not in VERSIONS:
            return _error(404, f"Unknown API version in {request.path}")
        if version != TOKEN_VERSION:
            return _error(404, f"auth_tokens is only available on API version {TOKEN_VERSION}, not {version}")
        try:
            self.auth.check_key(request.headers, request.query)
            try:
                body = await request.json() if request.can_read_body else {}
            except json.JSONDecodeError:
                raise Refused("The request body is not valid JSON", 400) from None
            return web.json_response(self.auth.mint(body))
        except Refused as refused:
            return _error(refused.status, refused.reason)
