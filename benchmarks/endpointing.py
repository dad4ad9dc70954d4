"""End-pointing benchmark: how fast and how accurately each turn rule closes a turn.

    uv run python benchmarks/endpointing.py [--quick] [--set heldout|tune|test|dev|all] [--json PATH]

Default set: the held-out split (`endpointing_heldout.py`: voices, sentences and seed never used
in tuning; see `endpointing_sets.py` for how the recordings are made). `tune` is the tuning split
(`endpointing_sets.py`, seed 100). `test`/`dev`/`all` are the older sets described next.

The older sets: a set of conversations is generated with espeak-ng (several voices, speeds and levels): every turn
is one sentence said in clauses with 200-500 ms pauses inside it (comma boundaries and
hesitations after unfinished clauses), turns are 1.5-2.5 s apart. Each conversation is run clean
and with generated noise (pink, brown, babble) at 10-20 dB SNR. The ground truth comes from the
construction. For every method it measures:

- latency: from the true end of a turn's speech to the TurnClose (activityEnd) of the turn that
  carries it, p50 / p90 (a merged turn's close comes after the next turn: it counts, as the
  model waits that long), plus how late the gate's decision would be out in real time: the
  CPU time each frame took is replayed on a clock, so a model call delays the frames after it
  (`Backlog`);
- split: share of turns with a close strictly inside the sentence;
- merged: share of turns still open when the next turn starts;
- missed: share of turns no turn overlapped; false: turns opened where nobody spoke (per minute);
- onset loss: how much of a turn's first speech came before the first audio its turn carried;
- closed in speech: closes while the true signal was speech (not in a pause or after the end);
- CPU: process time per second of audio of the whole method (VAD, models, Whisper).

Methods: the seed's rule (energy VAD, 600 ms silence, 8 s cap), Silero with a plain silence
timeout of 500 and 800 ms, pipecat's own defaults (its SileroVADAnalyzer and smart-turn v3 with
the parameters read from the installed package), ours before issue 14 (Silero + the last word
heard by Whisper tiny.en against a list + pitch cues, fixed waits: `LexicalPolicy`) and ours
(`HazardPolicy`: Silero, the end-of-utterance text model on Whisper's transcript, its end
punctuation and confidence, pitch, turn length and the pause so far in one score; needs the `asr`
extra). `--sweep` adds ours at other settings and the audio-only rule (`AdaptivePolicy`).
Also: CPU time per second of audio of our segmenter (before and now) at rest and while speaking.

Honest measurement: `HazardPolicy`'s weights were chosen on the tuning split only
(`benchmarks/endpointing_tune.py`, seeds 100 and 101); the figures reported are the held-out
split, measured with those settings.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("RHOLIVE_SPEECH_CACHE", str(Path(tempfile.gettempdir()) / "rholive-speech-cache"))

from endpointing_corpus import split_set

from rholive.audio.endpointing import AdaptivePolicy, HazardPolicy, LexicalPolicy
from rholive.audio.lexical import available as lexical_available
from rholive.audio.segmenter import (
    Segmenter,
    SegmenterConfig,
    SendAudio,
    TurnClose,
    TurnOpen,
    seed_rule,
    silence_rule,
)
from rholive.audio.synthetic import (
    RATE,
    Clause,
    Conversation,
    Voice,
    add_noise,
    have_espeak,
    render,
)

FRAME_MS = 20  # what a capture device typically hands over
VOICES = (
    Voice("en-us", 165, 50),
    Voice("en-gb", 175, 45),
    Voice("en-us+f3", 155, 60),
    Voice("en-gb-x-rp+m3", 150, 40),
    Voice("en-us+f4", 185, 55),
    Voice("en-gb-scotland", 160, 50),
    Voice("en-029+m2", 170, 45),
    Voice("en-us+m3", 145, 35),
)
NOISES = ("pink", "brown", "babble")


# --- the set ------------------------------------------------------------------------------------


def clauses_of(sentence: str, rng: np.random.Generator) -> list[Clause]:
    out: list[Clause] = []
    parts: list[tuple[str, bool]] = []
    for chunk in sentence.split(" ... "):
        sub = chunk.split(" | ")
        parts.extend((s, False) for s in sub[:-1])
        parts.append((sub[-1], True))
    parts[-1] = (parts[-1][0], False)
    # the flag above marks "a hesitation follows"; comma clauses carry False
    for text, hesitation in parts:
        out.append(Clause(text, int(rng.integers(200, 501)), unfinished=hesitation))
    return out


from endpointing_sets import Item, tuning_split  # noqa: E402


def build_set(sentences: tuple[str, ...], quick: bool, seed: int = 7) -> list[Item]:
    rng = np.random.default_rng(seed)
    order = list(rng.permutation(len(sentences)))
    per_conv = 6
    n_conv = 1 if quick else (len(order) + per_conv - 1) // per_conv
    items: list[Item] = []
    for c in range(n_conv):
        idx = order[c * per_conv : (c + 1) * per_conv] if not quick else order[:4]
        turns = [clauses_of(sentences[i], rng) for i in idx]
        voices = [VOICES[int(rng.integers(len(VOICES)))] for _ in turns]
        gaps = [int(rng.integers(1500, 2501)) for _ in turns]
        joined = [bool(rng.integers(2)) for _ in turns]
        conv = render(turns, voices, gaps, joined=joined)
        gain = 10 ** (rng.uniform(-8, 4) / 20)  # speakers near and far from the microphone
        conv = Conversation((conv.pcm * gain).clip(-32768, 32767).astype(np.int16), conv.turns)
        items.append(Item(f"conv{c}", conv, "clean"))
        kinds = NOISES[:1] if quick else NOISES
        for kind in kinds:
            snr = float(rng.uniform(10, 20))
            items.append(Item(f"conv{c}", add_noise(conv, kind, snr, rng), f"{kind}@{snr:.0f}dB", conv.pcm))
    return items


# --- running a method ---------------------------------------------------------------------------


@dataclass
class SysTurn:
    open_ms: float
    audio_ms: float | None = None
    close_ms: float | None = None
    reason: str = ""
    lag_ms: float = 0.0  # CPU time spent in the frame that produced the close


@dataclass
class Run:
    turns: list[SysTurn] = field(default_factory=list)
    cpu_s: float = 0.0
    model_calls: int = 0


class Backlog:
    """Real-time replay of a gate's CPU use: a frame can only be processed once it has arrived and
    the frames before it are done, so a slow model call delays the frames after it too. `frame()`
    returns how long after its arrival a frame's decisions are out."""

    def __init__(self) -> None:
        self.done_ms = 0.0

    def frame(self, arrived_ms: float, cpu_ms: float) -> float:
        self.done_ms = max(arrived_ms, self.done_ms) + cpu_ms
        return self.done_ms - arrived_ms


