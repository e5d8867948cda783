"""The hate / offensive / incitement model (issue 24): the estimator contract on tiny
fixtures of our own, the lexicons, and the shipped artefact on our own examples."""

from __future__ import annotations

import zlib

import numpy as np
import pytest

from narrascope.errors import ModelError
from narrascope.models.artefact import bundled_path
from narrascope.models.hate import (
    HATE_LABELS,
    TARGETS,
    HateModel,
    balanced_weights,
    group_target,
    incitement_matches,
)

WIDTH = 384


def fake_vectors(texts: list[str]) -> np.ndarray:
    """A stand-in for e5: hashed words, so the tests need no encoder and are instant."""
    out = np.zeros((len(texts), WIDTH), np.float32)
    for i, text in enumerate(texts):
        for word in text.lower().split():
            out[i, zlib.crc32(word.strip(".,!?").encode()) % WIDTH] += 1.0
        out[i] /= max(np.linalg.norm(out[i]), 1e-9)
    return out


# our own fixtures: hateful (a group attacked for who it is), offensive, neutral
HATEFUL = [
    "those migrants are vermin and filth",
    "gays are vermin and disgusting filth",
    "women are vermin and filth",
    "migrants are filth and vermin animals",
] * 5
OFFENSIVE = [
    "you are a stupid idiot moron",
    "shut up you idiot stupid clown",
    "what a stupid moron idiot",
    "idiot moron clown shut up",
] * 5
NEUTRAL = [
    "the weather is nice today in the park",
    "we had lunch at the park today",
    "the train arrives at noon today",
    "nice lunch and a walk in the park",
] * 5
TARGET_OF = {"migrants": "nationality", "gays": "sexuality", "women": "gender"}


@pytest.fixture(scope="module")
def fitted() -> HateModel:
    return _fixture_model()


def _fixture_model(**params) -> HateModel:
    texts = HATEFUL + OFFENSIVE + NEUTRAL
    abusive = [1] * 40 + [0] * 20
    hateful = [1] * 20 + [0] * 40
    targets = [next((v for k, v in TARGET_OF.items() if k in t), None) for t in HATEFUL]
    targets += [None] * 40
    return HateModel(c=10.0, **params).fit(
        texts, abusive, hateful, targets, languages=["en"] * 60, vectors=fake_vectors(texts)
    )


class FakeEncoder:
    def __call__(self, texts):
        return fake_vectors(list(texts))


def test_fit_predict_save_load_round_trip(tmp_path, fitted):
    model = fitted
    texts = [
        "Migrants are vermin and filth.",
        "Shut up, you stupid idiot.",
        "We had a nice lunch in the park.",
    ]
    assert model.local_languages_ == ["en"]
    for langs in (["en"] * 3, None):  # the local n-gram heads, then the universal ones
        got = model.predict(texts, langs, encoder=FakeEncoder())
        assert [r.label for r in got] == ["hateful", "offensive", "none"]
        assert got[0].target == "nationality"  # the group lexicon names migrants
        assert got[2].evidence is None and got[2].target is None
    out = model.save(tmp_path / "hate")
    again = HateModel.load(out)
    assert again.thresholds_ == model.thresholds_ and again.targets_ == model.targets_
    for langs in (["en"] * 3, None):
        before = model.predict(texts, langs, encoder=FakeEncoder())
        after = again.predict(texts, langs, encoder=FakeEncoder())
        assert [(r.label, round(r.score, 5)) for r in after] == [
            (r.label, round(r.score, 5)) for r in before
        ]


def test_evidence_is_the_offending_sentence_inside_the_text(fitted):
    model = fitted
    text = "We had lunch at the park today.\nThose migrants are vermin and filth!"
    (r,) = model.predict([text], encoder=FakeEncoder())
    assert r.label == "hateful"
    a, b = r.evidence
    assert 0 <= a < b <= len(text)
    assert "vermin" in text[a:b] and "lunch" not in text[a:b]
    record = r.as_dict(text)
    assert record["hate"]["label"] in HATE_LABELS
    assert record["hate"]["evidence"]["text"] == text[a:b]


