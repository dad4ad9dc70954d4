"""``rholive replay FILE``: an audio file through the turn segmenter into one Live session, replies shown.

The file stands in for a microphone (paced, or `--speed N` faster, or unpaced). With `--turns client` (the
default) our segmenter decides the turns and the session sends activityStart / audio / activityEnd; with
`--turns server` the audio streams continuously, the server's VAD finds the turns and `audioStreamEnd` marks
pauses and the end of the file. `--json` prints one JSON object per line: our turn decisions (`turn_open`,
`turn_close`, `stream_end`, with `t_ms` = position in the file's audio) and every session event.

The pieces shared with `rholive run` and `rholive demo` live here too: `TurnPump` (one source → segmenter →
TurnStream → session) and `VoicePrinter`.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any, Literal, TextIO

from rholive.audio.files import FileSource
from rholive.audio.segmenter import Segmenter, SegmenterConfig
from rholive.audio.segmenter_settings import segmenter_config
from rholive.audio.streaming import StreamEnd, StreamGate
from rholive.budget import BUDGET_EXIT, cost_event, cost_meter
from rholive.chat import ChatPrinter, no_tools, session_options, setup_config
from rholive.config import Settings
from rholive.connect import open_endpoint
from rholive.copilot.turn_stream import End, Start, TurnStream, WireAction, apply
from rholive.live import ActivityDetection, LiveSession, SetupConfig, ToolRegistry
from rholive.live import events as ev
from rholive.live.cost import CostMeter, budget_line

TurnMode = Literal["client", "server"]
ANSWER_TIMEOUT_S = 60.0  # after the last turn, how long we wait for the model's answers at most
SERVER_QUIET_S = 3.0  # --turns server: no event for this long after the end means the model is done


def voice_setup(settings: Settings, turns: TurnMode) -> SetupConfig:
    """The chat setup with activity detection off (our segmenter decides) or on (the server's VAD)."""
    config = setup_config(settings)
    return replace(config, activity_detection=ActivityDetection(disabled=turns == "client"))


async def wait_until(changed: asyncio.Condition, ready: Callable[[], bool], limit_s: float) -> bool:
    """Wait on `changed` until `ready()` holds (True) or `limit_s` passed (False)."""

    async def reached() -> None:
        async with changed:
            await changed.wait_for(ready)

    try:
        await asyncio.wait_for(reached(), limit_s)
    except TimeoutError:
        return False
    return True


class VoicePrinter(ChatPrinter):
    """Chat output plus our turn decisions: readable lines saying who spoke, or JSON objects."""

    def __init__(self, out: TextIO, err: TextIO, json_mode: bool) -> None:
        super().__init__(out, err, json_mode)
        self._replying = False

    def turn(self, action: WireAction) -> None:
        if isinstance(action, Start):
            self._record(
                {
                    "event": "turn_open",
                    "t_ms": action.t_ms,
                    "onset_ms": action.onset_ms,
                    "speaker": action.speaker,
                },
                f"{action.speaker}: (speaking, from {action.onset_ms / 1000:.2f} s)",
            )
        elif isinstance(action, End):
            self._record(
                {
                    "event": "turn_close",
                    "t_ms": action.t_ms,
                    "reason": action.reason,
                    "speaker": action.speaker,
                    "audio_ms": round(action.audio_ms, 1),
                },
                f"{action.speaker}: (turn ended at {action.t_ms / 1000:.2f} s: {action.reason}, "
                f"{action.audio_ms / 1000:.1f} s of audio sent)",
            )

    def stream_end(self, t_ms: float) -> None:
        self._record({"event": "stream_end", "t_ms": t_ms}, f"(audio paused at {t_ms / 1000:.2f} s)")

    def typed(self, speaker: str, text: str) -> None:
        self._record({"event": "user_turn", "speaker": speaker, "text": text}, f"{speaker}: {text}")

    def event(self, event: ev.Event) -> None:
        if not self.json_mode:
            match event:
                case ev.TurnComplete() | ev.Interrupted():
                    self._replying = False
                case ev.ToolCall(calls=calls):
                    self._end_line()
                    self._replying = False
                    for call in calls:
                        self.out.write(f"model: (calls {call.name}({json.dumps(call.args)}))\n")
                case ev.ToolResult(name=name, response=response):
                    self._end_line()
                    self.out.write(f"tool {name} → {json.dumps(response, ensure_ascii=False)}\n")
        super().event(event)

    def _answer_begins(self) -> None:
        self.out.write("model: ")
        self._replying = True

    def _record(self, obj: dict[str, Any], line: str) -> None:
        if self.json_mode:
            self._json(obj)
        else:
            self._end_line()
            self._replying = False
            self.out.write(line + "\n")
            self.out.flush()


class Conversation:
    """Consumes session events, counts answers, remembers how the session ended."""

    def __init__(
        self,
        session: LiveSession,
        printer: VoicePrinter,
        meter: CostMeter | None = None,
        budget_usd: float | None = None,
    ) -> None:
        self.session = session
        self.printer = printer
        self.meter = meter
        self.budget_usd = budget_usd
        self.over_budget = asyncio.Event()
        self.answers = 0
        self.closed: ev.Closed | None = None
        self.last_event = 0.0
        self.replying = False
        self._changed = asyncio.Condition()
        self.task: asyncio.Task[None] | None = None

    def start(self) -> Conversation:
        self.task = asyncio.create_task(self._consume())
        return self

    async def _consume(self) -> None:
        loop = asyncio.get_running_loop()
        async for event in self.session:
            self.on_event(event)
            self.printer.event(event)
            if isinstance(event, ev.Usage) and self.meter is not None:
                self.printer.cost(cost_event(self.meter, self.meter.add(event)))
                if self.meter.reached(self.budget_usd):
                    self.over_budget.set()
            async with self._changed:
                self.last_event = loop.time()
                if isinstance(event, ev.AnswerComplete):  # not TurnComplete: background reasoning goes on
                    self.answers += 1
                    self.replying = False
                elif isinstance(event, ev.TextPart | ev.AudioChunk | ev.OutputTranscription | ev.ToolCall):
                    self.replying = True
                elif isinstance(event, ev.Closed):
                    self.closed = event
                self._changed.notify_all()
        async with self._changed:
            self._changed.notify_all()

    def on_event(self, event: ev.Event) -> None:
        """Hook for subclasses (playback)."""

    async def wait_answers(self, count: int, limit_s: float = ANSWER_TIMEOUT_S) -> bool:
        """Until `count` answers arrived (True) or the session closed / timed out (False)."""
        await wait_until(self._changed, lambda: self.answers >= count or self.closed is not None, limit_s)
        return self.answers >= count

    async def wait_quiet(self, quiet_s: float = SERVER_QUIET_S, limit_s: float = ANSWER_TIMEOUT_S) -> None:
        """Server turns: we cannot know how many turns the server heard; wait for a reply-free quiet spell."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + limit_s
        self.last_event = max(self.last_event, loop.time())
        while self.closed is None and loop.time() < deadline:
            left = self.last_event + quiet_s - loop.time()
            if left <= 0 and not self.replying:
                return
            await asyncio.sleep(max(left, 0.1))

    async def close(self) -> None:
        await self.session.close()
        if self.task is not None:
            await self.task


class TurnPump:
    """One audio source → its segmenter (in a worker thread) → the shared TurnStream → the session."""

    def __init__(
        self,
        speaker: str,
        session: LiveSession,
        stream: TurnStream,
        printer: VoicePrinter,
        *,
        config: SegmenterConfig | None = None,
        segmenter: Segmenter | None = None,
    ) -> None:
        self.speaker = speaker
        self.session = session
        self.stream = stream
        self.printer = printer
        self.segmenter = segmenter or Segmenter(config, speaker=speaker)
        self.turns = 0
        self.end_ms: float | None = None
        self.on_action: Callable[[WireAction], None] | None = None  # e.g. barge-in: flush playback on open
        # one thread per segmenter: its calls stay in order and never block the event loop
        self._thread = ThreadPoolExecutor(1, thread_name_prefix=f"segmenter {speaker}")

    async def push(self, t_ms: float, pcm: bytes) -> None:
        loop = asyncio.get_running_loop()
        decisions = await loop.run_in_executor(self._thread, self.segmenter.push, pcm, t_ms)
        self.end_ms = t_ms + len(pcm) / 32
        await self._send(self.stream.feed(self.speaker, decisions))

    async def finish(self) -> None:
        """The source ended (file over, device gone): an open turn closes with `stream_end`."""
        loop = asyncio.get_running_loop()
        decisions = await loop.run_in_executor(self._thread, self.segmenter.finish, self.end_ms)
        await self._send(self.stream.feed(self.speaker, decisions))
        self._thread.shutdown(wait=False)

    async def run(self, source: AsyncIterator[tuple[int, bytes]]) -> None:
        try:
            async for t_ms, pcm in source:
                await self.push(t_ms, pcm)
        finally:
            await self.finish()

    async def _send(self, actions: list[WireAction]) -> None:
        for action in actions:
            if self.on_action is not None:
                self.on_action(action)
            if isinstance(action, Start | End):
                self.printer.turn(action)
                if isinstance(action, End):
                    self.turns += 1
            await apply(self.session, [action])


async def until_over_budget(work: Any, over_budget: asyncio.Event) -> None:
    """Run ``work`` (a coroutine) to its end, or cancel it once the budget is reached: no more is sent."""
    task = asyncio.ensure_future(work)
    watcher = asyncio.create_task(over_budget.wait())
    await asyncio.wait({task, watcher}, return_when=asyncio.FIRST_COMPLETED)
    watcher.cancel()
    if not task.done():
        task.cancel()
        await asyncio.wait({task})
    if not task.cancelled():
        task.result()  # the work's own error, if any


async def stream_server_turns(
    source: AsyncIterator[tuple[int, bytes]], session: LiveSession, printer: VoicePrinter
) -> None:
    """`--turns server`: continuous audio; `audioStreamEnd` on pauses and at the end."""
    gate = StreamGate()
    end: float | None = None

    async def send(decisions: list[Any]) -> None:
        for decision in decisions:
            if isinstance(decision, StreamEnd):
                printer.stream_end(decision.t_ms)
                await session.audio_stream_end()
            else:
                await session.send_audio(decision.pcm)

    async for t_ms, pcm in source:
        end = t_ms + len(pcm) / 32
        await send(gate.push(pcm, t_ms))
    await send(gate.finish(end))


async def _turn_by_turn(
    source: AsyncIterator[tuple[int, bytes]], pump: TurnPump, talk: Conversation
) -> AsyncIterator[tuple[int, bytes]]:
    """Unpaced replay compresses the file's silences, not the conversation: audio after a closed turn waits
    for that turn's answer, so a spoken answer (seconds long) is not cut by the next turn at once."""
    async for chunk in source:
        if pump.turns > talk.answers:
            await talk.wait_answers(pump.turns)
        yield chunk


async def run_replay(
    settings: Settings,
    path: str | Path,
    *,
    json_mode: bool = False,
    speed: float | None = None,
    turns: TurnMode = "client",
    out: TextIO | None = None,
    err: TextIO | None = None,
    tools: ToolRegistry | None = None,
) -> int:
    """Returns the exit code: 0 when every turn was answered, 1 when the session failed or answers are missing."""
    out = out or sys.stdout  # looked up now: tests and callers swap sys.stdout
    err = err or sys.stderr
    source = FileSource(path, speed=speed)  # a bad file fails here, before anything starts
    printer = VoicePrinter(out, err, json_mode)
    meter = cost_meter(settings)
    async with (
        source,
        open_endpoint(settings) as endpoint,
        LiveSession(
            endpoint,
            voice_setup(settings, turns),
            tools=tools or no_tools(),
            options=session_options(settings),
        ) as session,
    ):
        talk = Conversation(session, printer, meter, settings.budget_usd).start()
        if turns == "server":
            await until_over_budget(stream_server_turns(source, session, printer), talk.over_budget)
            if not talk.over_budget.is_set():
                await talk.wait_quiet()
            answered = talk.closed is None
        else:
            pump = TurnPump("me", session, TurnStream(), printer, config=segmenter_config(settings.segmenter))
            feed = source if speed is not None else _turn_by_turn(source, pump, talk)
            await until_over_budget(pump.run(feed), talk.over_budget)
            answered = talk.over_budget.is_set() or await talk.wait_answers(pump.turns)
            if not answered and talk.closed is None:
                print(f"rholive: {pump.turns - talk.answers} turn(s) got no answer", file=err, flush=True)
            if pump.turns == 0 and talk.closed is None:  # silence or noise only: say so, not a quiet exit 0
                print(f"rholive: no speech found in {source.name}: nothing was sent", file=err, flush=True)
                answered = False
        await talk.close()
    if talk.closed is not None and talk.closed.error:
        return 1
    if talk.over_budget.is_set() and settings.budget_usd is not None and meter.usd is not None:
        print(budget_line(settings.budget_usd, meter.usd), file=err, flush=True)
        return BUDGET_EXIT
    return 0 if answered else 1


def main(settings: Settings, path: Path, *, json_mode: bool, speed: float | None, turns: TurnMode) -> int:
    segmenter_config(settings.segmenter)  # a bad [segmenter] table fails before anything starts
    return asyncio.run(run_replay(settings, path, json_mode=json_mode, speed=speed, turns=turns))
