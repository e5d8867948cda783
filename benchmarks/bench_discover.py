"""Benchmark: ``narrascope discover`` (issue 26, emerging narratives).

1. The bar: SemEval-2025 articles (a sample, analysed by the real language + segment +
   narrative stages; records cached under $XDG_CACHE_HOME/narrascope/discover/, keyed by
   the shipped narrative model so a retrained one analyses them again) plus the 36
   injected texts of tests/discover_texts.py (a story outside the taxonomy, eight
   languages), in a temporary corpus database; ``discover`` runs on it and we report the
   cluster holding most injected texts: coverage (share of the injected texts it holds)
   and purity (share of its documents, and of its paragraphs, that are injected).
   Bar: coverage >= 0.70 at purity >= 0.80.
2. Scale: time and peak memory of ``discover`` on 10k paragraphs (SemEval articles stored
   without narratives, so every paragraph is a candidate): first run (encodes) and rerun
   (vectors from the cache tables), in a child process of its own (the bar's models are
   not in its peak).

3. Settings (``--grid``): the bar under other HDBSCAN settings, units, threshold, PCA.
4. Stability (``--stability``): two thirds of that corpus, then all of it; how many
   clusters of the first run keep their id in the second, and whether the story's does.

The printed lines are written into docs/benchmarks.md ("Discover") as printed.

Usage: python benchmarks/bench_discover.py [--split train|test] [--per-language 60]
       [--unit paragraph|document] [--scale 10000] [--skip-bar] [--skip-scale] [--stability]
       [--grid] [--no-write]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import sys
import tempfile
import time
from collections import Counter
from datetime import date, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SEMEVAL = ROOT.parent / "shared/datasets/semeval2025-task10"
LANGUAGES = ("EN", "RU", "BG", "PT", "HI")
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_narratives import PrintedRun, own_peak_mb, run_measured  # noqa: E402

from discover_texts import INJECTED  # noqa: E402

INJECTED_PREFIX = "injected-"
MARK = "discover"


def narratives_digest() -> str:
    """A short hash of the shipped narrative model's files: the cached analyses are its."""
    from narrascope.models.artefact import bundled_path

    digest = hashlib.sha256()
    for part in sorted(bundled_path("narratives").iterdir()):
        if part.is_file():
            digest.update(part.name.encode() + b"\0" + part.read_bytes())
    return digest.hexdigest()[:12]


def cache_path(split: str, per_language: int, seed: int) -> Path:
    """Where the analysed sample is kept: the user's cache folder (``XDG_CACHE_HOME``),
    one file per sample and narrative model, so ``train narratives`` is never scored
    on the old model's analyses."""
    from narrascope.models.artefact import user_cache_dir

    name = f"semeval-{split}-{per_language}-{seed}-{narratives_digest()}.jsonl"
    return user_cache_dir() / "discover" / name


def _paths(split: str) -> dict[str, list[Path]]:
    out = {}
    for lang in LANGUAGES:
        if split == "train":
            folder = SEMEVAL / "train" / lang / "raw-documents"
        else:
            folder = SEMEVAL / split / lang / "subtask-2-documents"
        out[lang] = sorted(folder.glob("*.txt"))
    return out


def _analyse(docs: list[Any]) -> list[Any]:
    """The stages discover reads: language, paragraphs, narratives with scores."""
    from narrascope.pipeline.factory import build_pipeline

    nlp = build_pipeline(stages=["language", "segment", "narratives"])
    return list(nlp.pipe(docs, batch_size=16))


