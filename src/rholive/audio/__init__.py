"""Audio: sources (devices, files), codec and PCM helpers, playback, echo guard, turn segmentation.

The names below are what the rest of rholive may use. They load on first use (PEP 562): `soundcard` connects
to the sound server on import and the VAD models are heavy, so each loads only where it is used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rholive.lazy import lazy_attributes

if TYPE_CHECKING:
    from rholive.audio.codec import AudioDecodeError, decode_pcm16, duration_s, encode_ogg_opus
    from rholive.audio.devices import Capture, capture, describe_devices, find_device
    from rholive.audio.echo_guard import GuardedMic
    from rholive.audio.files import FileSource
    from rholive.audio.pcm import Resampler, resample, rms_dbfs
    from rholive.audio.playback import Speaker
    from rholive.audio.segmenter import Segmenter, SegmenterConfig, SendAudio, TurnClose, TurnOpen
    from rholive.audio.segmenter_settings import segmenter_config
    from rholive.audio.streaming import StreamEnd, StreamGate

_WHERE = {
    "AudioDecodeError": "codec",
    "decode_pcm16": "codec",
    "duration_s": "codec",
    "encode_ogg_opus": "codec",
    "Capture": "devices",
    "capture": "devices",
    "describe_devices": "devices",
    "find_device": "devices",
    "GuardedMic": "echo_guard",
    "FileSource": "files",
    "Resampler": "pcm",
    "resample": "pcm",
    "rms_dbfs": "pcm",
    "Speaker": "playback",
    "Segmenter": "segmenter",
    "SegmenterConfig": "segmenter",
    "SendAudio": "segmenter",
    "TurnClose": "segmenter",
    "TurnOpen": "segmenter",
    "segmenter_config": "segmenter_settings",
    "StreamEnd": "streaming",
    "StreamGate": "streaming",
}

__all__ = [
    "AudioDecodeError",
    "Capture",
    "FileSource",
    "GuardedMic",
    "Resampler",
    "Segmenter",
    "SegmenterConfig",
    "SendAudio",
    "Speaker",
    "StreamEnd",
    "StreamGate",
    "TurnClose",
    "TurnOpen",
    "capture",
    "decode_pcm16",
    "describe_devices",
    "duration_s",
    "encode_ogg_opus",
    "find_device",
    "resample",
    "rms_dbfs",
    "segmenter_config",
]

__getattr__ = lazy_attributes(__name__, _WHERE)
