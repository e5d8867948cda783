"""Leave-one-language-out CV of the technique recipe: how it does on a language it never saw.

The proxy for the languages Narrascope reads without technique training data (pt, bg, uk,
hi): each of the six training languages in turn is held out and scored as unseen, for each
share of the multilingual-USE model in the probability mix (the n-gram model gets the rest).
Prints the table (micro-F1 per held-out language and their mean). About 10 minutes here.

    python benchmarks/lolo_techniques.py [DATA_DIR]
"""

from __future__ import annotations

from pathlib import Path

from bench_narratives import shared_data

from narrascope.training.techniques import leave_one_language_out, load_technique_corpus

DATA = Path(__file__).parents[1] / "../shared/datasets/semeval2023-task3/data"


def main() -> int:
    corpus = shared_data(
        __doc__.splitlines()[0], DATA, "the SemEval-2023 Task 3 data folder", load_technique_corpus
    )
    if corpus is None:
        return 1
    result = leave_one_language_out(corpus, progress=True)
    langs = [k for k in next(iter(result["table"].values())) if k != "mean"]
    print("USE share  " + "  ".join(f"{la:>5}" for la in langs) + "   mean")
    for share, row in result["table"].items():
        cells = "  ".join(f"{row[la]:5.3f}" for la in langs)
        print(f"{share:9.2f}  {cells}  {row['mean']:.3f}")
    print(f"({result['seconds']:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
