"""Deterministic document-level K-fold cross-validation, stratified by language
(:func:`narrascope.models.folds.group_folds`).

Every document lands in exactly one test fold (ids are unique per document), so no text is
ever scored by a model that saw it. The same folds serve evaluation and tuning.
"""

from __future__ import annotations

import datetime as _dt
import json
import platform
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from narrascope.models.encoder import SentenceEncoder, text_vectors
from narrascope.models.folds import group_folds
from narrascope.models.narratives import NarrativeClassifier
from narrascope.training.corpus import LabelledDocument
from narrascope.training.metrics import per_language_scores

ModelFactory = Callable[[], NarrativeClassifier]


def cross_validate(
    docs: Sequence[LabelledDocument],
    *,
    factory: ModelFactory,
    folds: int = 5,
    seed: int = 0,
    progress: bool = False,
    embeddings: np.ndarray | None = None,
) -> dict[str, Any]:
    """Fit ``factory()`` on K-1 folds, predict the held-out fold; return the CV table.

    The documents' vectors (``embeddings``, else computed here with
    ``SentenceEncoder.shared()``) are encoded once and sliced per fold.

    Returns ``{"table": {lang: {"coarse", "fine", "n"}, "mean": ..., "all": ...},
    "folds": K, "seed": seed, "seconds": ..., "oof_proba": array, "labels": [...]}``, K being
    the folds that ran (``group_folds`` clamps the count asked for to the data).
    Out-of-fold probabilities are kept so decision rules can be compared without refitting.
    """
    texts = [d.text for d in docs]
    langs = [d.language for d in docs]
    start = time.perf_counter()
    if embeddings is None:
        embeddings = text_vectors(SentenceEncoder.shared(), texts)
    pred_coarse: list[list[str]] = [[] for _ in docs]
    pred_fine: list[list[str]] = [[] for _ in docs]
    labels = NarrativeClassifier.label_space([(d.narratives, d.subnarratives) for d in docs])
    column = {lab: j for j, lab in enumerate(labels)}
    oof = np.zeros((len(docs), len(labels)), dtype=np.float32)
    # group_folds clamps the count to the data: what ran is what is reported
    fold_list = group_folds(range(len(docs)), langs, n_folds=folds, seed=seed)
    for k, (tr, te) in enumerate(fold_list):
        model = factory().fit(
            [texts[i] for i in tr],
            [langs[i] for i in tr],
            [(docs[i].narratives, docs[i].subnarratives) for i in tr],
            # only the training folds' explanations: a test document's would leak
            explanations=[docs[i].explanations for i in tr],
            embeddings=embeddings[tr],
        )
        proba = model.predict_proba(
            [texts[i] for i in te], [langs[i] for i in te], embeddings=embeddings[te]
        )
        for i, (narr, sub) in zip(te, model.decide(proba), strict=True):
            pred_coarse[i], pred_fine[i] = narr, sub
        oof[np.ix_(te, [column[lab] for lab in model.labels_])] = proba
        if progress:
            print(
                f"  fold {k + 1}/{len(fold_list)} done ({time.perf_counter() - start:.0f}s)",
                flush=True,
            )
    table = per_language_scores(
        langs,
        [d.narratives for d in docs],
        [d.subnarratives for d in docs],
        pred_coarse,
        pred_fine,
    )
    return {
        "table": table,
        "folds": len(fold_list),
        "seed": seed,
        "seconds": round(time.perf_counter() - start, 1),
        "oof_proba": oof,
        "labels": labels,
        "predictions": list(zip(pred_coarse, pred_fine, strict=True)),
    }


def format_cv_table(result: dict[str, Any]) -> str:
    """Plain-text table: one row per language, then the language mean and pooled score."""
    table = result.get("table", result)
    lines = [f"{'language':<10}{'docs':>6}{'coarse F1':>11}{'fine F1':>9}"]
    for lang, row in table.items():
        if lang in ("mean", "all"):
            continue
        lines.append(f"{lang:<10}{int(row['n']):>6}{row['coarse']:>11.3f}{row['fine']:>9.3f}")
    for key, name in (("mean", "mean(lang)"), ("all", "pooled")):
        if key in table:
            row = table[key]
            lines.append(f"{name:<10}{int(row['n']):>6}{row['coarse']:>11.3f}{row['fine']:>9.3f}")
    return "\n".join(lines)


def cv_summary(result: dict[str, Any]) -> dict[str, Any]:
    """The storable part of a CV result (table rounded to 4 decimals, no predictions)."""
    return {
        "table": {
            k: {m: round(v, 4) if m != "n" else int(v) for m, v in row.items()}
            for k, row in result["table"].items()
        },
        "folds": result["folds"],
        "seed": result["seed"],
        "seconds": result["seconds"],
    }


def record_artefact_size(out: Path) -> dict[str, Any]:
    """Add the artefact's size in bytes to its meta.json; return the stored manifest."""
    size = sum(p.stat().st_size for p in out.iterdir() if p.is_file())
    meta_path = out / "meta.json"
    stored = json.loads(meta_path.read_text())
    stored["artefact_bytes"] = size
    meta_path.write_text(json.dumps(stored, indent=1, ensure_ascii=False) + "\n")
    return stored


def training_manifest(
    task: str,
    *,
    data: dict[str, Any],
    cv: dict[str, Any] | None,
    settings: dict[str, Any],
    train_seconds: float,
    started: float,
) -> dict[str, Any]:
    """The meta.json manifest every trained artefact carries (``started``: perf_counter)."""
    return {
        "task": task,
        "trained": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "training_seconds": train_seconds,
        "total_seconds": round(time.perf_counter() - started, 1),
        "machine": {"python": platform.python_version(), "processor": platform.machine()},
        "data": data,
        "cv": cv,
        "settings": settings,
    }
