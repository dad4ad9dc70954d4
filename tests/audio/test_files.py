"""FileSource: chunks, timestamps and pacing on an injected clock (no real sleeps); bad files."""

import wave
from pathlib import Path

import numpy as np
import pytest

from rholive.audio.codec import AudioDecodeError, decode_pcm16, encode_ogg_opus
from rholive.audio.files import FileSource


class FakeTime:
    """A clock that only moves when someone sleeps on it (or the test moves it)."""

    def __init__(self) -> None:
        self.now = 500.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def write_wav(path: Path, seconds: float, rate: int = 44100, channels: int = 2) -> Path:
    t = np.arange(int(rate * seconds)) / rate
    mono = np.rint(12000 * np.sin(2 * np.pi * 330 * t)).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(np.repeat(mono, channels).tobytes())
    return path


async def collect(source: FileSource, fake: FakeTime) -> list[tuple[float, int, int]]:
    """(clock when released, t_ms, bytes) for every chunk."""
    return [(fake.now - 500.0, t_ms, len(pcm)) async for t_ms, pcm in source]


async def test_real_time_pacing_releases_each_chunk_at_its_end(tmp_path: Path) -> None:
    fake = FakeTime()
    src = FileSource(write_wav(tmp_path / "a.wav", 1.05), clock=fake.clock, sleep=fake.sleep)
    got = await collect(src, fake)
    assert [t for _, t, _ in got] == [i * 100 for i in range(11)]
    assert [n for _, _, n in got] == [3200] * 10 + [1600]
    assert [round(at, 6) for at, _, _ in got] == [round(0.1 * (i + 1), 6) for i in range(10)] + [1.05]
    assert src.end_reason == "end_of_file"


async def test_speed_factor_divides_the_schedule(tmp_path: Path) -> None:
    fake = FakeTime()
    src = FileSource(write_wav(tmp_path / "a.wav", 1.0), speed=4, clock=fake.clock, sleep=fake.sleep)
    got = await collect(src, fake)
    assert [round(at, 6) for at, _, _ in got] == [round(0.025 * (i + 1), 6) for i in range(10)]


async def test_slow_consumer_catches_up_without_drift(tmp_path: Path) -> None:
    fake = FakeTime()
    src = FileSource(write_wav(tmp_path / "a.wav", 1.0), clock=fake.clock, sleep=fake.sleep)
    released = []
    async for t_ms, _ in src:
        released.append((round(fake.now - 500.0, 6), t_ms))
        if t_ms == 200:
            fake.now += 0.45  # the consumer stalls for 450 ms after the third chunk
    # chunks that fell due during the stall come at once, then the original schedule resumes
    assert released[3:8] == [(0.75, 300), (0.75, 400), (0.75, 500), (0.75, 600), (0.8, 700)]
    assert released[-1] == (1.0, 900)


async def test_unpaced_never_waits(tmp_path: Path) -> None:
    fake = FakeTime()
    path = write_wav(tmp_path / "a.wav", 2.0, rate=8000, channels=1)
    src = FileSource(path, speed=None, clock=fake.clock, sleep=fake.sleep)
    chunks = [pcm async for _, pcm in src]
    assert set(fake.sleeps) == {0}
    assert b"".join(chunks) == decode_pcm16(path)


async def test_ogg_opus_file_as_source(tmp_path: Path) -> None:
    fake = FakeTime()
    t = np.arange(24000 * 2) / 24000
    pcm24 = np.rint(8000 * np.sin(2 * np.pi * 200 * t)).astype("<i2").tobytes()
    path = tmp_path / "note.ogg"
    path.write_bytes(encode_ogg_opus(pcm24, rate=24000))
    got = await collect(FileSource(path, speed=2, clock=fake.clock, sleep=fake.sleep), fake)
    assert sum(n for _, _, n in got) // 2 == pytest.approx(32000, abs=320)
    assert got[-1][0] == pytest.approx(1.0, abs=0.01)


async def test_aclose_stops_early(tmp_path: Path) -> None:
    fake = FakeTime()
    src = FileSource(write_wav(tmp_path / "a.wav", 1.0), clock=fake.clock, sleep=fake.sleep)
    async with src:
        async for t_ms, _ in src:
            if t_ms == 300:
                break
    assert src.end_reason == "stopped"
    assert [c async for c in src] == []


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty file"),
        (bytes(range(256)) * 12, "not a readable audio file"),
        (b"hi\n" * 500, "not a readable audio file|no audio stream"),
    ],
)
def test_bad_file_fails_at_open_naming_it(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "input.mp3"
    path.write_bytes(content)
    with pytest.raises(AudioDecodeError, match=message) as info:
        FileSource(path)
    assert str(path) in str(info.value)


def test_missing_file_and_bad_speed(tmp_path: Path) -> None:
    with pytest.raises(AudioDecodeError, match="no such file"):
        FileSource(tmp_path / "nope.wav")
    with pytest.raises(ValueError, match="speed"):
        FileSource(write_wav(tmp_path / "a.wav", 0.2), speed=0)
