"""Group voice chats (extra `voicechat`): a user account joins a group's voice chat and the Live session talks there.

How the data flows:

- the bot (`rholive.telegram.run`) turns ``/join``, ``/leave``, ``/call`` into commands for `VoiceChatSupervisor`
  (``supervisor``), which decides with the pure `CallPlan` (``plan``) what to do and what to tell the chat
  (``texts``);
- the supervisor runs the call worker as a child process (``python -m rholive.telegram.voicechat.worker``)
  and talks JSON lines with it; a crash there never takes the bot down;
- in the worker, a `CallClient` (``client``; the real one is `PyTgCallsClient` in ``join``, py-tgcalls over
  Telethon) joins the call, and `VoiceChatBridge` (``bridge``) carries its 48 kHz frames, paced by ``media``
  and mixed or followed per speaker by ``speaker``, to and from one Live session;
- ``cli`` turns the ``rholive telegram`` options into a `VoiceChatConfig`.

The names below are what the rest of rholive (and the tests) use; they are loaded on first use (PEP 562), so
importing this package, as the worker child process does, costs nothing, and nothing needs the optional
extra (ntgcalls, py-tgcalls, Telethon) until a call is joined.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rholive.lazy import lazy_attributes

if TYPE_CHECKING:
    from rholive.telegram.voicechat import texts
    from rholive.telegram.voicechat.bridge import NTgCallsIO, VoiceChatBridge
    from rholive.telegram.voicechat.cli import voicechat_config
    from rholive.telegram.voicechat.client import (
        NO_VOICE_CHAT,
        NOT_MEMBER,
        CallClient,
        DropCallback,
        FramesCallback,
        JoinError,
    )
    from rholive.telegram.voicechat.join import PyTgCallsClient
    from rholive.telegram.voicechat.media import FramePacer, Mixer
    from rholive.telegram.voicechat.plan import CallPlan, Join, Leave, PlanOptions, Say, State
    from rholive.telegram.voicechat.speaker import ActiveSpeaker, FollowingMixer, FollowOptions, make_mixer
    from rholive.telegram.voicechat.supervisor import (
        VoiceChatConfig,
        VoiceChatsOff,
        VoiceChatSupervisor,
        WorkerProcess,
        describe_exit,
    )
    from rholive.telegram.voicechat.worker import Worker

_WHERE = {
    "ActiveSpeaker": "speaker",
    "CallClient": "client",
    "CallPlan": "plan",
    "DropCallback": "client",
    "FollowOptions": "speaker",
    "FollowingMixer": "speaker",
    "FramePacer": "media",
    "FramesCallback": "client",
    "Join": "plan",
    "JoinError": "client",
    "Leave": "plan",
    "Mixer": "media",
    "NOT_MEMBER": "client",
    "NO_VOICE_CHAT": "client",
    "NTgCallsIO": "bridge",
    "PlanOptions": "plan",
    "PyTgCallsClient": "join",
    "Say": "plan",
    "State": "plan",
    "VoiceChatBridge": "bridge",
    "VoiceChatConfig": "supervisor",
    "VoiceChatSupervisor": "supervisor",
    "VoiceChatsOff": "supervisor",
    "Worker": "worker",
    "WorkerProcess": "supervisor",
    "describe_exit": "supervisor",
    "make_mixer": "speaker",
    "voicechat_config": "cli",
}

__all__ = [
    "NOT_MEMBER",
    "NO_VOICE_CHAT",
    "ActiveSpeaker",
    "CallClient",
    "CallPlan",
    "DropCallback",
    "FollowOptions",
    "FollowingMixer",
    "FramePacer",
    "FramesCallback",
    "Join",
    "JoinError",
    "Leave",
    "Mixer",
    "NTgCallsIO",
    "PlanOptions",
    "PyTgCallsClient",
    "Say",
    "State",
    "VoiceChatBridge",
    "VoiceChatConfig",
    "VoiceChatSupervisor",
    "VoiceChatsOff",
    "Worker",
    "WorkerProcess",
    "describe_exit",
    "make_mixer",
    "texts",  # the chat's replies as a module (its NO_VOICE_CHAT is a sentence, the client's is a code)
    "voicechat_config",
]


__getattr__ = lazy_attributes(__name__, {**_WHERE, "texts": "texts"})
