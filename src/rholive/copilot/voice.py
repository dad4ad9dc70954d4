"""The copilot's ears alone (``rholive run --turns server``; the copilot runtime reuses `Source` and
`open_sources`). Microphone (`me`) and system audio (`them`, the other side of a call) each go through their own
segmenter into ONE Live session with automatic activity detection off; the transcript says who spoke, replies
are printed, and spoken through the speaker when the modality is AUDIO. With `--turns server` the sources are
mixed down (`copilot.mixdown`) into the one stream the server's VAD listens to.

While a reply plays, the microphone passes through the half-duplex echo guard, so the assistant's own voice
coming back through the speakers never opens a turn (ours or, with `--turns server`, the server's); clearly
louder speech is a barge-in and flushes playback.
A device that disappears ends its open turn with `stream_end` (activityEnd) and the session goes on with the
other source; when no source is left the command ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import TextIO

from rholive import interrupts
from rholive.audio import Capture, GuardedMic, Speaker, capture, segmenter_config
from rholive.config import Settings
from rholive.connect import open_endpoint
from rholive.conversation import (
    Conversation,
    End,
    Start,
    TurnMode,
    TurnPump,
    TurnStream,
    VoicePrinter,
    WireAction,
    no_tools,
    session_options,
    stream_server_turns,
    voice_setup,
)
from rholive.copilot.mixdown import Mixdown
from rholive.live import Endpoint, LiveSession
from rholive.live import events as ev


@dataclass
class Source:
    label: str  # "me" or "them": who is speaking on it
    stream: AsyncIterator[tuple[int, bytes]]  # a Capture, a FileSource, ...

    @property
    def name(self) -> str:
        return str(getattr(self.stream, "name", self.label))


class SpokenConversation(Conversation):
    """Also plays AUDIO replies; `interrupted` flushes what is queued."""

    def __init__(self, session: LiveSession, printer: VoicePrinter, speaker: Speaker | None) -> None:
        super().__init__(session, printer)
        self.speaker = speaker

    def on_event(self, event: ev.Event) -> None:
        if self.speaker is None:
            return
        if isinstance(event, ev.AudioChunk):
            self.speaker.feed(event.data)
        elif isinstance(event, ev.TurnComplete):
            self.speaker.end_of_reply()
        elif isinstance(event, ev.Interrupted):
            self.speaker.flush()


class VoiceRun:
    """Sources → segmenters → one session. `stop` ends it; so does the loss of every source."""

    def __init__(
        self,
        settings: Settings,
        sources: list[Source],
        *,
        out: TextIO | None = None,
        err: TextIO | None = None,
        json_mode: bool = False,
        turns: TurnMode = "client",
        speaker: Speaker | None = None,
    ) -> None:
        if not sources:
            raise ValueError("nothing to listen to: both the microphone and system audio are off")
        out = out or sys.stdout  # looked up now: tests and callers swap sys.stdout
        err = err or sys.stderr
        self.settings = settings
        self.sources = sources
        self.err = err
        self.turns = turns
        self.speaker = speaker
        self.printer = VoicePrinter(out, err, json_mode)
        self.stop = asyncio.Event()
        self.conversation: SpokenConversation | None = None
        self.started = asyncio.Event()  # the session is up and the sources are being read
        self.lost: list[str] = []  # one line per source that ended on its own
        self.turns_sent = 0

    async def run(self, endpoint: Endpoint) -> int:
        setup = voice_setup(self.settings, self.turns)
        async with LiveSession(
            endpoint, setup, no_tools(), options=session_options(self.settings)
        ) as session:
            talk = self.conversation = SpokenConversation(session, self.printer, self.speaker).start()
            stream = TurnStream()
            if self.turns == "server":
                work = (
                    [self._server(self.sources[0], session)]
                    if len(self.sources) == 1
                    else [self._server_mixed(session)]
                )
            else:
                work = [self._client(src, session, stream) for src in self.sources]
            tasks = [asyncio.create_task(w) for w in work]
            stopper = asyncio.create_task(self.stop.wait())
            self.started.set()
            pending = set(tasks)
            while pending and not self.stop.is_set() and talk.closed is None:
                done, _ = await asyncio.wait({*pending, stopper}, return_when=asyncio.FIRST_COMPLETED)
                pending -= done
                for task in done & set(tasks):
                    task.result()  # a failing source is an error of the whole run
            for src in self.sources:  # ends each source's iteration; open turns close with stream_end
                with contextlib.suppress(Exception):
                    await src.stream.aclose()  # type: ignore[attr-defined]
            await asyncio.gather(*tasks, return_exceptions=True)
            stopper.cancel()
            if not self.stop.is_set():  # the sources ended on their own: let the last turns be answered
                await talk.wait_answers(self.turns_sent)
            await talk.close()
        if talk.closed is not None and talk.closed.error:
            return 1
        return 1 if len(self.lost) == len(self.sources) and not self.stop.is_set() else 0

    async def _client(self, src: Source, session: LiveSession, stream: TurnStream) -> None:
        pump = TurnPump(
            src.label, session, stream, self.printer, config=segmenter_config(self.settings.segmenter)
        )
        pump.on_action = self._on_action
        try:
            async for t_ms, pcm in self._heard(src):
                await pump.push(t_ms, pcm)
        finally:
            await pump.finish()
            self._ended(src)

    def _heard(self, src: Source) -> AsyncIterator[tuple[float, bytes]]:
        """What a source hears: with replies on speakers every source goes through the echo guard (the mic
        hears them through the room, "them" — the default sink's monitor — carries them digitally)."""
        if self.speaker is not None:
            return self._guarded(src)
        return src.stream  # type: ignore[return-value]

    async def _guarded(self, src: Source) -> AsyncIterator[tuple[float, bytes]]:
        """Mic frames through the echo guard: echo comes out as silence (for our segmenter or the server's
        VAD alike); clearly louder speech is a barge-in and flushes playback."""
        assert self.speaker is not None
        mic = GuardedMic()
        loop = asyncio.get_running_loop()

        def played(monotonic_s: float, chunk_ms: int, level_dbfs: float) -> None:
            loop.call_soon_threadsafe(mic.guard.on_playback, monotonic_s * 1000, chunk_ms, level_dbfs)

        self.speaker.listeners.append(played)
        clock = getattr(src.stream, "clock_ms", None)
        async for t_ms, pcm in src.stream:
            out = mic.feed(t_ms, pcm, clock(t_ms) if clock else None)
            if out.barge_in:
                self.speaker.flush()
            for t, frame in out.frames:
                yield t, frame
        for t, frame in mic.finish():
            yield t, frame

    def _on_action(self, action: WireAction) -> None:
        if isinstance(action, End):
            self.turns_sent += 1
        elif isinstance(action, Start) and action.speaker == "me" and self.speaker is not None:
            self.speaker.flush()  # barge-in: the user speaks over the reply

    async def _server(self, src: Source, session: LiveSession) -> None:
        try:
            await stream_server_turns(self._heard(src), session, self.printer)  # type: ignore[arg-type]
        finally:
            self._ended(src)

    async def _server_mixed(self, session: LiveSession) -> None:
        """Several sources, one stream: mixed down by stream position, then as `_server`."""
        mix = Mixdown([src.label for src in self.sources])
        chunks: asyncio.Queue[tuple[float, bytes] | None] = asyncio.Queue()

        async def feed(src: Source) -> None:
            try:
                async for t_ms, pcm in self._heard(src):
                    for chunk in mix.push(src.label, t_ms, pcm):
                        chunks.put_nowait(chunk)
            finally:
                for chunk in mix.remove(src.label):
                    chunks.put_nowait(chunk)
                self._ended(src)

        async def mixed() -> AsyncIterator[tuple[float, bytes]]:
            while (chunk := await chunks.get()) is not None:
                yield chunk

        feeders = [asyncio.create_task(feed(src)) for src in self.sources]

        async def end_when_fed() -> None:
            await asyncio.gather(*feeders, return_exceptions=True)
            chunks.put_nowait(None)

        closer = asyncio.create_task(end_when_fed())
        try:
            await stream_server_turns(mixed(), session, self.printer)  # type: ignore[arg-type]
        finally:
            for task in feeders:
                task.cancel()
            await asyncio.gather(*feeders, closer, return_exceptions=True)
        for task in feeders:
            if not task.cancelled() and task.exception() is not None:
                raise task.exception()  # type: ignore[misc]
        dropped = {k: v for k, v in mix.dropped_samples.items() if v}
        if dropped:
            self._note(f"mixdown dropped late audio (samples): {dropped}")

    def _ended(self, src: Source) -> None:
        record_loss(src, self.stop.is_set(), self.lost, self._note)

    def _note(self, text: str) -> None:
        print(f"rholive: {text}", file=self.err, flush=True)


def record_loss(src: Source, stopping: bool, lost: list[str], note: Callable[[str], None]) -> None:
    """A source that ended on its own (not stopped, not the end of a file) is a loss: one line, kept."""
    reason = getattr(src.stream, "end_reason", None)
    if reason in (None, "stopped", "end_of_file") or stopping:
        return
    detail = getattr(src.stream, "end_detail", "") or f"{src.name}: {reason}"
    lost.append(detail)
    note(f"{src.label}: {detail}; its turn (if any) ended with stream_end")


def open_sources(mic: str | None, system: str | None) -> list[Capture]:
    """`None` leaves a source out; "" means the default device of its kind."""
    chosen: list[Capture] = []
    if mic is not None:
        chosen.append(capture(mic or None, label="me"))
    if system is not None:
        chosen.append(capture(system or None, label="them"))
    return chosen


async def run_voice(
    settings: Settings,
    *,
    mic: str | None,
    system: str | None,
    output: str | None = None,
    json_mode: bool = False,
    turns: TurnMode = "client",
) -> int:
    captures = open_sources(mic, system)  # a missing device fails here, naming it
    for cap in captures:
        await cap.start()
    speaker = Speaker(output) if settings.modality == "audio" else None
    try:
        if speaker is not None:
            await speaker.start()
        runner = VoiceRun(
            settings,
            [Source(cap.label, cap) for cap in captures],
            json_mode=json_mode,
            turns=turns,
            speaker=speaker,
        )
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, lambda s=sig: (interrupts.note(s), runner.stop.set()))
        names = ", ".join(f"{cap.label}: {cap.name}" for cap in captures)
        print(f"rholive: listening ({names}); Ctrl-C to stop", file=sys.stderr, flush=True)
        async with open_endpoint(settings) as endpoint:
            return await runner.run(endpoint)
    finally:
        for cap in captures:
            await cap.aclose()
        if speaker is not None:
            await speaker.aclose()


def main(
    settings: Settings,
    *,
    mic: str | None,
    system: str | None,
    output: str | None,
    json_mode: bool,
    turns: TurnMode,
) -> int:
    segmenter_config(settings.segmenter)  # a bad [segmenter] table fails before anything starts
    return asyncio.run(
        run_voice(settings, mic=mic, system=system, output=output, json_mode=json_mode, turns=turns)
    )
