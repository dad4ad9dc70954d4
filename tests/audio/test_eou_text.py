"""The end-of-utterance text model: it ships with the package, and it tells words that go on
from words that end, on sentences that are not in its training grammar."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from rholive.audio.eou_text import EouTextModel, bundled, end_punctuation, features

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))


@pytest.mark.parametrize(
    ("unfinished", "finished"),
    [
        ("My uncle is", "My uncle is a pilot."),
        ("We ran out of", "We ran out of printer paper again."),
        ("Where exactly did you", "Where exactly did you park the van?"),
        ("Pack the charger, the passport, and the", "Pack the charger, the passport, and the blue folder."),
        ("If the weather holds", "If the weather holds, we could have a picnic."),
    ],
)
def test_words_that_go_on_score_below_the_same_words_finished(unfinished: str, finished: str) -> None:
    model = bundled()
    assert model(unfinished, whole=True) < 0.3 < model(finished, whole=True)


def test_unseen_words_are_judged_by_their_place() -> None:
    model = bundled()
    assert model.known("zyzzogeton") == "<unk>"
    assert model("the zyzzogeton", whole=False) > model("the zyzzogeton of the", whole=False)


def test_end_punctuation_after_whispers_repeats() -> None:
    assert end_punctuation("Yes. Yes.") == "."
    assert end_punctuation("When I got home,") == ","
    assert end_punctuation("Really?") == "?"
    assert end_punctuation("and then...") == ","
    assert end_punctuation("so we") == ""


def test_training_on_generated_text_separates_ends_from_prefixes() -> None:
    from endpointing_train_text import examples, train

    feats, y = examples(400, seed=5)
    weights, _, acc = train(feats, y, min_count=1, steps=150)
    assert acc > 0.85
    model = EouTextModel(weights)
    rng = np.random.default_rng(6)
    from endpointing_grammar import sentence, text_of

    ends, prefixes = [], []
    for _ in range(100):
        toks = sentence(rng)
        ends.append(model(text_of(toks), whole=True))
        cut = [k for k in range(1, len(toks)) if not toks[k - 1].complete]
        if cut:
            prefixes.append(model(text_of(toks, cut[0]), whole=True))
    assert np.median(ends) > 0.5 > np.median(prefixes)
    assert features([], whole=True) == ["bias", "empty"]
