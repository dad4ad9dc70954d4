"""Train the end-of-utterance text model on text the project generates itself.

    uv run python benchmarks/endpointing_train_text.py [--sentences 40000] [--seed 1] [--asr]

Sentences come from `endpointing_grammar.py` (seed 1; the tuning split renders other seeds of the
same grammar, the held-out split never uses it). Every prefix of a sentence is an example: the
label is whether the words so far make a whole turn (the grammar knows). Some examples keep only
the last few words, as the recogniser hears only the last seconds before a pause. A logistic
model, L2-regularised, full-batch gradient descent in numpy. `--asr` adds what Whisper tiny.en wrote
for generated speech cut at a known place (`endpointing_asr_text.py`, weighted `--asr-weight`
times), so the model also learns how the recogniser renders an unfinished phrase; features seen fewer than 3 times are
dropped and tiny weights pruned. Writes src/rholive/audio/eou_text_weights.json (deterministic).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from endpointing_grammar import OPEN_WORDS, sentence

from rholive.audio.eou_text import UNK, WEIGHTS, EouTextModel, features


def examples(n: int, seed: int) -> tuple[list[list[str]], np.ndarray]:
    rng = np.random.default_rng(seed)
    feats: list[list[str]] = []
    labels: list[float] = []
    for _ in range(n):
        toks = sentence(rng)
        ws = [t.word.lower() for t in toks]
        ws = [" ".join(UNK if w in OPEN_WORDS and rng.random() < 0.25 else w for w in x.split()) for x in ws]
        for k in range(1, len(toks) + 1):
            said = " ".join(ws[:k]).split()  # multi-word tokens ("by the way") split into words
            label = 1.0 if k == len(toks) else float(toks[k - 1].complete)
            comma = any(t.comma for t in toks[: k - 1])
            feats.append(features(said, whole=True, comma=comma))
            labels.append(label)
            if len(said) > 2 and rng.random() < 0.5:  # the recogniser's window: only the tail
                keep = int(rng.integers(1, min(len(said), 6)))
                feats.append(features(said[-keep:], whole=False))
                labels.append(label)
    return feats, np.array(labels)


def asr_examples(path: Path, repeat: int) -> tuple[list[list[str]], list[float]]:
    from rholive.audio.eou_text import said_words
    from rholive.audio.lexical import strip_repeats

    feats: list[list[str]] = []
    labels: list[float] = []
    for r in json.loads(path.read_text()):
        said = said_words(r["words"])
        comma = "," in strip_repeats(r["words"]).rstrip(" ,")
        feats += [features(said, r["whole"], comma)] * repeat
        labels += [float(r["complete"])] * repeat
    return feats, labels


def train(feats: list[list[str]], y: np.ndarray, min_count: int = 3, l2: float = 1e-4, steps: int = 400):
    counts: dict[str, int] = {}
    for fs in feats:
        for f in fs:
            counts[f] = counts.get(f, 0) + 1
    vocab = sorted(f for f, c in counts.items() if c >= min_count)
    index = {f: i for i, f in enumerate(vocab)}
    rows, cols = [], []
    for r, fs in enumerate(feats):
        for f in fs:
            if f in index:
                rows.append(r)
                cols.append(index[f])
    rows_a, cols_a = np.array(rows), np.array(cols)
    w = np.zeros(len(vocab))
    m = np.zeros_like(w)
    v = np.zeros_like(w)
    lr, b1, b2 = 0.1, 0.9, 0.999
    n = len(y)
    for step in range(1, steps + 1):  # Adam on the mean log-loss
        z = np.bincount(rows_a, weights=w[cols_a], minlength=n)
        p = 1.0 / (1.0 + np.exp(-z))
        g = np.bincount(cols_a, weights=(p - y)[rows_a], minlength=len(w)) / n + l2 * w
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        w -= lr * (m / (1 - b1**step)) / (np.sqrt(v / (1 - b2**step)) + 1e-8)
    z = np.bincount(rows_a, weights=w[cols_a], minlength=n)
    p = 1.0 / (1.0 + np.exp(-z))
    loss = float(-np.mean(y * np.log(p + 1e-9) + (1 - y) * np.log(1 - p + 1e-9)))
    acc = float(np.mean((p > 0.5) == (y > 0.5)))
    return {f: float(w[i]) for f, i in index.items() if abs(w[i]) >= 0.02 or f == "bias"}, loss, acc


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sentences", type=int, default=40000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", default=str(WEIGHTS))
    ap.add_argument("--asr", action="store_true", help="add Whisper's transcripts of generated speech")
    ap.add_argument("--asr-weight", type=int, default=5)
    args = ap.parse_args(argv)
    feats, y = examples(args.sentences, args.seed)
    if args.asr:
        more, labels = asr_examples(
            Path(__file__).parent / "results" / "endpointing_asr_text.json", args.asr_weight
        )
        feats += more
        y = np.concatenate((y, np.array(labels)))
    weights, loss, acc = train(feats, y)
    EouTextModel(weights).save(Path(args.out))
    print(
        f"{len(y)} examples ({y.mean():.0%} complete), {len(weights)} weights, log-loss {loss:.3f}, accuracy {acc:.1%}"
    )
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
