"""The pair map (issue 25): USE vectors bent towards the debunk pairing, stored with the
debunk scorer. Synthetic vectors only (no text, no dataset)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from narrascope.models.artefact import bundled_path
from narrascope.models.debunk_match import MONO_FEATURES, DebunkScorer
from narrascope.models.pair_map import PairMap


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


def _pairs(seed: int, n_debunks: int = 400, n_units: int = 300, dim: int = 48):
    """Debunks, and units that restate one each but are written in a "style" that
    plain cosine confuses: a shared direction dominates every unit."""
    rng = np.random.default_rng(seed)
    debunks = _unit(rng.normal(size=(n_debunks, dim)))
    style = _unit(rng.normal(size=dim))
    gold = rng.integers(0, n_debunks, n_units)
    units = _unit(debunks[gold] + 4.0 * style + 0.12 * rng.normal(size=(n_units, dim)))
    return units, debunks, [[int(g)] for g in gold]


def _top1(units: np.ndarray, debunks: np.ndarray, gold: list[list[int]]) -> float:
    return float(np.mean((units @ debunks.T).argmax(1) == np.array([g[0] for g in gold])))


def _fitted(dim: int, rank: int, rng: np.random.Generator) -> PairMap:
    bend = PairMap(rank=rank)
    bend._set_state(
        {
            "unit_down": rng.normal(size=(dim, rank)).astype(np.float32),
            "unit_up": rng.normal(size=(rank, dim)).astype(np.float32),
            "debunk_down": np.zeros((dim, rank), np.float32),
            "debunk_up": np.zeros((rank, dim), np.float32),
        }
    )
    return bend


def test_a_map_with_no_correction_is_the_plain_cosine() -> None:
    rng = np.random.default_rng(0)
    bend = _fitted(16, 4, rng)
    x = rng.normal(size=(5, 16)).astype(np.float32)
    np.testing.assert_allclose(bend.debunks(x), _unit(x), rtol=1e-5, atol=1e-6)
    moved = bend.units(x)
    np.testing.assert_allclose(np.linalg.norm(moved, axis=1), 1.0, rtol=1e-5)
    assert not np.allclose(moved, _unit(x), atol=1e-2)  # the unit side is bent


def test_cosines_from_kept_terms_equal_bending_both_vectors() -> None:
    """The matcher keeps 97 numbers per debunk instead of bending its 512 each time."""
    rng = np.random.default_rng(3)
    dim, rank = 64, 8
    bend = PairMap(rank=rank)
    bend._set_state(
        {
            part: (
                0.3 * rng.normal(size=(dim, rank) if part.endswith("down") else (rank, dim))
            ).astype(np.float32)
            for part in ("unit_down", "unit_up", "debunk_down", "debunk_up")
        }
    )
    debunks = _unit(rng.normal(size=(40, dim))).astype(np.float16)  # as the index keeps them
    units = _unit(rng.normal(size=(3, dim))).astype(np.float32)
    unit_of = rng.integers(0, 3, 40)
    plain = np.einsum("ij,ij->i", debunks.astype(np.float32), units[unit_of])
    got = bend.cosines(units, unit_of, bend.debunk_terms(debunks), plain)
    want = np.einsum(
        "ij,ij->i", bend.debunks(debunks.astype(np.float32)), bend.units(units)[unit_of]
    )
    np.testing.assert_allclose(got, want, atol=1e-5)
    assert bend.debunk_terms(debunks).shape == (40, 3 * rank + 1)


def test_the_scorer_saves_and_loads_its_pair_map(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    dim = 512  # USE's width, as the scorer's artefact stores it
    x = rng.normal(size=(200, len(MONO_FEATURES)))
    y = (x[:, 0] + 0.3 * rng.normal(size=200)) > 0
    data = {"fast": (x, y), "full": (np.hstack([x, rng.normal(size=(200, 3))]), y)}
    data["cross"] = (rng.normal(size=(200, 2)), y)
    data["dated"] = (rng.normal(size=(200, 3)), y)
    data["small"] = (np.hstack([x, rng.normal(size=(200, 1))]), y)
    data["article"] = (np.hstack([x, rng.normal(size=(200, 2))]), y)
    scorer = DebunkScorer().fit(data, threshold=0.3, rerank_threshold=0.3)
    scorer.pair_map = _fitted(dim, 8, rng)
    scorer.save(tmp_path / "m")
    back = DebunkScorer.load(tmp_path / "m")
    assert back.pair_map is not None and back.pair_map.rank == 8
    v = rng.normal(size=(3, dim)).astype(np.float32)
    np.testing.assert_allclose(back.pair_map.units(v), scorer.pair_map.units(v), rtol=1e-6)
    np.testing.assert_allclose(back.proba("fast", x[:5]), scorer.proba("fast", x[:5]))
    # a scorer saved without one loads without one (the matcher uses plain cosines)
    scorer.pair_map = None
    scorer.save(tmp_path / "plain")
    assert DebunkScorer.load(tmp_path / "plain").pair_map is None


def test_the_shipped_scorer_carries_a_pair_map_of_use_width() -> None:
    path = bundled_path("debunks")
    if not (path / "config.json").is_file():
        pytest.skip("no shipped debunk matcher")
    bend = DebunkScorer.load(path).pair_map
    assert bend is not None
    assert bend.maps_["unit_down"].shape == (512, bend.rank)


def test_fitting_brings_restatements_together_on_unseen_units() -> None:
    pytest.importorskip("torch", reason="fitting needs narrascope[train]")
    units, debunks, gold = _pairs(2)
    fit_u, fit_g, test_u, test_g = units[:200], gold[:200], units[200:], gold[200:]
    before = _top1(test_u, debunks, test_g)
    bend = PairMap(rank=8, epochs=30, lr=1e-2).fit(fit_u, debunks, fit_g)
    after = _top1(bend.units(test_u), bend.debunks(debunks), test_g)
    assert before < 0.3 and after >= 0.9, (before, after)  # measured: 0.18 and 1.0
    with pytest.raises(ValueError, match="no unit has a gold"):
        PairMap().fit(fit_u[:3], debunks, [[], [], []])
