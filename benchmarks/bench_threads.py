"""Benchmark: what a reader thread costs (issue 24): a page of one article and N comments.

Analyses the same page twice in one process, models loaded once: as one text through
every stage but hate (the behaviour before threads), and split into the article and its
comments with the hate stage reading every comment. Prints both times, the extra cost
in percent (the issue's bar: at most 30% for 100 comments) and peak memory. The page is
built from ``examples/en_nato_provoked_the_war.txt`` and comments put together from
parts written for this script (every comment differs; a few insult, one in eleven names a group).
Both sides run the default stages (those ``analyze`` runs without a database) but the claim
stage; the run is written to docs/benchmarks.md as printed.

Usage: python benchmarks/bench_threads.py [--comments N] [--repeat R] [--no-write]
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path

import narrascope
from narrascope.doc import Document
from narrascope.pipeline.factory import OPTIONAL, STAGES

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_narratives import PrintedRun

ROOT = Path(__file__).resolve().parents[1]
MARK = "threads-cost"
# what analyze runs by default (no database: no debunks, no custom narratives), less the
# claim stage (issue 25): the ratio is the cost of threads and hate alone
WITH_HATE = [s for s in STAGES if s not in OPTIONAL and s != "claims"]
BEFORE_THREADS = [s for s in WITH_HATE if s != "hate"]
# Comments are put together from these parts, every sentence made distinct by the
# comment's number (so no sentence repeats and nothing is read once for many comments), as
# a real thread is mostly talk with some abuse in it: one body in eleven insults, one
# names a group.
OPENERS = (
    "I read the whole article twice on the {n}th floor of my office.",
    "Thanks for the link, I sent it to {n} friends.",
    "Interesting take after {n} days of silence, but I am not convinced.",
    "Same story every week, this is the {n}th time.",
    "Finally someone says it, {n} years too late.",
)
BODIES = (
    "The part about the talks in Istanbul on page {n} was new to me.",
    "Does anyone have the source for the {n} tanks in the third paragraph?",
    "My cousin lives {n} km from Kharkiv and says the situation is calmer than reported.",
    "The map of the {n} villages would have helped a lot, though.",
    "You are an idiot and so are the {n} people who voted for this government.",
    "This is exactly what they said {n} months ago, and nothing happened then either.",
    "The {n} refugees from Donetsk in our town say the opposite.",
    "Prices for gas have risen {n} percent since the sanctions started.",
    "They should all be locked up, every single one of those {n} liars.",
    "Nobody in the West reads history anymore, not even {n} pages of it.",
    "The interview with the general at minute {n} was the best part.",
)
CLOSERS = ("Good piece.", "Just my opinion.", "We will see in spring.", "Cheers.")


def comment(i: int) -> str:
    n = i + 3
    return " ".join(
        (OPENERS[i % 5].format(n=n), BODIES[(7 * i) % 11].format(n=n), CLOSERS[(3 * i) % 4])
    )


def page(n: int, body: Callable[[int], str] = comment) -> str:
    """The article, then ``n`` numbered comments with replies every third one; ``body(i)``
    is comment ``i``'s text (bench_comment_claims.py plants restatements among them)."""
    article = (ROOT / "examples" / "en_nato_provoked_the_war.txt").read_text(encoding="utf-8")
    lines = [article.rstrip(), "", f"{n} thoughts on “the article”", ""]
    for i in range(n):
        depth = "    " if i % 3 == 2 else ""
        lines += [
            f"{depth}{i + 1}. Reader{i} says",
            f"{depth}March {1 + i % 28}, 2024 at {1 + i % 12}:{10 + i % 50} pm",
            f"{depth}{body(i)}",
            f"{depth}Reply",
        ]
    return "\n".join(lines) + "\n"


def timed(pipeline: narrascope.Pipeline, doc: Document, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        copy = Document(text=doc.text, id=doc.id)
        copy.article, copy.comments = doc.article, [c for c in doc.comments]
        start = time.perf_counter()
        pipeline(copy)
        best = min(best, time.perf_counter() - start)
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--comments", type=int, default=100, help="comments on the page")
    parser.add_argument("--repeat", type=int, default=3, help="best of R runs")
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()
    with PrintedRun("bench_threads.py") as run:
        measure(args.comments, args.repeat)
    if not args.no_write:
        run.write(MARK)
    return 0


def measure(comments: int, repeat: int) -> None:
    text = page(comments)
    full = narrascope.load(stages=WITH_HATE)
    before = narrascope.load(stages=BEFORE_THREADS)
    split = full.make_doc(text)
    assert split.comments, "the generated page must be read as a thread"
    whole = Document(text=text, id="page")
    timed(full, split, 1)  # warm up both
    timed(before, whole, 1)
    t_before = timed(before, whole, repeat)
    t_split = timed(full, split, repeat)
    hate = next(s for s in full.stages if getattr(s, "name", "") == "hate")
    read, scored = getattr(hate.model, "_e5_read", (0, 0))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"page: {len(text):,} characters, {len(split.comments)} comments")
    print(f"one text, no hate stage (before threads): {t_before:.2f} s")
    print(f"article + comments, hate on each comment: {t_split:.2f} s")
    print(f"sentences scored: {scored}; distinct ones read through all 12 e5 layers: {read}")
    print(f"extra cost: {100 * (t_split / t_before - 1):+.0f}% (bar: at most +30%)")
    print(f"peak memory (max RSS): {peak:.0f} MB")


if __name__ == "__main__":
    raise SystemExit(main())
