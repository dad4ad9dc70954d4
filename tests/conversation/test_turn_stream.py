"""TurnStream: one wire turn at a time, overlapping speakers held in order, nothing after a close."""

from __future__ import annotations

import pytest

from rholive.audio.segmenter import SendAudio, TurnClose, TurnOpen
from rholive.conversation import Audio, End, Start, TurnStream


def chunk(t: float) -> SendAudio:
    return SendAudio(bytes(3200), t)  # 100 ms


def test_one_turn_maps_to_start_audio_end() -> None:
    stream = TurnStream()
    actions = stream.feed("me", [TurnOpen(500, "me", 300), chunk(0), chunk(100)])
    actions += stream.feed("me", [chunk(200), TurnClose(900, "end_of_turn", "me")])
    assert [type(a) for a in actions] == [Start, Audio, Audio, Audio, End]
    assert actions[-1] == End("me", 900, "end_of_turn", 300.0)
    assert not stream.busy and stream.owner is None


def test_overlapping_turn_of_the_other_speaker_waits_for_the_wire() -> None:
    stream = TurnStream()
    first = stream.feed("me", [TurnOpen(100, "me", 0), chunk(0)])
    held = stream.feed("them", [TurnOpen(150, "them", 50), chunk(50)])
    assert held == []  # the wire belongs to "me"
    more_held = stream.feed("them", [chunk(150)])
    assert more_held == []
    released = stream.feed("me", [TurnClose(300, "silence", "me")])
    assert [type(a) for a in released] == [End, Start, Audio, Audio]
    assert [a.speaker for a in released] == ["me", "them", "them", "them"]
    live = stream.feed("them", [chunk(250), TurnClose(400, "end_of_turn", "them")])
    assert [type(a) for a in live] == [Audio, End] and live[-1].audio_ms == pytest.approx(300)
    assert [type(a) for a in first] == [Start, Audio]


def test_audio_after_close_is_refused() -> None:
    stream = TurnStream()
    stream.feed("me", [TurnOpen(100, "me", 0), TurnClose(200, "silence", "me")])
    with pytest.raises(ValueError, match="outside a turn"):
        stream.feed("me", [chunk(300)])
