"""``narrascope train narratives``: retrain the bundled model from the organisers' layout."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_parser(sub: argparse._SubParsersAction, name: str) -> None:
    p = sub.add_parser(name, help="train a model from the shared-task data")
    p.add_argument("task", choices=("narratives",))
    p.add_argument(
        "--data",
        type=Path,
        required=True,
        help="folder with {BG,EN,HI,PT,RU}/raw-documents and annotations",
    )
    p.add_argument(
        "--out",
        type=Path,
        default=None,
        help="artefact folder (default: the one the package loads)",
    )
    p.add_argument("--folds", type=int, default=5, help="CV folds used to tune thresholds")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from narrascope.training import default_artefact_dir, format_cv_table, train_narratives

    out = args.out or default_artefact_dir("narratives")
    manifest = train_narratives(args.data, out, folds=args.folds, seed=args.seed)
    print(format_cv_table(manifest["cv"]))
    print(f"model written to {out}")
    return 0
