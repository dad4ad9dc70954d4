"""Render the demo's bundled screenshot: a coding problem in an editor-like window, 1280x720, as a small JPEG.

Needs Pillow (not a dependency of rholive: `uv run --with pillow python scripts/make_demo_screens.py`, or any
Python with Pillow). Writes src/rholive/data/screen_problem.jpg; `rholive demo` decodes it with simplejpeg.
"""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

OUT = Path(__file__).resolve().parents[1] / "src" / "rholive" / "data" / "screen_problem.jpg"
WIDTH, HEIGHT = 1280, 720
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf"

PROBLEM = [
    "Problem: second largest",
    "",
    "Given a list of integers, return the second largest",
    "distinct value, or None when there is none.",
    "",
    "  second_largest([3, 1, 4, 4]) == 3",
    "  second_largest([7, 7]) is None",
]
CODE = [
    "def second_largest(nums):",
    "    ordered = sorted(nums)",
    "    return ordered[-2]",
    "",
    "",
    "assert second_largest([3, 1, 4, 4]) == 3",
    "# AssertionError: 4 != 3",
]


def font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    try:
        return ImageFont.truetype(FONT, size)
    except OSError:
        return ImageFont.load_default()


def render() -> Image.Image:
    image = Image.new("RGB", (WIDTH, HEIGHT), (245, 245, 245))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, WIDTH, 36), fill=(60, 63, 65))
    draw.text((16, 8), "solution.py — editor", fill=(230, 230, 230), font=font(18))
    draw.rectangle((0, 36, 560, HEIGHT), fill=(255, 255, 255))  # the problem statement pane
    for i, line in enumerate(PROBLEM):
        draw.text((24, 64 + i * 34), line, fill=(20, 20, 20), font=font(22 if i == 0 else 18))
    draw.rectangle((560, 36, WIDTH, HEIGHT), fill=(40, 42, 54))  # the code pane
    for i, line in enumerate(CODE):
        colour = (255, 120, 120) if line.startswith("# Assertion") else (235, 235, 235)
        draw.text((584, 64 + i * 32), f"{i + 1:>2}  {line}", fill=colour, font=font(20))
    return image


def main() -> None:
    buffer = io.BytesIO()
    render().save(buffer, "JPEG", quality=70, optimize=True)
    OUT.write_bytes(buffer.getvalue())
    print(f"{OUT}: {len(buffer.getvalue())} bytes")


if __name__ == "__main__":
    main()
