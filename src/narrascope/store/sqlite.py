"""The SQLite backend: one file, WAL mode, migrations on open, one writer method.

Why: a corpus of analysed media must be queryable without re-running the models, by
several readers at once (WAL) while a batch appends to it. Every write goes through
:meth:`SQLiteStore._write`, one ``BEGIN IMMEDIATE`` transaction, so a crash leaves either
the whole batch or none of it, and a document's results are never half replaced.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from narrascope.doc import Document
from narrascope.errors import E_STORE_OPEN, E_STORE_VERSION, StoreError
from narrascope.store import sql
from narrascope.store.base import STATS_BY, SearchHit, StatsBy, StatsRow

logger = logging.getLogger(__name__)

SCHEMA_VERSION = len(sql.MIGRATIONS)
T = TypeVar("T")


def has_fts5() -> bool:
    """Whether this Python's SQLite was compiled with FTS5."""
    probe = sqlite3.connect(":memory:")
    try:
        options = {row[0] for row in probe.execute("PRAGMA compile_options")}
    finally:
        probe.close()
    return "ENABLE_FTS5" in options


class SQLiteStore:
    """A corpus database in one SQLite file (see :class:`narrascope.store.Store`)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        try:
            self._conn = sqlite3.connect(self.path, isolation_level=None)
            self._conn.execute("PRAGMA journal_mode = WAL")
            self._conn.execute("PRAGMA foreign_keys = ON")
            self._conn.execute("PRAGMA busy_timeout = 10000")
            self._migrate()
        except sqlite3.DatabaseError as exc:
            raise StoreError(
                E_STORE_OPEN,
                f"cannot open {self.path} as a narrascope database ({exc}); "
                "check the path, or give a new file name to start a new database",
            ) from exc
        self.fts = self._one(sql.HAS_TABLE, ("documents_fts",)) is not None

    # -- writing ------------------------------------------------------------------------
    def _write(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """The only way anything is written: ``fn`` runs in one immediate transaction."""
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            result = fn(self._conn)
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")
        return result

    def _migrate(self) -> None:
        self._conn.execute(sql.CREATE_VERSION_TABLE)
        version = self.version()
        if version > SCHEMA_VERSION:
            raise StoreError(
                E_STORE_VERSION,
                f"{self.path} has schema version {version}, newer than this narrascope's "
                f"{SCHEMA_VERSION}; upgrade narrascope to read it",
            )
        fts = has_fts5()
        for number, (name, statements) in enumerate(sql.MIGRATIONS, start=1):
            if number <= version:
                continue
            todo = statements
            if statements is sql.FTS_SCHEMA and not fts:
                logger.warning("SQLite has no FTS5: text search falls back to LIKE (slower)")
                todo = []  # the version still moves on: the schema is complete without it

            def step(conn: sqlite3.Connection, n: int = number, todo: list[str] = todo) -> None:
                # another process may have migrated meanwhile: re-check inside the lock
                current = conn.execute(sql.GET_VERSION).fetchone()[0] or 0
                if current >= n:
                    return
                for statement in todo:
                    conn.execute(statement)
                conn.execute(sql.SET_VERSION, (n,))

            logger.info("migrating %s to schema %d: %s", self.path, number, name)
            self._write(step)

    def save(self, docs: Iterable[Document]) -> int:
        """Store ``docs`` in one transaction; a stored id has its results replaced."""
        docs = list(docs)
        now = datetime.now(UTC).isoformat(timespec="seconds")

        def write(conn: sqlite3.Connection) -> int:
            for doc in docs:
                self._save_one(conn, doc, now)
            return len(docs)

        return self._write(write)

    def _save_one(self, conn: sqlite3.Connection, doc: Document, now: str) -> None:
        record = doc.to_dict()
        meta = doc.meta

        def text_or_none(key: str) -> str | None:
            value = meta.get(key)
            return None if value is None else str(value)

        for statement in sql.DELETE_RESULTS:
            conn.execute(statement, (doc.id,))
        conn.execute(
            sql.UPSERT_DOCUMENT,
            (
                doc.id,
                doc.content_hash,
                doc.text,
                doc.language,
                text_or_none("source"),
                text_or_none("url"),
                text_or_none("date"),
                text_or_none("path"),
                now,
                json.dumps(record, ensure_ascii=False),
            ),
        )
        for level, group in (("narrative", doc.narratives), ("subnarrative", doc.subnarratives)):
            for a in group:
                conn.execute(sql.INSERT_NARRATIVE, (doc.id, level, a.label, a.parent, a.score))
                conn.executemany(
                    sql.INSERT_EVIDENCE,
                    [
                        (doc.id, level, a.label, span.start, span.end, score)
                        for span, score in zip(a.evidence, a.evidence_scores, strict=False)
                    ],
                )
        conn.executemany(
            sql.INSERT_ENTITY,
            [
                (
                    doc.id,
                    e.name,
                    e.main_role,
                    json.dumps(e.fine_labels, ensure_ascii=False),
                    e.score,
                )
                for e in doc.entities
            ],
        )
        conn.executemany(
            sql.INSERT_TECHNIQUE,
            [
                (doc.id, t.label, t.family, t.paragraph, t.span.start, t.span.end, t.score)
                for t in doc.techniques
            ],
        )
        if self.fts:
            conn.execute(sql.DELETE_FTS, (doc.id,))
            conn.execute(sql.INSERT_FTS, (doc.id, doc.text))

    # -- reading ------------------------------------------------------------------------
    def _one(self, query: str, params: tuple[Any, ...] = ()) -> tuple[Any, ...] | None:
        return self._conn.execute(query, params).fetchone()

    def version(self) -> int:
        row = self._one(sql.GET_VERSION)
        return int(row[0]) if row and row[0] is not None else 0

    def count(self) -> int:
        row = self._one(sql.COUNT_DOCUMENTS)
        return int(row[0]) if row else 0

    def contains(self, doc_id: str, content_hash: str) -> bool:
        return self._one(sql.HAS_DOCUMENT, (doc_id, content_hash)) is not None

    def get_document(self, doc_id: str) -> Document | None:
        """The document exactly as saved (``Document.from_dict`` of its record), or None."""
        row = self._one(sql.GET_RECORD, (doc_id,))
        return None if row is None else Document.from_dict(json.loads(row[0]))

    def search(
        self,
        query: str | None = None,
        *,
        narrative: str | None = None,
        language: str | None = None,
        source: str | None = None,
        date_from: str | None = None,
        date_to: str | None = None,
        min_score: float | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> list[SearchHit]:
        """Documents matching every filter given, newest first, with their narratives.

        ``query`` matches words of the text (all of them, any order); ``min_score``
        applies to ``narrative`` if given, else to any narrative of the document; dates
        are ISO strings compared by day (``date_to`` included).
        """
        where: list[str] = []
        params: list[Any] = []
        if query and query.strip():
            if self.fts:
                where.append(sql.WHERE_FTS)
                params.append(_fts_phrases(query))
            else:
                for word in query.split():
                    where.append(sql.WHERE_LIKE)
                    params.append("%" + _like_escape(word) + "%")
        if narrative is not None:
            where.append(sql.WHERE_NARRATIVE)
            params += [narrative, 0.0 if min_score is None else min_score]
        elif min_score is not None:
            where.append(sql.WHERE_ANY_SCORE)
            params.append(min_score)
        for fragment, value in (
            (sql.WHERE_LANGUAGE, language),
            (sql.WHERE_SOURCE, source),
            (sql.WHERE_DATE_FROM, date_from),
            (sql.WHERE_DATE_TO, date_to),
        ):
            if value is not None:
                where.append(fragment)
                params.append(value)
        statement = sql.SEARCH_SELECT
        if where:
            statement += " WHERE " + " AND ".join(where)
        statement += sql.SEARCH_ORDER
        rows = self._conn.execute(statement, [*params, limit, offset]).fetchall()
        return [
            SearchHit(
                id=row[0],
                language=row[1],
                source=row[2],
                url=row[3],
                date=row[4],
                narratives=[
                    (label, float(score))
                    for label, score in self._conn.execute(sql.TOP_NARRATIVES, (row[0],))
                ],
            )
            for row in rows
        ]

    def stats(self, by: StatsBy = "month") -> list[StatsRow]:
        """Documents per bucket and narrative; documents without a date/source are None."""
        if by not in STATS_BY:
            raise ValueError(f"by must be one of {', '.join(STATS_BY)}, got {by!r}")
        statement = sql.STATS.format(bucket=sql.BUCKETS[by])  # a constant fragment, no value
        return [
            StatsRow(bucket, label, int(n)) for bucket, label, n in self._conn.execute(statement)
        ]

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> SQLiteStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _fts_phrases(query: str) -> str:
    """Each word of ``query`` as a quoted FTS5 phrase, so user text is never FTS syntax."""
    return " ".join('"' + word.replace('"', '""') + '"' for word in query.split())


def _like_escape(word: str) -> str:
    return word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
