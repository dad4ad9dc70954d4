"""16-bit mono PCM helpers: resampling (soxr), float→int16 conversion, levels.

Everything inside rholive carries audio as little-endian signed 16-bit mono `bytes`; these helpers are the
only place where rates and channel counts get normalised.
"""

from __future__ import annotations

import math

import numpy as np
import soxr

# Digital silence has no finite level; a fixed floor keeps arithmetic on levels (differences, averages) finite.
SILENCE_DBFS = -120.0
_INT16 = np.dtype("<i2")


def _check_pcm(pcm: bytes) -> np.ndarray:
    if len(pcm) % 2:
        raise ValueError(f"PCM must hold whole 16-bit samples, got {len(pcm)} bytes")
    return np.frombuffer(pcm, dtype=_INT16)


def resample(pcm: bytes, src_rate: int, dst_rate: int) -> bytes:
    """Resample a whole mono s16le buffer from `src_rate` to `dst_rate` (soxr, high quality)."""
    samples = _check_pcm(pcm)
    if src_rate == dst_rate or samples.size == 0:
        return bytes(pcm)
    out = soxr.resample(samples, src_rate, dst_rate, quality="HQ")
    return np.ascontiguousarray(out, dtype=_INT16).tobytes()


def downmix(frames: np.ndarray) -> np.ndarray:
    """(n,) or (n, channels) samples → (n,) float32 mono (channel mean)."""
    arr = np.asarray(frames)
    if arr.ndim == 2:
        arr = arr.mean(axis=1) if arr.shape[1] > 1 else arr[:, 0]
    elif arr.ndim != 1:
        raise ValueError(f"expected (n,) or (n, channels) samples, got shape {arr.shape}")
    return arr.astype(np.float32, copy=False)


def to_mono_int16(float_frames: np.ndarray) -> bytes:
    """Float samples in [-1, 1], shaped (n,) or (n, channels), → mono s16le bytes (clipped)."""
    mono = downmix(float_frames)
    scaled = np.clip(mono * 32767.0, -32768.0, 32767.0)
    return np.rint(scaled).astype(_INT16).tobytes()


def int16_to_float(pcm: bytes) -> np.ndarray:
    """Mono s16le bytes → float32 samples in [-1, 1)."""
    return _check_pcm(pcm).astype(np.float32) / 32768.0


def rms_dbfs(pcm: bytes) -> float:
    """RMS level in dB relative to full scale; digital silence (or no samples) gives SILENCE_DBFS."""
    samples = _check_pcm(pcm)
    if samples.size == 0:
        return SILENCE_DBFS
    rms = math.sqrt(float(np.mean(np.square(samples, dtype=np.float64))))
    if rms <= 0.0:
        return SILENCE_DBFS
    return max(SILENCE_DBFS, 20.0 * math.log10(rms / 32768.0))


class Resampler:
    """Streaming resampler: device or decoder blocks in, mono s16le at `dst_rate` out.

    Input blocks are float32 samples shaped (n, channels) or (n,) in [-1, 1], or interleaved s16le `bytes`
    with `channels` channels. Channels are mixed down before resampling (a mono stream is a third of the
    work of a stereo one). soxr keeps its filter state between calls, so block edges leave no clicks.
    """

    def __init__(self, src_rate: int, dst_rate: int, channels: int = 1) -> None:
        if src_rate <= 0 or dst_rate <= 0 or channels <= 0:
            raise ValueError(f"bad resampler spec: {src_rate} Hz → {dst_rate} Hz, {channels} channel(s)")
        self.src_rate = src_rate
        self.dst_rate = dst_rate
        self.channels = channels
        self._stream = (
            None if src_rate == dst_rate else soxr.ResampleStream(src_rate, dst_rate, 1, dtype="float32")
        )

    def _as_float_mono(self, block: np.ndarray | bytes) -> np.ndarray:
        if isinstance(block, bytes | bytearray | memoryview):
            samples = _check_pcm(bytes(block))
            if samples.size % self.channels:
                raise ValueError(f"{samples.size} samples do not split into {self.channels} channels")
            frames = samples.reshape(-1, self.channels).astype(np.float32) / 32768.0
            return downmix(frames)
        arr = np.asarray(block)
        if arr.ndim == 2 and arr.shape[1] != self.channels:
            raise ValueError(f"expected {self.channels} channel(s), got {arr.shape[1]}")
        return downmix(arr)

    def process(self, block: np.ndarray | bytes, last: bool = False) -> bytes:
        """Feed one block; returns the mono s16le output available so far (may be empty)."""
        mono = np.ascontiguousarray(self._as_float_mono(block), dtype=np.float32)
        if self._stream is None:
            return to_mono_int16(mono)
        return to_mono_int16(self._stream.resample_chunk(mono, last=last))

    def flush(self) -> bytes:
        """End of stream: returns the samples still held in the filter."""
        return self.process(np.zeros(0, dtype=np.float32), last=True)

    def reset(self) -> None:
        """Drop the filter state (after a flush or a discontinuity such as a barge-in)."""
        if self._stream is not None:
            self._stream.clear()
