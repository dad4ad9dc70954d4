"""Compressed audio in and out with PyAV: decode anything FFmpeg reads to mono s16le, encode voice notes.

Decoding mixes down and resamples with soxr (through `pcm.Resampler`), so files and devices share one path.
Encoding produces what Telegram accepts as a voice note: an OGG container holding one mono Opus stream at
48 kHz.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from rholive.audio.pcm import Resampler, resample

OPUS_RATE = 48000  # Opus always runs at 48 kHz; Telegram expects it so


# Telephone audio is 8 kHz and studio audio 384 kHz at most; a header outside this is corrupt (1 Hz made the
# resampler allocate and spin without end).
MIN_SOURCE_RATE = 4000
MAX_SOURCE_RATE = 384_000


class AudioDecodeError(ValueError):
    """A file or buffer that cannot be decoded as audio: corrupt, empty or unsupported. One line, names it."""


def _describe(source: str | Path | bytes) -> str:
    if isinstance(source, bytes | bytearray | memoryview):
        return f"audio data ({len(source)} bytes)"
    return f"'{source}'"


def _open(source: str | Path | bytes) -> av.container.InputContainer:
    name = _describe(source)
    if isinstance(source, bytes | bytearray | memoryview):
        if len(source) == 0:
            raise AudioDecodeError(f"{name}: empty, nothing to decode")
        target: str | io.BytesIO = io.BytesIO(bytes(source))
    else:
        path = Path(source)
        if path.is_dir():
            raise AudioDecodeError(f"{name}: is a directory, not an audio file")
        if not path.is_file():
            raise AudioDecodeError(f"{name}: no such file")
        if path.stat().st_size == 0:
            raise AudioDecodeError(f"{name}: empty file, nothing to decode")
        target = str(path)
    try:
        container = av.open(target, mode="r")
    except av.FFmpegError as exc:
        raise AudioDecodeError(f"{name}: not a readable audio file ({_reason(exc)})") from None
    if not container.streams.audio:
        container.close()
        raise AudioDecodeError(f"{name}: unsupported, it holds no audio stream")
    rate = container.streams.audio[0].rate
    if rate and not MIN_SOURCE_RATE <= rate <= MAX_SOURCE_RATE:
        container.close()
        raise AudioDecodeError(f"{name}: its header says {rate} Hz, not a real audio sample rate")
    return container


def _reason(exc: BaseException) -> str:
    # FFmpeg errors repeat the file name and errno; the strerror part is the useful bit.
    return getattr(exc, "strerror", None) or str(exc) or type(exc).__name__


def _frame_to_float(frame: av.AudioFrame) -> np.ndarray:
    """One decoded frame → float32 samples shaped (n, channels) in [-1, 1]."""
    data = frame.to_ndarray()
    channels = len(frame.layout.channels)
    if frame.format.is_planar:
        frames = data.T  # (channels, n) → (n, channels)
    else:
        frames = data.reshape(-1, channels)  # packed: (1, n*channels)
    if np.issubdtype(frames.dtype, np.integer):
        info = np.iinfo(frames.dtype)
        if info.min == 0:  # unsigned 8-bit PCM is offset by half the range
            return (frames.astype(np.float32) - 128.0) / 128.0
        return frames.astype(np.float32) / float(-info.min)
    return frames.astype(np.float32, copy=False)


def iter_decode_pcm16(source: str | Path | bytes, rate: int = 16000, chunk_ms: int = 100) -> Iterator[bytes]:
    """Decode the first audio stream to mono s16le at `rate`, in chunks of `chunk_ms` (the last may be shorter).

    Raises AudioDecodeError naming the source if it cannot be opened, is corrupt part-way, or holds no audio.
    """
    if chunk_ms <= 0:
        raise ValueError(f"chunk_ms must be positive, got {chunk_ms}")
    name = _describe(source)
    chunk_bytes = rate * chunk_ms // 1000 * 2
    container = _open(source)
    try:
        stream = container.streams.audio[0]
        resampler: Resampler | None = None
        pending = bytearray()
        produced = 0
        try:
            for frame in container.decode(stream):
                if not MIN_SOURCE_RATE <= frame.sample_rate <= MAX_SOURCE_RATE:  # a header change mid-stream
                    raise AudioDecodeError(f"{name}: {frame.sample_rate} Hz part-way, not a real sample rate")
                frames = _frame_to_float(frame)
                spec = (frame.sample_rate, frames.shape[1])
                if resampler is None or (resampler.src_rate, resampler.channels) != spec:
                    # A format change mid-stream (chained OGG) restarts the filter after draining it.
                    if resampler is not None:
                        pending += resampler.flush()
                    resampler = Resampler(spec[0], rate, spec[1])
                pending += resampler.process(frames)
                while len(pending) >= chunk_bytes:
                    produced += chunk_bytes
                    yield bytes(pending[:chunk_bytes])
                    del pending[:chunk_bytes]
        except av.FFmpegError as exc:
            raise AudioDecodeError(f"{name}: corrupt audio ({_reason(exc)})") from None
        if resampler is not None:
            pending += resampler.flush()
        if produced + len(pending) == 0:
            raise AudioDecodeError(f"{name}: holds no audio samples")
        for start in range(0, len(pending), chunk_bytes):
            yield bytes(pending[start : start + chunk_bytes])
    finally:
        container.close()


def decode_pcm16(source: str | Path | bytes, rate: int = 16000) -> bytes:
    """Decode a whole file or buffer to mono s16le at `rate`."""
    return b"".join(iter_decode_pcm16(source, rate=rate, chunk_ms=1000))


def encode_ogg_opus(pcm: bytes, rate: int = 24000, bitrate: int = 32000) -> bytes:
    """Mono s16le at `rate` → an OGG/Opus voice note (mono, 48 kHz), as Telegram's sendVoice wants it."""
    if len(pcm) % 2:
        raise ValueError(f"PCM must hold whole 16-bit samples, got {len(pcm)} bytes")
    samples = np.frombuffer(resample(pcm, rate, OPUS_RATE), dtype="<i2")
    if samples.size == 0:
        # An empty reply still makes a playable note: one Opus frame (20 ms) of silence.
        samples = np.zeros(OPUS_RATE // 50, dtype="<i2")
    out = io.BytesIO()
    with av.open(out, mode="w", format="ogg") as container:
        stream = container.add_stream("libopus", rate=OPUS_RATE, layout="mono")
        stream.bit_rate = bitrate
        stream.codec_context.options = {"application": "voip"}  # tuned for speech
        frame_len = OPUS_RATE // 50
        for start in range(0, samples.size, frame_len):
            block = samples[start : start + frame_len]
            frame = av.AudioFrame.from_ndarray(block.reshape(1, -1), format="s16", layout="mono")
            frame.sample_rate = OPUS_RATE
            frame.pts = start
            frame.time_base = Fraction(1, OPUS_RATE)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return out.getvalue()


def duration_s(pcm: bytes, rate: int) -> float:
    """Duration of mono s16le `pcm` at `rate`, in seconds."""
    return len(pcm) / 2 / rate