class Method:
    name: str

    def run(self, pcm: np.ndarray) -> Run:
        raise NotImplementedError


class GateMethod(Method):
    """Any configuration of our segmenter, fed 20 ms frames with explicit positions."""

    def __init__(self, name: str, make: Callable[[], Segmenter]):
        self.name = name
        self.make = make

    def run(self, pcm: np.ndarray) -> Run:
        seg = self.make()
        run = Run()
        step = FRAME_MS * RATE // 1000
        raw = pcm.astype("<i2").tobytes()
        cur: SysTurn | None = None
        clock = Backlog()
        c0 = time.process_time()
        for k in range(0, len(pcm), step):
            t0 = time.process_time()
            out = seg.push(raw[2 * k : 2 * (k + step)], k * 1000 / RATE)
            lag = clock.frame((k + step) * 1000 / RATE, (time.process_time() - t0) * 1000)
            for d in out:
                if isinstance(d, TurnOpen):
                    cur = SysTurn(d.t_ms)
                    run.turns.append(cur)
                elif isinstance(d, SendAudio) and cur is not None and cur.audio_ms is None:
                    cur.audio_ms = d.t_ms
                elif isinstance(d, TurnClose) and cur is not None:
                    cur.close_ms, cur.reason, cur.lag_ms = d.t_ms, d.reason, lag
                    cur = None
        for d in seg.finish():
            if isinstance(d, TurnClose) and cur is not None:
                cur.close_ms, cur.reason = d.t_ms, d.reason
        run.cpu_s = time.process_time() - c0
        run.model_calls = seg.model_calls + seg.transcriber_calls  # smart-turn and Whisper calls
        return run


