"""Sound devices through `soundcard`: list them, pick one, capture 16 kHz mono chunks from it.

Microphones are labelled `me`; loopbacks (the PulseAudio/PipeWire monitor of an output, WASAPI loopback) are
labelled `them`: that is where the other party of a call is heard. Capture runs in a thread (soundcard blocks)
and hands `(t_ms, pcm)` chunks to asyncio; `t_ms` is the chunk's position in the captured stream. By default
the sound server delivers 16 kHz mono s16le (PulseAudio/PipeWire resample and mix down in native code), read
with libpulse-simple, one blocking C call per chunk (`pulse_simple`): pulling 48 kHz stereo float through
soundcard and converting it here cost ~0.6 % of a core per source, at rest.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import threading
import time
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Literal, Protocol

from rholive.audio import pulse_simple
from rholive.audio.pcm import Resampler
from rholive.audio.pulse_simple import PulseError, SimpleRecorder

Label = Literal["me", "them"]
# How often a capture checks that its device still exists (a device listing costs ~1.5 ms of CPU). A removed
# device usually kills our stream, noticed at once (`_failed`); where the server moves the stream elsewhere
# instead (module-rescue-streams), this check ends it.
PRESENCE_CHECK_S = 2.0


class AudioDeviceError(RuntimeError):
    """A device that is missing, busy or unusable, or no sound server at all. One line, names the device."""


@dataclass(frozen=True)
class AudioDevice:
    index: int  # position in list_devices(), what `--mic 1` refers to
    id: str  # backend id (PulseAudio source name, WASAPI id, ...)
    name: str  # human-readable description
    label: Label  # "me" for microphones, "them" for loopbacks of an output
    channels: int
    default: bool  # the default microphone, or the loopback of the default output

    def describe(self) -> str:
        star = "*" if self.default else " "
        return f"{self.index:>2} {star} {self.label:<4} {self.name}  ({self.id}, {self.channels} ch)"


# --- backend -------------------------------------------------------------------------------------------
_backend_env: tuple[str | None, str | None] | None = None


def soundcard_module() -> ModuleType:
    """Import soundcard, (re)connecting to the sound server when needed.

    soundcard connects to PulseAudio once, at import, and any later call on a dead connection aborts the
    process inside libpulse. So before each use we check the connection and open a new one when the server
    went away or PULSE_SERVER/XDG_RUNTIME_DIR now point elsewhere (tests start one daemon each).
    """
    global _backend_env
    env = (os.environ.get("PULSE_SERVER"), os.environ.get("XDG_RUNTIME_DIR"))
    try:
        import soundcard
    except Exception as exc:  # soundcard asserts at import when no server answers
        raise AudioDeviceError(_no_server(exc)) from None
    pulse = sys.modules.get("soundcard.pulseaudio")
    if pulse is None:  # Windows / macOS backends need no reconnecting
        return soundcard
    if _backend_env is None:
        _backend_env = env
    if env != _backend_env or not _pulse_ready(pulse):
        try:
            pulse._pulse = pulse._PulseAudio()
        except Exception as exc:
            raise AudioDeviceError(_no_server(exc)) from None
        _backend_env = env
    return soundcard


def server_ok() -> bool:
    """False once the PulseAudio connection died (any further soundcard call would abort the process)."""
    pulse = sys.modules.get("soundcard.pulseaudio")
    return pulse is None or _pulse_ready(pulse)


def _pulse_ready(pulse: Any) -> bool:
    conn = pulse._pulse
    return conn._pa_context_get_state(conn.context) == pulse._pa.PA_CONTEXT_READY


def _no_server(exc: BaseException) -> str:
    where = os.environ.get("PULSE_SERVER")
    detail = (
        "" if isinstance(exc, AssertionError) else f": {_why(exc)}"
    )  # soundcard's bare assert says nothing
    target = f" at {where}" if where else ""
    return f"no sound server reachable: could not connect to PulseAudio/PipeWire{target}{detail}"


def _why(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__ or "unknown error"


# --- listing and choosing ------------------------------------------------------------------------------
def list_devices() -> list[AudioDevice]:
    """Microphones (`me`) then loopbacks of outputs (`them`), each with the index `find_device` accepts."""
    sc = soundcard_module()
    try:
        mics = sc.all_microphones(include_loopback=True)
        default_mic = _safe(lambda: sc.default_microphone().id)
        speaker = _safe(sc.default_speaker)
        found = [(m.id, m.name, int(_channel_count(m)), bool(m.isloopback)) for m in mics]
    except Exception as exc:
        raise AudioDeviceError(f"cannot list audio devices: {_why(exc)}") from None
    monitor_id = _monitor_of(speaker, [(i, n) for i, n, _, loop in found if loop])
    devices: list[AudioDevice] = []
    ordered = [f for f in found if not f[3]] + [f for f in found if f[3]]
    for index, (dev_id, name, channels, loop) in enumerate(ordered):
        default = dev_id == (monitor_id if loop else default_mic)
        devices.append(AudioDevice(index, dev_id, name, "them" if loop else "me", channels, default))
    return devices


def _safe(fn: Any) -> Any:
    try:
        return fn()
    except Exception:
        return None


def _channel_count(mic: Any) -> int:
    channels = mic.channels
    return channels if isinstance(channels, int) else len(channels)


def _monitor_of(speaker: Any, loopbacks: list[tuple[str, str]]) -> str | None:
    """The loopback that records the default output: `<sink>.monitor` on PulseAudio, else by name."""
    if speaker is None:
        return None
    for dev_id, _ in loopbacks:
        if dev_id == f"{speaker.id}.monitor" or dev_id == speaker.id:
            return dev_id
    for dev_id, name in loopbacks:
        if speaker.name and speaker.name in name:
            return dev_id
    return None


def describe_devices(devices: list[AudioDevice] | None = None) -> list[str]:
    """Lines for `rholive devices`: inputs (`me` / `them`, with the index `--mic`/`--system` take), then
    outputs (`out`); `*` marks the defaults."""
    devices = list_devices() if devices is None else devices
    lines = [d.describe() for d in devices] or ["no audio input devices found"]
    speakers = _safe(list_speakers) or []
    for spk in speakers:
        star = "*" if spk.default else " "
        lines.append(f"{spk.index:>2} {star} out  {spk.name}  ({spk.id}, {spk.channels} ch)")
    return lines


def find_device(spec: str | int | None = None, label: Label = "me") -> AudioDevice:
    """Pick a device: None → the default for `label`; an int or digits → that index; otherwise an exact id,
    an exact name, or a case-insensitive part of the name or id (it must match exactly one device)."""
    devices = list_devices()
    if spec is None:
        for dev in devices:
            if dev.label == label and dev.default:
                return dev
        same = [d for d in devices if d.label == label]
        if same:
            return same[0]
        what, flag = (
            ("microphone", "--no-mic")
            if label == "me"
            else ("loopback of the default output (system audio)", "--no-system")
        )
        raise AudioDeviceError(f"no {what} found (run with {flag} to go without it); {_available(devices)}")
    text = str(spec).strip()
    if isinstance(spec, int) or text.isdigit():
        index = int(text)
        if 0 <= index < len(devices):
            return devices[index]
        raise AudioDeviceError(f"no audio device with index {index}; {_available(devices)}")
    for dev in devices:
        if text in (dev.id, dev.name) or text.lower() == dev.name.lower():
            return dev
    needle = text.lower()
    matches = [d for d in devices if needle in d.name.lower() or needle in d.id.lower()]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise AudioDeviceError(f"no audio device matches '{text}'; {_available(devices)}")
    names = ", ".join(f"[{d.index}] {d.name}" for d in matches)
    raise AudioDeviceError(f"'{text}' matches several audio devices ({names}); use an index")


@dataclass(frozen=True)
class OutputDevice:
    index: int
    id: str
    name: str
    channels: int
    default: bool


def list_speakers() -> list[OutputDevice]:
    sc = soundcard_module()
    try:
        default_id = _safe(lambda: sc.default_speaker().id)
        return [
            OutputDevice(i, s.id, s.name, int(_channel_count(s)), s.id == default_id)
            for i, s in enumerate(sc.all_speakers())
        ]
    except Exception as exc:
        raise AudioDeviceError(f"cannot list audio outputs: {_why(exc)}") from None


def find_speaker(spec: str | int | None = None) -> OutputDevice:
    """An output: None → the default; an index; an exact id or name; or a unique part of the name or id."""
    speakers = list_speakers()
    available = "available: " + (", ".join(f"[{s.index}] {s.name}" for s in speakers) or "none")
    if spec is None:
        for spk in speakers:
            if spk.default:
                return spk
        if speakers:
            return speakers[0]
        raise AudioDeviceError("no audio output found")
    text = str(spec).strip()
    if isinstance(spec, int) or text.isdigit():
        if 0 <= int(text) < len(speakers):
            return speakers[int(text)]
        raise AudioDeviceError(f"no audio output with index {text}; {available}")
    exact = [s for s in speakers if text in (s.id, s.name)]
    matches = exact or [s for s in speakers if text.lower() in s.name.lower() or text.lower() in s.id.lower()]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise AudioDeviceError(f"no audio output matches '{text}'; {available}")
    raise AudioDeviceError(f"'{text}' matches several audio outputs; use an index; {available}")


def _available(devices: list[AudioDevice]) -> str:
    if not devices:
        return "no audio input devices are available"
    return "available: " + ", ".join(f"[{d.index}] {d.label} {d.name}" for d in devices)


# --- capture ------------------------------------------------------------------------------------------
class Capture:
    """`async for t_ms, pcm in capture:` 16-bit mono chunks of `chunk_ms` at `rate` from one device.

    Opening happens in `start()` (also called by `async with` and by the first iteration) and raises
    AudioDeviceError naming the device when it is missing or busy. The iteration ends, without raising, when
    the device disappears or fails: `end_reason` is then "device_lost", "device_error" or "server_lost" and
    `end_detail` one line naming the device; after `aclose()` `end_reason` is "stopped".
    """

    def __init__(
        self,
        device: AudioDevice,
        *,
        rate: int = 16000,
        chunk_ms: int = 100,
        device_rate: int | None = None,
        presence_check_s: float = PRESENCE_CHECK_S,
    ) -> None:
        """`device_rate` None: the sound server converts to `rate` mono; a number: record at that rate with the
        device's channels and resample here (soxr)."""
        self.device = device
        self.label: Label = device.label
        self.name = device.name
        self.rate = rate
        self.chunk_ms = chunk_ms
        self.device_rate = device_rate
        self.end_reason: str | None = None
        self.end_detail = ""
        self.started_at: float | None = None  # time.monotonic() when the first block arrived
        self._presence_check_s = presence_check_s
        self._queue: asyncio.Queue[tuple[str, Any]] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._finished = False

    def clock_ms(self, t_ms: int) -> float | None:
        """Where stream position `t_ms` falls on `time.monotonic()` in ms (None before the first block): the
        clock `Speaker.on_played` reports on, for the echo guard. Approximate by the device's input latency."""
        if self.started_at is None:
            return None
        return self.started_at * 1000 - self.chunk_ms + t_ms

    async def start(self) -> Capture:
        if self._thread is not None:
            return self
        self._loop = asyncio.get_running_loop()
        self._queue = asyncio.Queue()
        sc = soundcard_module()  # in the loop thread: soundcard's connection must not be replaced mid-capture
        self._thread = threading.Thread(
            target=self._run, args=(sc,), name=f"capture {self.name}", daemon=True
        )
        self._thread.start()
        kind, payload = await self._queue.get()
        if kind == "error":
            self._finished = True
            raise payload
        return self

    def __aiter__(self) -> Capture:
        return self

    async def __anext__(self) -> tuple[int, bytes]:
        if self._thread is None:
            await self.start()
        if self._finished:
            raise StopAsyncIteration
        assert self._queue is not None
        kind, payload = await self._queue.get()
        if kind == "chunk":
            return payload
        self._finished = True
        if self.end_reason is None:
            self.end_reason, self.end_detail = payload
        raise StopAsyncIteration

    async def aclose(self) -> None:
        """Stop capturing and wait (briefly) for the device to be released."""
        if self.end_reason is None:
            self.end_reason = "stopped"
        self._stop.set()
        thread = self._thread
        # After a loss the reader may be stuck on a read that never returns; it leaves on its own.
        if thread is not None and thread.is_alive() and self.end_reason == "stopped":
            await asyncio.to_thread(thread.join, 2.0)
        self._finished = True

    async def __aenter__(self) -> Capture:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # Runs in the capture thread. Only `_post` touches the event loop.
    def _post(self, kind: str, payload: Any) -> None:
        assert self._loop is not None and self._queue is not None
        with contextlib.suppress(RuntimeError):  # the loop is gone: nobody is listening any more
            self._loop.call_soon_threadsafe(self._queue.put_nowait, (kind, payload))

    def _run(self, sc: ModuleType) -> None:
        try:
            reader = self._open(sc)
        except Exception as exc:
            err = AudioDeviceError(f"cannot open audio device '{self.name}' ({self.device.id}): {_why(exc)}")
            self._post("error", err)
            return
        self._post("opened", None)
        # A reader blocked on a vanished device may wait for data that never comes: a watcher ends the
        # stream on its own, and the reader leaves as soon as its read returns.
        watcher = threading.Thread(target=self._watch, args=(sc,), name=f"watch {self.name}", daemon=True)
        watcher.start()
        reason = ("stopped", "")
        try:
            reason = self._pump(reader, sc)
        finally:
            self._stop.set()
            reader.close()
            self._post("end", reason)

    def _open(self, sc: ModuleType) -> _Reader:
        chunk_bytes = self.rate * self.chunk_ms // 1000 * 2
        if self.device_rate is None and "soundcard.pulseaudio" in sys.modules and pulse_simple.available():
            name = f"rholive {self.label}"
            return _PulseReader(
                SimpleRecorder(self.device.id, rate=self.rate, chunk_bytes=chunk_bytes, name=name)
            )
        rate, channels = (
            (self.rate, 1) if self.device_rate is None else (self.device_rate, self.device.channels)
        )
        block = rate * self.chunk_ms // 1000
        mic = sc.get_microphone(self.device.id, include_loopback=True)
        recorder = mic.recorder(samplerate=rate, channels=channels, blocksize=block)
        recorder.__enter__()
        return _SoundcardReader(recorder, block, Resampler(rate, self.rate, channels))

    def _pump(self, reader: _Reader, sc: ModuleType) -> tuple[str, str]:
        chunk_bytes = self.rate * self.chunk_ms // 1000 * 2
        pending = bytearray()
        position = 0  # output samples already handed over
        while not self._stop.is_set():
            try:
                pending += reader.read()
            except Exception as exc:
                return self._failed(exc, sc)
            if self.started_at is None:
                self.started_at = time.monotonic()
            while len(pending) >= chunk_bytes and not self._stop.is_set():
                self._post("chunk", (position * 1000 // self.rate, bytes(pending[:chunk_bytes])))
                del pending[:chunk_bytes]
                position += chunk_bytes // 2
        return "stopped", ""

    def _failed(self, exc: Exception, sc: ModuleType) -> tuple[str, str]:
        """Why a read failed: the server or the device gone (what the watcher would say), else the error."""
        if isinstance(exc, PulseError) and exc.code == pulse_simple.PA_ERR_CONNECTIONTERMINATED:
            return "server_lost", f"the sound server went away while capturing '{self.name}'"
        if isinstance(exc, PulseError) and exc.code == pulse_simple.PA_ERR_KILLED:
            lost = self._lost(sc)  # our stream was killed: most likely its device was removed
            if lost is not None:
                return lost
        return "device_error", f"audio device '{self.name}' failed: {_why(exc)}"

    def _watch(self, sc: ModuleType) -> None:
        while not self._stop.wait(self._presence_check_s):
            lost = self._lost(sc)
            if lost is not None:
                self._post("end", lost)  # the consumer stops at the first "end" it sees
                self._stop.set()
                return

    def _lost(self, sc: ModuleType) -> tuple[str, str] | None:
        """PulseAudio moves a stream to another device when its device vanishes; we end instead."""
        if not server_ok():
            return "server_lost", f"the sound server went away while capturing '{self.name}'"
        try:
            ids = {m.id for m in sc.all_microphones(include_loopback=True)}
        except Exception:
            return None  # a failed listing is not proof of loss; the next read will tell
        if self.device.id not in ids:
            return "device_lost", f"audio device '{self.name}' ({self.device.id}) disappeared"
        return None


class _Reader(Protocol):
    def read(self) -> bytes: ...  # 16 kHz mono s16le, any whole number of samples

    def close(self) -> None: ...


class _PulseReader:
    def __init__(self, recorder: SimpleRecorder) -> None:
        self.recorder = recorder

    def read(self) -> bytes:
        return self.recorder.read()

    def close(self) -> None:
        self.recorder.close()  # its own connection: safe even after the server went away


class _SoundcardReader:
    """soundcard's recorder (Windows, macOS, or a rate asked for explicitly), converted here with soxr."""

    def __init__(self, recorder: Any, block: int, resampler: Resampler) -> None:
        self.recorder, self.block, self.resampler = recorder, block, resampler

    def read(self) -> bytes:
        return self.resampler.process(self.recorder.record(numframes=self.block))

    def close(self) -> None:
        if server_ok():  # touching a stream of a dead connection aborts inside libpulse
            with contextlib.suppress(Exception):
                self.recorder.__exit__(None, None, None)


def capture(
    device: AudioDevice | str | int | None = None,
    *,
    label: Label = "me",
    rate: int = 16000,
    chunk_ms: int = 100,
    device_rate: int | None = None,
) -> Capture:
    """A `Capture` of `device` (an AudioDevice, index, name/id or None for the default of `label`).

    Lookup errors raise AudioDeviceError here; opening errors when the capture starts.
    """
    dev = device if isinstance(device, AudioDevice) else find_device(device, label)
    return Capture(dev, rate=rate, chunk_ms=chunk_ms, device_rate=device_rate)
