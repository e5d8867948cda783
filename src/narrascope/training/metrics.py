"""The official subtask-2 metric: per-document F1 between label sets, averaged over documents."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np


def set_f1(gold: Iterable[str], pred: Iterable[str]) -> float:
    """F1 of one document (sklearn ``average='samples'``: two empty sets score 0)."""
    g, p = set(gold), set(pred)
    if not g and not p:
        return 0.0
    tp = len(g & p)
    return 2.0 * tp / (len(g) + len(p))


def samples_f1(gold: Sequence[Iterable[str]], pred: Sequence[Iterable[str]]) -> float:
    """Mean per-document F1 (what the official scorer prints as F1@coarse / F1@fine)."""
    if len(gold) != len(pred):
        raise ValueError(f"gold has {len(gold)} documents, predictions {len(pred)}")
    if not gold:
        return 0.0
    return float(np.mean([set_f1(g, p) for g, p in zip(gold, pred, strict=True)]))


def per_language_scores(
    languages: Sequence[str],
    gold_coarse: Sequence[Iterable[str]],
    gold_fine: Sequence[Iterable[str]],
    pred_coarse: Sequence[Iterable[str]],
    pred_fine: Sequence[Iterable[str]],
) -> dict[str, dict[str, float]]:
    """Coarse/fine samples-F1 per language plus ``mean`` (unweighted over languages, as the
    leaderboard averages languages) and ``all`` (pooled over documents)."""
    langs = sorted(set(languages))
    table: dict[str, dict[str, float]] = {}
    for lang in langs:
        idx = [i for i, la in enumerate(languages) if la == lang]
        table[lang] = {
            "coarse": samples_f1([gold_coarse[i] for i in idx], [pred_coarse[i] for i in idx]),
            "fine": samples_f1([gold_fine[i] for i in idx], [pred_fine[i] for i in idx]),
            "n": float(len(idx)),
        }
    table["mean"] = {
        "coarse": float(np.mean([table[la]["coarse"] for la in langs])),
        "fine": float(np.mean([table[la]["fine"] for la in langs])),
        "n": float(len(languages)),
    }
    table["all"] = {
        "coarse": samples_f1(gold_coarse, pred_coarse),
        "fine": samples_f1(gold_fine, pred_fine),
        "n": float(len(languages)),
    }
    return table
