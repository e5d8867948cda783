"""The corpus database: analysed documents and their results, queryable without re-analysis.

``open_store("corpus.db")`` or ``open_store("sqlite:///corpus.db")`` opens (and creates or
migrates) a SQLite database; ``open_store("postgresql://user:password@host:5432/db")`` (or
``postgres://``) a PostgreSQL one, same schema and behaviour (psycopg is imported only then).
"""

from __future__ import annotations

from pathlib import Path

from narrascope.errors import E_STORE_UNSUPPORTED, StoreError
from narrascope.store.base import (
    ANY_DEBUNK,
    FACETS,
    HATE_FILTERS,
    STATS_BY,
    DebunkStatsRow,
    DebunkSummary,
    DocumentsNotSaved,
    FilterError,
    Filters,
    HateStatsRow,
    SearchHit,
    StatsBy,
    StatsRow,
    Store,
)
from narrascope.store.sqlite import SCHEMA_VERSION, SQLiteStore

__all__ = [
    "ANY_DEBUNK",
    "FACETS",
    "HATE_FILTERS",
    "SCHEMA_VERSION",
    "STATS_BY",
    "DebunkStatsRow",
    "DebunkSummary",
    "DocumentsNotSaved",
    "FilterError",
    "Filters",
    "HateStatsRow",
    "SQLiteStore",
    "SearchHit",
    "StatsBy",
    "StatsRow",
    "Store",
    "open_store",
]


def open_store(url_or_path: str | Path) -> Store:
    """Open the database a path or URL names, creating and migrating it as needed."""
    target = str(url_or_path)
    scheme, sep, rest = target.partition("://")
    if not sep or len(scheme) < 2:  # a plain path (a Windows drive letter is no scheme)
        return SQLiteStore(Path(target))
    scheme = scheme.lower()
    if scheme == "sqlite":
        if not rest.startswith("/") or rest == "/":
            raise StoreError(
                E_STORE_UNSUPPORTED,
                f"cannot read the SQLite URL {target!r}; write sqlite:///relative/path.db "
                "or sqlite:////absolute/path.db, or just give the file path",
            )
        return SQLiteStore(Path(rest[1:]))
    if scheme in ("postgresql", "postgres") or scheme.startswith(("postgresql+", "postgres+")):
        try:
            from narrascope.store.postgres import PostgresStore
        except ImportError as exc:
            raise StoreError(
                E_STORE_UNSUPPORTED,
                f"PostgreSQL needs the psycopg package ({exc}); pip install 'psycopg[binary]'",
            ) from exc
        return PostgresStore(target)
    raise StoreError(
        E_STORE_UNSUPPORTED,
        f"unknown database URL scheme {scheme!r}; give a file path, a sqlite:/// URL "
        "or a postgresql:// URL",
    )
