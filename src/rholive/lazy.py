"""Attributes of a package loaded on first use (PEP 562), so importing the package stays cheap: the call worker
and the Qt-free CLI paths import only what they use."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_attributes(package: str, where: Mapping[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` for ``package``: ``where`` maps a name to the submodule that defines it; a name
    mapped to itself is that submodule."""

    def load(name: str) -> Any:
        module = where.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        loaded = importlib.import_module(f"{package}.{module}")
        return loaded if module == name else getattr(loaded, name)

    return load
