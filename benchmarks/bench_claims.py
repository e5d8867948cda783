"""Benchmark: the claim stage (issue 25, item 1) on whole documents.

Prints, and writes as printed into docs/benchmarks.md (after "Check-worthy claims"):
- load time of the shipped artefact and of the e5 encoder,
- ms per document of ``ClaimStage`` on the bundled examples/*.txt (our own texts) and on
  up to ``--docs`` SemEval-2025 training articles from ../shared when present (the
  average news document the issue's cost bar speaks of), with sentences per document,
  claims per document, and the split between the cheap tier and the e5 rescoring,
- peak memory of the process (max RSS).

Usage: python benchmarks/bench_claims.py [--docs 200] [--repeat 2] [--no-write]
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

MARK = "claims-speed"
ROOT = Path(__file__).resolve().parents[1]
SEMEVAL = ROOT.parent / "shared" / "datasets" / "semeval2025-task10" / "train"


def semeval_texts(limit: int) -> list[str]:
    """Up to ``limit`` articles, spread over the five languages, deterministic order."""
    from narrascope.training.corpus import read_document_text

    per_lang = [sorted((d / "raw-documents").glob("*.txt")) for d in sorted(SEMEVAL.iterdir())]
    out: list[str] = []
    i = 0
    while len(out) < limit and any(i < len(x) for x in per_lang):
        for files in per_lang:
            if i < len(files) and len(out) < limit:
                out.append(read_document_text(files[i]))
        i += 1
    return out


def run(stage, texts: list[str], repeat: int) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """Best-of-``repeat`` wall time of the stage on ``texts`` (segmentation excluded),
    and where it went."""
    from narrascope.doc import Document
    from narrascope.text.segment import segment

    spent = {"e5": 0.0}
    real = stage.model.vectors  # the e5 head's reading (base or fine-tuned layers)

    def timed(batch):  # type: ignore[no-untyped-def]
        t = time.perf_counter()
        out = real(batch)
        spent["e5"] += time.perf_counter() - t
        return out

    stage.model.vectors = timed
    best = float("inf")
    try:
        for _ in range(repeat):
            docs = [segment(Document(text=t, id=str(i))) for i, t in enumerate(texts)]
            spent["e5"] = 0.0
            t = time.perf_counter()
            for doc in docs:  # one document at a time, as the pipeline's worst case
                stage([doc])
            elapsed = time.perf_counter() - t
            if elapsed < best:
                best, e5 = elapsed, spent["e5"]
    finally:
        del stage.model.vectors
    n = len(texts)
    return {
        "docs": n,
        "ms_per_doc": 1000 * best / n,
        "e5_ms_per_doc": 1000 * e5 / n,
        "sentences_per_doc": sum(len(d.sentences) for d in docs) / n,
        "claims_per_doc": sum(len(d.claims) for d in docs) / n,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--docs", type=int, default=200, help="SemEval-2025 training articles, when present"
    )
    parser.add_argument("--repeat", type=int, default=2, help="best of R runs")
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()
    with PrintedRun("bench_claims.py") as run:
        status = measure(args)
    if status == 0 and not args.no_write:
        run.write(MARK)
    return status


def measure(args: argparse.Namespace) -> int:
    from narrascope.models.artefact import bundled_path
    from narrascope.models.claims import ClaimModel, e5_vectors
    from narrascope.stages.claims import ClaimStage

    path = bundled_path("claims")
    if not (path / "config.json").is_file():
        print(f"no artefact at {path}: run `narrascope train claims` first", file=sys.stderr)
        return 1
    t = time.perf_counter()
    model = ClaimModel.load(path)
    load_model = time.perf_counter() - t
    t = time.perf_counter()
    e5_vectors(["warm up"])
    load_encoder = time.perf_counter() - t
    stage = ClaimStage(model)
    stage.warm_up()
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, python {platform.python_version()}"
    )
    print(f"load: artefact {load_model:.2f} s, e5 encoder + tokenizer {load_encoder:.2f} s")
    print(f"stage: k={stage.k} rescored per document, threshold {stage.threshold}")
    sets = {"examples/*.txt": [p.read_text() for p in sorted((ROOT / "examples").glob("*.txt"))]}
    if SEMEVAL.is_dir():
        sets[f"SemEval-2025 train ({args.docs} docs)"] = semeval_texts(args.docs)
    for name, texts in sets.items():
        r = run(stage, texts, args.repeat)
        print(
            f"{name}: {r['docs']} docs, {r['sentences_per_doc']:.1f} sentences/doc, "
            f"{r['ms_per_doc']:.1f} ms/doc (e5 rescoring {r['e5_ms_per_doc']:.1f} ms), "
            f"{r['claims_per_doc']:.1f} claims/doc"
        )
    # the e5 rate on this machine now (the stage's cost scales with it: a loaded machine
    # reads far fewer sentences per second than the ~150/s of an idle two-core one)
    sample = [t for t in sets["examples/*.txt"] for t in t.split(". ")][:150]
    t = time.perf_counter()
    e5_vectors(sample)
    rate = len(sample) / (time.perf_counter() - t)
    t = time.perf_counter()
    for x in sample[:20]:
        e5_vectors([x] * 7)
    per_doc = 1000 * (time.perf_counter() - t) / 20
    print(
        f"e5 now: {rate:.0f} sentences/s in one batch of {len(sample)}; "
        f"{per_doc:.0f} ms per call of 7 (one document's rescoring); "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory (max RSS): {peak_mb:.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
