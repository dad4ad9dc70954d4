"""How much transcript does the lexical cue need? Whisper settings replayed on the dev pauses.

    uv run python benchmarks/endpointing_words.py benchmarks/results/endpointing_probe_dev*.json

The probe records (`endpointing_probe.py`) hold, for every pause of the dev sets, the words
Whisper tiny.en heard with the default settings (2 s of audio, 16 tokens). This script renders the
same recordings again, transcribes the audio before each pause with other settings (a shorter
stretch, fewer tokens), measures the CPU time of each call, and replays our rule over the records
with those words (`simulate`, the transcript's median CPU time charged to every close). Dev sets
only: it is how the transcriber's settings are chosen, never on the test sentences.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from endpointing import build_set
from endpointing_corpus import split_set
from endpointing_probe import simulate

from rholive.audio.endpointing import LexicalPolicy
from rholive.audio.lexical import TinyWhisper, continues
from rholive.audio.synthetic import RATE

SPM = RATE // 1000
PREROLL_MS = 400  # the segmenter's turn audio starts this long before the onset
LISTEN_AT_MS = 64  # about where in the pause the gate transcribes (first consult)
VARIANTS = ((2.0, 16), (1.5, 12), (1.25, 10))


def audio_before(pcm: np.ndarray, r: dict) -> np.ndarray:
    onset = r["start_ms"] - r["turn_ms"]
    a = max(0, int((onset - PREROLL_MS) * SPM))
    return pcm[a : int((r["start_ms"] + LISTEN_AT_MS) * SPM)]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("records", nargs="+", help="probe records, named ..._dev<seed>.json")
    args = ap.parse_args()
    by_seed: dict[int, list[dict]] = {}
    for path in args.records:
        seed = int(Path(path).stem.rsplit("dev", 1)[1])
        by_seed[seed] = json.loads(Path(path).read_text())
    lines = [
        "| seconds | max tokens | CPU ms/call (median) | same verdict as 2 s/16 | p50 ms | p90 ms | closes inside a sentence |",
        "|---|---|---|---|---|---|---|",
    ]
    for seconds, tokens in VARIANTS:
        whisper = TinyWhisper(seconds=seconds, max_tokens=tokens)
        cpu: list[float] = []
        records: list[dict] = []
        same = total = 0
        for seed, recs in by_seed.items():
            pcms = {f"{it.name} {it.noise}": it.conv.pcm for it in build_set(split_set("dev"), False, seed)}
            for r in recs:
                r = dict(r)
                if "words" in r:
                    audio = audio_before(pcms[r["rec"]], r)
                    t0 = time.process_time()
                    text = whisper(audio)
                    cpu.append(1000 * (time.process_time() - t0))
                    whole = len(audio) <= seconds * RATE
                    old = continues(r["words"] or "", None if r["words_whole"] else 2)
                    new = continues(text, None if whole else 2)
                    same += old == new
                    total += 1
                    r["words"], r["words_whole"] = text, whole
                records.append(r)
        records = [r for r in records if not (r["label"] == "other" and r["length_ms"] >= 1000)]
        ends = sum(r["label"] == "end" for r in records)
        ms = statistics.median(cpu)
        res = simulate(records, LexicalPolicy(), model_ms=0.0, words_ms=ms)
        lines.append(
            f"| {seconds} | {tokens} | {ms:.0f} | {same}/{total} | {res['p50']:.0f} | {res['p90']:.0f} "
            f"| {res['splits']} ({100 * res['splits'] / ends:.1f}%) |"
        )
        print(lines[-1], file=sys.stderr)
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
