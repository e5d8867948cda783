"""Corpus reader, official metric and CV harness, on a hand-written fake corpus."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from narrascope.errors import NarrascopeError
from narrascope.training import (
    evaluate_narratives,
    format_cv_table,
    load_narrative_corpus,
    per_language_scores,
    read_document_text,
    samples_f1,
    set_f1,
)
from narrative_fixtures import DOOM, FEARS, MIGHT, PRAISE, write_corpus

SHARED = Path(__file__).parents[1] / "../shared"
TRAIN = SHARED / "datasets/semeval2025-task10/train"


def test_read_document_text_keeps_crlf(tmp_path: Path) -> None:
    p = tmp_path / "d.txt"
    p.write_bytes("Заголовок\r\n\r\nТекст".encode())
    assert read_document_text(p) == "Заголовок\r\n\r\nТекст"


def test_load_corpus_layout(tmp_path: Path) -> None:
    docs = load_narrative_corpus(write_corpus(tmp_path))
    assert len(docs) == 22
    assert {d.language for d in docs} == {"en", "ru"}
    army = next(d for d in docs if d.id == "EN_0_0.txt")
    assert army.narratives == {PRAISE}  # duplicates in the file collapse
    assert army.subnarratives == {MIGHT}
    climate = next(d for d in docs if d.id == "RU_1_2.txt")
    assert climate.subnarratives == {DOOM, FEARS + ": Other"}
    other = next(d for d in docs if d.id == "EN_2_0.txt")
    assert other.narratives == {"Other"} and other.subnarratives == {"Other"}
    assert "\r\n" in next(d for d in docs if d.id == "EN_1_0.txt").text


def test_load_corpus_reads_subtask3_explanations(tmp_path: Path) -> None:
    root = write_corpus(tmp_path)
    (root / "EN" / "subtask-3-annotations.txt").write_text(
        f"EN_0_0.txt\t{PRAISE}\t{MIGHT}\tIt praises the army.\n"
        f"EN_1_0.txt\t{FEARS}\tnone\tIt predicts doom.\n"
        "EN_1_1.txt\tbroken line\n"
    )
    docs = {d.id: d for d in load_narrative_corpus(root)}
    assert docs["EN_0_0.txt"].explanations == ((PRAISE, MIGHT, "It praises the army."),)
    assert docs["EN_1_0.txt"].explanations == ((FEARS, "none", "It predicts doom."),)
    assert docs["EN_1_1.txt"].explanations == () and docs["RU_0_0.txt"].explanations == ()


def test_load_corpus_errors(tmp_path: Path) -> None:
    with pytest.raises(NarrascopeError):
        load_narrative_corpus(tmp_path / "missing")
    (tmp_path / "EN").mkdir()
    with pytest.raises(NarrascopeError):
        load_narrative_corpus(tmp_path)


def test_set_f1_and_samples_f1_match_sklearn() -> None:
    from sklearn.metrics import f1_score
    from sklearn.preprocessing import MultiLabelBinarizer

    gold = [{"a", "b"}, {"Other"}, {"c"}, {"a"}]
    pred = [{"a"}, {"Other"}, {"a", "b"}, {"a", "c", "d"}]
    assert set_f1({"a", "b"}, {"a"}) == pytest.approx(2 / 3)
    mlb = MultiLabelBinarizer().fit(gold + pred)
    ref = f1_score(mlb.transform(gold), mlb.transform(pred), average="samples", zero_division=0)
    assert samples_f1(gold, pred) == pytest.approx(ref)


def test_per_language_scores_means() -> None:
    t = per_language_scores(
        ["en", "en", "ru"],
        [{"A"}, {"B"}, {"A"}],
        [{"A: x"}, {"B: y"}, {"A: x"}],
        [{"A"}, {"A"}, {"A"}],
        [{"A: x"}, {"A: x"}, {"A: z"}],
    )
    assert t["en"]["coarse"] == pytest.approx(0.5)
    assert t["ru"]["coarse"] == pytest.approx(1.0)
    assert t["mean"]["coarse"] == pytest.approx(0.75)
    assert t["all"]["coarse"] == pytest.approx(2 / 3)
    assert t["mean"]["fine"] == pytest.approx(0.25)


def test_folds_are_deterministic_and_disjoint() -> None:
    from narrascope.models.folds import group_folds

    langs = ["en"] * 10 + ["ru"] * 10
    a, b = (group_folds(range(20), langs, n_folds=5, seed=0) for _ in range(2))
    seen = np.concatenate([te for _, te in a])
    assert sorted(seen.tolist()) == list(range(20))
    for (tr1, te1), (_, te2) in zip(a, b, strict=True):
        assert np.array_equal(te1, te2) and not set(tr1) & set(te1)
        assert sum(langs[i] == "en" for i in te1) == 2


def test_evaluate_on_fake_corpus(tmp_path: Path, encoder_calls: list[list[str]]) -> None:
    result = evaluate_narratives(write_corpus(tmp_path), folds=3, seed=0)
    assert len(encoder_calls) == 1  # the corpus is encoded once, not once per fold
    table = result["table"]
    assert set(table) == {"en", "ru", "mean", "all"}
    assert table["mean"]["coarse"] > 0.5  # the fake narratives are easy
    text = format_cv_table(result)
    assert "mean(lang)" in text and "en" in text


@pytest.mark.shared
@pytest.mark.skipif(not TRAIN.is_dir(), reason="../shared dataset not available")
def test_real_corpus_counts() -> None:
    docs = load_narrative_corpus(TRAIN)
    assert len(docs) == 1781
    assert len({(d.language, d.id) for d in docs}) == 1781


def test_train_narratives_writes_artefact(tmp_path: Path, encoder_calls: list[list[str]]) -> None:
    import json

    from narrascope.models.narratives import NarrativeClassifier
    from narrascope.training import train_narratives

    manifest = train_narratives(
        write_corpus(tmp_path / "corpus"), tmp_path / "model", folds=2, seed=0, progress=False
    )
    assert manifest["cv"]["table"]["mean"]["coarse"] > 0
    assert len(encoder_calls) == 1  # CV folds and the final fit share one encoding
    assert manifest["data"]["documents_per_language"] == {"en": 11, "ru": 11}
    assert manifest["artefact_bytes"] > 0 and manifest["training_seconds"] >= 0
    stored = json.loads((tmp_path / "model" / "meta.json").read_text())
    assert stored["cv"] == manifest["cv"] and "versions" in stored
    model = NarrativeClassifier.load(tmp_path / "model")
    assert model.predict(["Tanks and missiles of the army."], ["en"])[0][0]
