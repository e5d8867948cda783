"""Invisible format characters inside a word (zero-width space, soft hyphen, word joiner,
zero-width joiner, BOM) do not hide a call to violence or a slur from the hate model: it
reads a view of the text without them, and its evidence still slices the text as given
and covers the whole obfuscated word (texts written for these tests)."""

from __future__ import annotations

import zlib

import numpy as np
import pytest

from narrascope.doc import Document
from narrascope.models.artefact import bundled_path
from narrascope.models.hate import HateModel
from narrascope.text.normalise import VisibleView, hides_inside_words, visible_text

ZWSP, ZWNJ, ZWJ, SHY, WJ, BOM = "\u200b", "\u200c", "\u200d", "\u00ad", "\u2060", "\ufeff"

# (plain, obfuscated, the obfuscated word the evidence must hold whole)
CALLS = [
    (
        "We should nuke them all and wipe Kyiv off the map.",
        f"We should nu{ZWSP}ke them all and wi{SHY}pe Kyiv off the map.",
        f"nu{ZWSP}ke",
    ),
    (
        "Those people should be shot, every single one.",
        f"Those people should be sh{ZWJ}ot, every single one.",
        f"sh{ZWJ}ot",
    ),
    ("Убейте их всех, пока не поздно!", f"Убе{ZWSP}йте их всех, пока не поздно!", f"Убе{ZWSP}йте"),
    ("Треба їх всіх знищити.", f"Треба їх всіх зни{WJ}щити.", f"зни{WJ}щити"),
    ("Vamos matar todos eles.", f"Vamos ma{BOM}tar todos eles.", f"ma{BOM}tar"),
    ("इन्हें मार डालो", f"इन्हें मार{ZWNJ} डा{ZWSP}लो", f"डा{ZWSP}लो"),
]


IDS = ["en-zwsp-shy", "en-zwj", "ru-zwsp", "uk-wj", "pt-bom", "hi-zwnj-zwsp"]


@pytest.mark.parametrize(("plain", "hidden", "word"), CALLS, ids=IDS)
def test_an_invisible_character_inside_a_word_does_not_hide_a_call(plain, hidden, word):
    model = HateModel()  # the lexicon needs no fitting
    score, _ = model.incitement(plain)
    assert score >= model.incitement_threshold  # the call itself is one
    got, (start, end) = model.incitement(hidden)
    assert got == score
    assert 0 <= start < end <= len(hidden)
    assert word in hidden[start:end]  # the whole word, invisible characters and all
    assert model.incitement_of(hidden)


def test_evidence_ends_on_the_obfuscated_word_and_leaves_out_what_surrounds_it():
    model = HateModel()
    text = f"{ZWSP}They should be sh{ZWSP}{SHY}ot{ZWSP}"
    score, (start, end) = model.incitement(text)
    assert score >= model.incitement_threshold
    assert text[start:end] == f"They should be sh{ZWSP}{SHY}ot"


def test_devanagari_joiners_that_shape_a_conjunct_are_kept():
    half = f"क्{ZWJ}ष"  # a half form: the joiner is part of the script
    eyelash = f"र{ZWJ}्"
    assert VisibleView(half).text == half and not VisibleView(half).changed
    assert VisibleView(eyelash).text == eyelash
    assert not hides_inside_words(half)
    # between two full letters a joiner shapes nothing: it goes, and the call is seen
    assert VisibleView(f"मार{ZWJ}डालो").text == "मारडालो"
    assert HateModel().incitement_of(f"इन्हें मार{ZWJ}डालो")


def test_the_view_maps_back_onto_the_original():
    text = f"a{ZWSP}b{SHY}{WJ}c d{BOM}"
    view = VisibleView(text)
    assert view.text == "abc d" and view.changed
    assert [text[view.char(i)] for i in range(len(view.text))] == list("abc d")
    assert text[slice(*view.span(0, 3))] == f"a{ZWSP}b{SHY}{WJ}c"
    assert view.span(4, 5) == (7, 8)  # the trailing BOM stays out
    plain = "nothing hidden here"
    assert VisibleView(plain).text is plain and visible_text(plain) is plain


