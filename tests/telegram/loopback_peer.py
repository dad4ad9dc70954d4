"""The other person in a loopback test call, in a process of its own: one ``NTgCalls`` that speaks queued
tone bursts into a P2P call (silence in between) and counts the loud frames it hears.

Why a process: every ``NTgCalls`` in a process shares ntgcalls' one default peer connection factory, and its
video encoder factory's ``GetSupportedFormats`` rewrites a member without a lock. Two calls negotiating at
the same moment in one process (both ends of a loopback do) race there: "free(): double free detected",
SIGABRT or SIGSEGV, about once in 45 setups. One call per process never races.

Run by `voicechat_fake_call.PeerProcess`: ``python loopback_peer.py PEER_ID KEY_HEX``, where PEER_ID names
the call (the other end's id). Commands on
stdin, one JSON object per line: ``signal`` (``data``: base64 signalling from the other end), ``connect``,
``say`` (``seconds``, ``silence``), ``quit``; end of stdin means quit. Events on stdout: ``ready`` (the call
exists, signalling may flow), ``signal`` (``data``), ``connected``, ``frames`` (``loud``, ``quiet``: what one
callback heard), ``error`` (``message``).
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import sys
import time
from typing import Any

import ntgcalls
import numpy as np

from rholive.audio.pcm import rms_dbfs

RATE = 48000
FRAME = RATE // 100 * 2  # 10 ms of 16-bit mono
LOUD_DBFS = -40.0


def emit(event: str, **fields: Any) -> None:
    sys.stdout.write(json.dumps({"event": event, **fields}) + "\n")
    sys.stdout.flush()


def tone(seconds: float) -> bytes:
    t = np.arange(int(RATE * seconds)) / RATE
    return (8000 * np.sin(2 * np.pi * 300 * t)).astype("<i2").tobytes()


def pcm_media() -> Any:
    audio = ntgcalls.AudioDescription(ntgcalls.MediaSource.EXTERNAL, RATE, 1, "", True)
    return ntgcalls.MediaDescription(audio, None, None, None)


async def talk_paced(ntg: Any, peer: int, speech: bytearray) -> None:
    """A fake microphone: `speech` as 10 ms frames into the call (silence once it is used up), forever."""
    t0, n = time.monotonic(), 0
    while True:
        frame = bytes(speech[:FRAME]) if speech else bytes(FRAME)
        del speech[:FRAME]
        await ntg.send_external_frame(peer, ntgcalls.StreamDevice.MICROPHONE, frame, ntgcalls.FrameData())
        n += 1
        delay = t0 + n * 0.01 - time.monotonic()  # pacing a fake microphone, not synchronisation
        if delay > 0:
            await asyncio.sleep(delay)


async def connect_and_talk(ntg: Any, peer: int, speech: bytearray) -> None:
    try:
        versions = ntgcalls.NTgCalls.get_protocol().library_versions
        await ntg.connect_p2p(peer, [], versions, True, None)
        await talk_paced(ntg, peer, speech)
    except Exception as e:
        emit("error", message=f"{type(e).__name__}: {e}")


async def serve(peer: int, key: bytes) -> None:
    loop = asyncio.get_running_loop()
    ntg = ntgcalls.NTgCalls()

    def heard(_chat: int, _mode: Any, _device: Any, frames: Any) -> None:
        loud = sum(rms_dbfs(bytes(f.data)) > LOUD_DBFS for f in frames)
        loop.call_soon_threadsafe(lambda: emit("frames", loud=loud, quiet=len(frames) - loud))

    def signalled(_call: int, data: bytes) -> None:
        encoded = base64.b64encode(bytes(data)).decode()
        loop.call_soon_threadsafe(lambda: emit("signal", data=encoded))

    def state(_call: int, info: Any) -> None:
        if info.state == ntgcalls.ConnectionState.CONNECTED:
            loop.call_soon_threadsafe(lambda: emit("connected"))

    ntg.on_frames(heard)
    ntg.on_signaling_data(signalled)
    ntg.on_connection_change(state)
    await ntg.create_p2p_call(peer)
    for mode in (ntgcalls.StreamMode.CAPTURE, ntgcalls.StreamMode.PLAYBACK):
        await ntg.set_stream_sources(peer, mode, pcm_media())
    await ntg.skip_exchange(peer, key, False)
    emit("ready")

    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    speech = bytearray()
    talker: asyncio.Task[None] | None = None
    try:
        while line := await reader.readline():
            cmd = json.loads(line)
            if cmd["cmd"] == "signal":
                await ntg.send_signaling_data(peer, base64.b64decode(cmd["data"]))
            elif cmd["cmd"] == "connect" and talker is None:
                # connect_p2p returns only once signalling went both ways: the loop must keep relaying.
                talker = asyncio.create_task(connect_and_talk(ntg, peer, speech))
            elif cmd["cmd"] == "say":
                speech += tone(cmd["seconds"]) + bytes(int(RATE * cmd.get("silence", 0.0)) * 2)
            elif cmd["cmd"] == "quit":
                break
    finally:
        if talker is not None:
            talker.cancel()
            await asyncio.gather(talker, return_exceptions=True)
        try:
            await ntg.stop(peer)
        except ntgcalls.ConnectionNotFound:
            pass


def main() -> None:
    peer, key_hex = sys.argv[1:3]
    try:
        asyncio.run(serve(int(peer), bytes.fromhex(key_hex)))
    except Exception as e:  # the parent's test fails on this line, not on a silent exit
        emit("error", message=f"{type(e).__name__}: {e}")
        sys.stdout.flush()
        os._exit(1)


if __name__ == "__main__":
    main()
