"""Debunk-reader vectors kept in the debunk database, and `debunks add --reader`.

A debunk's reader vector costs a 12-layer pass, so it is made at import and kept (float16,
with the reader version it was made by); the matcher uses the reader only when every row
has one of the bundled version. The store tests use made-up vectors (no model); the CLI
tests that read with the bundled reader are skipped when it is not bundled. Every
fact-check here is made up for these tests.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import numpy as np
import pytest

import narrascope.cli.debunks as cli_debunks
import narrascope.models.debunk_reader as debunk_reader
from narrascope.cli import main
from narrascope.store.debunks import READER_WIDTH, SCHEMA_VERSION, Debunk, DebunkStore

CLAIMS = [
    "A new law bans every private vegetable garden from next spring.",
    "Hot lemon water cures the flu within a single day.",
    "The harbour bridge in Eastvale was sold to a foreign company for one euro.",
    "Wind turbines on the coast cause small earthquakes in nearby towns.",
    "Schools in Westmarch will replace all teachers with robots next year.",
]
DEBUNKS = [Debunk(id=f"fc-{i}", claim=claim) for i, claim in enumerate(CLAIMS)]


def _unit(rng: np.random.Generator, n: int) -> np.ndarray:
    v = rng.standard_normal((n, READER_WIDTH)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def _filled(store: DebunkStore, version: str, seed: int = 0) -> dict[int, np.ndarray]:
    """Made-up reader vectors for every row without one, kept under ``version``."""
    rows = store.without_reader()
    made = _unit(np.random.default_rng(seed), len(rows))
    vectors = {key: made[i] for i, (key, _) in enumerate(rows)}
    store.set_reader_vectors(vectors, version)
    return vectors


# ---------------------------------------------------------------------- store
def test_reader_vectors_round_trip_as_float16_in_key_order(tmp_path: Path) -> None:
    with DebunkStore(tmp_path / "d.db") as store:
        store.add(DEBUNKS)
        assert store.reader_version() is None and store.reader_generation() == 0
        assert store.reader_missing() == len(CLAIMS)
        assert [claim for _, claim in store.without_reader()] == CLAIMS
        assert len(store.without_reader(2)) == 2
        generation = store.generation()
        kept = _filled(store, "v1")
        assert store.reader_version() == "v1" and store.reader_missing() == 0
        assert store.without_reader() == []
        # the kept index is of the rows, not of the reader: it stays valid
        assert store.generation() == generation and store.reader_generation() == 1
        keys, matrix = store.reader_matrix("v1")
    assert keys.dtype == np.int64 and list(keys) == sorted(kept)
    assert matrix.dtype == np.float16 and matrix.shape == (len(CLAIMS), READER_WIDTH)
    for row, key in enumerate(keys):
        assert np.array_equal(matrix[row], kept[int(key)].astype(np.float16))


def test_reader_matrix_is_none_unless_every_row_has_one_of_that_version(tmp_path: Path) -> None:
    with DebunkStore(tmp_path / "d.db") as store:
        store.add(DEBUNKS)
        assert store.reader_matrix("v1") is None  # none made
        rows = store.without_reader()
        store.set_reader_vectors({rows[0][0]: _unit(np.random.default_rng(1), 1)[0]}, "v1")
        assert store.reader_missing() == len(CLAIMS) - 1
        assert store.reader_matrix("v1") is None  # incomplete
        _filled(store, "v1")
        assert store.reader_matrix("v1") is not None
        assert store.reader_matrix("v2") is None  # another reader's vectors
        store.add([Debunk(id="fc-new", claim="Rainwater in Eastvale is unsafe to touch.")])
        assert store.reader_matrix("v1") is None  # a new row has none yet
        assert store.without_reader() == [(6, "Rainwater in Eastvale is unsafe to touch.")]


def test_a_new_reader_version_drops_every_kept_vector(tmp_path: Path) -> None:
    with DebunkStore(tmp_path / "d.db") as store:
        store.add(DEBUNKS)
        _filled(store, "v1")
        first = store.reader_generation()
        store.set_reader_vectors({1: _unit(np.random.default_rng(2), 1)[0]}, "v2")
        # one row of the new version; the other four of v1 are gone, not mixed in
        assert store.reader_version() == "v2" and store.reader_missing() == len(CLAIMS) - 1
        assert store.reader_generation() > first
        # nothing to keep but a new version: the old vectors still go
        store.set_reader_vectors({}, "v3")
        assert store.reader_version() == "v3" and store.reader_missing() == len(CLAIMS)
        moved = store.reader_generation()
        store.set_reader_vectors({}, "v3")  # the same version, nothing to keep: no change
        assert store.reader_generation() == moved


def test_an_edited_claim_loses_only_its_own_reader_vector(tmp_path: Path) -> None:
    with DebunkStore(tmp_path / "d.db") as store:
        store.add(DEBUNKS)
        _filled(store, "v1")
        edited = [*DEBUNKS]
        edited[2] = Debunk(id="fc-2", claim="The harbour bridge was sold abroad for a euro.")
        edited[3] = Debunk(id="fc-3", claim=CLAIMS[3], verdict="false")  # same claim
        report = store.add(edited)
        assert (report.updated, report.unchanged) == (2, 3)
        assert store.without_reader() == [(3, edited[2].claim)]
        assert store.reader_version() == "v1"


def test_a_read_only_store_keeps_no_reader_vector_and_raises_nothing(tmp_path: Path) -> None:
    path = tmp_path / "d.db"
    with DebunkStore(path) as store:
        store.add(DEBUNKS)
    with DebunkStore(path, create=False) as store:
        store.set_reader_vectors({1: _unit(np.random.default_rng(3), 1)[0]}, "v1")
        assert store.reader_version() is None and store.reader_missing() == len(CLAIMS)
    with DebunkStore(path) as store:
        _filled(store, "v1")
    with DebunkStore(path, create=False) as store:
        store.set_reader_vectors({}, "v2")  # would drop them all: kept as they were
        assert store.reader_version() == "v1" and store.reader_matrix("v1") is not None


def test_a_busy_file_keeps_no_reader_vector_and_raises_nothing(tmp_path: Path) -> None:
    path = tmp_path / "d.db"
    with DebunkStore(path) as store:
        store.add(DEBUNKS)
        other = sqlite3.connect(path, isolation_level=None, timeout=0)
        other.execute("BEGIN IMMEDIATE")  # another writer holds the file
        try:
            store._conn.execute("PRAGMA busy_timeout = 0")
            store.set_reader_vectors({1: _unit(np.random.default_rng(4), 1)[0]}, "v1")
        finally:
            other.execute("ROLLBACK")
            other.close()
        assert store.reader_version() is None and store.reader_missing() == len(CLAIMS)


# the debunk tables as schema 2 wrote them (before reader vectors), frozen here
SCHEMA_2 = [
    """CREATE TABLE debunks (
        key INTEGER PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        claim TEXT NOT NULL,
        url TEXT, verdict TEXT, date TEXT, title TEXT, text TEXT, language TEXT,
        source TEXT,
        hash TEXT NOT NULL,
        vector BLOB,
        e5 BLOB,
        added TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
        updated TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
    )""",
    "CREATE TABLE debunks_generation (generation INTEGER NOT NULL)",
    "INSERT INTO debunks_generation VALUES (7)",
    """CREATE TABLE debunks_index (
        generation INTEGER NOT NULL, version INTEGER NOT NULL, data BLOB NOT NULL
    )""",
    "INSERT INTO debunks_index VALUES (7, 1, x'00')",
    "CREATE VIRTUAL TABLE debunks_fts USING fts5(tokens)",
    "CREATE VIRTUAL TABLE debunks_vocab USING fts5vocab(debunks_fts, 'row')",
    "CREATE TABLE debunks_schema (version INTEGER NOT NULL)",
    "INSERT INTO debunks_schema VALUES (2)",
    "INSERT INTO debunks (id, claim, hash) VALUES ('fc-old', 'An old claim kept in 2023.', 'x')",
    "INSERT INTO debunks_fts (rowid, tokens) VALUES (1, 'old claim kept')",
]


def _schema_2_file(path: Path) -> Path:
    conn = sqlite3.connect(path)
    for statement in SCHEMA_2:
        conn.execute(statement)
    conn.commit()
    conn.close()
    return path


def test_a_schema_2_file_opens_and_gains_the_reader_column(tmp_path: Path) -> None:
    path = _schema_2_file(tmp_path / "old.db")
    # read-only, it is left as it was, and has no reader vector
    with DebunkStore(path, create=False) as store:
        assert store.reader_version() is None and store.reader_generation() == 0
        assert store.reader_missing() == 1
        assert store.without_reader() == [(1, "An old claim kept in 2023.")]
        assert store.reader_matrix("v1") is None
        store.set_reader_vectors({1: _unit(np.random.default_rng(5), 1)[0]}, "v1")
    columns = {r[1] for r in sqlite3.connect(path).execute("PRAGMA table_info(debunks)")}
    assert "reader" not in columns
    # writable, it is migrated: the column, the version table, the schema; rows kept
    with DebunkStore(path) as store:
        assert store.count() == 1 and store.get("fc-old").claim == "An old claim kept in 2023."
        assert store.generation() == 7
        assert store.load_index(7, 1) == b"\x00"  # the kept index survives the migration
        assert store.without_reader() == [(1, "An old claim kept in 2023.")]
        _filled(store, "v1")
        assert store.reader_matrix("v1")[1].shape == (1, READER_WIDTH)
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT version FROM debunks_schema").fetchone()[0] == SCHEMA_VERSION == 4
    assert "reader" in {r[1] for r in conn.execute("PRAGMA table_info(debunks)")}
    conn.close()
    with DebunkStore(path) as store:  # opened again: nothing left to migrate
        assert store.reader_version() == "v1" and store.reader_missing() == 0


def test_a_file_left_between_the_column_and_the_migration_is_finished(tmp_path: Path) -> None:
    """An open interrupted after adding the column (the version still 2) finishes."""
    path = _schema_2_file(tmp_path / "old.db")
    conn = sqlite3.connect(path)
    conn.execute("ALTER TABLE debunks ADD COLUMN reader BLOB")
    conn.commit()
    conn.close()
    with DebunkStore(path) as store:
        assert store.reader_missing() == 1 and store.reader_version() is None
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT version FROM debunks_schema").fetchone()[0] == SCHEMA_VERSION
    conn.close()


# ------------------------------------------------------------------------ CLI
def _checks(tmp_path: Path, claims: list[str] = CLAIMS, name: str = "checks.jsonl") -> Path:
    path = tmp_path / name
    rows = [{"id": f"fc-{i}", "claim": claim} for i, claim in enumerate(claims)]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def _add(checks: Path, db: Path, *options: str) -> int:
    return main(["debunks", "add", str(checks), "--db", str(db), "--quiet", *options])


def test_without_a_bundled_reader_the_import_says_so_and_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(debunk_reader, "reader_version", lambda: "")
    db = tmp_path / "d.db"
    assert _add(_checks(tmp_path), db, "--no-vectors", "--reader") == 0
    out, err = capsys.readouterr()
    assert "reader vectors: none (--no-vectors)" in out  # --no-vectors: no reader either
    assert _add(_checks(tmp_path), db, "--no-vectors") == 0
    assert _add(_checks(tmp_path), db, "--reader") == 0
    out, err = capsys.readouterr()
    assert "reader: skipped (no debunk reader in this narrascope)" in err
    assert out.rstrip().endswith("reader vectors: none (no debunk reader in this narrascope)")
    with DebunkStore(db) as store:
        assert store.reader_missing() == len(CLAIMS)


def test_above_the_limit_the_reader_is_skipped_with_its_cost(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A large import is not held up by the reader unasked: one line says what making
    the vectors would cost and how; no model is loaded."""
    monkeypatch.setattr(debunk_reader, "reader_version", lambda: "0123456789abcdef")
    monkeypatch.setattr(debunk_reader, "shared_reader", lambda: pytest.fail("model loaded"))
    monkeypatch.setattr(cli_debunks, "READER_AUTO", 3)
    monkeypatch.setattr(cli_debunks, "READER_SECONDS", 30.0)  # 5 rows: 2.5 minutes
    db = tmp_path / "d.db"
    assert _add(_checks(tmp_path), db, "--no-vectors") == 0  # rows only, fast
    assert _add(_checks(tmp_path), db) == 0
    out, err = capsys.readouterr()
    (line,) = [t for t in err.splitlines() if t.startswith("reader:")]
    assert "(5 debunks, over 3)" in line and "about 2 minutes" in line and "--reader" in line
    assert out.rstrip().endswith("reader vectors: none (over 3 debunks)")
    with DebunkStore(db) as store:
        assert store.reader_missing() == len(CLAIMS) and store.reader_version() is None


