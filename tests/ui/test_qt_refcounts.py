"""A guard against PySide6/shiboken6 releases that corrupt reference counts.

6.12.0 dropped one reference to ``True`` on every ``Signal.emit(True)`` and one to ``None`` on every Qt call
that returns nothing (-100 per 100 calls; 0 on 6.11.3). The overlay emits a signal per streamed piece, so after
~11 minutes the count of ``True`` reached zero and the interpreter aborted in ``bool_dealloc``. These tests make
the same calls a few hundred times in a child process (a defect of this kind aborts the interpreter: the
child dies, not the test run) and check the counts stay level, so the next such release fails here instead of
in a user's overlay. (On Python 3.11 ``True`` and ``None`` are not immortal: their counts do move.)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

try:
    import PySide6  # noqa: F401
except ImportError as exc:  # the gui extra is missing
    if os.environ.get("CI") == "true":
        raise RuntimeError(f"CI=true but the gui extra is not installed: {exc}") from exc
    pytest.skip(f"the gui extra (PySide6) is not installed: {exc}", allow_module_level=True)

CALLS = 300  # a defect moves a count by CALLS; the counts of True/None are a few thousand at start
SLACK = 30  # other code may take or drop a few references meanwhile

PROBE = """
import json, sys
from PySide6.QtCore import QCoreApplication, QObject, Signal

class Flag(QObject):
    changed = Signal(bool)

app = QCoreApplication([])
flag, thing, seen = Flag(), QObject(), []
flag.changed.connect(seen.append)
calls = int(sys.argv[1])
before = sys.getrefcount(True)
for _ in range(calls):
    flag.changed.emit(True)
seen.clear()  # the slot's list held references of its own
true_moved = sys.getrefcount(True) - before
before = sys.getrefcount(None)
for i in range(calls):
    thing.setObjectName("n%d" % (i % 7))  # void in C++: returns None
none_moved = sys.getrefcount(None) - before
print(json.dumps({"true": true_moved, "none": none_moved}), flush=True)
"""


@pytest.fixture(scope="module")
def moved() -> dict[str, int]:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    result = subprocess.run(
        [sys.executable, "-c", PROBE, str(CALLS)], capture_output=True, text=True, timeout=60, env=env
    )
    if not result.stdout.strip():  # died before it could measure
        pytest.fail(f"the Qt probe died ({result.returncode}): {result.stderr[-500:]}")
    # a defective release also aborts the probe at exit (True's count reaches zero): the figures say why
    return json.loads(result.stdout)


def test_emitting_a_bool_keeps_the_count_of_true_level(moved: dict[str, int]) -> None:
    assert abs(moved["true"]) < SLACK, f"the refcount of True moved by {moved['true']} over {CALLS} emits"


def test_qt_calls_that_return_nothing_keep_the_count_of_none_level(moved: dict[str, int]) -> None:
    assert abs(moved["none"]) < SLACK, f"the refcount of None moved by {moved['none']} over {CALLS} calls"
