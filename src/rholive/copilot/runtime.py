"""The copilot runtime: audio sources and the screen → gates → one Live session → the view, speaker and store.

Data flows one way (DESIGN.md). Each audio source (`me`: the microphone, `them`: the monitor of the output)
goes through its own segmenter (a worker thread each) into the shared `TurnStream`; the screen is sampled by
`ScreenSource` (its own thread). The pure `TurnPlanner` sits between both and the session: audio turns carry
the current frame, frames are only ever sent inside a turn, proactive screen turns come from `tick` (every
`tick_s`), and a barge-in flushes the speaker and withdraws the answer being streamed. Replies pass through
the `AnswerFilter`, so `<nothing>` is never shown or stored. Everything said (who, input transcription, screen
turns, answers, token usage) goes to the `TranscriptStore`.

Everything here runs on one event loop; `CopilotControls` (hotkeys, overlay buttons) may call from any thread
and are marshalled with `call_soon_threadsafe`.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any, TextIO

from rholive.audio import GuardedMic, Segmenter, Speaker, rms_dbfs, segmenter_config
from rholive.config import Settings
from rholive.conversation import (
    ANSWER_TIMEOUT_S,
    BUDGET_EXIT,
    AnswerFilter,
    Audio,
    Conversation,
    End,
    Start,
    TurnStream,
    WireAction,
    cost_meter,
    no_tools,
    session_options,
    voice_setup,
)
from rholive.copilot.planner import TurnPlanner
from rholive.copilot.printer import CopilotPrinter
from rholive.copilot.screen_source import ScreenFrame, ScreenSource
from rholive.copilot.turn_wire import TurnWire
from rholive.copilot.voice import Source, record_loss
from rholive.live import Endpoint, LiveSession, SetupConfig, budget_line
from rholive.live import events as ev
from rholive.ui import CopilotView

TICK_S = 0.5  # how often the planner is asked whether a proactive screen turn is due
LEVEL_EVERY_S = 0.1  # audio meters: about 10 updates a second per source
# A spoken reply is held until its transcript shows it is not `<nothing>`, at most this much (2 s at 24 kHz).
HOLD_AUDIO_BYTES = 2 * 24000 * 2
# contextWindowCompression: without it the service ends audio+video sessions after 2 minutes. A sliding
# window from ~32k tokens down to ~16k keeps a couple of minutes of screen + speech (a frame is 258 tokens).
COMPRESSION_TRIGGER_TOKENS = 32_000
COMPRESSION_TARGET_TOKENS = 16_000


def copilot_setup(
    settings: Settings, *, video: bool, media_resolution: str | None, persona: str | None
) -> SetupConfig:
    """Client turns (activity markers), input transcription for the transcript, the persona, and with video
    the matching mediaResolution and context-window compression."""
    config = replace(
        voice_setup(settings, "client"),
        input_transcription=True,
        system_instruction=persona if persona is not None else settings.system_instruction,
    )
    if video:
        config = replace(
            config,
            media_resolution=media_resolution,
            compression_trigger_tokens=COMPRESSION_TRIGGER_TOKENS,
            compression_target_tokens=COMPRESSION_TARGET_TOKENS,
        )
    return config


@dataclass
class _Reply:
    """The answer being streamed: the filter, what it let through, and whether a barge-in withdrew it."""

    filter: AnswerFilter
    turn_id: int | None
    shown: str = ""
    withdrawn: bool = False
    held_audio: list[bytes] = field(default_factory=list)  # spoken reply waiting for its transcript
    held_bytes: int = 0
    audio_open: bool = False  # the spoken reply plays as it comes


class Copilot:
    """`await Copilot(...).run(endpoint)` until `stop` is set, the session closes, or every source ends."""

    def __init__(
        self,
        settings: Settings,
        *,
        audio: Sequence[Source] = (),
        screen: ScreenSource | None = None,
        view: CopilotView | None = None,
        trace: CopilotPrinter | None = None,
        store: Any | None = None,  # a TranscriptStore
        speaker: Speaker | None = None,
        persona: str | None = None,
        persona_name: str = "",
        planner: TurnPlanner | None = None,
        controls: Controls | None = None,
        tick_s: float = TICK_S,
        err: TextIO | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not audio and screen is None:
            raise ValueError("nothing to listen to or watch: the microphone, system audio and screen are off")
        self.settings = settings
        self.meter = cost_meter(settings)  # a budget without prices fails here, before anything starts
        self.over_budget = False
        self.audio = list(audio)
        self.screen = screen
        self.trace = trace
        self.view: CopilotView = (
            view if view is not None else (trace or CopilotPrinter(sys.stdout, sys.stderr, False))
        )
        self.store = store
        self.speaker = speaker
        self.persona = persona
        self.persona_name = persona_name
        self.planner = planner or TurnPlanner()
        self.tick_s = tick_s
        self.err = err or sys.stderr
        self.clock = clock
        self.stop = asyncio.Event()
        self.started = asyncio.Event()  # the session is up and the sources are being read
        self.controls = controls or Controls()
        self.session: LiveSession | None = None
        self.wire: TurnWire | None = None
        self.session_id: str | None = None
        self.turns_sent = 0  # audio + screen turns closed on the wire
        self.audio_turns = 0
        self.screen_turns = 0
        self.conversation: _CopilotConversation | None = None
        self.withheld = 0  # replies that meant nothing to show
        self.unspoken_bytes = 0  # audio of `<nothing>` replies, never played
        self.lost: list[str] = []
        self.skipped: Counter[str] = Counter()
        self.listening = True
        self._stream = TurnStream()
        self._reply: _Reply | None = None
        self._last_turn_id: int | None = None
        self._audio_turn_id: int | None = None
        self._audio_turn_who: str | None = None  # whose turn the next input transcription belongs to
        self._ask_pending = False
        self._level_at: dict[str, float] = {}
        self._lock = asyncio.Lock()  # planner + wire: one step at a time across the source tasks

    # ------------------------------------------------------------------ lifecycle

    async def run(self, endpoint: Endpoint) -> int:
        video = self.screen is not None
        setup = copilot_setup(
            self.settings,
            video=video,
            media_resolution=self.screen.config.media_resolution if self.screen else None,
            persona=self.persona,
        )
        self.controls.bind(self, asyncio.get_running_loop())
        self.view.set_status("connecting")
        async with LiveSession(
            endpoint, setup, no_tools(), options=session_options(self.settings)
        ) as session:
            self.session = session
            self.wire = TurnWire(session, self)
            if self.store is not None:
                self.session_id = self.store.start_session(
                    model=setup.model, kind="copilot", at=time.time(), persona=self.persona_name
                )
            talk = self.conversation = _CopilotConversation(session, self).start()
            assert talk.task is not None
            consumer = talk.task
            sources = [asyncio.create_task(self._pump(src)) for src in self.audio]
            helpers = [asyncio.create_task(self._tick())]
            if self.screen is not None:
                helpers.append(
                    asyncio.create_task(
                        self.screen.run(
                            self._on_frame,
                            self._on_skip,
                            clock=self.clock,
                            paused=lambda: not self.listening,
                            on_error=lambda message: self._note(
                                f"screen capture failed ({message}); retrying"
                            ),
                        )
                    )
                )
                sources.append(helpers[-1])
            self.started.set()
            await self._until_done(sources, consumer)
            for src in self.audio:  # ends each source's iteration; open turns close with stream_end
                with contextlib.suppress(Exception):
                    await src.stream.aclose()  # type: ignore[attr-defined]
            for task in helpers:
                task.cancel()
            await asyncio.gather(*sources, *helpers, return_exceptions=True)
            if (
                not self.stop.is_set() and self.closed is None
            ):  # sources ended: let the last turns be answered
                await self.wait_answers(self.turns_sent)
            await talk.close()
        if self.store is not None and self.session_id is not None:
            self.store.end_session(self.session_id, at=time.time())
        self.view.set_status("closed", self.closed.reason if self.closed else "")
        if self.closed is not None and self.closed.error:
            return 1
        if self.over_budget:
            return BUDGET_EXIT
        all_lost = bool(self.audio) and len(self.lost) == len(self.audio) and self.screen is None
        return 1 if all_lost and not self.stop.is_set() else 0

    async def _until_done(self, sources: list[asyncio.Task[Any]], consumer: asyncio.Task[None]) -> None:
        stopper = asyncio.create_task(self.stop.wait())
        pending = set(sources)
        try:
            while pending and not self.stop.is_set() and self.closed is None:
                done, _ = await asyncio.wait(
                    {*pending, stopper, consumer}, return_when=asyncio.FIRST_COMPLETED
                )
                pending -= done
                for task in done & set(sources):
                    if not task.cancelled():
                        task.result()  # a failing source is an error of the whole run
                if consumer in done:
                    break
        finally:
            stopper.cancel()

    async def wait_answers(self, count: int, limit_s: float = ANSWER_TIMEOUT_S) -> bool:
        """Until `count` replies completed (True) or the session closed / the limit passed (False)."""
        return self.conversation is not None and await self.conversation.wait_answers(count, limit_s)

    @property
    def answers(self) -> int:
        """Replies complete (answerComplete), shown or not."""
        return self.conversation.answers if self.conversation is not None else 0

    @property
    def closed(self) -> ev.Closed | None:
        return self.conversation.closed if self.conversation is not None else None

    def _check_budget(self) -> None:
        """Once the estimate reaches the budget: one line, then wind down like Ctrl-C (the answer in
        progress is complete: usage comes with its turnComplete)."""
        budget = self.settings.budget_usd
        if self.over_budget or budget is None or not self.meter.reached(budget):
            return
        self.over_budget = True
        print(budget_line(budget, self.meter.usd or 0.0), file=self.err, flush=True)
        self.stop.set()

    def _note(self, text: str) -> None:
        print(f"rholive: {text}", file=self.err, flush=True)

    # ------------------------------------------------------------------ audio

    async def _pump(self, src: Source) -> None:
        segmenter = Segmenter(segmenter_config(self.settings.segmenter), speaker=src.label)
        thread = ThreadPoolExecutor(1, thread_name_prefix=f"segmenter {src.label}")
        loop = asyncio.get_running_loop()
        # both sources: our reply comes back in the mic through the room, and in "them" digitally (the
        # default sink's monitor carries what we play): either would answer our own voice
        guard = GuardedMic() if self.speaker is not None else None
        if guard is not None:
            assert self.speaker is not None

            def played(monotonic_s: float, chunk_ms: int, level_dbfs: float) -> None:
                loop.call_soon_threadsafe(guard.guard.on_playback, monotonic_s * 1000, chunk_ms, level_dbfs)

            self.speaker.listeners.append(played)
        clock = getattr(src.stream, "clock_ms", None)
        end_ms: float | None = None

        async def segment(t_ms: float, pcm: bytes) -> None:
            if segmenter.is_open:  # pauses in a turn consult the models (Whisper, smart-turn): off the loop
                decisions = await loop.run_in_executor(thread, segmenter.push, pcm, t_ms)
            else:  # idle: at most Silero on three windows, cheaper than two thread hops per 100 ms chunk
                decisions = segmenter.push(pcm, t_ms)
            # someone starts talking: no proactive screen turn in the moment before their turn opens
            if segmenter.onset_pending:
                assert self.wire is not None
                async with self._lock:
                    await self.wire.perform(self.planner.speech_activity(src.label, self.clock()))
            await self._audio_actions(self._stream.feed(src.label, decisions))

        try:
            async for t_ms, pcm in src.stream:
                self._level(src.label, pcm)
                end_ms = t_ms + len(pcm) / 32
                if not self.listening:
                    pcm = bytes(len(pcm))  # paused: the segmenter hears silence, an open turn closes
                if guard is None:
                    await segment(t_ms, pcm)
                    continue
                out = guard.feed(t_ms, pcm, clock(t_ms) if clock else None)
                if out.barge_in and self.speaker is not None:
                    self.speaker.flush()
                for t, frame in out.frames:
                    await segment(t, frame)
            if guard is not None:
                for t, frame in guard.finish():
                    await segment(t, frame)
        finally:
            decisions = await loop.run_in_executor(thread, segmenter.finish, end_ms)
            await self._audio_actions(self._stream.feed(src.label, decisions))
            thread.shutdown(wait=False)
            self._ended(src)

    def _level(self, label: str, pcm: bytes) -> None:
        now = self.clock()
        if now - self._level_at.get(label, -1.0) >= LEVEL_EVERY_S:
            self._level_at[label] = now
            self.view.set_level(label, rms_dbfs(pcm) if self.listening else -100.0)

    async def _audio_actions(self, actions: list[WireAction]) -> None:
        assert self.session is not None and self.wire is not None
        for action in actions:
            if isinstance(action, Audio):
                await self.session.send_audio(action.pcm)
                continue
            async with self._lock:
                now = self.clock()
                if isinstance(action, Start):
                    if self.trace is not None:
                        self.trace.turn(action)
                    if self.speaker is not None and action.speaker == "me":
                        self.speaker.flush()  # barge-in: the user speaks over the reply
                    await self.wire.perform(self.planner.audio_turn_open(action.speaker, now))
                    await self.wire.open_audio()
                    self._audio_turn_id = self._add_turn(action.speaker, "audio", "")
                    self._audio_turn_who = action.speaker
                elif isinstance(action, End):
                    await self.wire.perform(self.planner.audio_turn_close(action.speaker, now))
                    await self.wire.close_audio()
                    if self.trace is not None:
                        self.trace.turn(action)
                    self.audio_turns += 1
                    self._turn_sent()

    def _ended(self, src: Source) -> None:
        record_loss(src, self.stop.is_set(), self.lost, self._note)

    # ------------------------------------------------------------------ screen

    async def _on_frame(self, frame: ScreenFrame) -> None:
        assert self.wire is not None
        async with self._lock:
            self.wire.keep(frame)
            actions = self.planner.frame_ready(frame.t, frame.id, frame.changed_fraction)
            if frame.forced and self._ask_pending:
                self._ask_pending = False
                actions = [*actions, *self.planner.ask_now(frame.t)]
            await self.wire.perform(actions)

    def _on_skip(self, reason: str) -> None:
        self.frame_skipped(reason)

    async def _tick(self) -> None:
        assert self.wire is not None
        while True:
            await asyncio.sleep(self.tick_s)
            if not self.listening:
                continue
            async with self._lock:
                await self.wire.perform(self.planner.tick(self.clock()))

    # ------------------------------------------------------------------ WireListener (called by TurnWire)

    def screen_turn_sent(self, frames: list[ScreenFrame]) -> None:
        changed = max((f.changed_fraction for f in frames), default=0.0)
        forced = any(f.forced for f in frames)
        if self.trace is not None:
            self.trace.screen_turn(len(frames), changed, forced)
        what = "asked now" if forced else f"screen changed ({changed:.0%})"
        self._add_turn("screen", "screen", what)
        self.view.user_turn("screen", what)
        self.screen_turns += 1
        self._turn_sent()

    def frame_sent(self, frame: ScreenFrame, turn: str) -> None:
        if self.trace is not None:
            self.trace.frame_sent(frame.id, len(frame.jpeg), turn)
        self._show_frames()

    def frame_skipped(self, reason: str) -> None:
        self.skipped[reason] += 1
        if self.trace is not None:
            self.trace.frame_skipped(reason)
        self._show_frames()

    def barge_in(self, who: str) -> None:
        if self.speaker is not None:
            self.speaker.flush()
        if self.trace is not None:
            self.trace.barge_in(who)
        reply = self._reply
        if reply is not None and not reply.withdrawn:
            reply.withdrawn = True  # later deltas of this reply are not shown either
            self.view.answer_done(False)

    def _show_frames(self) -> None:
        self.view.set_frames(self.wire.frames_sent if self.wire else 0, dict(self.skipped))

    # ------------------------------------------------------------------ turns and the store

    def _add_turn(self, who: str, kind: str, text: str) -> int | None:
        if self.store is None or self.session_id is None:
            return None
        turn_id = self.store.add_turn(self.session_id, who=who, kind=kind, at=time.time(), text=text)
        self._last_turn_id = turn_id
        return turn_id

    def _turn_sent(self) -> None:
        self.turns_sent += 1
        self._status_idle()

    # ------------------------------------------------------------------ session events

    async def _on_event(self, event: ev.Event) -> None:
        assert self.wire is not None
        now = self.clock()
        match event:
            case ev.TextPart(text=text, thought=False) | ev.OutputTranscription(text=text):
                await self._answer_text(text, now)
            case ev.AudioChunk(data=data):
                self._play((await self._reply_started(now)), data)
            case ev.AnswerComplete():  # not TurnComplete: background reasoning goes on after it
                self._finish_reply()
                if self.speaker is not None:
                    self.speaker.end_of_reply()
                await self.wire.perform(self.planner.reply_finished(now))
                self._status_idle()
            case ev.Interrupted():
                if self.speaker is not None:
                    self.speaker.flush()
                self._finish_reply()
                await self.wire.perform(self.planner.interrupted(now))
                self._status_idle()
            case ev.InputTranscription(text=text) if text:
                if self._audio_turn_who is not None:
                    self.view.user_turn(self._audio_turn_who, text)  # type: ignore[arg-type]
                if self.store is not None and self._audio_turn_id is not None:
                    self.store.set_turn_text(self._audio_turn_id, text, append=True)
            case ev.Usage(total_tokens=total):
                self.view.set_tokens(self.session.usage.total_tokens if self.session else total)
                cost = self.meter.add(event)
                self.view.set_cost(self.meter.usd)
                if self.store is not None and self.session_id is not None:
                    modality = {f"prompt_{k}": v for k, v in event.prompt_by_modality.items()}
                    modality |= {f"response_{k}": v for k, v in event.response_by_modality.items()}
                    self.store.add_usage(
                        self.session_id,
                        at=time.time(),
                        total_tokens=total,
                        prompt_tokens=event.prompt_tokens,
                        response_tokens=event.response_tokens,
                        by_modality=modality,
                        cost_usd=cost,
                    )
                self._check_budget()
            case ev.Connected(resumed=resumed):
                self.view.set_status("connected", "resumed" if resumed else "")
                self._status_idle()
            case ev.Reconnecting(reason=reason):
                self.view.set_status("reconnecting", reason)
            case ev.GoAway(time_left_s=left):
                self.view.set_status("reconnecting", f"goAway: the connection ends in {left:g} s")
            case ev.Resumed(replayed=replayed):
                self.view.set_status("connected", f"resumed ({replayed} message(s) sent again)")
                self._status_idle()
            case ev.ContextLost(reason=reason):
                self.view.set_status("connected", f"context lost: {reason}")
            case ev.FrameDropped():
                self.frame_skipped("backpressure")
            case ev.Closed():
                self._finish_reply()

    async def _reply_started(self, now: float) -> _Reply:
        if self._reply is None:
            assert self.wire is not None
            self._reply = _Reply(AnswerFilter(), self._last_turn_id)
            await self.wire.perform(self.planner.reply_started(now))
            self._status_idle()
        return self._reply

    async def _answer_text(self, text: str, now: float) -> None:
        reply = await self._reply_started(now)
        shown = reply.filter.feed(text)
        if shown and not reply.withdrawn:
            reply.shown += shown
            self.view.answer_delta(shown)
        if reply.filter.released:
            self._release_audio(reply)

    def _play(self, reply: _Reply, pcm: bytes) -> None:
        """Spoken replies: held back (up to HOLD_AUDIO_BYTES) until the transcript shows it is not `<nothing>`."""
        if self.speaker is None or reply.withdrawn:
            return
        if reply.audio_open:
            self.speaker.feed(pcm)
            return
        reply.held_audio.append(pcm)
        reply.held_bytes += len(pcm)
        if reply.filter.released or reply.held_bytes > HOLD_AUDIO_BYTES:
            self._release_audio(reply)  # no transcript (yet) to judge by: waiting longer would only lag

    def _release_audio(self, reply: _Reply) -> None:
        reply.audio_open = True
        held, reply.held_audio = reply.held_audio, []
        if self.speaker is not None and not reply.withdrawn:
            for pcm in held:
                self.speaker.feed(pcm)

    def _finish_reply(self) -> None:
        reply, self._reply = self._reply, None
        if reply is None:
            return
        rest = reply.filter.finish()  # what was held back, or None when the whole reply meant nothing
        if reply.withdrawn:
            return
        if rest is None:
            self.withheld += 1
            self.unspoken_bytes += reply.held_bytes if not reply.audio_open else 0
            reply.held_audio = []  # a spoken `<nothing>` is never played
            self.view.answer_done(False)
            if self.trace is not None:
                self.trace.answer(None)
            return
        if rest:
            reply.shown += rest
            self.view.answer_delta(rest)
        self._release_audio(reply)
        self.view.answer_done(True)
        if self.store is not None and self.session_id is not None:
            self.store.add_answer(self.session_id, turn_id=reply.turn_id, text=reply.shown, at=time.time())
        if self.trace is not None:
            self.trace.answer(reply.shown)

    def _status_idle(self) -> None:
        self.view.set_status(self.planner.model_state if self.listening else "paused")

    # ------------------------------------------------------------------ controls (event-loop side)

    def ask_now(self) -> None:
        if self.screen is not None:
            self._ask_pending = True
            self.screen.force_next()

    def set_listening(self, on: bool) -> None:
        self.listening = on
        self.view.set_status("listening" if on else "paused")


class _TraceSink:
    """The `--json` trace of the session's events; nothing without one."""

    def __init__(self, trace: CopilotPrinter | None) -> None:
        self._trace = trace

    def event(self, event: ev.Event) -> None:
        if self._trace is not None:
            self._trace.session_event(event)

    def cost(self, event: dict[str, object]) -> None:
        """The copilot's cost goes to its view (and the store) as each usage arrives."""


