"""The voice-note bot end to end: aiogram long-polls the fake Bot API, the real emulator answers over sockets."""

from __future__ import annotations

import io
from collections.abc import Callable

import av
import pytest

from rholive.conversation import voice_note_personas as default_personas
from rholive.emulator import Emulator
from rholive.live import Endpoint
from rholive.telegram import ChatOptions, texts
from rholive.telegram.store import ChatStore

from .conftest import Note, emulator_with
from .fake_bot_api import FakeBotAPI

ALICE, BOB, STRANGER = 1001, 1002, 5550123


def probe_voice(data: bytes) -> tuple[str, str, int, float]:
    """(container, codec, channels, seconds) of an uploaded voice note, read back with PyAV."""
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.audio[0]
        samples = sum(frame.samples for frame in container.decode(stream))
        return (
            container.format.name,
            stream.codec_context.name,
            stream.codec_context.channels,
            samples / 48000,
        )


async def test_voice_note_answered_with_a_voice_note_and_transcript(
    make_bot: Callable, fake: FakeBotAPI, emulator: Emulator, note: Note
) -> None:
    async with make_bot(allow=[ALICE]):
        message_id = fake.push_voice(ALICE, note.ogg, duration=round(note.seconds))
        await fake.wait_for(lambda: fake.sent(ALICE, "sendVoice"))

    assert fake.downloads == ["voice/file-1.oga"]
    assert len(emulator.conversations) == 1
    turns = emulator.conversations[0].turns
    assert len(turns) == 1
    assert turns[0].audio_seconds == pytest.approx(note.seconds, abs=0.02)
    assert turns[0].text == ""

    [reply] = fake.replies(ALICE)
    assert reply.method == "sendVoice"
    assert reply.voice_field != "voice"  # aiogram's random multipart field, named by attach://
    fmt, codec, channels, seconds = probe_voice(reply.voice or b"")
    assert (fmt, codec, channels) == ("ogg", "opus", 1)
    assert seconds > 0.2
    assert (
        reply.caption == f"Turn 1: I heard {turns[0].audio_seconds:.2f} seconds of audio."
    )  # the transcript
    assert reply.reply_to == message_id
    assert fake.count("sendChatAction") == 1


async def test_refused_chat_is_told_its_id_and_nothing_reaches_the_model(
    make_bot: Callable, fake: FakeBotAPI, emulator: Emulator, note: Note
) -> None:
    async with make_bot(allow=[ALICE]):
        fake.push_text(STRANGER, "hello?")
        fake.push_voice(STRANGER, note.ogg, duration=2)
        fake.push_text(ALICE, "hi")  # answered after both refused updates were handled
        await fake.wait_for(lambda: fake.sent(ALICE) and fake.sent(STRANGER))

    [refusal] = fake.replies(STRANGER)  # told once, not once per message
    assert str(STRANGER) in (refusal.text or "")
    assert f"--allow {STRANGER}" in (refusal.text or "")
    assert fake.downloads == []
    assert [t.text for c in emulator.conversations for t in c.turns] == ["hi"]


async def test_no_allow_list_answers_nobody(make_bot: Callable, fake: FakeBotAPI, emulator: Emulator) -> None:
    async with make_bot(allow=[]):
        fake.push_text(ALICE, "hi")
        await fake.wait_for(lambda: fake.sent(ALICE))
    [refusal] = fake.replies(ALICE)
    assert f"--allow {ALICE}" in (refusal.text or "")
    assert emulator.conversations == []


async def test_corrupt_and_empty_notes_get_polite_replies_and_the_bot_goes_on(
    make_bot: Callable, fake: FakeBotAPI, emulator: Emulator, note: Note
) -> None:
    async with make_bot(allow=[ALICE]):
        corrupt = fake.push_voice(ALICE, b"OggS" + bytes(range(256)) * 8, duration=3)
        empty = fake.push_voice(ALICE, b"", duration=0)
        good = fake.push_voice(ALICE, note.ogg, duration=2)
        await fake.wait_for(lambda: fake.sent(ALICE, "sendVoice"))

    replies = fake.replies(ALICE)
    assert [(r.method, r.reply_to) for r in replies] == [
        ("sendMessage", corrupt),
        ("sendMessage", empty),
        ("sendVoice", good),
    ]
    assert replies[0].text == texts.CORRUPT_NOTE
    assert replies[1].text == texts.EMPTY_NOTE
    assert len(fake.downloads) == 3
    [conversation] = emulator.conversations
    assert len(conversation.turns) == 1  # only the good note reached the model


