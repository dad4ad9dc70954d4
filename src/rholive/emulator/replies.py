"""Streaming one reply: the brain's actions become text parts or 24 kHz speech, tool calls, then usage.

A reply runs as a task; cancelling it is how an interruption stops it. Tool calls wait for the client's
``toolResponse`` on futures that the connection resolves; an interruption cancels them and the client is
told with ``toolCallCancellation``. A NON_BLOCKING call does not hold the reply: the model says a filler and
ends its turn; each response is then taken in by its ``scheduling`` (SILENT: no word; WHEN_IDLE: a turn of its
own after the current one; INTERRUPT: cuts the current one first), and ``willContinue`` keeps the id open.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import logging
import math
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from rholive.emulator import speech
from rholive.emulator.brains import Action, Brain, CallTool, Say, Silent, UserTurn
from rholive.emulator.options import EmulatorOptions
from rholive.emulator.rules import FunctionResult, Rejection
from rholive.emulator.session_config import SessionConfig
from rholive.emulator.turns import Context

log = logging.getLogger("rholive.emulator")

OUTPUT_RATE = 24000
AUDIO_TOKENS_PER_S = 25
FRAME_TOKENS = 258
FRAME_TOKENS_LOW = 66
MAX_TOOL_ROUNDS = 8
TOOL_FILLER = "I'm looking into it."  # said while NON_BLOCKING tools run, before the turn ends
THINKING_FILLER = "Let me think."  # the extended-thinking model's spoken filler

Send = Callable[[dict[str, Any]], Awaitable[None]]
Hook = Callable[[], Awaitable[None]]


def split_parts(text: str, words_per_part: int) -> list[str]:
    """Cut text into streamed parts at word boundaries; joining the parts gives the text back exactly."""
    words = re.findall(r"\s*\S+\s*", text) or [text]
    size = max(1, words_per_part)
    return ["".join(words[i : i + size]) for i in range(0, len(words), size)]


def turn_tokens(turn: UserTurn, low_resolution: bool) -> dict[str, int]:
    """Plausible prompt tokens of one user turn, by modality."""
    per_frame = FRAME_TOKENS_LOW if low_resolution else FRAME_TOKENS
    counts = {
        "TEXT": math.ceil(len(turn.text) / 4),
        "AUDIO": math.ceil(turn.audio_seconds * AUDIO_TOKENS_PER_S),
        "VIDEO": turn.video_frames * per_frame,
    }
    return {k: v for k, v in counts.items() if v}


def usage_metadata(prompt: dict[str, int], response: dict[str, int]) -> dict[str, Any]:
    def details(counts: dict[str, int]) -> list[dict[str, Any]]:
        return [{"modality": k, "tokenCount": v} for k, v in counts.items()]

    total_in, total_out = sum(prompt.values()), sum(response.values())
    return {
        "promptTokenCount": total_in,
        "responseTokenCount": total_out,
        "totalTokenCount": total_in + total_out,
        "promptTokensDetails": details(prompt),
        "responseTokensDetails": details(response),
    }


@dataclass
class Produced:
    text_chars: int = 0
    audio_seconds: float = 0.0

    def tokens(self) -> dict[str, int]:
        if self.audio_seconds:
            return {"AUDIO": math.ceil(self.audio_seconds * AUDIO_TOKENS_PER_S)}
        return {"TEXT": math.ceil(self.text_chars / 4)} if self.text_chars else {}


@dataclass(frozen=True, slots=True)
class FollowUp:
    """A NON_BLOCKING call's response the model is to speak about."""

    call: CallTool
    result: FunctionResult


