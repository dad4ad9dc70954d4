"""Active-speaker mode: follow the loudest speaker with a hold, so it does not flap (explicit frames)."""

from __future__ import annotations

import numpy as np
import pytest

from rholive.audio.pcm import rms_dbfs
from rholive.telegram.voicechat import (
    ActiveSpeaker,
    FollowingMixer,
    FollowOptions,
    Mixer,
    make_mixer,
)

RATE = 48000
N = RATE // 100  # one 10 ms frame
A, B, C = 11, 22, 33


def tone(freq: float, amplitude: float, n: int = N, start: int = 0) -> bytes:
    t = (np.arange(n) + start) / RATE
    return (amplitude * np.sin(2 * np.pi * freq * t)).astype("<i2").tobytes()


def gate(**kwargs: float) -> ActiveSpeaker:
    return ActiveSpeaker(FollowOptions(**kwargs))  # type: ignore[arg-type]


def test_first_loud_speaker_becomes_active_and_silence_selects_nobody() -> None:
    g = gate()
    assert g.update({A: -90.0, B: -80.0}) is None
    assert g.update({A: -90.0, B: -20.0}) == B


def test_a_louder_challenger_takes_over_only_after_the_hold() -> None:
    g = gate(switch_db=6.0, hold_ms=300)
    g.update({A: -20.0, B: -60.0})
    ticks = [g.update({A: -20.0, B: -10.0}) for _ in range(30)]
    assert ticks[:29] == [A] * 29  # 290 ms louder: not yet
    assert ticks[29] == B  # 300 ms: switch
    assert g.switches == 2


def test_alternating_loudness_does_not_flap() -> None:
    g = gate(switch_db=6.0, hold_ms=300)
    g.update({A: -20.0, B: -60.0})
    for i in range(200):  # B louder for 200 ms, then A again, over and over
        louder_b = (i // 20) % 2 == 0
        assert g.update({A: -20.0, B: -10.0 if louder_b else -40.0}) == A
    assert g.switches == 1


def test_a_challenger_less_than_switch_db_louder_never_takes_over() -> None:
    g = gate(switch_db=6.0, hold_ms=100)
    g.update({A: -20.0})
    for _ in range(100):
        assert g.update({A: -20.0, B: -15.0}) == A


def test_when_the_active_speaker_goes_silent_a_speaking_one_takes_over_after_the_hold() -> None:
    g = gate(switch_db=6.0, hold_ms=50, floor_dbfs=-50.0)
    g.update({A: -20.0, B: -90.0})
    results = [g.update({A: -90.0, B: -30.0}) for _ in range(5)]
    assert results == [A, A, A, A, B]


def test_the_active_speaker_leaving_hands_over_at_once() -> None:
    g = gate()
    g.update({A: -20.0, B: -30.0})
    assert g.update({B: -30.0, C: -35.0}) == B  # A absent from the tick: left the call


def test_following_mixer_passes_only_the_active_speakers_audio() -> None:
    mixer = FollowingMixer(RATE, options=FollowOptions(switch_db=6.0, hold_ms=300))
    reference = Mixer(RATE)  # A alone, to compare against
    out, alone = bytearray(), bytearray()
    for i in range(50):
        a, b = tone(300, 6000, start=i * N), tone(1200, 1500, start=i * N)
        out += mixer.mix([(A, a), (B, b)])
        alone += reference.mix([(A, a)])
    assert mixer.gate.active == A
    assert bytes(out) == bytes(alone)  # B's quieter voice is not in the stream at all
    assert rms_dbfs(bytes(out)) > -20.0


def test_make_mixer_selects_the_mode() -> None:
    assert type(make_mixer("mix", RATE)) is Mixer
    assert isinstance(make_mixer("active", RATE), FollowingMixer)
    with pytest.raises(ValueError, match="active"):
        make_mixer("loudest", RATE)
