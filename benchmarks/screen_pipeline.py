"""Screen pipeline cost: capture, gate, resize, encode per frame; bytes per frame; frames sent per minute.

Baselines in the same run:
- the seed's approach (hash of every 1000th byte to detect duplicates, every non-duplicate frame sent at full
  resolution as JPEG quality 75 with Pillow);
- the previous rholive implementation of the box resize and the gate thumbnail (numpy strided block sums, an
  integer divide), kept below as `old_numpy_*`, against today's (Pillow `Image.reduce`), and the other
  candidates that were measured to pick it.

Every figure in ms is CPU time of this process (time.process_time, median of REPEAT runs): the machine is
shared, and wall-clock time would include other people's work. Capture CPU is this process's side only (the X
server's copy is not counted). Capture is timed on a real Xvfb when installed; gate/resize/encode use
synthetic text frames. Results also go to benchmarks/results/screen_pipeline.json.

    uv run python benchmarks/screen_pipeline.py
"""

from __future__ import annotations

import hashlib
import io
import itertools
import json
import os
import platform
import shutil
import statistics
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from unittest import mock

import numpy as np
from machine_info import cpu_model
from PIL import Image

import rholive.screen.gate as gate_module
from rholive.screen import (
    FrameGate,
    GateConfig,
    SendFrame,
    encode_jpeg,
    media_resolution_for,
    resize_long_edge,
)
from rholive.screen.encode import shrink_factor
from rholive.screen.gate import thumbnail

SIZES = [(1920, 1080), (3840, 2160)]
REPEAT = 15
RESULTS = Path(__file__).resolve().parent / "results" / "screen_pipeline.json"


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
    """Median CPU milliseconds of this process per call."""
    fn()  # warm-up (first-touch page faults, lazy imports)
    times = []
    for _ in range(repeat):
        start = time.process_time()
        fn()
        times.append((time.process_time() - start) * 1000)
    return statistics.median(times)


# ------------------------------------------------------------ the previous implementation (baseline)


def old_numpy_block_sums(frame: np.ndarray, k: int) -> np.ndarray:
    """rholive's block sums before Pillow: k strided adds per axis (uint16 rows, then uint32 columns)."""
    oh, ow, c = frame.shape[0] // k, frame.shape[1] // k, frame.shape[2]
    crop = frame[: oh * k, : ow * k]
    acc = np.uint16 if k * k * 255 < 65536 else np.uint32
    rows = crop[0::k].astype(acc)
    for i in range(1, k):
        rows += crop[i::k]
    cols = rows.reshape(oh, ow, k, c)
    out = cols[:, :, 0].astype(np.uint32)
    for j in range(1, k):
        out += cols[:, :, j]
    return out


