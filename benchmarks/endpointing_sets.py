"""The tuning split of the end-pointing sets, and the renderer both splits share.

    tuning_split(conversations, seed) -> list[Item]

A conversation is six turns by one espeak-ng voice (an accent plus a voice variant, 120-220 wpm,
pitch 30-70), 1.5-2.5 s apart, laid out by `rholive.audio.synthetic.render`; every other
conversation gets generated noise (pink, brown, white, mains hum, babble) at 5-20 dB SNR.
Hesitations of 150-900 ms go at many places inside a sentence (after articles, prepositions,
auxiliaries, subjects, "that", sometimes with an "um"), comma pauses of 150-600 ms; turns include
one-word answers, questions, lists and complete trailing conjunctions.

Tuning split: sentences from `endpointing_grammar.py` (seeds >= 100; the text model trains on
seed 1) and the old corpus's dev half; voices: the accents and variants below. The held-out
split (`endpointing_heldout.py`) has its own accents, variants, sentences and seed; this module
and the tuning code never import it (tests/audio/test_endpointing_sets.py checks both).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
from endpointing_corpus import split_set
from endpointing_grammar import sentence

from rholive.audio.synthetic import Clause, Conversation, Voice, add_noise, render

TUNE_ACCENTS = ("en-us", "en-gb", "en-gb-scotland", "en-gb-x-rp", "en-gb-x-gbclan")
# every espeak-ng variant but the two whispering ones (Silero does not call a whisper speech), in
# case-blind order; every third one belongs to the held-out split, the rest (and no variant) here
TUNE_VARIANTS = (
    "", "adam", "Alicia", "Andrea", "anika", "anikaRobot", "announcer", "antonio", "aunty", "belinda",
    "boris", "caleb", "david", "Demonic", "Diogo", "ed", "edward2", "f1", "f3", "f4", "fast", "Gene",
    "grandma", "grandpa", "Henrique", "Hugo", "iven2", "iven3", "Jacky", "john", "klatt", "klatt2",
    "klatt4", "klatt5", "Lee", "linda", "m2", "m3", "m5", "m6", "m8", "marcelo", "Mario", "max",
    "michel", "miguel", "Mr", "Nguyen", "pablo", "paul", "quincy", "RicishayMax", "RicishayMax3",
    "rob", "robosoft", "robosoft2", "robosoft4", "robosoft5", "robosoft7", "robosoft8", "shelby",
    "steph", "steph3", "Storm", "Tweaky", "UniRobot", "zac",
)  # fmt: skip
NOISES = ("pink", "brown", "white", "hum", "babble")
PER_CONV = 6


@dataclass
class Item:
    name: str
    conv: Conversation
    noise: str  # "clean" or "pink@14dB" ...
    clean: np.ndarray | None = None  # the same recording without noise (None: `conv` is clean)

    def speech_at(self, t_ms: float, floor_dbfs: float = -60.0) -> bool:
        """Whether the clean signal has speech within 10 ms before to 30 ms after `t_ms` (a 10 ms
        frame above `floor_dbfs`): what "the signal is still speech" means for a close."""
        pcm = self.conv.pcm if self.clean is None else self.clean
        a, b = max(0, int((t_ms - 10) * 16)), int((t_ms + 30) * 16)
        x = pcm[a:b].astype(np.float64)
        n = len(x) // 160
        if n == 0:
            return False
        rms = np.sqrt((x[: n * 160].reshape(n, 160) ** 2).mean(axis=1)) / 32768.0
        return bool((rms > 10 ** (floor_dbfs / 20)).any())


def voice(rng: np.random.Generator, accents: tuple[str, ...], variants: tuple[str, ...]) -> Voice:
    accent = accents[int(rng.integers(len(accents)))]
    variant = variants[int(rng.integers(len(variants)))]
    name = f"{accent}+{variant}" if variant else accent
    return Voice(name, int(rng.integers(120, 221)), int(rng.integers(30, 71)))


def hesitation_ms(rng: np.random.Generator) -> int:
    return int(rng.integers(150, 901))


def clause_ms(rng: np.random.Generator) -> int:
    return int(rng.integers(150, 601))


def grammar_turn(rng: np.random.Generator) -> list[Clause]:
    """A grammar sentence cut into clauses: pauses at commas, hesitations where the words so far
    are not a whole turn (up to two, in 60 % of sentences), sometimes an "um" inside one."""
    toks = sentence(rng)
    words = [t.word for t in toks]
    words[0] = words[0][:1].upper() + words[0][1:]
    spots = [k for k, t in enumerate(toks[:-1]) if t.hesitable and not t.complete and not t.comma]
    chosen: set[int] = set()
    if spots and rng.random() < 0.6:
        n = min(len(spots), 1 + int(rng.random() < 0.3))
        chosen = {int(k) for k in rng.choice(spots, n, replace=False)}
    out: list[Clause] = []
    cur: list[str] = []
    for k, t in enumerate(toks):
        cur.append(words[k] + ("," if t.comma and k < len(toks) - 1 else ""))
        last = k == len(toks) - 1
        if last:
            out.append(Clause(" ".join(cur) + t.end))
        elif k in chosen:
            out.append(Clause(" ".join(cur), hesitation_ms(rng), unfinished=True))
            cur = []
            if rng.random() < 0.25:
                out.append(Clause("um", hesitation_ms(rng), unfinished=True))
        elif t.comma and rng.random() < 0.7:
            out.append(Clause(" ".join(cur), clause_ms(rng)))
            cur = []
    return out


def marked_turn(text: str, rng: np.random.Generator, keep: float = 0.8) -> list[Clause]:
    """A written sentence with " ... " (hesitation) and " | " (comma pause) marks: each mark
    becomes a pause with probability `keep`, otherwise the words run on."""
    parts = re.split(r" (\.\.\.|\|) ", text)
    out: list[Clause] = []
    cur = parts[0]
    for mark, nxt in zip(parts[1::2], parts[2::2], strict=True):
        if rng.random() < keep:
            hes = mark == "..."
            out.append(Clause(cur, hesitation_ms(rng) if hes else clause_ms(rng), unfinished=hes))
            if hes and rng.random() < 0.2:
                out.append(Clause("um", hesitation_ms(rng), unfinished=True))
            cur = nxt
        else:
            cur = f"{cur} {nxt}"
    out.append(Clause(cur))
    return out


def render_split(
    turns: list[list[Clause]],
    rng: np.random.Generator,
    accents: tuple[str, ...],
    variants: tuple[str, ...],
    prefix: str,
) -> list[Item]:
    """Six turns a conversation, one voice each; every other conversation noisy."""
    items: list[Item] = []
    for c in range(0, len(turns), PER_CONV):
        chunk = turns[c : c + PER_CONV]
        v = voice(rng, accents, variants)
        gaps = [int(rng.integers(1500, 2501)) for _ in chunk]
        joined = [bool(rng.integers(2)) for _ in chunk]
        conv = render(chunk, v, gaps, joined=joined)
        gain = 10 ** (rng.uniform(-8, 4) / 20)  # near and far from the microphone
        conv = Conversation((conv.pcm * gain).clip(-32768, 32767).astype(np.int16), conv.turns)
        name = f"{prefix}{c // PER_CONV} {v.name}@{v.wpm}"
        if (c // PER_CONV) % 2:
            kind = NOISES[int(rng.integers(len(NOISES)))]
            snr = float(rng.uniform(5, 20))
            items.append(Item(name, add_noise(conv, kind, snr, rng), f"{kind}@{snr:.0f}dB", conv.pcm))
        else:
            items.append(Item(name, conv, "clean"))
    return items


def tuning_turns(n: int, seed: int) -> list[list[Clause]]:
    rng = np.random.default_rng(seed)
    corpus = list(split_set("dev"))
    turns: list[list[Clause]] = []
    for k in range(n):
        if k % 4 == 3 and corpus:  # a quarter from the old corpus's dev half
            turns.append(marked_turn(corpus.pop(int(rng.integers(len(corpus)))), rng))
        else:
            turns.append(grammar_turn(rng))
    return turns


def tuning_split(conversations: int = 24, seed: int = 100) -> list[Item]:
    if seed < 100:
        raise ValueError("tuning seeds start at 100 (below: the text model's training text)")
    rng = np.random.default_rng(seed + 1)
    return render_split(
        tuning_turns(conversations * PER_CONV, seed), rng, TUNE_ACCENTS, TUNE_VARIANTS, "tune"
    )
