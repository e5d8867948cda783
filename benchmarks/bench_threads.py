"""Benchmark: what a reader thread costs (issue 24): a page of one article and N comments.

Analyses the same page twice in one process, models loaded once: as one text through
every stage but hate (the behaviour before threads), and split into the article and its
comments with the hate stage reading every comment. Prints both times, the extra cost
in percent (the issue's bar: at most 30% for 100 comments) and peak memory. The page is
built from ``examples/en_nato_provoked_the_war.txt`` and comments written for this script.

Usage: python benchmarks/bench_threads.py [--comments N] [--repeat R]
"""

from __future__ import annotations

import argparse
import resource
import time
from pathlib import Path

import narrascope
from narrascope.doc import Document
from narrascope.pipeline.factory import STAGES

ROOT = Path(__file__).resolve().parents[1]
REPLIES = (
    "I read the whole article and I still do not agree with the author.",
    "Thanks for the link, very useful. The part about the talks was new to me.",
    "You are an idiot and so is everyone who voted for this government.",
    "This is exactly what they said last year, and nothing happened then either.",
    "Does anyone have the source for the numbers in the third paragraph?",
    "Good piece. The map would have helped, though.",
    "They should all be locked up, every single one of those liars.",
    "My cousin lives there and says the situation is much calmer than reported.",
)


def page(n: int) -> str:
    """The article, then ``n`` numbered comments with replies every third one."""
    article = (ROOT / "examples" / "en_nato_provoked_the_war.txt").read_text(encoding="utf-8")
    lines = [article.rstrip(), "", f"{n} thoughts on “the article”", ""]
    for i in range(n):
        depth = "    " if i % 3 == 2 else ""
        lines += [
            f"{depth}{i + 1}. Reader{i} says",
            f"{depth}March {1 + i % 28}, 2024 at {1 + i % 12}:{10 + i % 50} pm",
            f"{depth}{REPLIES[i % len(REPLIES)]} {REPLIES[(i * 5 + 1) % len(REPLIES)]}",
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--comments", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    text = page(args.comments)
    full = narrascope.load()
    before = narrascope.load(stages=[s for s in STAGES if s != "hate"])
    split = full.make_doc(text)
    assert split.comments, "the generated page must be read as a thread"
    whole = Document(text=text, id="page")
    timed(full, split, 1)  # warm up both
    timed(before, whole, 1)
    t_before = timed(before, whole, args.repeat)
    t_split = timed(full, split, args.repeat)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"page: {len(text):,} characters, {len(split.comments)} comments")
    print(f"one text, no hate stage (before threads): {t_before:.2f} s")
    print(f"article + comments, hate on each comment: {t_split:.2f} s")
    print(f"extra cost: {100 * (t_split / t_before - 1):+.0f}% (bar: at most +30%)")
    print(f"peak memory (max RSS): {peak:.0f} MB")


if __name__ == "__main__":
    main()
