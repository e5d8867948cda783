"""The user's own narratives, kept in the corpus's SQLite file (``narrascope taxonomy``).

Why in the corpus database, in tables of our own: a custom narrative belongs to the
user's project, not to the package; it travels with ``corpus.db``. The tables carry their
own schema version (``custom_narratives_schema``) so the corpus store's migrations and
ours never collide, and they are created on first use: opening a corpus database, or
analysing into one, never creates them (:func:`holds_custom_narratives` only reads).

Each narrative is one row keyed by its label: the examples as given (JSON), the fitted
model (:meth:`CustomNarrativeModel.to_bytes`) and what cross-validation measured, so
``add`` again with the same label updates it. Encoder vectors of the examples and of the
corpus paragraphs used as negatives are kept by text hash (float16), so adding a second
narrative, or re-adding one, encodes only what is new.

Removing a narrative also removes what ``analyze --db`` stored of it (its rows and its
entries in the stored records): ``stats`` and ``search`` must not go on counting a
narrative the database no longer has.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from narrascope.errors import E_STORE_OPEN, StoreError
from narrascope.store.common import record_json
from narrascope.store.own_tables import (
    OwnTablesStore,
    check_version,
    connect,
    holds_rows,
    migrate,
    read_only_uri,
    schema_version,
    sqlite_file,
)
from narrascope.taxonomy import custom_label

SCHEMA_VERSION = 1
VECTOR_WIDTH = 512

_SCHEMA = [
    """CREATE TABLE IF NOT EXISTS custom_narratives (
        label TEXT PRIMARY KEY,
        description TEXT,
        parent TEXT,
        examples TEXT NOT NULL,
        n_examples INTEGER NOT NULL,
        source TEXT,
        model BLOB NOT NULL,
        cv TEXT NOT NULL,
        added TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
        updated TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
    )""",
    """CREATE TABLE IF NOT EXISTS custom_narrative_vectors (
        hash TEXT PRIMARY KEY,
        vector BLOB NOT NULL
    )""",
]


@dataclass(slots=True)
class CustomNarrative:
    """One stored narrative: its label, examples, fitted model bytes and CV scores."""

    label: str
    examples: list[str]
    model: bytes
    cv: dict[str, Any] = field(default_factory=dict)
    description: str | None = None
    parent: str | None = None
    source: str | None = None
    added: str | None = None
    updated: str | None = None

    def summary(self) -> dict[str, Any]:
        """What ``taxonomy list --json`` prints (no examples, no model bytes)."""
        return {
            "label": self.label,
            "examples": len(self.examples),
            "description": self.description,
            "parent": self.parent,
            "source": self.source,
            "added": self.added,
            "updated": self.updated,
            "cv": self.cv,
        }


def text_hash(text: str) -> str:
    """The key of a text's stored vector (the exact text: the encoder sees it so)."""
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def db_path(url_or_path: str | Path) -> Path:
    """The SQLite file a ``--db`` value names; PostgreSQL is refused with a clear message."""
    return sqlite_file(
        url_or_path,
        "custom narratives on PostgreSQL are not supported yet; keep them in a SQLite "
        "corpus database (--db corpus.db)",
    )


def holds_custom_narratives(target: str | Path | None) -> bool:
    """Whether ``target`` is a SQLite file with at least one custom narrative: a
    read-only look, so a database without them is left exactly as it was."""
    return holds_rows(target, "custom_narratives")


def fingerprint(target: str | Path | None) -> str | None:
    """What changes whenever a custom narrative is added, updated or removed (None: the
    database holds none): a follower compares it before each batch, read-only and cheap."""
    if not holds_custom_narratives(target):
        return None
    try:
        conn = sqlite3.connect(read_only_uri(db_path(target)), uri=True, timeout=10.0)
        try:
            row = conn.execute(
                "SELECT count(*), group_concat(label || '|' || updated || '|' || length(model)) "
                "FROM custom_narratives"
            ).fetchone()
        finally:
            conn.close()
    except (OSError, sqlite3.Error, StoreError):
        return None
    return hashlib.sha1(repr(row).encode("utf-8")).hexdigest()


def _without(record: dict[str, Any], shown: str) -> dict[str, Any]:
    """A stored record without the narrative ``shown``: its children (under it) are
    narratives of their own, and an explanation that named it is composed again."""
    narratives = [a for a in record.get("narratives") or [] if a.get("label") != shown]
    subnarratives = []
    for a in record.get("subnarratives") or []:
        if a.get("label") == shown:
            continue
        if a.get("parent") == shown:
            narratives.append({k: v for k, v in a.items() if k != "parent"})
        else:
            subnarratives.append(a)
    record["narratives"] = sorted(narratives, key=lambda a: -float(a.get("score") or 0.0))
    record["subnarratives"] = subnarratives
    if f"«{shown}" in str(record.get("explanation") or ""):
        from narrascope.doc import Document
        from narrascope.stages.explain import explain

        record["explanation"] = explain(Document.from_dict(record))
    return record


