"""pcm: resampling lengths and content, float conversion, levels."""

import numpy as np
import pytest

from rholive.audio.pcm import SILENCE_DBFS, Resampler, resample, rms_dbfs, to_mono_int16


def tone(rate: int, seconds: float, freq: float = 440.0, amp: float = 0.5, channels: int = 1) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    mono = (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)
    return np.repeat(mono[:, None], channels, axis=1) if channels > 1 else mono


def dominant_freq(pcm: bytes, rate: int) -> float:
    x = np.frombuffer(pcm, dtype="<i2").astype(np.float64)
    spectrum = np.abs(np.fft.rfft(x * np.hanning(x.size)))
    return float(np.fft.rfftfreq(x.size, 1 / rate)[np.argmax(spectrum)])


@pytest.mark.parametrize("src_rate", [8000, 16000, 22050, 44100, 48000])
def test_resample_whole_buffer_length_and_pitch(src_rate: int) -> None:
    pcm = to_mono_int16(tone(src_rate, 1.0))
    out = resample(pcm, src_rate, 16000)
    assert len(out) // 2 == 16000
    assert dominant_freq(out, 16000) == pytest.approx(440, abs=2)


@pytest.mark.parametrize(("src_rate", "channels"), [(44100, 2), (48000, 1), (48000, 2), (8000, 1)])
def test_streaming_resampler_to_16k_mono(src_rate: int, channels: int) -> None:
    frames = tone(src_rate, 2.0, channels=channels)
    rs = Resampler(src_rate, 16000, channels)
    block = src_rate // 10  # what a device hands over every 100 ms
    out = b"".join(rs.process(frames[i : i + block]) for i in range(0, len(frames), block)) + rs.flush()
    assert len(out) // 2 == pytest.approx(32000, abs=2)
    assert dominant_freq(out, 16000) == pytest.approx(440, abs=2)
    # stereo of identical channels mixes down to the same level as mono: about -9 dBFS for a 0.5 sine
    assert rms_dbfs(out[3200:-3200]) == pytest.approx(20 * np.log10(0.5 / np.sqrt(2)), abs=0.3)


def test_resampler_takes_interleaved_int16_bytes() -> None:
    left = tone(44100, 0.5, amp=0.4)
    stereo = np.stack([left, -left], axis=1)  # opposite channels cancel in the mixdown
    raw = np.rint(stereo * 32767).astype("<i2").tobytes()
    out = Resampler(44100, 16000, 2).process(raw, last=True)
    assert len(out) // 2 == pytest.approx(8000, abs=2)
    assert rms_dbfs(out) < -80


def test_resampler_rejects_wrong_channel_count() -> None:
    with pytest.raises(ValueError, match="channel"):
        Resampler(48000, 16000, 2).process(tone(48000, 0.1, channels=3))


def test_same_rate_is_identity() -> None:
    pcm = to_mono_int16(tone(16000, 0.3))
    assert resample(pcm, 16000, 16000) == pcm
    assert Resampler(16000, 16000).process(tone(16000, 0.3)) == pcm


def test_to_mono_int16_clips_and_mixes() -> None:
    frames = np.array([[2.0, 2.0], [-2.0, -2.0], [0.5, -0.5]], dtype=np.float32)
    assert np.frombuffer(to_mono_int16(frames), dtype="<i2").tolist() == [32767, -32768, 0]


def test_rms_dbfs() -> None:
    assert rms_dbfs(b"") == SILENCE_DBFS
    assert rms_dbfs(b"\0\0" * 100) == SILENCE_DBFS
    full_square = np.array([32767, -32768] * 50, dtype="<i2").tobytes()
    assert rms_dbfs(full_square) == pytest.approx(0.0, abs=0.01)
    assert rms_dbfs(to_mono_int16(tone(16000, 1.0, amp=0.1))) == pytest.approx(-23.0, abs=0.1)


def test_odd_byte_count_is_an_error() -> None:
    with pytest.raises(ValueError, match="whole 16-bit samples"):
        resample(b"\0\0\0", 16000, 8000)
