"""Each answer kept whole, for a face that replies with one message per turn (Telegram's voice notes): the
audio as it came, and the text — the transcript of the audio, else the written parts."""

from __future__ import annotations

from dataclasses import dataclass

from rholive.live import events as ev

OUTPUT_RATE = 24000  # the Live API's audio out, when no chunk says otherwise


@dataclass(frozen=True, slots=True)
class WholeAnswer:
    audio: bytes
    text: str
    sample_rate: int = OUTPUT_RATE


class AnswerCollector:
    """A Conversation's sink: gathers one answer until AnswerComplete (not TurnComplete: background reasoning
    goes on after it), then keeps it until taken."""

    def __init__(self) -> None:
        self._audio = bytearray()
        self._rate = OUTPUT_RATE
        self._spoken: list[str] = []
        self._written: list[str] = []
        self._done: list[WholeAnswer] = []

    def event(self, event: ev.Event) -> None:
        match event:
            case ev.AudioChunk(data=data, sample_rate=rate):
                self._rate = rate
                self._audio += data
            case ev.OutputTranscription(text=text):
                self._spoken.append(text)
            case ev.TextPart(text=text, thought=False):
                self._written.append(text)
            case ev.AnswerComplete():
                text = "".join(self._spoken).strip() or "".join(self._written).strip()
                self._done.append(WholeAnswer(bytes(self._audio), text, self._rate))
                self._audio, self._spoken, self._written = bytearray(), [], []

    def cost(self, event: dict[str, object]) -> None:
        """Cost is not part of a reply."""

    def take(self) -> WholeAnswer:
        """The oldest complete answer not taken yet."""
        return self._done.pop(0)
