"""Regenerate `src/rholive/data/demo.ogg`, the spoken sample `rholive demo` plays (needs espeak-ng).

Two short turns said by espeak-ng with a 2 s gap between them, encoded as a small mono OGG/Opus file.
Run: `uv run python scripts/make_demo_audio.py`.
"""

from __future__ import annotations

from pathlib import Path

from rholive.audio.codec import encode_ogg_opus
from rholive.audio.synthetic import Clause, render

TURNS = [
    [Clause("Hello, can you hear me clearly?")],
    [Clause("I am trying out the live copilot,", 250), Clause("and I would like to see how it answers.")],
]
TARGET = Path(__file__).resolve().parents[1] / "src" / "rholive" / "data" / "demo.ogg"


def main() -> None:
    conv = render(TURNS, gaps_ms=2000, lead_ms=600, tail_ms=1500)
    data = encode_ogg_opus(conv.to_bytes(), rate=16000, bitrate=16000)
    TARGET.parent.mkdir(parents=True, exist_ok=True)
    TARGET.write_bytes(data)
    print(
        f"{TARGET}: {len(data)} bytes, {conv.duration_ms / 1000:.1f} s, turns at "
        + ", ".join(f"{t.start_ms / 1000:.2f}-{t.end_ms / 1000:.2f} s" for t in conv.turns)
    )


if __name__ == "__main__":
    main()