WIDTH = 64


def _fake_vectors(texts: list[str]) -> np.ndarray:
    """A stand-in for e5 (hashed words), so the model test needs no encoder."""
    out = np.zeros((len(texts), WIDTH), np.float32)
    for i, text in enumerate(texts):
        for word in text.lower().split():
            out[i, zlib.crc32(word.strip(".,!?").encode()) % WIDTH] += 1.0
        out[i] /= max(np.linalg.norm(out[i]), 1e-9)
    return out


class _FakeEncoder:
    def __call__(self, texts):
        return _fake_vectors(list(texts))


@pytest.fixture(scope="module")
def fitted() -> HateModel:
    texts = (
        ["those migrants are vermin and filth", "migrants are filth and vermin animals"] * 10
        + ["you are a stupid idiot moron", "shut up you idiot stupid clown"] * 10
        + ["the weather is nice today in the park", "the train arrives at noon today"] * 10
    )
    targets = ["nationality"] * 20 + [None] * 40
    return HateModel(c=10.0).fit(
        texts,
        [1] * 40 + [0] * 20,
        [1] * 20 + [0] * 40,
        targets,
        languages=["en"] * 60,
        vectors=_fake_vectors(texts),
    )


def test_the_classifier_reads_the_words_behind_invisible_characters(fitted):
    plain = "We had lunch in the park. Those migrants are vermin and filth!"
    hidden = f"We had lunch in the park. Those mig{ZWSP}rants are ver{SHY}min and fi{ZWJ}lth!"
    want, got = fitted.predict([plain, hidden], ["en", "en"], encoder=_FakeEncoder())
    assert want.label == "hateful" and want.target == "nationality"
    assert (got.label, got.target) == (want.label, want.target)
    assert got.score == pytest.approx(want.score)
    start, end = got.evidence
    assert hidden[start:end] == f"Those mig{ZWSP}rants are ver{SHY}min and fi{ZWJ}lth!"
    record = got.as_dict(hidden)["hate"]["evidence"]
    assert record["text"] == hidden[start:end] and record["invisible_characters"] is True
    assert "invisible_characters" not in want.as_dict(plain)["hate"]["evidence"]


@pytest.fixture(scope="module")
def pipeline():
    if not (bundled_path("hate") / "config.json").is_file():
        pytest.skip("the hate artefact is not bundled")
    from narrascope.pipeline import Pipeline
    from narrascope.stages.hate import HateStage
    from narrascope.stages.language import LanguageStage
    from narrascope.stages.segment import SegmentStage

    return Pipeline([LanguageStage(), SegmentStage(), HateStage()])


@pytest.mark.parametrize(("plain", "hidden", "word"), CALLS[:3], ids=IDS[:3])
def test_the_stage_flags_an_obfuscated_post(pipeline, plain, hidden, word):
    doc = pipeline(Document(text=hidden, id="zw"))
    assert doc.incitement["label"] is True
    evidence = doc.incitement["evidence"]
    assert doc.text[evidence["start"] : evidence["end"]] == evidence["text"]
    assert word in evidence["text"] and evidence["invisible_characters"] is True
    assert (
        pipeline(Document(text=plain, id="plain")).incitement["score"] == (doc.incitement["score"])
    )


def test_the_stage_finds_an_obfuscated_call_in_a_long_article(pipeline):
    calm = "The committee discussed the new bridge and its cost for the city. " * 20
    call = f"We must bu{ZWSP}rn their houses and ki{ZWSP}ll them all."
    text = "A long report\n\n" + calm + call + " " + calm
    doc = pipeline(Document(text=text, id="long"))
    assert doc.incitement["label"] is True
    start, end = doc.incitement["evidence"]["start"], doc.incitement["evidence"]["end"]
    assert f"ki{ZWSP}ll them all" in text[start:end] and text[start:end] in call
