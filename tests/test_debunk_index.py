"""The matcher's in-memory index: the same BM25 as SQLite FTS5, the sign-bit first pass,
and the copy kept in the database.

The debunks are made up (``bench_debunks.make_claim``: word pools, no dataset text).
"""

from __future__ import annotations

import random
import sys
from datetime import date
from pathlib import Path

import numpy as np
import pytest

import narrascope.models.debunk_index as debunk_index
from narrascope.models.debunk_index import INDEX_VERSION, DebunkIndex, VectorIndex
from narrascope.store.debunks import Debunk, DebunkStore
from narrascope.store.sqlite import has_fts5
from narrascope.store.stems import index_tokens

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from bench_debunks import make_claim


class WordVectors:
    """A stand-in for USE: texts sharing words get close vectors (a bag of hashed words)."""

    def encode(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), 512), np.float32)
        for i, text in enumerate(texts):
            for word in text.lower().split():
                out[i, sum(map(ord, word)) * 7919 % 512] += 1.0
        return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-9)

    __call__ = encode


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> DebunkStore:
    rng = random.Random(11)
    db = tmp_path_factory.mktemp("index") / "corpus.db"
    out = DebunkStore(db)
    out.add([Debunk(id=f"d{i}", claim=make_claim(rng)) for i in range(600)], encode=WordVectors())
    return out


@pytest.mark.skipif(not has_fts5(), reason="this SQLite has no FTS5 to compare with")
def test_bm25_in_memory_is_fts5s(store: DebunkStore) -> None:
    index = DebunkIndex.build(store)
    rng = random.Random(5)
    for _ in range(20):
        tokens = index_tokens(make_claim(rng), "en")
        fts = dict(store.bm25(tokens, 600))
        mine = dict(index.bm25(tokens, 600))
        assert set(mine) == set(fts)
        for key, score in fts.items():
            assert mine[key] == pytest.approx(score, rel=1e-5)


def test_bm25_ranks_the_restated_debunk_first(store: DebunkStore) -> None:
    index = DebunkIndex.build(store)
    target = store.get("d42")
    assert target is not None
    hits = index.bm25(index_tokens(target.claim, "en"), 5)
    assert (
        hits[0][0] == store._conn.execute("SELECT key FROM debunks WHERE id = 'd42'").fetchone()[0]
    )
    assert [s for _, s in hits] == sorted((s for _, s in hits), reverse=True)
    assert index.bm25(["zzzunknownword"], 5) == []


def test_sign_bits_find_what_the_full_pass_finds(store: DebunkStore) -> None:
    keys, full = store.vectors(np.float16)
    everything = VectorIndex.build(keys, full)
    assert not len(everything.codes)  # 600 rows: every row is read
    old = debunk_index.CODES_MIN, debunk_index.CODES_SHORTLIST
    debunk_index.CODES_MIN, debunk_index.CODES_SHORTLIST = 0, 60
    try:
        coded = VectorIndex.build(keys, full)
    finally:
        debunk_index.CODES_MIN, debunk_index.CODES_SHORTLIST = old
    assert coded.codes.shape == (2, len(keys))
    queries = full[::37].astype(np.float32)  # each debunk's own vector: itself is nearest
    rows, cosines = coded.nearest(queries, 10)
    exact_rows, _ = everything.nearest(queries, 10)
    assert (rows[:, 0] == np.arange(0, len(keys), 37)).all()
    assert (rows[:, 0] == exact_rows[:, 0]).all()
    assert (np.diff(cosines, axis=1) <= 1e-6).all()


def test_the_index_is_kept_and_rebuilt_when_the_database_changes(store: DebunkStore) -> None:
    first = DebunkIndex.load(store)  # built, then kept
    assert store.load_index(store.generation(), INDEX_VERSION) is not None
    again = DebunkIndex.load(store)  # read back: the same postings and vectors
    assert again.lexical.vocab == first.lexical.vocab
    assert np.array_equal(again.lexical.weights, first.lexical.weights)
    assert np.array_equal(again.vectors.reduced, first.vectors.reduced)
    store.add([Debunk(id="new", claim="Penguins run the central bank of Atlantis.")])
    assert store.load_index(store.generation(), INDEX_VERSION) is None
    fresh = DebunkIndex.load(store)
    assert fresh.generation == store.generation()
    assert "penguin" in fresh.lexical.vocab
    store.delete(["new"])


def test_a_damaged_kept_index_is_rebuilt(store: DebunkStore) -> None:
    store.save_index(store.generation(), INDEX_VERSION, b"not an npz file")
    index = DebunkIndex.load(store)
    assert len(index.lexical.keys) == store.count()


def test_a_date_that_pins_no_day_gives_the_debunk_no_day(tmp_path: Path) -> None:
    """ "March 2022" read as the 1st would make a debunk of the 31st a month early, and
    raise it for texts of late February; only a date that names a day counts."""
    with DebunkStore(tmp_path / "dated.db") as dated:
        given = {"day": "2022-03-05", "month": "March 2022", "year": "2022", "odd": "soon"}
        dated.add([Debunk(id=i, claim=f"Made-up claim {i}.", date=d) for i, d in given.items()])
        index = DebunkIndex.build(dated)
        keys = dict(dated._conn.execute("SELECT id, key FROM debunks").fetchall())
        days = index.days_of(np.array([keys[i] for i in given], np.int64))
    assert days[0] == float(date(2022, 3, 5).toordinal())
    assert np.isnan(days[1:]).all()
