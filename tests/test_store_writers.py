"""Many writers on one corpus database (issue 27): Ray workers each save their own batches.

Several stores, each on its own connection, save overlapping batches in opposite orders at
once; none may fail (no deadlock, no unique violation reaching the caller) and the end
state is one documents row per id with exactly that document's result rows. Saving a
document already stored with the same content hash and record writes nothing; a batch is a
handful of statements, not a dozen per document; a transaction aborted by contention is
retried.

Runs on SQLite and, when ``NARRASCOPE_TEST_POSTGRES_URL`` names a reachable server, on
PostgreSQL too (each test in a fresh schema, dropped afterwards).
"""

from __future__ import annotations

import logging
import multiprocessing
import random
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from narrascope.doc import Annotation, Document
from narrascope.store import DocumentsNotSaved, open_store
from narrascope.store.common import WRITE_ATTEMPTS, SQLStore
from pgtest import postgres_schema_url
from test_store import (  # the storage suite's documents
    EN,
    PT,
    RU,
    UK,
    analysed,
    rows,
)

TEXTS = [(EN, "en"), (RU, "ru"), (UK, "uk"), (PT, "pt")]
RESULT_TABLES = ("narratives", "evidence", "entities", "techniques")


def document(n: int, version: int = 0) -> Document:
    """Document ``n`` as analysis ``version`` saw it: a later version has other results
    (one more narrative per version), so a mix of two versions' rows would be counted."""
    text, language = TEXTS[n % len(TEXTS)]
    doc = analysed(f"{text} Item {n}.", f"doc{n:03d}", language, source=f"channel{n % 3}")
    for k in range(version):
        doc.groups["narratives"].append(
            Annotation(f"Other narrative {k}", 0.3, [doc.sentences[0]], [0.2])
        )
    return doc


def expected_rows(doc: Document) -> dict[str, int]:
    """How many rows of each result table this document has when stored alone."""
    groups = [*doc.narratives, *doc.subnarratives]
    return {
        "narratives": len(groups),
        "evidence": sum(len(a.evidence) for a in groups),
        "entities": len(doc.entities),
        "techniques": len(doc.techniques),
    }


def assert_one_copy_each(store: SQLStore, ids: list[str]) -> None:
    """One documents row per id and exactly its stored record's result rows."""
    assert store.count() == len(ids)
    totals = dict.fromkeys(RESULT_TABLES, 0)
    for doc_id in ids:
        stored = store.get_document(doc_id)
        assert stored is not None, doc_id
        for table, n in expected_rows(stored).items():
            assert rows(store, table, doc_id) == n, (doc_id, table)
            totals[table] += n
    for table in RESULT_TABLES:
        assert rows(store, table) == totals[table], table


# --- many writers at once --------------------------------------------------------------


def run_writers(target: str, plans: list[list[list[Document]]]) -> list[BaseException]:
    """Each plan (batches) saved by its own store on its own thread, started together."""
    start = threading.Barrier(len(plans))
    errors: list[BaseException] = []

    def write(batches: list[list[Document]]) -> None:
        try:
            with open_store(target) as mine:
                start.wait()
                for batch in batches:
                    mine.save(batch)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(plan,)) for plan in plans]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a writer hung"
    return errors


def test_writers_in_opposite_orders_never_fail_and_leave_one_copy_of_each(target: str) -> None:
    open_store(target).close()  # migrated once, as a job's driver would
    ids = list(range(48))
    shuffled = random.Random(27).sample(ids, len(ids))

    def plan(order: list[int], version: int, rounds: int = 3) -> list[list[Document]]:
        docs = [document(n, version) for n in order]
        return [docs[i : i + 16] for _ in range(rounds) for i in range(0, len(docs), 16)]

    plans = [
        plan(ids, 0),  # a rerun of the job: the same ids, ascending
        plan(ids[::-1], 0),  # the same documents, descending (batches reversed inside too)
        plan(ids, 1),  # a newer analysis of the same ids (other results)
        plan(shuffled, 2),  # another job sharing the corpus, in its own order
    ]
    errors = run_writers(target, plans)
    assert errors == []
    with open_store(target) as store:
        assert_one_copy_each(store, [f"doc{n:03d}" for n in ids])  # type: ignore[arg-type]


def write_in_process(target: str, order: list[int], version: int, start: Any, out: Any) -> None:
    """One writer process (a Ray worker): its own store, 16 documents a batch, 3 rounds."""
    try:
        docs = [document(n, version) for n in order]
        with open_store(target) as mine:
            start.wait()
            for _ in range(3):
                for i in range(0, len(docs), 16):
                    mine.save(docs[i : i + 16])
        out.put("")
    except BaseException as exc:
        out.put(f"{type(exc).__name__}: {exc}")


