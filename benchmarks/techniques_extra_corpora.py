"""Does training on the extra persuasion corpora help? (issue 22, item 5)

5-fold grouped CV of the technique recipe on SemEval-2023 Task 3 (the folds of
``narrascope eval techniques``) plus CheckThat! 2024 Task 3, slavic-persuasion and UNLP 2025
(``training/persuasion_corpora.py``), each extra corpus dealt to the same folds on its own.
Each variant gives the extra corpora a training weight; weight 0 everywhere is today's
recipe (SemEval-2023 only), the extras then scored by fold models that never saw them. Every
variant reuses one USE pass (cached under ``~/.cache/narrascope/techniques-extra``), so the
differences are the training data alone.

    python benchmarks/techniques_extra_corpora.py [--variants semeval2023,all] [--out r.json]

Prints, per variant, micro-F1 per SemEval-2023 language and their mean, then per corpus and
language (UNLP scored on its 7 annotated techniques only), and the CV's seconds.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from pathlib import Path

import numpy as np

from narrascope.errors import NarrascopeError
from narrascope.models.artefact import user_cache_dir
from narrascope.training.techniques import (
    _flatten,
    _summary,
    cross_validate_techniques,
    extra_corpora,
    load_technique_corpus,
    paragraph_vectors,
)

DATA = Path(__file__).resolve().parents[1].parent / "shared/datasets/semeval2023-task3/data"

NEWS = ("ct24",)  # no column of its own: the same task on news paragraphs
OWN = ("slavic", "unlp")  # sentences, posts: a training-only column each (CORPUS_COLUMNS)
# name -> (training weight per extra corpus, corpora fitted with a column of their own)
VARIANTS: dict[str, tuple[dict[str, float], tuple[str, ...]]] = {
    "semeval2023": ({"ct24": 0.0, "slavic": 0.0, "unlp": 0.0}, ()),  # today's recipe
    "all": ({"ct24": 1.0, "slavic": 1.0, "unlp": 1.0}, ()),
    "half": ({"ct24": 0.5, "slavic": 0.5, "unlp": 0.5}, ()),
    "ct24+slavic": ({"ct24": 1.0, "slavic": 1.0, "unlp": 0.0}, ()),
    "ct24": ({"ct24": 1.0, "slavic": 0.0, "unlp": 0.0}, ()),
    "all+columns": ({"ct24": 1.0, "slavic": 1.0, "unlp": 1.0}, OWN),
    "others-half+columns": ({"ct24": 1.0, "slavic": 0.5, "unlp": 0.5}, OWN),
    "ct24x2+columns": ({"ct24": 2.0, "slavic": 1.0, "unlp": 1.0}, OWN),
}


def cached_vectors(texts: list[str]) -> np.ndarray:
    """USE vectors of ``texts``, computed once per distinct corpus and kept on disk."""
    key = hashlib.sha256("\x00".join(texts).encode("utf-8")).hexdigest()[:16]
    path = user_cache_dir() / "techniques-extra" / f"use-{key}.npy"
    if path.is_file():
        return np.load(path)
    started = time.perf_counter()
    vectors = paragraph_vectors(texts)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.save(path, vectors)
    print(f"encoded {len(texts)} paragraphs in {time.perf_counter() - started:.0f}s", flush=True)
    return vectors


def report(name: str, summary: dict) -> str:
    table = summary["table"]
    langs = [k for k in table if k != "mean"]
    parts = [f"{la} {table[la]['micro_f1']:.3f}" for la in langs]
    lines = [f"{name}: SemEval-2023 mean {table['mean']['micro_f1']:.3f} ({', '.join(parts)})"]
    for src, tab in summary["sources"].items():
        parts = [f"{la} {row['micro_f1']:.3f} (n {row['n']})" for la, row in tab.items()]
        lines.append(f"  {src}: {', '.join(parts)}")
    lines.append(f"  {summary['seconds']:.0f} s")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--variants", default="semeval2023,all")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--out", type=Path, default=None, help="JSON of every variant's tables")
    parser.add_argument(
        "--save-oof",
        type=Path,
        default=None,
        metavar="DIR",
        help="also write each variant's out-of-fold probabilities (<variant>.npz), to study "
        "decision rules without refitting",
    )
    args = parser.parse_args()
    try:
        articles = load_technique_corpus(args.data)
        extra, info = extra_corpora(args.data)
    except NarrascopeError as exc:  # no ../shared: one line, not a traceback
        print(f"no data: {exc}", file=sys.stderr)
        return 1
    print(f"extra corpora: {info}", flush=True)
    emb = cached_vectors(_flatten([*articles, *extra]).texts)
    results = {}
    for name in args.variants.split(","):
        result = cross_validate_techniques(
            articles,
            folds=args.folds,
            extra=extra,
            corpus_weights=VARIANTS[name][0],
            corpus_columns=VARIANTS[name][1],
            embeddings=emb,
            progress=True,
        )
        results[name] = _summary(result)
        if args.save_oof is not None:
            flat = _flatten([*articles, *extra])
            args.save_oof.mkdir(parents=True, exist_ok=True)
            np.savez_compressed(
                args.save_oof / f"{name}.npz",
                oof=result["oof_proba"],
                ngram=result["oof_ngram"],
                y=result["y"],
                weight=result["weight"],
                fold=result["fold"],
                languages=np.asarray(flat.languages),
                sources=np.asarray(flat.sources),
                unknown=np.asarray([len(u) > 0 for u in flat.unknown]),
            )
        print(report(name, results[name]), flush=True)
        if args.out is not None:
            args.out.write_text(json.dumps(results, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