class _CopilotConversation(Conversation):
    """The copilot's conversation: each event goes through the planner, the views and the store, one step at a
    time with the sources (the copilot's lock), then into the trace."""

    def __init__(self, session: LiveSession, copilot: Copilot) -> None:
        super().__init__(session, _TraceSink(copilot.trace))
        self._copilot = copilot

    async def react(self, event: ev.Event) -> None:
        async with self._copilot._lock:
            await self._copilot._on_event(event)


class Controls:
    """`CopilotControls` for hotkeys and buttons: callable from any thread, before or after the copilot
    starts (calls before it runs are ignored, the listening state is kept)."""

    def __init__(self) -> None:
        self._copilot: Copilot | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock = threading.Lock()
        self._listening = True

    def bind(self, copilot: Copilot, loop: asyncio.AbstractEventLoop) -> None:
        with self._lock:
            self._copilot, self._loop = copilot, loop
            listening = self._listening
        if not listening:
            copilot.set_listening(False)

    def _call(self, name: str, *args: Any) -> None:
        with self._lock:
            copilot, loop = self._copilot, self._loop
        if copilot is None or loop is None or loop.is_closed():
            return
        loop.call_soon_threadsafe(getattr(copilot, name), *args)

    def ask_now(self) -> None:
        self._call("ask_now")

    def toggle_listening(self) -> bool:
        with self._lock:
            self._listening = not self._listening
            on = self._listening
        self._call("set_listening", on)
        return on