class CustomNarrativeStore(OwnTablesStore):
    """The custom-narrative tables of one SQLite file.

    ``create=False`` (what analyze uses) opens read-only and never creates a table;
    ``create=True`` (``taxonomy add``) creates them on first use.
    """

    def __init__(self, path: str | Path, *, create: bool = True) -> None:
        self.path = db_path(path)
        self.writable = create
        try:
            if not create and not self.path.is_file():
                raise StoreError(E_STORE_OPEN, f"no database at {self.path}")
            self._conn = connect(self.path, read_only=not create)
            if create:
                self._migrate()
            else:
                self._check_version()
        except sqlite3.DatabaseError as exc:
            self.close()
            raise StoreError(
                E_STORE_OPEN,
                f"cannot open {self.path} as a corpus database ({exc}); check the path",
            ) from exc
        except BaseException:
            self.close()
            raise

    # ------------------------------------------------------------------ schema
    def _version(self) -> int:
        return schema_version(self._conn, "custom_narratives_schema")

    def _check_version(self) -> int:
        version = self._version()
        check_version(version, SCHEMA_VERSION, self.path, "custom-narrative")
        return version

    def _migrate(self) -> None:
        migrate(
            self._conn,
            table="custom_narratives_schema",
            version=SCHEMA_VERSION,
            statements=_SCHEMA,
            path=self.path,
            what="custom-narrative",
        )

    def _has_tables(self) -> bool:
        return self._version() > 0

    # ------------------------------------------------------------------ narratives
    def put(self, narrative: CustomNarrative) -> bool:
        """Insert or replace the narrative of that label; True when it was new."""
        conn = self._conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            new = (
                conn.execute(
                    "SELECT 1 FROM custom_narratives WHERE label = ?", (narrative.label,)
                ).fetchone()
                is None
            )
            values = (
                narrative.description,
                narrative.parent,
                json.dumps(narrative.examples, ensure_ascii=False),
                len(narrative.examples),
                narrative.source,
                narrative.model,
                json.dumps(narrative.cv),
            )
            if new:
                conn.execute(
                    "INSERT INTO custom_narratives (label, description, parent, examples, "
                    "n_examples, source, model, cv) VALUES (?,?,?,?,?,?,?,?)",
                    (narrative.label, *values),
                )
            else:
                conn.execute(
                    "UPDATE custom_narratives SET description=?, parent=?, examples=?, "
                    "n_examples=?, source=?, model=?, cv=?, "
                    "updated=strftime('%Y-%m-%dT%H:%M:%SZ', 'now') WHERE label=?",
                    (*values, narrative.label),
                )
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return new

    def remove(self, label: str) -> bool:
        """Delete the narrative ``label``; whether there was one. Its children (narratives
        added with it as ``--parent``) are detached, in the same transaction: a parent that
        is gone would otherwise be refused at their next ``add`` with no way to clear it.
        What the corpus stored of it goes too (:meth:`_forget_results`), in the same
        transaction, so ``stats`` and ``search`` stop counting it."""
        if not self._has_tables():
            return False
        conn = self._conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            cur = conn.execute("DELETE FROM custom_narratives WHERE label = ?", (label,))
            if cur.rowcount:
                conn.execute(
                    "UPDATE custom_narratives SET parent = NULL, "
                    "updated = strftime('%Y-%m-%dT%H:%M:%SZ', 'now') WHERE parent = ?",
                    (label,),
                )
                self._forget_results(custom_label(label))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return cur.rowcount > 0

    def _forget_results(self, shown: str) -> None:
        """Remove the narrative ``shown`` (as records show it, ``Custom: LABEL``) from the
        stored corpus: its narrative and evidence rows, and its entries in the documents'
        records. Its children, stored under it, become narratives of their own, as
        ``analyze`` reports them once detached; an explanation that named it is composed
        again from what is left. Runs inside :meth:`remove`'s transaction."""
        if not self._has_corpus("narratives"):
            return
        conn = self._conn
        ids = [
            str(r[0])
            for r in conn.execute(
                "SELECT DISTINCT doc_id FROM narratives WHERE label = ? OR parent = ?",
                (shown, shown),
            )
        ]
        conn.execute("DELETE FROM narratives WHERE label = ?", (shown,))
        conn.execute("DELETE FROM evidence WHERE label = ?", (shown,))
        conn.execute(
            "UPDATE evidence SET level = 'narrative' WHERE level = 'subnarrative' AND EXISTS "
            "(SELECT 1 FROM narratives n WHERE n.doc_id = evidence.doc_id "
            "AND n.label = evidence.label AND n.parent = ?)",
            (shown,),
        )
        conn.execute(
            "UPDATE narratives SET level = 'narrative', parent = NULL WHERE parent = ?",
            (shown,),
        )
        for k in range(0, len(ids), 500):
            chunk = ids[k : k + 500]
            marks = ",".join("?" * len(chunk))
            rows = conn.execute(
                f"SELECT id, record FROM documents WHERE id IN ({marks})", chunk
            ).fetchall()
            conn.executemany(
                "UPDATE documents SET record = ? WHERE id = ?",
                [
                    (record_json(_without(json.loads(record), shown)), doc_id)
                    for doc_id, record in rows
                ],
            )

    def children(self, label: str) -> list[str]:
        """The narratives stored with ``label`` as their parent."""
        return [n.label for n in self._rows("WHERE parent = ?", [label])]

    def _rows(self, where: str = "", params: Sequence[Any] = ()) -> Iterator[CustomNarrative]:
        if not self._has_tables():
            return
        for row in self._conn.execute(
            "SELECT label, examples, model, cv, description, parent, source, added, updated "
            f"FROM custom_narratives {where} ORDER BY added, label",
            list(params),
        ):
            yield CustomNarrative(
                label=row[0],
                examples=json.loads(row[1]),
                model=bytes(row[2]),
                cv=json.loads(row[3]),
                description=row[4],
                parent=row[5],
                source=row[6],
                added=row[7],
                updated=row[8],
            )

    def get(self, label: str) -> CustomNarrative | None:
        return next(self._rows("WHERE label = ?", [label]), None)

    def narratives(self) -> list[CustomNarrative]:
        """Every stored narrative, oldest first."""
        return list(self._rows())

    # ------------------------------------------------------------------ vectors
    def vectors(
        self, texts: Sequence[str], encode: Callable[[list[str]], np.ndarray]
    ) -> np.ndarray:
        """[len(texts), 512] encoder vectors, stored ones read back, the rest encoded
        with ``encode`` and kept (when the store is writable)."""
        keys = [text_hash(t) for t in texts]
        found: dict[str, np.ndarray] = {}
        if self._has_tables():
            unique = list(dict.fromkeys(keys))
            for k in range(0, len(unique), 500):
                chunk = unique[k : k + 500]
                marks = ",".join("?" * len(chunk))
                for key, blob in self._conn.execute(
                    f"SELECT hash, vector FROM custom_narrative_vectors WHERE hash IN ({marks})",
                    chunk,
                ):
                    found[key] = np.frombuffer(blob, dtype=np.float16).astype(np.float32)
        todo_keys: dict[str, int] = {}  # hash -> the first text with it
        for i, key in enumerate(keys):
            if key not in found:
                todo_keys.setdefault(key, i)
        if todo_keys:
            fresh = np.asarray(encode([texts[i] for i in todo_keys.values()]), dtype=np.float32)
            for key, vector in zip(todo_keys, fresh, strict=True):
                found[key] = vector.astype(np.float16).astype(np.float32)
            if self.writable:
                conn = self._conn
                conn.execute("BEGIN IMMEDIATE")
                try:
                    conn.executemany(
                        "INSERT OR REPLACE INTO custom_narrative_vectors VALUES (?, ?)",
                        [(key, found[key].astype(np.float16).tobytes()) for key in todo_keys],
                    )
                    conn.execute("COMMIT")
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
        out = np.zeros((len(texts), VECTOR_WIDTH), dtype=np.float32)
        for i, key in enumerate(keys):
            out[i] = found[key]
        return out

    # ------------------------------------------------------------------ the corpus
    def corpus_documents(
        self, limit: int, *, exclude: Iterable[str] = ()
    ) -> list[tuple[str, str, str | None]]:
        """(id, text, language) of up to ``limit`` stored documents of the corpus (the
        ``documents`` table of ``analyze --db``), a fixed pseudo-random sample (ordered
        by content hash) of those not in ``exclude``; none when the file holds no corpus."""
        if not self._has_corpus():
            return []
        return [
            (str(r[0]), str(r[1]), r[2])
            for r in self._conn.execute(
                "SELECT id, text, language FROM documents "
                "WHERE id NOT IN (SELECT value FROM json_each(?)) "
                "ORDER BY content_hash LIMIT ?",
                (json.dumps(sorted(set(exclude))), int(limit)),
            )
        ]

    def documents_labelled(self, label: str) -> set[str]:
        """The ids of the stored documents whose record carries ``label`` (as a narrative
        or a sub-narrative: what ``analyze --db`` wrote)."""
        if not self._has_corpus("narratives"):
            return set()
        rows = self._conn.execute(
            "SELECT DISTINCT doc_id FROM narratives WHERE label = ?", (label,)
        )
        return {str(r[0]) for r in rows}

    def _has_corpus(self, table: str = "documents") -> bool:
        return (
            self._conn.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
            ).fetchone()
            is not None
        )
