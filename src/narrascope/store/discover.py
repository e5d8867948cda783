"""The discover tables: cached text vectors and the clusters of each ``discover`` run.

Why in the corpus's SQLite file, in tables of our own (as :mod:`narrascope.store.debunks`
does): the clusters and their ids belong to the corpus (a rerun on the grown corpus must
find the ids it gave), and the vectors are its most expensive by-product. The tables
carry their own schema version (``discover_schema``) and are created on first use, so
opening a corpus database never creates them and the corpus store's migrations never see
them.

* ``discover_vectors``: one multilingual USE vector (float16, 1 kB) per text unit, keyed
  by the document id and the hash of the unit's text. A rerun encodes only the units whose
  text it has not seen (a new document, an edited paragraph); rows of units that are gone
  are dropped after a run over the whole corpus.
* ``discover_clusters``: every cluster any run found, under its stable id: centroid
  (float32), member keys, terms and the full JSON record of the last run that saw it;
  ``active`` marks those of the latest run.
* ``discover_runs``: when each run was made, with which parameters, on how many units.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from narrascope.errors import E_STORE_OPEN, StoreError
from narrascope.store.own_tables import (
    OwnTablesStore,
    connect,
    migrate,
    read_only_uri,
    sqlite_file,
)

SCHEMA_VERSION = 1
WIDTH = 512
ID_PREFIX = "D"

_SCHEMA = [
    """CREATE TABLE IF NOT EXISTS discover_vectors (
        doc_id TEXT NOT NULL,
        hash TEXT NOT NULL,
        vector BLOB NOT NULL,
        PRIMARY KEY (doc_id, hash)
    ) WITHOUT ROWID""",
    """CREATE TABLE IF NOT EXISTS discover_runs (
        run INTEGER PRIMARY KEY,
        at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
        params TEXT NOT NULL,
        units INTEGER NOT NULL,
        clusters INTEGER NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS discover_clusters (
        id TEXT PRIMARY KEY,
        number INTEGER NOT NULL UNIQUE,
        first_run INTEGER NOT NULL,
        last_run INTEGER NOT NULL,
        active INTEGER NOT NULL,
        centroid BLOB NOT NULL,
        members TEXT NOT NULL,
        terms TEXT NOT NULL,
        record TEXT NOT NULL
    )""",
]


def unit_hash(text: str) -> str:
    """The key of a text unit's vector: the same text gives the same vector."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def discover_db_path(url_or_path: str | Path) -> Path:
    """The SQLite file a ``--db`` value names; PostgreSQL is refused with a clear message."""
    return sqlite_file(
        url_or_path,
        "discover on PostgreSQL is not supported yet; export the corpus to a SQLite file",
    )


@dataclass(slots=True)
class StoredCluster:
    """A cluster as a past run left it: what matching a new cluster to it needs."""

    id: str
    centroid: np.ndarray
    members: frozenset[str]
    active: bool
    record: dict[str, Any]


class DiscoverStore(OwnTablesStore):
    """The discover tables of one SQLite file, created on first use."""

    def __init__(self, path: str | Path) -> None:
        self.path = discover_db_path(path)
        try:
            self._conn = connect(self.path)
            self._migrate()
        except sqlite3.DatabaseError as exc:
            self.close()
            raise StoreError(
                E_STORE_OPEN, f"cannot open {self.path} for discover ({exc}); check the path"
            ) from exc
        except BaseException:
            self.close()
            raise

    def _migrate(self) -> None:
        migrate(
            self._conn,
            table="discover_schema",
            version=SCHEMA_VERSION,
            statements=_SCHEMA,
            path=self.path,
            what="discover",
        )

    # ------------------------------------------------------------------ vectors
    def vectors(self, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], np.ndarray]:
        """The cached vectors of these (doc id, unit hash) keys that are stored."""
        found: dict[tuple[str, str], np.ndarray] = {}
        by_doc: dict[str, list[str]] = {}
        for doc_id, h in keys:
            by_doc.setdefault(doc_id, []).append(h)
        docs = list(by_doc)
        for k in range(0, len(docs), 500):
            chunk = docs[k : k + 500]
            marks = ",".join("?" * len(chunk))
            rows = self._conn.execute(
                f"SELECT doc_id, hash, vector FROM discover_vectors WHERE doc_id IN ({marks})",
                chunk,
            )
            for doc_id, h, blob in rows:
                found[(doc_id, h)] = np.frombuffer(blob, dtype=np.float16).astype(np.float32)
        wanted = set(keys)
        return {key: v for key, v in found.items() if key in wanted}

    def put_vectors(self, keys: Sequence[tuple[str, str]], vectors: np.ndarray) -> None:
        rows = [
            (doc_id, h, np.asarray(v, dtype=np.float16).tobytes())
            for (doc_id, h), v in zip(keys, vectors, strict=True)
        ]
        self._write("INSERT OR REPLACE INTO discover_vectors VALUES (?, ?, ?)", rows)

    def cached_keys(self) -> list[tuple[str, str]]:
        """Every cached (doc id, unit hash)."""
        return [tuple(r) for r in self._conn.execute("SELECT doc_id, hash FROM discover_vectors")]

    def delete_vectors(self, keys: Iterable[tuple[str, str]]) -> None:
        self._write("DELETE FROM discover_vectors WHERE doc_id = ? AND hash = ?", list(keys))

    def vector_count(self) -> int:
        return int(self._conn.execute("SELECT count(*) FROM discover_vectors").fetchone()[0])

    # ------------------------------------------------------------------ clusters
    def clusters(self, *, active_only: bool = False) -> list[StoredCluster]:
        """Stored clusters, oldest id first (only those of the latest run if asked)."""
        query = "SELECT id, centroid, members, active, record FROM discover_clusters"
        if active_only:
            query += " WHERE active = 1"
        out = []
        for cid, centroid, members, active, record in self._conn.execute(
            query + " ORDER BY number"
        ):
            out.append(
                StoredCluster(
                    id=cid,
                    centroid=np.frombuffer(centroid, dtype=np.float32).copy(),
                    members=frozenset(json.loads(members)),
                    active=bool(active),
                    record=json.loads(record),
                )
            )
        return out

    def next_numbers(self, count: int) -> list[int]:
        """``count`` cluster numbers never given before (ids are never reused)."""
        row = self._conn.execute("SELECT max(number) FROM discover_clusters").fetchone()
        start = (row[0] or 0) + 1
        return list(range(start, start + count))

    def save_run(
        self,
        params: dict[str, Any],
        units: int,
        clusters: Sequence[tuple[str, np.ndarray, Sequence[str], Sequence[str], dict[str, Any]]],
    ) -> int:
        """Record one run: its clusters (id, centroid, member keys, terms, record) become
        the active ones; clusters of earlier runs stay stored, inactive, so a cluster that
        comes back gets its old id. Returns the run number."""
        conn = self._conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            cur = conn.execute(
                "INSERT INTO discover_runs (params, units, clusters) VALUES (?, ?, ?)",
                (json.dumps(params, sort_keys=True), units, len(clusters)),
            )
            run = int(cur.lastrowid or 0)
            conn.execute("UPDATE discover_clusters SET active = 0")
            for cid, centroid, members, terms, record in clusters:
                number = int(cid[len(ID_PREFIX) :])
                conn.execute(
                    """INSERT INTO discover_clusters
                       (id, number, first_run, last_run, active, centroid, members, terms, record)
                       VALUES (?, ?, ?, ?, 1, ?, ?, ?, ?)
                       ON CONFLICT (id) DO UPDATE SET last_run = excluded.last_run,
                         active = 1, centroid = excluded.centroid,
                         members = excluded.members, terms = excluded.terms,
                         record = excluded.record""",
                    (
                        cid,
                        number,
                        run,
                        run,
                        np.asarray(centroid, dtype=np.float32).tobytes(),
                        json.dumps(sorted(members)),
                        json.dumps(list(terms), ensure_ascii=False),
                        json.dumps(record, ensure_ascii=False),
                    ),
                )
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return run

    def runs(self) -> list[dict[str, Any]]:
        rows = self._conn.execute(
            "SELECT run, at, params, units, clusters FROM discover_runs ORDER BY run"
        )
        return [
            {"run": r, "at": at, "params": json.loads(p), "units": u, "clusters": c}
            for r, at, p, u, c in rows
        ]

    # ------------------------------------------------------------------ plumbing
    def _write(self, statement: str, rows: Sequence[Any]) -> None:
        if not rows:
            return
        conn = self._conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.executemany(statement, rows)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise


def has_discover_tables(path: str | Path) -> bool:
    """Whether the file has discover tables, without creating them (a read-only look)."""
    p = discover_db_path(path)
    if not p.exists():
        return False
    conn = sqlite3.connect(read_only_uri(p), uri=True)
    try:
        return (
            conn.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'discover_clusters'"
            ).fetchone()
            is not None
        )
    finally:
        conn.close()


def cluster_documents(db: str | Path, cluster_id: str) -> list[str]:
    """The ids of a stored cluster's documents (its last record, as
    :func:`cluster_examples` reads it): they carry the story, so a custom narrative
    promoted from the cluster keeps them out of its negatives (read here, in the store, so
    that the model needs nothing of ``corpus.discover``). Unknown id: KeyError."""
    record = None
    if has_discover_tables(db):
        with DiscoverStore(db) as dstore:
            record = next((c.record for c in dstore.clusters() if c.id == cluster_id), None)
    if record is None:
        raise KeyError(f"no discovered cluster {cluster_id!r} in {db}")
    return [str(d) for d in record.get("doc_ids", [])]