def test_writer_processes_in_opposite_orders_never_fail(target: str) -> None:
    """As above with 4 processes (spawned, as Ray starts its workers)."""
    open_store(target).close()
    ids = list(range(48))
    context = multiprocessing.get_context("spawn")
    start, out = context.Barrier(4), context.Queue()
    orders = [(ids, 0), (ids[::-1], 0), (ids, 1), (random.Random(5).sample(ids, 48), 2)]
    workers = [
        context.Process(target=write_in_process, args=(target, order, version, start, out))
        for order, version in orders
    ]
    for worker in workers:
        worker.start()
    try:
        assert [out.get(timeout=120) for _ in workers] == [""] * 4
    finally:
        for worker in workers:
            worker.join(timeout=30)
    with open_store(target) as store:
        assert_one_copy_each(store, [f"doc{n:03d}" for n in ids])  # type: ignore[arg-type]


# --- idempotent on id + content hash + record ------------------------------------------


def analysed_at(store: SQLStore, doc_id: str) -> str:
    return store._one("SELECT analysed_at FROM documents WHERE id = ?", (doc_id,))[0]


def test_saving_the_same_documents_again_writes_nothing(store: SQLStore, monkeypatch) -> None:
    docs = [document(n) for n in range(5)]
    assert store.save(docs) == 5
    store._exec("UPDATE documents SET analysed_at = 'marker'")
    written: list[str] = []
    original = type(store)._save_one

    def spy(self: SQLStore, doc: Document, now: str) -> None:
        written.append(doc.id)
        original(self, doc, now)

    monkeypatch.setattr(type(store), "_save_one", spy)
    assert store.save([document(n) for n in range(5)]) == 0  # equal copies: a no-op
    assert written == []
    # a newer analysis (same text, other results) and a new text replace; doc004 as is
    newer, edited = document(1, version=1), document(2)
    edited.text += " Edited."
    assert store.save([document(0), newer, edited, document(4)]) == 2
    assert sorted(written) == ["doc001", "doc002"]
    assert [analysed_at(store, f"doc{n:03d}") for n in (0, 3, 4)] == ["marker"] * 3
    assert analysed_at(store, "doc001") != "marker" != analysed_at(store, "doc002")
    assert store.get_document("doc001") == newer and store.get_document("doc002") == edited
    assert_one_copy_each(store, [f"doc{n:03d}" for n in range(5)])


def test_a_repeated_id_in_one_batch_stores_its_last_copy(store: SQLStore) -> None:
    store.save([document(7)])
    last = document(7, version=2)
    assert store.save([document(7, version=1), document(8), last]) == 2
    assert store.get_document("doc007") == last
    assert_one_copy_each(store, ["doc007", "doc008"])


# --- batched ---------------------------------------------------------------------------


