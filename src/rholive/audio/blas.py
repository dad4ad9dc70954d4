"""One BLAS thread for the real-time audio path.

numpy's OpenBLAS starts a worker per core, and after each matrix product (the Whisper log-mel
filterbank, the pitch tracker) those workers spin for a while before they sleep. Next to a
model call that keeps a second core busy doing nothing: a transcript measured 215 ms of CPU
for 108 ms of wall time on two cores, and 119 ms / 119 ms with one thread. The products here
are small, so the extra threads buy ~10 ms of wall time and cost the core that capture, the
VAD and the screen need.
"""

from __future__ import annotations

from functools import cache


@cache
def one_blas_thread() -> None:
    """Limit the BLAS libraries loaded so far to one thread, for the rest of the process.

    Called when a segmenter is made (numpy is loaded by then); once is enough."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1, user_api="blas")
