"""codec: espeak-ng speech → OGG/Opus voice note → PCM, probing the note with PyAV; bad inputs."""

import io
import os
import shutil
import subprocess
import wave
from pathlib import Path

import av
import numpy as np
import pytest

from rholive.audio.codec import AudioDecodeError, decode_pcm16, duration_s, encode_ogg_opus, iter_decode_pcm16
from rholive.audio.pcm import rms_dbfs, to_mono_int16

SENTENCE = "The quick brown fox jumps over the lazy dog, and then it rests."


@pytest.fixture(scope="module")
def speech_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    exe = shutil.which("espeak-ng")
    if exe is None:
        if os.environ.get("CI") == "true":
            pytest.fail("espeak-ng is not installed (CI must install it)")
        pytest.skip("espeak-ng is not installed")
    path = tmp_path_factory.mktemp("speech") / "speech.wav"
    subprocess.run([exe, "-w", str(path), SENTENCE], check=True)
    return path


def wav_duration(path: Path) -> float:
    with wave.open(str(path)) as w:
        return w.getnframes() / w.getframerate()


def test_decode_wav_to_16k_mono(speech_wav: Path) -> None:
    pcm = decode_pcm16(speech_wav)
    assert duration_s(pcm, 16000) == pytest.approx(wav_duration(speech_wav), abs=0.001)
    assert rms_dbfs(pcm) > -40


def test_iter_decode_chunks_are_100ms_and_join_to_whole(speech_wav: Path) -> None:
    chunks = list(iter_decode_pcm16(speech_wav, rate=16000, chunk_ms=100))
    assert all(len(c) == 3200 for c in chunks[:-1])
    assert 0 < len(chunks[-1]) <= 3200
    assert b"".join(chunks) == decode_pcm16(speech_wav)


def test_voice_note_round_trip(speech_wav: Path) -> None:
    pcm24 = decode_pcm16(speech_wav, rate=24000)
    note = encode_ogg_opus(pcm24, rate=24000)
    assert note[:4] == b"OggS"
    back = decode_pcm16(note, rate=24000)
    # within one 20 ms Opus frame of the original, and still speech-loud
    assert abs(duration_s(back, 24000) - duration_s(pcm24, 24000)) <= 0.02
    assert rms_dbfs(back) == pytest.approx(rms_dbfs(pcm24), abs=3)
    # the waveform survives: the decoded envelope follows the original's
    a = np.abs(np.frombuffer(pcm24, dtype="<i2").astype(float))
    b = np.abs(np.frombuffer(back, dtype="<i2").astype(float))[: a.size]
    env_a = a[: b.size // 480 * 480].reshape(-1, 480).mean(axis=1)
    env_b = b[: b.size // 480 * 480].reshape(-1, 480).mean(axis=1)
    assert np.corrcoef(env_a, env_b)[0, 1] > 0.9


def test_voice_note_is_mono_opus_48k_in_ogg(speech_wav: Path) -> None:
    note = encode_ogg_opus(decode_pcm16(speech_wav, rate=24000))
    with av.open(io.BytesIO(note)) as container:
        assert container.format.name == "ogg"
        (stream,) = container.streams
        assert stream.type == "audio"
        assert stream.codec_context.name == "opus"
        assert stream.codec_context.channels == 1
        assert stream.rate == 48000


def test_encode_from_other_rates_and_empty() -> None:
    t = np.arange(16000) / 16000
    pcm16 = to_mono_int16(0.3 * np.sin(2 * np.pi * 300 * t))
    back = decode_pcm16(encode_ogg_opus(pcm16, rate=16000), rate=16000)
    assert abs(duration_s(back, 16000) - 1.0) <= 0.02
    empty_note = encode_ogg_opus(b"")
    assert duration_s(decode_pcm16(empty_note, rate=48000), 48000) == pytest.approx(0.02, abs=0.001)


def test_encode_rejects_odd_bytes() -> None:
    with pytest.raises(ValueError, match="16-bit"):
        encode_ogg_opus(b"\0\0\0")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"this is not audio at all " * 40, "not a readable audio file"),
        (b"OggS" + bytes(60), "not a readable audio file"),
        (b"RIFF" + bytes(200), "not a readable audio file"),
    ],
)
def test_bad_bytes_give_one_clear_error(data: bytes, message: str) -> None:
    with pytest.raises(AudioDecodeError, match=message) as info:
        decode_pcm16(data)
    assert str(info.value).startswith(f"audio data ({len(data)} bytes)")
    assert "\n" not in str(info.value)


def test_bad_files_name_the_file(tmp_path: Path) -> None:
    empty = tmp_path / "empty.ogg"
    empty.write_bytes(b"")
    text = tmp_path / "notes.txt"
    text.write_text("hello\n" * 200)
    garbage = tmp_path / "voice.ogg"
    garbage.write_bytes(bytes(range(256)) * 16)
    missing = tmp_path / "missing.wav"
    for path, message in [
        (empty, "empty file"),
        (text, "no audio stream"),
        (garbage, "not a readable audio file"),
        (missing, "no such file"),
    ]:
        with pytest.raises(AudioDecodeError, match=message) as info:
            decode_pcm16(path)
        assert str(path) in str(info.value)


def test_wav_with_no_samples_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "silent.wav"
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
    with pytest.raises(AudioDecodeError, match="no audio samples"):
        decode_pcm16(path)


def test_decodes_8bit_stereo_44k_wav(tmp_path: Path) -> None:
    path = tmp_path / "u8.wav"
    t = np.arange(44100) / 44100
    wave_u8 = np.rint(128 + 100 * np.sin(2 * np.pi * 500 * t)).astype(np.uint8)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(1)
        w.setframerate(44100)
        w.writeframes(np.repeat(wave_u8, 2).tobytes())
    pcm = decode_pcm16(path)
    assert len(pcm) // 2 == pytest.approx(16000, abs=2)
    assert rms_dbfs(pcm[1600:-1600]) == pytest.approx(20 * np.log10(100 / 128 / np.sqrt(2)), abs=0.3)
