"""EchoGuard on generated levels (explicit timestamps), GuardedMic on PCM, and espeak-ng echo scenes."""

import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from rholive.audio.codec import decode_pcm16
from rholive.audio.echo_guard import EchoGuard, EchoGuardConfig, GuardedMic
from rholive.audio.pcm import SILENCE_DBFS, resample, rms_dbfs


def play(guard: EchoGuard, start_ms: float, end_ms: float, level: float = -20.0) -> None:
    for t in np.arange(start_ms, end_ms, 20):
        guard.on_playback(float(t), 20, level)


def echo_levels(n: int, mean: float, seed: int = 0) -> list[float]:
    return list(np.random.default_rng(seed).normal(mean, 3.0, n))


def test_without_playback_everything_passes_at_once() -> None:
    guard = EchoGuard()
    for i in range(20):
        d = guard.on_mic(i * 100, 100, -25.0)
        assert d.state == "open" and d.allow and not d.candidate and d.echo_dbfs == SILENCE_DBFS
    assert guard.stats.guarded_frames == 0


def test_echo_alone_never_opens_and_the_gain_is_learned() -> None:
    guard = EchoGuard()
    play(guard, 0, 10_000, level=-20)
    decisions = [guard.on_mic(i * 100, 100, lvl) for i, lvl in enumerate(echo_levels(100, -35))]
    assert not any(d.allow or d.barge_in for d in decisions)
    assert guard.stats.muted_ms == 10_000
    assert -20 < guard.coupling_db < -5  # learned from 0 dB towards the true -15 dB (upper envelope)


def test_clearly_louder_speech_barges_in_after_barge_ms() -> None:
    guard = EchoGuard()
    play(guard, 0, 10_000, level=-20)
    for i, lvl in enumerate(echo_levels(40, -35)):
        guard.on_mic(i * 100, 100, lvl)
    first = guard.on_mic(4000, 100, -12.0)
    second = guard.on_mic(4100, 100, -12.0)
    assert first.candidate and not first.allow and not first.barge_in
    assert second.barge_in and second.allow and second.state == "barge_in"
    after = guard.on_mic(4200, 100, -30.0)  # the user keeps the floor, even in a soft syllable
    assert after.allow and not after.barge_in and guard.stats.barge_ins == 1


def test_somewhat_louder_speech_does_not_barge_in() -> None:
    guard = EchoGuard()
    play(guard, 0, 10_000, level=-20)
    for i, lvl in enumerate(echo_levels(40, -35)):
        guard.on_mic(i * 100, 100, lvl)
    decisions = [guard.on_mic(4000 + i * 100, 100, -30.0) for i in range(20)]  # only ~5 dB over the echo
    assert not any(d.allow for d in decisions)


def test_a_short_burst_is_not_a_barge_in() -> None:
    guard = EchoGuard()
    play(guard, 0, 10_000, level=-20)
    for i in range(30):
        guard.on_mic(i * 100, 100, -35.0)
    assert guard.on_mic(3000, 100, -5.0).candidate  # a cough
    assert not guard.on_mic(3100, 100, -35.0).allow
    assert guard.stats.barge_ins == 0


def test_quiet_playback_still_needs_speech_level() -> None:
    guard = EchoGuard(EchoGuardConfig(coupling_db=-20))
    play(guard, 0, 5000, level=-55)
    decisions = [guard.on_mic(i * 100, 100, -50.0) for i in range(10)]  # 25 dB over the echo, but faint
    assert not any(d.allow for d in decisions)


def test_gate_opens_once_the_tail_has_passed() -> None:
    guard = EchoGuard(EchoGuardConfig(tail_ms=300))
    play(guard, 0, 2000)
    assert not guard.on_mic(2100, 100, -40).allow  # the reverb / output latency may still be heard
    assert not guard.on_mic(2200, 100, -40).allow
    d = guard.on_mic(2400, 100, -40)
    assert d.allow and d.state == "open"


def test_volume_turned_up_is_learned_before_it_opens_a_turn() -> None:
    guard = EchoGuard()
    play(guard, 0, 20_000, level=-20)
    levels = echo_levels(100, -35) + echo_levels(100, -29, seed=1)  # +6 dB half way
    decisions = [guard.on_mic(i * 100, 100, lvl) for i, lvl in enumerate(levels)]
    assert not any(d.allow for d in decisions)


def test_guarded_mic_keeps_every_frame_in_order() -> None:
    guard = EchoGuard()
    play(guard, 0, 10_000, level=-20)
    mic = GuardedMic(guard)
    loud = (np.ones(1600) * 8000).astype("<i2").tobytes()  # -12 dBFS
    echo = (np.ones(1600) * 600).astype("<i2").tobytes()  # -35 dBFS
    out = []
    pattern = [echo] * 30 + [loud] + [echo] + [loud] * 3 + [echo] * 2
    barges = 0
    for i, pcm in enumerate(pattern):
        result = mic.feed(i * 100, pcm)
        barges += result.barge_in
        out += result.frames
    out += mic.finish()
    assert [t for t, _ in out] == [i * 100 for i in range(len(pattern))]  # nothing lost, nothing reordered
    assert barges == 1
    real = [t for t, pcm in out if any(pcm)]
    # the cough at 3000 ms became silence; the barge-in at 3200 ms passes from its first frame on
    assert real == [3200, 3300, 3400, 3500, 3600]
    assert all(len(pcm) == 3200 for _, pcm in out)


