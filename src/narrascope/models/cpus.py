"""How many cores this process may use, for the models that run a thread per core.

``os.cpu_count()`` is the machine's cores: a Ray actor given one CPU on a 64-core node
would start 64 threads, and 64 such actors 4,096. The budget is the cores this process
may run on (its CPU affinity: ``taskset``, a container's cpuset) or, lower, what the
engine that started it granted (:func:`limit_cpus`, set by each Ray actor to its
``num_cpus``).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import TypeVar

_granted: int | None = None
T = TypeVar("T")


def available_cpus() -> int:
    """Cores for this process's thread pools: affinity, capped by :func:`limit_cpus`."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # macOS, Windows
        cores = os.cpu_count() or 1
    return max(1, min(cores, _granted) if _granted else cores)


def limit_cpus(n: int | None) -> None:
    """Cap :func:`available_cpus` at ``n`` for this process (None: no cap)."""
    global _granted
    if n is not None and n < 1:
        raise ValueError(f"a CPU budget must be at least 1, got {n}")
    _granted = n


def run_per_core(run: Callable[[T], object], batches: Sequence[T], threads: int = 0) -> None:
    """``run`` over ``batches``, a batch per core (``threads`` cores, 0: the budget), each
    with one BLAS thread: the element-wise work of a transformer (GELU, softmax, layer
    norm) then runs in parallel too, which one batch on many BLAS threads does not."""
    workers = min(threads or available_cpus(), len(batches))
    if workers <= 1:
        for batch in batches:
            run(batch)
        return
    from concurrent.futures import ThreadPoolExecutor

    from threadpoolctl import threadpool_limits

    with threadpool_limits(1), ThreadPoolExecutor(workers) as pool:
        list(pool.map(run, batches))
