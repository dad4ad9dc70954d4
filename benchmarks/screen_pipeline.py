"""Screen pipeline cost: capture, gate, resize, encode per frame; bytes per frame; frames sent per minute.

Baseline in the same run: the seed's approach (hash of every 1000th byte to detect duplicates, every
non-duplicate frame sent at full resolution as JPEG quality 75 with Pillow, or simplejpeg if Pillow is absent).
Capture is timed on a real Xvfb when installed; gate/resize/encode use synthetic text frames.

    uv run python benchmarks/screen_pipeline.py
"""

from __future__ import annotations

import hashlib
import itertools
import os
import shutil
import statistics
import subprocess
import time
from collections.abc import Callable

import numpy as np
import simplejpeg

from rholive.screen import (
    FrameGate,
    GateConfig,
    SendFrame,
    encode_jpeg,
    media_resolution_for,
    resize_long_edge,
)

try:
    from PIL import Image
except ImportError:  # the baseline then uses simplejpeg at full resolution
    Image = None

SIZES = [(1920, 1080), (3840, 2160)]
REPEAT = 15


def text_frame(w: int, h: int, seed: int) -> np.ndarray:
    """White page with dark text-like rows of 8x16 px glyph cells (a 2x scale for 4K, like HiDPI)."""
    scale = 2 if w > 2000 else 1
    rng = np.random.default_rng(seed)
    cells = rng.random((h // (16 * scale), w // (8 * scale), 11, 6)) < 0.45
    cells[:, :, :, :] &= rng.random((h // (16 * scale), w // (8 * scale), 1, 1)) < 0.8  # spaces
    frame = np.full((h, w, 4), 245, np.uint8)
    frame[..., 3] = 255
    glyphs = np.zeros((cells.shape[0], 16, cells.shape[1], 8), bool)
    glyphs[:, 2:13, :, 1:7] = cells.transpose(0, 2, 1, 3)
    ink = glyphs.reshape(cells.shape[0] * 16, cells.shape[1] * 8)
    ink = np.kron(ink, np.ones((scale, scale), bool))
    frame[: ink.shape[0], : ink.shape[1], :3][ink] = 25
    return frame


def ms(fn: Callable[[], object], repeat: int = REPEAT) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def seed_key(frame: np.ndarray) -> str:
    return hashlib.md5(frame.reshape(-1)[::1000].tobytes()).hexdigest()


def seed_jpeg(frame: np.ndarray) -> bytes:
    if Image is not None:
        import io

        img = Image.frombuffer("RGBA", (frame.shape[1], frame.shape[0]), frame.tobytes(), "raw", "BGRA", 0, 1)
        out = io.BytesIO()
        img.convert("RGB").save(out, "JPEG", quality=75)
        return out.getvalue()
    return simplejpeg.encode_jpeg(np.ascontiguousarray(frame), quality=75, colorspace="BGRA")


def capture_ms(w: int, h: int) -> str:
    xvfb = shutil.which("Xvfb")
    if xvfb is None:
        return "n/a (no Xvfb)"
    read_fd, write_fd = os.pipe()
    proc = subprocess.Popen(
        [xvfb, "-displayfd", str(write_fd), "-screen", "0", f"{w}x{h}x24", "-nolisten", "tcp"],
        pass_fds=(write_fd,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write_fd)
    try:
        with os.fdopen(read_fd, "rb") as pipe:
            number = pipe.readline().strip().decode()
        old = os.environ.get("DISPLAY")
        os.environ["DISPLAY"] = f":{number}"
        from rholive.screen import ScreenCapture

        with ScreenCapture() as cap:
            cap.grab()
            value = ms(cap.grab)
        if old is None:
            os.environ.pop("DISPLAY")
        else:
            os.environ["DISPLAY"] = old
        return f"{value:.1f} (Xvfb)"
    finally:
        proc.terminate()
        proc.wait()


def typing_frames(w: int, h: int, seconds: int, fps: float) -> list[np.ndarray]:
    """An editor where someone types 5 characters a second on line after line, sampled at `fps`."""
    base = text_frame(w, h, 1)
    base[h // 2 :, :, :3] = 245  # the lower half is where new code is typed
    full = text_frame(w, h, 2)
    frames = []
    for i in range(int(seconds * fps)):
        chars = int(i / fps * 5)
        frame = base.copy()
        per_line = 80
        row, col = divmod(chars, per_line)
        y0 = h // 2
        if row:
            frame[y0 : y0 + row * 16, : per_line * 8] = full[y0 : y0 + row * 16, : per_line * 8]
        frame[y0 + row * 16 : y0 + row * 16 + 16, : col * 8] = full[
            y0 + row * 16 : y0 + row * 16 + 16, : col * 8
        ]
        frames.append(frame)
    return frames


def sends_per_minute(frames: list[np.ndarray], fps: float) -> tuple[int, int]:
    """(our gate, seed) frames sent in one minute, the first frame of the minute not counted."""
    gate = FrameGate(GateConfig())
    ours = sum(isinstance(gate.decide(f, i / fps), SendFrame) for i, f in enumerate(frames)) - 1
    keys = [seed_key(f) for f in frames]
    seed = sum(1 for a, b in itertools.pairwise(keys) if a != b)
    return ours, seed


def size_row(w: int, h: int) -> None:
    a, b = text_frame(w, h, 1), text_frame(w, h, 2)
    gate = FrameGate()
    gate.decide(a, 0.0)
    t = [0.0]

    def step() -> None:
        t[0] += 0.1
        gate.decide(b if int(t[0] * 10) % 2 else a, t[0])

    small = resize_long_edge(a)
    jpeg = encode_jpeg(small)
    seed = seed_jpeg(a)
    print(
        f"| {w}x{h} | {capture_ms(w, h)} | {ms(step):.1f} | {ms(lambda: resize_long_edge(a)):.1f} | "
        f"{ms(lambda: encode_jpeg(small)):.1f} | {len(jpeg)} ({small.shape[1]}x{small.shape[0]}) | "
        f"{ms(lambda: seed_key(a)):.2f} | {ms(lambda: seed_jpeg(a), 5):.1f} | {len(seed)} |"
    )


def main() -> None:
    print(
        f"baseline JPEG encoder: {'Pillow' if Image is not None else 'simplejpeg (Pillow not installed)'}\n"
    )
    print(
        "| size | capture ms | gate ms | resize ms | encode ms | bytes/frame | seed hash ms | seed encode ms | seed bytes/frame |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for w, h in SIZES:
        size_row(w, h)
    print(f"\nresize limit 1024 px -> mediaResolution {media_resolution_for(1024)}; our JPEG quality 80\n")
    fps = 2.0
    w, h = 1920, 1080
    static = [text_frame(w, h, 1)] * int(60 * fps)
    from_cursor = []
    for i in range(int(60 * fps)):
        f = static[0].copy()
        x, y = 100 + (i * 37) % 1600, 100 + (i * 23) % 800
        f[y : y + 19, x : x + 12, :3] = 0  # a cursor wandering around
        from_cursor.append(f)
    print(f"frames sent per minute (1920x1080, sampled at {fps:g} frame/s, max_fps 1)\n")
    print("| scene | ours | seed |")
    print("|---|---|---|")
    for name, frames in [
        ("static screen", static),
        ("static screen, cursor moving", from_cursor),
        ("typing in an editor (5 chars/s)", typing_frames(w, h, 60, fps)),
    ]:
        ours, seed = sends_per_minute(frames, fps)
        print(f"| {name} | {ours} | {seed} |")


if __name__ == "__main__":
    main()
