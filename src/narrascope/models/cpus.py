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


def length_batches(lengths: Sequence[int], max_tokens: int, cores: int) -> list[list[int]]:
    """Indices cut into batches for :func:`run_per_core`: texts of similar length together
    (little padding), each batch's padded size (count x longest) at most ``max_tokens``, and
    a multiple of ``cores`` batches as even as the lengths allow, largest first.

    Why: cut greedily at ``max_tokens``, a batch of 16 documents left one core with two
    full batches and the other with one or a remnant, and the last batch spanned short and
    long sentences: 20-25% of the transformer's time was a core waiting.
    """
    if not lengths:
        return []
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])

    def cut(bound: int) -> list[list[int]]:
        groups: list[list[int]] = []
        for i in order:
            if groups and (len(groups[-1]) + 1) * lengths[i] <= bound:
                groups[-1].append(i)
            else:
                groups.append([i])
        return groups

    want = -(-len(cut(max_tokens)) // cores) * cores  # no more batches, a multiple of cores
    low, high = max(lengths), max(max_tokens, max(lengths))
    while low < high:  # the smallest padded size that still needs at most `want` batches
        mid = (low + high) // 2
        if len(cut(mid)) <= want:
            high = mid
        else:
            low = mid + 1
    return sorted(cut(low), key=lambda g: -len(g) * lengths[g[-1]])


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
