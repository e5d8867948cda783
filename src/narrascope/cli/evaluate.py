"""``narrascope eval narratives``: cross-validated scores with the official metric."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_parser(sub: argparse._SubParsersAction, name: str) -> None:
    p = sub.add_parser(name, help="cross-validate a model on labelled data")
    p.add_argument("task", choices=("narratives",))
    p.add_argument("--data", type=Path, required=True)
    p.add_argument("--folds", type=int, default=5)
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from narrascope.training import evaluate_narratives, format_cv_table

    result = evaluate_narratives(args.data, folds=args.folds, seed=args.seed)
    print(format_cv_table(result))
    return 0