def semeval_records(split: str = "train", per_language: int = 60, seed: int = 7) -> list[dict]:
    """Analysed records of ``per_language`` sampled articles per language (cached)."""
    from narrascope.doc import Document

    cached = cache_path(split, per_language, seed)
    cached.parent.mkdir(parents=True, exist_ok=True)
    if cached.exists():
        with cached.open(encoding="utf-8") as fh:
            return [json.loads(line) for line in fh]
    rng = random.Random(seed)
    picked: list[Path] = []
    for _lang, paths in sorted(_paths(split).items()):
        picked += rng.sample(paths, min(per_language, len(paths)))
    docs = [
        Document(text=p.read_text(encoding="utf-8"), id=f"{split}/{p.name}", meta={})
        for p in picked
    ]
    records = [d.to_dict() for d in _analyse(docs)]
    tmp = cached.with_suffix(".tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        for record in records:
            fh.write(json.dumps(record, ensure_ascii=False) + "\n")
    tmp.replace(cached)
    return records


def injected_records() -> list[dict]:
    """The injected texts, analysed like the articles (the narrative model may label them)."""
    from narrascope.doc import Document

    docs = [
        Document(text=text, id=f"{INJECTED_PREFIX}{i:02d}", meta={})
        for i, (_lang, text) in enumerate(INJECTED)
    ]
    return [d.to_dict() for d in _analyse(docs)]


def _dated(records: list[dict], seed: int = 11) -> list[dict]:
    """Give every record a source and a date: articles over 20 weeks, the injected story
    in its last three (an emerging narrative grows late)."""
    rng = random.Random(seed)
    end = date(2025, 3, 31)
    out = []
    for record in records:
        record = dict(record)
        if record["id"].startswith(INJECTED_PREFIX):
            record["date"] = (end - timedelta(days=rng.randrange(21))).isoformat()
            record["source"] = rng.choice(["t.me/rumours", "forum.example", "news.example"])
        else:
            record["date"] = (end - timedelta(days=rng.randrange(140))).isoformat()
            record["source"] = "semeval"
        out.append(record)
    return out


def store_records(db: Path, records: list[dict]) -> None:
    from narrascope.doc import Document
    from narrascope.store import open_store

    with open_store(db) as store:
        for k in range(0, len(records), 200):
            store.save([Document.from_dict(r) for r in records[k : k + 200]])


def bar(split: str, per_language: int, unit: str, **params: Any) -> dict[str, Any]:
    """Coverage and purity of the best cluster for the injected texts."""
    from narrascope.corpus.discover import discover

    t = time.perf_counter()
    records = semeval_records(split, per_language)
    injected = injected_records()
    analysed = time.perf_counter() - t
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "corpus.db"
        store_records(db, _dated(records + injected))
        t = time.perf_counter()
        clusters = discover(db, unit=unit, **params)
        took = time.perf_counter() - t
    return {
        "split": split,
        "articles": len(records),
        "injected": len(injected),
        "injected_labelled": _labelled(injected),
        "analyse_s": round(analysed, 1),
        "discover_s": round(took, 1),
        **score(clusters, len(injected)),
    }


GRID: list[dict[str, Any]] = [
    {},
    {"selection": "eom"},
    {"min_samples": None},
    {"min_cluster_size": 5},
    {"min_cluster_size": 15},
    {"unit": "document"},
    {"unit": "document", "min_cluster_size": 5},
    {"unit": "document", "selection": "eom", "min_cluster_size": 5},
    {"threshold": 0.5},
    {"pca_dims": 30},
    {"pca_dims": 20},
    {"pca_dims": 10},
]


def grid(split: str, per_language: int) -> list[dict[str, Any]]:
    """The bar under each setting of :data:`GRID` (one corpus, vectors encoded once)."""
    from narrascope.corpus.discover import discover_run

    out = []
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "corpus.db"
        store_records(db, _dated(semeval_records(split, per_language) + injected_records()))
        for params in GRID:
            report = discover_run(db, save=False, **params)
            result = score(report.clusters, len(INJECTED))
            out.append(
                {
                    "params": params,
                    "candidates": report.candidates,
                    "units": report.units,
                    "noise": report.noise,
                    **{k: result.get(k) for k in ("clusters", "coverage", "purity")},
                    "unit_purity": result.get("unit_purity"),
                }
            )
    return out


def stability(split: str, per_language: int, seed: int = 5) -> dict[str, Any]:
    """Ids across a grown corpus: run on two thirds of the articles and of the injected
    texts, add the rest, rerun; how many clusters keep their id, and the story's."""
    from narrascope.corpus.discover import discover

    records = _dated(semeval_records(split, per_language) + injected_records())
    rng = random.Random(seed)
    rng.shuffle(records)
    cut = len(records) * 2 // 3
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "corpus.db"
        store_records(db, records[:cut])
        first = discover(db)
        n_first = sum(r["id"].startswith(INJECTED_PREFIX) for r in records[:cut])
        story_first = score(first, n_first).get("cluster")
        store_records(db, records[cut:])
        second = discover(db)
        story_second = score(second, len(INJECTED)).get("cluster")
    kept = [c for c in second if c.status == "persisting"]
    return {
        "first_clusters": len(first),
        "second_clusters": len(second),
        "persisting": len(kept),
        "by_members": sum(c.matched_by == "members" for c in kept),
        "by_centroid": sum(c.matched_by == "centroid" for c in kept),
        "first_ids_kept": round(len(kept) / max(len(first), 1), 3),
        "story_id_first": story_first,
        "story_id_second": story_second,
    }


def _labelled(records: list[dict]) -> dict[str, int]:
    return dict(Counter(max(r["narratives"], key=lambda a: a["score"])["label"] for r in records))


def score(clusters: list[Any], n_injected: int) -> dict[str, Any]:
    """The cluster holding most injected documents: its coverage and purity.

    A document belongs to the cluster holding most of its member units (paragraphs).
    """
    best: dict[str, Any] = {"clusters": len(clusters), "coverage": 0.0, "purity": 0.0}
    doc_cluster: dict[str, Counter] = {}
    for c in clusters:
        for m in c.members:
            doc_cluster.setdefault(m.doc_id, Counter())[c.id] += 1
    owner = {doc: counts.most_common(1)[0][0] for doc, counts in doc_cluster.items()}
    for c in clusters:
        docs = [d for d, cid in owner.items() if cid == c.id]
        hits = sum(d.startswith(INJECTED_PREFIX) for d in docs)
        if not docs or hits / n_injected <= best["coverage"]:
            continue
        units = sum(m.doc_id.startswith(INJECTED_PREFIX) for m in c.members)
        best = {
            "clusters": len(clusters),
            "cluster": c.id,
            "terms": c.terms[:8],
            "size_units": c.size,
            "documents": len(docs),
            "injected_in_cluster": hits,
            "coverage": round(hits / n_injected, 3),
            "purity": round(hits / len(docs), 3),
            "unit_purity": round(units / c.size, 3),
            "confidence": c.confidence,
        }
    return best


def scale(n_units: int) -> dict[str, Any]:
    """Time and peak memory on ``n_units`` paragraphs of at least MIN_CHARS characters
    (SemEval articles of every split, stored without narratives: all are candidates)."""
    from narrascope.corpus.discover import MIN_CHARS, discover_run
    from narrascope.doc import Document
    from narrascope.text.segment import split_paragraphs

    docs, units = [], 0
    for split in ("train", "dev", "test"):
        folder = "raw-documents" if split == "train" else "subtask-2-documents"
        for lang in LANGUAGES:
            for p in sorted((SEMEVAL / split / lang / folder).glob("*.txt")):
                text = p.read_text(encoding="utf-8")
                docs.append(Document(text=text, id=f"{split}/{p.name}", language=lang.lower()))
                units += sum(e - s >= MIN_CHARS for _, s, e in split_paragraphs(text))
                if units >= n_units:
                    break
            if units >= n_units:
                break
        if units >= n_units:
            break
    out: dict[str, Any] = {"documents": len(docs), "paragraphs": units}
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "corpus.db"
        store_records(db, [d.to_dict() for d in docs])
        for run in ("first", "rerun"):
            t = time.perf_counter()
            report = discover_run(db)
            out[f"{run}_s"] = round(time.perf_counter() - t, 1)
            out[f"{run}_units"] = report.units
            out[f"{run}_encoded"] = report.encoded
            out[f"{run}_clusters"] = len(report.clusters)
            out[f"{run}_noise"] = report.noise
    out["peak_rss_mb"] = round(own_peak_mb())
    return out


def scale_apart(n_units: int) -> dict[str, Any]:
    """:func:`scale` in a fresh process, so its peak memory is discover's alone and not
    the bar's pipeline's, loaded in this one (the child reads its own ``VmHWM``: its
    ``ru_maxrss`` would start at this process's size)."""
    _, _, printed = run_measured([sys.executable, __file__, "--scale-child", str(n_units)])
    return json.loads(printed.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--split", default="train", choices=("train", "dev", "test"))
    parser.add_argument("--per-language", type=int, default=60)
    parser.add_argument("--unit", default="paragraph", choices=("paragraph", "document"))
    parser.add_argument("--scale", type=int, default=10_000)
    parser.add_argument("--skip-bar", action="store_true")
    parser.add_argument("--skip-scale", action="store_true")
    parser.add_argument("--stability", action="store_true", help="also the grown-corpus ids")
    parser.add_argument("--grid", action="store_true", help="also the bar per setting")
    parser.add_argument("--only-cache", action="store_true", help="analyse and cache, no more")
    parser.add_argument("--no-write", action="store_true", help="print only")
    parser.add_argument("--scale-child", type=int, help=argparse.SUPPRESS)  # scale_apart's
    args = parser.parse_args()
    if not SEMEVAL.is_dir():
        print(f"no SemEval-2025 data at {SEMEVAL}", file=sys.stderr)
        return 1
    if args.scale_child is not None:
        print(json.dumps(scale(args.scale_child)))
        return 0
    if args.only_cache:
        print(len(semeval_records(args.split, args.per_language)), "records cached")
        return 0
    with PrintedRun("bench_discover.py") as run:
        measure(args)
    if not args.no_write:
        run.write(MARK)
    return 0


def measure(args: argparse.Namespace) -> None:
    if not args.skip_bar:
        print(json.dumps(bar(args.split, args.per_language, args.unit), ensure_ascii=False))
    if args.grid:
        for row in grid(args.split, args.per_language):
            print(json.dumps(row))
    if args.stability:
        print(json.dumps(stability(args.split, args.per_language)))
    if not args.skip_scale:
        print(json.dumps(scale_apart(args.scale)))


if __name__ == "__main__":
    raise SystemExit(main())
