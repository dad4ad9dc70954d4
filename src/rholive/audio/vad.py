"""Thin wrappers around the speech models shipped inside the `pipecat-ai` wheel.

`SileroVad` scores 32 ms windows of 16 kHz audio (speech probability); `SmartTurn` scores a whole
turn so far (probability that the speaker has finished). Both run on onnxruntime with one thread:
the segmenter calls Silero on every window and smart-turn only at pause checkpoints, so neither
needs more, and two segmenters (`me` and `them`) must not fight over the two cores.

`EnergyVad` reproduces the seed's loudness test so its rule can be benchmarked with the same gate.
"""

from __future__ import annotations

from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Protocol

import numpy as np

RATE = 16000


class FrameVad(Protocol):
    """Speech probability of one window of `window` int16 samples at 16 kHz."""

    window: int

    def __call__(self, samples: np.ndarray) -> float: ...

    def reset(self) -> None: ...

    def after_silence(self) -> None:
        """A stretch of digital silence went by unscored: take the state scoring it would leave."""
        ...


class TurnModel(Protocol):
    """Probability (0..1) that the turn whose audio is given (int16, 16 kHz) is finished."""

    def __call__(self, samples: np.ndarray) -> float: ...


class Transcriber(Protocol):
    """Text of the last `seconds` of the audio given (int16, 16 kHz); "" when nothing was said."""

    seconds: float

    def __call__(self, samples: np.ndarray) -> str: ...


def _bundled(relpath: str) -> Path:
    """A file inside the installed pipecat-ai wheel, found without importing pipecat (whose
    import logs a banner and pulls in much more than two model files)."""
    try:
        path = Path(str(metadata.distribution("pipecat-ai").locate_file(relpath)))
    except metadata.PackageNotFoundError as e:
        raise FileNotFoundError(f"{relpath}: the pipecat-ai package is not installed") from e
    if not path.is_file():
        raise FileNotFoundError(f"model file missing from the pipecat-ai install: {path}")
    return path


@cache
def _session(path: Path):  # -> onnxruntime.InferenceSession (imported lazily: it is slow to import)
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(str(path), sess_options=opts, providers=["CPUExecutionProvider"])


def silero_model_path() -> Path:
    return _bundled("pipecat/audio/vad/data/silero_vad.onnx")


def smart_turn_model_path() -> Path:
    return _bundled("pipecat/audio/turn/smart_turn/data/smart-turn-v3.2-cpu.onnx")


class SileroVad:
    """Silero VAD v5 on 512-sample windows; keeps the model's recurrent state between calls.

    The recurrent state drifts during long non-speech (noise, music) and then under-reports the
    next speech, so it is cleared after `reset_after_s` of audio, but only inside clear
    non-speech (several consecutive low windows) so a reset never lands inside a word.

    The segmenter does not score windows of digital silence while idle; `after_silence()` then
    puts the model where scoring such a stretch leaves it: cleared (as the periodic reset does
    inside any long quiet) and then fed `_settle` windows of zeros. The state keeps drifting
    slowly under zeros, so this is a typical point, not an exact one; the first speech windows
    after it score within a few hundredths of a run that scored the silence (tested).
    """

    window = 512
    _context = 64  # the model expects the last 64 samples of the previous window in front
    _settle = 16  # windows of zeros after a reset that `after_silence` stands for (~0.5 s)

    def __init__(self, reset_after_s: float = 2.0, quiet_below: float = 0.1, quiet_windows: int = 5):
        self._session = _session(silero_model_path())
        self._reset_after = int(reset_after_s * RATE / self.window)
        self._quiet_below = quiet_below
        self._quiet_windows = quiet_windows
        self._sr = np.array(RATE, dtype=np.int64)
        self.reset()

    def reset(self) -> None:
        self._state = np.zeros((2, 1, 128), dtype=np.float32)
        self._prev = np.zeros((1, self._context), dtype=np.float32)
        self._since_reset = 0
        self._low_run = 0

    def after_silence(self) -> None:
        self._state = _settled_state(self._session, self._settle).copy()
        self._prev = np.zeros((1, self._context), dtype=np.float32)
        self._since_reset = self._low_run = self._settle

    def __call__(self, samples: np.ndarray) -> float:
        if samples.shape[-1] != self.window:
            raise ValueError(f"Silero needs windows of {self.window} samples, got {samples.shape[-1]}")
        x = samples.astype(np.float32).reshape(1, -1) / 32768.0
        inp = np.concatenate((self._prev, x), axis=1)
        out, self._state = self._session.run(None, {"input": inp, "state": self._state, "sr": self._sr})
        self._prev = inp[:, -self._context :]
        prob = float(out[0, 0])
        self._since_reset += 1
        self._low_run = self._low_run + 1 if prob < self._quiet_below else 0
        if self._since_reset >= self._reset_after and self._low_run >= self._quiet_windows:
            self.reset()
        return prob


