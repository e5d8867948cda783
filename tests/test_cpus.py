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


def test_length_batches_keep_every_text_once_and_the_cores_evenly_busy() -> None:
    from narrascope.models.cpus import length_batches

    lengths = [10 + (7 * i) % 71 for i in range(110)]  # 110 sentences of 10-80 tokens
    batches = length_batches(lengths, 2048, 2)
    assert sorted(i for b in batches for i in b) == list(range(110))
    padded = [len(b) * max(lengths[i] for i in b) for b in batches]
    assert max(padded) <= 2048 and len(batches) % 2 == 0
    assert max(padded) < 1.15 * min(padded)  # even: no core waits on a remnant
    assert padded == sorted(padded, reverse=True)  # largest first
    for b in batches:  # similar lengths together: little padding
        assert max(lengths[i] for i in b) - min(lengths[i] for i in b) <= 40
    # 19 windows of 160 tokens, 1,024 a batch: 5, 5, 5, 4 rather than 6, 6, 6, 1
    assert sorted(len(b) for b in length_batches([160] * 19, 1024, 2)) == [4, 5, 5, 5]
    assert length_batches([3000, 10], 1024, 2) == [[0], [1]]  # a long text gets its own
    assert length_batches([], 1024, 2) == []


def test_a_pinned_sentence_encoder_keeps_its_thread_choice_when_the_load_changes(
    monkeypatch,
) -> None:
    from narrascope.models import encoder as module

    enc = module.SentenceEncoder()
    monkeypatch.setattr(enc, "_model", lambda: "two threads")
    monkeypatch.setattr(enc, "_single_thread", lambda: "one thread")
    monkeypatch.setattr(module, "available_cpus", lambda: 2)
    monkeypatch.setattr(module.os, "getloadavg", lambda: (0.1, 0.1, 0.1))
    assert enc._for_load() == "two threads"
    monkeypatch.setattr(module.os, "getloadavg", lambda: (3.0, 3.0, 3.0))
    assert enc._for_load() == "one thread"  # unpinned: the load decides each time
    enc.pin_threads()
    assert enc._for_load() == "one thread"
    monkeypatch.setattr(module.os, "getloadavg", lambda: (0.1, 0.1, 0.1))
    assert enc._for_load() == "one thread"  # pinned: the first choice stays