class PipecatMethod(Method):
    """pipecat's default turn taking, driven the way its pipeline drives it, on stream time.

    Its own `SileroVADAnalyzer` (confidence, start_secs, stop_secs, min_volume defaults) decides
    speaking / quiet; when it turns quiet, smart-turn v3 (`LocalSmartTurnAnalyzerV3`, its own
    inference code) is asked once on the audio from `pre_speech_ms` + start_secs before the
    confirmed start; "complete" (p > 0.5) ends the turn, otherwise `stop_secs` (3 s) of silence
    does. pipecat streams audio continuously; the turn's audio is counted from the same
    pre-speech point its smart-turn analysis uses. pipecat has no turn-length cap.
    """

    name = "pipecat defaults"

    def __init__(self) -> None:
        from loguru import logger

        logger.disable("pipecat")
        from pipecat.audio.turn.smart_turn.base_smart_turn import SmartTurnParams
        from pipecat.audio.turn.smart_turn.local_smart_turn_v3 import LocalSmartTurnAnalyzerV3
        from pipecat.audio.vad.silero import SileroVADAnalyzer
        from pipecat.audio.vad.vad_analyzer import VADParams, VADState

        self.VADState = VADState
        self.vad_params = VADParams()
        self.turn_params = SmartTurnParams()
        self._make_vad = lambda: SileroVADAnalyzer(sample_rate=RATE)
        self.analyzer = LocalSmartTurnAnalyzerV3(sample_rate=RATE)
        self.analyzer.set_sample_rate(RATE)

    def params(self) -> dict:
        return {"vad": self.vad_params.model_dump(), "smart_turn": self.turn_params.model_dump()}

    def run(self, pcm: np.ndarray) -> Run:
        Q = self.VADState
        vad = self._make_vad()
        vad.set_sample_rate(RATE)
        run = Run()
        step = FRAME_MS * RATE // 1000
        pre_n = int((self.turn_params.pre_speech_ms / 1000 + self.vad_params.start_secs) * RATE)
        stop_ms = self.turn_params.stop_secs * 1000
        speaking = False
        cur: SysTurn | None = None
        speech_start = 0
        silence_ms = 0.0
        clock = Backlog()
        c0 = time.process_time()
        for k in range(0, len(pcm), step):
            t0 = time.process_time()
            frame = pcm[k : k + step]
            state = vad._run_analyzer(frame.astype("<i2").tobytes())
            now = k + len(frame)
            if state == Q.SPEAKING and not speaking:
                speaking = True
                silence_ms = 0.0
                if cur is None:
                    speech_start = now
                    cur = SysTurn(now * 1000 / RATE, audio_ms=max(0, now - pre_n) * 1000 / RATE)
                    run.turns.append(cur)
            elif state == Q.QUIET and speaking:
                speaking = False
                if cur is not None:
                    seg = pcm[max(0, speech_start - pre_n) : now]
                    seg = seg[-int(self.turn_params.max_duration_secs * RATE) :]
                    result = self.analyzer._predict_endpoint(seg.astype(np.float32) / 32768.0)
                    run.model_calls += 1
                    if result["prediction"] == 1:
                        cur.close_ms, cur.reason = now * 1000 / RATE, "end_of_turn"
                        cur.lag_ms = clock.frame(now * 1000 / RATE, (time.process_time() - t0) * 1000)
                        cur = None
                        continue
            elif not speaking and cur is not None:
                silence_ms += len(frame) * 1000 / RATE
                if silence_ms >= stop_ms:
                    cur.close_ms, cur.reason = now * 1000 / RATE, "silence"
                    cur.lag_ms = clock.frame(now * 1000 / RATE, (time.process_time() - t0) * 1000)
                    cur = None
                    continue
            clock.frame(now * 1000 / RATE, (time.process_time() - t0) * 1000)
        if cur is not None:
            cur.close_ms, cur.reason = len(pcm) * 1000 / RATE, "stream_end"
        run.cpu_s = time.process_time() - c0
        return run


OURS = "ours (Silero + text model + pause hazard + pitch)"
BEFORE = "ours before (Silero + last-word list + pitch cues)"
OURS_AUDIO = "ours, audio only (Silero + pitch cues + smart-turn)"


def lexical_method(name: str, policy: LexicalPolicy, whisper: tuple[float, int] | None = None) -> GateMethod:
    def make() -> Segmenter:
        from rholive.audio.lexical import TinyWhisper

        words = TinyWhisper(seconds=whisper[0], max_tokens=whisper[1]) if whisper else None
        # as it was before issue 14: the pause start under noise is Silero's verdict
        return Segmenter(SegmenterConfig(policy=policy, refine_in_noise=False), transcriber=words)

    return GateMethod(name, make)


def hazard_method(name: str, policy: HazardPolicy, whisper: tuple[float, int] | None = None) -> GateMethod:
    def make() -> Segmenter:
        from rholive.audio.lexical import TinyWhisper

        words = TinyWhisper(seconds=whisper[0], max_tokens=whisper[1]) if whisper else None
        return Segmenter(SegmenterConfig(policy=policy), transcriber=words)

    return GateMethod(name, make)


