"""The answer stream as lines: readable text, or one JSON object per event (`--json`), for `chat` and `replay`."""

from __future__ import annotations

import json
from typing import Any, TextIO

from rholive.conversation.answers import AnswerFilter, is_nothing
from rholive.conversation.turn_stream import End, Start, WireAction
from rholive.live import events as ev


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
