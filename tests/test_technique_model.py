"""TechniqueClassifier, its metrics, corpus reader, artefact round-trip and the CV gate.

The USE half is the real encoder (``SentenceEncoder.shared()``) unless a test passes
stand-in vectors."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from narrascope.doc import Document
from narrascope.errors import ModelError
from narrascope.models.artefact import bundled_path
from narrascope.models.folds import fold_of_rows, group_folds
from narrascope.models.techniques import TechniqueClassifier
from narrascope.stages.techniques import ParagraphTechniques, TechniqueStage
from narrascope.taxonomy import TECHNIQUES
from narrascope.text.segment import split_paragraphs
from narrascope.training.metrics import span_f1, technique_f1
from narrascope.training.techniques import (
    choose_thresholds,
    load_technique_corpus,
)

SHARED = Path(__file__).parents[1] / "../shared"
DATA = SHARED / "datasets/semeval2023-task3/data"

LOADED = "Loaded_Language"
NAME = "Name_Calling-Labeling"
DOUBT = "Doubt"

# Short hand-written paragraphs (ours, not from any dataset), English and Russian.
PARAGRAPHS = [
    (
        "The corrupt traitors and their disgusting lies destroy our glorious nation!",
        "en",
        [LOADED, NAME],
    ),
    (
        "These shameless clowns spread outrageous lies about our heroic soldiers.",
        "en",
        [LOADED, NAME],
    ),
    ("A disgusting, monstrous regime of thugs and liars.", "en", [LOADED, NAME]),
    ("Can we really trust what the minister says? His record raises questions.", "en", [DOUBT]),
    ("Is this report honest? Nobody has checked the figures they cite.", "en", [DOUBT]),
    ("The council met on Tuesday to discuss the budget for next year.", "en", []),
    ("Rain is expected in the north, with temperatures around ten degrees.", "en", []),
    ("The museum opens at nine and closes at five on weekdays.", "en", []),
    ("Эти наглые предатели и лжецы позорят нашу великую страну!", "ru", [LOADED, NAME]),
    ("Мерзкие клоуны снова распространяют чудовищную ложь.", "ru", [LOADED, NAME]),
    ("Можно ли верить министру? Его слова вызывают сомнения.", "ru", [DOUBT]),
    ("Совет обсудил бюджет на следующий год во вторник.", "ru", []),
    ("Музей открыт с девяти до пяти по будним дням.", "ru", []),
]


def analyse(model: TechniqueClassifier, text: str, language: str) -> list[ParagraphTechniques]:
    """What the techniques stage decides for each paragraph of one document."""
    return TechniqueStage(model=model).predict([Document(text, language=language)])[0]


@pytest.fixture(scope="module")
def fitted() -> TechniqueClassifier:
    texts, langs, labels = zip(*PARAGRAPHS, strict=True)
    return TechniqueClassifier(c_tfidf=10.0, c_encoder=10.0).fit(
        list(texts),
        list(langs),
        [list(x) for x in labels],
        thresholds={"*": 0.3, "en": 0.3},
        span_words={LOADED: 2, NAME: 3, DOUBT: 16},
    )


def test_split_paragraphs_numbers_lines_like_semeval() -> None:
    text = "Title\n\nFirst para.\r\n   \nSecond para.  \n"
    paras = split_paragraphs(text)
    assert [line for line, _, _ in paras] == [1, 3, 5]
    assert [text[s:e] for _, s, e in paras] == ["Title", "First para.", "Second para."]
    assert split_paragraphs("") == [] and split_paragraphs("\n \n") == []


def test_probabilities_and_decisions(fitted: TechniqueClassifier) -> None:
    p = fitted.predict_proba(
        ["Those disgusting traitors and liars!", "The budget was discussed on Tuesday."],
        ["en", "en"],
    )
    assert p.shape == (2, len(TECHNIQUES)) and np.all((p >= 0) & (p <= 1))
    assert p[0, TECHNIQUES.index(LOADED)] > p[1, TECHNIQUES.index(LOADED)]
    decided = fitted.decide(p, ["en", "en"])
    assert LOADED in decided[0] and decided[1] == []
    assert fitted.predict_proba([], []).shape == (0, len(TECHNIQUES))
    with pytest.raises(ValueError):
        fitted.predict_proba(["a"], [])


def test_thresholds_fall_back_to_global(fitted: TechniqueClassifier) -> None:
    assert fitted.thresholds_for(["en", "uk", None]).tolist() == pytest.approx([0.3, 0.3, 0.3])


def test_spans_and_document_analysis(fitted: TechniqueClassifier) -> None:
    text = (
        "Big news\n\nThe weather was calm today. Those disgusting traitors lie again!\n\n"
        "Музей открыт с девяти до пяти."
    )
    result = analyse(fitted, text, "en")
    assert [r.line for r in result] == [1, 3, 5]
    second = result[1]
    assert text[second.start : second.end].startswith("The weather")
    labels = dict(second.labels)
    assert LOADED in labels
    for start, end, tech, score in second.spans:
        assert second.start <= start < end <= second.end
        assert tech in labels and 0 < score <= labels[tech] + 1e-6
    loaded = [text[s:e] for s, e, t, _ in second.spans if t == LOADED]
    assert loaded and all("weather" not in span for span in loaded)  # localised, not the line
    assert fitted.spans("Calm text.", "en", []) == []


def test_save_load_roundtrip(fitted: TechniqueClassifier, tmp_path: Path) -> None:
    out = fitted.save(tmp_path / "m", meta={"note": "test"})
    assert sorted(p.name for p in out.iterdir()) == [
        "config.json",
        "meta.json",
        "state.json",
        "weights.npz",
    ]
    loaded = TechniqueClassifier.load(out)
    assert loaded.get_params() == fitted.get_params()
    texts = [t for t, _, _ in PARAGRAPHS]
    langs = [la for _, la, _ in PARAGRAPHS]
    np.testing.assert_array_equal(
        fitted.predict_proba(texts, langs), loaded.predict_proba(texts, langs)
    )
    assert loaded.thresholds_ == fitted.thresholds_
    assert loaded.meta["note"] == "test"
    assert analyse(loaded, "Disgusting traitors!", "en") == analyse(
        fitted, "Disgusting traitors!", "en"
    )
    with pytest.raises(ModelError):
        TechniqueClassifier.load(tmp_path / "missing")
    config = json.loads((out / "config.json").read_text())
    config["format"] = 99
    (out / "config.json").write_text(json.dumps(config))
    with pytest.raises(ModelError):
        TechniqueClassifier.load(out)


def test_weights_that_do_not_match_the_vocabulary_are_refused(
    fitted: TechniqueClassifier, tmp_path: Path
) -> None:
    out = fitted.save(tmp_path / "m")
    state = json.loads((out / "state.json").read_text())
    state["languages"].append("uk")  # one more language column than the weights have
    (out / "state.json").write_text(json.dumps(state))
    with pytest.raises(ModelError, match=r"coef has .* rows"):
        TechniqueClassifier.load(out)
    state["languages"].pop()
    state["vocab_word"].pop()
    (out / "state.json").write_text(json.dumps(state))
    with pytest.raises(ModelError, match="idf weights"):
        TechniqueClassifier.load(out)


def test_unfitted_model_and_thresholds_are_clear_errors() -> None:
    with pytest.raises(ModelError, match="not fitted"):
        TechniqueClassifier().predict_proba(["a"], ["en"])
    with pytest.raises(ValueError, match="'\\*'"):
        TechniqueClassifier().set_thresholds({"en": 0.3})


def test_thresholds_are_set_through_the_public_method(fitted: TechniqueClassifier) -> None:
    before = dict(fitted.thresholds_)
    try:
        assert fitted.set_thresholds({"*": 0.5, "ru": 0.1}) is fitted
        assert fitted.thresholds_for(["en", "ru"]).tolist() == pytest.approx([0.5, 0.1])
    finally:
        fitted.set_thresholds(before)


def test_unknown_technique_is_an_error() -> None:
    with pytest.raises(ValueError):
        TechniqueClassifier().fit(["a b"], ["en"], [["Not_A_Technique"]])


def test_technique_f1_matches_hand_count() -> None:
    gold = [{LOADED, NAME}, set(), {DOUBT}]
    pred = [{LOADED}, {NAME}, {DOUBT}]
    scores = technique_f1(gold, pred, TECHNIQUES)
    assert scores["micro_f1"] == pytest.approx(2 * 2 / (3 + 3))
    # per class: Loaded 1, Name 0 (1 gold, 1 wrong pred), Doubt 1, the other 20 score 0
    assert scores["macro_f1"] == pytest.approx(2 / 23)


def test_span_f1_gives_partial_overlap_credit() -> None:
    gold = [[(0, 10, LOADED), (20, 30, DOUBT)]]
    assert span_f1(gold, gold)["f1"] == pytest.approx(1.0)
    half = span_f1(gold, [[(5, 10, LOADED)]])  # precision 1, recall (0.5 + 0) / 2
    assert half["precision"] == pytest.approx(1.0) and half["recall"] == pytest.approx(0.25)
    wrong = span_f1(gold, [[(0, 10, NAME)]])
    assert wrong["f1"] == 0.0
    assert span_f1([[]], [[]])["f1"] == 0.0


def test_choose_thresholds_shrinks_small_languages() -> None:
    rng = np.random.default_rng(0)
    y = (rng.random((400, 3)) < 0.3).astype(np.int8)
    probs = np.clip(y * 0.5 + rng.random((400, 3)) * 0.5, 0, 1)
    langs = ["en"] * 390 + ["ru"] * 10
    free = choose_thresholds(probs, y, langs, shrinkage=0.0)
    tied = choose_thresholds(probs, y, langs, shrinkage=1e6)
    assert tied["ru"] == tied["*"] and 0.05 <= free["*"] <= 0.6


def test_cv_folds_never_split_an_article() -> None:
    groups = [f"a{i // 4}" for i in range(80)]
    langs = ["en" if i < 40 else "ru" for i in range(80)]
    fold = fold_of_rows(group_folds(groups, langs, n_folds=5), len(groups))
    for g in set(groups):
        assert len({fold[i] for i, x in enumerate(groups) if x == g}) == 1
    assert set(fold) == set(range(5))


def test_corpus_reader_numbers_paragraphs(tmp_path: Path) -> None:
    root = tmp_path / "data" / "en"
    (root / "train-articles-subtask-3").mkdir(parents=True)
    (root / "train-labels-subtask-3-spans").mkdir()
    text = "A title\n\nThose traitors lie.\n\nCalm words.\n"
    (root / "train-articles-subtask-3" / "article7.txt").write_text(text, encoding="utf-8")
    (root / "train-labels-subtask-3.txt").write_text(
        f"7\t1\t\n7\t3\t{LOADED},{NAME}\n7\t5\t\n", encoding="utf-8"
    )
    (root / "train-labels-subtask-3-spans" / "article7-labels-subtask-3.txt").write_text(
        f"7\t{NAME}\t15\t23\n", encoding="utf-8"
    )
    (article,) = load_technique_corpus(tmp_path / "data")
    assert article.language == "en" and article.group == "en:7"
    assert [(p.line, text[p.start : p.end]) for p in article.paragraphs] == [
        (1, "A title"),
        (3, "Those traitors lie."),
        (5, "Calm words."),
    ]
    assert article.paragraphs[1].labels == {LOADED, NAME}
    assert article.spans == ((15, 23, NAME),) and text[15:23] == "traitors"


@pytest.mark.skipif(not bundled_path("techniques").is_dir(), reason="no bundled artefact")
def test_bundled_artefact_loads_and_is_small() -> None:
    root = bundled_path("techniques")
    size = sum(p.stat().st_size for p in root.iterdir())
    assert size < 8_500_000
    meta = json.loads((root / "meta.json").read_text())
    assert meta["cv"]["table"]["mean"]["micro_f1"] > 0.35
    # trained on the extra corpora too (issue 22): CheckThat scored on its held-out articles
    assert sorted(meta["data"]["extra_corpora"]) == ["ct24", "sem21", "slavic", "unlp"]
    assert meta["cv"]["sources"]["ct24"]["bg"]["micro_f1"] > 0.3
    model = TechniqueClassifier.load(root)
    t = model.thresholds_
    # bg, pt and uk have training data now: their own thresholds and the trained mix; es has
    # none but the encoder covers it (the unseen mix and threshold); ka neither (global)
    assert {"bg", "pt", "uk"} <= set(model.languages_)
    assert model.thresholds_for(["en", "uk", "pt", "es", "ka"]).tolist() == pytest.approx(
        [t["en"], t["uk"], t["pt"], t["?"], t["*"]]
    )
    assert model.encoder_shares(["en", "uk", "pt", "es"]).tolist() == pytest.approx(
        [0.5, 0.5, 0.5, 0.85]
    )
    (para,) = analyse(model, "Those corrupt traitors spread disgusting lies!", "en")
    assert "Loaded_Language" in dict(para.labels)


@pytest.mark.shared
@pytest.mark.slow
@pytest.mark.skipif(not DATA.is_dir(), reason="../shared dataset not available")
@pytest.mark.skipif(
    os.environ.get("NARRASCOPE_LONG_GATES") != "1",
    reason="~15 min (USE over 39k paragraphs, then 5 folds): set NARRASCOPE_LONG_GATES=1 to run",
)
def test_cv_gate() -> None:
    from narrascope.training.techniques import evaluate_techniques

    # measured 2026-12-05 with the extra corpora next to the release (the shipped recipe):
    # mean 0.426, en 0.398, ru 0.429, span F1 0.119; CheckThat bg 0.328, en 0.284, pt 0.346
    # (SemEval-2023 alone: 0.428 / 0.401 / 0.429 / 0.121; docs/benchmarks.md)
    result = evaluate_techniques(DATA, folds=5)
    table = result["table"]
    assert table["mean"]["micro_f1"] >= 0.42
    assert table["en"]["micro_f1"] >= 0.38
    assert table["ru"]["micro_f1"] >= 0.42
    assert result["spans"]["en2023"]["f1"] >= 0.10
    if "ct24" in result["sources"]:
        checkthat = result["sources"]["ct24"]
        assert min(checkthat[la]["micro_f1"] for la in ("bg", "en", "pt")) >= 0.27


def test_unseen_languages_lean_on_the_multilingual_encoder(tmp_path: Path) -> None:
    # Random stand-ins for USE vectors: the arithmetic of the mix is what is tested here.
    texts, langs, labels = zip(*PARAGRAPHS, strict=True)
    rng = np.random.default_rng(0)
    emb = rng.normal(size=(len(texts), 512)).astype(np.float32)
    model = TechniqueClassifier(encoder_share=0.5, unseen_share=0.85).fit(
        list(texts),
        list(langs),
        [list(x) for x in labels],
        embeddings=emb,
        thresholds={"*": 0.3, "en": 0.25, "?": 0.2},
    )
    probe = ["Those disgusting traitors lie!", "The museum opens at nine."]
    probe_emb = emb[:2]
    # pt and es: no training data, but the encoder covers them; uk, bg, hi: neither
    assert model.encoder_shares(["en", "ru", "pt", "es", "uk", "bg", "hi", None]).tolist() == (
        pytest.approx([0.5, 0.5, 0.85, 0.85, 0.5, 0.5, 0.5, 0.5])
    )
    seen = model.predict_proba(probe, ["pt"] * 2, embeddings=probe_emb)
    ngram = model.tfidf_proba(probe, ["pt"] * 2)
    model.unseen_share = 0.5  # every language mixed alike
    plain = model.predict_proba(probe, ["pt"] * 2, embeddings=probe_emb)
    use = (plain - 0.5 * ngram) / 0.5
    assert np.allclose(seen, 0.15 * ngram + 0.85 * use, atol=1e-6)
    # a language the model was trained on keeps the trained mix, whatever unseen_share is
    en_plain = model.predict_proba(probe, ["en"] * 2, embeddings=probe_emb)
    model.unseen_share = 0.85
    assert np.allclose(model.predict_proba(probe, ["en"] * 2, embeddings=probe_emb), en_plain)
    # its own threshold; a trained language without one, or a language the encoder does
    # not cover, the global one; an unseen language the encoder covers, the unseen one
    assert model.thresholds_for(["en", "ru", "pt", "uk", "hi", None]).tolist() == pytest.approx(
        [0.25, 0.3, 0.2, 0.3, 0.3, 0.3]
    )
    loaded = TechniqueClassifier.load(model.save(tmp_path / "m"))
    assert loaded.unseen_share == 0.85 and loaded.thresholds_["?"] == 0.2


def test_unseen_threshold_is_the_global_one_at_the_trained_mix() -> None:
    from narrascope.training.techniques import unseen_threshold

    rng = np.random.default_rng(1)
    y = (rng.random((300, len(TECHNIQUES))) < 0.1).astype(np.int8)
    ngram = np.clip(0.3 * y + rng.random(y.shape) * 0.4, 0, 1)
    use = np.clip(0.5 * y + rng.random(y.shape) * 0.3, 0, 1)
    result = {
        "oof_proba": 0.5 * ngram + 0.5 * use,
        "oof_ngram": ngram,
        "y": y,
        "languages": ["en"] * 150 + ["ru"] * 150,
    }
    glob = choose_thresholds(result["oof_proba"], y, result["languages"])["*"]
    assert unseen_threshold(result, 0.5, 0.5) == pytest.approx(glob)
    # the encoder alone separates these better: its own threshold, not the mix's
    alone = unseen_threshold(result, 0.5, 1.0)
    assert alone == pytest.approx(choose_thresholds(use, y, result["languages"])["*"])


def _articles_of(paragraphs: list[tuple[str, str, list[str]]]) -> list:
    """One article per two paragraphs of the hand-written fixtures."""
    from narrascope.training.techniques import TechniqueArticle, TechniqueParagraph

    out = []
    for k in range(0, len(paragraphs), 2):
        part = paragraphs[k : k + 2]
        text, paras, pos = "", [], 0
        for line, (para, _, labels) in enumerate(part, 1):
            paras.append(TechniqueParagraph(2 * line - 1, pos, pos + len(para), frozenset(labels)))
            text += para + "\n\n"
            pos = len(text)
        out.append(TechniqueArticle(str(k), part[0][1], text, tuple(paras)))
    return out


def test_leave_one_language_out_scores_each_language_as_unseen() -> None:
    from narrascope.training.techniques import leave_one_language_out

    english = [p for p in PARAGRAPHS if p[1] == "en"]
    russian = [p for p in PARAGRAPHS if p[1] == "ru"]
    result = leave_one_language_out(
        _articles_of(english) + _articles_of(russian),
        shares=(0.0, 1.0),
        folds=2,
    )
    table = result["table"]
    assert sorted(table) == [0.0, 1.0]
    for row in table.values():
        assert sorted(row) == ["en", "mean", "ru"]
        assert all(0.0 <= v <= 1.0 for v in row.values())
        assert row["mean"] == pytest.approx((row["en"] + row["ru"]) / 2)
    # the multilingual encoder carries what it learnt across languages, the other
    # language's n-grams much less (the finding that sets unseen_share)
    assert table[1.0]["ru"] > table[0.0]["ru"] and table[1.0]["en"] > table[0.0]["en"]
