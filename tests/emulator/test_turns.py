"""Turn taking over a real socket: server VAD on generated PCM, activity markers, text, interruption,
streamed replies in both modalities, transcriptions and usage."""

from __future__ import annotations

import base64

import pytest

from .helpers import (
    audio_message,
    chunks,
    dig,
    manual,
    setup_message,
    silence,
    text_turn,
    texts,
    tone,
)


def vad(silence_ms: int | None = None) -> dict:
    detection = {} if silence_ms is None else {"silenceDurationMs": silence_ms}
    return {"realtimeInputConfig": {"automaticActivityDetection": detection}}


async def stream(client, pcm: bytes) -> None:
    for chunk in chunks(pcm, 100):
        await client.send(audio_message(chunk))


async def test_server_vad_ends_the_turn_after_the_silence(connect, emulator) -> None:
    async with connect() as client:
        await client.setup(setup_message(**vad(500)))
        await stream(client, silence(0.3) + tone(1.0) + silence(1.0))
        reply = await client.turn()
        await client.send({"realtimeInput": {"text": "done"}})  # messages are consumed in order:
        await client.turn()  # once this is answered, all the audio before it was consumed
    assert texts(reply)
    turn, _ = emulator.conversations[0].turns
    # the turn runs from the start of speech to the moment 500 ms of silence were heard
    assert turn.audio_seconds == pytest.approx(1.5)
    assert turn.audio_bytes == 2 * 16000 * 3 // 2
    assert emulator.conversations[0].ignored_audio_seconds == pytest.approx(0.3 + 0.5)  # before and after


async def test_server_vad_default_silence_and_audio_stream_end(connect, emulator) -> None:
    async with connect() as client:
        await client.setup(setup_message(**vad()))
        await stream(client, tone(0.5) + silence(0.5))  # 500 ms < the 800 ms default: the turn stays open
        await client.send({"realtimeInput": {"audioStreamEnd": True}})
        await client.turn()
        await stream(client, tone(0.4) + silence(1.0))  # 800 ms of silence closes this one
        await client.turn()
    first, second = emulator.conversations[0].turns
    assert first.audio_seconds == pytest.approx(1.0)  # closed by audioStreamEnd, not by silence
    assert second.audio_seconds == pytest.approx(1.2)


async def test_speech_onset_interrupts_a_reply(connect, emulator) -> None:
    emulator.options.reply_delay_s = 30.0  # the reply is still pending when speech starts
    async with connect() as client:
        await client.setup(setup_message(**vad(300)))
        await client.send(text_turn("first"))
        await stream(client, tone(0.2))  # the reply to "first" is still delayed
        got = await client.until_key("serverContent", "interrupted")
    assert not any(dig(m, "serverContent", "turnComplete") for m in got)


async def test_activity_markers_delimit_the_turn(connect, emulator) -> None:
    async with connect() as client:
        await client.setup(setup_message(**manual(inputAudioTranscription={})))
        await stream(client, tone(0.3))  # before activityStart: not part of any turn
        await client.send({"realtimeInput": {"activityStart": {}}})
        await stream(client, tone(0.7) + silence(1.5))  # silence does not end a manual turn
        await client.send({"realtimeInput": {"video": {"data": "_9j_4A==", "mimeType": "image/jpeg"}}})
        await client.send({"realtimeInput": {"activityEnd": {}}})
        reply = await client.turn()
    [turn] = emulator.conversations[0].turns
    assert (turn.audio_seconds, turn.video_frames, turn.video_bytes) == (pytest.approx(2.2), 1, 4)
    assert emulator.conversations[0].ignored_audio_seconds == pytest.approx(0.3)
    transcripts = [dig(m, "serverContent", "inputTranscription", "text") for m in reply]
    assert "[2.2 s of audio]" in transcripts


async def test_typed_text_ends_a_turn_and_context_waits(connect, emulator) -> None:
    async with connect() as client:
        await client.setup(setup_message(inputAudioTranscription={}))
        await client.send(text_turn("Earlier context", complete=False))
        await client.send({"realtimeInput": {"text": "Hello there"}})
        reply = await client.turn()
    [turn] = emulator.conversations[0].turns
    assert turn.text == "Earlier context\nHello there"
    assert dig(reply[0], "serverContent", "inputTranscription", "text") == turn.text


