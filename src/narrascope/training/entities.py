"""Train and evaluate the entity-role classifier (subtask 1) on the organisers' layout.

The CLI calls these; they read the corpus by path and store only numbers, n-gram and
entity-name vocabularies in the artefact, never document text. Mentions whose release
offsets do not point at their text (a handful) are left out of training and scoring.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from narrascope.models.entities import EntityRoleClassifier, document_folds
from narrascope.training.corpus import EntityDocument, load_entity_corpus
from narrascope.training.cv import cv_summary, record_artefact_size, training_manifest
from narrascope.training.metrics import entity_scores

DEFAULT_ARTEFACT = Path(__file__).resolve().parents[1] / "resources" / "models" / "entities"


def _fit_args(docs: Sequence[EntityDocument]) -> tuple[list, list, list, list, list]:
    """(texts, languages, spans, main roles, fine roles) of the aligned gold mentions."""
    mentions = [d.aligned_mentions() for d in docs]
    return (
        [d.text for d in docs],
        [d.language for d in docs],
        [[(m.start, m.end) for m in ms] for ms in mentions],
        [[m.main_role for m in ms] for ms in mentions],
        [[list(m.fine_roles) for m in ms] for ms in mentions],
    )


def cross_validate_entities(
    docs: Sequence[EntityDocument],
    *,
    folds: int = 5,
    seed: int = 0,
    settings: dict[str, Any] | None = None,
    progress: bool = False,
) -> dict[str, Any]:
    """K-fold CV grouped by document (stratified by language): the CV table plus the
    out-of-fold probabilities, so decision rules can be compared without refitting."""
    texts, langs, spans, mains, fines = _fit_args(docs)
    doc_of = np.repeat(np.arange(len(docs)), [len(s) for s in spans])
    mention_lang = [langs[i] for i in doc_of]
    start = time.perf_counter()
    pred: list[tuple[str, list[str]]] = [("", [])] * len(doc_of)
    oof_main = np.zeros((len(doc_of), 3), np.float32)
    oof_fine: np.ndarray | None = None
    fine_labels: list[str] = []
    row_of_doc = np.concatenate([[0], np.cumsum([len(s) for s in spans])])
    for k, (_, te_rows) in enumerate(document_folds(doc_of, mention_lang, folds, seed)):
        te_docs = sorted(set(doc_of[te_rows].tolist()))
        tr_docs = [i for i in range(len(docs)) if i not in set(te_docs)]
        model = EntityRoleClassifier(**{"seed": seed, **(settings or {})}).fit(
            *([part[i] for i in tr_docs] for part in (texts, langs, spans, mains, fines))
        )
        scores = model.predict_proba(
            [texts[i] for i in te_docs], [langs[i] for i in te_docs], [spans[i] for i in te_docs]
        )
        rows = np.concatenate([np.arange(row_of_doc[i], row_of_doc[i + 1]) for i in te_docs])
        for r, decision in zip(rows, model.decide(scores), strict=True):
            pred[r] = decision
        if oof_fine is None:
            fine_labels = model.fine_labels_
            oof_fine = np.zeros((len(doc_of), len(fine_labels)), np.float32)
        oof_main[rows] = scores.main
        cols = [fine_labels.index(f) for f in model.fine_labels_]
        oof_fine[np.ix_(rows, cols)] = scores.fine
        if progress:
            print(f"  fold {k + 1}/{folds} done ({time.perf_counter() - start:.0f}s)", flush=True)
    table = entity_scores(
        mention_lang,
        [r for ms in mains for r in ms],
        [f for fs in fines for f in fs],
        [p[0] for p in pred],
        [p[1] for p in pred],
    )
    return {
        "table": table,
        "folds": folds,
        "seed": seed,
        "seconds": round(time.perf_counter() - start, 1),
        "oof_main": oof_main,
        "oof_fine": oof_fine,
        "fine_labels": fine_labels,
        "predictions": pred,
    }


def format_entity_table(result: dict[str, Any]) -> str:
    """Plain-text table: one row per language, then the language mean and pooled score."""
    table = result.get("table", result)
    head = f"{'language':<11}{'mentions':>9}{'main acc':>10}{'EMR':>8}{'fine F1':>9}"
    lines = [head]
    for lang, row in table.items():
        name = {"mean": "mean(lang)", "all": "all"}.get(lang, lang)
        lines.append(
            f"{name:<11}{int(row['n']):>9}{row['main_acc']:>10.3f}{row['emr']:>8.3f}"
            f"{row['fine_f1']:>9.3f}"
        )
    return "\n".join(lines)


def evaluate_entities(
    data_dir: str | Path,
    *,
    folds: int = 5,
    seed: int = 0,
    progress: bool = False,
    settings: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """K-fold CV of the default classifier: per-language main-role accuracy, EMR, fine F1.

    Returns ``{"table": {lang | "mean" | "all": {"main_acc", "emr", "fine_f1", "n"}},
    "folds", "seed", "seconds", "settings"}``; ``format_entity_table`` prints it.
    """
    docs = load_entity_corpus(data_dir)
    result = cross_validate_entities(
        docs, folds=folds, seed=seed, settings=settings, progress=progress
    )
    out = cv_summary(result)
    out["settings"] = {"seed": seed, **(settings or {})}
    return out


def describe_entity_corpus(docs: Sequence[EntityDocument], data_dir: str | Path) -> dict[str, Any]:
    """Counts only (documents / mentions per language, role frequencies)."""
    mentions = [(d.language, m) for d in docs for m in d.aligned_mentions()]
    return {
        "source": "SemEval-2025 Task 10 subtask 1 train split (research licence, not shipped)",
        "data_dir_name": Path(data_dir).name,
        "documents": len(docs),
        "documents_per_language": dict(sorted(Counter(d.language for d in docs).items())),
        "mentions": len(mentions),
        "mentions_per_language": dict(sorted(Counter(la for la, _ in mentions).items())),
        "mentions_misaligned_skipped": sum(len(d.mentions) for d in docs) - len(mentions),
        "main_role_counts": dict(sorted(Counter(m.main_role for _, m in mentions).items())),
        "fine_role_counts": dict(
            sorted(Counter(f for _, m in mentions for f in m.fine_roles).items())
        ),
    }


def train_entities(
    data_dir: str | Path,
    out_dir: str | Path = DEFAULT_ARTEFACT,
    *,
    folds: int = 5,
    seed: int = 0,
    progress: bool = True,
    settings: dict[str, Any] | None = None,
) -> Path:
    """Cross-validate, fit on all languages jointly and write the artefact (deterministic).

    ``folds=0`` skips the outer CV (faster, but the manifest then has no scores). Returns
    the artefact directory; its ``meta.json`` is the manifest.
    """
    started = time.perf_counter()
    docs = load_entity_corpus(data_dir)
    kwargs = {"seed": seed, **(settings or {})}
    cv: dict[str, Any] | None = None
    if folds and folds > 1:
        if progress:
            print(f"cross-validating ({folds} folds) on {len(docs)} documents ...", flush=True)
        result = cross_validate_entities(
            docs, folds=folds, seed=seed, settings=settings, progress=progress
        )
        cv = cv_summary(result)
        if progress:
            print(format_entity_table(result), flush=True)
    if progress:
        print("fitting the final model on all documents ...", flush=True)
    start = time.perf_counter()
    model = EntityRoleClassifier(**kwargs).fit(*_fit_args(docs))
    train_seconds = round(time.perf_counter() - start, 1)
    manifest = training_manifest(
        "SemEval-2025 Task 10 subtask 1 (entity framing: main and fine roles)",
        data=describe_entity_corpus(docs, data_dir),
        cv=cv,
        settings=kwargs,
        train_seconds=train_seconds,
        started=started,
    )
    out = model.save(out_dir, meta=manifest)
    size = record_artefact_size(out)["artefact_bytes"]
    if progress:
        print(f"wrote {out} ({size / 1e6:.2f} MB) in {train_seconds}s of fitting", flush=True)
    return out