async def test_over_long_note_refused_before_and_after_decoding(
    make_bot: Callable, fake: FakeBotAPI, emulator: Emulator, note: Note
) -> None:
    options = ChatOptions(max_note_s=note.seconds / 2, turn_timeout_s=30.0)
    async with make_bot(allow=[ALICE], options=options):
        declared = fake.push_voice(ALICE, note.ogg, duration=600)  # Telegram says it is long: no download
        lying = fake.push_voice(ALICE, note.ogg, duration=0)  # Telegram says 0 s: the decoded length counts
        await fake.wait_for(lambda: len(fake.sent(ALICE)) == 2)

    replies = fake.replies(ALICE)
    assert [r.reply_to for r in replies] == [declared, lying]
    assert all("shorter" in (r.text or "") for r in replies)
    assert len(fake.downloads) == 1
    assert emulator.conversations == []


@pytest.mark.parametrize("emulator_options", [emulator_with(api_keys=["the-right-key"])])
async def test_failed_model_session_gets_a_polite_reply_and_the_bot_goes_on(
    make_bot: Callable, fake: FakeBotAPI, emulator: Emulator, note: Note
) -> None:
    endpoint = Endpoint(base_url=emulator.url, api_key="a-wrong-key")
    async with make_bot(allow=[ALICE], endpoint=endpoint):
        first = fake.push_voice(ALICE, note.ogg, duration=2)
        second = fake.push_text(ALICE, "are you there?")
        start = fake.push_text(ALICE, "/start")
        await fake.wait_for(lambda: len(fake.sent(ALICE)) == 3)

    replies = fake.replies(ALICE)
    assert [r.text for r in replies[:2]] == [texts.MODEL_FAILED, texts.MODEL_FAILED]
    assert [r.reply_to for r in replies] == [first, second, None]
    assert "/reset" in (replies[2].text or "")
    assert "/join" in (replies[2].text or "")  # the welcome names the group voice chat commands too
    assert start  # the welcome answers /start: the bot still works
    assert emulator.conversations == []


async def test_two_chats_at_once_get_their_own_answers(
    make_bot: Callable, fake: FakeBotAPI, emulator: Emulator, make_note: Callable[[str], Note]
) -> None:
    short, long = make_note("Hi there."), make_note("Please tell me a long story about a lighthouse keeper.")
    assert long.seconds > short.seconds + 1.0
    async with make_bot(allow=[ALICE, BOB]):
        fake.push_voice(ALICE, short.ogg, duration=1)
        fake.push_voice(BOB, long.ogg, duration=4)
        fake.push_text(ALICE, "apples")
        fake.push_text(BOB, "bananas")
        await fake.wait_for(lambda: len(fake.sent(ALICE)) == 2 and len(fake.sent(BOB)) == 2)

    assert len(emulator.conversations) == 2  # one Live session per chat
    by_first_turn = {round(c.turns[0].audio_seconds, 1): c for c in emulator.conversations}
    alice, bob = by_first_turn[round(short.seconds, 1)], by_first_turn[round(long.seconds, 1)]
    assert [t.text for t in alice.turns] == ["", "apples"]
    assert [t.text for t in bob.turns] == ["", "bananas"]
    alice_replies, bob_replies = fake.replies(ALICE), fake.replies(BOB)
    assert (
        [r.method for r in alice_replies] == [r.method for r in bob_replies] == ["sendVoice", "sendMessage"]
    )
    assert alice_replies[1].text == "Turn 2: I heard apples."
    assert bob_replies[1].text == "Turn 2: I heard bananas."
    assert alice_replies[0].caption == f"Turn 1: I heard {alice.turns[0].audio_seconds:.2f} seconds of audio."
    assert bob_replies[0].caption == f"Turn 1: I heard {bob.turns[0].audio_seconds:.2f} seconds of audio."