@pytest.mark.parametrize("interrupt", ["activityStart", "clientContent"])
async def test_interruption_stops_the_reply(connect, emulator, interrupt) -> None:
    emulator.options.reply_delay_s = 30.0  # the reply is still pending when the interruption comes
    async with connect() as client:
        await client.setup(setup_message(**manual()))
        await client.send(text_turn("one"))
        if interrupt == "activityStart":
            await client.send({"realtimeInput": {"activityStart": {}}})
        else:
            await client.send(text_turn("two"))
        got = await client.until_key("serverContent", "interrupted")
    assert texts(got) == ""  # the delayed reply never started
    assert len(emulator.conversations[0].turns) == (1 if interrupt == "activityStart" else 2)


async def test_no_interruption_lets_the_reply_finish(connect, emulator) -> None:
    emulator.options.reply_delay_s = 0.5
    config = manual()
    config["realtimeInputConfig"]["activityHandling"] = "NO_INTERRUPTION"
    async with connect() as client:
        await client.setup(setup_message(sessionResumption={"transparent": True}, **config))
        await client.send(text_turn("one"))
        await client.send({"realtimeInput": {"activityStart": {}}})
        got = await client.until_key("sessionResumptionUpdate")
        got = await client.until_key("sessionResumptionUpdate")
    assert not any(dig(m, "serverContent", "interrupted") for m in got)
    assert "one" in texts(got)
    # the activityStart (message 2) was consumed before the reply ended, so it could have interrupted it
    assert int(dig(got[-1], "sessionResumptionUpdate", "lastConsumedClientMessageIndex")) == 2


async def test_text_reply_streams_in_parts_then_completes(connect) -> None:
    async with connect() as client:
        await client.setup()
        await client.send(text_turn("a fairly long sentence so that the echo has many words"))
        got = await client.turn()
    kinds = [next(iter(m["serverContent"])) for m in got]
    assert kinds.count("modelTurn") >= 3
    assert kinds[-2:] == ["generationComplete", "turnComplete"]
    assert "a fairly long sentence" in texts(got)
    usage = got[-1]["usageMetadata"]
    assert usage["promptTokensDetails"] == [{"modality": "TEXT", "tokenCount": 14}]  # 54 chars / 4
    assert usage["totalTokenCount"] == usage["promptTokenCount"] + usage["responseTokenCount"]


async def test_audio_reply_is_24khz_pcm_with_transcription(connect) -> None:
    async with connect() as client:
        await client.setup(setup_message("AUDIO", outputAudioTranscription={}, **manual()))
        await client.send({"realtimeInput": {"activityStart": {}}})
        await stream(client, tone(2.0))
        await client.send({"realtimeInput": {"activityEnd": {}}})
        got = await client.turn()
    blobs = [p["inlineData"] for m in got for p in dig(m, "serverContent", "modelTurn", "parts") or []]
    assert len(blobs) >= 2 and {b["mimeType"] for b in blobs} == {"audio/pcm;rate=24000"}
    pcm = b"".join(base64.b64decode(b["data"]) for b in blobs)
    transcript = "".join(dig(m, "serverContent", "outputTranscription", "text") or "" for m in got)
    assert transcript.strip()  # what was spoken, as text (its wording is the brain's business)
    usage = got[-1]["usageMetadata"]
    assert usage["promptTokensDetails"] == [{"modality": "AUDIO", "tokenCount": 50}]
    spoken_s = len(pcm) / 2 / 24000
    assert usage["responseTokensDetails"] == [{"modality": "AUDIO", "tokenCount": -(-spoken_s * 25 // 1)}]


async def test_video_frames_count_at_low_resolution(connect) -> None:
    async with connect() as client:
        await client.setup(
            setup_message(
                generationConfig={"responseModalities": ["AUDIO"], "mediaResolution": "MEDIA_RESOLUTION_LOW"}
            )
        )
        for _ in range(2):
            await client.send({"realtimeInput": {"video": {"data": "iVBORw0KGgo=", "mimeType": "image/png"}}})
        await client.send({"realtimeInput": {"text": "what do you see"}})
        got = await client.turn()
    details = {d["modality"]: d["tokenCount"] for d in got[-1]["usageMetadata"]["promptTokensDetails"]}
    assert details == {"TEXT": 4, "VIDEO": 132}
