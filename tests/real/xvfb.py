"""A real Xvfb X server for tests, on a free display number chosen by Xvfb itself (-displayfd).

Missing Xvfb fails the test when CI=true and skips it otherwise. Each test gets its own server, stopped after.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

WIDTH, HEIGHT = 1280, 720


@dataclass(frozen=True)
class XServer:
    display: str  # e.g. ":5"
    width: int
    height: int


def _require_xvfb() -> str:
    path = shutil.which("Xvfb")
    if path is None:
        message = "Xvfb is not installed (apt-get install xvfb)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture
def xvfb() -> Iterator[XServer]:
    binary = _require_xvfb()
    read_fd, write_fd = os.pipe()
    # -noreset: by default Xvfb resets itself when its last client leaves, and a client connecting
    # during that reset is dropped ("connection reset by peer"); tests open and close clients in turn.
    proc = subprocess.Popen(
        [
            binary,
            "-displayfd",
            str(write_fd),
            "-screen",
            "0",
            f"{WIDTH}x{HEIGHT}x24",
            "-nolisten",
            "tcp",
            "-noreset",
        ],
        pass_fds=(write_fd,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    os.close(write_fd)
    try:
        # Xvfb writes the display number once it accepts connections; EOF means it died.
        with os.fdopen(read_fd, "rb") as pipe:
            number = pipe.readline().strip()
        if not number:
            proc.wait(timeout=10)
            err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
            pytest.fail(f"Xvfb did not start: {err.strip()[-500:]}")
        yield XServer(f":{number.decode()}", WIDTH, HEIGHT)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
