"""The PostgreSQL backend: the same schema, statements and behaviour as SQLite, on a server.

Why: a team shares one corpus, and millions of documents outgrow one file. Everything but
the connection lives in :mod:`narrascope.store.common`; here is what only PostgreSQL has:
``%s`` parameters, an advisory lock for migrations, and full-text search through a GIN
index of ``tsvector`` values. Their text is made in Python from the stemmed copy of each
text (:mod:`narrascope.store.stems`) and queries are ``tsquery`` values made by
:mod:`narrascope.store.query`, both cast from text: no text search parser, dictionary or
locale of the server changes a word, so PostgreSQL finds what SQLite finds.
"""

from __future__ import annotations

import functools
import re
from typing import Any

import psycopg
from psycopg import conninfo

from narrascope.doc import Document
from narrascope.errors import E_STORE_OPEN, StoreError
from narrascope.store import sql
from narrascope.store.common import DEBUNK_PATTERN, THREAD_PATTERNS, SQLStore
from narrascope.store.query import Compiled, tsquery, tsvector
from narrascope.store.stems import index_tokens

CONNECT_TIMEOUT = 10  # seconds, unless the URL says otherwise


@functools.lru_cache(maxsize=256)
def to_pyformat(statement: str) -> str:
    """``?`` parameters as psycopg's ``%s`` (``sql.py`` statements have no other ``%``)."""
    if "%" in statement:
        raise ValueError(f"a statement for PostgreSQL may not contain '%': {statement[:60]}")
    return statement.replace("?", "%s")


# Connection parameters that hold a secret (or say where one is kept).
_SECRET_KEYS = "password|sslpassword|passfile|sslkey"


def redact(url: str) -> str:
    """The URL (or ``key=value`` connection string) without its secrets, for messages.

    Why every form: a password can sit in the user info (``user:pw@``), in the query
    (``?password=``, ``&sslpassword=``) or in a libpq string (``password='pw'``), and any
    of them shown in an error reaches logs and, before, HTTP clients.
    """
    shown = re.sub(r"(://[^:@/]*):[^@/]*@", r"\1:***@", url)  # as libpq splits it
    shown = re.sub(rf"(?i)([?&](?:{_SECRET_KEYS})=)[^&#]*", r"\1***", shown)
    if "://" not in shown:
        shown = re.sub(
            rf"(?i)\b((?:{_SECRET_KEYS})\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)", r"\1***", shown
        )
    return shown


