"""PlaybackBuffer: prebuffer, underruns, end of reply, flush; order and completeness as a property."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rholive.audio.playback import PlaybackBuffer

RATE = 24000
MS = RATE // 1000 * 2  # bytes per millisecond


def audio(ms: int, value: int = 1) -> bytes:
    return value.to_bytes(2, "little", signed=True) * (ms * MS // 2)


def test_starts_only_after_the_prebuffer() -> None:
    buf = PlaybackBuffer(RATE, chunk_ms=20, prebuffer_ms=80)
    assert buf.pull() is None and buf.state == "idle"
    buf.push(audio(60))
    assert buf.pull() is None and buf.state == "buffering"
    buf.push(audio(20))
    chunk = buf.pull()
    assert chunk is not None and len(chunk) == 20 * MS
    assert buf.state == "playing" and buf.queued_ms == pytest.approx(60)


def test_short_reply_plays_at_once_when_complete() -> None:
    buf = PlaybackBuffer(RATE, chunk_ms=20, prebuffer_ms=80)
    buf.push(audio(30, value=7))
    buf.end_of_reply()
    first, tail = buf.pull(), buf.pull()
    assert first == audio(20, value=7)
    assert tail == audio(10, value=7) + bytes(10 * MS)  # padded to a whole chunk
    assert buf.pull() is None and buf.state == "idle"
    assert buf.stats.underruns == 0
    assert buf.stats.played_ms == pytest.approx(30)


def test_underrun_is_counted_and_rebuffers() -> None:
    buf = PlaybackBuffer(RATE, chunk_ms=20, prebuffer_ms=80)
    buf.push(audio(100))
    assert all(buf.pull() is not None for _ in range(5))
    assert buf.pull() is None  # network late: dry mid-reply
    assert buf.stats.underruns == 1 and buf.state == "buffering"
    buf.push(audio(40))
    assert buf.pull() is None  # waits for the prebuffer again instead of stuttering
    buf.push(audio(40))
    assert buf.pull() is not None
    assert buf.stats.underruns == 1


def test_flush_empties_the_queue_within_one_chunk() -> None:
    buf = PlaybackBuffer(RATE, chunk_ms=20, prebuffer_ms=80)
    buf.push(audio(2000))
    for _ in range(3):
        assert buf.pull() is not None
    dropped = buf.flush()
    assert dropped == pytest.approx(2000 - 60)
    assert buf.pull() is None and buf.queued_ms == 0 and buf.state == "idle"
    assert buf.stats.flushes == 1 and buf.stats.flushed_ms == pytest.approx(1940)
    buf.push(audio(100, value=3))  # the next reply starts clean
    assert buf.pull() == audio(20, value=3)


def test_end_marker_is_cleared_by_new_audio() -> None:
    buf = PlaybackBuffer(RATE, chunk_ms=20, prebuffer_ms=80)
    buf.push(audio(20))
    buf.end_of_reply()
    buf.push(audio(20))  # a next reply arrived before the first played: wait for the prebuffer again
    assert buf.pull() is None


def test_rejects_odd_bytes() -> None:
    with pytest.raises(ValueError, match="16-bit"):
        PlaybackBuffer().push(b"\0")


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.integers(1, 400), st.just(0), st.just(-1)), max_size=60))
def test_every_pushed_sample_plays_once_in_order(ops: list[int]) -> None:
    """ops: n>0 push n samples, 0 pull, -1 end of reply; then the reply ends and everything drains."""
    buf = PlaybackBuffer(RATE, chunk_ms=20, prebuffer_ms=80)
    pushed, played = bytearray(), bytearray()
    counter = 0
    for op in ops:
        if op > 0:
            data = b"".join(((counter + i) % 30000 + 1).to_bytes(2, "little") for i in range(op))
            counter += op
            buf.push(data)
            pushed += data
        elif op == 0:
            played += buf.pull() or b""
        else:
            buf.end_of_reply()
    buf.end_of_reply()
    for _ in range(len(pushed) // buf.chunk_bytes + 2):
        played += buf.pull() or b""
    assert buf.state == "idle" and buf.queued_ms == 0
    samples = np.frombuffer(bytes(played), dtype="<u2")
    # every sample exactly once, in order; the zero samples are the silence padding a reply's last chunk
    assert samples[samples != 0].tobytes() == bytes(pushed)
    assert len(played) % buf.chunk_bytes == 0
