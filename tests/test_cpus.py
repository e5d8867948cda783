"""Thread pools follow the cores a process may use, not the machine's (issue 27)."""

from __future__ import annotations

import os

import pytest

from narrascope.models.cpus import available_cpus, limit_cpus


def test_the_budget_is_the_affinity_capped_by_what_the_engine_granted() -> None:
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    try:
        assert available_cpus() == cores
        limit_cpus(1)
        assert available_cpus() == 1
        limit_cpus(10_000)  # a grant above the affinity does not add cores
        assert available_cpus() == cores
    finally:
        limit_cpus(None)
    assert available_cpus() == cores
    with pytest.raises(ValueError, match="at least 1"):
        limit_cpus(0)


def test_the_hate_models_batches_follow_the_budget() -> None:
    """One thread per granted core: with one core granted, one batch runs at a time
    on the calling thread (a Ray actor of 1 CPU on a 64-core node starts no pool)."""
    import threading

    from narrascope.models.hate import E5Sentences

    seen: set[str] = set()
    model = E5Sentences()
    try:
        limit_cpus(1)
        model._batched([5] * 8, lambda rows: seen.add(threading.current_thread().name))
    finally:
        limit_cpus(None)
    assert seen == {threading.current_thread().name}
