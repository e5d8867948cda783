"""The debunk reader (issue 25, research step): e5's top layers trained as a bi-encoder on
(post, fact-check) pairs; fit with torch, read back without it. Texts written here."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

DEBUNKS = [
    "The moon landing in 1969 was filmed in a studio.",
    "Drinking bleach cures viral infections.",
    "A city banned bicycles on all public roads.",
    "Wind turbines cause cancer in nearby residents.",
    "A famous singer died in a plane crash last week.",
    "The government is putting microchips in vaccines.",
    "Eating carrots lets you see in complete darkness.",
    "A shark was found swimming on a flooded highway.",
]
UNITS = [
    "They faked the Apollo landing on a sound stage, wake up!",
    "My uncle says a spoon of bleach kills any virus",
    "Windmills near the village are giving people tumours",
    "BREAKING: beloved pop star killed when her private jet went down",
    "Vaccines contain tracking chips, the state wants to follow you",
    "photo of a shark on the interstate after the hurricane",
]
GOLD = [[0], [1], [3], [4], [5], [7]]


@pytest.mark.slow  # ~1 min: two epochs of the top two layers
def test_a_fitted_reader_is_saved_as_int8_rows_and_reads_back_without_torch(
    tmp_path: Path,
) -> None:
    pytest.importorskip("torch", reason="fitting needs narrascope[train]")
    from narrascope.models.debunk_reader import DebunkReader

    model = DebunkReader(frozen=10, epochs=2, batch=3, lr=1e-4, hard=1, hard_pool=3)
    model.fit(UNITS, DEBUNKS, GOLD)
    assert len(model.meta["history"]) == 2
    model.save(tmp_path)
    again = DebunkReader.load(tmp_path)
    vectors = again.encode_debunks(DEBUNKS)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-4)
    idx, cos = again.predict(UNITS, vectors, top=3)
    assert idx.shape == cos.shape == (len(UNITS), 3)
    assert (np.diff(cos, axis=1) <= 1e-6).all()  # best first
    hits = np.mean([idx[i, 0] == GOLD[i][0] for i in range(len(UNITS))])
    assert hits >= 5 / 6  # each post's own fact-check first (6/6 measured)
    # the saved model reads as the fitted one (int8 rows both ways)
    assert np.allclose(model.encode_units(UNITS[:2]), again.encode_units(UNITS[:2]), atol=1e-5)


@pytest.mark.slow  # ~40 s: two fits of one epoch of the top two layers
def test_frozen_states_made_once_train_the_same_reader() -> None:
    """A cross-validation makes the frozen layers' outputs once for all its folds: a reader
    fitted on them is the reader fitted from the texts."""
    pytest.importorskip("torch", reason="fitting needs narrascope[train]")
    from narrascope.models.debunk_reader import DebunkReader
    from narrascope.training.debunk_reader import frozen_states

    params = {"frozen": 10, "epochs": 1, "batch": 3, "lr": 1e-4, "hard": 1, "hard_pool": 3}
    plain = DebunkReader(**params).fit(UNITS, DEBUNKS, GOLD)
    reused = DebunkReader(**params)
    states = frozen_states(reused, UNITS, DEBUNKS)
    assert len(states[0]) == len(UNITS) and len(states[1]) == len(DEBUNKS)
    reused.fit(UNITS, DEBUNKS, GOLD, states=states)
    assert np.allclose(plain.encode_units(UNITS), reused.encode_units(UNITS), atol=1e-3)
    with pytest.raises(ValueError, match="one per unit"):
        reused.fit(UNITS[:3], DEBUNKS, GOLD[:3], states=states)
