"""Benchmark: near-duplicate campaigns (``narrascope.corpus.find_campaigns``, issue 26).

Three measurements, each printed and written as printed into its own block of
docs/benchmarks.md ("Campaigns"; ``--no-write``: print only):

* ``synthetic``: a corpus generated from a made-up Zipf vocabulary, streamed into
  ``find_campaigns`` in a child process per size (so peak RSS is that size's alone);
  a quarter of the documents belong to planted groups of 2-8 (an original and edited
  copies: word substitutions, a deleted paragraph, reordered paragraphs, truncation,
  a per-source footer). Prints time, peak RSS and pairwise F1 of the planted groups.
* ``semeval``: a few hundred SemEval-2025 Task 10 training articles read at run time
  from ../shared (never copied), some given 2-8 edited copies spread over fake sources
  and dates, the rest left distinct. Prints pairwise precision, recall and F1.

* ``store``: the clusters of one synthetic corpus stored in a SQLite corpus database
  (``narrascope.store.campaigns``: first save, a rerun replacing it, the read API) and
  exported as one STIX 2.1 bundle (``narrascope.export.stix``, needs stix2), timed.

Usage:
  python benchmarks/bench_campaigns.py synthetic [--docs 10000 100000] [--no-write]
  python benchmarks/bench_campaigns.py semeval [--articles 400] [--groups 120] [--seed 7]
  python benchmarks/bench_campaigns.py store [--docs 100000]
"""

from __future__ import annotations

import argparse
import json
import math
import random
import resource
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_narratives import PrintedRun

ROOT = Path(__file__).resolve().parents[1]
SEMEVAL = ROOT.parent / "shared" / "datasets" / "semeval2025-task10"
BASE = datetime(2024, 1, 1, tzinfo=UTC)
# each measurement's block of docs/benchmarks.md
MARK_SYNTHETIC = "campaigns-synthetic"
MARK_SEMEVAL = "campaigns-semeval"
MARK_STORE = "campaigns-store"


