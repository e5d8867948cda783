import json

import pytest

from narrascope import Annotation, Document, Pipeline, Span
from narrascope.errors import NarrascopeError
from narrascope.ingest.threads import Comment, Thread
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


def thread_doc() -> Document:
    text = "The article.\n\nFirst comment.\n\nA reply."
    doc = Document(text=text, id="t1", language="en")
    doc.set_thread(
        Thread(
            (0, 12),
            [
                Comment("c1", None, "ann", 14, 28, 0, "2024-03-02"),
                Comment("c2", "c1", None, 30, 38, 1),
            ],
            "text",
            ["line 5: a warning"],
        )
    )
    return doc


def test_thread_round_trip_keeps_spans_and_comment_analyses() -> None:
    doc = thread_doc()
    assert doc.article_text == "The article."
    assert [doc.comment_text(c) for c in doc.comments] == ["First comment.", "A reply."]
    doc.comments[1].language = "en"
    doc.comments[1].annotations["hate"] = {"label": "none", "score": 0.02}
    record = doc.to_dict()
    assert record["article"] == {"start": 0, "end": 12}
    assert record["comments"][1] == {
        "id": "c2",
        "parent": "c1",
        "author": None,
        "date": None,
        "start": 30,
        "end": 38,
        "depth": 1,
        "language": "en",
        "hate": {"label": "none", "score": 0.02},
    }
    assert record["thread_kind"] == "text" and record["thread_warnings"] == ["line 5: a warning"]
    back = Document.from_dict(json.loads(json.dumps(record)))
    assert back.article == (0, 12) and back.comments == doc.comments
    assert back.meta["thread_warnings"] == ["line 5: a warning"]
    assert "comments" not in back.groups and back.to_dict() == record


def test_comment_language_confidence_round_trips_and_is_optional() -> None:
    doc = thread_doc()
    doc.comments[0].language, doc.comments[0].language_confidence = "en", 0.31
    record = doc.to_dict()
    assert record["comments"][0]["language_confidence"] == 0.31
    assert "language_confidence" not in record["comments"][1]  # never measured: not written
    back = Document.from_dict(json.loads(json.dumps(record)))
    assert back.comments == doc.comments and back.to_dict() == record
    assert "language_confidence" not in back.comments[0].annotations


def _with_comments(article: str, comments: list[str]) -> Document:
    text = article + "".join("\n" + c for c in comments)
    doc = Document(text=text, id="page")
    spans, start = [], len(article) + 1
    for n, body in enumerate(comments):
        spans.append(Comment(f"c{n}", None, None, start, start + len(body), 0))
        start += len(body) + 1
    doc.set_thread(Thread((0, len(article)), spans, "text", []))
    return doc


def test_an_unsure_comment_keeps_its_own_language_in_another_script() -> None:
    article = "Сили оборони відбили атаку на Запорізькому напрямку, повідомили в Генштабі у неділю."
    comments = ["This is horrible", "Que absurdo", "यह सब झूठ है", "Все буде добре"]
    doc = Pipeline([LanguageStage()])(_with_comments(article, comments))
    assert doc.language == "uk"
    # lingua is unsure of all four (en ~0.48, pt ~0.39, ru ~0.42); only the Cyrillic
    # one can be in the post's language, so only it takes it
    assert [c.language for c in doc.comments] == ["en", "pt", "hi", "uk"]
    confidences = [c.language_confidence for c in doc.comments]
    assert all(isinstance(x, float) for x in confidences)
    assert confidences[0] < 0.5 and confidences[3] < 0.5  # the fallback stays visible
    back = Document.from_dict(doc.to_dict())
    assert [c.language_confidence for c in back.comments] == confidences


def test_a_document_without_thread_writes_no_thread_keys() -> None:
    doc = Document(text="Only an article.", id="a")
    doc.set_thread(None)
    record = doc.to_dict()
    assert "article" not in record and "comments" not in record
    assert doc.article_text == doc.text and not doc.has_thread
    # an empty comment list is still a thread (its keys are written), never a label group
    doc.set_thread(Thread((0, 16), [], "4cat", ["2 line(s) were not JSON objects"]))
    back = Document.from_dict(doc.to_dict())
    assert back.article == (0, 16) and back.comments == [] and back.groups == {}
