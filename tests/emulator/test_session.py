"""Session state over real sockets: resumption restores the conversation exactly, goAway and the deadline,
session limits, and the fault flags."""

from __future__ import annotations

from typing import Any

import pytest

from .helpers import audio_message, chunks, dig, manual, setup_message, text_turn, tone

RESUMABLE = {"sessionResumption": {"transparent": True}}


def updates(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [m["sessionResumptionUpdate"] for m in messages if "sessionResumptionUpdate" in m]


async def test_update_after_setup_and_after_each_turn(connect) -> None:
    async with connect() as client:
        await client.setup(setup_message(**RESUMABLE))
        first = await client.until_key("sessionResumptionUpdate")
        await client.send(text_turn("one"))
        after_turn = await client.until_key("sessionResumptionUpdate")
    assert updates(first)[0]["lastConsumedClientMessageIndex"] == "0"
    assert updates(after_turn)[0]["lastConsumedClientMessageIndex"] == "1"
    assert updates(after_turn)[0]["resumable"] is True
    assert dig(after_turn[-2], "serverContent", "turnComplete")  # the update follows the turn's end


async def test_no_index_unless_transparent(connect) -> None:
    async with connect() as client:
        await client.setup(setup_message(sessionResumption={}))
        [update] = updates(await client.until_key("sessionResumptionUpdate"))
    assert update["newHandle"] and "lastConsumedClientMessageIndex" not in update


@pytest.mark.parametrize("which", ["after setup", "after the turn"])
async def test_resume_restores_history_and_the_partly_received_turn(connect, emulator, which) -> None:
    """Replay exactly what the index says was not consumed: no turn lost, none doubled."""
    emulator.options.reply_delay_s = 0.2  # audio of turn 2 arrives while turn 1 is answered
    config = manual()
    config["realtimeInputConfig"]["activityHandling"] = "NO_INTERRUPTION"
    sent: list[dict[str, Any]] = [
        text_turn("one"),
        {"realtimeInput": {"activityStart": {}}},
        *[audio_message(c) for c in chunks(tone(0.5))],
    ]
    async with connect() as first:
        await first.setup(setup_message(**RESUMABLE, **config))
        for message in sent:
            await first.send(message)
        got = await first.until(
            lambda m: int(dig(m, "sessionResumptionUpdate", "lastConsumedClientMessageIndex") or 0) > 0
        )
    update = updates(got)[0 if which == "after setup" else -1]
    consumed = int(update["lastConsumedClientMessageIndex"])  # messages 1..consumed are in the handle
    async with connect() as second:
        await second.setup(
            setup_message(sessionResumption={"handle": update["newHandle"], "transparent": True}, **config)
        )
        for message in sent[consumed:]:
            await second.send(message)
        for chunk in chunks(tone(0.5)):
            await second.send(audio_message(chunk))
        await second.send({"realtimeInput": {"activityEnd": {}}})
        last = len(sent) - consumed + 5 + 1  # the index of that activityEnd on this connection
        await second.until(
            lambda m: dig(m, "sessionResumptionUpdate", "lastConsumedClientMessageIndex") == str(last)
        )
    [conversation] = emulator.conversations
    assert conversation.connections == 2
    assert [t.text for t in conversation.turns] == ["one", ""]
    assert conversation.turns[1].audio_seconds == pytest.approx(1.0)


async def test_resume_from_an_older_handle_does_not_double_a_turn(connect, emulator) -> None:
    emulator.options.reply_delay_s = 30.0  # the connection dies before the reply
    async with connect() as first:
        await first.setup(setup_message(inputAudioTranscription={}, **RESUMABLE))
        [update] = updates(await first.until_key("sessionResumptionUpdate"))
        await first.send(text_turn("lost reply"))
        await first.until_key("serverContent", "inputTranscription")  # received, closed, not answered
        assert len(emulator.conversations[0].turns) == 1
    emulator.options.reply_delay_s = 0.0
    async with connect() as second:
        await second.setup(setup_message(sessionResumption={"handle": update["newHandle"]}))
        await second.send(text_turn("lost reply"))  # index 1 > 0: not consumed, so sent again
        got = await second.turn()
    assert "lost reply" in str(got)
    assert [t.text for t in emulator.conversations[0].turns] == ["lost reply"]


async def test_goaway_then_deadline(connect, emulator) -> None:
    emulator.options.connection_lifetime_s = 0.6
    emulator.options.goaway_notice_s = 0.25
    async with connect() as client:
        await client.setup()
        got = await client.until_key("goAway")
        code, reason = await client.closed()
    assert got[-1]["goAway"] == {"timeLeft": "0.25s"}
    assert (code, reason) == (1011, "Deadline expired")


async def test_audio_video_session_limit_ends_the_session(connect, emulator) -> None:
    emulator.options.video_session_limit_s = 0.3
    async with connect() as client:
        await client.setup(setup_message(**RESUMABLE))
        [update] = updates(await client.until_key("sessionResumptionUpdate"))
        await client.send({"realtimeInput": {"video": {"data": "_9j_4A==", "mimeType": "image/jpeg"}}})
        code, reason = await client.closed()
    assert code == 1000 and "audio+video sessions last 0.3 s" in reason
    async with connect() as again:
        await again.send(setup_message(sessionResumption={"handle": update["newHandle"]}))
        code, reason = await again.closed()
    assert code == 1008 and "cannot be resumed" in reason


@pytest.mark.parametrize("compression", [False, True])
async def test_compression_lifts_the_session_limit(connect, emulator, compression) -> None:
    emulator.options.audio_session_limit_s = 0.1
    emulator.options.connection_lifetime_s = 1.0
    emulator.options.goaway_notice_s = 0.5
    extra = {"contextWindowCompression": {"slidingWindow": {}}} if compression else {}
    async with connect() as client:
        await client.setup(setup_message(**extra))
        code, reason = await client.closed()
    assert (code, reason == "Deadline expired") == ((1011, True) if compression else (1000, False))


async def test_drop_fault_aborts_without_close_frame_once(connect, emulator) -> None:
    emulator.options.drop_after_messages = 2
    async with connect() as client:
        await client.setup()
        await client.send(text_turn("bye"))
        assert await client.closed() == (None, "")
    async with connect() as client:  # faults fire once: the next connection lives
        await client.setup()
        await client.send(text_turn("still there"))
        assert "still there" in str(await client.turn())


async def test_close_fault_uses_the_code(connect, emulator) -> None:
    emulator.options.close_code = 1011
    emulator.options.close_after_messages = 1
    emulator.options.faults_once = False
    for _ in range(2):
        async with connect() as client:
            await client.send(setup_message())
            code, reason = await client.closed()
        assert code == 1011 and "after 1 client messages" in reason


async def test_resuming_while_the_old_connection_is_open_closes_the_old_one(connect, emulator) -> None:
    async with connect() as old:
        await old.setup(setup_message(**RESUMABLE))
        [update] = updates(await old.until_key("sessionResumptionUpdate"))
        async with connect() as new:
            await new.setup(setup_message(sessionResumption={"handle": update["newHandle"]}))
            assert await old.closed() == (1000, "Session resumed on another connection")
            await new.send(text_turn("on the new one"))
            await new.turn()
    assert [t.text for t in emulator.conversations[0].turns] == ["on the new one"]
