"""Small linear-model helpers shared by the narrative and entity-role classifiers.

Both models are dual ridge regressions over TF-IDF blocks whose weights ship int8-quantised
and whose scores are calibrated with tiny dependency-free fits, so they share these pieces.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # scikit-learn is imported only to train: it costs 1.5 s of start-up
    from sklearn.feature_extraction.text import TfidfVectorizer


def fit_vectorizer(
    analyzer: str, ngrams: tuple[int, int], min_df: int, max_df: float, max_features: int
) -> TfidfVectorizer:
    """A vectorizer producing un-normalised tf-idf (normalised after vocabulary pruning)."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    return TfidfVectorizer(
        analyzer=analyzer,
        norm=None,
        ngram_range=tuple(ngrams),
        min_df=min_df,
        max_df=max_df,
        max_features=max_features,
        sublinear_tf=True,
        dtype=np.float32,
    )


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -30, 30)))


def platt(scores: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """1-D logistic fit of ``y ~ sigmoid(a*s + b)`` by Newton steps (tiny, dependency-free)."""
    n_pos = float(y.sum())
    n = float(len(y))
    if n_pos == 0:
        return 0.0, -8.0
    # Platt's smoothed targets avoid infinite slopes on separable data.
    t = np.where(y > 0, (n_pos + 1) / (n_pos + 2), 1.0 / (n - n_pos + 2))
    a, b = 1.0, float(np.log((n_pos + 1) / (n - n_pos + 1)))
    s = scores.astype(np.float64)
    for _ in range(50):
        p = sigmoid(a * s + b)
        g = p - t
        w = np.maximum(p * (1 - p), 1e-9)
        h11, h12, h22 = (w * s * s).sum() + 1e-6, (w * s).sum(), w.sum() + 1e-6
        g1, g2 = (g * s).sum(), g.sum()
        det = h11 * h22 - h12 * h12
        if det <= 0:
            break
        da = (h22 * g1 - h12 * g2) / det
        db = (h11 * g2 - h12 * g1) / det
        a, b = a - da, b - db
        if abs(da) + abs(db) < 1e-8:
            break
    return float(a), float(b)


def quantise(coef: np.ndarray) -> dict[str, np.ndarray]:
    """int8 weights with one float32 scale per feature row: ~4x smaller than float32.

    Rows (features) differ by orders of magnitude (idf, n-gram length), so a per-row
    scale keeps each feature's relative precision; CV is unchanged to 3 decimals.
    """
    scale = np.abs(coef).max(axis=1) / 127.0
    scale[scale == 0] = 1.0
    q = np.rint(coef / scale[:, None]).astype(np.int8)
    return {"coef_q": q, "coef_scale": scale.astype(np.float32)}


def dequantise(arrays: Any) -> np.ndarray:
    if "coef_q" in arrays:
        return arrays["coef_q"].astype(np.float32) * arrays["coef_scale"][:, None]
    return arrays["coef"].astype(np.float32)


def weighted_dual_solve(
    k: np.ndarray, y: np.ndarray, sw: np.ndarray | None, alpha: float
) -> tuple[np.ndarray, np.ndarray]:
    """Dual ridge with optional sample weights: returns (a, mu) with scores ``k @ a + mu``.

    Weighted least squares = ordinary ridge on rows scaled by sqrt(weight); the scaling is
    folded back into ``a`` so callers never see it.
    """
    if sw is None:
        mu = y.mean(axis=0)
        return np.linalg.solve(k + alpha * np.eye(len(k)), y - mu), mu
    d = np.sqrt(sw)
    mu = (sw[:, None] * y).sum(axis=0) / sw.sum()
    a = np.linalg.solve(d[:, None] * k * d[None, :] + alpha * np.eye(len(k)), d[:, None] * (y - mu))
    return d[:, None] * a, mu


def plain_kfold(n: int, folds: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(seed)
    perm = rng.permutation(n)
    parts = np.array_split(perm, folds)
    return [
        (np.sort(np.concatenate(parts[:i] + parts[i + 1 :])), np.sort(p))
        for i, p in enumerate(parts)
    ]


def narrascope_version() -> str:
    try:
        from narrascope import __version__

        return __version__
    except ImportError:  # pragma: no cover
        return "unknown"


def language_block(
    languages: Sequence[str | None], known: Sequence[str], weight: float
) -> np.ndarray:
    """One-hot language columns scaled by ``weight`` (all zero for an unseen language, so
    such texts rely on their n-grams alone): lets one linear model hold per-language biases."""
    index = {lang: j for j, lang in enumerate(known)}
    rows = np.zeros((len(languages), len(known)), dtype=np.float32)
    for i, lang in enumerate(languages):
        j = index.get(lang) if lang is not None else None
        if j is not None:
            rows[i, j] = weight
    return rows