def test_incitement_flags_calls_to_violence_with_a_clause_span(fitted):
    model = fitted
    text = "Fine words; but we should nuke the corrupted West: all of it."
    (r,) = model.predict([text], encoder=FakeEncoder())
    assert r.incitement and r.incitement_score >= model.incitement_threshold
    a, b = r.incitement_evidence
    assert 0 <= a < b <= len(text) and "nuke" in text[a:b] and "Fine" not in text[a:b]
    (calm,) = model.predict(["Nobody should kill anyone over politics."], encoder=FakeEncoder())
    assert not calm.incitement and calm.incitement_evidence is None


@pytest.mark.parametrize(
    "text",
    [
        "They all deserve to die.",
        "Надо их всех расстрелять.",
        "Треба їх усіх знищити.",
        "Смърт на предателите!",
        "Vamos matar todos eles.",
        "इन सबको मार डालो।",
    ],
)
def test_incitement_lexicon_in_every_language(text):
    assert max(w for w, _, _ in incitement_matches(text)) >= 0.5


@pytest.mark.parametrize(
    "text",
    [
        "We will hunt you down and kill you.",
        "Nice photo, you stupid moron. We will hunt you down and kill you.",
        "We'll find them and shoot them all.",
        "I'm going to track you down and then stab you.",
    ],
)
def test_incitement_threats_with_a_verb_before_the_violent_one(text):
    assert max((w for w, _, _ in incitement_matches(text)), default=0.0) >= 0.5


@pytest.mark.parametrize(
    "text",
    [
        "We will not let them kill you.",
        "Officials said the strike will kill dozens of people.",
        "I will go home and hang out with friends.",
        "We will meet you at the station and show you the old town.",
    ],
)
def test_incitement_no_threat_in_negations_reports_or_plans(text):
    assert max((w for w, _, _ in incitement_matches(text)), default=0.0) < 0.5


def test_group_lexicon_and_weights():
    assert group_target("the gays and lesbians") == "sexuality"
    assert group_target("The transport was late") is None  # whole words unless a stem
    w = balanced_weights(np.array([1, 0, 0, 0, 1, 0]), ["a", "a", "a", "a", "b", "b"])
    assert np.isclose(w[:4].sum(), w[4:].sum())  # each corpus weighs the same
    assert np.isclose(w[0], w[1:4].sum())  # and each class inside it


def test_unfitted_and_empty(fitted):
    with pytest.raises(ModelError, match="not fitted"):
        HateModel().predict(["x"], encoder=FakeEncoder())
    (r,) = fitted.predict([""], encoder=FakeEncoder())
    assert r.label == "none" and r.evidence is None and not r.incitement


SHIPPED = bundled_path("hate")
needs_artefact = pytest.mark.skipif(
    not (SHIPPED / "config.json").is_file(), reason="no shipped hate artefact"
)


@pytest.fixture(scope="module")
def shipped():
    return HateModel.load(SHIPPED)


@needs_artefact
def test_shipped_artefact_flags_our_examples(shipped):
    texts = [
        "Muslims are filthy animals and should all be thrown out of this country.",
        "We should nuke them all and be done with it.",
        "The city council approved the new budget for schools on Tuesday.",
        "Все евреи — мерзкие твари, их надо гнать из страны.",
        "Надо их всех расстрелять.",
        "Завтра в городе ожидается солнечная погода.",
    ]
    got = shipped.predict(texts, ["en", "en", "en", "ru", "ru", "ru"])
    assert got[0].label == "hateful" and got[0].target == "religion"
    assert got[1].incitement
    assert got[2].label == "none" and not got[2].incitement
    assert got[3].label == "hateful" and got[3].target == "religion"
    assert got[4].incitement
    assert got[5].label == "none" and not got[5].incitement
    for text, r in zip(texts, got, strict=True):
        for span in (r.evidence, r.incitement_evidence):
            assert span is None or 0 <= span[0] < span[1] <= len(text)
    assert set(shipped.targets_) <= set(TARGETS)


