"""Train and evaluate the narrative classifier on the organisers' corpus layout.

These are the functions the CLI calls; they only read the corpus by path and write
numbers (vocabulary, weights, scores) into the artefact, never document text.
"""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from narrascope.models.encoder import SentenceEncoder, text_vectors
from narrascope.models.folds import fold_count
from narrascope.models.narratives import NarrativeClassifier
from narrascope.training.corpus import LabelledDocument, load_narrative_corpus
from narrascope.training.cv import (
    cross_validate,
    cv_summary,
    format_cv_table,
    record_artefact_size,
    training_manifest,
)


def default_artefact_dir(task: str = "narratives") -> Path:
    """The artefact folder the package loads by default (inside the installed package)."""
    if task != "narratives":
        raise ValueError(f"unknown task {task!r}; only 'narratives' is trainable")
    from narrascope.models.artefact import bundled_path

    return bundled_path("narratives")


def describe_corpus(docs: list[LabelledDocument], data_dir: str | Path) -> dict[str, Any]:
    """Counts only (documents per language, label frequencies): safe to store in an artefact."""
    return {
        "source": "SemEval-2025 Task 10 subtask 2 train split (research licence, not shipped)",
        "data_dir_name": Path(data_dir).name,
        "documents": len(docs),
        "documents_per_language": dict(sorted(Counter(d.language for d in docs).items())),
        "narrative_counts": dict(sorted(Counter(c for d in docs for c in d.narratives).items())),
    }


def evaluate_narratives(
    data_dir: str | Path,
    *,
    folds: int = 5,
    seed: int = 0,
    progress: bool = False,
    settings: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """K-fold CV of the default classifier: per-language coarse/fine samples-F1 and means.

    ``settings`` overrides NarrativeClassifier keyword arguments (for experiments).
    """
    kwargs = {"seed": seed, **(settings or {})}
    docs = load_narrative_corpus(data_dir)
    result = _cross_validate(docs, kwargs, folds, seed, progress, _vectors(docs))
    out = cv_summary(result)
    out["settings"] = kwargs
    return out


def _vectors(docs: list[LabelledDocument]) -> np.ndarray:
    """The documents' USE vectors, encoded once for the CV folds and the final fit."""
    return text_vectors(SentenceEncoder.shared(), [d.text for d in docs])


def _cross_validate(
    docs: list[LabelledDocument],
    kwargs: dict[str, Any],
    folds: int,
    seed: int,
    progress: bool,
    embeddings: np.ndarray,
) -> dict[str, Any]:
    """The one CV protocol behind both ``eval`` and the scores ``train`` records."""
    return cross_validate(
        docs,
        factory=lambda: NarrativeClassifier(**kwargs),
        folds=folds,
        seed=seed,
        progress=progress,
        embeddings=embeddings,
    )


def train_narratives(
    data_dir: str | Path,
    out_dir: str | Path,
    *,
    folds: int = 5,
    seed: int = 0,
    progress: bool = True,
    settings: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Cross-validate, then fit on every language jointly and write the artefact.

    Calibration (what makes the expected-F1 decision work) is tuned inside ``fit`` by
    internal K-fold on the training documents; the outer CV reported here measures the
    whole recipe. ``folds=0`` skips the outer CV (faster, but the manifest has no scores).
    Returns the manifest that is also stored as ``meta.json``.
    """
    started = time.perf_counter()
    docs = load_narrative_corpus(data_dir)
    kwargs = {"seed": seed, **(settings or {})}
    if progress:
        print(f"encoding {len(docs)} documents ...", flush=True)
    vectors = _vectors(docs)
    cv: dict[str, Any] | None = None
    if folds and folds > 1:
        if progress:
            used = fold_count(folds, len(docs))
            print(f"cross-validating ({used} folds) on {len(docs)} documents ...", flush=True)
        result = _cross_validate(docs, kwargs, folds, seed, progress, vectors)
        cv = cv_summary(result)
        if progress:
            print(format_cv_table(result), flush=True)
    if progress:
        print("fitting the final model on all documents ...", flush=True)
    start = time.perf_counter()
    model = NarrativeClassifier(**kwargs).fit(
        [d.text for d in docs],
        [d.language for d in docs],
        [(d.narratives, d.subnarratives) for d in docs],
        explanations=[d.explanations for d in docs],
        embeddings=vectors,
    )
    # the documents were encoded before the CV, so this is the fit alone; total_seconds
    # is the whole run
    train_seconds = round(time.perf_counter() - start, 1)
    manifest = training_manifest(
        "SemEval-2025 Task 10 subtask 2 (narratives / sub-narratives)",
        data=describe_corpus(docs, data_dir),
        cv=cv,
        settings=kwargs,
        train_seconds=train_seconds,
        started=started,
    )
    out = model.save(out_dir, meta=manifest)
    stored = record_artefact_size(out)
    if progress:
        size = stored["artefact_bytes"]
        print(f"wrote {out} ({size / 1e6:.2f} MB) in {train_seconds}s of fitting", flush=True)
    return stored