HAZARD_SWEEP: tuple[tuple[str, dict], ...] = (  # the trade-off: the same evidence, an earlier or later bar
    ("bias +0.5 (earlier)", {"bias": HazardPolicy.bias + 0.5}),
    ("bias -0.5 (later)", {"bias": HazardPolicy.bias - 0.5}),
    ("bias -1 (later)", {"bias": HazardPolicy.bias - 1.0}),
    ("bias -2 (later)", {"bias": HazardPolicy.bias - 2.0}),
)


def methods(include_pipecat: bool = True, sweep: bool = False) -> list[Method]:
    ms: list[Method] = [
        GateMethod("seed rule (energy, 600 ms, 8 s cap)", lambda: Segmenter(seed_rule())),
        GateMethod("Silero + 500 ms silence", lambda: Segmenter(silence_rule(500))),
        GateMethod("Silero + 800 ms silence", lambda: Segmenter(silence_rule(800))),
    ]
    if include_pipecat:
        ms.append(PipecatMethod())
    if sweep:
        ms.append(GateMethod(OURS_AUDIO, lambda: Segmenter(SegmenterConfig(policy=AdaptivePolicy()))))
    if not lexical_available():
        print(
            "  (the asr extra is not installed: skipping the lexical rule; uv sync --extra asr)",
            file=sys.stderr,
        )
        return ms
    ms.append(lexical_method(BEFORE, LexicalPolicy()))
    ms.append(hazard_method(OURS, HazardPolicy()))
    if sweep:
        base_h = HazardPolicy()
        for label, change in HAZARD_SWEEP:
            ms.append(hazard_method(f"ours, {label}", replace(base_h, **change)))
    return ms


# --- scoring ------------------------------------------------------------------------------------


@dataclass
class Score:
    latencies: list[float] = field(default_factory=list)
    onset_loss: list[float] = field(default_factory=list)
    turns: int = 0
    split: int = 0
    merged: int = 0
    missed: int = 0
    false: int = 0
    minutes: float = 0.0
    model_calls: int = 0
    cpu_s: float = 0.0
    audio_s: float = 0.0
    in_speech: int = 0  # closes while the true signal was speech (a bug for any rule)
    in_speech_at: list[str] = field(default_factory=list)
    reasons: dict[str, int] = field(default_factory=dict)
    pauses: dict[str, list[int]] = field(default_factory=dict)  # "kind/style" -> [pauses, closed in them]


def score(item: Item, run: Run, sc: Score) -> None:
    conv = item.conv
    truth = conv.turns
    sys_turns = [t for t in run.turns if t.close_ms is not None]
    sc.minutes += conv.duration_ms / 60000
    sc.audio_s += conv.duration_ms / 1000
    sc.cpu_s += run.cpu_s
    sc.model_calls += run.model_calls

    def span(s: SysTurn) -> tuple[float, float]:
        start = s.audio_ms if s.audio_ms is not None else s.open_ms
        return min(start, s.open_ms), s.close_ms  # type: ignore[return-value]

    def overlaps(s: SysTurn, a: float, b: float) -> bool:
        lo, hi = span(s)
        return lo < b and hi > a

    for s in sys_turns:
        sc.reasons[s.reason] = sc.reasons.get(s.reason, 0) + 1
        if s.reason != "stream_end" and item.speech_at(s.close_ms):  # type: ignore[arg-type]
            sc.in_speech += 1
            sc.in_speech_at.append(f"{item.name} {item.noise} at {s.close_ms:.0f} ms")
        if not any(overlaps(s, t.start_ms, t.end_ms) for t in truth):
            sc.false += 1
    for i, t in enumerate(truth):
        sc.turns += 1
        covering = [s for s in sys_turns if overlaps(s, t.start_ms, t.end_ms)]
        if not covering:
            sc.missed += 1
            continue
        first = covering[0]
        lo, _ = span(first)
        sc.onset_loss.append(max(0.0, lo - t.start_ms))
        if any(t.start_ms < s.close_ms < t.end_ms for s in covering):  # type: ignore[operator]
            sc.split += 1
        for (a, b), kind in zip(t.pauses, t.pause_kinds, strict=True):
            key = f"{kind}/{t.style}"
            tally = sc.pauses.setdefault(key, [0, 0])
            tally[0] += 1
            tally[1] += any(a <= s.close_ms <= b + 150 for s in covering)  # type: ignore[operator]
        nxt = truth[i + 1] if i + 1 < len(truth) else None
        if nxt is not None and any(overlaps(s, nxt.start_ms, nxt.end_ms) for s in covering):
            sc.merged += 1  # its latency below runs to the close after the next turn: it counts
        at_end = [s for s in covering if span(s)[0] <= t.end_ms <= s.close_ms]  # type: ignore[operator]
        if at_end:
            s = at_end[0]
            sc.latencies.append(s.close_ms - t.end_ms + s.lag_ms)  # type: ignore[operator]


