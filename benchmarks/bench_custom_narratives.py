"""Benchmark: adding a custom narrative and reporting it in ``analyze`` (issue 26 item 3).

A corpus database of generated documents (``bench_debunks.filler`` sentences: nothing
from a dataset) is the negatives' source; the examples are the test suite's own texts
(``tests/test_custom_narratives.STORKS``). Timed: ``add`` the first time (the corpus's
vectors made) and again (kept), then the stage over documents that carry the narrative
stage's paragraph vectors, with 1 and 10 custom narratives. The printed lines are written
into docs/benchmarks.md ("Custom narratives") as printed.

Usage: python benchmarks/bench_custom_narratives.py [--corpus 300] [--docs 200] [--no-write]
"""

from __future__ import annotations

import argparse
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT / "tests"))

from bench_narratives import PrintedRun  # noqa: E402

MARK = "custom-narratives"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--corpus", type=int, default=300, help="generated documents in the corpus database"
    )
    parser.add_argument("--docs", type=int, default=200, help="documents the stage reads")
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args(argv)
    with PrintedRun("bench_custom_narratives.py", argv) as run:
        measure(args.corpus, args.docs)
    if not args.no_write:
        run.write(MARK)
    return 0


def measure(n_corpus: int, n_docs: int) -> None:
    from bench_debunks import filler

    from narrascope.doc import Document
    from narrascope.models.custom_narratives import add_custom_narrative
    from narrascope.models.encoder import SentenceEncoder, encode_paragraphs
    from narrascope.stages.custom_narratives import CustomNarrativeStage
    from narrascope.store import open_store
    from narrascope.text.segment import segment
    from test_custom_narratives import MATCHING, STORKS

    rng = random.Random(7)

    def article(i: int) -> Document:
        text = "\n\n".join(filler(rng) for _ in range(rng.randint(4, 10)))
        return Document(text=text, id=f"doc-{i}", language="en")

    encoder = SentenceEncoder.shared()
    encoder.warm_up()
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "corpus.db"
        with open_store(db) as store:
            store.save(article(i) for i in range(n_corpus))
        for attempt in ("first time (corpus vectors made)", "again (vectors kept)"):
            started = time.perf_counter()
            result = add_custom_narrative(db, "Storks spy for the enemy", list(STORKS))
            print(f"add, {attempt}: {time.perf_counter() - started:.2f} s ({result.cv})")
        docs = [article(i) for i in range(n_docs - 1)] + [Document(MATCHING, id="m")]
        for doc in docs:
            segment(doc)
        encode_paragraphs(encoder, docs)  # what the narrative stage leaves
        for count in (1, 10):
            for n in range(1, count):
                add_custom_narrative(db, f"Storks, variant {n}", list(STORKS))
            stage = CustomNarrativeStage(db, encoder=encoder)
            stage(docs[:2])
            started = time.perf_counter()
            for start in range(0, len(docs), 16):
                stage(docs[start : start + 16])
            per_doc = (time.perf_counter() - started) * 1000 / len(docs)
            found = sum(any(a.label.startswith("Custom: ") for a in d.narratives) for d in docs)
            print(
                f"stage, {len(stage.narratives)} custom narrative(s): {per_doc:.2f} ms a "
                f"document ({found} of {len(docs)} documents given one)"
            )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {peak:.0f} MB")


if __name__ == "__main__":
    raise SystemExit(main())
