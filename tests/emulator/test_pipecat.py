"""pipecat's Gemini Live service against the emulator: a spoken exchange (audio frames in, audio and a
transcript out), pointed at the emulator through the SDK's http_options (no patching needed)."""

from __future__ import annotations

import asyncio
import contextlib
import ssl

import pytest
from google.genai.types import HttpOptions
from pipecat.frames.frames import (
    EndFrame,
    Frame,
    InputAudioRawFrame,
    LLMContextFrame,
    TTSAudioRawFrame,
    TTSTextFrame,
)
from pipecat.pipeline.pipeline import Pipeline
from pipecat.pipeline.runner import PipelineRunner
from pipecat.pipeline.task import PipelineTask
from pipecat.processors.aggregators.llm_context import LLMContext
from pipecat.processors.frame_processor import FrameDirection, FrameProcessor
from pipecat.services.google.gemini_live.llm import GeminiLiveLLMService

from rholive.emulator import Emulator, EmulatorOptions

from .helpers import WAIT_S, chunks, silence, tone

KEY = "pipecat-test-key"


@pytest.fixture
def options() -> EmulatorOptions:
    return EmulatorOptions(tls=True, api_keys=[KEY])


class Collector(FrameProcessor):
    """Keeps the frames that reach the end of the pipeline; ``spoken`` is set once a reply was heard."""

    def __init__(self) -> None:
        super().__init__()
        self.audio = bytearray()
        self.text: list[str] = []
        self.spoken = asyncio.Event()
        self.inputs: asyncio.Queue[InputAudioRawFrame] = asyncio.Queue()  # user audio the service passed on

    @property
    def transcript(self) -> str:
        return " ".join(" ".join(self.text).split())  # pieces may carry their own spaces

    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        await super().process_frame(frame, direction)
        if isinstance(frame, InputAudioRawFrame):
            self.inputs.put_nowait(frame)
        elif isinstance(frame, TTSAudioRawFrame):
            self.audio += frame.audio
        elif isinstance(frame, TTSTextFrame):
            self.text.append(frame.text)
        if self.audio and "seconds of audio" in self.transcript:
            self.spoken.set()
        await self.push_frame(frame, direction)


async def feed(task: PipelineTask, collector: Collector, pcm: bytes) -> None:
    """One 16 kHz chunk through the service, paced by the chunk reaching the end of the pipeline."""
    await task.queue_frame(InputAudioRawFrame(audio=pcm, sample_rate=16000, num_channels=1))
    await collector.inputs.get()


async def test_pipecat_gemini_live_spoken_exchange(emulator: Emulator) -> None:
    context = ssl.create_default_context(cafile=str(emulator.cert_path))
    llm = GeminiLiveLLMService(
        api_key=KEY,
        model="models/gemini-3.8-live",
        http_options=HttpOptions(
            base_url=emulator.http_url, api_version="v1beta", async_client_args={"ssl": context}
        ),
    )
    collector = Collector()
    task = PipelineTask(Pipeline([llm, collector]))
    runner = asyncio.create_task(PipelineRunner(handle_sigint=False).run(task))
    try:
        await task.queue_frame(LLMContextFrame(LLMContext()))  # no history: realtime input right away
        async with asyncio.timeout(WAIT_S):
            # pipecat drops audio until its session is ready: talk until the emulator hears speech
            while not (emulator.conversations and emulator.conversations[0].state.vad.speaking):
                await feed(task, collector, tone(0.02))
            for chunk in chunks(tone(0.5) + silence(1.2), ms=20):
                await feed(task, collector, chunk)
            while not collector.spoken.is_set():  # a user keeps quiet until the answer came
                await feed(task, collector, silence(0.02))
    finally:
        await task.queue_frame(EndFrame())
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(WAIT_S):
                await runner
    [conversation] = emulator.conversations
    assert conversation.turns[0].audio_seconds >= 0.5
    assert collector.transcript.startswith("I heard ")
    assert len(collector.audio) > 0
