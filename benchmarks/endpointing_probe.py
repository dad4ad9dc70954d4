"""Tuning aid for the end-of-turn policy: what smart-turn says at each point of each pause.

    uv run python benchmarks/endpointing_probe.py [--set dev] [--seed 7] [--out PATH]
    uv run python benchmarks/endpointing_probe.py --tradeoff benchmarks/results/endpointing_probe_dev*.json

Runs our segmenter over the benchmark set with a recording policy that transcribes the last
words before every pause (Whisper tiny.en, the `asr` extra), asks smart-turn on a grid of pause
lengths and never closes before 1 s of silence. Every pause is labelled from the ground truth
(`end` of a turn, `hesitation` or `clause` pause inside a sentence, `other`: a dip inside speech
or noise) and saved with its transcript, model answers, the turn's length so far and the pitch
cues of its last syllables. `simulate()` then replays any policy over these records in
milliseconds (without the CPU time of the models: the benchmark replays that), which is how the
settings of `AdaptivePolicy` and `LexicalPolicy` were chosen: on the dev sentences, rendered with
seeds 7 and 11 (`--set dev --seed 7`, `--seed 11`), never on the test sentences the README
figures come from.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from endpointing import build_set
from endpointing_corpus import split_set

from rholive.audio.endpointing import AdaptivePolicy, LexicalPolicy, Pause, Verdict
from rholive.audio.segmenter import Segmenter, SegmenterConfig
from rholive.audio.synthetic import RATE

GRID = (96, 160, 224, 288, 352, 416)


@dataclass
class Recorder:
    grid: tuple[int, ...] = GRID
    close_ms: float = 1000.0
    uses_model: bool = True
    uses_words: bool = True
    seen: list[Pause] = field(default_factory=list)

    def decide(self, pause: Pause) -> Verdict:
        if not pause.probs and (not self.seen or self.seen[-1] is not pause):
            self.seen.append(pause)
        if pause.pause_ms >= self.close_ms:
            return Verdict.SILENCE
        if not pause.words_done:
            return Verdict.LISTEN
        if not pause.cues_done and pause.pause_ms >= self.grid[0]:
            return Verdict.CUES
        k = len(pause.probs)
        if k < len(self.grid) and pause.pause_ms >= self.grid[k]:
            return Verdict.ASK
        return Verdict.WAIT


def label(pause: Pause, turns) -> str:
    s = pause.start_ms
    for t in turns:
        if t.end_ms - 80 <= s <= t.end_ms + 300:
            return "end"
        for (a, b), kind in zip(t.pauses, t.pause_kinds, strict=True):
            if a - 80 <= s <= b:
                return kind
    return "other"


def probe(set_name: str, seed: int = 7) -> list[dict]:
    records = []
    for it in build_set(split_set(set_name), quick=False, seed=seed):
        rec = Recorder()
        seg = Segmenter(SegmenterConfig(policy=rec))
        raw = it.conv.to_bytes()
        step = 320
        for k in range(0, len(it.conv.pcm), step):
            seg.push(raw[2 * k : 2 * (k + step)], k * 1000 / RATE)
        seg.finish()
        for p in rec.seen:
            lab = label(p, it.conv.turns)
            t_end = next(
                (t.end_ms for t in it.conv.turns if t.end_ms - 80 <= p.start_ms <= t.end_ms + 300), None
            )
            records.append(
                {
                    "rec": f"{it.name} {it.noise}",
                    "label": lab,
                    "start_ms": p.start_ms,
                    "length_ms": p.pause_ms,
                    "turn_ms": p.turn_ms,
                    "speech_ms": p.speech_ms,
                    "tail_slope": p.tail_slope,
                    "end_level": p.end_level,
                    "probs": p.probs,
                    "words": p.words,
                    "words_whole": p.words_whole,
                    "true_end_ms": t_end,
                }
            )
        print(f"{it.name} {it.noise}: {len(rec.seen)} pauses", file=sys.stderr)
    return records


def simulate(
    records: list[dict], policy, model_ms: float = 50.0, window_ms: float = 32.0, words_ms: float = 0.0
) -> dict:
    """Replay `policy` over recorded pauses: closes at `end` pauses give latencies, closes at
    any other pause are splits. Only checkpoints on the probe's grid can be answered.
    `words_ms`: CPU time of the transcript, taken at the first checkpoint; no close is out
    before it is done (a rough stand-in for the benchmark's CPU replay)."""
    lat, splits, inner, ends = [], 0, 0, 0
    for r in records:
        answers = {round(a): p for a, p in r["probs"]}
        pause = Pause(
            0.0,
            r["turn_ms"],
            r["speech_ms"],
            tail_slope=r["tail_slope"],
            end_level=r.get("end_level"),
            start_ms=r["start_ms"],
            cues_done=True,
            words=r.get("words"),
            words_whole=r.get("words_whole", False),
            words_done="words" in r,
        )
        closed_at = None
        asked = False
        t = window_ms
        while t <= r["length_ms"] + 1e-6:
            pause.pause_ms = t
            for _ in range(16):
                v = policy.decide(pause)
                if v is Verdict.CUES:
                    raise AssertionError("cues are recorded, never asked for")
                if v is Verdict.LISTEN:
                    raise AssertionError("words are recorded, never asked for")
                if v is Verdict.ASK:
                    key = min(answers, key=lambda a: abs(a - t)) if answers else None
                    if key is None or abs(key - t) > window_ms:
                        raise ValueError(f"checkpoint {t} ms not on the probe grid")
                    pause.probs.append((t, answers[key]))
                    asked = True
                    continue
                break
            if v in (Verdict.END_OF_TURN, Verdict.SILENCE):
                closed_at = (t, v, asked and v is Verdict.END_OF_TURN and pause.probs[-1][0] == t)
                break
            t += window_ms
        if r["label"] == "end":
            ends += 1
            if closed_at is not None:
                at, _, by_model = closed_at
                out_at = max(at, window_ms + words_ms) + (model_ms if by_model else 0.0)
                lat.append(r["start_ms"] + out_at - r["true_end_ms"])
        elif r["label"] in ("hesitation", "clause", "other"):
            if r["label"] != "other":
                inner += 1
            if closed_at is not None:
                splits += 1
    return {
        "p50": float(np.percentile(lat, 50)) if lat else None,
        "p90": float(np.percentile(lat, 90)) if lat else None,
        "ends": ends,
        "closed_ends": len(lat),
        "splits": splits,
        "inner_pauses": inner,
    }


def tradeoff(records: list[dict]) -> str:
    """Our rule at several settings replayed over recorded pauses (no model CPU time): the
    dev-set trade-off between splits and latency the defaults were chosen from."""
    # a pause labelled `other` that lasted to the probe's 1 s limit is a real end found late
    records = [r for r in records if not (r["label"] == "other" and r["length_ms"] >= 1000)]
    ends = sum(r["label"] == "end" for r in records)
    base = LexicalPolicy()
    rows: list[tuple[str, object]] = [("audio only (AdaptivePolicy)", AdaptivePolicy())]
    for bars in (((96.0, None),), ((96.0, 0.5),), ((96.0, 1.0),), ((96.0, 1.25),), ((192.0, 1.0),)):
        label = ", ".join(f"{m if m is not None else 'any'} at {t:.0f} ms" for t, m in bars)
        rows.append((f"last word, bar {label}", replace(base, bars=bars)))
    rows.append(
        ("last word, bars 1.0 at 96 ms + 0.5 at 384 ms", replace(base, bars=((96.0, 1.0), (384.0, 0.5))))
    )
    rows.append(("last word, bar 1.0 at 96 ms, hold 576 ms", replace(base, hold_ms=576.0)))
    lines = [
        f"dev pauses replayed: {ends} turn ends",
        "| rule | p50 ms | p90 ms | closes inside a sentence |",
        "|---|---|---|---|",
    ]
    for name, pol in rows:
        r = simulate(records, pol, model_ms=0.0)
        lines.append(
            f"| {name} | {r['p50']:.0f} | {r['p90']:.0f} | {r['splits']} ({100 * r['splits'] / ends:.1f}%) |"
        )
    return "\n".join(lines)


def grid(records: list[dict], words_ms: float) -> str:
    """Our rule over a grid of its close settings: the early bar (time, score) after a finished
    word and the fallback after one (`done_ms`), with the transcript's CPU time charged."""
    records = [r for r in records if not (r["label"] == "other" and r["length_ms"] >= 1000)]
    ends = sum(r["label"] == "end" for r in records)
    base = LexicalPolicy()
    lines = [
        f"dev pauses replayed: {ends} turn ends, transcript CPU {words_ms:.0f} ms",
        "| bar | done ms | p50 ms | p90 ms | closes inside a sentence |",
        "|---|---|---|---|---|",
    ]
    for at in (96.0, 128.0, 192.0):
        for bar in (0.75, 0.9, 1.0, 1.1):
            for done in (576.0, 480.0, 416.0, 352.0, 320.0, 288.0):
                pol = replace(base, bars=((at, bar),), done_ms=done)
                r = simulate(records, pol, model_ms=0.0, words_ms=words_ms)
                lines.append(
                    f"| {bar} at {at:.0f} ms | {done:.0f} | {r['p50']:.0f} | {r['p90']:.0f} "
                    f"| {r['splits']} ({100 * r['splits'] / ends:.1f}%) |"
                )
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--set", default="dev", choices=("dev", "test", "all"))
    ap.add_argument("--out", default="/tmp/endpointing_probe.json")
    ap.add_argument("--seed", type=int, default=7, help="another seed: other voices, pauses, noise")
    ap.add_argument("--tradeoff", nargs="+", metavar="RECORDS", help="replay our rule over saved records")
    ap.add_argument("--grid", action="store_true", help="with --tradeoff: a grid of close settings")
    ap.add_argument("--words-ms", type=float, default=170.0, help="with --grid: transcript CPU (ms)")
    args = ap.parse_args()
    if args.tradeoff and args.grid:
        recs = [r for path in args.tradeoff for r in json.loads(Path(path).read_text())]
        print(grid(recs, args.words_ms))
        return 0
    if args.tradeoff:
        print(tradeoff([r for path in args.tradeoff for r in json.loads(Path(path).read_text())]))
        return 0
    records = probe(args.set, args.seed)
    Path(args.out).write_text(json.dumps(records))
    print(f"wrote {len(records)} pauses to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