async def test_429_is_honoured_then_the_voice_note_is_sent_once(
    make_bot: Callable, fake: FakeBotAPI, emulator: Emulator, note: Note
) -> None:
    fake.fail_next("sendVoice", ALICE, retry_after=1)
    async with make_bot(allow=[ALICE]) as bot:
        fake.push_voice(ALICE, note.ogg, duration=2)
        fake.push_text(ALICE, "and now?")
        await fake.wait_for(lambda: len(fake.sent(ALICE)) == 2)
        retries = list(bot.pacer.retries)

    to_alice = [c for c in fake.calls if c.chat_id == ALICE and c.method in ("sendVoice", "sendMessage")]
    assert [(c.method, c.status) for c in to_alice] == [
        ("sendVoice", 429),
        ("sendVoice", 200),  # retried, and nothing else went to the chat in between
        ("sendMessage", 200),
    ]
    assert to_alice[0].voice == to_alice[1].voice
    assert [(r.chat_id, r.retry_after) for r in retries] == [(ALICE, 1.0)]


async def test_text_gets_a_text_answer_in_the_same_conversation(
    make_bot: Callable, fake: FakeBotAPI, emulator: Emulator, note: Note
) -> None:
    async with make_bot(allow=[ALICE]):
        fake.push_voice(ALICE, note.ogg, duration=2)
        asked = fake.push_text(ALICE, "what did I just say?")
        await fake.wait_for(lambda: len(fake.sent(ALICE)) == 2)

    [conversation] = emulator.conversations
    assert [t.text for t in conversation.turns] == ["", "what did I just say?"]
    answer = fake.replies(ALICE)[1]
    assert answer.method == "sendMessage" and answer.reply_to == asked
    assert answer.text == "Turn 2: I heard what did I just say?."  # turn 2: the same conversation


async def test_reset_starts_a_new_conversation(
    make_bot: Callable, fake: FakeBotAPI, emulator: Emulator, tmp_path
) -> None:
    async with make_bot(allow=[ALICE]):
        fake.push_text(ALICE, "first")
        fake.push_text(ALICE, "/reset")
        await fake.wait_for(lambda: len(fake.sent(ALICE)) == 2)
        assert ChatStore(tmp_path / "chats.sqlite3").get(ALICE).handle is None
        fake.push_text(ALICE, "second")
        await fake.wait_for(lambda: len(fake.sent(ALICE)) == 3)

    assert fake.replies(ALICE)[1].text == texts.RESET_DONE
    assert [[t.text for t in c.turns] for c in emulator.conversations] == [["first"], ["second"]]


async def test_conversation_resumes_after_a_restart(
    make_bot: Callable, fake: FakeBotAPI, emulator: Emulator, note: Note, tmp_path
) -> None:
    async with make_bot(allow=[ALICE]):
        fake.push_voice(ALICE, note.ogg, duration=2)
        await fake.wait_for(lambda: len(fake.sent(ALICE)) == 1)
    handle = ChatStore(tmp_path / "chats.sqlite3").get(ALICE).handle
    assert handle

    async with make_bot(allow=[ALICE]):  # a new process: same database, nothing in memory
        fake.push_text(ALICE, "still there?")
        await fake.wait_for(lambda: len(fake.sent(ALICE)) == 2)

    [conversation] = emulator.conversations
    assert conversation.connections == 2
    assert [t.text for t in conversation.turns] == ["", "still there?"]
    assert ChatStore(tmp_path / "chats.sqlite3").get(ALICE).handle not in (None, handle)


async def test_idle_session_is_closed_and_resumed(
    make_bot: Callable, fake: FakeBotAPI, emulator: Emulator
) -> None:
    options = ChatOptions(idle_close_s=0.05, turn_timeout_s=30.0)
    async with make_bot(allow=[ALICE], options=options) as bot:
        fake.push_text(ALICE, "one")
        await fake.wait_for(lambda: len(fake.sent(ALICE)) == 1)
        await fake.wait_for(lambda: bot.hub.active_chats == 0)  # nudged by every request the fake sees
        fake.push_text(ALICE, "two")
        await fake.wait_for(lambda: len(fake.sent(ALICE)) == 2)

    [conversation] = emulator.conversations
    assert conversation.connections == 2
    assert [t.text for t in conversation.turns] == ["one", "two"]


