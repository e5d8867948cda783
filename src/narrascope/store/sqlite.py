"""The SQLite backend: one file, WAL mode, migrations on open.

Why: a corpus of analysed media must be queryable without re-running the models, by
several readers at once (WAL) while a batch appends to it, with nothing to install. The
queries and the write path are shared with PostgreSQL (:mod:`narrascope.store.common`);
here is what only SQLite has: FTS5 (or a LIKE fallback) and the Python ISO-week function.
Both search the same stemmed copy of each text (:mod:`narrascope.store.stems`) with the
same query language (:mod:`narrascope.store.query`), so they find the same documents.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from pathlib import Path
from typing import Any

from narrascope.doc import Document
from narrascope.errors import E_STORE_OPEN, StoreError
from narrascope.store import sql
from narrascope.store.common import SCHEMA_VERSION, SQLStore, iso_week
from narrascope.store.own_tables import refuse_foreign
from narrascope.store.query import Compiled, Variant, fts5_match, like_pattern
from narrascope.store.stems import index_tokens

logger = logging.getLogger(__name__)

BUSY_TIMEOUT = 10.0  # seconds a statement waits for another connection's lock
OPEN_ATTEMPTS = 5  # opening again after a lock SQLite reports without waiting

__all__ = ["SCHEMA_VERSION", "SQLiteStore", "has_fts5"]


def has_fts5() -> bool:
    """Whether this Python's SQLite was compiled with FTS5."""
    probe = sqlite3.connect(":memory:")
    try:
        options = {row[0] for row in probe.execute("PRAGMA compile_options")}
    finally:
        probe.close()
    return "ENABLE_FTS5" in options


