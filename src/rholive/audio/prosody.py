"""Pitch trend of the last syllables before a pause (a cheap end-of-turn cue).

Statements end with a fall; a speaker who means to go on tends to hold or raise the pitch.
Computed only when a pause reaches its first model checkpoint, never per frame.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

RATE = 16000


def pitch_track(x: np.ndarray, frame: int = 640, hop: int = 160, fmin: float = 70.0, fmax: float = 400.0):
    """(times_s, f0_hz) of voiced frames, by normalised autocorrelation; unvoiced frames left out.

    All frames at once (one batched FFT): this runs inside a pause, where its CPU time delays
    the close."""
    x = x.astype(np.float64)
    lo, hi = int(RATE / fmax), int(RATE / fmin)
    if len(x) < frame:
        return np.array([]), np.array([])
    frames = np.lib.stride_tricks.sliding_window_view(x, frame)[::hop]
    starts = np.arange(len(frames)) * hop
    frames = frames - frames.mean(axis=1, keepdims=True)
    energy = np.einsum("ij,ij->i", frames, frames)
    loud = energy >= frame * 100.0**2  # below about -50 dBFS: not a syllable
    frames, starts = frames[loud], starts[loud]
    if not len(frames):
        return np.array([]), np.array([])
    spec = np.fft.rfft(frames, 2 * frame, axis=1)
    ac = np.fft.irfft(spec * np.conj(spec), axis=1)[:, :frame]
    lags = np.argmax(ac[:, lo:hi], axis=1) + lo
    peak = ac[np.arange(len(ac)), lags] / ac[:, 0]
    voiced = peak >= 0.5  # weak periodicity: unvoiced or noise
    times = (starts[voiced] + frame / 2) / RATE
    return times, RATE / lags[voiced]


@dataclass(frozen=True)
class EndCues:
    """How the speech before a pause ended, in semitones relative to the speaker's own pitch."""

    level: float | None  # last syllables' pitch minus the turn's median pitch (finished: low)
    slope: float | None  # pitch slope over the last ~350 ms, semitones per second (finished: falling)


def end_cues(x: np.ndarray, span_ms: float = 350.0) -> EndCues:
    """Pitch cues of the turn audio `x` (int16, 16 kHz, ending where the pause began)."""
    t, f0 = pitch_track(x[-4 * RATE :])
    if len(t) < 6:
        return EndCues(None, None)
    st = 12.0 * np.log2(f0 / np.median(f0))
    ok = np.abs(st) < 8.0  # drop octave errors of the autocorrelation
    t, st = t[ok], st[ok]
    if len(t) < 6:
        return EndCues(None, None)
    level = float(np.median(st[-3:]))
    keep = t >= t[-1] - span_ms / 1000.0
    slope = float(np.polyfit(t[keep], st[keep], 1)[0]) if keep.sum() >= 4 else None
    return EndCues(level, slope)
