"""The hate stage on pages with reader comments: every comment read on its own, the
article read whole when short and in its flagged sentences when long, offsets into the
whole text, and the summary line counting flags without quoting them."""

from __future__ import annotations

import numpy as np
import pytest

from narrascope.doc import Document
from narrascope.export.terminal import flag_summary, thread_summary
from narrascope.models.artefact import bundled_path
from narrascope.pipeline import Pipeline
from narrascope.stages.language import LanguageStage
from narrascope.stages.segment import SegmentStage

PAGE = """Council approves the new budget

The city council met on Monday and approved the budget for schools and roads.

3 thoughts on “Council approves the new budget”

1. Anna says
March 3, 2022 at 5:14 pm
Good news for the schools, finally some money for repairs.
Reply
2. Mark says
March 3, 2022 at 6:01 pm
We should kill every last one of those traitors in the council.
Reply
3. Olga says
March 3, 2022 at 7:30 pm
Спасибо за статью, очень полезная информация.
Reply
"""


@pytest.fixture(scope="module")
def pipeline() -> Pipeline:
    if not (bundled_path("hate") / "config.json").is_file():
        pytest.skip("the hate artefact is not bundled")
    from narrascope.stages.hate import HateStage

    return Pipeline([LanguageStage(), SegmentStage(), HateStage()])


def test_each_comment_is_read_and_a_threat_is_flagged(pipeline: Pipeline) -> None:
    doc = pipeline(PAGE)
    assert [c.author for c in doc.comments] == ["Anna", "Mark", "Olga"]
    anna, mark, olga = (c.annotations for c in doc.comments)
    assert mark["incitement"]["label"] is True and mark["incitement"]["score"] >= 0.5
    evidence = mark["incitement"]["evidence"]
    comment = doc.comments[1]
    assert comment.start <= evidence["start"] < evidence["end"] <= comment.end
    assert doc.text[evidence["start"] : evidence["end"]] == evidence["text"]
    assert "kill" in evidence["text"]
    for quiet in (anna, olga):
        assert quiet["incitement"]["label"] is False
        assert quiet["hate"]["label"] == "none"
    # the article is about a budget: nothing to flag, and the comments are not its words
    assert doc.hate["label"] == "none" and doc.incitement["label"] is False
    assert thread_summary(doc) == "thread: 3 comments, 0 hateful, 0 offensive, 1 incitement"
    assert flag_summary(doc) == ""


def test_a_long_article_is_read_in_its_flagged_sentences(pipeline: Pipeline) -> None:
    calm = "The committee discussed the new bridge and its cost for the city. " * 20
    text = "A long report\n\n" + calm + "We must burn their houses and kill them all. " + calm
    doc = pipeline(Document(text=text, id="long"))
    assert doc.incitement["label"] is True
    start, end = doc.incitement["evidence"]["start"], doc.incitement["evidence"]["end"]
    assert "kill them all" in text[start:end]
    line = flag_summary(doc)
    assert line.startswith("Flags: ") and "incitement" in line and "kill" not in line


def test_a_long_article_needs_a_surer_hateful_sentence() -> None:
    """A long article's group sentence is hateful only at ``article_hate_min``; a short
    post (read whole) keeps the model's own bar."""
    from narrascope.models.hate import HateResult
    from narrascope.stages.hate import HateStage

    class Always:
        """Says every text is hateful at 0.6 (between the heads' bar and the article's)."""

        incitement_threshold = 0.5

        def predict(self, texts, languages):
            return [
                HateResult("hateful", 0.6, "nationality", (0, len(t)), False, 0.0, None)
                for t in texts
            ]

        def incitement(self, text, units=None):
            return 0.0, None

        def units(self, text):
            from narrascope.text.segment import split_sentences

            return list(split_sentences(text))

        def suspicion(self, texts):
            return np.zeros(len(texts))

    stage = HateStage(model=Always())  # type: ignore[arg-type]
    segment = Pipeline([SegmentStage()])
    calm = "The committee discussed the new bridge and its cost for the city. " * 6
    long = segment(Document(text=calm + "The refugees keep arriving in the town. " + calm))
    short = segment(Document(text="The refugees keep arriving in the town."))
    stage([long, short])
    assert long.hate["label"] == "none" and long.hate["evidence"] is None
    assert short.hate["label"] == "hateful" and short.hate["target"] == "nationality"
    assert HateStage(model=Always(), article_hate_min=0.5)([long])[0].hate["label"] == "hateful"


def test_a_long_article_reads_its_violence_call_and_its_none_is_its_most_doubtful() -> None:
    """A long article's "none" is only as sure as its most doubtful sentence read (as a
    short text's is), and the sentence holding a violence call is read even when it names
    no group."""
    from narrascope.models.hate import HateResult
    from narrascope.stages.hate import HateStage
    from narrascope.text.segment import split_sentences

    class Scripted:
        """Hateful at 0.6 on refugees (the article's bar demotes it), none at 0.9 on
        migrants and elsewhere; "crush them" is a violence call."""

        incitement_threshold = 0.5

        def __init__(self) -> None:
            self.read: list[str] = []

        def predict(self, texts, languages):
            self.read += texts
            return [
                HateResult("hateful", 0.6, "nationality", (0, len(t)), False, 0.0, None)
                if "refugees" in t
                else HateResult("none", 0.9, None, None, False, 0.0, None)
                for t in texts
            ]

        def incitement(self, text, units=None):
            at = text.find("crush them")
            return (0.9, (at, at + 10)) if at >= 0 else (0.0, None)

        def units(self, text):
            return list(split_sentences(text))

        def suspicion(self, texts):
            return np.zeros(len(texts))

    segment = Pipeline([SegmentStage()])
    calm = "The committee discussed the new bridge and its cost for the city. " * 6
    groups = "The migrants keep arriving in the town. The refugees keep arriving in the town. "
    model = Scripted()
    (doc,) = HateStage(model=model)([segment(Document(text=calm + groups + calm))])  # type: ignore[arg-type]
    assert doc.hate["label"] == "none" and doc.hate["score"] == pytest.approx(0.4)
    call = "We will crush them in the spring. "
    model = Scripted()
    (doc,) = HateStage(model=model)([segment(Document(text=calm + call + calm))])  # type: ignore[arg-type]
    # the call first, then the slots left to the other sentences, a repeated one read once
    assert model.read == [call.strip(), calm.split(". ")[0] + "."]
    assert doc.incitement["label"] is True and doc.hate["score"] == pytest.approx(0.9)
