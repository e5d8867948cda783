"""Leave-one-language-out CV of the narrative recipe: how it does on a language it never saw.

The proxy for Ukrainian, which Narrascope reads but has no narrative training data for:
each of the five training languages in turn is held out, the shipped recipe is fitted on
the other four (their subtask-3 explanations included) and the held-out documents are
scored without a language feature. Prints coarse / fine samples-F1 per held-out language.
About 4 minutes here (most of it USE over the 1,781 documents).

    python benchmarks/lolo_narratives.py [DATA_DIR]
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from bench_narratives import shared_data

from narrascope.models.encoder import SentenceEncoder, text_vectors
from narrascope.models.narratives import NarrativeClassifier
from narrascope.training.corpus import load_narrative_corpus
from narrascope.training.metrics import per_language_scores

DATA = Path(__file__).parents[1] / "../shared/datasets/semeval2025-task10/train"


def main() -> int:
    docs = shared_data(
        __doc__.splitlines()[0],
        DATA,
        "the SemEval-2025 Task 10 training folder",
        load_narrative_corpus,
    )
    if docs is None:
        return 1
    started = time.perf_counter()
    vectors = text_vectors(SentenceEncoder.shared(), [d.text for d in docs])  # once for all
    print("held out   docs  coarse F1  fine F1")
    for lang in sorted({d.language for d in docs}):
        held_out = np.array([d.language == lang for d in docs])
        train = [d for d in docs if d.language != lang]
        test = [d for d in docs if d.language == lang]
        model = NarrativeClassifier(seed=0).fit(
            [d.text for d in train],
            [d.language for d in train],
            [(d.narratives, d.subnarratives) for d in train],
            explanations=[d.explanations for d in train],
            embeddings=vectors[~held_out],
        )
        proba = model.predict_proba(
            [d.text for d in test], [None] * len(test), embeddings=vectors[held_out]
        )
        decided = model.decide(proba)
        row = per_language_scores(
            [lang] * len(test),
            [d.narratives for d in test],
            [d.subnarratives for d in test],
            [coarse for coarse, _ in decided],
            [fine for _, fine in decided],
        )[lang]
        print(f"{lang:<9}{len(test):>6}{row['coarse']:>11.3f}{row['fine']:>9.3f}", flush=True)
    print(f"({time.perf_counter() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