def old_numpy_resize(frame: np.ndarray, max_edge: int = 1024) -> np.ndarray:
    """rholive's resize_long_edge before Pillow: block sums, then a rounded integer divide."""
    k = shrink_factor(frame.shape[1], frame.shape[0], max_edge)
    if k == 1:
        return np.ascontiguousarray(frame)
    sums = old_numpy_block_sums(frame, k)
    return ((sums + (k * k) // 2) // (k * k)).astype(np.uint8)


def old_numpy_thumbnail(frame: np.ndarray, block: int) -> np.ndarray:
    """The gate's thumbnail before Pillow: grey of the exact block sums, in float64."""
    sums = old_numpy_block_sums(frame, block)
    b, g, r = sums[..., 0], sums[..., 1], sums[..., 2]
    return ((0.114 * b + 0.587 * g + 0.299 * r) / (block * block)).astype(np.float32)


# ------------------------------------------------------------ other candidates measured (not used)


def numpy_uint16_resize(frame: np.ndarray, max_edge: int = 1024) -> np.ndarray:
    """numpy done tighter: uint16 accumulation throughout, in-place rounding and a shift when k*k is 4."""
    k = shrink_factor(frame.shape[1], frame.shape[0], max_edge)
    oh, ow = frame.shape[0] // k, frame.shape[1] // k
    crop = frame[: oh * k, : ow * k]
    rows = crop[0::k].astype(np.uint16)  # k*k*255 < 65536 up to k = 16
    for i in range(1, k):
        rows += crop[i::k]
    cols = rows.reshape(oh, ow, k, frame.shape[2])
    out = cols[:, :, 0].copy()
    for j in range(1, k):
        out += cols[:, :, j]
    out += (k * k) // 2
    if k == 2:
        out >>= 2
    else:
        out //= k * k
    return out.astype(np.uint8)


def pillow_box_resize_exact(frame: np.ndarray, max_edge: int = 1024) -> np.ndarray:
    """A non-integer target (1920 -> 1024 exactly) with Pillow's BOX filter."""
    h, w, _ = frame.shape
    scale = max_edge / max(w, h)
    image = Image.frombuffer("RGBX", (w, h), frame, "raw", "RGBX", 0, 1)
    return np.asarray(image.resize((round(w * scale), round(h * scale)), Image.Resampling.BOX))


def seed_key(frame: np.ndarray) -> str:
    return hashlib.md5(frame.reshape(-1)[::1000].tobytes()).hexdigest()


def seed_jpeg(frame: np.ndarray) -> bytes:
    img = Image.frombuffer("RGBA", (frame.shape[1], frame.shape[0]), frame.tobytes(), "raw", "BGRA", 0, 1)
    out = io.BytesIO()
    img.convert("RGB").save(out, "JPEG", quality=75)
    return out.getvalue()


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
        return f"{value:.1f}"
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


def size_row(w: int, h: int) -> dict[str, Any]:
    a, b = text_frame(w, h, 1), text_frame(w, h, 2)

    def gate_step(gate: FrameGate) -> Callable[[], None]:
        gate.decide(a, 0.0)
        t = [0.0]

        def step() -> None:
            t[0] += 0.1
            gate.decide(b if int(t[0] * 10) % 2 else a, t[0])

        return step

    small = resize_long_edge(a)
    old_small = old_numpy_resize(a)
    jpeg = encode_jpeg(small)
    seed = seed_jpeg(a)
    gate_ms = ms(gate_step(FrameGate()))
    with mock.patch.object(gate_module, "thumbnail", old_numpy_thumbnail):
        old_gate_ms = ms(gate_step(FrameGate()))
    row = {
        "size": f"{w}x{h}",
        "capture_ms": capture_ms(w, h),
        "gate_ms": gate_ms,
        "resize_ms": ms(lambda: resize_long_edge(a)),
        "encode_ms": ms(lambda: encode_jpeg(small)),
        "bytes_per_frame": len(jpeg),
        "out_size": f"{small.shape[1]}x{small.shape[0]}",
        "seed_hash_ms": ms(lambda: seed_key(a)),
        "seed_encode_ms": ms(lambda: seed_jpeg(a), 5),
        "seed_bytes_per_frame": len(seed),
        "old_numpy_gate_ms": old_gate_ms,
        "old_numpy_resize_ms": ms(lambda: old_numpy_resize(a)),
        "thumbnail_ms": ms(lambda: thumbnail(a, 8)),
        "old_numpy_thumbnail_ms": ms(lambda: old_numpy_thumbnail(a, 8)),
        "resize_max_diff_vs_old": int(np.abs(small.astype(np.int16) - old_small).max()),
        "thumbnail_max_diff_vs_old": float(np.abs(thumbnail(a, 8) - old_numpy_thumbnail(a, 8)).max()),
        "candidates_resize_ms": {
            "numpy uint16 + shift": ms(lambda: numpy_uint16_resize(a)),
            "Pillow reduce (used)": ms(lambda: resize_long_edge(a)),
            "Pillow BOX to exactly 1024 px": ms(lambda: pillow_box_resize_exact(a)),
        },
    }
    # CPU per second with the screen changing every second: 2 gate samples + 1 resize and encode.
    row["screen_cpu_pct"] = (2 * row["gate_ms"] + row["resize_ms"] + row["encode_ms"]) / 10
    row["old_numpy_screen_cpu_pct"] = (
        2 * row["old_numpy_gate_ms"] + row["old_numpy_resize_ms"] + row["encode_ms"]
    ) / 10
    return row


def main_table(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| size | capture ms (Xvfb) | gate ms | resize ms | encode ms | bytes/frame | seed encode ms | seed bytes/frame |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['size']} | {r['capture_ms']} | {r['gate_ms']:.1f} | {r['resize_ms']:.1f} | {r['encode_ms']:.1f} | "
            f"{r['bytes_per_frame']:,} | {r['seed_encode_ms']:.1f} | {r['seed_bytes_per_frame']:,} |"
        )
    for r in rows:
        lines.append(
            f"| {r['size']}, old numpy resize + thumbnail | {r['capture_ms']} | {r['old_numpy_gate_ms']:.1f} | "
            f"{r['old_numpy_resize_ms']:.1f} | {r['encode_ms']:.1f} | {r['bytes_per_frame']:,} | "
            f"{r['seed_encode_ms']:.1f} | {r['seed_bytes_per_frame']:,} |"
        )
    return "\n".join(lines)


def old_vs_new_table(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| size | resize ms, old numpy → Pillow | thumbnail ms, old → new | gate ms, old → new "
        "| screen CPU at 1 change/s (% of a core), old → new | max diff vs old (resize / thumbnail, grey levels) |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['size']} | {r['old_numpy_resize_ms']:.1f} → {r['resize_ms']:.1f} "
            f"| {r['old_numpy_thumbnail_ms']:.1f} → {r['thumbnail_ms']:.1f} "
            f"| {r['old_numpy_gate_ms']:.1f} → {r['gate_ms']:.1f} "
            f"| {r['old_numpy_screen_cpu_pct']:.1f} → {r['screen_cpu_pct']:.1f} "
            f"| {r['resize_max_diff_vs_old']} / {r['thumbnail_max_diff_vs_old']:.2f} |"
        )
    lines += ["", "| resize candidate, CPU ms | " + " | ".join(r["size"] for r in rows) + " |"]
    lines.append("|---|" + "---|" * len(rows))
    lines.append(
        "| old numpy block sums | " + " | ".join(f"{r['old_numpy_resize_ms']:.1f}" for r in rows) + " |"
    )
    for name in rows[0]["candidates_resize_ms"]:
        lines.append(
            f"| {name} | " + " | ".join(f"{r['candidates_resize_ms'][name]:.1f}" for r in rows) + " |"
        )
    return "\n".join(lines)


def machine() -> str:
    return f"{cpu_model()}, {os.cpu_count()} cores, Python {platform.python_version()}"


def main() -> None:
    print(f"machine: {machine()}; CPU ms of this process, medians; seed JPEG encoder: Pillow\n")
    rows = [size_row(w, h) for w, h in SIZES]
    print(main_table(rows))
    print(f"\nresize limit 1024 px -> mediaResolution {media_resolution_for(1024)}; our JPEG quality 80\n")
    print(old_vs_new_table(rows))
    fps = 2.0
    w, h = 1920, 1080
    static = [text_frame(w, h, 1)] * int(60 * fps)
    from_cursor = []
    for i in range(int(60 * fps)):
        f = static[0].copy()
        x, y = 100 + (i * 37) % 1600, 100 + (i * 23) % 800
        f[y : y + 19, x : x + 12, :3] = 0  # a cursor wandering around
        from_cursor.append(f)
    print(f"\nframes sent per minute (1920x1080, sampled at {fps:g} frame/s, max_fps 1)\n")
    print("| scene | ours | ours, old numpy thumbnail | seed |")
    print("|---|---|---|---|")
    scenes: dict[str, dict[str, int]] = {}
    for name, frames in [
        ("static screen", static),
        ("static screen, cursor moving", from_cursor),
        ("typing in an editor (5 chars/s)", typing_frames(w, h, 60, fps)),
    ]:
        ours, seed = sends_per_minute(frames, fps)
        with mock.patch.object(gate_module, "thumbnail", old_numpy_thumbnail):
            old, _ = sends_per_minute(frames, fps)
        scenes[name] = {"ours": ours, "ours_old_numpy_thumbnail": old, "seed": seed}
        print(f"| {name} | {ours} | {old} | {seed} |")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    report = {
        "machine": machine(),
        "method": "CPU time of this process (time.process_time), median of "
        f"{REPEAT} runs (seed encode: 5); the machine was shared with other work",
        "sizes": rows,
        "sends_per_minute": scenes,
    }
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
