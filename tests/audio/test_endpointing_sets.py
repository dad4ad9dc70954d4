"""The held-out split stays out of tuning: no tuning module can reach it by import, the tuning
script refuses it at run time, and its voices and sentences are not the tuning split's."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "benchmarks"
SRC = ROOT / "src"
TUNING = (
    "endpointing_tune",
    "endpointing_sets",
    "endpointing_grammar",
    "endpointing_train_text",
    "endpointing_asr_text",
)

sys.path.insert(0, str(BENCH))


def imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
            names |= {f"{node.module}.{a.name}" for a in node.names}
    return names


def module_file(name: str) -> Path | None:
    bench = BENCH / f"{name}.py"
    if bench.is_file():
        return bench
    src = SRC / Path(*name.split("."))
    for cand in (src.with_suffix(".py"), src / "__init__.py"):
        if cand.is_file():
            return cand
    return None


def closure(start: list[str]) -> set[str]:
    seen: set[str] = set()
    todo = list(start)
    while todo:
        name = todo.pop()
        path = module_file(name)
        if name in seen or path is None:
            continue
        seen.add(name)
        todo += sorted(imported(path))
    return seen


def test_no_tuning_module_and_no_package_module_imports_the_held_out_split() -> None:
    package = [".".join(p.relative_to(SRC).with_suffix("").parts) for p in (SRC / "rholive").rglob("*.py")]
    reach = closure([*TUNING, *package])
    assert "endpointing_tune" in reach and "endpointing_sets" in reach  # the walk does follow imports
    assert "endpointing_heldout" not in reach
    assert "endpointing" not in reach  # the benchmark imports the held-out split


def test_the_tuning_script_refuses_the_held_out_split_at_run_time() -> None:
    code = "import endpointing_tune\ntry:\n    import endpointing_heldout\nexcept ImportError as e:\n    print(e)\n"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=BENCH, capture_output=True, text=True, timeout=120, check=True
    )
    assert "must not read the held-out split" in out.stdout


def norm(text: str) -> str:
    return " ".join(re.findall(r"[a-z']+", text.lower().replace("...", " ").replace("|", " ")))


def test_held_out_voices_and_sentences_are_never_in_the_tuning_split() -> None:
    import endpointing_heldout as held
    import endpointing_sets as tune
    from endpointing_corpus import split_set
    from endpointing_grammar import sentence, text_of

    assert not set(held.HELDOUT_ACCENTS) & set(tune.TUNE_ACCENTS)
    assert not set(held.HELDOUT_VARIANTS) & set(tune.TUNE_VARIANTS)
    tuned = {norm(s) for s in split_set("dev")}
    for seed in (1, 100, 101):  # the text model's training text and the tuning renders
        rng = np.random.default_rng(seed)
        tuned |= {norm(text_of(sentence(rng))) for _ in range(3000)}
    held_out = {norm(s) for s in held.HELDOUT_SENTENCES}
    assert len(held_out) == len(held.HELDOUT_SENTENCES)
    assert not held_out & tuned
