"""``narrascope eval narratives|entities|mentions|techniques``: cross-validated scores with
the official metrics (CV on the given data only)."""

from __future__ import annotations

import argparse
from pathlib import Path

from narrascope.cli.args import whole_number
from narrascope.cli.train import (
    TASKS,
    add_extra_corpora_option,
    add_spans_option,
    note_folds,
    technique_corpus_kwargs,
)


def add_parser(sub: argparse._SubParsersAction, name: str) -> None:
    p = sub.add_parser(name, help="cross-validate a model on labelled data")
    p.add_argument("task", choices=TASKS)
    p.add_argument("--data", type=Path, required=True)
    p.add_argument(
        "--folds",
        type=whole_number(2),
        default=5,
        help="CV folds, 2 or more (default 5); more than the data has documents are cut "
        "down to one document per fold, with a note",
    )
    p.add_argument("--seed", type=int, default=0)
    add_spans_option(p)
    add_extra_corpora_option(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.task == "entities":
        from narrascope.training.entities import evaluate_entities, format_entity_table

        result = evaluate_entities(args.data, folds=args.folds, seed=args.seed)
        print(format_entity_table(result))
        note_folds(args.folds, result)
    elif args.task == "mentions":
        from narrascope.training.mentions import evaluate_mentions, format_mention_table

        print(format_mention_table(evaluate_mentions(args.data, args.folds, seed=args.seed)))
    elif args.task == "techniques":
        from narrascope.training.techniques import evaluate_techniques, format_technique_table

        result = evaluate_techniques(
            args.data,
            folds=args.folds,
            seed=args.seed,
            ptc_dir=args.spans,
            progress=True,
            **technique_corpus_kwargs(args),
        )
        print(format_technique_table(result))
        note_folds(args.folds, result)
    elif args.task == "hate":
        from narrascope.training.hate import (
            EARLY_LAYERS,
            cached_vectors,
            evaluate,
            format_tables,
            load_rows,
        )

        rows = load_rows(args.data)
        x = cached_vectors(rows, progress=True)
        early = cached_vectors(rows, progress=True, layers=EARLY_LAYERS)
        report, _ = evaluate(rows, x, folds=args.folds, early=early)
        print(format_tables(report))
    elif args.task == "claims":
        from narrascope.training.claims import evaluate_claims, format_claim_table

        print(format_claim_table(evaluate_claims(args.data)))
    elif args.task in ("encoder", "technique-student"):
        print(f"{args.task}: its held-out scores are measured by `narrascope train {args.task}`")
        return 2
    else:
        from narrascope.training import evaluate_narratives, format_cv_table

        result = evaluate_narratives(args.data, folds=args.folds, seed=args.seed)
        print(format_cv_table(result))
        note_folds(args.folds, result)
    return 0
