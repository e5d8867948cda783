import pytest

from narrascope import Annotation, Document, Pipeline, Span
from narrascope.errors import NarrascopeError
from narrascope.stages.explain import explain
from narrascope.stages.language import LanguageStage
from narrascope.stages.segment import SegmentStage


def test_json_round_trip_keeps_every_annotation() -> None:
    text = "NATO provoked the war. Kyiv obeys Washington."
    doc = Document(text=text, id="a.txt", language="en", meta={"source": "blog"})
    doc.sentences = [doc.span(0, 22), doc.span(23, 45)]
    doc.groups["narratives"] = [
        Annotation(
            "URW: Blaming the war on others rather than the invader", 0.81, [doc.span(0, 22)], [0.9]
        )
    ]
    doc.groups["subnarratives"] = [
        Annotation(
            "URW: Discrediting Ukraine: Ukraine is a puppet of the West",
            0.7,
            [doc.span(23, 45)],
            [0.8],
            parent="URW: Discrediting Ukraine",
        )
    ]
    back = Document.from_dict(doc.to_dict())
    assert back.id == "a.txt" and back.language == "en" and back.meta["source"] == "blog"
    assert back.sentences[1].text == "Kyiv obeys Washington."
    assert back.narratives[0].evidence[0] == Span(0, 22, "NATO provoked the war.")
    assert back.subnarratives_of("URW: Discrediting Ukraine")[0].score == pytest.approx(0.7)


def test_pipeline_runs_stages_in_batches() -> None:
    nlp = Pipeline([LanguageStage(), SegmentStage()])
    docs = list(
        nlp.pipe(["Первое предложение. Второе предложение.", "One. Two. Three."], batch_size=1)
    )
    assert [d.language for d in docs] == ["ru", "en"]
    assert [len(d.sentences) for d in docs] == [2, 3]


def test_pipeline_rejects_a_stage_that_drops_documents() -> None:
    class Broken:
        name = "broken"

        def __call__(self, docs: list[Document]) -> list[Document]:
            return docs[:-1]

    with pytest.raises(NarrascopeError, match="E002"):
        Pipeline([Broken()])("text")
    with pytest.raises(NarrascopeError, match="E001"):
        Pipeline([])(42)  # type: ignore[arg-type]


def test_explanation_quotes_evidence_in_the_document_language_within_80_words() -> None:
    text = "Киев подчиняется Вашингтону. " * 30
    doc = Document(text=text, language="ru")
    evidence = [doc.span(0, len(text))]
    doc.groups["narratives"] = [Annotation("URW: Discrediting Ukraine", 0.9, evidence, [0.9])]
    doc.groups["subnarratives"] = [
        Annotation(
            "URW: Discrediting Ukraine: Ukraine is a puppet of the West",
            0.8,
            evidence,
            [0.8],
            parent="URW: Discrediting Ukraine",
        )
    ]
    explanation = explain(doc)
    assert explanation is not None
    assert explanation.startswith("Текст продвигает нарратив «URW: Discrediting Ukraine: Ukraine")
    assert "Киев подчиняется Вашингтону" in explanation
    assert len(explanation.split()) <= 80


def test_no_explanation_without_a_narrative() -> None:
    doc = Document(text="Neutral.", language="en")
    doc.groups["narratives"] = [Annotation("Other", 0.9)]
    assert explain(doc) is None


def test_a_low_confidence_explanation_hedges() -> None:
    doc = Document(text="Kyiv obeys Washington.", language="en")
    doc.groups["narratives"] = [
        Annotation("URW: Discrediting Ukraine", 0.3, [doc.span(0, 22)], [0.3])
    ]
    explanation = explain(doc)
    assert explanation is not None
    assert explanation.startswith(
        "The text may advance the narrative «URW: Discrediting Ukraine» (30%)."
    )