class CountingConnection:
    """The store's connection, counting what goes to the database (statements and
    executemany calls: each is one round trip, or one pipeline)."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn
        self.calls = 0

    def execute(self, *args: Any) -> Any:
        self.calls += 1
        return self.conn.execute(*args)

    def cursor(self) -> Any:
        counter = self
        cursor = self.conn.cursor()

        class Counted:
            def executemany(self, *args: Any) -> Any:
                counter.calls += 1
                return cursor.executemany(*args)

        return Counted()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.conn, name)


def test_a_batch_of_16_is_a_handful_of_statements(store: SQLStore) -> None:
    counting = CountingConnection(store._conn)
    store._conn = counting
    try:
        assert store.save([document(n) for n in range(16)]) == 16
        fresh = counting.calls
        counting.calls = 0
        assert store.save([document(n, version=1) for n in range(16)]) == 16
        replaced = counting.calls
        counting.calls = 0
        assert store.save([document(n, version=1) for n in range(16)]) == 0
        unchanged = counting.calls
    finally:
        store._conn = counting.conn
    # one statement per kind for the whole batch (not 16 documents x 15 statements), plus
    # begin, the batch's one read of what is stored, a savepoint and commit
    assert fresh <= 25 and replaced <= 25, (fresh, replaced)
    assert unchanged <= 3, unchanged  # begin, the read, commit
    assert_one_copy_each(store, [f"doc{n:03d}" for n in range(16)])


# --- retries ---------------------------------------------------------------------------


def contention(store: SQLStore) -> BaseException:
    """What this backend raises when other writers abort a transaction."""
    if isinstance(store._conn, sqlite3.Connection):
        return sqlite3.OperationalError("database is locked")
    import psycopg

    return psycopg.errors.DeadlockDetected("deadlock detected")


def test_a_batch_aborted_by_contention_is_retried_whole(store: SQLStore, monkeypatch) -> None:
    store.save([document(1)])
    original = type(store)._save_one
    calls: list[str] = []

    def deadlocked_once(self: SQLStore, doc: Document, now: str) -> None:
        calls.append(doc.id)
        if len(calls) == 2:  # the second document of the first try
            raise contention(self)
        original(self, doc, now)

    monkeypatch.setattr(type(store), "_save_one", deadlocked_once)
    monkeypatch.setattr("narrascope.store.common.RETRY_PAUSE", 0.001)
    batch = [document(1, version=1), document(2), document(3)]
    assert store.save(batch) == 3
    assert calls == ["doc001", "doc002", "doc001", "doc002", "doc003"]
    assert_one_copy_each(store, ["doc001", "doc002", "doc003"])
    assert store.get_document("doc001") == batch[0]


def test_contention_that_never_ends_reaches_the_caller(store: SQLStore, monkeypatch) -> None:
    store.save([document(1)])
    tries: list[int] = []

    def always(self: SQLStore, doc: Document, now: str) -> None:
        tries.append(1)
        raise contention(self)

    monkeypatch.setattr(type(store), "_save_one", always)
    monkeypatch.setattr("narrascope.store.common.RETRY_PAUSE", 0.001)
    with pytest.raises(Exception) as caught:
        store.save([document(1, version=1)])
    error = caught.value
    assert isinstance(error.__cause__ or error, type(contention(store)))
    assert len(tries) == WRITE_ATTEMPTS
    monkeypatch.undo()
    assert store.get_document("doc001") == document(1)  # nothing of the batch stayed
    assert store.save([document(2)]) == 1  # and the connection is still usable


class Unreadable(Document):
    __slots__ = ()

    def to_dict(self) -> dict[str, Any]:
        raise ValueError("this record cannot be made")


def test_a_document_the_database_refuses_costs_only_itself(store: SQLStore) -> None:
    """One refused when the batch's statements run, one whose record cannot be made: the
    batch is undone and written again a document at a time, so the others are stored and
    each refused one is named."""
    bad = document(5)
    bad.techniques[0].paragraph = 2**70  # no INTEGER column holds it, in either backend
    unreadable = document(3)
    unreadable.__class__ = Unreadable  # refused before any statement: its record fails
    batch = [document(4), bad, document(6), unreadable]
    with pytest.raises(DocumentsNotSaved) as caught:
        store.save(batch)
    failed = [i for i, _ in caught.value.failures]
    assert caught.value.saved == 2 and failed == ["doc005", "doc003"]  # in batch order
    for doc_id in failed:
        assert store.get_document(doc_id) is None and rows(store, "narratives", doc_id) == 0
    assert_one_copy_each(store, ["doc004", "doc006"])


def test_sqlite_locked_past_its_busy_timeout_is_retried(
    tmp_path: Path, monkeypatch, caplog
) -> None:
    monkeypatch.setattr("narrascope.store.sqlite.BUSY_TIMEOUT", 0.05)
    path = tmp_path / "corpus.db"
    caplog.set_level(logging.INFO, logger="narrascope.store.common")
    with open_store(path) as store:
        other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        other.execute("BEGIN IMMEDIATE")  # another process writing, for 0.2 s
        release = threading.Timer(0.2, other.execute, ("COMMIT",))
        release.start()
        try:
            assert store.save([document(1)]) == 1
        finally:
            release.join()
            other.close()
        assert "database is locked" in caplog.text
        assert f"try 2 of {WRITE_ATTEMPTS}" in caplog.text
        assert_one_copy_each(store, ["doc001"])  # type: ignore[arg-type]


@pytest.fixture
def postgres_target(postgres_admin: Any) -> Iterator[str]:
    """A fresh, empty PostgreSQL schema's URL (a skip without the server)."""
    yield from postgres_schema_url(postgres_admin)


def test_a_real_postgres_deadlock_is_retried(postgres_target: str, caplog) -> None:
    """Another program locks the ids in the other order: PostgreSQL aborts one side (the
    store, which waited longest), and the store runs its batch again."""
    import psycopg

    target = postgres_target

    caplog.set_level(logging.INFO, logger="narrascope.store.common")
    with open_store(target) as store, psycopg.connect(target, autocommit=True) as other:
        store.save([document(1), document(2)])
        other.execute("BEGIN")
        other.execute("UPDATE documents SET source = 'other' WHERE id = 'doc002'")
        newer = [document(1, version=1), document(2, version=1)]
        errors: list[BaseException] = []

        def save() -> None:
            try:
                store.save(newer)  # locks doc001, then waits for doc002
            except BaseException as exc:
                errors.append(exc)

        saver = threading.Thread(target=save)
        saver.start()
        waiting = "SELECT COUNT(*) FROM pg_locks WHERE NOT granted AND pid = %s"
        for _ in range(500):  # until the store waits for the lock on doc002
            if other.execute(waiting, (store._conn.info.backend_pid,)).fetchone()[0]:
                break
            time.sleep(0.01)
        time.sleep(0.3)  # so the store has waited longest: it is the one PostgreSQL aborts
        # doc001 now: a deadlock, which PostgreSQL breaks after deadlock_timeout (1 s)
        other.execute("UPDATE documents SET source = 'other' WHERE id = 'doc001'")
        other.execute("COMMIT")
        saver.join(timeout=60)
        assert errors == [] and "deadlock detected" in caplog.text
        assert [store.get_document(d.id) for d in newer] == newer
        assert_one_copy_each(store, ["doc001", "doc002"])  # type: ignore[arg-type]
