"""The SQLite backend: one file, WAL mode, migrations on open.

Why: a corpus of analysed media must be queryable without re-running the models, by
several readers at once (WAL) while a batch appends to it, with nothing to install. The
queries and the write path are shared with PostgreSQL (:mod:`narrascope.store.common`);
here is what only SQLite has: FTS5 (or a LIKE fallback) and the Python ISO-week function.
"""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path
from typing import Any

from narrascope.doc import Document
from narrascope.errors import E_STORE_OPEN, StoreError
from narrascope.store import sql
from narrascope.store.common import SCHEMA_VERSION, SQLStore, iso_week

logger = logging.getLogger(__name__)

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
    HAS_TABLE = sql.SQLITE_HAS_TABLE
    GET_RECORDS = sql.SQLITE_GET_RECORDS
    DOCUMENT_ERRORS = (
        *SQLStore.DOCUMENT_ERRORS,
        sqlite3.DataError,
        sqlite3.IntegrityError,
        sqlite3.InterfaceError,
    )
    # locked past the busy timeout, disk full, read-only file, I/O error
    CONNECTION_ERRORS = (sqlite3.OperationalError,)

    def __init__(self, path: str | Path) -> None:
        super().__init__()
        self.path = Path(path)
        self.where = str(self.path)
        try:
            # check_same_thread off: the base class's lock serialises every use
            self._conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            self._conn.create_function("narrascope_iso_week", 1, iso_week, deterministic=True)
            self._conn.execute("PRAGMA journal_mode = WAL")
            self._conn.execute("PRAGMA foreign_keys = ON")
            self._conn.execute("PRAGMA busy_timeout = 10000")
            self._migrate()
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
        self.fts = self._one(sql.SQLITE_HAS_TABLE, ("documents_fts",)) is not None

    def _close_quietly(self) -> None:
        conn = getattr(self, "_conn", None)
        if conn is not None:
            conn.close()

    def _steps(self, name: str, statements: list[str]) -> list[str]:
        if (statements is sql.FTS_SCHEMA or statements is sql.FTS_ROWID_SCHEMA) and not has_fts5():
            logger.warning("SQLite has no FTS5: text search falls back to LIKE (slower)")
            return []  # the version still moves on: the schema is complete without it
        return statements

    def _delete_rows(self, doc_id: str) -> None:
        super()._delete_rows(doc_id)
        if self.fts:
            self._exec(sql.DELETE_FTS, (doc_id,))

    def _index_text(self, doc: Document) -> None:
        if self.fts:
            self._exec(sql.INSERT_FTS, (doc.id,))

    def _text_filter(self, query: str) -> list[tuple[str, Any]]:
        if self.fts:
            return [(sql.SQLITE_WHERE_FTS, _fts_phrases(query))]
        return [(sql.WHERE_LIKE, "%" + _like_escape(word) + "%") for word in query.split()]

    def __enter__(self) -> SQLiteStore:
        return self


def _fts_phrases(query: str) -> str:
    """Each word of ``query`` as a quoted FTS5 phrase, so user text is never FTS syntax."""
    return " ".join('"' + word.replace('"', '""') + '"' for word in query.split())


def _like_escape(word: str) -> str:
    return word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
