"""Benchmark: what persuasion-technique detection costs inside ``narrascope analyze``.

Measured in one process over the SemEval-2025 test documents, so the machine's noise hits
both sides alike:
- seconds per stage; the techniques stage as a share of the rest of the pipeline (the
  issue's budget: at most +50% of analyze's end-to-end time),
- the techniques stage again with the narrative stage's paragraph vectors (``doc.tensor``)
  withheld (what sharing them saves) and with the encoder forced to one or two BLAS threads (the
  shipped stage picks by the machine's load),
- throughput, start-up of the techniques stage and the peak memory of the process.

Usage: python benchmarks/bench_techniques.py [--limit N] [--no-write]
"""

from __future__ import annotations

import os
import sys
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_entities import parse_args, run_profile
from bench_narratives import machine, write_section

MARK = "techniques-speed"

PROFILE = """
import json, resource, sys, time
t = time.perf_counter()
import narrascope
nlp = narrascope.load(stages=["language", "segment", "narratives", "explanation", "entities"])
base_load = time.perf_counter() - t
t = time.perf_counter()
from narrascope.stages.techniques import TechniqueStage
techniques = TechniqueStage(); techniques.warm_up()
technique_load = time.perf_counter() - t
from narrascope.ingest import read_inputs
limit = int(sys.argv[1])
docs = [d for d in read_inputs(sys.argv[2:]) if isinstance(d, narrascope.Document)][:limit]
times = {}
batches = [docs[i:i + 16] for i in range(0, len(docs), 16)]
for stage in nlp.stages:
    times[stage.name] = 0.0
encoder = techniques.encoder  # the pipeline's shared encoder
forced = {
    "techniques, one BLAS thread": encoder._single_thread,
    "techniques, two BLAS threads": encoder._model,
}
for name in ["techniques", "techniques, vectors not shared", *forced]:
    times[name] = 0.0
def word_caches():  # the main model's and each student's memoised word vectors
    m = techniques.model
    return [m.words_for("en")] + [s.words for s in m.students_.values()]
def restore(batch, tensors, saved_words):  # each variant starts alike
    for doc, tensor in zip(batch, tensors):
        doc.tensor = tensor
    for words, cache in zip(word_caches(), saved_words):
        words.cache = dict(cache)
for batch in batches:  # batch by batch, as the pipeline runs: the cache holds one batch
    for stage in nlp.stages:
        t = time.perf_counter(); stage(batch); times[stage.name] += time.perf_counter() - t
    tensors = [d.tensor for d in batch]  # what the narrative stage encoded
    saved_words = [dict(w.cache) for w in word_caches()]
    t = time.perf_counter(); techniques(batch); times["techniques"] += time.perf_counter() - t
    restore(batch, [None] * len(batch), saved_words)
    t = time.perf_counter(); techniques(batch)
    times["techniques, vectors not shared"] += time.perf_counter() - t
    for name, pick in forced.items():
        encoder._for_load = pick
        restore(batch, tensors, saved_words)
        t = time.perf_counter(); techniques(batch); times[name] += time.perf_counter() - t
    del encoder._for_load  # back to the shipped choice by load
paragraphs = sum(len(d.paragraphs) for d in docs)
spans = sum(len(d.techniques) for d in docs)
from collections import Counter
by_lang = Counter(d.language for d in docs)
span_lang = Counter(d.language for d in docs for _ in d.techniques)
per_lang = {k: [by_lang[k], span_lang[k]] for k in sorted(by_lang)}
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"n": len(docs), "times": times, "base_load": base_load,
                  "technique_load": technique_load, "peak_mb": peak,
                  "paragraphs": paragraphs, "spans": spans, "per_lang": per_lang}))
"""

VARIANTS = (
    "techniques, vectors not shared",
    "techniques, one BLAS thread",
    "techniques, two BLAS threads",
)


def main() -> int:
    args = parse_args(__doc__)
    load_before = os.getloadavg()[0]
    r = run_profile(PROFILE, args.limit)
    if r is None:
        return 1
    n, times = r["n"], r["times"]
    rest = sum(v for k, v in times.items() if not k.startswith("techniques"))
    share = times["techniques"] / rest
    for name, secs in times.items():
        print(f"  stage {name:<32} {secs:7.2f} s  {1000 * secs / n:7.1f} ms/doc")
    print(f"techniques add {100 * share:.0f}% to the rest of the pipeline (budget 50%)")
    ms = {k: 1000 * v / n for k, v in times.items()}
    limited = n == args.limit  # --limit cut the documents
    command = "python benchmarks/bench_techniques.py" + (f" --limit {n}" if limited else "")
    scope = f"the first {n}" if limited else f"the {n}"
    lines = [
        f"Measured {date.today().isoformat()} on this machine ({machine(load_before)}) with "
        f"`{command}`, in one process over {scope} documents of "
        f"`semeval2025-task10/test/*/subtask-2-documents` ({r['paragraphs']} paragraphs, "
        f"{r['spans']} technique spans), batches of 16 as `analyze` runs them.",
        "",
        "| measure | value | budget |",
        "|---|---|---|",
        f"| techniques stage as shipped (probabilities, decisions, spans, profile) | "
        f"{ms['techniques']:.1f} ms/doc ({n / times['techniques']:.1f} docs/s) | — |",
        f"| the rest of the pipeline (language, segment, narratives, explanation, "
        f"entities) | {1000 * rest / n:.1f} ms/doc ({n / rest:.1f} docs/s) | — |",
        f"| **techniques / rest** (what technique detection adds to `analyze`) | "
        f"**+{100 * share:.0f}%** | ≤ +50% |",
        f"| techniques without the narrative stage's paragraph vectors | "
        f"{ms[VARIANTS[0]]:.1f} ms/doc (+{100 * times[VARIANTS[0]] / rest:.0f}%) | — |",
        f"| techniques, encoder forced to one BLAS thread | "
        f"{ms[VARIANTS[1]]:.1f} ms/doc (+{100 * times[VARIANTS[1]] / rest:.0f}%) | — |",
        f"| techniques, encoder forced to two BLAS threads (the narrative stage's setting) | "
        f"{ms[VARIANTS[2]]:.1f} ms/doc (+{100 * times[VARIANTS[2]] / rest:.0f}%) | — |",
        f"| start-up of the techniques stage (artefact; the encoder is shared) | "
        f"{r['technique_load']:.2f} s | — |",
        f"| peak memory of the whole pipeline process | {r['peak_mb']:.0f} MB | < 1,500 MB |",
        "| technique spans per document, by language (Hindi: its student) | "
        + ", ".join(f"{k} {s / max(1, d):.1f}" for k, (d, s) in r["per_lang"].items())
        + " | — |",
    ]
    print("\n".join(lines))
    if not args.no_write:
        write_section("\n".join(lines), mark=MARK)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
