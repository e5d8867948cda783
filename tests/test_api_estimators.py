"""Estimators fitted by a user on their own small data: never an upside-down model, and
input they cannot fit on refused in their own words."""

from __future__ import annotations

import logging
import zlib

import numpy as np
import pytest

import narrative_fixtures as nf
from narrascope.models.claims import ClaimModel
from narrascope.models.linear import platt
from narrascope.models.narratives import NarrativeClassifier

PRAISE, MIGHT = nf.PRAISE, nf.MIGHT
ARMY = [
    "The army advanced with unstoppable tanks.",
    "Tanks and missiles of the mighty army.",
    "Generals praise the invincible army.",
]
OTHER = [
    "The local football club won the cup.",
    "A new bakery opened downtown.",
    "The museum exhibition attracts visitors.",
]


def test_platt_never_learns_a_falling_probability() -> None:
    y = np.array([1, 1, 0, 0], dtype=float)
    a, b = platt(np.array([-2.0, -1.0, 1.0, 2.0]), y)  # scores that run against the labels
    assert a == 0.0
    assert b == pytest.approx(0.0)  # the prior: log-odds of the smoothed 3/4, 3/4, 1/4, 1/4
    a, _ = platt(np.array([2.0, 1.0, -1.0, -2.0]), y)
    assert a > 0


@pytest.mark.parametrize("n", [1, 2, 3])
def test_a_narrative_model_fitted_on_a_handful_of_documents_is_not_upside_down(
    n: int, caplog: pytest.LogCaptureFixture
) -> None:
    texts = ARMY[:n] + OTHER[:n]
    gold = [([PRAISE], [MIGHT])] * n + [(["Other"], ["Other"])] * n
    with caplog.at_level(logging.WARNING, logger="narrascope.models.narratives"):
        model = NarrativeClassifier().fit(
            texts, ["en"] * len(texts), gold, embeddings=nf.fake_vectors(texts)
        )
    assert "get their prior probability" in caplog.text
    praise = model.labels_.index(PRAISE)
    assert (model.platt_a_ >= 0).all()
    seen = model.predict_proba(texts, ["en"] * len(texts), embeddings=nf.fake_vectors(texts))
    assert seen[:n, praise].min() >= seen[n:, praise].max()  # before: army 0.0-0.36, other 0.64-1
    new = ["Tanks of the army advanced.", "The bakery sold bread."]
    p = model.predict_proba(new, ["en", "en"], embeddings=nf.fake_vectors(new))[:, praise]
    assert p[0] >= p[1]  # before: 0.03 for the army, 0.90 for the bakery


def _vectors(texts: list[str]) -> np.ndarray:
    """Stand-in e5 vectors (hashed words), so no encoder is loaded."""
    out = np.zeros((len(texts), 384), np.float32)
    for i, text in enumerate(texts):
        for word in text.lower().split():
            out[i, zlib.crc32(word.encode()) % 384] += 1.0
        out[i] /= max(np.linalg.norm(out[i]), 1e-9)
    return out


FACTS = [
    "Russia lost 500 tanks in March 2024, the ministry said.",
    "Inflation reached 12 percent last year.",
    "The army has 200,000 soldiers at the border.",
    "Unemployment fell to 4 percent in May.",
]
CHAT = ["I love sunny days.", "What a lovely song.", "See you tomorrow!", "Nice photo."]


@pytest.mark.parametrize(
    ("texts", "labels", "says"),
    [
        (FACTS[:1] + CHAT[:1], [1, 0], "1 check-worthy and 1 other; fitting with 3 folds"),
        (FACTS, [1, 1, 1, 1], "4 check-worthy and 0 other"),  # "n_classes >= 3" before
        (FACTS[:2] + CHAT[:2], [1, 1, 0, 0], "2 check-worthy and 2 other.*at least 3 of each"),
        ([], [], "0 check-worthy and 0 other"),  # "empty vocabulary" before
        (FACTS + CHAT, [1, 0, 1], "labels has 3 entries for 8 texts"),
        (FACTS + CHAT, [1, 1, 1, 1, 0, 0, 0, 2], "labels must be 0"),
    ],
)
def test_claim_model_fit_says_what_is_wrong_with_its_data(
    texts: list[str], labels: list[int], says: str
) -> None:
    with pytest.raises(ValueError, match=says):
        ClaimModel().fit(texts, labels, vectors=_vectors(texts))


def test_claim_model_checks_the_vectors_it_is_given() -> None:
    texts = FACTS + CHAT
    labels = [1] * len(FACTS) + [0] * len(CHAT)
    with pytest.raises(ValueError, match="vectors has 7 rows for 8 head rows"):
        ClaimModel().fit(texts, labels, vectors=_vectors(texts)[:7], folds=2)
    model = ClaimModel().fit(texts, labels, vectors=_vectors(texts), folds=2)
    with pytest.raises(ValueError, match="vectors has 3 rows for 2 texts"):
        model.predict_proba(FACTS[:2], vectors=_vectors(FACTS[:3]))
    p = model.predict_proba(texts, vectors=_vectors(texts))
    assert p[: len(FACTS)].mean() > p[len(FACTS) :].mean()
