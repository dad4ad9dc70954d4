"""``rholive chat``: each stdin line is a user turn over one Live session; replies go to stdout."""

from __future__ import annotations

import asyncio
import json
import sys
from typing import TextIO

from rholive.answers import AnswerFilter, is_nothing
from rholive.budget import BUDGET_EXIT, cost_event, cost_meter
from rholive.config import Settings
from rholive.connect import open_endpoint
from rholive.live import LiveSession, SessionOptions, SetupConfig, ToolRegistry, TranscriptionOptions
from rholive.live import events as ev
from rholive.live.cost import budget_line
from rholive.textio import read_lines


def setup_config(settings: Settings) -> SetupConfig:
    """Always AUDIO with its transcript: every Live model today refuses TEXT, a model newer than our catalog
    most likely too; ``settings.modality`` only says whether the answers are also played."""
    hints = transcription_options(settings)
    return SetupConfig(
        model=settings.model,
        response_modality="AUDIO",
        system_instruction=settings.system_instruction,
        voice_name=settings.voice,
        thinking_level=settings.thinking_level,  # fit_setup drops it where the model has no levels
        output_transcription=True,
        input_transcription_options=hints,
        output_transcription_options=hints,
    )


def transcription_options(settings: Settings) -> TranscriptionOptions:
    table = settings.transcription
    return TranscriptionOptions(tuple(table.languages), tuple(table.custom_vocabulary))


def no_tools() -> ToolRegistry:
    """An empty registry: a tool call the face cannot serve gets an error response, so the model goes on
    (without one it waited for an answer forever, and so did the face)."""
    return ToolRegistry()


def session_options(settings: Settings) -> SessionOptions:
    return SessionOptions(
        setup_timeout_s=settings.setup_timeout_s,
        ping_interval_s=settings.ping_interval_s,
        ping_timeout_s=settings.ping_timeout_s,
        stall_timeout_s=settings.stall_timeout_s,
    )


class ChatPrinter:
    """Writes events either as readable text or as one JSON object per line."""

    def __init__(self, out: TextIO, err: TextIO, json_mode: bool) -> None:
        self.out, self.err, self.json_mode = out, err, json_mode
        self._mid_line = False
        self._answer: list[str] = []  # the answer so far, as text (a transcript with audio-only models)
        self._filter = AnswerFilter()  # holds back what could still be a "<nothing>" reply
        self._restored = False  # ContextRestored was said: the HistorySeeded that follows it adds nothing

    def user(self, text: str) -> None:
        if self.json_mode:
            self._json({"event": "user_turn", "text": text})

    def cost(self, event: dict[str, object]) -> None:
        if self.json_mode:
            self._json(event)

    def event(self, event: ev.Event) -> None:
        if self.json_mode:
            piece = ev.answer_text(event)
            if piece is not None:
                self._answer.append(piece)
            self._json(ev.event_to_dict(event))
            if isinstance(event, ev.AnswerComplete | ev.Interrupted):
                self._flush_answer()
            elif isinstance(event, ev.AnswerCut):
                self._answer.clear()  # the repeat is the answer; answer_cut carries what was cut
            return
        match event:
            case ev.TextPart(text=text, thought=False) | ev.OutputTranscription(text=text):
                self._show(self._filter.feed(text))
            case ev.TurnComplete() | ev.AnswerComplete():
                self._finish_answer()
                self._end_line()
            case ev.Interrupted():
                self._finish_answer()
                self._end_line()
                self._note("(interrupted)")
            case ev.AnswerCut():
                self._finish_answer()
                # the repeat starts on its own line: never glued to the cut start
                if self._mid_line:
                    self.out.write(" [cut]")
                self._end_line()
            case ev.Stalled(timeout_s=timeout):
                self._end_line()
                self._note(f"no answer came to that turn (silent for {timeout:g} s, twice); going on")
            case ev.ContextRestored(turns=turns, reason=reason):
                self._restored = True
                self._note(f"{reason}; a new session was given {turns} turn(s) of the conversation")
            case ev.GoAway(time_left_s=left):
                self._note(f"server sent goAway: this connection ends in {left:g} s")
            case ev.Reconnecting(reason=reason, attempt=attempt):
                self._note(f"reconnecting ({reason}, attempt {attempt})")
            case ev.Resumed(replayed=replayed):
                self._note(f"resumed; {replayed} unconsumed message(s) sent again")
            case ev.ContextLost(reason=reason):
                self._note(f"context lost: {reason}")
            case ev.HistorySeeded(turns=turns):
                if not self._restored:
                    self._note(f"the new session was given {turns} turn(s) of the conversation as history")
                self._restored = False
            case ev.ProtocolError(message=message):
                self._note(f"protocol error: {message}")
            case ev.UnknownMessage(fields=names):
                self._note(f"ignored unknown server message: {', '.join(names)}")
            case ev.Closed(code=code, reason=reason, error=True):
                self._end_line()
                self._note(f"session closed: {code} {reason}".rstrip())

    def _show(self, text: str) -> None:
        if not text:
            return
        if not self._mid_line:
            self._answer_begins()
        self.out.write(text)
        self.out.flush()
        self._mid_line = True

    def _answer_begins(self) -> None:
        """Hook: the first shown text of an answer is about to be written (replay prefixes "model: ")."""

    def _finish_answer(self) -> None:
        """What the filter held back, unless the whole answer meant nothing (never shown: README)."""
        self._show(self._filter.finish() or "")
        self._filter = AnswerFilter()

    def _flush_answer(self) -> None:
        """One ``answer`` event per model turn with its whole text, whatever modality carried it; a reply that
        means nothing (``<nothing>``) is ``answer_withheld``, like the copilot's trace."""
        text = "".join(self._answer).strip()
        self._answer.clear()
        if text and is_nothing(text):
            self._json({"event": "answer_withheld"})
        elif text:
            self._json({"event": "answer", "text": text})

    def _json(self, obj: dict[str, object]) -> None:
        self.out.write(json.dumps(obj, ensure_ascii=False) + "\n")
        self.out.flush()

    def _end_line(self) -> None:
        if self._mid_line:
            self.out.write("\n")
            self.out.flush()
            self._mid_line = False

    def _note(self, text: str) -> None:
        print(f"rholive: {text}", file=self.err, flush=True)


