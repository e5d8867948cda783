"""The one fold maker: K folds that never split a group, each stratum spread evenly.

Every cross-validation in the project (the CV tables, the internal out-of-fold scores
that calibrate the narrative model and train the entity stacker, the technique
thresholds) must keep a document's rows together, or a text is scored by a model that
saw it. One function keeps that rule and its fallback in one place.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence

import numpy as np

from narrascope.errors import E_INPUT, NarrascopeError

Fold = tuple[np.ndarray, np.ndarray]


def fold_count(n_folds: int, n_groups: int) -> int:
    """How many folds :func:`group_folds` makes of ``n_groups`` groups when asked for
    ``n_folds``: at least 2, at most one group per fold (manifests record this number)."""
    return max(2, min(n_folds, n_groups))


def group_folds(
    groups: Sequence[Hashable] | np.ndarray,
    strata: Sequence[Hashable] | np.ndarray,
    *,
    n_folds: int = 5,
    seed: int = 0,
) -> list[Fold]:
    """``(train rows, test rows)`` per fold, sorted row indices.

    Groups (documents) are dealt to folds whole, stratified by the stratum (language) of
    their last row with scikit-learn's ``StratifiedKFold``; when some stratum has fewer
    groups than folds (tiny corpora), by a seeded permutation instead. ``n_folds`` is
    clamped to ``[2, number of groups]`` (:func:`fold_count`). Fewer than two groups is
    the data's fault (a one-document corpus), so it is a :class:`NarrascopeError`.
    """
    groups = list(groups)
    strata = list(strata)
    if len(groups) != len(strata):
        raise ValueError("groups and strata must have the same length")
    index: dict[Hashable, int] = {}
    row_group = np.fromiter(
        (index.setdefault(g, len(index)) for g in groups), dtype=np.int64, count=len(groups)
    )
    n_groups = len(index)
    if n_groups < 2:
        raise NarrascopeError(
            E_INPUT,
            f"cross-validation needs at least two documents to make folds, got {n_groups}",
        )
    group_stratum = [""] * n_groups
    for r, g in enumerate(row_group):
        group_stratum[g] = "" if strata[r] is None else str(strata[r])
    n_folds = fold_count(n_folds, n_groups)
    _, counts = np.unique(group_stratum, return_counts=True)
    if counts.min() >= n_folds:
        from sklearn.model_selection import StratifiedKFold

        splitter = StratifiedKFold(n_folds, shuffle=True, random_state=seed)
        parts = [te for _, te in splitter.split(np.zeros(n_groups), group_stratum)]
    else:
        perm = np.random.default_rng(seed).permutation(n_groups)
        parts = [np.sort(p) for p in np.array_split(perm, n_folds)]
    out = []
    for test_groups in parts:
        test = np.isin(row_group, test_groups)
        out.append((np.flatnonzero(~test), np.flatnonzero(test)))
    return out


def fold_of_rows(folds: Sequence[Fold], n_rows: int) -> np.ndarray:
    """The test fold of each row, for code that loops over fold numbers."""
    out = np.full(n_rows, -1, dtype=int)
    for k, (_, test) in enumerate(folds):
        out[test] = k
    return out
