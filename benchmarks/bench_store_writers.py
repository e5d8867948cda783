"""Saving analysed documents with many writers at once (issue 27: Ray workers storing
their own batches in one corpus database).

For each writer count, in separate processes (spawned, each with its own connection):

* **new**: the writers save disjoint documents (writer k: documents k, k+W, ...), a
  batch of ``--batch`` in each transaction;
* **again**: the same documents once more, unchanged (a rerun: skipped after one read);
* **overlap**: every writer saves its own newer analysis of every document, half of
  them in reverse order (jobs racing on one corpus): no batch may fail, and each
  document's rows must be there exactly once.

Prints documents/s, the failed batches, the row counts and each writer's peak RSS, and
writes them as printed into docs/benchmarks.md (a block for SQLite, one for PostgreSQL;
``--no-write``: print only).

    .venv/bin/python benchmarks/bench_store_writers.py                      # SQLite
    .venv/bin/python benchmarks/bench_store_writers.py --db postgresql://…  # a server

With ``--db`` PostgreSQL, each writer count runs in a fresh schema, dropped afterwards.
The documents are generated here (no dataset text), annotated as the pipeline would.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import quote

from narrascope.doc import Annotation, Document, Entity, Technique
from narrascope.store import open_store

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_narratives import PrintedRun, own_peak_mb

MARK_SQLITE = "store-writers-sqlite"
MARK_POSTGRESQL = "store-writers-postgresql"

TEXTS = [
    ("Kyiv is a puppet of the West. NATO provoked this war and nobody else did.", "en"),
    ("НАТО спровоцировало эту войну. Киев лишь марионетка Запада, пишут они.", "ru"),
    ("A OTAN provocou esta guerra. A Ucrânia é um fantoche do Ocidente, diz o texto.", "pt"),
]
TABLES = ("documents", "narratives", "evidence", "entities", "techniques")


def make_docs(n: int, version: int = 0) -> list[Document]:
    """``n`` documents carrying narratives with evidence, an entity and a technique; a
    different ``version`` gives the same documents with other scores (a newer analysis)."""
    docs = []
    for i in range(n):
        text, language = TEXTS[i % len(TEXTS)]
        text = f"{text} Item {i}."
        meta = {"source": f"src{i % 7}", "date": f"2024-03-{1 + i % 28:02d}"}
        doc = Document(text=text, id=f"doc{i:06d}", language=language, meta=meta)
        cut = text.index(".") + 1
        first, second = doc.span(0, cut), doc.span(cut + 1, len(text))
        doc.sentences = [first, second]
        doc.groups["narratives"] = [
            Annotation("URW: Discrediting Ukraine", 0.9 - version / 100, [first], [0.8]),
            Annotation(
                "URW: Blaming the war on others rather than the invader", 0.4, [second], [0.3]
            ),
        ]
        word = text.split()[0]
        doc.entities = [
            Entity(word, [doc.span(0, len(word))], "Antagonist", 0.6, [], [first], [0.5], "ORG")
        ]
        doc.techniques = [Technique("Loaded_Language", first, 0.45, 1, "manipulative_wording")]
        docs.append(doc)
    return docs


def writer(url: str, k: int, w: int, n: int, batch: int, mode: str, start: Any, out: Any) -> None:
    if mode == "overlap":  # every writer, its own newer analysis of every document
        docs = make_docs(n, version=k + 1)
        docs = docs[::-1] if k % 2 else docs
    else:
        docs = make_docs(n)[k::w]
    failures: list[str] = []
    with open_store(url) as store:
        start.wait()
        for i in range(0, len(docs), batch):
            try:
                store.save(docs[i : i + batch])
            except Exception as exc:  # counted and shown: no batch should fail
                failures.append(f"{type(exc).__name__}: {str(exc).splitlines()[0]}")
    out.put((failures, own_peak_mb()))  # not ru_maxrss: it starts at the parent's size


def run(url: str, w: int, n: int, batch: int, mode: str) -> tuple[float, list[str], float]:
    ctx = mp.get_context("spawn")
    start, out = ctx.Barrier(w + 1), ctx.Queue()
    procs = [
        ctx.Process(target=writer, args=(url, k, w, n, batch, mode, start, out)) for k in range(w)
    ]
    for p in procs:
        p.start()
    start.wait()
    began = time.perf_counter()
    results = [out.get() for _ in procs]
    wall = time.perf_counter() - began
    for p in procs:
        p.join()
    failures = [f for found, _ in results for f in found]
    return wall, failures, max(peak for _, peak in results)


def counts(url: str) -> list[int]:
    with open_store(url) as store:
        return [store._one(f"SELECT COUNT(*) FROM {table}")[0] for table in TABLES]  # type: ignore[attr-defined]


def databases(db: str | None, folder: Path) -> Any:
    """A fresh database URL per writer count: a SQLite file, or a PostgreSQL schema."""
    if db is None or not db.startswith("postgres"):
        while True:
            yield str(folder / f"corpus-{uuid.uuid4().hex[:8]}.sqlite")
    import psycopg

    admin = psycopg.connect(db, autocommit=True)
    joiner = "&" if "?" in db else "?"
    while True:
        schema = "bench_" + uuid.uuid4().hex[:10]
        admin.execute(f'CREATE SCHEMA "{schema}"')
        try:
            yield db + joiner + "options=" + quote(f"-csearch_path={schema}")
        finally:
            admin.execute(f'DROP SCHEMA "{schema}" CASCADE')


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", help="a PostgreSQL URL (default: a SQLite file per run)")
    parser.add_argument("--writers", type=int, nargs="+", default=[1, 4], help="writer counts")
    parser.add_argument("--docs", type=int, default=2000, help="documents each run saves")
    parser.add_argument("--batch", type=int, default=16, help="documents a transaction")
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()
    with PrintedRun("bench_store_writers.py") as run:
        ok = measure(args)
    if ok and not args.no_write:
        postgres = args.db is not None and args.db.startswith("postgres")
        run.write(MARK_POSTGRESQL if postgres else MARK_SQLITE)
    return 0 if ok else 1


def measure(args: argparse.Namespace) -> bool:
    """Every writer count in turn; False when a batch failed or a row count is wrong."""
    n, ok = args.docs, True
    with tempfile.TemporaryDirectory() as tmp:
        urls = databases(args.db, Path(tmp))
        for w in args.writers:
            url = next(urls)
            open_store(url).close()  # the schema made once, outside the timing
            line = [f"{w} writer(s), {n} documents, batches of {args.batch}:"]
            peak = 0.0
            for mode in ("new", "again", "overlap"):
                wall, failures, top = run(url, w, n, args.batch, mode)
                peak = max(peak, top)
                line.append(f"{mode} {n / wall:,.0f} docs/s ({wall:.2f} s, {len(failures)} failed)")
                if failures:
                    ok = False
                    line.append(f"  e.g. {failures[0]}")
            rows = counts(url)
            expected = [n, 2 * n, 2 * n, n, n]  # narratives, their evidence, an entity, a technique
            ok &= rows == expected
            line.append(f"rows {dict(zip(TABLES, rows, strict=True))} (expected {expected})")
            line.append(f"peak RSS per writer {peak:.0f} MB")
            print("\n  ".join(line), flush=True)
        urls.close()  # drops the last PostgreSQL schema
    return ok


if __name__ == "__main__":
    sys.exit(main())