class Replier:
    def __init__(
        self,
        send: Send,
        config: SessionConfig,
        options: EmulatorOptions,
        brain: Brain,
        context: Context | None = None,
        taken: list[FunctionResult] | None = None,
        mid_answer: Hook | None = None,
    ) -> None:
        self._send = send
        self._mid_answer = mid_answer  # awaited once, in the middle of an answer's first sentence
        self._mid_due = False
        self._config = config
        self._options = options
        self._brain = brain
        self._context = context or Context(config.system_instruction, dict(config.tools))
        self._calls: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._background: dict[str, CallTool] = {}  # NON_BLOCKING calls still running
        self._cancelled: set[str] = set()
        self._ids = itertools.count(1)
        self.taken = taken if taken is not None else []  # every function response received

    @property
    def running_tools(self) -> bool:
        return bool(self._background) or any(not f.done() for f in self._calls.values())

    # -- tool responses, from the connection's reader

    def resolve(self, results: tuple[FunctionResult, ...]) -> list[FollowUp]:
        """Take in responses (all of one message together); the NON_BLOCKING ones to speak about."""
        for result in results:
            if result.id in self._cancelled or result.id in self._background:
                continue  # a race with a cancellation is fine; a running NON_BLOCKING call may answer again
            future = self._calls.get(result.id)
            if future is None or future.done():
                raise Rejection(f"toolResponse for unknown function call id {result.id!r}")
        follow_ups = []
        for result in results:
            self.taken.append(result)
            future = self._calls.pop(result.id, None)
            if future is not None:
                future.set_result(result.response)
            elif result.id in self._background:
                follow_ups += self._background_result(result)
        return follow_ups

    def _background_result(self, result: FunctionResult) -> list[FollowUp]:
        call = self._background[result.id]
        if not result.will_continue:
            del self._background[result.id]  # the call is finished: later responses are unknown ids
        if result.scheduling == "SILENT":
            return []  # into the context only: nothing is said
        return [FollowUp(call, result)]

    def cancel_calls(self) -> list[str]:
        """Forget the calls still waiting (the reply was interrupted); their ids, for toolCallCancellation."""
        ids = [i for i, f in self._calls.items() if not f.done()]
        for call_id in ids:
            self._calls.pop(call_id).cancel()
        self._cancelled.update(ids)
        return ids

    # -- the reply itself

    async def reply(self, turn: UserTurn, history: list[UserTurn]) -> Produced:
        """Stream the answer to ``turn`` up to generationComplete; the caller sends turnComplete."""
        produced = Produced()
        actions = self._ask(lambda: self._brain.respond(turn, history))
        if self._options.reply_delay_s > 0:
            await asyncio.sleep(self._options.reply_delay_s)
        if self._config.interaction_status:
            await self._think_aloud(produced)
        self._mid_due = self._mid_answer is not None  # the answer's middle, not the thinking filler's
        await self._perform(actions, produced, 0)
        await self._send({"serverContent": {"generationComplete": True}})
        return produced

    async def follow_up(self, item: FollowUp) -> Produced:
        """Speak about a NON_BLOCKING call's response, as a turn of its own."""
        produced = Produced()
        call, response = item.call, item.result.response
        actions = self._ask(lambda: self._brain.after_tool(call.name, call.args, response))
        await self._perform(actions, produced, 0)
        await self._send({"serverContent": {"generationComplete": True}})
        return produced

    def status(self) -> str:
        """interactionStatus for a turnComplete: IN_PROGRESS while tools still run in the background."""
        return "IN_PROGRESS" if self._background else "IDLE"

    async def _think_aloud(self, produced: Produced) -> None:
        # the extended-thinking model speaks a filler and ends that turn while it reasons on
        await self._say(THINKING_FILLER, produced)
        await self._send({"serverContent": {"turnComplete": True, "interactionStatus": "IN_PROGRESS"}})

    def _ask(self, question: Callable[[], list[Action]]) -> list[Action]:
        try:
            return list(question())
        except Exception as exc:  # a broken script must not kill the session: say what went wrong
            log.exception("brain failed")
            return [Say(f"[emulator brain error: {exc}]")]

    async def _perform(self, actions: list[Action], produced: Produced, depth: int) -> None:
        index = 0
        while index < len(actions):
            action = actions[index]
            if isinstance(action, Silent) or (isinstance(action, Say) and not action.text):
                index += 1  # the model chose not to speak: no content at all
                continue
            if isinstance(action, Say):
                await self._say(action.text, produced)
                index += 1
                continue
            batch: list[CallTool] = []
            while index < len(actions) and isinstance(actions[index], CallTool):
                batch.append(actions[index])  # type: ignore[arg-type]
                index += 1
            follow_up = await self._call_tools(batch)
            if depth + 1 >= MAX_TOOL_ROUNDS:
                follow_up = [a for a in follow_up if isinstance(a, Say)]
            await self._perform(follow_up, produced, depth + 1)

    async def _call_tools(self, batch: list[CallTool]) -> list[Action]:
        loop = asyncio.get_running_loop()
        waiting: list[tuple[CallTool, asyncio.Future[dict[str, Any]]]] = []
        calls = []
        for call in batch:
            call_id = f"call-{next(self._ids)}"
            calls.append((call_id, call))
            # undeclared functions (a brain's own) block, as before NON_BLOCKING existed
            if self._context.tools.get(call.name, False):
                self._background[call_id] = call
            else:
                self._calls[call_id] = loop.create_future()
                waiting.append((call, self._calls[call_id]))
        await self._send(
            {"toolCall": {"functionCalls": [{"id": i, "name": c.name, "args": c.args} for i, c in calls]}}
        )
        follow_up: list[Action] = []
        if len(waiting) < len(calls):
            follow_up.append(Say(TOOL_FILLER))  # the model talks on while NON_BLOCKING tools run
        for call, future in waiting:  # our own futures: resolve() may already have popped them
            response = await future
            follow_up += self._ask(lambda c=call, r=response: self._brain.after_tool(c.name, c.args, r))
        return follow_up

    async def _say(self, text: str, produced: Produced) -> None:
        parts = split_parts(text, self._options.words_per_part)
        middle = max(len(parts) // 2, 1) - 1  # the part after which the answer is "in the middle"
        produced.text_chars += len(text)
        if self._config.modality == "TEXT":
            for i, part in enumerate(parts):
                await self._send(
                    {"serverContent": {"modelTurn": {"role": "model", "parts": [{"text": part}]}}}
                )
                await asyncio.sleep(0)  # let an interruption in between parts
                if i == middle:
                    await self._in_the_middle()
            return
        pcm = await asyncio.to_thread(speech.synthesize, text, OUTPUT_RATE)
        produced.audio_seconds += len(pcm) / 2 / OUTPUT_RATE
        step = max(2, OUTPUT_RATE * 2 * self._options.audio_chunk_ms // 1000 // 2 * 2)
        chunks = [pcm[i : i + step] for i in range(0, len(pcm), step)] or [b""]
        for i, part in enumerate(parts):
            if self._config.output_transcription:
                await self._send({"serverContent": {"outputTranscription": {"text": part}}})
            share = chunks[i * len(chunks) // len(parts) : (i + 1) * len(chunks) // len(parts)]
            for chunk in share:
                blob = {"mimeType": f"audio/pcm;rate={OUTPUT_RATE}", "data": base64.b64encode(chunk).decode()}
                await self._send(
                    {"serverContent": {"modelTurn": {"role": "model", "parts": [{"inlineData": blob}]}}}
                )
                await asyncio.sleep(0)
            if i == middle:
                await self._in_the_middle()

    async def _in_the_middle(self) -> None:
        if self._mid_due and self._mid_answer is not None:
            self._mid_due = False
            await self._mid_answer()
