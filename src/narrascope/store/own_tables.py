"""Tables of our own in the corpus's SQLite file: debunks, discover, custom narratives.

Why one helper: each of these features keeps its data next to the corpus (one file per
project), in tables it creates on first use and versions itself (a ``<name>_schema``
table), so the corpus store's migrations and theirs never collide and merely opening a
corpus database never creates them. The file naming, the connection settings, the
version check, the refusal of another program's SQLite file and the read-only "does it
hold any?" look are the same for all of them.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Self

from narrascope.errors import E_STORE_OPEN, E_STORE_UNSUPPORTED, E_STORE_VERSION, StoreError
from narrascope.store.sql import SQLITE_TABLES

# A file holding one of these tables is narrascope's: the corpus's own version table, or
# that of a feature keeping its tables in the corpus file, which may be created before
# the corpus tables are (debunks imported first).
NARRASCOPE_TABLES = frozenset(
    {
        "schema_version",
        "debunks_schema",
        "discover_schema",
        "custom_narratives_schema",
        "campaigns_schema",
    }
)


def sqlite_file(url_or_path: str | Path, postgres_refusal: str) -> Path:
    """The SQLite file a ``--db`` value names (a path or a ``sqlite:///`` URL); a
    PostgreSQL URL is refused with ``postgres_refusal`` (these tables live in SQLite only)."""
    target = str(url_or_path)
    scheme, sep, rest = target.partition("://")
    if not sep or len(scheme) < 2:  # a path (C:\\ on Windows has a one-letter "scheme")
        return Path(target)
    scheme = scheme.lower()
    if scheme == "sqlite" and rest.startswith("/") and rest != "/":
        return Path(rest[1:])
    if scheme.startswith("postgres"):
        raise StoreError(E_STORE_UNSUPPORTED, postgres_refusal)
    raise StoreError(
        E_STORE_UNSUPPORTED,
        f"cannot read the database {target!r}; give a SQLite file path or a sqlite:/// URL",
    )


def read_only_uri(path: str | Path) -> str:
    """The ``file:`` URI opening ``path`` read-only (``sqlite3.connect(..., uri=True)``).

    Why a helper: the path must be percent-encoded, or a ``#``, ``?`` or ``%`` in it
    ends the path early (``corpus#2.db`` opened ``corpus``, read-write, creating it).
    """
    return Path(path).resolve().as_uri() + "?mode=ro"


def refuse_foreign(conn: sqlite3.Connection, path: Path) -> None:
    """Refuse a SQLite file of another program's (tables, none of them narrascope's).

    Why: our tables are created on first use, so any command given the wrong ``--db``
    (even ``debunks list``) would otherwise write them into the user's unrelated file,
    which the corpus store then took for a narrascope database and migrated.
    """
    tables = {name for (name,) in conn.execute(SQLITE_TABLES) if not name.startswith("sqlite_")}
    if tables and not tables & NARRASCOPE_TABLES:
        shown = ", ".join(sorted(tables)[:5]) + (", ..." if len(tables) > 5 else "")
        raise StoreError(
            E_STORE_OPEN,
            f"{path} is not a narrascope corpus database (it holds other tables: "
            f"{shown}), so it is left as it is; give the corpus database's path, or a new "
            "file name to start a new database",
        )


def connect(path: Path, *, read_only: bool = False) -> sqlite3.Connection:
    """A connection in autocommit mode (transactions are explicit), waiting up to 10 s
    for a writer; WAL when writable, so readers never block the analysis writing.
    Writable, another program's SQLite file is refused (:func:`refuse_foreign`) before
    anything is written to it; read-only, the file is left as it is anyway."""
    if read_only:
        return sqlite3.connect(read_only_uri(path), uri=True, check_same_thread=False, timeout=10.0)
    # the timeout from the start: switching to WAL waits for a writer too
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=10.0)
    try:
        refuse_foreign(conn, path)
        conn.execute("PRAGMA journal_mode = WAL")
    except BaseException:
        conn.close()
        raise
    return conn


def schema_version(conn: sqlite3.Connection, table: str) -> int:
    """The version stored in ``table`` (0: the tables were never created)."""
    has = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
    ).fetchone()
    if not has:
        return 0
    row = conn.execute(f"SELECT version FROM {table}").fetchone()
    return int(row[0]) if row else 0


def check_version(version: int, supported: int, path: Path, what: str) -> None:
    """Refuse tables newer than this narrascope reads."""
    if version > supported:
        raise StoreError(
            E_STORE_VERSION,
            f"{path}: its {what} tables are version {version}, this narrascope reads up to "
            f"{supported}; upgrade narrascope",
        )


def migrate(
    conn: sqlite3.Connection,
    *,
    table: str,
    version: int,
    statements: Sequence[str],
    path: Path,
    what: str,
) -> bool:
    """Create or upgrade the tables to ``version`` in one transaction (every statement is
    idempotent: ``CREATE … IF NOT EXISTS``); True when anything ran."""
    found = schema_version(conn, table)
    check_version(found, version, path, what)
    if found == version:
        return False
    conn.execute("BEGIN IMMEDIATE")
    try:
        for statement in statements:
            conn.execute(statement)
        conn.execute(f"CREATE TABLE IF NOT EXISTS {table} (version INTEGER NOT NULL)")
        conn.execute(f"DELETE FROM {table}")
        conn.execute(f"INSERT INTO {table} VALUES (?)", (version,))
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return True


def holds_rows(target: str | Path | None, table: str) -> bool:
    """Whether ``target`` is a SQLite file whose ``table`` has a row: a read-only look,
    so a database without that feature's tables is left exactly as it was."""
    if target is None or ("://" in str(target) and not str(target).startswith("sqlite:")):
        return False
    try:
        path = sqlite_file(target, "")
    except StoreError:
        return False
    if not path.is_file():
        return False
    try:
        conn = sqlite3.connect(read_only_uri(path), uri=True)
        try:
            row = conn.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
            ).fetchone()
            return bool(row) and bool(conn.execute(f"SELECT 1 FROM {table} LIMIT 1").fetchone())
        finally:
            conn.close()
    except (OSError, sqlite3.Error):
        return False


class OwnTablesStore:
    """What these stores share: one SQLite connection, closed once, and ``with`` support."""

    _conn: sqlite3.Connection | None

    def close(self) -> None:
        conn = getattr(self, "_conn", None)
        if conn is not None:
            conn.close()
            self._conn = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
