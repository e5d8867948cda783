"""Benchmark: what reading every reader comment for claims and known debunks costs (issue 25).

The page is bench_threads.py's (the bundled example article and N comments written for
that script, every sentence distinct), with every 20th comment replaced by a restatement
of a synthetic debunk in other words (bench_debunks.py's made-up claims, nothing from any
dataset). The claim stage, and with a database the debunk stage after it, run on the page
split into the article and its comments and on the article alone (what they read before
comments were read), models loaded once, best of R; the difference divided by N is what
a comment costs. The hate stage runs before them, as in ``analyze``, and its cost per
comment is printed too, for scale. The database holds ``--debunks`` synthetic debunks,
the planted ones among them, imported as ``narrascope debunks add`` imports them
(``--debunks 0``: the claim stage alone, as ``analyze`` without a debunk database).
Prints how many comment units there were and how many comments list a claim, how many
planted restatements were found and how many other comments were shown a match, and the
peak memory; the run is written into docs/benchmarks.md as printed.

Usage: python benchmarks/bench_comment_claims.py [--comments 200] [--debunks 10000]
[--repeat 3] [--seed 3] [--no-write]
"""

from __future__ import annotations

import argparse
import random
import resource
import sys
import tempfile
import time
from itertools import pairwise
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_debunks import build, paraphrase  # noqa: E402
from bench_narratives import PrintedRun  # noqa: E402
from bench_threads import comment  # noqa: E402
from bench_threads import page as thread_page  # noqa: E402

MARK = "comment-claims-cost"
PLANT_EVERY = 20  # every 20th comment restates a debunk of the database


def page(n: int, planted: list[str]) -> str:
    """bench_threads.py's page of ``n`` comments, every ``PLANT_EVERY``-th one of them a
    restatement of one of ``planted`` (in turn)."""

    def body(i: int) -> str:
        if planted and i % PLANT_EVERY == 0:
            return planted[(i // PLANT_EVERY) % len(planted)]
        return comment(i)

    return thread_page(n, body)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--comments", type=int, default=200, help="comments on the page")
    parser.add_argument(
        "--debunks", type=int, default=10_000, help="synthetic debunks (0: no database)"
    )
    parser.add_argument("--repeat", type=int, default=3, help="best of R runs")
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args(argv)
    with PrintedRun("bench_comment_claims.py", argv) as run:
        measure(args)
    if not args.no_write:
        run.write(MARK)
    return 0


def stage_times(pipeline: Any, doc: Any) -> tuple[dict[str, tuple[float, float]], Any]:
    """(wall, CPU) seconds each stage of ``pipeline`` took on a fresh copy of ``doc``
    (CPU: this process's, every thread's: what a busy machine takes less from than from
    the wall time), and the copy."""
    from narrascope.doc import CommentRecord, Document

    copy = Document(text=doc.text, id=doc.id, meta=dict(doc.meta))
    copy.article = doc.article
    copy.comments = [
        CommentRecord(c.id, c.parent, c.author, c.start, c.end, c.depth, c.date)
        for c in doc.comments
    ]
    marks: list[tuple[str, float, float]] = []

    def mark(name: str, *_: int) -> None:
        marks.append((name, time.perf_counter(), time.process_time()))

    pipeline(copy, progress=mark)
    mark("")
    return {a[0]: (b[1] - a[1], b[2] - a[2]) for a, b in pairwise(marks)}, copy


def best(pipeline: Any, doc: Any, repeat: int) -> tuple[dict[str, tuple[float, float]], Any]:
    """Each stage's best wall and CPU times over ``repeat`` runs, and the last run's
    document."""
    runs = [stage_times(pipeline, doc) for _ in range(repeat)]
    out = {
        name: (min(r[name][0] for r, _ in runs), min(r[name][1] for r, _ in runs))
        for name in runs[0][0]
    }
    return out, runs[-1][1]


def measure(args: argparse.Namespace) -> None:
    import narrascope
    from narrascope.doc import Document
    from narrascope.ingest.debunks import read_debunks
    from narrascope.models.encoder import SentenceEncoder
    from narrascope.store.debunks import Debunk, DebunkStore

    rng = random.Random(args.seed)
    stages = ["language", "segment", "hate", "claims"]
    config: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        planted: list[tuple[str, str]] = []  # (debunk id, restatement)
        if args.debunks:
            src, db = Path(tmp) / "debunks.jsonl", Path(tmp) / "corpus.db"
            claims, _ = build(src, args.debunks, rng)
            picks = rng.sample(range(args.debunks), min(10, args.debunks))
            planted = [(f"syn-{i}", paraphrase(claims[i], rng)) for i in picks]
            started = time.perf_counter()
            with DebunkStore(db) as store:
                store.add(
                    (d for d in read_debunks(src) if isinstance(d, Debunk)),
                    encode=SentenceEncoder.shared().encode,
                )
            print(
                f"database: {args.debunks} debunks imported in "
                f"{time.perf_counter() - started:.1f} s"
            )
            stages.append("debunks")
            config["debunks"] = {"db": db}
        nlp = narrascope.load(stages=stages, config=config)
        text = page(args.comments, [said for _, said in planted])
        split = nlp.make_doc(text)
        assert len(split.comments) == args.comments, "the page must be read as a thread"
        start, end = split.article
        alone = Document(text=text[start:end], id="article")
        best(nlp, split, 1)  # warm up both
        best(nlp, alone, 1)
        t_alone, _ = best(nlp, alone, args.repeat)
        t_split, doc = best(nlp, split, args.repeat)
        n = args.comments
        restating = len(range(0, n, PLANT_EVERY)) if planted else 0
        print(f"page: {len(text):,} characters, {n} comments ({restating} restating a debunk)")
        for stage in stages[2:]:  # hate for scale, then what issue 25 adds
            (alone_s, alone_cpu), (split_s, split_cpu) = t_alone[stage], t_split[stage]
            print(
                f"{stage} stage: article alone {1000 * alone_s:.0f} ms, article + comments "
                f"{1000 * split_s:.0f} ms: {1000 * (split_s - alone_s) / n:.1f} ms per "
                f"comment (CPU {1000 * (split_cpu - alone_cpu) / n:.1f} ms)"
            )
        wall = sum(t_split[s][0] - t_alone[s][0] for s in stages[3:])
        cpu = sum(t_split[s][1] - t_alone[s][1] for s in stages[3:])
        print(
            f"the comments' claims and debunks: {1000 * wall / n:.1f} ms per comment "
            f"(CPU {1000 * cpu / n:.1f} ms)"
        )
        claim_stage = nlp.get_stage("claims")
        units = sum(len(claim_stage.comment_units(doc, c)) for c in doc.comments)
        listing = sum(bool(c.annotations.get("claims")) for c in doc.comments)
        print(
            f"comment units: {units} ({units / n:.2f} a comment); comments listing a "
            f"claim: {listing}"
        )
        if planted:
            wanted = {}
            for i, c in enumerate(doc.comments):
                if i % PLANT_EVERY == 0:
                    wanted[c.id] = planted[(i // PLANT_EVERY) % len(planted)][0]
            found = sum(
                wanted[c.id] in {d["id"] for d in c.annotations.get("debunks") or []}
                for c in doc.comments
                if c.id in wanted
            )
            wrong = sum(
                bool(c.annotations.get("debunks")) for c in doc.comments if c.id not in wanted
            )
            print(
                f"planted restatements found: {found}/{len(wanted)}; other comments shown a "
                f"match: {wrong}/{n - len(wanted)}"
            )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory (max RSS): {peak:.0f} MB")


if __name__ == "__main__":
    raise SystemExit(main())
