"""One thread for numpy's matrix products while hearing.

The hearing's products are small and come often: Silero's voice detection every 32 ms, the
verifier's network and Whisper's mel filters once a segment. numpy's OpenBLAS spreads each over
every core and then keeps its helper threads spinning, waiting for the next: on the tune half's
human recordings (bench/README.md, "One BLAS thread") the same decisions cost about 40% more CPU
with two threads than with one, and came no sooner. So the hearing asks for one
(threadpoolctl, the way scikit-learn limits them); it changes no result.
"""

from __future__ import annotations

from functools import cache


@cache
def one_blas_thread() -> None:
    """Limits numpy's BLAS to one thread for the rest of the process (once; what else the
    process runs gets the same limit)."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1, user_api="blas")
