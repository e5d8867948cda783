"""EntityRoleClassifier: fit / predict / save / load on small EN and RU fixtures, the role
hierarchy, the metrics, and (slow) a CV gate on the shared SemEval-2025 data."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from narrascope.errors import ModelError
from narrascope.models.entities import (
    EntityRoleClassifier,
    RoleScores,
    mention_paragraph_vectors,
    mention_texts,
    normalise_name,
)
from narrascope.taxonomy import FINE_ROLES, MAIN_ROLES
from narrascope.training.metrics import entity_scores, exact_match_ratio, micro_f1

# Short texts written for these tests: the hero defends, the villain attacks, the victim suffers.
_EN = [
    ("The brave {h} defended the city while the cruel {v} shelled the homes of {i}.",),
    ("{v} launched missiles again; {h} protected the people and {i} lost everything.",),
    ("Peaceful {i} fled the bombs of {v}, and {h} organised the rescue.",),
    ("{h} stood guard at the border as {v} spread lies and {i} suffered in silence.",),
]
_RU = [
    ("Храбрый {h} защитил город, а жестокий {v} обстрелял дома, где жили {i}.",),
    ("{v} снова запустил ракеты; {h} спас людей, а {i} потеряли всё.",),
    ("Мирные {i} бежали от бомб, которые бросал {v}, а {h} организовал спасение.",),
]
_CAST = {
    "en": [
        ("Captain Rivers", "General Blackmoor", "villagers"),
        ("Mayor Olsen", "Warlord Krang", "farmers"),
    ],
    "ru": [
        ("капитан Соколов", "генерал Мрак", "сельчане"),
        ("мэр Орлов", "полковник Тьмин", "фермеры"),
    ],
}
_ROLES = {
    "h": ("Protagonist", ["Guardian"]),
    "v": ("Antagonist", ["Instigator"]),
    "i": ("Innocent", ["Victim"]),
}


def _corpus() -> tuple[list[str], list[str], list[list[tuple[int, int]]], list, list]:
    texts, langs, spans, mains, fines = [], [], [], [], []
    for lang, templates in (("en", _EN), ("ru", _RU)):
        for (template,) in templates:
            for hero, villain, victim in _CAST[lang]:
                names = {"h": hero, "v": villain, "i": victim}
                text, doc_spans, doc_main, doc_fine = template, [], [], []
                # fill placeholders left to right, recording offsets
                out = ""
                rest = text
                while "{" in rest:
                    before, _, after = rest.partition("{")
                    key, _, rest = after.partition("}")
                    out += before
                    doc_spans.append((len(out), len(out) + len(names[key])))
                    out += names[key]
                    doc_main.append(_ROLES[key][0])
                    doc_fine.append(list(_ROLES[key][1]))
                out += rest
                texts.append(out)
                langs.append(lang)
                spans.append(doc_spans)
                mains.append(doc_main)
                fines.append(doc_fine)
    return texts, langs, spans, mains, fines


@pytest.fixture(scope="module")
def corpus() -> tuple:
    return _corpus()


@pytest.fixture(scope="module")
def fitted(corpus: tuple) -> EntityRoleClassifier:
    texts, langs, spans, mains, fines = corpus
    # negatives: a word that is mentioned but never framed
    negatives = [[(0, 3)] if t.startswith("The") else [] for t in texts]
    return EntityRoleClassifier(calibration_folds=3, keep_features=500).fit(
        texts, langs, spans, mains, fines, negatives=negatives, narratives=_narratives(len(texts))
    )


# Neutral sentences naming places that are mentioned, never framed (the negatives).
_NEUTRAL = {
    "en": "The report was published in {p} on Monday.",
    "ru": "Доклад был опубликован в городе {p} в понедельник.",
}
_PLACES = {"en": ["Geneva", "Brussels", "Vienna", "Oslo"], "ru": ["Женева", "Брюссель", "Вена"]}


@pytest.fixture(scope="module")
def fitted_places(corpus: tuple) -> EntityRoleClassifier:
    """The fixtures plus a neutral sentence naming a place; the place spans are negatives."""
    texts, langs, spans, mains, fines = corpus
    out_texts, negatives = [], []
    for k, (text, lang) in enumerate(zip(texts, langs, strict=True)):
        place = _PLACES[lang][k % len(_PLACES[lang])]
        sentence = _NEUTRAL[lang].format(p=place)
        start = len(text) + 1 + sentence.index(place)
        out_texts.append(f"{text} {sentence}")
        negatives.append([(start, start + len(place))])
    return EntityRoleClassifier(calibration_folds=3, framed_folds=3, keep_features=500).fit(
        out_texts,
        langs,
        spans,
        mains,
        fines,
        negatives=negatives,
        narratives=_narratives(len(texts)),
    )


def test_framed_head_separates_framed_from_mentioned(fitted_places: EntityRoleClassifier) -> None:
    text = (
        "The cruel Warlord Krang shelled the homes of farmers again. "
        "The report was published in Lisbon on Monday."
    )
    v, p = text.index("Warlord Krang"), text.index("Lisbon")
    s = fitted_places.predict_proba([text], ["en"], [[(v, v + 13), (p, p + 6)]])
    assert s.framed is not None
    assert s.framed[0] > s.framed[1] + 0.2, s.framed
    text_ru = "Жестокий генерал Мрак снова обстрелял дома. Доклад был опубликован в городе Рига."
    v, p = text_ru.index("генерал Мрак"), text_ru.index("Рига")
    s = fitted_places.predict_proba([text_ru], ["ru"], [[(v, v + 12), (p, p + 4)]])
    assert s.framed[0] > s.framed[1], s.framed
    assert 0.0 < fitted_places.min_framed < 1.0


def test_fixture_offsets(corpus: tuple) -> None:
    texts, _, spans, _, _ = corpus
    assert texts[0][spans[0][0][0] : spans[0][0][1]] == "Captain Rivers"
    assert all(0 <= s < e <= len(t) for t, sp in zip(texts, spans, strict=True) for s, e in sp)


def test_mention_views_mask_the_mention(corpus: tuple) -> None:
    texts, langs, spans, _, _ = corpus
    m = mention_texts(texts[:1], langs[:1], spans[:1], window=30)
    assert "Captain Rivers" not in m.texts["win"][0] and "ENTX" in m.texts["win"][0]
    assert "Captain Rivers" not in m.texts["sent"][0] and "ENTX" in m.texts["sent"][0]
    assert m.texts["name"][0] == "captain rivers" and m.keys[0] == "en|captain rivers"
    assert normalise_name(" «Путин», ") == "путин"


def test_fit_predict_shapes_and_probabilities(fitted: EntityRoleClassifier, corpus: tuple) -> None:
    texts, langs, spans, _, _ = corpus
    s = fitted.predict_proba(texts[:2], langs[:2], spans[:2])
    n = len(spans[0]) + len(spans[1])
    assert s.main.shape == (n, 3) and s.fine.shape == (n, len(fitted.fine_labels_))
    assert np.allclose(s.main.sum(axis=1), 1, atol=1e-4)
    assert np.allclose(s.fine.sum(axis=1), 1, atol=1e-4)
    assert s.framed is not None and s.framed.shape == (n,)
    assert list(s.doc) == [0] * len(spans[0]) + [1] * len(spans[1])
    empty = fitted.predict_proba([], [], [])
    assert empty.main.shape == (0, 3)


def test_predicts_roles_on_unseen_text(fitted: EntityRoleClassifier) -> None:
    text = "The brave Captain Rivers defended the city while the cruel Warlord Krang shelled it."
    h, v = text.index("Captain Rivers"), text.index("Warlord Krang")
    spans = [(h, h + len("Captain Rivers")), (v, v + len("Warlord Krang"))]
    ((hero, villain),) = fitted.predict([text], ["en"], [spans])
    assert hero[0] == "Protagonist" and villain[0] == "Antagonist"
    text_ru = "Мирные сельчане бежали от бомб, которые бросал генерал Мрак."
    s = text_ru.index("генерал Мрак")
    [[(main, fine)]] = fitted.predict([text_ru], ["ru"], [[(s, s + len("генерал Мрак"))]])
    assert main == "Antagonist" and fine == ["Instigator"]


def test_decisions_respect_hierarchy(fitted: EntityRoleClassifier) -> None:
    rng = np.random.default_rng(0)
    n, k = 50, len(fitted.fine_labels_)
    main = rng.dirichlet(np.ones(3), n).astype(np.float32)
    fine = rng.dirichlet(np.ones(k) * 0.3, n).astype(np.float32)
    for main_role, fine_roles in fitted.decide(RoleScores(main, fine, None, np.zeros(n, int))):
        assert main_role in MAIN_ROLES and 1 <= len(fine_roles) <= 2
        assert all(FINE_ROLES[f] == main_role for f in fine_roles)


def test_save_load_round_trip(fitted: EntityRoleClassifier, corpus: tuple, tmp_path: Path) -> None:
    texts, langs, spans, _, _ = corpus
    out = fitted.save(tmp_path / "m", meta={"note": "test"})
    assert {p.name for p in out.iterdir()} == {
        "config.json",
        "meta.json",
        "state.json",
        "weights.npz",
    }
    assert json.loads((out / "meta.json").read_text())["note"] == "test"
    loaded = EntityRoleClassifier.load(out)
    assert loaded.get_params() == fitted.get_params()  # tuples come back as tuples
    vectors = mention_paragraph_vectors(texts, spans, fitted.paragraph_languages, languages=langs)
    a = fitted.predict_proba(texts, langs, spans, paragraph_vectors=vectors)
    b = loaded.predict_proba(texts, langs, spans, paragraph_vectors=vectors)
    # the fitted model predicts with the weights that ship: identical after a round trip
    assert np.array_equal(a.main, b.main) and np.array_equal(a.fine, b.fine)
    assert np.array_equal(a.framed, b.framed)
    assert loaded.decide(b) == fitted.decide(a)
    with pytest.raises(ModelError):
        EntityRoleClassifier.load(tmp_path / "missing")


def test_params_are_kept_as_given_and_fit_returns_self(corpus: tuple) -> None:
    model = EntityRoleClassifier(keep_features=500, view_weights={"edge": 0.0})
    assert model.get_params()["view_weights"] == {"edge": 0.0}
    assert EntityRoleClassifier(**model.get_params()).get_params() == model.get_params()
    assert not model.is_fitted
    texts, langs, spans, mains, fines = corpus
    narr = _narratives(len(texts))
    assert model.fit(texts, langs, spans, mains, fines, narratives=narr) is model
    assert "edge" not in model.tfidf_.views  # a view of weight 0 is left out
    with pytest.raises(ValueError, match="unknown views"):
        EntityRoleClassifier(view_weights={"window": 1.0}).fit(
            texts, langs, spans, mains, fines, narratives=narr
        )
    with pytest.raises(ValueError, match="paragraph_vectors"):
        model.predict_proba(texts[:1], langs[:1], spans[:1], paragraph_vectors=np.zeros((1, 512)))


# Each fixture document's narrative probabilities (label -> probability), as the narrative
# stage gives them: half the documents lean to one narrative, half to the other.
_WAR = "URW: Blaming the war on others rather than the invader"
_PRAISE = "URW: Praise of Russia"


def _narratives(n: int) -> list[dict[str, float]]:
    return [{_WAR: 0.8, _PRAISE: 0.1} if i % 2 else {_WAR: 0.2, _PRAISE: 0.7} for i in range(n)]


def test_narrative_features(corpus: tuple, tmp_path: Path) -> None:
    texts, langs, spans, mains, fines = corpus
    narr = _narratives(len(texts))
    model = EntityRoleClassifier(calibration_folds=3, keep_features=800).fit(
        texts, langs, spans, mains, fines, narratives=narr
    )
    assert model.narrative_labels_ == sorted([_WAR, _PRAISE])
    s = model.predict_proba(texts, langs, spans, narr)
    flat_main = [r for roles in mains for r in roles]
    assert [d[0] for d in model.decide(s)] == flat_main
    # labels are matched by name: another order and an unknown label change nothing
    shuffled = [{"CC: unknown": 0.5, **dict(reversed(list(p.items())))} for p in narr]
    assert np.allclose(model.predict_proba(texts, langs, spans, shuffled).main, s.main)
    # without narratives (the narrative stage did not run) the training mean stands in
    s0 = model.predict_proba(texts, langs, spans)
    assert s0.main.shape == s.main.shape and np.allclose(s0.main.sum(axis=1), 1, atol=1e-4)
    assert [d[0] for d in model.decide(s0)] == flat_main
    loaded = EntityRoleClassifier.load(model.save(tmp_path / "narr"))
    assert loaded.narrative_labels_ == model.narrative_labels_
    b = loaded.predict_proba(texts, langs, spans, narr)
    assert np.allclose(b.main, s.main, atol=2e-3) and loaded.decide(b) == model.decide(s)
    # the defaults use narratives: fitting without them is an error, not a silent change
    with pytest.raises(ValueError, match="narratives"):
        EntityRoleClassifier().fit(texts, langs, spans, mains, fines)
    plain = EntityRoleClassifier(
        narrative_weight=0.0, side_narrative_weight=0.0, calibration_folds=3
    ).fit(texts, langs, spans, mains, fines)
    assert not plain.narrative_labels_ and plain.narrative_mean_ is None


def test_unfitted_model_raises() -> None:
    with pytest.raises(ModelError):
        EntityRoleClassifier().predict_proba(["x"], ["en"], [[(0, 1)]])


def test_entity_metrics() -> None:
    assert exact_match_ratio([{"a"}, {"a", "b"}], [["a"], ["a"]]) == 0.5
    assert micro_f1([{"a"}, {"a", "b"}], [["a"], ["a"]]) == pytest.approx(2 * 2 / (3 + 2))
    table = entity_scores(["en", "ru"], ["P", "A"], [["x"], ["y"]], ["P", "P"], [["x"], ["y"]])
    assert table["en"]["main_acc"] == 1.0 and table["ru"]["main_acc"] == 0.0
    assert table["all"]["main_acc"] == 0.5 and table["all"]["emr"] == 1.0


# Neutral sentences: only the document's narratives say who is the hero. In documents that
# praise Russia its side is Protagonist and the West Antagonist; in the others, the reverse.
_MEETINGS = (
    "{a} and {b} met in Geneva on Tuesday; {a} spoke first and {b} answered.",
    "Talks between {a} and {b} ended late in the evening.",
    "On Monday {b} received a letter from {a}.",
)
_RUSSIA_SIDE = ("Russia", "Putin", "Lavrov", "Moscow")
_WEST_SIDE = ("NATO", "Washington", "Biden", "the EU")


def _meetings(
    russia: Sequence[str], west: Sequence[str], praise: Sequence[bool]
) -> tuple[list[str], list[list[tuple[int, int]]], list[dict[str, float]], list[list[str]]]:
    texts, spans, narr, mains = [], [], [], []
    for pro in praise:
        for template in _MEETINGS:
            for a in russia:
                for b in west:
                    text = template.format(a=a, b=b)
                    first_a, first_b = text.index(a), text.index(b)
                    texts.append(text)
                    spans.append([(first_a, first_a + len(a)), (first_b, first_b + len(b))])
                    narr.append({_PRAISE: 0.9, _WAR: 0.6} if pro else {_PRAISE: 0.05, _WAR: 0.1})
                    mains.append(
                        ["Protagonist", "Antagonist"] if pro else ["Antagonist", "Protagonist"]
                    )
    return texts, spans, narr, mains


def test_side_narrative_features_let_narratives_turn_a_side(tmp_path: Path) -> None:
    texts, spans, narr, mains = _meetings(_RUSSIA_SIDE[:3], _WEST_SIDE[:3], [True, False])
    fines = [
        [[{"Protagonist": "Guardian", "Antagonist": "Instigator"}[r]] for r in m] for m in mains
    ]
    langs = ["en"] * len(texts)

    def protagonist_share(model: EntityRoleClassifier) -> tuple[float, float]:
        # names of either side the model never saw, in a praising and in a neutral document
        new, _, new_narr, _ = _meetings(["the Kremlin"], ["the Pentagon"], [True, False])
        new_spans = [[(t.index("the Kremlin"), t.index("the Kremlin") + 11)] for t in new]
        p = model.predict_proba(new, ["en"] * len(new), new_spans, new_narr).main[:, 0]
        half = len(new) // 2
        return float(p[:half].mean()), float(p[half:].mean())

    settings = {"calibration_folds": 3, "keep_features": 800, "narrative_weight": 1.0}
    plain = EntityRoleClassifier(**settings, side_narrative_weight=0.0).fit(
        texts, langs, spans, mains, fines, narratives=narr
    )
    sided = EntityRoleClassifier(**settings, side_narrative_weight=1.0).fit(
        texts, langs, spans, mains, fines, narratives=narr
    )
    assert MAIN_ROLES[0] == "Protagonist"
    pro, neutral = protagonist_share(sided)
    assert pro > 0.6 and neutral < 0.4, (pro, neutral)  # the Kremlin, praised or not
    plain_pro, plain_neutral = protagonist_share(plain)
    assert abs(plain_pro - plain_neutral) < (pro - neutral) / 2  # names alone cannot tell
    loaded = EntityRoleClassifier.load(sided.save(tmp_path / "sided"))
    assert loaded.side_narrative_weight == 1.0
    assert np.allclose(protagonist_share(loaded), (pro, neutral), atol=0.01)


def test_bundled_artefact_loads() -> None:
    from narrascope.training.entities import DEFAULT_ARTEFACT

    if not (DEFAULT_ARTEFACT / "config.json").is_file():
        pytest.skip("no bundled entity model")
    model = EntityRoleClassifier.load(DEFAULT_ARTEFACT)
    text = "Russian troops shelled Kharkiv again; Ukrainian rescuers saved civilians."
    s = text.index("civilians")
    [[(main, fine)]] = model.predict([text], ["en"], [[(s, s + len("civilians"))]])
    assert main in MAIN_ROLES and fine and all(FINE_ROLES[f] == main for f in fine)
    # trained with detected negatives: a framed probability and the CV-chosen threshold
    scores = model.predict_proba([text], ["en"], [[(s, s + len("civilians"))]])
    assert scores.framed is not None and 0.0 < model.min_framed < 1.0
    # trained with the narrative stage's probabilities as document features
    assert model.narrative_weight > 0 and len(model.narrative_labels_) > 50
    assert model.side_narrative_weight > 0  # side x narratives (session 6)
    assert model.document_context > 0 and "edge" in model.tfidf_.views  # session 7
    assert any("|" in t for t in model.tfidf_.fixed_["edge"].vocabulary_)  # side tags
    assert model.uses_paragraphs and list(model.paragraph_languages) == ["en", "pt", "ru"]
    assert "URW: Praise of Russia" in model.narrative_labels_
    assert (DEFAULT_ARTEFACT / "meta.json").is_file()
    size = sum(p.stat().st_size for p in DEFAULT_ARTEFACT.iterdir())
    assert size <= 5_000_000


# Pinned slightly under the measured 5-fold CV (docs/entities-research.md). Measured
# 2026-12-05 with the folds of models.folds (documents stratified by language): all
# 0.756 / 0.389, bg 0.750 / 0.309, en 0.735 / 0.233, hi 0.728 / 0.398, pt 0.789 / 0.479,
# ru 0.814 / 0.420 (main / EMR). The same model code on the earlier unstratified folds gives
# bg 0.779 / 0.323: Bulgarian's 625 mentions move by 0.03 with the fold assignment alone.
MIN_CV = {
    "all": (0.745, 0.375),
    "bg": (0.735, 0.295),
    "en": (0.70, 0.205),
    "hi": (0.715, 0.39),
    "pt": (0.755, 0.445),
    "ru": (0.795, 0.40),
}


@pytest.mark.slow
@pytest.mark.shared
def test_cross_validation_gate(semeval25: Path) -> None:
    from narrascope.training.entities import evaluate_entities

    result = evaluate_entities(semeval25 / "train", folds=5)
    table = result["table"]
    for key, (min_acc, min_emr) in MIN_CV.items():
        assert table[key]["main_acc"] >= min_acc, (key, table[key])
        assert table[key]["emr"] >= min_emr, (key, table[key])


def test_cross_validation_records_the_folds_that_ran(
    corpus: tuple, capsys: pytest.CaptureFixture[str]
) -> None:
    """Asked for more folds than documents, the CV makes one per document and says so."""
    from narrascope.training.corpus import EntityDocument, GoldMention
    from narrascope.training.entities import cross_validate_entities

    docs = [
        EntityDocument(
            f"d{i}",
            lang,
            text,
            tuple(
                GoldMention(text[s:e], s, e, main, tuple(fine))
                for (s, e), main, fine in zip(spans, mains, fines, strict=True)
            ),
        )
        for i, (text, lang, spans, mains, fines) in enumerate(zip(*corpus, strict=True))
    ]
    docs = docs[:3] + docs[8:11]  # three English, three Russian
    result = cross_validate_entities(
        docs,
        folds=100,
        settings={"calibration_folds": 3, "keep_features": 500},
        progress=True,
        narratives=_narratives(len(docs)),
    )
    assert result["folds"] == 6
    printed = capsys.readouterr().out
    assert "fold 6/6 done" in printed and "/100" not in printed


def test_framed_thresholds_maximise_f1_pooled_and_per_language() -> None:
    from narrascope.training.entities import choose_min_framed, choose_min_framed_by_language

    def row(f1s: dict[str, float], n_framed: int = 10) -> dict:
        return {"n_framed": n_framed, **{t: {"f1": f} for t, f in f1s.items()}}

    report = {
        "entity": {
            "en": row({"0.1": 0.40, "0.2": 0.32, "0.3": 0.14}),
            "hi": row({"0.1": 0.70, "0.2": 0.80, "0.3": 0.80}),  # tie: the higher one
            "xx": row({"0.1": 0.0, "0.2": 0.0}, n_framed=0),  # nothing framed: no own value
            "all": row({"0.1": 0.55, "0.2": 0.62, "0.3": 0.50}),
        }
    }
    assert choose_min_framed(report) == 0.2
    assert choose_min_framed_by_language(report) == {"en": 0.1, "hi": 0.3}


def test_document_context_pools_the_other_mentions() -> None:
    from narrascope.models.entities import document_context

    # two documents; doc 0: Russia-side names a (twice) and b, a West-side name c, and a
    # name of no side d; doc 1: one Ukraine-side mention e
    scores = np.array([[1.0, 0], [3.0, 0], [0, 2.0], [0, 4.0], [5.0, 5.0], [7.0, 7.0]])
    doc = np.array([0, 0, 0, 0, 0, 1])
    group = np.array([0, 0, 1, 2, 3, 4])
    side = np.array([1, 1, 1, 3, 0, 2])  # 1 + index in SIDES: russia, russia, russia, west
    ctx = document_context(scores, doc, group, side)
    assert ctx.shape == (6, 9)
    others, same, opposed = ctx[:, 0:2], ctx[:, 3:5], ctx[:, 6:8]
    # a's mentions: the other names are b, c and d; its side also has b; c opposes it
    assert np.allclose(others[0], [(0 + 0 + 5) / 3, (2 + 4 + 5) / 3])
    assert np.allclose(same[0], [0, 2]) and np.allclose(opposed[0], [0, 4])
    # c (the West) is opposed by all three Russia-side mentions; it has no same-side peer
    assert np.allclose(opposed[3], [4 / 3, 2 / 3]) and np.allclose(ctx[3, 3:6], 0)
    # d has no side: no same-side or opposed set; e is alone in its document
    assert np.allclose(ctx[4, 3:], 0) and np.allclose(ctx[5], 0)
    assert np.allclose(ctx[:, [2, 5, 8]][0], [1, 1, 1])  # how much of each set there is
    # weights (e.g. framed probabilities of detected mentions) make a weighted mean
    weighted = document_context(scores, doc, group, side, np.array([1, 1, 1, 0.5, 0, 1.0]))
    assert np.allclose(weighted[0, 0:3], [(0 + 0.5 * 0) / 1.5, (2 + 0.5 * 4) / 1.5, 1.0])
    assert np.allclose(weighted[0, 8], 0.5)


# Where the West's name stands in a hero's or a villain's sentence, the Russia-side name
# in a distant neutral sentence of the same document is the other role.
_FILLER = " The weather was mild and the shops opened at nine as usual." * 5
_WEST_CASTS = {
    "Protagonist": "The brave {w} defended the city and protected the families.",
    "Antagonist": "The cruel {w} shelled the city and destroyed the homes.",
}
_NEUTRAL_REMARKS = ("{r} commented on the events on Tuesday.", "Later {r} issued a statement.")


def _opposed_documents(
    west: Sequence[str], russia: Sequence[str]
) -> tuple[list[str], list[list[tuple[int, int]]], list[list[str]]]:
    texts, spans, mains = [], [], []
    for role, cast in _WEST_CASTS.items():
        other = "Antagonist" if role == "Protagonist" else "Protagonist"
        for remark in _NEUTRAL_REMARKS:
            for w in west:
                for r in russia:
                    head = cast.format(w=w)
                    tail = remark.format(r=r)
                    text = head + _FILLER + " " + tail
                    a = text.index(w)
                    b = len(head) + len(_FILLER) + 1 + tail.index(r)
                    texts.append(text)
                    spans.append([(a, a + len(w)), (b, b + len(r))])
                    mains.append([role, other])
    return texts, spans, mains


def test_document_context_reads_a_side_from_its_enemies(tmp_path: Path) -> None:
    texts, spans, mains = _opposed_documents(_WEST_SIDE, _RUSSIA_SIDE)
    fines = [
        [[{"Protagonist": "Guardian", "Antagonist": "Instigator"}[r]] for r in m] for m in mains
    ]
    narr = [{_WAR: 0.5}] * len(texts)  # the same narratives everywhere: no help there
    # the paragraph vectors off too: each document is one paragraph, so its USE vector
    # would carry the West's cast to the Kremlin by another path
    settings = {"calibration_folds": 3, "keep_features": 800, "seed": 0}
    settings.update(paragraph_weight=0.0, side_paragraph_weight=0.0)

    def fit(weight: float) -> EntityRoleClassifier:
        return EntityRoleClassifier(**settings, document_context=weight).fit(
            texts, ["en"] * len(texts), spans, mains, fines, narratives=narr
        )

    def kremlin_protagonist(model: EntityRoleClassifier) -> tuple[float, float]:
        # an unseen Russia-side name, opposite an unseen West-side hero, then villain
        new, new_spans, _ = _opposed_documents(["the Pentagon"], ["the Kremlin"])
        p = model.predict_proba(new, ["en"] * len(new), new_spans, [{_WAR: 0.5}] * len(new))
        kremlin = p.main[1::2, 0]  # the second mention of each document
        half = len(kremlin) // 2
        return float(kremlin[:half].mean()), float(kremlin[half:].mean())

    facing_hero, facing_villain = kremlin_protagonist(fit(1.0))
    assert facing_hero < 0.4 < 0.6 < facing_villain, (facing_hero, facing_villain)
    plain_hero, plain_villain = kremlin_protagonist(fit(0.0))
    # measured: 0.26 / 0.74 with the context, 0.56 / 0.56 without
    assert abs(plain_villain - plain_hero) < (facing_villain - facing_hero) / 2
    # the context survives a save and load
    loaded = EntityRoleClassifier.load(fit(1.0).save(tmp_path / "context"))
    assert loaded.document_context == 1.0
    assert np.allclose(kremlin_protagonist(loaded), (facing_hero, facing_villain), atol=0.01)


def test_edge_view_keeps_the_words_that_govern_a_mention() -> None:
    from narrascope.models.entities import edge_text

    # Hindi: "Russia attacked Ukraine"; the agent marker ने (a letter and a vowel sign,
    # which the word views' tokenizer drops) follows Russia, पर ("on") follows Ukraine
    text = "रूस ने यूक्रेन पर हमला किया।"
    ukraine = text.index("यूक्रेन")
    assert edge_text(text, 0, len("रूस")).split() == ["r1:ने", "r2:यूक्रेन", "r12:ने_यूक्रेन"]
    assert edge_text(text, ukraine, ukraine + len("यूक्रेन")).split() == [
        "l1:ने",
        "l2:रूस",
        "r1:पर",
        "r2:हमला",
        "l21:रूस_ने",
        "r12:पर_हमला",
    ]
    text = "The city was shelled by Russia, officials said."
    start = text.index("Russia")
    tokens = edge_text(text, start, start + len("Russia"), width=1).split()
    assert tokens == ["l1:by", "r1:,"]  # punctuation counts: the clause ends there


# Russian training sentences and English test sentences share no n-gram: only the
# multilingual paragraph vector can carry "who defends, who shells" from one to the other.
_RU_CASTS = {
    "Protagonist": (
        "{n} мужественно защитил город и спас семьи.",
        "{n} принёс мир и помог мирным жителям.",
        "{n} героически освободил деревню от захватчиков.",
        "{n} спас раненых детей и накормил беженцев.",
        "{n} отважно защищал страну от врагов.",
    ),
    "Antagonist": (
        "{n} жестоко обстрелял город и разрушил дома.",
        "{n} обманул весь мир и напал на соседей.",
        "{n} убил мирных жителей и сжёг деревню.",
        "{n} разграбил город и пытал пленных.",
        "{n} начал войну и бомбил больницы.",
    ),
}
_EN_CASTS = {
    "Protagonist": ("{n} bravely defended the town and saved the families.",),
    "Antagonist": ("{n} brutally shelled the town and destroyed the houses.",),
}
_RU_NAMES = ("Лавров", "Байден", "Шольц", "Макрон", "Эрдоган", "Моди")


def _cast_documents(casts: dict, names: Sequence[str]) -> tuple[list, list, list, list]:
    texts, spans, mains, fines = [], [], [], []
    fine_of = {"Protagonist": "Guardian", "Antagonist": "Instigator"}
    for role, sentences in casts.items():
        for sentence in sentences:
            for name in names:
                text = sentence.format(n=name)
                texts.append(text)
                spans.append([(0, len(name))])
                mains.append([role])
                fines.append([[fine_of[role]]])
    return texts, spans, mains, fines


def test_paragraph_vectors_carry_a_cast_across_languages(tmp_path: Path) -> None:
    texts, spans, mains, fines = _cast_documents(_RU_CASTS, _RU_NAMES)
    langs = ["ru"] * len(texts)
    new, new_spans, new_mains, _ = _cast_documents(_EN_CASTS, ("Lavrov", "Macron", "Modi"))
    hero = np.array([m == ["Protagonist"] for m in new_mains])

    def protagonist(model: EntityRoleClassifier) -> tuple[float, float]:
        p = model.predict_proba(new, ["en"] * len(new), new_spans).main[:, 0]
        return float(p[hero].mean()), float(p[~hero].mean())

    settings = {"calibration_folds": 3, "keep_features": 800, "narrative_weight": 0.0}
    settings.update(side_narrative_weight=0.0, paragraph_languages=("en", "ru"))
    read = EntityRoleClassifier(**settings).fit(texts, langs, spans, mains, fines)
    hero_p, villain_p = protagonist(read)
    # measured 0.56 / 0.45: thirty short training sentences make a weak but clear reading
    assert hero_p - villain_p > 0.08, (hero_p, villain_p)
    blind = EntityRoleClassifier(**settings, paragraph_weight=0.0, side_paragraph_weight=0.0)
    blind_hero, blind_villain = protagonist(blind.fit(texts, langs, spans, mains, fines))
    assert abs(blind_hero - blind_villain) < (hero_p - villain_p) / 2  # n-grams cannot tell
    # a language outside ``paragraph_languages`` gets no vector, so no help either
    other = EntityRoleClassifier(**{**settings, "paragraph_languages": ("ru",)})
    other.fit(texts, langs, spans, mains, fines)
    other_hero, other_villain = protagonist(other)
    assert abs(other_hero - other_villain) < (hero_p - villain_p) / 2
    loaded = EntityRoleClassifier.load(read.save(tmp_path / "paragraphs"))
    assert list(loaded.paragraph_languages) == ["en", "ru"]
    assert np.allclose(protagonist(loaded), (hero_p, villain_p), atol=1e-4)


def test_paragraph_vectors_reuse_the_document_tensor(encoder_calls: list[list[str]]) -> None:
    from narrascope.doc import Document
    from narrascope.models.encoder import SentenceEncoder, document_vectors
    from narrascope.text.segment import segment

    text = "Kyiv was shelled again.\n\n  The Kremlin denied it. Nobody believed it.\nEnd."
    docs = [Document(text, language="en"), Document(text, language="bg")]
    document_vectors(SentenceEncoder.shared(), [segment(docs[0])])  # the narrative stage
    calls = encoder_calls
    calls.clear()  # from here on: what the entity stage encodes
    kremlin = text.index("Kremlin")
    spans = [[(0, 4), (kremlin, kremlin + 7)]] * 2
    rows = mention_paragraph_vectors(docs, spans, ("en",))
    assert calls == []  # every paragraph is on the English document's tensor already
    assert rows.shape == (4, 512)
    tensor = docs[0].tensor
    assert tensor is not None and np.array_equal(rows[:2], tensor[:2])
    assert not rows[2:].any() and docs[1].tensor is None  # Bulgarian: zero rows, no encoding

    # a document no stage encoded: the paragraphs up to its last mention, once
    fresh = Document("Moscow blamed the West.\nThe lights went out.\nEnd.", language="en")
    first = mention_paragraph_vectors([fresh], [[(0, 6)]], ("en",))
    again = mention_paragraph_vectors([fresh], [[(0, 6)]], ("en",))
    assert calls == [["Moscow blamed the West."]]  # encoded by the first call only
    assert np.array_equal(first, again)
    plain = mention_paragraph_vectors([fresh.text], [[(0, 6)]], ("en",), languages=["en"])
    assert np.allclose(plain, first, atol=1e-6)
    with pytest.raises(ValueError, match="languages"):
        mention_paragraph_vectors([fresh.text], [[(0, 6)]], ("en",))
