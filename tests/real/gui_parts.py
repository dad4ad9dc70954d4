"""What the overlay tests on a real X server need besides Xvfb: xdotool, tesseract and the `gui` extra.
Missing parts fail the test when CI=true and skip it otherwise."""

from __future__ import annotations

import os
import shutil

import pytest


def need(what: str, ok: bool) -> None:
    if not ok:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{what} is missing")
        pytest.skip(f"{what} is missing")


def gui_tools() -> dict[str, str]:
    """Paths of xdotool and tesseract, once the gui extra's modules are known to import."""
    found = {name: shutil.which(name) for name in ("xdotool", "tesseract")}
    for name, path in found.items():
        need(f"{name} (apt-get install {'tesseract-ocr' if name == 'tesseract' else name})", path is not None)
    for module in ("PySide6.QtWidgets", "Xlib", "mss"):
        try:
            __import__(module)
        except ImportError as exc:
            need(f"{module} (uv sync --extra gui): {exc}", False)
    return {k: v for k, v in found.items() if v}
