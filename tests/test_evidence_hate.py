"""A long article's hate reading speaks only for sentences it read: some sentences are
always read (the most suspicious ones when none names a group), so "none" is never a
certainty about words nobody looked at (texts written for these tests)."""

from __future__ import annotations

import pytest

from narrascope.doc import Document
from narrascope.models.artefact import bundled_path
from narrascope.pipeline import Pipeline
from narrascope.stages.language import LanguageStage
from narrascope.stages.segment import SegmentStage

RU_CALM = (
    "Городской совет собрался в понедельник. Депутаты обсудили цены на электричество. "
    "Несколько министров говорили о бюджете. Заседание закончилось вечером. "
    "Заявление будет опубликовано завтра. Следующее заседание назначено на март. "
)
RU_INSULT = "Эти чиновники — тупые уроды и мрази."
EN_CALM = [
    "The summit opened on Monday.",
    "Delegates discussed energy prices.",
    "Several ministers spoke about the budget.",
    "The meeting ended in the evening.",
    "A statement will follow.",
]
EN_INSULT = "Shut up, you brainless moron."


@pytest.fixture(scope="module")
def stage():
    if not (bundled_path("hate") / "config.json").is_file():
        pytest.skip("the hate artefact is not bundled")
    from narrascope.stages.hate import HateStage

    return HateStage()


@pytest.fixture(scope="module")
def nlp(stage) -> Pipeline:
    return Pipeline([LanguageStage(), SegmentStage(), stage])


def test_a_long_article_that_names_no_group_is_still_read(nlp, stage, monkeypatch) -> None:
    read: list[str] = []
    predict = stage.model.predict

    def spy(texts, languages, **kwargs):
        read.extend(texts)
        return predict(texts, languages, **kwargs)

    monkeypatch.setattr(stage.model, "predict", spy)
    text = RU_CALM + RU_INSULT + " " + RU_CALM.replace("совет", "комитет")
    doc = nlp(Document(text=text))
    assert len(doc.sentences) > 4  # a long article: not read whole
    assert read == [RU_INSULT]  # the sentence the screen finds most abusive
    # an insult that names no group does not flag a long article, but its "none" says
    # how doubtful that sentence made it
    assert doc.hate["label"] == "none" and doc.hate["evidence"] is None
    assert doc.hate["score"] < 0.5


def test_a_none_is_as_sure_as_the_sentences_read_not_certain(nlp) -> None:
    alone = nlp(Document(text=EN_INSULT))  # a post: read whole, flagged
    assert alone.hate["label"] == "offensive"
    text = " ".join([*EN_CALM[:3], EN_INSULT, *EN_CALM[3:]])
    long = nlp(Document(text=text))
    assert len(long.sentences) == 6
    # the insult was read: the article's "none" is exactly as doubtful as it makes it
    assert long.hate["label"] == "none"
    assert long.hate["score"] == pytest.approx(1.0 - alone.hate["score"], abs=1e-3)


def test_a_long_article_is_read_in_at_most_scan_sentences(nlp, stage, monkeypatch) -> None:
    read: list[str] = []
    predict = stage.model.predict

    def spy(texts, languages, **kwargs):
        read.extend(texts)
        return predict(texts, languages, **kwargs)

    monkeypatch.setattr(stage.model, "predict", spy)
    sentences = [
        f"Section {n} of the report covers road repairs in district {n}." for n in range(200)
    ]
    doc = nlp(Document(text=" ".join(sentences)))
    assert len(doc.sentences) == 200
    assert 1 <= len(read) <= stage.scan_sentences and set(read) <= set(sentences)
    assert doc.hate["label"] == "none" and doc.hate["score"] < 1.0


def test_a_text_without_words_is_still_none_for_certain(nlp) -> None:
    doc = nlp(Document(text="—\n***\n➖➖➖\n🔥🔥🔥\n—\n***"))
    assert doc.hate["label"] == "none" and doc.hate["evidence"] is None


def test_a_sentence_chosen_by_the_screen_never_flags_a_long_article() -> None:
    """The screen's sentence bounds how sure a long article's "none" is; a long article
    is still flagged only from its group or violence-call sentences, and a short post
    read whole keeps every flag."""
    import numpy as np

    from narrascope.models.hate import HateResult
    from narrascope.stages.hate import HateStage

    class Rude:
        """Offensive at 0.8 wherever "idiots" is said, none at 0.9 elsewhere."""

        incitement_threshold = 0.5

        def predict(self, texts, languages):
            return [
                HateResult("offensive", 0.8, None, (0, len(t)), False, 0.0, None)
                if "idiots" in t
                else HateResult("none", 0.9, None, None, False, 0.0, None)
                for t in texts
            ]

        def incitement(self, text, units=None):
            return 0.0, None

        def suspicion(self, texts):
            return np.array([float("idiots" in t) for t in texts])

    segment = Pipeline([SegmentStage()])
    rude = "The ministers are idiots."
    long = " ".join([*EN_CALM[:3], rude, *EN_CALM[3:]])
    (doc,) = HateStage(model=Rude())([segment(Document(text=long))])  # type: ignore[arg-type]
    assert doc.hate["label"] == "none" and doc.hate["score"] == pytest.approx(0.2)
    named = long.replace("The ministers", "The migrants")  # a group sentence: read, flagged
    (doc,) = HateStage(model=Rude())([segment(Document(text=named))])  # type: ignore[arg-type]
    assert doc.hate["label"] == "offensive" and "migrants" in doc.hate["evidence"]["text"]
    (doc,) = HateStage(model=Rude())([segment(Document(text=rude))])  # type: ignore[arg-type]
    assert doc.hate["label"] == "offensive"
