"""The screen path per frame on real screens, end to end, against the seed's approach in the same run.

Real parts: an Xvfb server (1920x1080 by default) and a Qt app (benchmarks/screen_scenes.py, the `gui` extra)
showing four screens: a text page, a code editor, a web page and a video (natural-image-like frames with a
subtitle). Each scene is shown in `--frames` versions (a new page, file, article, video frame each time), and
for every version, in alternating order:
- ours: `ScreenSource.sample()` exactly as the copilot's screen thread runs it: mss capture, box resize to the
  long-edge limit (OpenCV), frame gate on that shrunk frame, simplejpeg;
- previous rholive (before issue 16): the same capture, the gate on the full-size frame, Pillow's `reduce`,
  simplejpeg quality 80;
- the seed's approach: the same mss capture, a hash of every 1000th byte, and every changed frame encoded at
  full size as JPEG quality 75 with Pillow (its Rust code clones the buffer, drops alpha, encodes).
Per frame, CPU time of this process (time.process_time, all threads): the X server's side of the capture is
not counted, for either. Medians over the frames; ratios are of medians of the same run.

At rest (a static text page; the code editor, whose caret does not blink on Xvfb without a window manager), per
sample: ours (a damage check; capture, shrink and gate only when something was drawn, or every 5 s) against the
previous path (capture and the full-size gate every sample).
A capture alone is timed after each frame, to give the ratio of what each path does with the captured frame.

Legibility: tesseract reads the lossless capture (the reference: the words it finds there that the scene drew),
the seed's JPEG, ours and the previous one, each grey, inverted when dark, and magnified to twice the screen's width (Lanczos);
word recall against the reference. "As the model sees it": each JPEG first scaled to fit 768 px (a
MEDIA_RESOLUTION_MEDIUM frame is one 768 px tile), then read the same way.

    uv sync --extra full   # or --extra gui: PySide6 draws the screens
    uv run python benchmarks/screen_pipeline.py [--frames 30] [--ocr-frames 1] [--quality Q]

Results also go to benchmarks/results/screen_pipeline.json.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import io
import itertools
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import simplejpeg
from machine_info import cpu_model
from PIL import Image, ImageOps
from screen_scenes import scene_words, words_of

from rholive.copilot.screen_source import ScreenConfig, ScreenFrame, ScreenSource
from rholive.screen import FrameGate, ScreenCapture, SendFrame, SkipFrame, encode_jpeg, shrink_factor

SCENES = ["text", "code", "web", "video"]
RESULTS = Path(__file__).resolve().parent / "results" / "screen_pipeline.json"
SCENE_APP = Path(__file__).with_name("screen_scenes.py")
MODEL_EDGE = 768


# ------------------------------------------------------------ the seed's approach


def seed_key(frame: np.ndarray) -> str:
    return hashlib.md5(frame.reshape(-1)[::1000].tobytes()).hexdigest()


def seed_jpeg(frame: np.ndarray) -> bytes:
    img = Image.frombuffer("RGBA", (frame.shape[1], frame.shape[0]), frame.tobytes(), "raw", "BGRA", 0, 1)
    out = io.BytesIO()
    img.convert("RGB").save(out, "JPEG", quality=75)
    return out.getvalue()


class SeedPath:
    """Capture, hash, and a full-size JPEG when the hash changed (None when it did not)."""

    def __init__(self, capture: ScreenCapture) -> None:
        self.capture = capture
        self.last_key = ""
        self.frame: np.ndarray | None = None

    def sample(self) -> bytes | None:
        frame = self.capture.grab()
        key = seed_key(frame)
        if key == self.last_key:
            return None
        self.last_key, self.frame = key, frame
        return seed_jpeg(frame)


def pillow_block_means(frame: np.ndarray, k: int) -> np.ndarray:
    """rholive's box resize before issue 16: Pillow's `reduce` for every factor."""
    h, w = frame.shape[:2]
    image = Image.frombuffer("RGBX", (w, h), frame, "raw", "RGBX", 0, 1)
    return np.asarray(image.reduce(k, (0, 0, w // k * k, h // k * k)))


class PreviousPath:
    """rholive before issue 16: gate on the full-size frame (8 px blocks), then Pillow resize + JPEG quality 80."""

    def __init__(self, capture: ScreenCapture, max_edge: int) -> None:
        self.capture = capture
        self.max_edge = max_edge
        self.gate = FrameGate()

    def sample(self, t: float) -> bytes | None:
        frame = self.capture.grab()
        if isinstance(self.gate.decide(frame, t), SkipFrame):
            return None
        k = shrink_factor(frame.shape[1], frame.shape[0], self.max_edge)
        return encode_jpeg(pillow_block_means(frame, k), 80)


# ------------------------------------------------------------ real screens


@contextmanager
def xvfb(width: int, height: int) -> Iterator[str]:
    read_fd, write_fd = os.pipe()
    proc = subprocess.Popen(
        [
            "Xvfb",
            "-displayfd",
            str(write_fd),
            "-screen",
            "0",
            f"{width}x{height}x24",
            "-nolisten",
            "tcp",
            "-noreset",
        ],
        pass_fds=(write_fd,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write_fd)
    try:
        with os.fdopen(read_fd, "rb") as pipe:
            number = pipe.readline().strip().decode()
        if not number:
            raise RuntimeError("Xvfb did not start")
        yield f":{number}"
    finally:
        proc.terminate()
        proc.wait()


class Scenes:
    """The Qt app in its own process; `show` returns once the drawing reached the X server."""

    def __init__(self, display: str) -> None:
        env = {**os.environ, "DISPLAY": display, "QT_QPA_PLATFORM": "xcb"}
        self.proc = subprocess.Popen(
            [sys.executable, str(SCENE_APP)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )

    def show(self, scene: str, n: int) -> None:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(f"show {scene} {n}\n")
        self.proc.stdin.flush()
        if self.proc.stdout.readline().strip() != "ok":
            raise RuntimeError(f"the scene app failed (exit {self.proc.poll()})")

    def close(self) -> None:
        if self.proc.stdin:
            self.proc.stdin.write("quit\n")
            self.proc.stdin.close()
        self.proc.wait(timeout=20)


def cpu_ms(fn: Callable[..., Any], *args: Any) -> tuple[float, Any]:
    start = time.process_time()
    result = fn(*args)
    return (time.process_time() - start) * 1000, result


def settle(capture: ScreenCapture) -> np.ndarray:
    """Capture until two consecutive grabs agree (the X server finished drawing); a copy."""
    previous = capture.grab().copy()
    for _ in range(40):
        frame = capture.grab().copy()
        if np.array_equal(frame, previous):
            return frame
        previous = frame
        time.sleep(0.02)
    return previous


# ------------------------------------------------------------ legibility


def ocr_words(rgb: np.ndarray, width: int) -> list[str]:
    img = Image.fromarray(rgb).convert("L")
    if np.asarray(img).mean() < 110:  # light text on a dark theme: tesseract reads dark on light
        img = ImageOps.invert(img)
    img = img.resize((width, round(img.height * width / img.width)), Image.Resampling.LANCZOS)
    png = io.BytesIO()
    img.save(png, "PNG")
    out = subprocess.run(
        ["tesseract", "stdin", "stdout", "--psm", "3"], input=png.getvalue(), capture_output=True, check=True
    ).stdout.decode()
    return words_of(out)


def model_view(rgb: np.ndarray) -> np.ndarray:
    h, w = rgb.shape[:2]
    scale = MODEL_EDGE / max(w, h)
    if scale >= 1:
        return rgb
    size = (round(w * scale), round(h * scale))
    return np.asarray(Image.fromarray(rgb).resize(size, Image.Resampling.BOX))


def recall(got: list[str], reference: list[str]) -> float:
    hits = Counter(got) & Counter(reference)
    return sum(hits.values()) / max(1, len(reference))


def legibility(
    scene: str, n: int, lossless: np.ndarray, seed: bytes, ours: bytes, before: bytes
) -> dict[str, Any]:
    width = 2 * lossless.shape[1]
    known = set(scene_words(scene, n))
    images = {
        "lossless": lossless[..., 2::-1].copy(),
        "seed": simplejpeg.decode_jpeg(seed),
        "ours": simplejpeg.decode_jpeg(ours),
        "before": simplejpeg.decode_jpeg(before),
    }
    images["seed_model_view"] = model_view(images["seed"])
    images["ours_model_view"] = model_view(images["ours"])
    images["before_model_view"] = model_view(images["before"])
    with ThreadPoolExecutor(2) as pool:  # tesseract runs in its own processes
        words = dict(zip(images, pool.map(lambda im: ocr_words(im, width), images.values()), strict=True))
    reference = [w for w in words.pop("lossless") if w in known]
    return {"reference_words": len(reference), **{k: recall(v, reference) for k, v in words.items()}}


# ------------------------------------------------------------ the run


async def run_scene(
    scenes: Scenes, capture: ScreenCapture, scene: str, frames: int, ocr_frames: int, quality: int
) -> dict[str, Any]:
    first = 1
    ours = ScreenSource(ScreenConfig(quality=quality))
    await ours.open()
    before = PreviousPath(capture, ours.config.max_edge)
    seed = SeedPath(capture)
    rows: list[dict[str, Any]] = []
    ocr: list[dict[str, Any]] = []
    for i in range(frames):
        n = first + i
        scenes.show(scene, n)
        lossless = settle(capture)
        t = float(i) * 2.0  # past the gate's rate limit: every real change is sent
        row: dict[str, Any] = {}
        jpegs: dict[str, bytes] = {}
        order = ["ours", "before", "seed"] if i % 2 == 0 else ["seed", "before", "ours"]
        for name in order:
            if name == "seed":
                row["seed_ms"], jpeg = cpu_ms(seed.sample)
            elif name == "before":
                row["before_ms"], jpeg = cpu_ms(before.sample, t)
            else:
                row["ours_ms"], result = await timed_sample(ours, t)
                jpeg = result.jpeg if isinstance(result, ScreenFrame) else None
            row[f"{name}_bytes"] = len(jpeg) if jpeg else None
            if jpeg:
                jpegs[name] = jpeg
        row["capture_ms"], _ = cpu_ms(capture.grab)
        rows.append(row)
        if i < ocr_frames and len(jpegs) == 3:
            ocr.append(legibility(scene, n, lossless, jpegs["seed"], jpegs["ours"], jpegs["before"]))
    await ours.aclose()
    return summarize(scene, rows, ocr)


async def timed_sample(source: ScreenSource, t: float) -> tuple[float, ScreenFrame | Any]:
    """CPU ms of one `sample()` (it runs in the source's worker thread; process time counts every thread)."""
    start = time.process_time()
    result = await source.sample(t)
    return (time.process_time() - start) * 1000, result


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def summarize(scene: str, rows: list[dict[str, Any]], ocr: list[dict[str, Any]]) -> dict[str, Any]:
    sent = [r for r in rows if r["ours_bytes"] and r["seed_bytes"] and r["before_bytes"]]
    out: dict[str, Any] = {"scene": scene, "frames": len(rows), "frames_all_sent": len(sent)}
    for name in ("ours", "before", "seed"):
        out[f"{name}_ms"] = median([r[f"{name}_ms"] for r in sent])
        out[f"{name}_bytes"] = median([r[f"{name}_bytes"] for r in sent])
    out["capture_ms"] = median([r["capture_ms"] for r in sent])
    out["time_ratio"] = out["ours_ms"] / out["seed_ms"]
    # The same capture is in both: the ratio of what each does with the frame.
    out["time_ratio_after_capture"] = (out["ours_ms"] - out["capture_ms"]) / (
        out["seed_ms"] - out["capture_ms"]
    )
    out["before_time_ratio"] = out["before_ms"] / out["seed_ms"]
    out["bytes_ratio"] = out["ours_bytes"] / out["seed_bytes"]
    out["before_bytes_ratio"] = out["before_bytes"] / out["seed_bytes"]
    out["per_frame_time_ratios"] = [r["ours_ms"] / r["seed_ms"] for r in sent]
    if ocr:
        out["ocr"] = {k: statistics.mean(o[k] for o in ocr) for k in ocr[0]}
    return out


def idle(scenes: Scenes, capture: ScreenCapture, scene: str, samples: int, period: float) -> dict[str, Any]:
    """Per sample at rest: ours (capture, shrink, gate) and the previous path (capture, full-size gate)."""
    scenes.show(scene, 0)
    source = ScreenSource(ScreenConfig())
    before = PreviousPath(capture, source.config.max_edge)

    async def go() -> dict[str, Any]:
        await source.open()
        times: dict[str, list[float]] = {"ours": [], "before": []}
        for i in range(samples):
            t = i * period
            for name in ("ours", "before") if i % 2 else ("before", "ours"):
                if name == "ours":
                    ms_, _ = await timed_sample(source, t)
                else:
                    ms_, _ = cpu_ms(before.sample, t)
                times[name].append(ms_)
            await asyncio.sleep(period)
        await source.aclose()
        return {
            "scene": scene,
            "samples": samples,
            "ours_ms": median(times["ours"][1:]),
            "before_ms": median(times["before"][1:]),
            "ours_skipped": dict(source.gate.stats.skipped),
            "ours_sent": source.gate.stats.sent,
            "ours_captures": source.captures,
        }

    return asyncio.run(go())


# ------------------------------------------------------------ frames sent per minute (the gate's decisions)


def text_frame(w: int, h: int, seed: int) -> np.ndarray:
    """White page with dark text-like rows of 8x16 px glyph cells."""
    rng = np.random.default_rng(seed)
    cells = rng.random((h // 16, w // 8, 11, 6)) < 0.45
    cells &= rng.random((h // 16, w // 8, 1, 1)) < 0.8  # spaces
    frame = np.full((h, w, 4), 245, np.uint8)
    glyphs = np.zeros((cells.shape[0], 16, cells.shape[1], 8), bool)
    glyphs[:, 2:13, :, 1:7] = cells.transpose(0, 2, 1, 3)
    frame[: cells.shape[0] * 16, : cells.shape[1] * 8, :3][glyphs.reshape(cells.shape[0] * 16, -1)] = 25
    return frame


def minute_scenes(w: int, h: int, fps: float) -> dict[str, list[np.ndarray]]:
    """A static screen; the same with the cursor wandering; someone typing 5 characters a second."""
    n = int(60 * fps)
    base = text_frame(w, h, 1)
    cursor = []
    for i in range(n):
        f = base.copy()
        x, y = 100 + (i * 37) % (w - 300), 100 + (i * 23) % (h - 280)
        f[y : y + 19, x : x + 12, :3] = 0
        cursor.append(f)
    editor = base.copy()
    editor[h // 2 :, :, :3] = 245  # the lower half is where new code is typed
    full = text_frame(w, h, 2)
    typing = []
    for i in range(n):
        row, col = divmod(int(i / fps * 5), 80)
        f = editor.copy()
        y0 = h // 2
        f[y0 : y0 + row * 16, : 80 * 8] = full[y0 : y0 + row * 16, : 80 * 8]
        f[y0 + row * 16 : y0 + row * 16 + 16, : col * 8] = full[y0 + row * 16 : y0 + row * 16 + 16, : col * 8]
        typing.append(f)
    return {"static screen": [base] * n, "static screen, cursor moving": cursor, "typing (5 chars/s)": typing}


class Replay:
    """A grabber that hands out recorded frames in turn."""

    def __init__(self, frames: list[np.ndarray]) -> None:
        self.frames = iter(frames)

    def grab(self) -> np.ndarray:
        return next(self.frames)

    def close(self) -> None:
        pass


def sends_per_minute(w: int = 1920, h: int = 1080, fps: float = 2.0) -> dict[str, dict[str, int]]:
    """Frames sent in one minute sampled at `fps` (the first frame not counted): ours, previous, seed."""
    out = {}
    for name, frames in minute_scenes(w, h, fps).items():
        source = ScreenSource(ScreenConfig(), open_grabber=lambda f=frames: Replay(f))

        async def ours(src: ScreenSource = source, count: int = len(frames)) -> int:
            await src.open()
            sent = sum([isinstance(await src.sample(i / fps), ScreenFrame) for i in range(count)])
            await src.aclose()
            return sent - 1

        gate = FrameGate()
        previous = sum(isinstance(gate.decide(f, i / fps), SendFrame) for i, f in enumerate(frames)) - 1
        keys = [seed_key(f) for f in frames]
        seed = sum(a != b for a, b in itertools.pairwise(keys))
        out[name] = {"ours": asyncio.run(ours()), "previous": previous, "seed": seed}
    return out


def machine() -> str:
    return f"{cpu_model()}, {os.cpu_count()} cores, Python {platform.python_version()}"


def table(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| screen | capture ms | ours ms | previous ms | seed ms | ours / seed time (after capture) | previous / seed | "
        "ours bytes | "
        "previous bytes | seed bytes | ours / seed bytes | OCR recall seed / ours / previous "
        "(as the model sees: seed / ours / previous) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        ocr = r.get("ocr")
        legible = (
            f"{ocr['seed']:.2f} / {ocr['ours']:.2f} / {ocr['before']:.2f} ({ocr['seed_model_view']:.2f} / "
            f"{ocr['ours_model_view']:.2f} / {ocr['before_model_view']:.2f}), "
            f"{ocr['reference_words']:.0f} words"
            if ocr
            else "—"
        )
        lines.append(
            f"| {r['scene']} | {r['capture_ms']:.1f} | {r['ours_ms']:.1f} | {r['before_ms']:.1f} | {r['seed_ms']:.1f} | "
            f"{r['time_ratio']:.2f} ({r['time_ratio_after_capture']:.2f}) | {r['before_time_ratio']:.2f} | "
            f"{r['ours_bytes']:,.0f} | "
            f"{r['before_bytes']:,.0f} | {r['seed_bytes']:,.0f} | {r['bytes_ratio']:.2f} | {legible} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=30, help="versions of each scene (frames timed)")
    parser.add_argument(
        "--ocr-frames", type=int, default=1, help="frames per scene read by tesseract (0: none)"
    )
    parser.add_argument("--idle-samples", type=int, default=30)
    parser.add_argument("--size", default="1920x1080")
    parser.add_argument("--quality", type=int, default=ScreenConfig().quality, help="our JPEG quality")
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.split("x"))
    config = ScreenConfig(quality=args.quality)
    print(
        f"machine: {machine()}; load average before: {os.getloadavg()[0]:.2f}; {args.size} on Xvfb; "
        f"ours: long edge <= {config.max_edge} px, JPEG quality {config.quality}; CPU ms of this process per frame, "
        "medians",
        flush=True,
    )
    with xvfb(width, height) as display:
        os.environ["DISPLAY"] = display
        scenes = Scenes(display)
        try:
            with ScreenCapture() as capture:
                rows = [
                    asyncio.run(run_scene(scenes, capture, scene, args.frames, args.ocr_frames, args.quality))
                    for scene in SCENES
                ]
                rest = [idle(scenes, capture, scene, args.idle_samples, 0.25) for scene in ("text", "code")]
        finally:
            scenes.close()
    print(table(rows))
    all_ratios = [x for r in rows for x in r["per_frame_time_ratios"]]
    print(
        f"\nall screens: ours / seed time, median of per-frame ratios {median(all_ratios):.2f}; "
        f"bytes ours / seed per screen: " + ", ".join(f"{r['scene']} {r['bytes_ratio']:.2f}" for r in rows)
    )
    print(
        "\nat rest, per sample (ours: damage check, capture only when drawn or every 5 s; previous: capture + "
        "full-size gate): ",
        end="",
    )
    print(
        "; ".join(
            f"{r['scene']}: ours {r['ours_ms']:.2f} ms, previous {r['before_ms']:.2f} ms "
            f"(ours sent {r['ours_sent']}, skipped {r['ours_skipped']}, captured {r['ours_captures']} "
            f"of {r['samples']})"
            for r in rest
        )
    )
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    minute = sends_per_minute()
    print(
        "\nframes sent per minute (synthetic 1920x1080 text, sampled at 2 frames/s, at most 1 FPS): ", end=""
    )
    print(
        "; ".join(
            f"{k}: ours {v['ours']}, previous {v['previous']}, seed {v['seed']}" for k, v in minute.items()
        )
    )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    report = {
        "machine": machine(),
        "size": args.size,
        "method": "CPU time of this process (time.process_time, all threads) per frame on real screens under Xvfb, "
        "medians over the frames; the machine was shared with other work",
        "quality": config.quality,
        "max_edge": config.max_edge,
        "scenes": rows,
        "at_rest": rest,
        "sends_per_minute": minute,
    }
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
