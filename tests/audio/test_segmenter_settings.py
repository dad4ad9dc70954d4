"""The `[segmenter]` config table: the seed's parameters stay settable, typos are errors."""

import pytest

from rholive.audio.endpointing import SilencePolicy
from rholive.audio.segmenter import SegmenterConfig
from rholive.audio.segmenter_settings import segmenter_config


def test_no_table_is_our_default() -> None:
    assert segmenter_config(None) == SegmenterConfig()
    assert segmenter_config({}) == SegmenterConfig()


def test_seed_rule_with_its_own_parameters() -> None:
    config = segmenter_config(
        {"rule": "seed", "open_voiced_frames": 6, "close_silence_ms": 700, "max_turn_ms": 9000}
    )
    assert config.vad == "energy" and config.open_ms == 120.0 and config.max_turn_ms == 9000.0
    assert isinstance(config.policy, SilencePolicy) and config.preroll_ms == 0.0
    assert config.policy == SilencePolicy(700.0)


def test_silence_rule_and_field_overrides() -> None:
    config = segmenter_config({"rule": "silence", "close_silence_ms": 500, "preroll_ms": 300})
    assert config.policy == SilencePolicy(500.0) and config.preroll_ms == 300.0 and config.vad == "silero"
    assert segmenter_config({"max_turn_ms": 12000}).max_turn_ms == 12000.0


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"close_silense_ms": 600}, "unknown \\[segmenter\\] setting\\(s\\): close_silense_ms"),
        ({"rule": "fast"}, "rule must be one of rholive, seed, silence"),
        ({"close_silence_ms": 600}, 'need rule = "seed" or "silence"'),
        ({"rule": "silence", "open_voiced_frames": 3}, 'needs rule = "seed"'),
        ({"preroll_ms": -1}, "preroll_ms not negative"),
        ({"policy": "x"}, "unknown"),
    ],
)
def test_bad_tables_name_the_problem(table: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        segmenter_config(table)
