"""The emulator's fault flags as a script uses them: a real process, a raw client on its port."""

from __future__ import annotations

import json

from websockets import ConnectionClosed
from websockets.sync.client import connect

from emulator.helpers import path, setup_message
from test_cli import EmulatorProcess, run


def close_of_resume(url: str, handle: str) -> tuple[int, str]:
    with connect(url + path(), max_size=None) as ws:
        ws.send(json.dumps(setup_message(sessionResumption={"handle": handle})))
        try:
            while True:
                ws.recv(timeout=10)
        except ConnectionClosed as closed:
            assert closed.rcvd is not None
            return closed.rcvd.code, closed.rcvd.reason


def test_refuse_resume_flag_refuses_with_the_code() -> None:
    emulator = EmulatorProcess("--refuse-resume", "1007", "--stall-after", "3", "--chaos", "0", "--seed", "5")
    try:
        with connect(emulator.url + path(), max_size=None) as ws:
            ws.send(json.dumps(setup_message(sessionResumption={})))
            handle = ""
            while not handle:
                handle = (
                    json.loads(ws.recv(timeout=10)).get("sessionResumptionUpdate", {}).get("newHandle", "")
                )
        code, reason = close_of_resume(emulator.url, handle)
    finally:
        emulator.stop()
    assert (code, reason) == (1007, "Invalid session resumption handle: session not found")


def test_a_meaningless_fault_value_is_one_line_and_exit_1() -> None:
    result = run(["emulator", "--port", "0", "--refuse-resume", "1009"], timeout=30)
    assert result.returncode == 1
    assert result.stderr.strip() == "rholive: error: --refuse-resume takes 1007 or 1008, not 1009"
