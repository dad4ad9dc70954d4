"""A small random grammar of spoken English turns: the text the end-of-utterance model learns
from, and the sentences of the tuning (dev) split. Never the held-out split's sentences: those
are written separately (`endpointing_heldout.py`) and this module does not import it.

    sentence(rng) -> list of Token

Each word carries what a listener knows after it: `complete` (the words so far make a whole
turn: "I called her" before "after lunch"), `comma` (a comma follows it), `hesitable` (a speaker
may hesitate here: inside a phrase, after a function word or before a complement). The grammar
covers statements, questions, short answers, lists, discourse openers, subordinate clauses,
complete trailing conjunctions ("..., and so on.") and self-corrections.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Token:
    word: str
    complete: bool = False
    comma: bool = False
    hesitable: bool = True
    end: str = ""  # the punctuation that ends the sentence after this word ("." "?" "!")


SUBJECTS = (
    "I|we|they|you|my sister|the client|our team|the new manager|my neighbour|everyone|nobody|he|she|the engineers|the bank"
).split("|")
VERBS_T = (
    "sent|fixed|checked|booked|called|moved|finished|cancelled|opened|found|lost|painted|tested|signed|read|"
    "printed|updated|cleaned|ordered|visited|reviewed|approved|missed|forgot|answered"
).split("|")
BASE_T = (
    "send|fix|check|book|call|move|finish|cancel|open|find|test|sign|read|print|update|clean|order|visit|review|answer"
).split("|")
BASE_I = "leave|stay|wait|agree|arrive|sleep|work late|give up|call back|come home".split("|")
VERBS_I = ("left|stayed|waited|agreed|arrived|slept|laughed|worked late|gave up|called back|came home").split(
    "|"
)
NOUNS = (
    "report|invoice|keys|ticket|kitchen|car|office|contract|budget|slides|server|train|meeting|window|app|"
    "printer|garden|email|package|proposal|numbers|schedule|room|flight|phone"
).split("|")
ADJ = "old|new|big|small|second|last|blue|whole|final|broken|cheap|other".split("|")
DETS = "the|my|our|your|that|this|their|a".split("|")
PLACES = (
    "in the office|at home|on the train|in Berlin|at the station|in the garden|downstairs|upstairs|outside"
).split("|")
TIMES = (
    "yesterday|last week|this morning|on Monday|after lunch|tonight|next year|at six|every day|again|already"
).split("|")
WH = "what|where|when|why|how|who|which one".split("|")
AUX_Q = "can|could|should|will|would|did|do".split("|")
SHORT = (
    "yes|no|okay|sure|right|exactly|maybe|thanks|perfect|fine|great|of course|not really|I see|got it|"
    "go on|sounds good|no problem|me too|why not|good morning|never mind|absolutely|definitely not|all right"
).split("|")
OPENERS = "so|well|actually|honestly|okay|anyway|you know|by the way|basically|to be honest".split("|")
SUBORD = "when|if|because|after|before|although|while|since|once|as soon as".split("|")
CONJ = "and|but|or|so".split("|")
TRAIL = (
    "and so on|and stuff like that|or something|and everything|or whatever|and all that|as well|too"
).split("|")
FILLERS = "um|uh|er".split("|")
PREPS = "about|with|for|from|into|without|to|of|behind|under".split("|")
THINK = (
    "I think|they told me that|the problem is|the thing is|I guess|I heard that|it turns out that|I noticed that|she said"
).split("|")
WANT = (
    "I wanted to|we need to|you should|they decided to|I'm going to|we could|let's|I have to|can you"
).split("|")
# open-class words: the training replaces some with "<unk>" so unseen nouns and verbs are judged by
# their place, not by their spelling
OPEN_WORDS = frozenset(
    w for pool in (NOUNS, ADJ, VERBS_T, VERBS_I, BASE_T, BASE_I) for x in pool for w in x.split()
)


def _pick(rng: np.random.Generator, xs: list[str]) -> str:
    return xs[int(rng.integers(len(xs)))]


def _words(text: str, last_complete: bool = False, hesitable: bool = True) -> list[Token]:
    ws = text.split()
    toks = [Token(w, hesitable=hesitable) for w in ws]
    if toks and last_complete:
        toks[-1].complete = True
    return toks


def noun_phrase(rng: np.random.Generator) -> list[Token]:
    words = [_pick(rng, DETS)]
    if rng.random() < 0.4:
        words.append(_pick(rng, ADJ))
    words.append(_pick(rng, NOUNS))
    if words[0] == "a" and words[1][0] in "aeio":
        words[0] = "an"
    return _words(" ".join(words))


def clause(rng: np.random.Generator) -> list[Token]:
    """subject verb [object] [place] [time]; complete after the verb phrase and each adjunct."""
    out = _words(_pick(rng, SUBJECTS))
    if rng.random() < 0.3:
        out += _words(_pick(rng, "will|can|should|might|have to|want to|need to|tried to".split("|")))
        base = True
    else:
        base = False
    if rng.random() < 0.7:
        out += _words(_pick(rng, BASE_T if base else VERBS_T))
        out += noun_phrase(rng)
    else:
        out += _words(_pick(rng, BASE_I if base else VERBS_I))
    out[-1].complete = True
    if rng.random() < 0.3:  # a prepositional phrase: "... about the budget"
        out += _words(_pick(rng, PREPS)) + noun_phrase(rng)
        out[-1].complete = True
    for pool, p in ((PLACES, 0.3), (TIMES, 0.35)):
        if rng.random() < p:
            out += _words(_pick(rng, pool), last_complete=True)
    return out


def question(rng: np.random.Generator) -> list[Token]:
    if rng.random() < 0.5:
        out = _words(f"{_pick(rng, WH)} {_pick(rng, AUX_Q)} {_pick(rng, SUBJECTS)}")
        out += _words(_pick(rng, "do|say|need|want|send|fix|meet|choose|mean".split("|")), last_complete=True)
    else:
        out = _words(f"{_pick(rng, AUX_Q)} {_pick(rng, SUBJECTS)}")
        out += _words(_pick(rng, "send|check|open|book|move|fix|read|sign".split("|")))
        out += noun_phrase(rng)
        out[-1].complete = True
    if rng.random() < 0.35:
        out += _words(_pick(rng, TIMES), last_complete=True)
    out[-1].end = "?"
    return out


def short_turn(rng: np.random.Generator) -> list[Token]:
    out = _words(_pick(rng, SHORT), last_complete=True, hesitable=False)
    if rng.random() < 0.25:
        out[-1].comma = True
        out += _words(_pick(rng, ["thank you", "go ahead", "that works", "please", "I guess", "go on"]), True)
    out[-1].end = _pick(rng, [".", ".", "!", "?"]) if len(out) == 1 else "."
    return out


def a_list(rng: np.random.Generator) -> list[Token]:
    out = _words(_pick(rng, ["we need", "I bought", "bring", "they want", "don't forget", "I checked"]))
    items = [_pick(rng, NOUNS) for _ in range(int(rng.integers(2, 5)))]
    for k, item in enumerate(items):
        if k == len(items) - 1:
            out += _words(_pick(rng, ["and", "or"]))
        out += _words(f"the {item}")
        if k < len(items) - 1:
            out[-1].comma = True
    out[-1].complete = True
    return out


def sentence(rng: np.random.Generator) -> list[Token]:
    kind = rng.random()
    if kind < 0.15:
        out = short_turn(rng)
    elif kind < 0.35:
        out = question(rng)
    elif kind < 0.45:
        out = a_list(rng)
    elif kind < 0.6:  # subordinate clause first: nothing is complete before the main clause
        sub = _words(_pick(rng, SUBORD)) + clause(rng)
        for t in sub:
            t.complete = False
        sub[-1].comma = True
        out = sub + clause(rng)
    elif kind < 0.7:  # a complement: "they told me that ..." / "I wanted to ..."
        if rng.random() < 0.5:
            out = _words(_pick(rng, THINK)) + clause(rng)
        else:
            out = _words(_pick(rng, WANT))
            out += _words(_pick(rng, "send|check|open|book|move|fix|read|sign|call|finish".split("|")))
            out += noun_phrase(rng)
            out[-1].complete = True
            if rng.random() < 0.4:
                out += _words(_pick(rng, PREPS)) + noun_phrase(rng)
                out[-1].complete = True
    else:
        out = clause(rng)
        if rng.random() < 0.35:  # a second clause joined by a conjunction
            out[-1].comma = rng.random() < 0.5
            out += _words(_pick(rng, CONJ)) + clause(rng)
    if rng.random() < 0.15:  # a discourse opener
        op = _words(_pick(rng, OPENERS))
        op[-1].comma = True
        out = op + out
    if rng.random() < 0.12 and out[-1].complete:  # a trailing conjunction that completes the turn
        out[-1].comma = rng.random() < 0.5
        out += _words(_pick(rng, TRAIL), last_complete=True)
    if rng.random() < 0.08:  # a filler inside: "I sent the, um, the report"
        k = int(rng.integers(1, len(out))) if len(out) > 1 else 0
        if k and not out[k - 1].complete:
            out = [*out[:k], Token(_pick(rng, FILLERS), comma=True), *out[k:]]
    if not out[-1].end:
        out[-1].end = "?" if out[0].word in WH + AUX_Q else "."
    out[-1].complete = True
    out[-1].hesitable = False
    return out


def text_of(tokens: list[Token], upto: int | None = None) -> str:
    """The words with their punctuation, as a transcript would write them."""
    toks = tokens if upto is None else tokens[:upto]
    parts = []
    for k, t in enumerate(toks):
        w = t.word
        if t.comma and k < len(toks) - 1:
            w += ","
        parts.append(w)
    text = " ".join(parts)
    if upto is None or upto == len(tokens):
        text += tokens[-1].end
    return text[:1].upper() + text[1:]
