"""Follow the active speaker of a group call instead of mixing everyone (pure, fed one tick at a time).

A tick is one 10 ms block per speaker SSRC, as the call library delivers it. `ActiveSpeaker` is the gate: it
picks the loudest speaker, and switches away from the current one only when a challenger has been louder
by ``switch_db`` for ``hold_ms`` in a row — so two people talking over each other, or a cough, do not make
it flap. `FollowingMixer` keeps every speaker's resampler warm but passes only the active one's audio.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from rholive.audio import rms_dbfs
from rholive.telegram.voicechat.media import FRAME_MS, Mixer

MIX, ACTIVE = "mix", "active"
MODES = (MIX, ACTIVE)


@dataclass(frozen=True, slots=True)
class FollowOptions:
    switch_db: float = 6.0  # a challenger must be this much louder than the active speaker...
    hold_ms: int = 300  # ...for this long in a row before the active speaker changes
    floor_dbfs: float = -50.0  # below this a speaker counts as silent


class ActiveSpeaker:
    """Which SSRC is the active speaker, decided from per-tick levels (dBFS); no clock, time is ticks."""

    def __init__(self, options: FollowOptions | None = None, frame_ms: int = FRAME_MS) -> None:
        self.options = options or FollowOptions()
        self.frame_ms = frame_ms
        self.active: int | None = None
        self.switches = 0
        self._challenger: int | None = None
        self._challenged_ms = 0

    def update(self, levels: dict[int, float]) -> int | None:
        """Feed one tick's levels (speakers absent from the tick have left); returns the active speaker."""
        floor = self.options.floor_dbfs
        loud = {ssrc: db for ssrc, db in levels.items() if db > floor}
        if self.active is not None and self.active not in levels:
            self.active = None  # the active speaker left the call (or stopped sending)
        if self.active is None:
            self._reset_challenge()
            if loud:
                self._switch(max(loud, key=loud.__getitem__))
            return self.active
        loudest = max(loud, key=loud.__getitem__, default=None)
        current = max(levels[self.active], floor)  # a silent active speaker is as loud as the floor
        if loudest is None or loudest == self.active or loud[loudest] < current + self.options.switch_db:
            self._reset_challenge()
            return self.active
        if loudest != self._challenger:
            self._challenger, self._challenged_ms = loudest, 0
        self._challenged_ms += self.frame_ms
        if self._challenged_ms >= self.options.hold_ms:
            self._switch(loudest)
        return self.active

    def _switch(self, ssrc: int) -> None:
        self.active = ssrc
        self.switches += 1
        self._reset_challenge()

    def _reset_challenge(self) -> None:
        self._challenger, self._challenged_ms = None, 0


class FollowingMixer(Mixer):
    """A `Mixer` that hears only the active speaker: the others' blocks are replaced by silence of the same
    length, so every speaker stays aligned and its resampler keeps its state for when it becomes active."""

    def __init__(
        self,
        src_rate: int,
        channels: int = 1,
        dst_rate: int = 16000,
        options: FollowOptions | None = None,
    ) -> None:
        super().__init__(src_rate, channels, dst_rate)
        self.gate = ActiveSpeaker(options)

    def mix(self, frames: Iterable[tuple[int, bytes]]) -> bytes:
        batch = list(frames)
        active = self.gate.update({ssrc: rms_dbfs(pcm) for ssrc, pcm in batch})
        return super().mix([(ssrc, pcm if ssrc == active else bytes(len(pcm))) for ssrc, pcm in batch])


def make_mixer(mode: str, src_rate: int, channels: int = 1, dst_rate: int = 16000) -> Mixer:
    if mode == MIX:
        return Mixer(src_rate, channels, dst_rate)
    if mode == ACTIVE:
        return FollowingMixer(src_rate, channels, dst_rate)
    raise ValueError(f"unknown speaker mode {mode!r} (use one of {', '.join(MODES)})")
