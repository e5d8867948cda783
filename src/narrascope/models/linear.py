"""Small dependency-free pieces the linear models share: the logistic function, Platt
scaling (a score becomes a probability users can read) and the language one-hot."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -30, 30)))


def platt(scores: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """1-D logistic fit of ``y ~ sigmoid(a*s + b)`` by Newton steps (tiny, dependency-free).

    The slope ``a`` is never negative: a higher score must never mean a lower
    probability. On a handful of documents out-of-fold scores can run against the
    labels (a held-out document's class is the minority of its fold), and a negative
    slope would turn the model upside down; the prior (``a = 0``) is the honest answer.
    """
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
    if a < 0:
        return 0.0, prior_logit(t)
    return float(a), float(b)


def prior_logit(targets: np.ndarray) -> float:
    """The intercept of a slope-0 logistic fit: the log-odds of the mean target."""
    mean = float(np.clip(targets.mean(), 1e-6, 1 - 1e-6))
    return float(np.log(mean / (1 - mean)))


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