def test_estimator_contract_and_damaged_artefact(fitted, tmp_path):
    import json

    from narrascope.errors import E_MODEL_VERSION

    params = HateModel().get_params()
    assert HateModel(**params).get_params() == params and repr(HateModel()) == "HateModel()"
    root = fitted.save(tmp_path / "hate")
    again = HateModel.load(root)
    assert again.get_params() == fitted.get_params()  # the tuple parameter survives JSON
    config = json.loads((root / "config.json").read_text())
    (root / "config.json").write_text(json.dumps({**config, "format": 1}))
    with pytest.raises(ModelError, match=E_MODEL_VERSION):
        HateModel.load(root)


class EarlyEncoder(FakeEncoder):
    """A stand-in with an early exit: its "first layers" see every text, the rest only
    the texts handed to ``finish`` (counted)."""

    def __init__(self) -> None:
        self.finished: list[str] = []

    def early(self, texts, layers):
        return fake_vectors(list(texts)), list(texts)

    def finish(self, states, start):
        self.finished += list(states)
        return fake_vectors(list(states))


def test_the_early_exit_settles_what_it_is_sure_of_and_reads_groups_whole(tmp_path):
    texts = HATEFUL + OFFENSIVE + NEUTRAL
    model = HateModel(c=10.0, early_miss=0.1).fit(
        texts,
        [1] * 40 + [0] * 20,
        [1] * 20 + [0] * 40,
        languages=["en"] * 60,
        vectors=fake_vectors(texts),
        early_vectors=fake_vectors(texts),
    )
    assert model.early_layers_ == 2
    th = model.thresholds_
    assert 0.0 <= th["early_lo"] <= th["early_hi"] <= 1.01 and "early_hate_lo" in th
    sentences = [
        "We had lunch at the park today.",
        "Shut up, you stupid idiot moron.",
        "Those migrants are vermin and filth.",
        "The train arrives at noon today.",
        "We had lunch at the park today.",
    ]
    enc = EarlyEncoder()
    got = model.predict(sentences, ["en"] * 5, encoder=enc)
    assert [r.label for r in got] == ["none", "offensive", "hateful", "none", "none"]
    # the sentence naming a group always goes through every layer; a clean one does not,
    # and a repeated sentence is read once
    assert "Those migrants are vermin and filth." in enc.finished
    assert "We had lunch at the park today." not in enc.finished
    settled, _, _ = model.early_scores(fake_vectors(sentences), sentences)
    assert settled[0] and not settled[2]
    # the same labels with the exit switched off, and after a save/load round trip
    off = HateModel.load(model.save(tmp_path / "hate"))
    assert off.early_layers_ == 2 and off.thresholds_ == model.thresholds_
    off.use_early = False
    assert [r.label for r in off.predict(sentences, ["en"] * 5, encoder=EarlyEncoder())] == [
        r.label for r in got
    ]


def test_names_and_headlines_are_not_calls():
    def strongest(text: str) -> float:
        return max((w for w, _, _ in incitement_matches(text)), default=0.0)

    # a movement's name mid-sentence, and a title-case headline
    assert strongest("He founded the movement Death to the World, which preaches asceticism.") < 0.5
    assert strongest("Analysis: Having Pulled the Gun Russia Must Shoot or Lose") < 0.5
    # the same words as a call, in lower case, at a sentence start, or shouted
    assert strongest("They shouted death to the world at the rally.") >= 0.5
    assert strongest("Death to Russia!") >= 0.5
    assert strongest("We must NUKE THEM ALL now.") >= 0.5 or strongest("NUKE THEM ALL") >= 0.5


@needs_artefact
def test_the_early_exit_continues_exactly_where_it_stopped():
    """Layers 3-12 run on the states the first two left give the vectors of one full pass
    (so the early exit changes which sentences are read whole, never their vectors)."""
    from narrascope.models.hate import E5Sentences

    enc = E5Sentences.shared()
    texts = [
        "The council approved the budget on Monday.",
        "Совет утвердил бюджет в понедельник, после долгого спора.",
        "परिषद ने सोमवार को बजट को मंज़ूरी दी।",
    ]
    full = enc(texts)
    first, states = enc.early(texts, 2)
    assert [len(s) for s in states] == [len(ids) for ids in enc.token_ids(texts)]
    assert np.allclose(enc.finish(states, 2), full, atol=1e-6)
    assert not np.allclose(first, full, atol=1e-2)  # two layers are not twelve
