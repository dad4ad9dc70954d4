"""How complete are the words before a pause? A tiny end-of-utterance text model.

A logistic model over the last one, two and three words of a transcript (and, when the transcript
is the whole turn, its length and first word): p(the words so far make a whole turn). It is
trained here, on text the project generates itself (`benchmarks/endpointing_grammar.py`, trained
by `benchmarks/endpointing_train_text.py`), and its weights ship inside the package
(`eou_text_weights.json`, ~100 KB): nothing is downloaded, nothing listed by hand. The
punctuation the recogniser wrote is not a feature here: the end-of-turn policy weighs it
separately, with weights chosen on real transcripts of the tuning split.
"""

from __future__ import annotations

import json
import math
from functools import cache
from pathlib import Path

from rholive.audio.lexical import strip_repeats, words

WEIGHTS = Path(__file__).with_name("eou_text_weights.json")
UNK = "<unk>"  # a word the model never saw: judged by the words around it


def features(said: list[str], whole: bool, comma: bool = False) -> list[str]:
    """The model's features of a run of lower-case words (the tail of a turn unless `whole`);
    `comma`: the transcript has a comma before its end (an opening "if ..." has had its clause)."""
    out = ["bias"]
    if not said:
        return [*out, "empty"]
    out.append("1:" + said[-1])
    if len(said) >= 2:
        out.append("2:" + " ".join(said[-2:]))
    if len(said) >= 3:
        out.append("3:" + " ".join(said[-3:]))
    if whole:
        out.append(f"n:{min(len(said), 5)}")
        if len(said) <= 3:
            out.append("f:" + said[0])
        out.append(f"c{int(comma)}:" + said[0])
    return out


def said_words(text: str) -> list[str]:
    """Lower-case words of a transcript, Whisper's repeats after the real end dropped."""
    return [w.strip("'") for w in words(strip_repeats(text))]


def end_punctuation(text: str) -> str:
    """The mark the transcript ends with after its repeats are dropped: ".", "?", "!", ",", or "" for none."""
    kept = strip_repeats(text).rstrip()
    if kept.endswith(("...", "\u2026")):
        return ","  # a trailing ellipsis is Whisper's "goes on"
    return kept[-1] if kept and kept[-1] in ".?!," else ""


class EouTextModel:
    """p(complete) of a transcript; `weights` maps feature -> log-odds weight."""

    def __init__(self, weights: dict[str, float]):
        self.weights = weights

    def known(self, word: str) -> str:
        return word if "1:" + word in self.weights else UNK

    def logit(self, text: str, whole: bool) -> float:
        w = self.weights
        said = [self.known(x) for x in said_words(text)]
        comma = "," in strip_repeats(text).rstrip(" ,")
        return sum(w.get(f, 0.0) for f in features(said, whole, comma))

    def __call__(self, text: str, whole: bool) -> float:
        return 1.0 / (1.0 + math.exp(-self.logit(text, whole)))

    def save(self, path: Path) -> None:
        data = {k: round(v, 3) for k, v in sorted(self.weights.items())}
        path.write_text(json.dumps(data, separators=(",", ":")) + "\n")


@cache
def bundled() -> EouTextModel:
    """The weights shipped with rholive (trained by benchmarks/endpointing_train_text.py)."""
    return EouTextModel(json.loads(WEIGHTS.read_text()))
