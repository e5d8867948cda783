"""Multi-output ridge regression in its dual form: the head of the narrative and
entity-role models.

Why dual: with far more features (n-grams) than rows (documents, mentions) one
``n x n`` solve fits every label at once, and the same kernel gives internal
out-of-fold scores for calibration or stacking at the cost of a few smaller solves.
The primal weights ``W = X^T A`` are what a model keeps, so prediction is one sparse
product. Pruning keeps the columns that matter most to some label, so artefacts stay a
few MB (docs/narratives-research.md).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp

from narrascope.models.folds import Fold


def kernel(x: sp.spmatrix) -> np.ndarray:
    """The linear kernel ``X X^T`` as a dense float64 matrix."""
    return (x @ x.T).toarray().astype(np.float64)


def dual_solve(
    k: np.ndarray, y: np.ndarray, alpha: float, sample_weight: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Dual coefficients ``a`` and intercept ``mu``: scores are ``k @ a + mu``.

    Weighted least squares is ordinary ridge on rows scaled by sqrt(weight); the scaling
    is folded back into ``a``, so the primal weights are always ``x.T @ a``.
    """
    if sample_weight is None:
        mu = y.mean(axis=0)
        return np.linalg.solve(k + alpha * np.eye(len(k)), y - mu), mu
    d = np.sqrt(sample_weight)
    mu = (sample_weight[:, None] * y).sum(axis=0) / sample_weight.sum()
    a = np.linalg.solve(d[:, None] * k * d[None, :] + alpha * np.eye(len(k)), d[:, None] * (y - mu))
    return d[:, None] * a, mu


def columns_to_keep(
    x: sp.csr_matrix,
    y: np.ndarray,
    n_columns: int,
    keep: int,
    alpha: float,
    sample_weight: np.ndarray | None = None,
) -> np.ndarray:
    """Sorted indices of the ``keep`` columns among the first ``n_columns`` of ``x`` with
    the largest norm of their (per-label normalised) ridge weights."""
    a, _ = dual_solve(kernel(x), y, alpha, sample_weight)
    coef = np.asarray(x[:, :n_columns].T @ a)
    coef /= np.linalg.norm(coef, axis=0, keepdims=True) + 1e-12
    importance = np.sqrt((coef**2).sum(axis=1))
    return np.sort(np.argsort(-importance, kind="stable")[:keep])


def out_of_fold_scores(
    k: np.ndarray,
    y: np.ndarray,
    folds: Sequence[Fold],
    alpha: float,
    *,
    sample_weight: np.ndarray | None = None,
    aux_of: np.ndarray | None = None,
) -> np.ndarray:
    """Each row's score from a ridge fitted without its fold, from the full kernel.

    Rows past the ``len(folds' rows)`` scored ones are auxiliary examples (the narrative
    model's explanations); ``aux_of`` gives the scored row each belongs to. They train
    only in the folds where their row trains and are never scored, so nothing leaks.
    """
    n = sum(len(te) for _, te in folds)
    aux_of = np.zeros(0, dtype=int) if aux_of is None else np.asarray(aux_of, dtype=int)
    oof = np.zeros((n, y.shape[1]))
    for tr, te in folds:
        rows = tr
        if len(aux_of):
            in_tr = np.zeros(n, dtype=bool)
            in_tr[tr] = True
            rows = np.concatenate([tr, n + np.flatnonzero(in_tr[aux_of])]).astype(int)
        w = None if sample_weight is None else sample_weight[rows]
        a, mu = dual_solve(k[np.ix_(rows, rows)], y[rows], alpha, w)
        oof[te] = k[np.ix_(te, rows)] @ a + mu
    return oof