needs_reader = pytest.mark.skipif(
    debunk_reader.reader_version() == "", reason="the debunk reader is not bundled"
)


def _cosines(db: Path) -> np.ndarray:
    """Each row's kept reader vector against the bundled reader's vector of its claim."""
    with DebunkStore(db) as store:
        keys, matrix = store.reader_matrix(debunk_reader.reader_version())
        claims = store.claims_by_key()
    fresh = debunk_reader.shared_reader().encode_debunks([claims[int(k)] for k in keys])
    kept = matrix.astype(np.float32)
    return (kept * fresh).sum(1) / np.linalg.norm(kept, axis=1) / np.linalg.norm(fresh, axis=1)


@needs_reader
def test_a_small_import_makes_every_reader_vector(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "d.db"
    assert _add(_checks(tmp_path), db) == 0
    assert capsys.readouterr().out.rstrip().endswith(f"reader vectors: all {len(CLAIMS)}")
    cosines = _cosines(db)
    assert len(cosines) == len(CLAIMS) and cosines.min() > 0.999
    with DebunkStore(db) as store:
        generation, reader = store.generation(), store.reader_generation()
    assert _add(_checks(tmp_path), db) == 0  # nothing new: nothing read, nothing moved
    with DebunkStore(db) as store:
        assert (store.generation(), store.reader_generation()) == (generation, reader)


@needs_reader
def test_no_reader_makes_none(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "d.db"
    assert _add(_checks(tmp_path), db, "--no-reader") == 0
    assert capsys.readouterr().out.rstrip().endswith("reader vectors: none (--no-reader)")
    with DebunkStore(db) as store:
        assert store.reader_missing() == len(CLAIMS) and store.reader_version() is None


@needs_reader
def test_a_complete_reader_index_is_kept_complete_above_the_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(cli_debunks, "READER_AUTO", 3)
    db = tmp_path / "d.db"
    assert _add(_checks(tmp_path, CLAIMS[:4]), db) == 0  # 4 > 3: skipped
    with DebunkStore(db) as store:
        assert store.reader_missing() == 4
    assert _add(_checks(tmp_path, CLAIMS[:4]), db, "--reader") == 0  # asked: made
    with DebunkStore(db) as store:
        assert store.reader_missing() == 0
    capsys.readouterr()
    assert _add(_checks(tmp_path), db) == 0  # the fifth, unasked: the index stays whole
    assert capsys.readouterr().out.rstrip().endswith(f"reader vectors: all {len(CLAIMS)}")
    assert _cosines(db).min() > 0.999


@needs_reader
def test_the_reader_pass_goes_on_where_it_stopped_and_redoes_another_version(
    tmp_path: Path,
) -> None:
    version = debunk_reader.reader_version()
    db = tmp_path / "d.db"
    assert _add(_checks(tmp_path), db, "--no-reader") == 0
    marker = np.zeros(READER_WIDTH, np.float32)
    marker[0] = 1.0
    with DebunkStore(db) as store:  # an interrupted run kept the first two
        first = [key for key, _ in store.without_reader(2)]
        store.set_reader_vectors(dict.fromkeys(first, marker), version)
    assert _add(_checks(tmp_path), db) == 0
    with DebunkStore(db) as store:
        keys, matrix = store.reader_matrix(version)
    done = {int(k): matrix[i] for i, k in enumerate(keys)}
    assert all(np.array_equal(done[k], marker.astype(np.float16)) for k in first)  # kept
    assert sorted(_cosines(db))[2] > 0.999  # the other three made by the reader
    with DebunkStore(db) as store:  # vectors of another reader version: all made again
        store.set_reader_vectors(dict.fromkeys(first, marker), "another-version")
    assert _add(_checks(tmp_path), db) == 0
    assert _cosines(db).min() > 0.999
