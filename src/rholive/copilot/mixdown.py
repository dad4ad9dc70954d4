"""Several 16 kHz mono sources (`me`, `them`) mixed into one stream, for `--turns server` (one audio stream,
the server's VAD finds the turns). A pure gate: frames with their stream positions in, mixed frames out.

Each source's frames are placed at their position (`t_ms`, the capture's own clock; captures started together
share it closely enough). Mixed audio is released up to where every live source has delivered, so nothing of
a slower source is left out; a source that lags more than `max_lag_ms` behind the others no longer holds the
mix back (its range counts as silence, and its late samples are dropped and counted). A source that ended is
`remove`d. Samples are summed and clipped to 16 bits.
"""

from __future__ import annotations

import numpy as np

SPM = 16  # samples per ms at 16 kHz


class Mixdown:
    def __init__(self, labels: list[str], max_lag_ms: float = 500.0) -> None:
        if not labels:
            raise ValueError("nothing to mix")
        self.max_lag_ms = max_lag_ms
        self._pos: int | None = None  # sample index of the next mixed sample
        self._bufs: dict[str, np.ndarray] = {label: np.zeros(0, np.int32) for label in labels}
        self._starts: dict[str, int] = {}  # sample index of each buffer's first sample
        self._live = set(labels)  # sources that hold the mix back until they delivered
        self.dropped_samples: dict[str, int] = dict.fromkeys(labels, 0)

    def push(self, label: str, t_ms: float, pcm: bytes) -> list[tuple[float, bytes]]:
        if label not in self._live:
            raise ValueError(f"unknown or removed source {label!r}")
        if len(pcm) % 2:
            raise ValueError("PCM must be whole 16-bit samples (odd byte count)")
        at = round(t_ms * SPM)
        samples = np.frombuffer(pcm, "<i2").astype(np.int32)
        if self._pos is not None and at < self._pos:  # late: the mix already went past this
            cut = min(self._pos - at, len(samples))
            self.dropped_samples[label] += cut
            samples, at = samples[cut:], at + cut
        buf = self._bufs[label]
        start = self._starts.get(label, at)
        end = start + len(buf)
        if not len(buf):
            start = end = at
        if at > end:  # a gap in this source: silence
            buf = np.concatenate([buf, np.zeros(at - end, np.int32)])
        elif at < end:  # overlap with what we hold (clock jitter): keep what we had
            samples = samples[end - at :]
        self._bufs[label] = np.concatenate([buf, samples])
        self._starts[label] = start
        return self._release()

    def remove(self, label: str) -> list[tuple[float, bytes]]:
        """The source ended: it no longer holds the mix back; what it holds is still mixed in."""
        self._live.discard(label)
        return self._release()

    def _end(self, label: str, pos: int) -> int:
        start = self._starts.get(label)
        return pos if start is None else start + len(self._bufs[label])

    def _release(self) -> list[tuple[float, bytes]]:
        if self._pos is None and not self._starts:
            return []
        # Until the first release, the mix starts at the earliest sample any source delivered.
        pos = self._pos if self._pos is not None else min(self._starts.values())
        live = [self._end(label, pos) for label in self._live]
        if live:  # up to where every live source has delivered, unless one lags too far
            until = max(min(live), max(live) - round(self.max_lag_ms * SPM))
        else:  # every source ended: all that is held
            until = max((self._end(label, pos) for label in self._bufs), default=pos)
        if until <= pos:
            return []
        total = np.zeros(until - pos, np.int32)
        for label in list(self._bufs):
            buf, start = self._bufs[label], self._starts.get(label)
            if start is not None:
                lo, hi = max(start, pos), min(start + len(buf), until)
                if hi > lo:
                    total[lo - pos : hi - pos] += buf[lo - start : hi - start]
                if start + len(buf) <= until:
                    buf, start = buf[:0], until
                elif start < until:
                    buf, start = buf[until - start :], until
                self._bufs[label], self._starts[label] = buf, start
            if label not in self._live and not len(self._bufs[label]):
                del self._bufs[label]  # ended and fully mixed
                self._starts.pop(label, None)
        self._pos = until
        return [(pos / SPM, np.clip(total, -32768, 32767).astype("<i2").tobytes())]
