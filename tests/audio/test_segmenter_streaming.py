"""The `--turns server` gate: continuous 100 ms chunks, one StreamEnd per capture pause."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rholive.audio.segmenter import SendAudio
from rholive.audio.streaming import StreamEnd, StreamGate

MS = 32  # bytes per ms of 16 kHz s16le


def test_audio_goes_out_in_100_ms_chunks_with_their_positions():
    g = StreamGate()
    out = []
    for k in range(25):  # 25 frames of 20 ms
        out += g.push(b"\x01\x00" * 320, k * 20.0)
    assert [d.t_ms for d in out] == [0.0, 100.0, 200.0, 300.0, 400.0]
    assert all(isinstance(d, SendAudio) and len(d.pcm) == 100 * MS for d in out)
    assert g.finish() == [StreamEnd(500.0)]


def test_a_capture_pause_over_a_second_ends_the_stream_once_and_audio_resumes_it():
    g = StreamGate(pause_ms=1000)
    out = g.push(b"\0\0" * 800, 0.0)  # 50 ms: stays buffered
    assert out == []
    assert g.tick(1000.0) == []  # 950 ms without audio: not yet
    out = g.tick(1051.0)
    assert out == [SendAudio(b"\0\0" * 800, 0.0), StreamEnd(1051.0)]
    assert g.tick(3000.0) == []  # only once
    out = g.push(b"\0\0" * 1600, 3000.0)
    assert out == [SendAudio(b"\0\0" * 1600, 3000.0)]
    assert g.tick(3500.0) == []


def test_a_gap_seen_only_by_the_next_frame_still_ends_the_stream_before_it():
    g = StreamGate(pause_ms=1000)
    g.push(b"\0\0" * 1600, 0.0)
    out = g.push(b"\0\0" * 1600, 5000.0)
    assert out == [StreamEnd(1100.0), SendAudio(b"\0\0" * 1600, 5000.0)]


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="odd"):
        StreamGate().push(b"\0", 0.0)
    g = StreamGate()
    g.push(b"\0\0" * 160, 100.0)
    with pytest.raises(ValueError, match="backwards"):
        g.push(b"\0\0" * 160, 0.0)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 4000), st.integers(0, 2500)), min_size=1, max_size=30))
def test_every_sample_is_sent_once_in_order_and_ends_follow_pauses(frames):
    g = StreamGate(pause_ms=1000)
    t = 0.0
    sent = bytearray()
    total = bytearray()
    out = []
    for n, gap in frames:
        t += gap
        out += g.tick(t)
        pcm = bytes([len(total) % 251, 0]) * n
        out += g.push(pcm, t)
        total += pcm
        t += n / 16
    out += g.finish()
    last_end = -1.0
    for d in out:
        if isinstance(d, SendAudio):
            assert d.t_ms >= last_end
            last_end = d.end_ms
            sent += d.pcm
    assert bytes(sent) == bytes(total)
    ends = [i for i, d in enumerate(out) if isinstance(d, StreamEnd)]
    assert (ends and ends[-1] == len(out) - 1) or not total
    assert all(not isinstance(out[i + 1], StreamEnd) for i in ends if i + 1 < len(out))