def pct(xs: list[float], q: float) -> float | None:
    return float(np.percentile(xs, q)) if xs else None


def summary(sc: Score) -> dict:
    n = max(1, sc.turns)
    return {
        "turns": sc.turns,
        "latency_p50_ms": pct(sc.latencies, 50),
        "latency_p90_ms": pct(sc.latencies, 90),
        "split": sc.split / n,
        "merged": sc.merged / n,
        "missed": sc.missed / n,
        "false_per_min": sc.false / max(sc.minutes, 1e-9),
        "onset_loss_p50_ms": pct(sc.onset_loss, 50),
        "onset_loss_max_ms": max(sc.onset_loss) if sc.onset_loss else None,
        "model_calls_per_turn": sc.model_calls / n,
        "cpu_per_audio_s": sc.cpu_s / max(sc.audio_s, 1e-9),
        "closed_in_speech": sc.in_speech,
        "closed_in_speech_at": sc.in_speech_at,
        "close_reasons": sc.reasons,
        "closed_in_pause": {k: {"pauses": v[0], "closed": v[1]} for k, v in sorted(sc.pauses.items())},
    }


def fmt(v: float | None, kind: str) -> str:
    if v is None:
        return "–"
    if kind == "ms":
        return f"{v:.0f}"
    if kind == "%":
        return f"{100 * v:.1f}%"
    return f"{v:.2f}"


def table(rows: list[tuple[str, str, dict]]) -> str:
    head = (
        "| method | audio | turns | p50 ms | p90 ms | split | merged | missed | false/min | onset loss p50/max ms "
        "| model calls/turn | closed in speech | CPU % of a core |"
    )
    lines = [head, "|" + "---|" * 13]
    for name, cond, s in rows:
        lines.append(
            f"| {name} | {cond} | {s['turns']} | {fmt(s['latency_p50_ms'], 'ms')} | {fmt(s['latency_p90_ms'], 'ms')} "
            f"| {fmt(s['split'], '%')} | {fmt(s['merged'], '%')} | {fmt(s['missed'], '%')} "
            f"| {fmt(s['false_per_min'], 'x')} | {fmt(s['onset_loss_p50_ms'], 'ms')}/{fmt(s['onset_loss_max_ms'], 'ms')} "
            f"| {fmt(s['model_calls_per_turn'], 'x')} | {s['closed_in_speech']} | {100 * s['cpu_per_audio_s']:.2f}% |"
        )
    return "\n".join(lines)


def pause_table(results: dict) -> str:
    """How many pauses inside sentences each method closed a turn in, by kind of pause."""
    kinds = sorted({k for m in results.values() for k in m["all"]["closed_in_pause"]})
    lines = ["| method | " + " | ".join(kinds) + " |", "|" + "---|" * (len(kinds) + 1)]
    for name, m in results.items():
        cells = []
        for k in kinds:
            c = m["all"]["closed_in_pause"].get(k, {"pauses": 0, "closed": 0})
            cells.append(f"{c['closed']}/{c['pauses']}")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


# --- CPU ----------------------------------------------------------------------------------------