def pairwise_f1(truth: list[str], predicted: list[str]) -> tuple[float, float, float]:
    """Pairwise precision, recall, F1 of a clustering, from cluster sizes (no O(n²) pairs)."""

    def pairs(counts: Counter) -> int:
        return sum(n * (n - 1) // 2 for n in counts.values())

    both = pairs(Counter(zip(truth, predicted, strict=True)))
    p_pairs, t_pairs = pairs(Counter(predicted)), pairs(Counter(truth))
    precision = both / p_pairs if p_pairs else 1.0
    recall = both / t_pairs if t_pairs else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def labels_of(campaigns: list, ids: list[str]) -> list[str]:
    cluster = {m.id: c.id for c in campaigns for m in c.members}
    return [cluster.get(i, f"single:{i}") for i in ids]


# -- edits shared by both measurements -------------------------------------------------------


SUBSTITUTION = [0.06]  # the most words an edited copy changes (--max-substitution)


def edit(paragraphs: list[str], rng: random.Random, pool: list[str], footer: str) -> str:
    """An edited copy: substitutions, maybe a deleted/reordered paragraph, truncation, footer."""
    paras = list(paragraphs)
    rate = rng.uniform(0.0, SUBSTITUTION[0])
    paras = [
        " ".join(rng.choice(pool) if rng.random() < rate else w for w in p.split(" "))
        for p in paras
    ]
    if len(paras) >= 4 and rng.random() < 0.35:
        del paras[rng.randrange(1, len(paras))]
    if len(paras) >= 3 and rng.random() < 0.35:
        head, rest = paras[:1], paras[1:]
        rng.shuffle(rest)
        paras = head + rest
    text = "\n\n".join(paras)
    if rng.random() < 0.3:
        text = text[: int(len(text) * rng.uniform(0.4, 0.9))]
    return f"{text}\n\n{footer}" if footer else text


# -- synthetic corpus ------------------------------------------------------------------------


def synthetic(n_docs: int, seed: int = 13) -> Iterator[tuple[dict, str]]:
    """(record, planted group) pairs; ~25% of documents in groups of 2-8."""
    import numpy as np

    rng = random.Random(seed)
    gen = np.random.default_rng(seed)
    letters = np.array(list("abcdefghijklmnopqrstuvwxyz"))
    vocab = ["".join(letters[gen.integers(0, 26, size=gen.integers(3, 10))]) for _ in range(30_000)]
    weights = 1.0 / (np.arange(len(vocab)) + 10.0)
    weights /= weights.sum()
    vocab_arr = np.array(vocab, dtype=object)
    sources = [f"site{i:03d}" for i in range(200)]
    footers = {
        s: (f"Subscribe to {s} channel for more news every day" if rng.random() < 0.5 else "")
        for s in sources
    }

    def article() -> list[str]:
        sizes = gen.integers(20, 80, size=gen.integers(3, 8))
        words = vocab_arr[gen.choice(len(vocab), size=int(sizes.sum()), p=weights)]
        out, at = [], 0
        for size in sizes:
            out.append(" ".join(words[at : at + size]))
            at += size
        return out

    made = 0
    group = 0
    while made < n_docs:
        day = BASE + timedelta(days=rng.uniform(0, 365))
        paras = article()
        source = rng.choice(sources)
        record = {"id": f"d{made}", "text": "\n\n".join(paras), "source": source}
        record["text"] += f"\n\n{footers[source]}" if footers[source] else ""
        record["date"] = day.isoformat()
        # a group (mean size 5) starts at 1 in 16 originals: ~25% of documents in groups
        size = rng.randint(2, 8) if rng.random() < 0.0625 else 1
        label = f"g{group}"
        group += 1
        yield record, label
        made += 1
        for _ in range(min(size - 1, n_docs - made)):
            source = rng.choice(sources)
            when = day + timedelta(hours=rng.uniform(0, 72))
            text = edit(paras, rng, vocab[:5000], footers[source])
            yield (
                {"id": f"d{made}", "text": text, "source": source, "date": when.isoformat()},
                (label),
            )
            made += 1


CHILD = """
import json, resource, sys, time
sys.path.insert(0, {bench!r})
from bench_campaigns import synthetic, labels_of, pairwise_f1
from narrascope.corpus import find_campaigns
n = int(sys.argv[1])
truth, ids = [], []
making = [0.0, 0.0]  # wall and CPU seconds spent generating the corpus
def stream():
    source = synthetic(n)
    while True:
        t0, c0 = time.perf_counter(), time.process_time()
        try:
            record, label = next(source)
        except StopIteration:
            return
        making[0] += time.perf_counter() - t0
        making[1] += time.process_time() - c0
        truth.append(label)
        ids.append(record["id"])
        yield record
t, c = time.perf_counter(), time.process_time()
campaigns = find_campaigns(stream())
# the corpus generator's own time left out
seconds = time.perf_counter() - t - making[0]
cpu = time.process_time() - c - making[1]
p, r, f = pairwise_f1(truth, labels_of(campaigns, ids))
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({{"docs": n, "seconds": seconds, "cpu": cpu, "generating": making[0],
                  "peak_rss_mb": rss, "clusters": len(campaigns), "precision": p, "recall": r,
                  "f1": f}}))
"""


def run_synthetic(sizes: list[int]) -> None:
    code = CHILD.format(bench=str(Path(__file__).resolve().parent))
    rows = []
    for n in sizes:
        out = subprocess.run(
            [sys.executable, "-c", code, str(n)], capture_output=True, text=True, check=True
        )
        row = json.loads(out.stdout.strip().splitlines()[-1])
        rows.append(row)
        print(
            f"{row['docs']:>8} docs  {row['seconds']:7.1f} s wall, {row['cpu']:.1f} s CPU "
            f"(+{row['generating']:.0f} s making the corpus)  peak RSS {row['peak_rss_mb']:6.0f} MB"
            f"  {row['clusters']} clusters  pairwise P {row['precision']:.3f}"
            f" R {row['recall']:.3f} F1 {row['f1']:.3f}",
            flush=True,
        )
    if len(rows) >= 2:
        # CPU seconds: wall time on a shared machine says more about the neighbours
        a, b = rows[0], rows[-1]
        exponent = math.log(b["cpu"] / a["cpu"]) / math.log(b["docs"] / a["docs"])
        million = b["cpu"] * (1_000_000 / b["docs"]) ** exponent
        print(
            f"growth: CPU time ~ n^{exponent:.2f} (x{10**exponent:.1f} per 10x documents); "
            f"1M documents extrapolated: {million:.0f} s CPU"
        )


# -- SemEval articles with planted copies ----------------------------------------------------


def semeval_corpus(n_articles: int, n_groups: int, seed: int) -> tuple[list[dict], list[str]]:
    files = sorted(SEMEVAL.glob("train/*/raw-documents/*.txt"))
    if not files:
        raise SystemExit(f"no SemEval articles under {SEMEVAL}")
    from narrascope.corpus.campaigns import similarity

    rng = random.Random(seed)
    rng.shuffle(files)
    texts, kept = [], []
    dropped = 0
    for path in files:
        text = path.read_text(encoding="utf-8").strip()
        if len(text.split()) < 60:
            continue
        # the dataset holds a few near-duplicate articles itself (the same story in two
        # files): those would be "false" merges of texts the truth calls distinct
        words = shingle_set(text)
        if any(similarity(words, other)[1] >= 0.3 for other in kept):
            dropped += 1
            continue
        kept.append(words)
        texts.append((path.name, text))
        if len(texts) == n_articles:
            break
    print(f"(skipped {dropped} articles that nearly duplicate one already taken)")
    sources = [f"outlet{i:02d}" for i in range(30)]
    footers = {
        s: rng.choice(
            [
                "",
                f"Follow {s} on Telegram and share this story.",
                f"Read more at {s}: subscribe for daily updates.\nAll rights reserved.",
            ]
        )
        for s in sources
    }
    records, truth = [], []
    for n, (name, text) in enumerate(texts):
        paras = [p.strip() for p in text.split("\n") if p.strip()]
        pool = text.split()
        day = BASE + timedelta(days=rng.uniform(0, 300))
        source = rng.choice(sources)
        body = "\n\n".join(paras) + (f"\n\n{footers[source]}" if footers[source] else "")
        records.append({"id": name, "text": body, "source": source, "date": day.isoformat()})
        truth.append(name)
        if n < n_groups:
            for c in range(rng.randint(2, 8)):
                src = rng.choice(sources)
                when = day + timedelta(hours=rng.uniform(0, 96))
                copy = edit(paras, rng, pool, footers[src])
                records.append(
                    {"id": f"{name}~{c}", "text": copy, "source": src, "date": when.isoformat()}
                )
                truth.append(name)
    order = list(range(len(records)))
    rng.shuffle(order)
    return [records[i] for i in order], [truth[i] for i in order]


def shingle_set(text: str):
    """The exact shingle set the library compares (no boilerplate removal)."""
    import numpy as np

    from narrascope.corpus.campaigns import _Tokens, line_shingles

    return np.unique(line_shingles(_Tokens().units(text)[0])[0])


def run_semeval(n_articles: int, n_groups: int, seed: int) -> None:
    from narrascope.corpus import find_campaigns

    records, truth = semeval_corpus(n_articles, n_groups, seed)
    t = time.perf_counter()
    campaigns = find_campaigns(records)
    seconds = time.perf_counter() - t
    p, r, f = pairwise_f1(truth, labels_of(campaigns, [rec["id"] for rec in records]))
    copies = len(records) - n_articles
    print(
        f"SemEval (substitutions up to {SUBSTITUTION[0]:.0%}): {n_articles} articles "
        f"({n_groups} with 2-8 edited copies, {copies} copies, "
        f"{len(records)} documents), seed {seed}: {len(campaigns)} clusters in {seconds:.1f} s; "
        f"pairwise P {p:.3f} R {r:.3f} F1 {f:.3f}; peak RSS "
        f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB"
    )


def run_store(n_docs: int) -> None:
    """Save, rerun, read and STIX-export the clusters of ``n_docs`` synthetic documents."""
    import tempfile
    from datetime import UTC, datetime

    from narrascope.corpus import find_campaigns
    from narrascope.export.stix import campaigns_bundle
    from narrascope.store.campaigns import get_campaign, list_campaigns, save_campaigns

    def timed(label: str, fn):  # type: ignore[no-untyped-def]
        t, c = time.perf_counter(), time.process_time()
        out = fn()
        wall, cpu = time.perf_counter() - t, time.process_time() - c
        print(f"{label}: {wall:.2f} s wall, {cpu:.2f} s CPU", flush=True)
        return out

    records = [record for record, _ in synthetic(n_docs)]
    campaigns = timed(f"find_campaigns, {n_docs} documents", lambda: find_campaigns(records))
    members = sum(c.size for c in campaigns)
    print(f"  {len(campaigns)} clusters, {members} members")
    with tempfile.TemporaryDirectory() as tmp:
        db = str(Path(tmp) / "corpus.db")
        timed("save_campaigns (first)", lambda: save_campaigns(db, campaigns, documents=n_docs))
        timed("save_campaigns (rerun)", lambda: save_campaigns(db, campaigns, documents=n_docs))
        top = timed("list_campaigns top 50 by size", lambda: list_campaigns(db, limit=50))
        timed(
            "list_campaigns top 50 by coordination",
            lambda: list_campaigns(db, order="coordination"),
        )
        timed("list_campaigns of one source", lambda: list_campaigns(db, source="site007"))
        timed("get_campaign x50", lambda: [get_campaign(db, c.id) for c in top])
        print(f"  database {Path(db).stat().st_size / 1e6:.1f} MB")
    try:
        import stix2
    except ImportError:
        print("stix2 not installed: no STIX timing (pip install 'narrascope[stix]')")
        return
    now = datetime.now(UTC)
    bundle = timed("STIX bundle", lambda: campaigns_bundle(campaigns, as_of=now))
    text = timed("  serialise", bundle.serialize)
    timed("  stix2.parse", lambda: stix2.parse(text, allow_custom=False))
    print(f"  {len(bundle.objects)} objects, {len(text) / 1e6:.1f} MB")
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="what", required=True)
    syn = sub.add_parser("synthetic", help="a generated corpus, one process per size")
    syn.add_argument("--docs", type=int, nargs="+", default=[10_000, 100_000])
    sem = sub.add_parser("semeval", help="SemEval-2025 articles with edited copies")
    sem.add_argument("--articles", type=int, default=400)
    sem.add_argument("--groups", type=int, default=120)
    sem.add_argument("--seed", type=int, nargs="+", default=[7])
    sem.add_argument("--max-substitution", type=float, default=SUBSTITUTION[0])
    store = sub.add_parser("store", help="clusters stored, read and exported as STIX")
    store.add_argument("--docs", type=int, default=100_000)
    for each in (syn, sem, store):  # after the measurement's name, as its own options
        each.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()
    if args.what == "semeval" and not SEMEVAL.is_dir():
        print(f"no data: {SEMEVAL} is missing", file=sys.stderr)
        return 1
    with PrintedRun("bench_campaigns.py") as run:
        if args.what == "synthetic":
            run_synthetic(args.docs)
        elif args.what == "store":
            run_store(args.docs)
        else:
            SUBSTITUTION[0] = args.max_substitution
            for seed in args.seed:
                run_semeval(args.articles, args.groups, seed)
    if not args.no_write:
        marks = {"synthetic": MARK_SYNTHETIC, "semeval": MARK_SEMEVAL, "store": MARK_STORE}
        run.write(marks[args.what])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