@cache
def _settled_state(session, windows: int) -> np.ndarray:  # session: onnxruntime.InferenceSession
    """Silero's recurrent state after a reset and `windows` windows of zeros (the same every time)."""
    state = np.zeros((2, 1, 128), dtype=np.float32)
    inp = np.zeros((1, SileroVad._context + SileroVad.window), dtype=np.float32)
    sr = np.array(RATE, dtype=np.int64)
    for _ in range(windows):
        _, state = session.run(None, {"input": inp, "state": state, "sr": sr})
    return state


class EnergyVad:
    """The seed's voice test: RMS of a 20 ms frame above a fixed level (0.01 of full scale)."""

    def __init__(self, threshold: float = 0.01, window: int = 320):
        self.window = window
        self._threshold = threshold * 32767.0

    def reset(self) -> None:
        pass

    def after_silence(self) -> None:
        pass

    def __call__(self, samples: np.ndarray) -> float:
        x = samples.astype(np.float64)
        return 1.0 if float(np.sqrt(np.mean(x * x))) > self._threshold else 0.0


def _slaney_mel(hz: np.ndarray) -> np.ndarray:
    # Slaney's mel scale: linear below 1 kHz, logarithmic above.
    hz = np.asarray(hz, dtype=np.float64)
    lin = 3.0 * hz / 200.0
    log = 15.0 + np.log(np.maximum(hz, 1e-9) / 1000.0) * (27.0 / np.log(6.4))
    return np.where(hz >= 1000.0, log, lin)


def _slaney_hz(mel: np.ndarray) -> np.ndarray:
    mel = np.asarray(mel, dtype=np.float64)
    lin = 200.0 * mel / 3.0
    log = 1000.0 * np.exp((np.log(6.4) / 27.0) * (mel - 15.0))
    return np.where(mel >= 15.0, log, lin)


@cache
def _mel_bank(n_fft: int = 400, n_mels: int = 80) -> np.ndarray:
    """(n_mels, n_fft//2+1) triangular filters, area-normalised (Whisper's filterbank)."""
    edges = _slaney_hz(np.linspace(_slaney_mel(0.0), _slaney_mel(RATE / 2), n_mels + 2))
    bins = np.linspace(0.0, RATE / 2, n_fft // 2 + 1)
    lower = (bins[None, :] - edges[:-2, None]) / (edges[1:-1] - edges[:-2])[:, None]
    upper = (edges[2:, None] - bins[None, :]) / (edges[2:] - edges[1:-1])[:, None]
    bank = np.maximum(0.0, np.minimum(lower, upper))
    return bank * (2.0 / (edges[2:] - edges[:-2]))[:, None]


def whisper_log_mel(
    audio: np.ndarray, n_fft: int = 400, hop: int = 160, normalise: bool = True
) -> np.ndarray:
    """Whisper's log-mel features (80 x frames) of float audio at 16 kHz, waveform-normalised
    first as smart-turn's feature extractor does (`normalise=False`: as Whisper itself does)."""
    x = audio.astype(np.float32)
    if normalise:
        x = (x - x.mean()) / np.sqrt(x.var() + 1e-7)
    padded = np.pad(x.astype(np.float64), n_fft // 2, mode="reflect")
    frames = np.lib.stride_tricks.sliding_window_view(padded, n_fft)[::hop]
    window = np.hanning(n_fft + 1)[:-1]  # periodic Hann
    power = np.abs(np.fft.rfft(frames * window, axis=-1)) ** 2
    mel = np.log10(np.maximum(_mel_bank(n_fft) @ power.T, 1e-10))[:, :-1]
    mel = np.maximum(mel, mel.max() - 8.0)
    return ((mel + 4.0) / 4.0).astype(np.float32)


class SmartTurn:
    """smart-turn v3 (Whisper-tiny encoder + classifier) on the last 8 s of a turn.

    Input is zero-padded in front to exactly 8 s, as the model was trained; the output is already
    a probability (sigmoid inside the graph).
    """

    seconds = 8

    def __init__(self) -> None:
        self._features = whisper_log_mel
        self._session = _session(smart_turn_model_path())
        self.calls = 0

    def __call__(self, samples: np.ndarray) -> float:
        n = self.seconds * RATE
        x = samples[-n:].astype(np.float32) / 32768.0
        if x.size < n:
            x = np.concatenate((np.zeros(n - x.size, dtype=np.float32), x))
        feats = self._features(x)[np.newaxis]
        (out,) = self._session.run(None, {"input_features": feats})
        self.calls += 1
        return float(np.asarray(out).reshape(-1)[0])