def test_unconfirmed_frames_at_stream_end_leave_as_silence() -> None:
    guard = EchoGuard()
    play(guard, 0, 5000)
    mic = GuardedMic(guard)
    for i in range(10):
        mic.feed(i * 100, (np.ones(1600) * 600).astype("<i2").tobytes())
    assert mic.feed(1000, (np.ones(1600) * 9000).astype("<i2").tobytes()).frames == []
    assert mic.finish() == [(1000, bytes(3200))]


# --- speech scenes: the assistant's espeak-ng reply echoed into the mic, with and without a user ----------
@pytest.fixture(scope="module")
def voices(tmp_path_factory: pytest.TempPathFactory) -> tuple[bytes, np.ndarray]:
    exe = shutil.which("espeak-ng")
    if exe is None:
        if os.environ.get("CI") == "true":
            pytest.fail("espeak-ng is not installed (CI must install it)")
        pytest.skip("espeak-ng is not installed")
    d: Path = tmp_path_factory.mktemp("voices")
    reply = "Sure. The meeting moved to Thursday at three, and the budget review is next week."
    subprocess.run([exe, "-w", str(d / "a.wav"), reply], check=True)
    subprocess.run(
        [exe, "-v", "en-us+f3", "-w", str(d / "u.wav"), "Wait, stop, I meant the other one."], check=True
    )
    user = np.frombuffer(decode_pcm16(d / "u.wav", 16000), "<i2").astype(float)
    return decode_pcm16(d / "a.wav", 24000), user


def run_scene(reply24: bytes, user: np.ndarray | None, coupling_db: float, sir_db: float = 0.0) -> int | None:
    """Reply played from t=0 in 20 ms blocks; the mic hears it 80 ms later, reverberated, at coupling_db,
    plus noise, plus optionally the user from t=1500 ms at sir_db over the echo. Returns the barge-in time."""
    rng = np.random.default_rng(7)
    reply16 = np.frombuffer(resample(reply24, 24000, 16000), "<i2").astype(float)
    ir = rng.standard_normal(4000) * np.exp(-np.arange(4000) / 960.0)
    ir[0] += 8
    echo = np.convolve(reply16, ir / np.sqrt(np.sum(ir**2)))[: reply16.size] * 10 ** (coupling_db / 20)
    mic = np.zeros(reply16.size + 16000)
    mic[1280 : 1280 + echo.size] += echo
    mic += rng.standard_normal(mic.size) * 32768 * 10 ** (-65 / 20)
    if user is not None:
        gain = np.sqrt(np.mean(echo[np.abs(echo) > 1] ** 2) / np.mean(user**2)) * 10 ** (sir_db / 20)
        mic[24000 : 24000 + user.size] += (user * gain)[: mic.size - 24000]
    pcm = np.clip(mic, -32768, 32767).astype("<i2").tobytes()
    guard = EchoGuard()
    for i in range(len(reply24) // 960):
        guard.on_playback(i * 20, 20, rms_dbfs(reply24[i * 960 : (i + 1) * 960]))
    gated = GuardedMic(guard)
    for k in range(len(pcm) // 3200):
        if gated.feed(k * 100, pcm[k * 3200 : (k + 1) * 3200]).barge_in:
            return k * 100
    return None


@pytest.mark.parametrize("coupling_db", [-30, -10, 0, 5])
def test_speech_echo_alone_never_barges_in(voices: tuple[bytes, np.ndarray], coupling_db: float) -> None:
    assert run_scene(voices[0], None, coupling_db) is None


@pytest.mark.parametrize("coupling_db", [-20, -10, 0])
def test_speech_20db_over_the_echo_barges_in(voices: tuple[bytes, np.ndarray], coupling_db: float) -> None:
    t = run_scene(voices[0], voices[1], coupling_db, sir_db=20)
    assert t is not None and t >= 1500  # never before the user actually speaks


def test_silent_gaps_in_the_echo_do_not_lower_the_bar() -> None:
    # A digital loopback (or a speaker pausing between words) gives mic frames of pure silence while the
    # playback tail is still "audible": they say nothing about the echo gain. Seen on a real PulseAudio
    # monitor: two silent frames dragged the gain down 10 dB and the next echo syllable was a barge-in.
    guard = EchoGuard()
    play(guard, 0, 10_000, level=-20)
    levels = ([-23.0] * 6 + [SILENCE_DBFS] * 2 + [-24.0, -23.0, -22.0, -23.0]) * 8
    decisions = [guard.on_mic(i * 100, 100, lvl) for i, lvl in enumerate(levels)]
    assert not any(d.allow or d.barge_in or d.candidate for d in decisions)
    assert guard.coupling_db > -10
