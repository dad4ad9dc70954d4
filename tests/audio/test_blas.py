"""The audio path runs numpy's BLAS on one thread (spinning workers cost a core, see blas.py)."""

from __future__ import annotations

import numpy as np
from threadpoolctl import threadpool_info

from rholive.audio.segmenter import Segmenter, SegmenterConfig, seed_rule


def test_making_a_segmenter_leaves_every_loaded_blas_on_one_thread() -> None:
    np.ones((64, 64)) @ np.ones((64, 64))  # numpy's BLAS is loaded and has started its workers
    blas = [lib for lib in threadpool_info() if lib["user_api"] == "blas"]
    assert blas, "numpy's BLAS is not visible to threadpoolctl"
    Segmenter(SegmenterConfig(vad="energy", policy=seed_rule().policy))
    assert {lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"} == {1}