async def run_chat(settings: Settings, *, json_mode: bool, stdin: TextIO, out: TextIO, err: TextIO) -> int:
    """Returns the process exit code: 0 after EOF, 1 when the session ended with an error, `BUDGET_EXIT` when
    the estimated cost reached the budget (the turn that crossed it is answered; no later line is sent)."""
    printer = ChatPrinter(out, err, json_mode)
    meter = cost_meter(settings)
    async with (
        open_endpoint(settings, quiet=False) as endpoint,
        LiveSession(
            endpoint, setup_config(settings), no_tools(), options=session_options(settings)
        ) as session,
    ):
        answer_done = asyncio.Event()
        over_budget = asyncio.Event()
        closed: list[ev.Closed] = []

        async def consume() -> None:
            async for event in session:
                printer.event(event)
                if isinstance(event, ev.Usage):
                    printer.cost(cost_event(meter, meter.add(event)))
                    if meter.reached(settings.budget_usd):
                        over_budget.set()
                # not TurnComplete: with background reasoning the answer goes on after it. A turn given up
                # after two stalls, or a model that waits for more input, ends the wait too: never hang.
                if isinstance(event, ev.AnswerComplete | ev.Stalled | ev.WaitingForInput):
                    answer_done.set()
                elif isinstance(event, ev.Closed):
                    closed.append(event)
                    answer_done.set()

        consumer = asyncio.create_task(consume())
        async for line in read_lines(stdin):
            if closed or over_budget.is_set():  # usage that came after its turn's end is counted here
                break
            if not line.strip():
                continue
            printer.user(line)
            answer_done.clear()
            await session.send_turn(line)
            # the usage of a turn rides on its turnComplete frame and is handled before this wakes up
            await answer_done.wait()
            if over_budget.is_set():
                break
        await session.close()
        await consumer
    if closed and closed[0].error:
        return 1
    if over_budget.is_set() and settings.budget_usd is not None and meter.usd is not None:
        print(budget_line(settings.budget_usd, meter.usd), file=err, flush=True)
        return BUDGET_EXIT
    return 0


def main(settings: Settings, *, json_mode: bool) -> int:
    return asyncio.run(
        run_chat(settings, json_mode=json_mode, stdin=sys.stdin, out=sys.stdout, err=sys.stderr)
    )
