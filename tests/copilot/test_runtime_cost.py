"""The copilot's cost estimate against the real emulator: shown in the view, stored, and its budget."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

import pytest
from runtime_support import SAFETY_S, Pages, RecordingView
from test_runtime import eager, screen_source, start

from rholive.config import Settings
from rholive.copilot.runtime import Copilot
from rholive.copilot.store import TranscriptStore
from rholive.emulator import Emulator, EmulatorOptions
from rholive.live.cost import format_usd


async def test_a_tiny_budget_ends_the_copilot_after_the_answer_that_crossed_it(tmp_path: Path) -> None:
    view, err = RecordingView(), io.StringIO()
    store = TranscriptStore(tmp_path / "t.sqlite3")
    copilot = Copilot(
        Settings(budget_usd=0.0001),
        screen=screen_source(Pages(cycle=True)),  # the screen keeps changing: turns would go on
        view=view,
        store=store,
        planner=eager(),
        err=err,
    )
    async with Emulator(EmulatorOptions()) as emu:
        task = await start(copilot, emu)
        code = await asyncio.wait_for(task, SAFETY_S)  # ends by itself: nobody sets stop
        assert copilot.screen is not None
        await copilot.screen.aclose()
    assert code == 3
    spent = copilot.meter.usd
    assert spent is not None and spent >= 0.0001
    assert err.getvalue().splitlines()[-1] == (
        f"rholive: budget of $0.0001 reached (estimated {format_usd(spent)}): session ended"
    )
    costs = [args[0] for name, args in view.calls if name == "set_cost"]
    assert costs and costs[-1] == spent
    [session] = store.sessions()
    assert session.cost_usd == pytest.approx(spent) and session.ended is not None
    store.close()


def test_a_budget_for_a_model_without_prices_is_refused_before_starting() -> None:
    with pytest.raises(ValueError, match=r"\[prices\]"):
        Copilot(
            Settings(budget_usd=1.0, model="models/gemini-custom"),
            screen=screen_source(Pages()),
            view=RecordingView(),
        )