def cpu_profile(items: list[Item]) -> dict:
    """Process CPU seconds per second of audio for our segmenter, at rest and while speaking."""
    rng = np.random.default_rng(3)
    rest = (rng.standard_normal(30 * RATE) * 30).astype(np.int16)  # ~-60 dBFS room noise, 30 s
    speech = np.concatenate(
        [
            it.conv.pcm[int(t.start_ms * RATE / 1000) : int(t.end_ms * RATE / 1000) + RATE // 2]
            for it in items
            if it.noise == "clean"
            for t in it.conv.turns
        ]
    )
    out: dict = {}
    gates = {"ours": GateMethod("ours", lambda: Segmenter(SegmenterConfig()))}  # the default
    if lexical_available():
        gates["before"] = lexical_method(BEFORE, LexicalPolicy())
    for name, gate in gates.items():
        for label, pcm in (("rest", rest), ("speaking", speech)):
            run = gate.run(pcm)
            out.setdefault(name, {})[label] = {
                "audio_s": len(pcm) / RATE,
                "cpu_s": run.cpu_s,
                "cpu_per_audio_s": run.cpu_s / (len(pcm) / RATE),
                "model_calls": run.model_calls,
            }
    return out


# --- main ---------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="one short conversation, clean and pink noise")
    ap.add_argument("--set", default="heldout", choices=("heldout", "tune", "test", "dev", "all"))
    ap.add_argument("--conversations", type=int, default=None, help="heldout/tune: only the first N")
    ap.add_argument("--json", default=str(Path(__file__).parent / "results" / "endpointing.json"))
    ap.add_argument("--no-pipecat", action="store_true", help="skip the pipecat baseline")
    ap.add_argument("--seed", type=int, default=7, help="another seed: other voices, pauses, noise, gains")
    ap.add_argument("--sweep", action="store_true", help="also run our rule at several settings (trade-off)")
    ap.add_argument("--only", default="", help="run only the methods whose name contains this (a|b: either)")
    args = ap.parse_args(argv)
    if not have_espeak():
        print("espeak-ng is not installed (apt-get install espeak-ng)", file=sys.stderr)
        return 2
    t_start = time.perf_counter()
    if args.set == "heldout":
        from endpointing_heldout import heldout_split  # the only importer: the tuning code never reads it

        items = heldout_split(2 if args.quick else args.conversations)
    elif args.set == "tune":
        items = tuning_split(2 if args.quick else (args.conversations or 24), seed=100)
    else:
        items = build_set(split_set(args.set), args.quick, seed=args.seed)
    n_turns = sum(len(it.conv.turns) for it in items)
    audio_min = sum(it.conv.duration_ms for it in items) / 60000
    print(
        f"set: {args.set}, {len(items)} recordings, {n_turns} turns, {audio_min:.1f} min of audio",
        file=sys.stderr,
    )
    rows: list[tuple[str, str, dict]] = []
    results: dict = {"methods": {}}
    for m in methods(not args.no_pipecat, args.sweep):
        if args.only and not any(part in m.name for part in args.only.split("|")):
            continue
        by_cond = {"clean": Score(), "noisy": Score(), "all": Score()}
        for it in items:
            run = m.run(it.conv.pcm)
            cond = "clean" if it.noise == "clean" else "noisy"
            score(it, run, by_cond[cond])
            score(it, run, by_cond["all"])
        results["methods"][m.name] = {c: summary(s) for c, s in by_cond.items()}
        if isinstance(m, PipecatMethod):
            results["pipecat_params"] = m.params()
        for c in ("clean", "noisy", "all"):
            rows.append((m.name, c, results["methods"][m.name][c]))
        print(f"  {m.name}: done ({time.perf_counter() - t_start:.0f} s)", file=sys.stderr)
    results["cpu"] = cpu_profile(items)
    results["set"] = {
        "name": args.set,
        "quick": args.quick,
        "seed": args.seed,
        "recordings": [f"{it.name} {it.noise}" for it in items],
        "turns": n_turns,
        "audio_min": audio_min,
        "frame_ms": FRAME_MS,
    }
    results["machine"] = {"cpus": os.cpu_count(), "python": platform.python_version()}
    md = table(rows)
    md += (
        "\n\nPauses inside a sentence where the turn was closed (closed/pauses; `fragments`: each clause"
        " said as its own utterance, so it ends like a finished statement; `joined`: one fluent"
        " utterance with breaks):\n\n" + pause_table(results["methods"])
    )
    for name, cpu in results["cpu"].items():
        md += (
            f"\n\nCPU of {name} (process time per second of audio, 1 onnxruntime thread): "
            f"at rest {100 * cpu['rest']['cpu_per_audio_s']:.2f}% of a core, "
            f"while speaking {100 * cpu['speaking']['cpu_per_audio_s']:.2f}% "
            f"({cpu['speaking']['model_calls']} model calls (smart-turn, Whisper) in {cpu['speaking']['audio_s']:.0f} s of speech)."
        )
    print(md)
    path = Path(args.json)
    path.parent.mkdir(parents=True, exist_ok=True)
    results["markdown"] = md
    path.write_text(json.dumps(results, indent=2))
    print(f"\nwrote {path} in {time.perf_counter() - t_start:.0f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