async def test_voice_off_and_persona_commands(
    make_bot: Callable, fake: FakeBotAPI, emulator: Emulator, note: Note, tmp_path
) -> None:
    async with make_bot(allow=[ALICE]):
        fake.push_text(ALICE, "/voice off")
        fake.push_voice(ALICE, note.ogg, duration=2)
        fake.push_text(ALICE, "/persona pirate")
        fake.push_text(ALICE, "/persona tutor")
        fake.push_voice(ALICE, note.ogg, duration=2)
        fake.push_text(ALICE, "/voice on")
        fake.push_voice(ALICE, note.ogg, duration=2)
        await fake.wait_for(lambda: len(fake.sent(ALICE)) == 7)

    replies = fake.replies(ALICE)
    assert replies[0].text == texts.voice_set(False)
    assert replies[1].method == "sendMessage" and replies[1].text  # voice off: the transcript as text
    assert "pirate" in (replies[2].text or "") and "tutor" in (replies[2].text or "")
    assert replies[3].text == texts.persona_set("tutor")
    assert replies[4].method == "sendMessage"
    assert replies[5].text == texts.voice_set(True)
    assert replies[6].method == "sendVoice"
    state = ChatStore(tmp_path / "chats.sqlite3").get(ALICE)
    assert (state.voice, state.persona) == (True, "tutor")
    # the persona changed over contextUpdate: one conversation, one connection
    [conversation] = emulator.conversations
    assert (len(conversation.turns), conversation.connections) == (3, 1)
    assert conversation.turns[-1].instruction == default_personas()["tutor"].instruction


async def test_persona_change_keeps_the_conversation_and_its_connection(
    make_bot: Callable, fake: FakeBotAPI, emulator: Emulator
) -> None:
    async with make_bot(allow=[ALICE]):
        fake.push_text(ALICE, "one")
        fake.push_text(ALICE, "/persona brief")
        fake.push_text(ALICE, "two")
        await fake.wait_for(lambda: len(fake.sent(ALICE)) == 3)

    [conversation] = emulator.conversations
    assert [t.text for t in conversation.turns] == ["one", "two"]
    assert conversation.connections == 1
    assert conversation.turns[0].instruction != default_personas()["brief"].instruction
    assert conversation.turns[1].instruction == default_personas()["brief"].instruction


async def test_least_recently_used_session_is_closed_beyond_the_cap_and_resumes(
    make_bot: Callable, fake: FakeBotAPI, emulator: Emulator
) -> None:
    options = ChatOptions(max_open_sessions=1, turn_timeout_s=30.0)
    async with make_bot(allow=[ALICE, BOB], options=options):
        fake.push_text(ALICE, "a1")
        await fake.wait_for(lambda: len(fake.sent(ALICE)) == 1)
        fake.push_text(BOB, "b1")
        await fake.wait_for(lambda: len(fake.sent(BOB)) == 1)
        fake.push_text(ALICE, "a2")
        await fake.wait_for(lambda: len(fake.sent(ALICE)) == 2)

    conversations = {c.turns[0].text: c for c in emulator.conversations}
    assert sorted(conversations) == ["a1", "b1"]
    assert [t.text for t in conversations["a1"].turns] == ["a1", "a2"]
    assert conversations["a1"].connections == 2  # closed to make room for Bob, then resumed


async def test_a_chat_that_refuses_voice_messages_gets_the_transcript(
    make_bot: Callable, fake: FakeBotAPI, emulator: Emulator, note: Note
) -> None:
    fake.voice_forbidden.add(ALICE)
    async with make_bot(allow=[ALICE]):
        asked = fake.push_voice(ALICE, note.ogg, duration=2)
        await fake.wait_for(lambda: fake.sent(ALICE))

    [refused] = [c for c in fake.calls if c.method == "sendVoice"]
    assert refused.status == 400
    [answer] = fake.replies(ALICE)
    assert answer.method == "sendMessage" and answer.reply_to == asked
    assert (
        answer.text
        == f"Turn 1: I heard {emulator.conversations[0].turns[0].audio_seconds:.2f} seconds of audio."
    )


async def test_a_refused_model_is_logged_as_one_line_naming_the_live_models(
    make_bot: Callable, fake: FakeBotAPI, emulator: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    import logging

    from rholive.live import models

    caplog.set_level(logging.WARNING)
    # the emulator on this branch refuses names without "gemini" with 1008 "... is not found ..."
    async with make_bot(allow=[ALICE], options=ChatOptions(model="models/nova-live-1", turn_timeout_s=30.0)):
        fake.push_text(ALICE, "hello?")
        await fake.wait_for(lambda: len(fake.sent(ALICE)) == 1)
    assert [r.text for r in fake.replies(ALICE)] == [texts.MODEL_FAILED]
    [line] = [r.getMessage() for r in caplog.records if "model turn failed" in r.getMessage()]
    available = ", ".join(entry.name for entry in models.available())
    assert "model models/nova-live-1 cannot be used: the service refused it (" in line
    assert f"Live models available now: {available};" in line and "\n" not in line
