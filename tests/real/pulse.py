"""A real PulseAudio daemon for tests: a null sink `test_sink` whose monitor is the capture side.

Each test gets its own daemon in its own runtime directory (short path under /tmp: socket paths are limited
to 108 bytes), pointed at by PULSE_SERVER/XDG_RUNTIME_DIR for the test process, and stopped afterwards.
Missing tools fail the test when CI=true and skip it otherwise.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

SINK = "test_sink"
MONITOR = f"{SINK}.monitor"


def require_tool(name: str) -> str:
    """Path of an external program the test needs; FAIL under CI=true when missing, skip otherwise."""
    path = shutil.which(name)
    if path is None:
        message = f"{name} is not installed (apt-get install pulseaudio pulseaudio-utils espeak-ng)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return path


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"  # a zombie has exited
    except FileNotFoundError:
        return False


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll `condition` until true; fail naming `what` after `timeout` seconds (a safety net, not a timing)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"gave up waiting for {what}")
        time.sleep(0.02)


class PulseDaemon:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.runtime = root / "run"
        self.home = root / "home"
        self.server = f"unix:{self.runtime}/pulse/native"
        self.env = {
            **os.environ,
            "XDG_RUNTIME_DIR": str(self.runtime),
            "HOME": str(self.home),
            "PULSE_SERVER": self.server,
        }
        self.pid: int | None = None

    def start(self) -> None:
        self.runtime.mkdir(mode=0o700)
        self.home.mkdir()
        env = {k: v for k, v in self.env.items() if k != "PULSE_SERVER"}
        subprocess.run(
            [
                require_tool("pulseaudio"),
                "--daemonize=yes",
                "--exit-idle-time=-1",
                "-n",
                "--load=module-native-protocol-unix",
                f"--load=module-null-sink sink_name={SINK}",
                "--load=module-always-sink",
            ],
            env=env,
            check=True,
            capture_output=True,
        )
        self.pid = int((self.runtime / "pulse" / "pid").read_text().strip())
        wait_for(self._answers, 20, "the PulseAudio daemon to answer")

    def _answers(self) -> bool:
        return subprocess.run(["pactl", "info"], env=self.env, capture_output=True).returncode == 0

    def pactl(self, *args: str) -> str:
        done = subprocess.run(["pactl", *args], env=self.env, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"pactl {' '.join(args)} failed: {done.stderr.strip()}")
        return done.stdout

    def module_id(self, name: str) -> str:
        for line in self.pactl("list", "short", "modules").splitlines():
            fields = line.split("\t")
            if len(fields) > 1 and fields[1] == name:
                return fields[0]
        raise LookupError(f"module {name} is not loaded")

    def stop(self) -> None:
        subprocess.run(["pulseaudio", "--kill"], env=self.env, capture_output=True)
        if self.pid is not None:
            pid = self.pid
            try:
                wait_for(lambda: not _alive(pid), 10, "the PulseAudio daemon to exit")
            except TimeoutError:
                os.kill(pid, 9)
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture
def pulse(monkeypatch: pytest.MonkeyPatch) -> Iterator[PulseDaemon]:
    """A running daemon with `test_sink`; this process's PulseAudio clients talk to it."""
    require_tool("pulseaudio")
    require_tool("pactl")
    daemon = PulseDaemon(Path(tempfile.mkdtemp(prefix="pa-", dir="/tmp")))
    try:
        daemon.start()
        monkeypatch.setenv("PULSE_SERVER", daemon.server)
        monkeypatch.setenv("XDG_RUNTIME_DIR", str(daemon.runtime))
        yield daemon
    finally:
        daemon.stop()
