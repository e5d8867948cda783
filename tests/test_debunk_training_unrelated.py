"""The read and fast heads learn from unrelated posts (issue 25: a post that restates no
debunk in the database should not be shown one), and each path's threshold is read as the
shown one.

Synthetic feature tables stand in for CheckThat! 2A: each query's gold pair stands out,
and each unrelated post has one pair that looks nearly as good, which a head fitted on
the queries alone shows.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from narrascope.models.debunk_match import (
    HEADS,
    MONO_FEATURES,
    READER_FEATURES,
    DebunkScorer,
)
from narrascope.training.debunks import MAX_UNRELATED_SHOWN, MIN_SHOWN, fit_scorer

WIDTH = len(MONO_FEATURES) + len(READER_FEATURES)


def _table(rng: np.random.Generator, name: str, lift: float, n: int = 8) -> dict:
    read = rng.normal(size=(n, WIDTH))
    read[0] += lift  # the gold pair of a query; an unrelated post's best-looking pair
    read[0, 0] = read[0, 0] + lift if name.startswith("q") else read[0, 0] - lift
    mono = read[:, : len(MONO_FEATURES)].copy()
    return {
        "ids": [f"{name}-d{i}" for i in range(n)],
        "keys": np.arange(n),
        "mono": mono,
        "cross": np.zeros((n, 2)),
        "bm25": mono[:, 0],
        "cos": mono[:, 3],
        # a query's first pairs dated near it (the dated head has rows); posts undated
        "near": np.r_[rng.uniform(0.2, 1.0, 3), np.zeros(n - 3)] * name.startswith("q"),
        "read": read,
        "reader_rows": np.arange(n),
        "reader_ranked": np.arange(n),
    }


def _data() -> tuple[dict, dict, dict, dict]:
    rng = np.random.default_rng(0)
    tables = {f"q{i}": _table(rng, f"q{i}", 2.0) for i in range(150)}
    qrels = {q: {f"{q}-d0"} for q in tables}
    unrelated = {f"u{i}": _table(rng, f"u{i}", 1.5) for i in range(150)}
    folds = {u: i % 5 for i, u in enumerate(unrelated)}
    return tables, qrels, unrelated, folds


def test_the_threshold_is_the_lowest_that_shows_few_unrelated_posts_a_match() -> None:
    tables, qrels, unrelated, folds = _data()
    model, cv = fit_scorer(tables, qrels, head="read", unrelated=unrelated, unrelated_fold=folds)
    read = cv["read"]
    assert read["unrelated_posts"] == 150
    assert read["oof_unrelated_shown"] <= MAX_UNRELATED_SHOWN
    curve = read["curve (threshold: shown MAP@5, shown when absent, unrelated shown)"]
    lower = [t for t in curve if t < read["threshold"]]
    assert all(curve[t][2] > MAX_UNRELATED_SHOWN for t in lower)
    # the one shown threshold; the read path's own is moved onto it
    assert model.threshold_ == MIN_SHOWN
    assert read["threshold"] < MIN_SHOWN
    np.testing.assert_allclose(model.shifted(np.array([read["threshold"]]), "read"), [MIN_SHOWN])


def test_unrelated_posts_lower_what_the_read_head_gives_their_best_pairs() -> None:
    tables, qrels, unrelated, folds = _data()
    alone, _ = fit_scorer(tables, qrels, head="read")
    taught, _ = fit_scorer(tables, qrels, head="read", unrelated=unrelated, unrelated_fold=folds)
    best = np.array([t["read"][0] for t in unrelated.values()])
    gold = np.array([t["read"][0] for t in tables.values()])
    assert taught.proba("read", best).mean() < alone.proba("read", best).mean() / 2
    # the queries' gold pairs still rank above the unrelated posts' best ones
    assert np.median(taught.proba("read", gold)) > np.median(taught.proba("read", best))


def test_the_read_shift_is_saved_and_puts_the_read_threshold_on_the_shown_one(
    tmp_path: Path,
) -> None:
    rng = np.random.default_rng(1)
    data = {
        head: (rng.normal(size=(60, len(names))), np.arange(60) % 2 == 0)
        for head, (names, _) in HEADS.items()
    }
    scorer = DebunkScorer().fit(data, threshold=0.4)
    assert scorer.read_shift_ == 0.0  # as an artefact saved before the shift loads
    own = {"read": 0.06, "fast": 0.07, "rerank": 0.12}
    for path, t in own.items():
        setattr(scorer, f"{path}_shift_", float(np.log((0.4 / 0.6) / (t / (1 - t)))))
    scorer.save(tmp_path / "scorer")
    back = DebunkScorer.load(tmp_path / "scorer")
    p = np.array([0.01, 0.2, 0.9])
    for path, t in own.items():
        assert getattr(back, f"{path}_shift_") == getattr(scorer, f"{path}_shift_")
        np.testing.assert_allclose(back.shifted(np.array([t]), path), [0.4])
        assert np.all(np.diff(back.shifted(p, path)) > 0)  # the ranking is kept


def test_the_fast_path_learns_from_unrelated_posts_and_shifts_onto_the_shown_threshold() -> None:
    tables, qrels, unrelated, folds = _data()
    alone, _ = fit_scorer(tables, qrels)
    taught, cv = fit_scorer(tables, qrels, unrelated=unrelated, unrelated_fold=folds)
    best = np.array([t["mono"][0] for t in unrelated.values()])
    gold = np.array([t["mono"][0] for t in tables.values()])
    assert taught.proba("fast", best).mean() < alone.proba("fast", best).mean() / 2
    assert np.median(taught.proba("fast", gold)) > np.median(taught.proba("fast", best))
    assert alone.fast_shift_ == alone.rerank_shift_ == 0.0  # nothing to shift
    for key, path in (("default", "fast"), ("rerank", "rerank")):
        mode = cv[key]
        assert mode["unrelated_posts"] == 150
        assert mode["oof_unrelated_shown"] <= MAX_UNRELATED_SHOWN
        own = np.array([mode["threshold"]])
        np.testing.assert_allclose(taught.shifted(own, path), [MIN_SHOWN])
        np.testing.assert_allclose(taught.unshifted(taught.shifted(own, path), path), own)
    assert taught.threshold_ == taught.rerank_threshold_ == MIN_SHOWN
    assert taught.read_shift_ == 0.0  # the read head is fitted on its own (head="read")


def test_the_own_heads_dated_head_reads_the_shown_scale(tmp_path: Path) -> None:
    tables, qrels, unrelated, folds = _data()
    taught, _ = fit_scorer(tables, qrels, unrelated=unrelated, unrelated_fold=folds)
    # fitted on a fast head fitted on the queries alone, not the one that learned from
    # the unrelated posts (whose lower scale the dated head lifts more)
    assert not np.allclose(taught.heads_["own_dated_coef"], taught.heads_["dated_coef"])
    alone, _ = fit_scorer(tables, qrels)
    np.testing.assert_allclose(alone.heads_["own_dated_coef"], alone.heads_["dated_coef"])
    # an artefact saved before the own dated head: its dated head stands in (it read both)
    rng = np.random.default_rng(2)
    data = {
        head: (rng.normal(size=(60, len(names))), np.arange(60) % 2 == 0)
        for head, (names, _) in HEADS.items()
        if head != "own_dated"
    }
    older = DebunkScorer().fit(data)
    older.heads_ = {k: v for k, v in older.heads_.items() if not k.startswith("own_dated_")}
    older.save(tmp_path / "older")
    back = DebunkScorer.load(tmp_path / "older")
    x = np.array([[-1.0, 0.8, -0.8], [0.5, 0.3, 0.15]])
    np.testing.assert_allclose(back.proba("own_dated", x), back.proba("dated", x))
