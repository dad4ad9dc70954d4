"""Everything the emulator can be told (the ``rholive emulator`` flags map onto these fields one to one)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rholive.emulator.brains import Brain


@dataclass
class EmulatorOptions:
    host: str = "127.0.0.1"
    port: int = 0  # 0 picks a free port; Emulator.port / .url report the real one
    tls: bool = False  # wss:// + https:// with a self-signed certificate (Emulator.cert_path)
    tls_dir: str | None = None  # where cert.pem / key.pem are written; None: a fresh temporary directory
    # serve this certificate chain and key instead of a self-signed one (e.g. one a private CA signed)
    cert_file: str | None = None
    key_file: str | None = None
    api_keys: list[str] = field(default_factory=list)  # empty: no key required (embedded mode)
    # Live models served beyond the catalog (a release newer than the client's catalog): they behave like
    # the default model and are listed by GET /{version}/models
    extra_models: list[str] = field(default_factory=list)
    # "echo" | "script:PATH" (brains.load_brain makes one per conversation), or a Brain object (shared)
    brain: str | Brain = "echo"

    # connection lifetime: goAway goaway_notice_s before closing with 1011 "Deadline expired"
    connection_lifetime_s: float | None = None
    goaway_notice_s: float = 60.0
    # session limits without contextWindowCompression (the service: 15 min audio, 2 min audio+video)
    audio_session_limit_s: float | None = 900.0
    video_session_limit_s: float | None = 120.0

    # faults for tests, counted in client messages on one connection (the setup message is the 1st)
    drop_after_messages: int | None = None  # abort TCP without a close frame (the client sees 1006)
    close_code: int | None = None  # close with this code ...
    close_after_messages: int | None = None  # ... after this many client messages
    faults_once: bool = True  # each fault fires on one connection only (a resumed session then survives)
    reply_delay_s: float = 0.0  # delay before the first part of every reply

    # the service's failures, to test a client against (README "Emulator fault flags")
    stall_after: int | None = None  # turn N of each conversation gets no answer, once (a resume gets it)
    refuse_resume: int | None = None  # 1007 | 1008: resuming setups are refused (faults_once: the first)
    split_turn_complete: bool = False  # every answer: a turnComplete mid-sentence, the rest after it
    drop_mid_answer: bool = False  # abort TCP mid-answer, once per turn of a conversation
    unresumable_while_generating: bool = False  # sessionResumptionUpdate {resumable: false} mid-answer
    chaos_rate: float = 0.0  # share of connections that get one failure drawn from all of the above
    chaos_seed: int = 0  # seeds the draws: the same seed and clients give the same failures

    # resumption handles are valid this long (the service: ~2 h); idle conversations are forgotten with
    # them, and beyond max_conversations the longest idle ones are forgotten first (bounded memory)
    handle_lifetime_s: float = 7200.0
    max_conversations: int = 1000

    # server VAD (automatic activity detection) defaults, used when the setup does not say
    silence_duration_ms: int = 800
    prefix_padding_ms: int = 20
    vad_threshold: float = 300.0  # RMS of a 20 ms frame, in 16-bit sample units

    # reply streaming
    audio_chunk_ms: int = 200  # size of each 24 kHz PCM chunk of a spoken reply
    words_per_part: int = 4  # words per streamed text part

    # wall clock for token expiry (tests move it instead of sleeping)
    clock: Callable[[], float] = time.time
