"""Pitch trend of the last syllables before a pause (a cheap end-of-turn cue).

Statements end with a fall; a speaker who means to go on tends to hold or raise the pitch.
Computed only when a pause reaches its first model checkpoint, never per frame.
"""

from __future__ import annotations

import numpy as np

RATE = 16000


def pitch_track(x: np.ndarray, frame: int = 640, hop: int = 160, fmin: float = 70.0, fmax: float = 400.0):
    """(times_s, f0_hz) of voiced frames, by normalised autocorrelation; unvoiced frames left out."""
    x = x.astype(np.float64)
    lo, hi = int(RATE / fmax), int(RATE / fmin)
    times, f0s = [], []
    for start in range(0, len(x) - frame + 1, hop):
        f = x[start : start + frame]
        f = f - f.mean()
        energy = float(np.dot(f, f))
        if energy < frame * 100.0**2:  # below about -50 dBFS: not a syllable
            continue
        spec = np.fft.rfft(f, 2 * frame)
        ac = np.fft.irfft(spec * np.conj(spec))[:frame]
        seg = ac[lo:hi]
        lag = int(np.argmax(seg)) + lo
        if ac[lag] / ac[0] < 0.5:  # weak periodicity: unvoiced or noise
            continue
        times.append((start + frame / 2) / RATE)
        f0s.append(RATE / lag)
    return np.array(times), np.array(f0s)


def tail_slope(x: np.ndarray, span_ms: float = 350.0) -> float | None:
    """Slope (semitones per second) of the pitch over the last voiced `span_ms` of `x`.

    None when fewer than four voiced frames were found (whispers, fricative endings, noise).
    """
    t, f0 = pitch_track(x[-int(0.8 * RATE) :])
    if len(t) < 4:
        return None
    keep = t >= t[-1] - span_ms / 1000.0
    t, f0 = t[keep], f0[keep]
    if len(t) < 4:
        return None
    st = 12.0 * np.log2(f0 / np.median(f0))
    # Octave errors of the autocorrelation would dominate a least-squares fit: drop them.
    ok = np.abs(st) < 7.0
    if ok.sum() < 4:
        return None
    slope = np.polyfit(t[ok], st[ok], 1)[0]
    return float(slope)
