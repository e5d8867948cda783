"""The contracts every stage and every estimator keeps (scikit-learn's ``test_common``).

A stage takes a batch of documents and returns the same batch, annotated, whether it runs
alone or after the others; the pipeline builds any stage from plain parameters. An
estimator is built from keyword parameters, refuses to predict before it is fitted,
returns itself from ``fit`` and survives a save/load round trip unchanged.
"""

from __future__ import annotations

from pathlib import Path

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
def full() -> narrascope.Pipeline:
    return narrascope.load()


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
    assert len(users) == 3 and all(s.encoder is full.encoder for s in users)


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


def test_vectors_stay_on_the_document(full, encoder_calls) -> None:
    """No process-wide cache: the same text in a new document is encoded again, and a
    document that already carries its vectors is not encoded at all."""
    first = full(Document("NATO is to blame.\nKyiv obeys Washington.", language="en"))
    assert len(encoder_calls) == 1
    full(Document(first.text, language="en"))
    assert len(encoder_calls) == 2
    full(first)
    assert len(encoder_calls) == 2
