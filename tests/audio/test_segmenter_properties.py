"""Property tests of the segmenter's bookkeeping on random signals cut into random frames.

The VAD and the turn model are the gate's inputs, so here they are small deterministic stand-ins
(loudness decides "speech"; the turn score is a hash of the audio): what is under test is the
gate — turns open and close in order, audio is exact and contiguous, nothing follows a close.
"""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rholive.audio.endpointing import AdaptivePolicy, OneShotPolicy, SilencePolicy
from rholive.audio.segmenter import Decision, Segmenter, SegmenterConfig, SendAudio, TurnClose, TurnOpen

SPM = 16


class LoudVad:
    """Speech probability from loudness, on 160-sample windows (not the 512 of Silero)."""

    window = 160

    def reset(self) -> None:
        pass

    def after_silence(self) -> None:
        pass

    def __call__(self, samples: np.ndarray) -> float:
        return 0.9 if float(np.abs(samples.astype(np.int32)).mean()) > 500 else 0.05


def hashed_turn_model(samples: np.ndarray) -> float:
    return (int(np.abs(samples[-800:].astype(np.int64)).sum()) % 101) / 100.0


signals = st.lists(
    st.tuples(st.booleans(), st.integers(1, 12000)),  # (loud?, samples)
    min_size=1,
    max_size=14,
)
policies = st.one_of(
    st.builds(SilencePolicy, st.floats(50, 1200)),
    st.builds(OneShotPolicy, st.floats(30, 400), st.floats(0, 1), st.floats(400, 3000)),
    st.just(AdaptivePolicy()),
)
configs = st.builds(
    SegmenterConfig,
    open_ms=st.floats(10, 400),
    open_dips=st.integers(0, 2),
    resume_ms=st.floats(10, 200),
    preroll_ms=st.floats(0, 800),
    chunk_ms=st.floats(10, 300),
    max_turn_ms=st.floats(500, 6000),
    policy=policies,
)


def make_signal(parts: list[tuple[bool, int]], seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    out = []
    for loud, n in parts:
        amp = 4000 if loud else 50
        out.append((rng.standard_normal(n) * amp).clip(-32768, 32767).astype(np.int16))
    return np.concatenate(out)


def run(cfg: SegmenterConfig, pcm: np.ndarray, cuts: list[int], t0: float) -> list[Decision]:
    seg = Segmenter(cfg, "them", vad=LoudVad(), turn_model=hashed_turn_model)
    raw = pcm.astype("<i2").tobytes()
    out: list[Decision] = []
    k = 0
    i = 0
    while k < len(pcm):
        n = cuts[i % len(cuts)]
        out += seg.push(raw[2 * k : 2 * (k + n)], t0 + k / SPM)
        k += n
        i += 1
    out += seg.finish()
    assert not seg.is_open
    return out


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    cfg=configs,
    parts=signals,
    seed=st.integers(0, 2**16),
    cuts=st.lists(st.integers(1, 3000), min_size=1, max_size=6),
    t0=st.integers(0, 10**7).map(lambda n: n / SPM),
)
def test_turns_are_well_formed_whatever_the_signal_and_framing(cfg, parts, seed, cuts, t0):
    pcm = make_signal(parts, seed)
    decisions = run(cfg, pcm, cuts, t0)
    open_turn: TurnOpen | None = None
    audio_end: float | None = None  # end of the current turn's audio so far
    last_close = t0
    last_t = t0
    for d in decisions:
        if isinstance(d, TurnOpen):
            assert open_turn is None, "turns never overlap"
            assert d.t_ms >= last_close and d.onset_ms <= d.t_ms
            assert d.speaker == "them"
            open_turn, audio_end = d, None
            last_t = max(last_t, d.t_ms)
        elif isinstance(d, SendAudio):
            assert open_turn is not None, "no audio outside a turn (none after its close)"
            assert len(d.pcm) > 0
            if audio_end is None:
                # the pre-roll: from before the onset, never before the previous turn's close
                # ... and all of it that exists: `preroll_ms` unless the stream or that close is nearer
                want = max(open_turn.onset_ms - int(cfg.preroll_ms * SPM) / SPM, last_close)
                assert abs(d.t_ms - want) < 1e-6
            else:
                assert abs(d.t_ms - audio_end) < 1e-6, "a turn's audio is contiguous"
            i = round((d.t_ms - t0) * SPM)
            got = np.frombuffer(d.pcm, dtype="<i2")
            assert np.array_equal(got, pcm[i : i + len(got)]), "audio is the stream's own samples"
            audio_end = d.end_ms
        else:
            assert isinstance(d, TurnClose)
            assert open_turn is not None
            assert d.t_ms >= last_t
            assert audio_end is not None and abs(audio_end - d.t_ms) < 1e-6, "all audio sent before close"
            assert d.t_ms - open_turn.onset_ms <= cfg.max_turn_ms + LoudVad.window / SPM + 1e-6
            assert d.reason in ("end_of_turn", "silence", "max_length", "stream_end")
            last_close = last_t = d.t_ms
            open_turn = None
    assert open_turn is None, "every opened turn is closed"


@settings(max_examples=60, deadline=None)
@given(
    cfg=configs,
    parts=signals,
    seed=st.integers(0, 2**16),
    cuts=st.lists(st.integers(1, 3000), min_size=1, max_size=6),
)
def test_framing_does_not_change_the_decisions(cfg, parts, seed, cuts):
    pcm = make_signal(parts, seed)
    whole = run(cfg, pcm, [len(pcm)], 0.0)
    framed = run(cfg, pcm, cuts, 0.0)
    assert whole == framed


def test_config_rejects_settings_that_cannot_work():
    import pytest

    with pytest.raises(ValueError, match="max_turn_ms"):
        SegmenterConfig(open_ms=300, max_turn_ms=350)
    with pytest.raises(ValueError, match="threshold"):
        SegmenterConfig(speech_threshold=0.3, silence_threshold=0.5)
    with pytest.raises(ValueError, match="positive"):
        SegmenterConfig(chunk_ms=0)


def test_a_long_capture_break_ends_the_open_turn_where_the_audio_stopped():
    seg = Segmenter(SegmenterConfig(policy=SilencePolicy(500)), vad=LoudVad(), turn_model=hashed_turn_model)
    loud = (np.random.default_rng(0).standard_normal(16000) * 4000).astype("<i2").tobytes()
    out = seg.push(loud, 0.0)
    assert any(isinstance(d, TurnOpen) for d in out)
    out = seg.push(loud, 60_000.0)  # a minute later: the device came back
    closes = [d for d in out if isinstance(d, TurnClose)]
    assert closes == [TurnClose(1000.0, "stream_end", "me")]
    opens = [d for d in out if isinstance(d, TurnOpen)]
    assert len(opens) == 1 and opens[0].onset_ms >= 60_000.0
    audio = [d for d in out if isinstance(d, SendAudio)]
    assert all(d.t_ms >= 60_000.0 for d in audio[1:])
