"""Audio: sources (devices, files), codec and PCM helpers, playback, echo guard, turn segmentation.

Import from the submodules (`rholive.audio.devices`, `.files`, `.codec`, `.pcm`, `.playback`, `.echo_guard`);
this package imports nothing itself, so `soundcard` (which connects to the sound server on import) and the
VAD models load only where they are used.
"""
