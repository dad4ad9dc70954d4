"""The layout's two rules, read from the source with `ast`: a package is entered only through its `__init__.py`,
and no two top-level parts of `rholive` import each other (faces → conversation → live, never back)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import rholive

ROOT = Path(rholive.__file__).parent
PACKAGES = {
    "rholive." + p.parent.relative_to(ROOT).as_posix().replace("/", ".") for p in ROOT.rglob("*/__init__.py")
} | {"rholive"}


def _module(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _package_of(path: Path) -> str:
    module = _module(path)
    return module if path.name == "__init__.py" else module.rsplit(".", 1)[0]


def _imports(path: Path) -> Iterator[str]:
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "rholive":
                yield from (f"rholive.{alias.name}" for alias in node.names)
            elif node.module.startswith("rholive."):
                yield node.module
        elif isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names if alias.name.startswith("rholive."))


def _sources() -> list[Path]:
    return sorted(ROOT.rglob("*.py"))


def test_packages_are_entered_only_through_their_init() -> None:
    reached_past: list[str] = []
    for path in _sources():
        here = _package_of(path)
        for target in _imports(path):
            if target in PACKAGES:
                continue
            owner = target.rsplit(".", 1)[0]
            if (
                owner in PACKAGES
                and owner != "rholive"
                and not (here == owner or here.startswith(owner + "."))
            ):
                reached_past.append(f"{_module(path)} imports {target} (use {owner})")
    assert reached_past == []


def _unit(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def test_no_two_top_level_parts_import_each_other() -> None:
    edges: set[tuple[str, str]] = set()
    for path in _sources():
        source = _unit(_module(path))
        for target in _imports(path):
            if _unit(target) != source:
                edges.add((source, _unit(target)))
    both_ways = sorted({tuple(sorted(edge)) for edge in edges if edge[::-1] in edges})
    assert both_ways == []
    assert ("conversation", "copilot") not in edges and ("conversation", "telegram") not in edges
    assert not {(low, face) for low, face in edges if low == "live" and face not in {"live"}}
