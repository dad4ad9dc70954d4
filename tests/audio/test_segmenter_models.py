"""Our wrappers around the models bundled in pipecat-ai load them and feed them correctly."""

from __future__ import annotations

import numpy as np
import pytest

from rholive.audio.synthetic import RATE, espeak
from rholive.audio.vad import EnergyVad, SileroVad, SmartTurn, whisper_log_mel

from .speech import speech_cache

__all__ = ["speech_cache"]


def test_log_mel_features_match_pipecats_reference_extractor():
    from pipecat.audio.turn.smart_turn._whisper_features import compute_whisper_log_mel_features

    rng = np.random.default_rng(5)
    x = np.zeros(8 * RATE, dtype=np.float32)
    x[3 * RATE :] = (rng.standard_normal(5 * RATE) * 0.05).astype(np.float32)
    ours = whisper_log_mel(x)
    assert ours.shape == (80, 800)
    np.testing.assert_allclose(ours, compute_whisper_log_mel_features(x, do_normalize=True), atol=1e-5)


@pytest.mark.usefixtures("speech_cache")
def test_silero_hears_speech_and_not_silence():
    vad = SileroVad()
    speech = espeak("Can you send me the report before lunch?")
    probs = [vad(speech[i : i + 512]) for i in range(0, len(speech) - 512, 512)]
    assert np.mean(np.array(probs) > 0.5) > 0.6
    vad.reset()
    quiet = (np.random.default_rng(0).standard_normal(RATE) * 30).astype(np.int16)
    assert max(vad(quiet[i : i + 512]) for i in range(0, RATE - 512, 512)) < 0.5
    with pytest.raises(ValueError, match="512"):
        vad(np.zeros(100, dtype=np.int16))


@pytest.mark.usefixtures("speech_cache")
def test_smart_turn_scores_a_finished_sentence_above_an_unfinished_clause():
    model = SmartTurn()
    pause = np.zeros(int(0.25 * RATE), dtype=np.int16)
    done = model(np.concatenate((espeak("I will see you at the meeting tomorrow."), pause)))
    cut = model(np.concatenate((espeak("So I was thinking that"), pause)))
    assert 0.0 <= cut < done <= 1.0
    assert done > 0.5 > cut


def test_energy_vad_is_the_seeds_loudness_test():
    vad = EnergyVad()
    assert vad.window == 320
    assert vad(np.full(320, 400, dtype=np.int16)) == 1.0  # RMS 400 > 0.01 * 32767
    assert vad(np.full(320, 300, dtype=np.int16)) == 0.0
