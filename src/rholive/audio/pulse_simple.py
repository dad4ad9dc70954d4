"""Recording from PulseAudio (or PipeWire's pulse server) through libpulse-simple, via ctypes.

Why not soundcard's recorder: it pulls float32 blocks through Python callbacks, cffi calls under the mainloop
lock, numpy concatenations and splits, ~0.5 % of a core per source while nothing happens. `pa_simple_read`
blocks in C (ctypes releases the GIL) until a whole 100 ms chunk is there, already 16 kHz mono s16le (the
server converts): one call per chunk. Listing devices and noticing a lost device still go through soundcard.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from functools import cache

PA_SAMPLE_S16LE = 3
PA_STREAM_RECORD = 2
PA_ERR_CONNECTIONTERMINATED = 11
PA_ERR_KILLED = 12
_UNSET = 0xFFFFFFFF  # (uint32_t) -1: "the server's default" in pa_buffer_attr


class PulseError(RuntimeError):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


class _SampleSpec(ctypes.Structure):
    _fields_ = [("format", ctypes.c_int), ("rate", ctypes.c_uint32), ("channels", ctypes.c_uint8)]


class _BufferAttr(ctypes.Structure):
    _fields_ = [(name, ctypes.c_uint32) for name in ("maxlength", "tlength", "prebuf", "minreq", "fragsize")]


@cache
def _libraries() -> tuple[ctypes.CDLL, ctypes.CDLL] | None:
    simple_name = ctypes.util.find_library("pulse-simple") or "libpulse-simple.so.0"
    pulse_name = ctypes.util.find_library("pulse") or "libpulse.so.0"
    try:
        simple, pulse = ctypes.CDLL(simple_name), ctypes.CDLL(pulse_name)
    except OSError:
        return None
    simple.pa_simple_new.restype = ctypes.c_void_p
    simple.pa_simple_new.argtypes = [
        ctypes.c_char_p,  # server (None: $PULSE_SERVER or the default)
        ctypes.c_char_p,  # client name
        ctypes.c_int,  # direction
        ctypes.c_char_p,  # device (source name)
        ctypes.c_char_p,  # stream name
        ctypes.POINTER(_SampleSpec),
        ctypes.c_void_p,  # channel map (None: the default for the channel count)
        ctypes.POINTER(_BufferAttr),
        ctypes.POINTER(ctypes.c_int),  # error
    ]
    simple.pa_simple_read.restype = ctypes.c_int
    simple.pa_simple_read.argtypes = [
        ctypes.c_void_p,
        ctypes.c_void_p,
        ctypes.c_size_t,
        ctypes.POINTER(ctypes.c_int),
    ]
    simple.pa_simple_free.restype = None
    simple.pa_simple_free.argtypes = [ctypes.c_void_p]
    pulse.pa_strerror.restype = ctypes.c_char_p
    pulse.pa_strerror.argtypes = [ctypes.c_int]
    return simple, pulse


def available() -> bool:
    return _libraries() is not None


def _error(pulse: ctypes.CDLL, code: int) -> PulseError:
    text = pulse.pa_strerror(code)
    return PulseError(code, text.decode(errors="replace") if text else f"PulseAudio error {code}")


class SimpleRecorder:
    """One record stream from `source` (a PulseAudio source name): `read()` returns `chunk_bytes` of s16le
    mono at `rate`. Raises PulseError (with the server's reason) on open and on a failed read."""

    def __init__(self, source: str, *, rate: int, chunk_bytes: int, name: str = "capture") -> None:
        libs = _libraries()
        if libs is None:
            raise PulseError(0, "libpulse-simple is not installed")
        self._simple, self._pulse = libs
        self.chunk_bytes = chunk_bytes
        spec = _SampleSpec(PA_SAMPLE_S16LE, rate, 1)
        # fragsize: the server sends whole chunks, so a read is one wake-up, not several
        attr = _BufferAttr(_UNSET, _UNSET, _UNSET, _UNSET, chunk_bytes)
        error = ctypes.c_int(0)
        handle = self._simple.pa_simple_new(
            None,
            b"rholive",
            PA_STREAM_RECORD,
            source.encode(),
            name.encode(errors="replace"),
            ctypes.byref(spec),
            None,
            ctypes.byref(attr),
            ctypes.byref(error),
        )
        if not handle:
            raise _error(self._pulse, error.value)
        self._handle: int | None = handle
        self._buffer = ctypes.create_string_buffer(chunk_bytes)

    def read(self) -> bytes:
        if self._handle is None:
            raise PulseError(0, "the stream is closed")
        error = ctypes.c_int(0)
        if self._simple.pa_simple_read(self._handle, self._buffer, self.chunk_bytes, ctypes.byref(error)) < 0:
            raise _error(self._pulse, error.value)
        return self._buffer.raw

    def close(self) -> None:
        handle, self._handle = self._handle, None
        if handle is not None:
            self._simple.pa_simple_free(handle)