class PostgresStore(SQLStore):
    """A corpus database on a PostgreSQL server (see :class:`narrascope.store.Store`)."""

    MIGRATIONS = sql.PG_MIGRATIONS
    BEGIN = sql.PG_BEGIN
    GET_STORED = sql.PG_GET_STORED
    LOCK_DOCUMENT = sql.PG_LOCK_DOCUMENT
    MIGRATION_LOCK = sql.PG_MIGRATION_LOCK
    HAS_TABLE = sql.PG_HAS_TABLE
    GET_RECORDS = sql.PG_GET_RECORDS
    REINDEX_BATCH = sql.PG_REINDEX_BATCH
    BACKFILL_BATCH = sql.PG_BACKFILL_BATCH
    BACKFILL_DEBUNKS_BATCH = sql.PG_BACKFILL_DEBUNKS_BATCH
    BACKFILL_DAYS_BATCH = sql.PG_BACKFILL_DAYS_BATCH
    BACKFILL_MOMENTS_BATCH = sql.PG_BACKFILL_MOMENTS_BATCH
    FIRST_KEY = ""
    DOCUMENT_ERRORS = (
        *SQLStore.DOCUMENT_ERRORS,
        psycopg.DataError,  # e.g. a value out of range
        psycopg.IntegrityError,
        psycopg.errors.ProgramLimitExceeded,  # e.g. a text with too many words for a tsvector
    )
    CONNECTION_ERRORS = (psycopg.OperationalError, psycopg.InterfaceError)
    # 40P01 and 40001: another transaction won; the batch is run again (SQLStore._write).
    # Writers lock ids in one order (SQLStore.save), so a deadlock needs something else
    # holding locks too (another program, a trigger); at READ COMMITTED a serialization
    # failure comes only from a stricter default_transaction_isolation of the server.
    CONTENTION_ERRORS = (psycopg.errors.DeadlockDetected, psycopg.errors.SerializationFailure)

    def __init__(self, url: str) -> None:
        super().__init__()
        # postgresql+psycopg://... (SQLAlchemy style) is the same server to libpq
        self.url = re.sub(r"^postgres(ql)?\+[^:]*://", "postgresql://", url)
        self.where = redact(self.url)
        try:
            params = conninfo.conninfo_to_dict(self.url)
            params.setdefault("connect_timeout", CONNECT_TIMEOUT)
            self._conn = psycopg.connect(**params, autocommit=True)
        except psycopg.Error as exc:
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise StoreError(
                E_STORE_OPEN,
                f"cannot connect to PostgreSQL at {self.where} ({reason}); check that the "
                "server runs and the host, port, user, password and database of the URL",
            ) from None
        try:
            self._migrate()
        except psycopg.Error as exc:
            self._conn.close()
            raise StoreError(
                E_STORE_OPEN,
                f"cannot use {self.where} as a narrascope database ({exc}); the user needs "
                "the right to create tables there, or give another database",
            ) from exc
        except BaseException:
            self._conn.close()
            raise

    def _failure(self, exc: BaseException) -> StoreError | None:
        if not (self._conn.broken or self._conn.closed):
            return None  # e.g. a statement timeout, or one document too long to index
        reason = str(exc).strip() or type(exc).__name__
        return StoreError(
            E_STORE_OPEN,
            f"lost the connection to {self.where} ({reason}); nothing of the unfinished "
            "batch was stored: check the server, then rerun with --resume",
        )

    def _sql(self, statement: str) -> str:
        return to_pyformat(statement)

    def _reindex_search(self, batch_size: int = 500) -> None:
        # the batches start after the key "", which sorts first: a document may have it
        for key, text, language in self._rows(sql.PG_REINDEX_EMPTY_ID):
            self._index_row(key, text, language)
        super()._reindex_search(batch_size)

    def _backfill_batch(self, last: Any, batch_size: int) -> list[tuple[Any, ...]]:
        # the first batch starts at the key "", which sorts first: a document may have it
        return self._rows(self.BACKFILL_BATCH, (last, last, *THREAD_PATTERNS, batch_size))

    def _backfill_debunks_batch(self, last: Any, batch_size: int) -> list[tuple[Any, ...]]:
        # as _backfill_batch: the first batch includes the key ""
        return self._rows(self.BACKFILL_DEBUNKS_BATCH, (last, last, DEBUNK_PATTERN, batch_size))

    def _backfill_days_batch(self, last: Any, batch_size: int) -> list[tuple[Any, ...]]:
        # as _backfill_batch: the first batch includes the key ""
        return self._rows(self.BACKFILL_DAYS_BATCH, (last, last, batch_size))

    def _backfill_moments_batch(self, last: Any, batch_size: int) -> list[tuple[Any, ...]]:
        # as _backfill_batch: the first batch includes the key ""
        return self._rows(self.BACKFILL_MOMENTS_BATCH, (last, last, batch_size))

    def _index_text(self, doc: Document) -> None:
        self._index_row(doc.id, doc.text, doc.language)

    def _index_row(self, key: Any, text: str, language: str | None) -> None:
        self._exec(sql.PG_INDEX_DOCUMENT, (key, tsvector(index_tokens(text, language))))

    def _text_filter(self, query: Compiled) -> list[tuple[str, list[Any]]]:
        found: list[tuple[str, list[Any]]] = []
        if query.groups:
            found.append((sql.PG_WHERE_FTS, [tsquery(query.groups)]))
        if query.excluded:
            found.append((sql.PG_WHERE_NOT_FTS, [tsquery([query.excluded])]))
        return found

    def _ids_param(self, ids: list[str]) -> Any:
        return list(ids)

    def __enter__(self) -> PostgresStore:
        return self