class SQLiteStore(SQLStore):
    """A corpus database in one SQLite file (see :class:`narrascope.store.Store`)."""

    MIGRATIONS = sql.MIGRATIONS
    BEGIN = sql.SQLITE_BEGIN
    GET_STORED = sql.SQLITE_GET_STORED
    HAS_TABLE = sql.SQLITE_HAS_TABLE
    GET_RECORDS = sql.SQLITE_GET_RECORDS
    REINDEX_BATCH = sql.SQLITE_REINDEX_BATCH
    BACKFILL_BATCH = sql.SQLITE_BACKFILL_BATCH
    BACKFILL_DEBUNKS_BATCH = sql.SQLITE_BACKFILL_DEBUNKS_BATCH
    BACKFILL_DAYS_BATCH = sql.SQLITE_BACKFILL_DAYS_BATCH
    BACKFILL_MOMENTS_BATCH = sql.SQLITE_BACKFILL_MOMENTS_BATCH
    FIRST_KEY = 0
    DOCUMENT_ERRORS = (
        *SQLStore.DOCUMENT_ERRORS,
        sqlite3.DataError,
        sqlite3.IntegrityError,
        sqlite3.InterfaceError,
    )
    # locked past the busy timeout, disk full, read-only file, I/O error
    CONNECTION_ERRORS = (sqlite3.OperationalError,)
    # many writers: BEGIN IMMEDIATE takes the one write lock, so writers take turns, each
    # waiting up to BUSY_TIMEOUT for it; one still locked out after that is retried (the
    # whole batch, see SQLStore._write) before "database is locked" reaches the caller
    CONTENTION_ERRORS = (sqlite3.OperationalError,)

    def __init__(self, path: str | Path) -> None:
        super().__init__()
        self.path = Path(path)
        self.where = str(self.path)
        try:
            for attempt in range(1, OPEN_ATTEMPTS + 1):
                try:
                    self._open()
                    break
                except sqlite3.OperationalError as exc:
                    # stores opened at the same moment on a new file: SQLite answers some
                    # lock waits (the switch to WAL, a deadlock it avoids) with "locked"
                    # at once, without the busy timeout; opening again then succeeds
                    self._close_quietly()
                    if attempt == OPEN_ATTEMPTS or "locked" not in str(exc).lower():
                        raise
                    time.sleep(0.05 * attempt)
        except sqlite3.DatabaseError as exc:
            self._close_quietly()
            raise StoreError(
                E_STORE_OPEN,
                f"cannot open {self.path} as a narrascope database ({exc}); "
                "check the path, or give a new file name to start a new database",
            ) from exc
        except BaseException:  # e.g. a newer schema (E301): do not leak the connection
            self._close_quietly()
            raise
        # FTS5, or the LIKE fallback's plain table (this SQLite had no FTS5 at step 4)
        self.fts = self._one(sql.SQLITE_HAS_FTS5_INDEX) is not None

    def _open(self) -> None:
        # check_same_thread off: the base class's lock serialises every use
        # timeout first: switching to WAL waits, like every statement, for a store
        # opened at the same moment to finish migrating (it failed at once before)
        self._conn = sqlite3.connect(
            self.path, isolation_level=None, check_same_thread=False, timeout=BUSY_TIMEOUT
        )
        self._conn.create_function("narrascope_iso_week", 1, iso_week, deterministic=True)
        # opening migrates: another program's file must be refused first
        refuse_foreign(self._conn, self.path)
        self._conn.execute("PRAGMA journal_mode = WAL")
        self._conn.execute("PRAGMA foreign_keys = ON")
        self._migrate()

    def _contended(self, exc: BaseException) -> bool:
        # an OperationalError is also a full disk or a read-only file: only these retry
        if not super()._contended(exc):
            return False
        message = str(exc.__cause__ if isinstance(exc, StoreError) else exc).lower()
        return "locked" in message or "busy" in message

    def _close_quietly(self) -> None:
        conn = getattr(self, "_conn", None)
        if conn is not None:
            conn.close()

    def _steps(self, name: str, statements: list[str]) -> list[str]:
        if statements is sql.FTS_SCHEMA or statements is sql.FTS_ROWID_SCHEMA:
            # superseded by step 4; without FTS5 they are skipped and the version moves on
            return statements if has_fts5() else []
        if statements is sql.FTS_STEMMED_SCHEMA and not has_fts5():
            logger.warning("SQLite has no FTS5: text search falls back to LIKE (slower)")
            return sql.PLAIN_STEMMED_SCHEMA
        return statements

    def _delete_rows(self, doc_id: str) -> None:
        super()._delete_rows(doc_id)
        self._exec(sql.DELETE_FTS, (doc_id,))

    def _index_text(self, doc: Document) -> None:
        self._exec(sql.SQLITE_INDEX_DOCUMENT, (_stemmed(doc.text, doc.language), doc.id))

    def _index_row(self, key: Any, text: str, language: str | None) -> None:
        self._exec(sql.SQLITE_INDEX_ROW, (key, _stemmed(text, language)))

    def _text_filter(self, query: Compiled) -> list[tuple[str, list[Any]]]:
        found: list[tuple[str, list[Any]]] = []
        if self.fts:
            if query.groups:
                found.append((sql.SQLITE_WHERE_FTS, [fts5_match(query.groups)]))
            if query.excluded:
                found.append((sql.SQLITE_WHERE_NOT_FTS, [fts5_match([query.excluded])]))
            return found
        # constant fragments only: LIKE_TOKENS once per variant, its pattern a parameter
        if query.groups:
            match, params = _like_all(query.groups)
            found.append((sql.SQLITE_WHERE_LIKE.format(match=match), params))
        if query.excluded:
            match, params = _like_all([query.excluded])
            found.append((sql.SQLITE_WHERE_NOT_LIKE.format(match=match), params))
        return found

    def __enter__(self) -> SQLiteStore:
        return self


def _stemmed(text: str, language: str | None) -> str:
    """What the index holds for a text: its tokens, one blank between two."""
    return " ".join(index_tokens(text, language))


def _like_all(groups: list[list[Variant]]) -> tuple[str, list[str]]:
    """A condition on ``f.text`` that every group matches (any of its variants)."""
    conditions = ["(" + " OR ".join([sql.LIKE_TOKENS] * len(group)) + ")" for group in groups]
    return " AND ".join(conditions), [like_pattern(v) for group in groups for v in group]
