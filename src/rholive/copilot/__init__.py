"""The copilot (`rholive run`): sources → pure gates → one Live session → views and the transcript store.

What the rest of the code may use (imported from their modules, so that `rholive history` does not load the
audio stack):
- `planner`: `TurnPlanner`, `PlannerConfig` and its actions (`OpenTurn`, `SendFrame`, `CloseTurn`, `BargeIn`).
- `turn_stream`: `TurnStream` (segmenter decisions of several speakers → one activity at a time on the wire).
- `answers`: `AnswerFilter`, `is_nothing` (`<nothing>` and its variants are never shown or stored).
- `personas`: `resolve_persona`, `PERSONAS`.
- `store`: `TranscriptStore`; `history`: what `rholive history` prints.
- `runtime`: `Copilot`, `Controls`; `launch`: `main` of `rholive run`; `screen_source`: `ScreenSource`.
"""
