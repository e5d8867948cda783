"""What both SQL backends share: migrations, the one write path, every query.

Why a base class: SQLite and PostgreSQL run the same statements (``sql.py``) and must
behave the same, so everything lives here once; a backend only opens its connection and
fills in what truly differs (how a transaction begins, full-text search, its errors).
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import math
import operator
import random
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any, ClassVar, Literal, TypeVar, overload

from narrascope.doc import Document
from narrascope.errors import E_STORE_OPEN, E_STORE_VERSION, StoreError
from narrascope.store import sql
from narrascope.store.base import (
    ANY_DEBUNK,
    FACETS,
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
)
from narrascope.store.query import Compiled, compile_query, parse_query
from narrascope.store.stems import stemmed_languages
from narrascope.text.dates import exact_day, moment

logger = logging.getLogger(__name__)

SCHEMA_VERSION = len(sql.MIGRATIONS)
assert len(sql.PG_MIGRATIONS) == SCHEMA_VERSION, "both backends must have every migration"
# How many times a batch is tried (the first time included) when other writers abort its
# transaction (a deadlock, a serialization failure, SQLite locked past its busy timeout),
# and the first pause between two tries: it doubles each time, jittered (0.5 to 1 times)
# so writers that collided do not collide again in step.
WRITE_ATTEMPTS = 5
# the largest LIMIT and OFFSET both databases take (a 64-bit integer); more is clamped to it
MAX_PAGE = 2**63 - 1
RETRY_PAUSE = 0.05  # seconds
T = TypeVar("T")
# why ``save`` refuses a document whose id is empty
NO_ID = "the document has no id; give it one (Document(text, id=...)) to store it"

# What a TEXT column cannot hold: UTF-8 has no lone surrogates (JSON "\ud800" gives one)
# and PostgreSQL text has no NUL. Both backends replace both, so they behave the same.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def storable(value: Any) -> Any:
    """``value`` with each unstorable character replaced by U+FFFD, one for one.

    Why replace rather than refuse: the document stays searchable and every character
    offset into the stored text still points at the same place (same length). The exact
    text is not lost: the JSON record keeps it (ASCII-escaped), so ``get_document``
    returns the document as given. Every parameter goes through this, reads included, so
    an id with such a character is found again under the same (replaced) key.
    """
    if isinstance(value, str) and _UNSTORABLE.search(value):
        return _UNSTORABLE.sub("\ufffd", value)
    return value


def record_json(record: dict[str, Any]) -> str:
    """The JSON of a record; ASCII escapes when the text has lone surrogates (exact)."""
    line = json.dumps(record, ensure_ascii=False)
    return json.dumps(record) if _UNSTORABLE.search(line) else line


# The hate and incitement readings as columns: (label, score, target) and (1/0, score).
HateColumns = tuple[str | None, float | None, str | None, int | None, float | None]
# what a stored record holding a thread or a reading contains (BACKFILL_THREADS skips the rest)
THREAD_PATTERNS = ('%"comments": [%', '%"hate": {%', '%"incitement": {%')


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def hate_columns(record: Mapping[str, Any]) -> HateColumns:
    """The ``hate`` and ``incitement`` readings of a record (a document's or a comment's).

    Why tolerant: a reading is JSON written by a stage (or an older one); one of another
    shape is stored as not analysed (NULL) rather than costing the document. The full
    reading stays in the JSON record either way.
    """
    hate = record.get("hate")
    incitement = record.get("incitement")
    label = score = target = None
    if isinstance(hate, Mapping):
        label = hate.get("label") if isinstance(hate.get("label"), str) else None
        score = _number(hate.get("score"))
        target = None if hate.get("target") is None else str(hate.get("target"))
    flag = flag_score = None
    if isinstance(incitement, Mapping):
        value = incitement.get("label")
        flag = int(value) if isinstance(value, bool) else None
        flag_score = _number(incitement.get("score"))
    return label, score, target, flag, flag_score


def comment_rows(doc_id: str, record: Mapping[str, Any]) -> list[tuple[Any, ...]]:
    """The ``comments`` rows of a document record (its ``comments`` list, as to_dict writes).

    An entry without an id or a span (not one ``to_dict`` writes) has no row: a migration
    reading old records must not stop on one; the JSON record keeps it.
    """
    found = []
    for c in record.get("comments") or []:
        try:
            found.append(
                (
                    doc_id,
                    str(c["id"]),
                    None if c.get("parent") is None else str(c["parent"]),
                    None if c.get("author") is None else str(c["author"]),
                    int(c["start"]),
                    int(c["end"]),
                    int(c.get("depth") or 0),
                    None if c.get("date") is None else str(c["date"]),
                    None if c.get("language") is None else str(c["language"]),
                    *hate_columns(c),
                )
            )
        except (AttributeError, KeyError, TypeError, ValueError):
            continue
    return found


# what a stored record holding a debunk match contains (BACKFILL_DEBUNKS skips the rest)
DEBUNK_PATTERN = '%"debunks": [{%'


def _text_or_none(value: Any) -> str | None:
    return None if value is None else str(value)


def debunk_rows(doc_id: str, record: Mapping[str, Any]) -> list[tuple[Any, ...]]:
    """The ``debunk_matches`` rows of a document record (its ``debunks``, as to_dict writes),
    then those of its reader comments (each comment's ``debunks``, its id in ``comment_id``).

    Tolerant as :func:`comment_rows`: a match without an id or a finite score is left out (the
    JSON record keeps it), and a claim span without offsets is a document-level match.
    """
    owned: list[tuple[Any, str | None]] = [(d, None) for d in record.get("debunks") or []]
    for c in record.get("comments") or []:
        if isinstance(c, Mapping) and isinstance(c.get("debunks"), list):
            owned += [(d, str(c.get("id", ""))) for d in c["debunks"]]
    found = []
    for d, comment in owned:
        try:
            span = d.get("claim_span")
            start = end = None
            if isinstance(span, Mapping) and span.get("start") is not None:
                start, end = int(span["start"]), int(span["end"])
            score = _number(d.get("score"))
            if d.get("id") is None or score is None or not math.isfinite(score):
                continue
            found.append(
                (
                    doc_id,
                    str(d["id"]),
                    _text_or_none(d.get("claim")),
                    _text_or_none(d.get("verdict")),
                    _text_or_none(d.get("url")),
                    score,
                    start,
                    end,
                    comment,
                )
            )
        except (AttributeError, KeyError, TypeError, ValueError):
            continue
    return found


def _database_error(exc: BaseException) -> BaseException:
    """The driver's error behind ``exc`` (a StoreError wraps it, see SQLStore._using)."""
    if isinstance(exc, StoreError) and exc.__cause__ is not None:
        return exc.__cause__
    return exc


def document_day(value: Any) -> str | None:
    """The ISO day (2024-03-02) a document's date names, None when it names none.

    Why: date filters, buckets and the order compare this (the ``day`` column), not the
    date as given, which compared as text put "02.03.2024" before 2023. Read as dates are
    read everywhere else (:mod:`narrascope.text.dates`: ISO, "02.03.2024 14:35" day
    first, an epoch number or its digits, "March 5, 2024"...), and a date with an offset
    on its UTC day; a date it cannot read ("soon", "2024-02-30") or that pins no day
    ("2024", "March 2024": :func:`~narrascope.text.dates.exact_day`) is undated.
    """
    number = exact_day(value)
    return None if number is None else date.fromordinal(number).isoformat()


def document_moment(value: Any) -> float | None:
    """Seconds since the epoch of a document's date (the ``moment`` column), None when it
    names no day: the order within a day compares instants, not the dates' texts."""
    found = moment(value)
    return None if found is None else found.timestamp()


def document_source(value: Any) -> str | None:
    """A document's source as stored and filtered: stripped, a blank one none.

    Why: CSV exports pad cells ("spaced source "), and a source stored padded could not be
    found by the name ``campaigns`` reports nor told apart from its unpadded twin in a
    ``stats`` table.
    """
    if value is None:
        return None
    return str(value).strip() or None


def _page_number(name: str, value: Any) -> int:
    """``value`` as a LIMIT or OFFSET: a whole number from 0, at most ``MAX_PAGE``."""
    try:
        number = -1 if isinstance(value, bool) else operator.index(value)
    except TypeError:
        number = -1
    if number < 0:
        raise FilterError(f"{name} is a whole number from 0, got {value!r}")
    return min(number, MAX_PAGE)


SHOWN_DECIMALS = 4  # a record rounds its scores so (Document.to_dict)


def shown_score(score: float) -> float:
    """A stored score as a document's record shows it."""
    return round(float(score), SHOWN_DECIMALS)


def score_floor(min_score: float) -> float:
    """The least stored score whose record shows at least ``min_score``.

    Why: the narrative rows keep the model's float and records show it rounded, so a
    comparison on the float left out the document shown with 0.3668 from
    ``min_score=0.3668`` (its float 0.366792...). Comparing the float with this floor
    selects by the shown value and keeps the (label, score) index usable on both backends.
    """
    scale = 10**SHOWN_DECIMALS
    shown = math.ceil(round(min_score * scale, 6)) / scale  # the least shown value passing
    floor = shown - 0.5 / scale
    # round() reads the binary float as it is: step to the first float shown as ``shown``
    while shown_score(floor) < shown:
        floor = math.nextafter(floor, math.inf)
    while shown_score(below := math.nextafter(floor, -math.inf)) >= shown:
        floor = below
    return floor


@functools.lru_cache(maxsize=8192)  # called once per row of a stats query: few distinct days
def iso_week(day: str | None) -> str | None:
    """``2024-03-02`` → ``2024-W09`` (ISO 8601 week), None for anything not a day."""
    if day is None or not _ISO_DAY.fullmatch(day):
        return None
    try:
        year, week, _ = date.fromisoformat(day).isocalendar()
    except ValueError:
        return None
    return f"{year:04d}-W{week:02d}"


class SQLStore:
    """A corpus database over a DB-API connection (see :class:`narrascope.store.Store`).

    Every write goes through :meth:`_write`, one transaction, so a crash leaves either the
    whole batch or none of it and a document's results are never half replaced. A lock
    serialises use of the one connection, so threads (a web server's) may share a store.
    """

    MIGRATIONS: ClassVar[list[tuple[str, list[str]]]]
    BEGIN: ClassVar[str]
    GET_STORED: ClassVar[str]  # (id, content_hash, record) of a batch of ids (_ids_param)
    LOCK_DOCUMENT: ClassVar[str | None] = None  # a row lock on one id (SQLite: BEGIN is one)
    MIGRATION_LOCK: ClassVar[str | None] = None
    HAS_TABLE: ClassVar[str]
    GET_RECORDS: ClassVar[str]
    REINDEX_BATCH: ClassVar[str]  # (key, text, language) of the documents after a key
    BACKFILL_BATCH: ClassVar[str]  # (key, id, record) of records that may hold a thread
    BACKFILL_DEBUNKS_BATCH: ClassVar[str]  # (key, id, record) that may hold a debunk match
    BACKFILL_DAYS_BATCH: ClassVar[str]  # (key, id, date) of the documents after a key
    BACKFILL_MOMENTS_BATCH: ClassVar[str]  # (key, id, date, source) of those after a key
    FIRST_KEY: ClassVar[Any]  # a key before every document's
    # what the database raises when it refuses one document (the batch goes on)
    DOCUMENT_ERRORS: ClassVar[tuple[type[BaseException], ...]] = (
        UnicodeError,
        ValueError,
        OverflowError,
    )
    CONNECTION_ERRORS: ClassVar[tuple[type[BaseException], ...]] = ()
    # what the database raises when other writers abort a transaction (see _contended)
    CONTENTION_ERRORS: ClassVar[tuple[type[BaseException], ...]] = ()
    where: str  # the database, for messages (no password)
    _conn: Any

    def __init__(self) -> None:
        self._lock = threading.RLock()
        # while a batch is collected (_deferring): statement -> its rows, in first-use order
        self._deferred: dict[str, list[Sequence[Any]]] | None = None
        # what the connection is doing, for the message when the database fails (_failure)
        self._task: Literal["reading", "opening", "writing"] = "reading"

    # -- the connection -----------------------------------------------------------------
    def _sql(self, statement: str) -> str:
        """The statement as this backend's driver writes parameters."""
        return statement

    def _exec(self, statement: str, params: Sequence[Any] = ()) -> int:
        """Run one statement; the number of rows it changed (-1 while deferring)."""
        with self._using():
            if self._deferred is not None:
                self._deferred.setdefault(statement, []).append(params)
                return -1
            cursor = self._conn.execute(self._sql(statement), [storable(p) for p in params])
            return cursor.rowcount

    def _exec_many(self, statement: str, rows: Iterable[Sequence[Any]]) -> None:
        rows = [[storable(p) for p in row] for row in rows]
        if rows:
            with self._using():
                if self._deferred is not None:
                    self._deferred.setdefault(statement, []).extend(rows)
                    return
                self._conn.cursor().executemany(self._sql(statement), rows)

    def _rows(self, statement: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._using():
            cursor = self._conn.execute(self._sql(statement), [storable(p) for p in params])
            return [tuple(row) for row in cursor.fetchall()]

    @contextlib.contextmanager
    def _using(self) -> Iterator[None]:
        """The connection, to this thread alone; a failing database is a StoreError."""
        with self._lock:
            try:
                yield
            except self.CONNECTION_ERRORS as exc:
                error = self._failure(exc)
                if error is None:
                    raise
                raise error from exc

    def _failure(self, exc: BaseException) -> StoreError | None:
        """What to tell the user when the database itself fails (None: not that, re-raise).

        Worded by what failed: a batch and ``--resume`` only when a batch was being written
        (a search or the migration on opening has neither).
        """
        reason = str(exc).strip() or type(exc).__name__
        if self._task == "opening":
            return StoreError(
                E_STORE_OPEN,
                f"cannot open {self.where} as a narrascope database ({reason}); check the "
                "path, or give a new file name to start a new database",
            )
        if self._task == "writing":
            return StoreError(
                E_STORE_OPEN,
                f"the database {self.where} failed ({reason}); nothing of the unfinished batch "
                "was stored: fix the cause, then rerun with --resume",
            )
        return StoreError(
            E_STORE_OPEN, f"the database {self.where} failed ({reason}); fix the cause, then retry"
        )

    def _one(self, statement: str, params: Sequence[Any] = ()) -> tuple[Any, ...] | None:
        found = self._rows(statement, params)
        return found[0] if found else None

    def _write(self, fn: Callable[[], T], *, attempts: int = 1) -> T:
        """The only way anything is written: ``fn`` runs in one transaction.

        With ``attempts`` > 1, a transaction that other writers abort (:meth:`_contended`)
        is rolled back and ``fn`` run again from the start, after a jittered pause
        (``RETRY_PAUSE``, doubling), up to ``attempts`` times in all; then the error
        reaches the caller. ``fn`` must be safe to run again: it reads what it needs
        inside. The pause is taken without the store's lock.
        """
        for attempt in range(1, attempts + 1):
            with self._lock:
                task = self._task
                self._task = "opening" if task == "opening" else "writing"
                try:
                    return self._transaction(fn)
                except BaseException as exc:
                    if attempt >= attempts or not self._contended(exc):
                        raise
                    cause = _database_error(exc)
                    reason = (str(cause).strip() or type(cause).__name__).splitlines()[0]
                finally:
                    self._task = task
            pause = RETRY_PAUSE * 2 ** (attempt - 1) * random.uniform(0.5, 1.0)
            logger.info(
                "%s: the transaction was aborted by other writers (%s); try %d of %d in %.2f s",
                self.where,
                reason,
                attempt + 1,
                attempts,
                pause,
            )
            time.sleep(pause)
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _transaction(self, fn: Callable[[], T]) -> T:
        self._exec(self.BEGIN)
        try:
            result = fn()
        except BaseException:
            self._exec(sql.ROLLBACK)
            raise
        try:
            self._exec(sql.COMMIT)
        except BaseException:
            # a COMMIT that fails may leave the transaction open (SQLite): end it, quietly
            with contextlib.suppress(Exception), self._lock:
                self._conn.execute(sql.ROLLBACK)
            raise
        return result

    def _contended(self, exc: BaseException) -> bool:
        """Whether ``exc`` (or the database error a StoreError wraps) says that other
        writers aborted the transaction, so that running it again may succeed."""
        return isinstance(_database_error(exc), self.CONTENTION_ERRORS)

    # -- migrations ---------------------------------------------------------------------
    def _steps(self, name: str, statements: list[str]) -> list[str]:
        """The statements of one migration step as this database runs them."""
        return statements

    def _stored_version(self) -> int:
        if self._one(self.HAS_TABLE, ("schema_version",)) is None:
            return 0
        row = self._one(sql.GET_VERSION)
        return int(row[0]) if row and row[0] is not None else 0

    def _migrate(self) -> None:
        """Bring the schema to ``SCHEMA_VERSION`` (one transaction); a failure says so."""
        with self._lock:
            self._task = "opening"
            try:
                self._migrate_schema()
            finally:
                self._task = "reading"

    def _migrate_schema(self) -> None:
        version = self._stored_version()
        if version > SCHEMA_VERSION:
            raise StoreError(
                E_STORE_VERSION,
                f"{self.where} has schema version {version}, newer than this narrascope's "
                f"{SCHEMA_VERSION}; upgrade narrascope to read it",
            )
        if version == SCHEMA_VERSION:
            return

        def migrate() -> None:
            if self.MIGRATION_LOCK:
                self._exec(self.MIGRATION_LOCK)
            self._exec(sql.CREATE_VERSION_TABLE)
            # another process may have migrated meanwhile: re-check inside the lock
            current = self._stored_version()
            for number, (name, statements) in enumerate(self.MIGRATIONS, start=1):
                if number <= current:
                    continue
                logger.info("migrating %s to schema %d: %s", self.where, number, name)
                for statement in self._steps(name, statements):
                    if statement == sql.REINDEX_SEARCH:
                        self._reindex_search()
                    elif statement == sql.BACKFILL_THREADS:
                        self._backfill_threads()
                    elif statement == sql.BACKFILL_DEBUNKS:
                        self._backfill_debunks()
                    elif statement == sql.BACKFILL_DAYS:
                        self._backfill_days()
                    elif statement == sql.BACKFILL_MOMENTS:
                        self._backfill_moments()
                    elif self._has_column_of(statement):
                        continue
                    else:
                        self._exec(statement)
                self._exec(sql.SET_VERSION, (number,))

        self._write(migrate)

    def version(self) -> int:
        return self._stored_version()

    def _reindex_search(self, batch_size: int = 500) -> None:
        """Index every stored text anew (a migration step), a batch of texts at a time.

        Why in Python: the index holds stems made by :mod:`narrascope.store.stems`.
        """
        last = self.FIRST_KEY
        done = 0
        while batch := self._rows(self.REINDEX_BATCH, (last, batch_size)):
            for key, text, language in batch:
                self._index_row(key, text, language)
            last = batch[-1][0]
            done += len(batch)
        logger.info("indexed the words of %d documents of %s", done, self.where)

    def _has_column_of(self, statement: str) -> bool:
        """Whether ``statement`` adds a column the table already has (a step run again)."""
        added = sql.ADD_COLUMN.match(statement)
        if added is None:
            return False
        table, column = added.groups()
        with self._using():
            cursor = self._conn.execute(sql.COLUMNS_OF.format(table=table))
            names = {d[0].lower() for d in cursor.description}
            cursor.fetchall()
        return column.lower() in names

    def _backfill_batch(self, last: Any, batch_size: int) -> list[tuple[Any, ...]]:
        return self._rows(self.BACKFILL_BATCH, (last, *THREAD_PATTERNS, batch_size))

    def _backfill_threads(self, batch_size: int = 500) -> None:
        """Fill ``comments`` and the article's hate columns from the stored records (a
        migration step), so documents saved with a thread before it are counted too."""
        last = self.FIRST_KEY
        done = 0
        while batch := self._backfill_batch(last, batch_size):
            for _key, doc_id, text in batch:
                record = json.loads(text)
                if not isinstance(record, dict):
                    continue
                columns = hate_columns(record)
                if any(value is not None for value in columns):
                    self._exec(sql.SET_DOCUMENT_HATE, (*columns, doc_id))
                self._exec(sql.DELETE_COMMENTS, (doc_id,))
                self._exec_many(sql.INSERT_COMMENT, comment_rows(doc_id, record))
                done += 1
            last = batch[-1][0]
        logger.info("read the threads and readings of %d documents of %s", done, self.where)

    def _backfill_debunks_batch(self, last: Any, batch_size: int) -> list[tuple[Any, ...]]:
        return self._rows(self.BACKFILL_DEBUNKS_BATCH, (last, DEBUNK_PATTERN, batch_size))

    def _backfill_debunks(self, batch_size: int = 500) -> None:
        """Fill ``debunk_matches`` from the stored records (a migration step), so documents
        matched before it are filtered and counted too."""
        last = self.FIRST_KEY
        done = 0
        while batch := self._backfill_debunks_batch(last, batch_size):
            for _key, doc_id, text in batch:
                record = json.loads(text)
                if not isinstance(record, dict):
                    continue
                self._exec(sql.DELETE_DEBUNK_MATCHES, (doc_id,))
                self._exec_many(sql.INSERT_DEBUNK_MATCH, debunk_rows(doc_id, record))
                done += 1
            last = batch[-1][0]
        logger.info("read the debunk matches of %d documents of %s", done, self.where)

    def _backfill_days_batch(self, last: Any, batch_size: int) -> list[tuple[Any, ...]]:
        return self._rows(self.BACKFILL_DAYS_BATCH, (last, batch_size))

    def _backfill_days(self, batch_size: int = 500) -> None:
        """Fill the ``day`` column from the stored dates (a migration step), so documents
        saved before it are filtered, counted and ordered by their day too."""
        last = self.FIRST_KEY
        done = 0
        while batch := self._backfill_days_batch(last, batch_size):
            self._exec_many(
                sql.SET_DOCUMENT_DAY, [(document_day(raw), doc_id) for _key, doc_id, raw in batch]
            )
            done += len(batch)
            last = batch[-1][0]
        logger.info("read the days of %d documents of %s", done, self.where)

    def _backfill_moments_batch(self, last: Any, batch_size: int) -> list[tuple[Any, ...]]:
        return self._rows(self.BACKFILL_MOMENTS_BATCH, (last, batch_size))

    def _backfill_moments(self, batch_size: int = 500) -> None:
        """Read every stored date's day and moment, and source, again (a migration step):
        documents saved before it keep no month-first, undated or local day."""
        last = self.FIRST_KEY
        done = 0
        while batch := self._backfill_moments_batch(last, batch_size):
            self._exec_many(
                sql.SET_DOCUMENT_MOMENT,
                [
                    (document_day(raw), document_moment(raw), document_source(source), doc_id)
                    for _key, doc_id, raw, source in batch
                ],
            )
            done += len(batch)
            last = batch[-1][0]
        logger.info("read the days and moments of %d documents of %s", done, self.where)

    # -- writing ------------------------------------------------------------------------
    def save(self, docs: Iterable[Document]) -> int:
        """Store ``docs`` in one transaction; a stored id has its results replaced.

        Returns how many documents were written: new ids, and stored ids whose content
        hash or record (a newer analysis) differs. A document stored already with the
        same content hash and the same record is left as it is (no row rewritten, its
        ``analysed_at`` kept) and not counted; one read for the whole batch says which.
        An id given twice in a batch is stored as its last copy (counted once).

        Safe with many writers on one database (Ray workers, two jobs sharing a corpus):
        the documents are written in id order, so writers lock ids in the same order and
        cannot deadlock one another, and a transaction that other writers abort anyway (a
        deadlock, a serialization failure, SQLite locked past its busy timeout) is run
        again whole, up to ``WRITE_ATTEMPTS`` times in all, before the error is raised.

        The batch is written statement by statement for all its documents at once
        (executemany: a handful of round trips). When the database refuses a document,
        that is undone and the batch written again a document at a time, each inside its
        own savepoint: the refused one is undone alone, the others are committed, then
        :class:`DocumentsNotSaved` names it. Lone surrogates and NUL characters are stored
        replaced (see :func:`storable`).

        A document without an id is refused the same way (``DocumentsNotSaved``, E304),
        the rest stored: stored under ``""`` it could never be shown, linked or deleted,
        and the next one without an id would replace it in silence.
        """
        latest: dict[str, tuple[int, Document]] = {}
        refused: list[tuple[int, str, str]] = []  # (position, id, why), as ``failures``
        for position, doc in enumerate(docs):
            if not doc.id:
                refused.append((position, "", NO_ID))
                continue
            latest[storable(doc.id)] = (position, doc)  # a repeated id: its last copy
        if not latest:
            if refused:
                raise DocumentsNotSaved([(doc_id, why) for _, doc_id, why in refused], 0)
            return 0
        todo = [latest[key] for key in sorted(latest)]  # id order: one lock order for all
        now = datetime.now(UTC).isoformat(timespec="seconds")
        failures: list[tuple[int, str, str]] = []

        def write() -> int:
            failures.clear()  # a retried transaction starts again from nothing
            stored = {
                key: (content_hash, record)
                for key, content_hash, record in self._rows(
                    self.GET_STORED, (self._ids_param(sorted(latest)),)
                )
            }

            def unchanged(doc: Document) -> bool:
                try:
                    record = storable(record_json(doc.to_dict()))
                except self.DOCUMENT_ERRORS:
                    return False  # writing it fails the same way, and says so
                return stored.get(storable(doc.id)) == (storable(doc.content_hash), record)

            changed = [(position, doc) for position, doc in todo if not unchanged(doc)]
            if not changed:
                return 0
            self._exec(sql.BATCH_SAVEPOINT)
            try:
                with self._deferring() as deferred:
                    for _, doc in changed:
                        self._save_one(doc, now)
                for statement, params in deferred.items():
                    self._exec_many(statement, params)
            except self.DOCUMENT_ERRORS:
                self._exec(sql.BATCH_ROLLBACK_TO)
                self._exec(sql.BATCH_RELEASE)
                return self._save_each(changed, now, failures)
            self._exec(sql.BATCH_RELEASE)
            return len(changed)

        saved = self._write(write, attempts=WRITE_ATTEMPTS)
        failed = sorted(failures + refused)  # in the caller's order
        if failed:
            raise DocumentsNotSaved([(doc_id, why) for _, doc_id, why in failed], saved)
        return saved

    def _save_each(
        self, docs: list[tuple[int, Document]], now: str, failures: list[tuple[int, str, str]]
    ) -> int:
        """Write ``docs`` a document at a time, each in its own savepoint; a refused one is
        undone alone and added to ``failures`` (its position, id and reason)."""
        saved = 0
        for position, doc in docs:
            self._exec(sql.SAVEPOINT)
            try:
                self._save_one(doc, now)
            except self.DOCUMENT_ERRORS as exc:
                self._exec(sql.ROLLBACK_TO)
                failures.append((position, doc.id, f"{type(exc).__name__}: {exc}"))
            else:
                saved += 1
            self._exec(sql.RELEASE)
        return saved

    @contextlib.contextmanager
    def _deferring(self) -> Iterator[dict[str, list[Sequence[Any]]]]:
        """Collect the writes made meanwhile (``_exec``, ``_exec_many``) instead of running
        them: statement -> every row given, statements in the order first used.

        Why: a batch then runs each statement once with the rows of all its documents
        (executemany: one round trip, pipelined on PostgreSQL) rather than a dozen
        statements per document. Running the statements in first-use order keeps each
        document's order (its upsert, then its deletes, then its inserts), as every
        document uses them in that order. Only this thread defers (the store's lock).
        """
        with self._lock:
            self._deferred = {}
            try:
                yield self._deferred
            finally:
                self._deferred = None

    def _delete_rows(self, doc_id: str) -> None:
        for statement in sql.DELETE_RESULTS:
            self._exec(statement, (doc_id,))

    def _index_text(self, doc: Document) -> None:
        """Index the words of a saved document (its stemmed copy, see ``stems``)."""
        raise NotImplementedError

    def _index_row(self, key: Any, text: str, language: str | None) -> None:
        """Index the words of the stored document with this key (rowid or id)."""
        raise NotImplementedError

    def _save_one(self, doc: Document, now: str) -> None:
        meta = doc.meta

        def text_or_none(key: str) -> str | None:
            value = meta.get(key)
            return None if value is None else str(value)

        record = doc.to_dict()
        # the upsert first: it locks the id (see sql.DELETE_RESULTS), then the old results go
        self._exec(
            sql.UPSERT_DOCUMENT,
            (
                doc.id,
                doc.content_hash,
                doc.text,
                doc.language,
                document_source(meta.get("source")),
                text_or_none("url"),
                text_or_none("date"),
                document_day(meta.get("date")),
                document_moment(meta.get("date")),
                text_or_none("path"),
                now,
                record_json(record),
                *hate_columns(record),
            ),
        )
        self._delete_rows(doc.id)
        for level, group in (("narrative", doc.narratives), ("subnarrative", doc.subnarratives)):
            for a in group:
                self._exec(sql.INSERT_NARRATIVE, (doc.id, level, a.label, a.parent, a.score))
                self._exec_many(
                    sql.INSERT_EVIDENCE,
                    [
                        (doc.id, level, a.label, span.start, span.end, score)
                        for span, score in zip(a.evidence, a.evidence_scores, strict=False)
                    ],
                )
        self._exec_many(
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
        self._exec_many(
            sql.INSERT_TECHNIQUE,
            [
                (doc.id, t.label, t.family, t.paragraph, t.span.start, t.span.end, t.score)
                for t in doc.techniques
            ],
        )
        # the reader thread, as its record has it (the readings as the stages wrote them)
        self._exec_many(sql.INSERT_COMMENT, comment_rows(doc.id, record))
        self._exec_many(sql.INSERT_DEBUNK_MATCH, debunk_rows(doc.id, record))
        self._index_text(doc)

    def delete(self, doc_id: str) -> bool:
        """Remove a document and all its results; False if it was not stored."""

        def remove() -> bool:
            if self.LOCK_DOCUMENT:  # the id first, as save() does: no deadlock with it
                self._rows(self.LOCK_DOCUMENT, (doc_id,))
            self._delete_rows(doc_id)
            return self._exec(sql.DELETE_DOCUMENT, (doc_id,)) > 0

        return self._write(remove, attempts=WRITE_ATTEMPTS)

    # -- reading ------------------------------------------------------------------------
    def count(self) -> int:
        row = self._one(sql.COUNT_DOCUMENTS)
        return int(row[0]) if row else 0

    def contains(self, doc_id: str, content_hash: str) -> bool:
        return self._one(sql.HAS_DOCUMENT, (doc_id, content_hash)) is not None

    def get_document(self, doc_id: str) -> Document | None:
        """The document exactly as saved (``Document.from_dict`` of its record), or None."""
        row = self._one(sql.GET_RECORD, (doc_id,))
        return None if row is None else Document.from_dict(json.loads(row[0]))

    def _text_filter(self, query: Compiled) -> list[tuple[str, list[Any]]]:
        """WHERE fragments, each with its parameters, selecting what ``query`` finds."""
        raise NotImplementedError

    def _query_filter(self, text: str, language: str | None) -> list[tuple[str, list[Any]]]:
        """WHERE fragments for the search query ``text`` (see :mod:`.query`).

        Its words are stemmed for the documents searched: those of the language filter,
        else of every language stored (one quick read of the language index).
        """
        query = parse_query(text)
        if not query:
            return []  # nothing searchable in it: no filter, like a blank query
        if language is None:
            languages = stemmed_languages(row[0] for row in self._rows(sql.LANGUAGES))
        else:
            languages = stemmed_languages([language])
        return self._text_filter(compile_query(query, languages))

    def _where(self, filters: Filters | None) -> tuple[str, list[Any]]:
        """The WHERE clause (or "") and its parameters selecting ``filters``' documents ``d``.

        The one place filters become SQL: every read below goes through it.
        """
        f = Filters() if filters is None else filters
        if not isinstance(f, Filters):
            raise TypeError(f"filters must be a narrascope.store.Filters, got {f!r}")
        where: list[str] = []
        params: list[Any] = []
        if f.query and f.query.strip():
            for fragment, values in self._query_filter(f.query, f.language):
                where.append(fragment)
                params += values
        if f.narrative is not None:
            where.append(sql.WHERE_NARRATIVE)
            params += [f.narrative, 0.0 if f.min_score is None else score_floor(f.min_score)]
        elif f.min_score is not None:
            where.append(sql.WHERE_ANY_SCORE)
            params.append(score_floor(f.min_score))
        if f.hate is not None:
            where.append(sql.WHERE_HATE[f.hate])  # a constant fragment per value
        if f.debunk == ANY_DEBUNK:
            where.append(sql.WHERE_ANY_DEBUNK)
        elif f.debunk is not None:
            where.append(sql.WHERE_DEBUNK)
            params.append(f.debunk)
        for fragment, value in (
            (sql.WHERE_LANGUAGE, f.language),
            # stored stripped (document_source): " blog " finds blog, a blank none
            (sql.WHERE_SOURCE, None if f.source is None else f.source.strip()),
            (sql.WHERE_DATE_FROM, f.date_from),
            (sql.WHERE_DATE_TO, f.date_to),
        ):
            if value is not None:
                where.append(fragment)
                params.append(value)
        return (" WHERE " + " AND ".join(where) if where else ""), params

    def search(
        self, filters: Filters | None = None, *, limit: int = 50, offset: int = 0
    ) -> list[SearchHit]:
        """Documents matching every filter given, newest first, with their narratives.

        See :class:`Filters` for what each filter means. ``limit`` and ``offset`` are
        whole numbers from 0 (a FilterError otherwise: SQLite reads a negative limit as
        none at all); one past a 64-bit integer is clamped (an offset that far: no page).
        """
        limit, offset = _page_number("limit", limit), _page_number("offset", offset)
        where, params = self._where(filters)
        statement = sql.SEARCH_SELECT + where + sql.NEWEST_FIRST + sql.PAGE
        return [
            SearchHit(
                id=row[0],
                language=row[1],
                source=row[2],
                url=row[3],
                date=row[4],
                narratives=[
                    (label, shown_score(score))
                    for label, score in self._rows(sql.TOP_NARRATIVES, (row[0],))
                ],
            )
            for row in self._rows(statement, [*params, limit, offset])
        ]

    def search_count(self, filters: Filters | None = None) -> int:
        """How many documents ``search`` with these filters finds in all (for pagination)."""
        where, params = self._where(filters)
        row = self._one(sql.SEARCH_COUNT + where, params)
        return int(row[0]) if row else 0

    def _ids_param(self, ids: list[str]) -> Any:
        """A batch of ids as the one parameter of ``GET_RECORDS``."""
        return json.dumps(ids)

    def iter_documents(
        self, filters: Filters | None = None, *, batch_size: int = 500
    ) -> Iterator[Document]:
        """Every full Document ``search`` would find, newest first, ``batch_size`` at a time.

        Why ids first: the matching ids (small) are read in one query, a snapshot, then
        the records (large) a batch at a time, so an export of any size stays in bounded
        memory and sees each document once even if the corpus changes meanwhile (a
        document deleted meanwhile is left out).
        """
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        where, params = self._where(filters)
        ids = [row[0] for row in self._rows(sql.SEARCH_IDS + where + sql.NEWEST_FIRST, params)]
        for start in range(0, len(ids), batch_size):
            batch = ids[start : start + batch_size]
            records = dict(self._rows(self.GET_RECORDS, (self._ids_param(batch),)))
            for doc_id in batch:
                if doc_id in records:
                    yield Document.from_dict(json.loads(records[doc_id]))

    def facets(self) -> dict[str, list[tuple[str, int]]]:
        """Distinct languages, sources, narratives and sub-narratives, with document counts.

        For filter drop-downs, most frequent first (ties by value); documents without a
        language or source are not counted there.
        """
        return {
            key: [(value, int(n)) for value, n in self._rows(sql.FACETS[key])] for key in FACETS
        }

    def _stats_where(self, filters: Filters | None) -> tuple[str, list[Any]]:
        """The conditions (never empty) and parameters of the narrative rows stats counts.

        ``narrative`` and ``min_score`` select the counted label rows here, not documents.
        """
        f = Filters() if filters is None else filters
        where, params = self._where(replace(f, narrative=None, min_score=None))
        counted = [sql.STATS_LEVEL if f.narrative is None else sql.STATS_LABEL]
        label_params: list[Any] = [] if f.narrative is None else [f.narrative]
        if f.min_score is not None:
            counted.append(sql.STATS_SCORE)
            label_params.append(score_floor(f.min_score))
        conditions = " AND ".join([*counted, *([where.removeprefix(" WHERE ")] if where else [])])
        return conditions, [*label_params, *params]

    @overload
    def stats(
        self,
        by: StatsBy = "month",
        filters: Filters | None = None,
        *,
        hate: Literal[False] = False,
    ) -> list[StatsRow]: ...

    @overload
    def stats(
        self, by: StatsBy = "month", filters: Filters | None = None, *, hate: Literal[True]
    ) -> list[HateStatsRow]: ...

    def stats(
        self, by: StatsBy = "month", filters: Filters | None = None, *, hate: bool = False
    ) -> list[StatsRow] | list[HateStatsRow]:
        """Documents per bucket and narrative among those the filters select.

        The filters mean what they mean in ``search``; ``narrative`` (a narrative or
        sub-narrative label) counts that label only, else every coarse narrative is
        counted, and ``min_score`` applies to the counted label. So the ``day`` rows of
        one narrative add up to ``search_count`` with the same filters. Documents without
        a date (or source, language) have the bucket None.

        With ``hate``: one :class:`HateStatsRow` per bucket instead, counting the selected
        documents and their comments, and those flagged hateful, offensive or incitement
        (every filter, ``narrative`` and ``min_score`` too, selects documents as in
        ``search``).
        """
        if by not in STATS_BY:
            raise ValueError(f"by must be one of {', '.join(STATS_BY)}, got {by!r}")
        if hate:
            return self._hate_stats(by, filters)
        conditions, params = self._stats_where(filters)
        # constant fragments only, no value: the bucket expression and the filters
        statement = sql.STATS.format(bucket=sql.BUCKETS[by], where=conditions)
        return [
            StatsRow(bucket, label, int(n)) for bucket, label, n in self._rows(statement, params)
        ]

    def _hate_stats(self, by: StatsBy, filters: Filters | None) -> list[HateStatsRow]:
        where, params = self._where(filters)
        # constant fragments only: the bucket expression and the filters
        statement = sql.HATE_STATS.format(bucket=sql.BUCKETS[by], where=where)
        return [
            HateStatsRow(row[0], *(int(n or 0) for n in row[1:]))
            for row in self._rows(statement, params)
        ]

    def debunk_stats(
        self, by: StatsBy = "month", filters: Filters | None = None
    ) -> list[DebunkStatsRow]:
        """Per bucket, the documents the filters select and those among them that repeat
        any known debunk (every filter selects documents as in ``search``)."""
        if by not in STATS_BY:
            raise ValueError(f"by must be one of {', '.join(STATS_BY)}, got {by!r}")
        where, params = self._where(filters)
        # constant fragments only: the bucket expression and the filters
        statement = sql.DEBUNK_STATS.format(bucket=sql.BUCKETS[by], where=where)
        return [
            DebunkStatsRow(bucket, int(n or 0), int(k or 0))
            for bucket, n, k in self._rows(statement, params)
        ]

    def debunk_summary(self) -> list[DebunkSummary]:
        """Every known debunk the stored documents repeat, with its claim, verdict and url
        (as matched), most repeated first: the dashboard's list and the filter's choices."""
        return [
            DebunkSummary(str(i), claim, verdict, url, int(n), int(k or 0))
            for i, claim, verdict, url, n, k in self._rows(sql.DEBUNK_SUMMARY)
        ]

    def debunked_in_comments(self) -> int:
        """How many stored documents repeat a known debunk in a reader comment: the
        dashboard says so beside its count of documents repeating known debunks."""
        row = self._one(sql.DEBUNKED_IN_COMMENTS)
        return int(row[0]) if row else 0

    def stats_undated(self, filters: Filters | None = None) -> int:
        """How many documents ``stats`` counts (same filters) that have no date.

        Why: their rows have the bucket None, one per label, so a chart over time leaves
        them out and summing those rows counts a document once per narrative; this counts
        each document once, so the chart can say how much of the selection it is missing.
        A date filter selects dated documents only, so with one this is 0.
        """
        conditions, params = self._stats_where(filters)
        row = self._one(sql.STATS_UNDATED.format(where=conditions), params)
        return int(row[0]) if row else 0

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> SQLStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
