"""`--turns server`: stream audio continuously, let the server's VAD find the turns.

A pure gate like the segmenter: audio frames with their stream positions in, decisions out.
Audio goes out in ~100 ms chunks as it comes. When capture pauses (no audio for more than
`pause_ms`: a muted or unplugged microphone, a paused file) the gate says `StreamEnd` once, so
the runtime sends `audioStreamEnd` and the server flushes what it holds instead of waiting for
more; the next audio simply resumes the stream. The runtime reports the passing of time with
`tick(t_ms)` (stream time now), since a pause is precisely when no frame arrives to say so.
"""

from __future__ import annotations

from dataclasses import dataclass

from rholive.audio.segmenter import SendAudio

SPM = 16  # samples per ms at 16 kHz


@dataclass(frozen=True)
class StreamEnd:
    t_ms: float  # stream position at which the pause was noticed


StreamDecision = SendAudio | StreamEnd


class StreamGate:
    def __init__(self, pause_ms: float = 1000.0, chunk_ms: float = 100.0):
        if pause_ms <= 0 or chunk_ms <= 0:
            raise ValueError("pause_ms and chunk_ms must be positive")
        self.pause_ms = pause_ms
        self._chunk_bytes = int(chunk_ms * SPM) * 2
        self._buf = bytearray()
        self._buf_t: float | None = None  # stream position of the first buffered sample
        self._heard_until: float | None = None  # end of the last audio received
        self._ended = True  # nothing streamed yet: no StreamEnd is due

    def push(self, pcm: bytes, t_ms: float) -> list[StreamDecision]:
        if len(pcm) % 2:
            raise ValueError("PCM must be whole 16-bit samples (odd byte count)")
        out: list[StreamDecision] = []
        if self._heard_until is not None:
            if t_ms < self._heard_until - 1.0:
                raise ValueError(f"t_ms went backwards: {t_ms} < {self._heard_until}")
            if t_ms - self._heard_until > self.pause_ms:
                out += self._end(self._heard_until + self.pause_ms)
            elif t_ms - self._heard_until > 1.0:
                out += self._flush()  # a short gap: keep chunks contiguous in time
        if not pcm:
            return out
        if self._buf_t is None:
            self._buf_t = t_ms
        self._buf += pcm
        self._heard_until = t_ms + len(pcm) / 2 / SPM
        self._ended = False
        while len(self._buf) >= self._chunk_bytes:
            chunk = bytes(self._buf[: self._chunk_bytes])
            del self._buf[: self._chunk_bytes]
            out.append(SendAudio(chunk, self._buf_t))
            self._buf_t += len(chunk) / 2 / SPM
        if not self._buf:
            self._buf_t = None
        return out

    def tick(self, t_ms: float) -> list[StreamDecision]:
        """Time has reached stream position `t_ms`; ends the stream once after a long pause."""
        if self._heard_until is None or self._ended or t_ms - self._heard_until <= self.pause_ms:
            return []
        return self._end(t_ms)

    def finish(self, t_ms: float | None = None) -> list[StreamDecision]:
        """The source ended: send what is buffered and end the stream."""
        if self._ended:
            return []
        return self._end(self._heard_until if t_ms is None else t_ms)

    def _flush(self) -> list[StreamDecision]:
        if not self._buf or self._buf_t is None:
            return []
        out = [SendAudio(bytes(self._buf), self._buf_t)]
        self._buf.clear()
        self._buf_t = None
        return out

    def _end(self, t_ms: float | None) -> list[StreamDecision]:
        out = self._flush()
        if not self._ended:
            out.append(StreamEnd(t_ms if t_ms is not None else 0.0))
            self._ended = True
        return out
