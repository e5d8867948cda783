"""A reply of a word or two ("ok", "+1 agreed") carries no narrative: the model leans to
some label for any text, and showed "ok" under "Discrediting the West" with "ok" as its
evidence."""

from __future__ import annotations

import pytest

import narrascope
from narrascope.taxonomy import OTHER


@pytest.fixture(scope="module")
def nlp() -> narrascope.Pipeline:
    return narrascope.load(stages=["language", "segment", "narratives"])


@pytest.mark.parametrize("text", ["ok", "+1 agreed", "😂😂 lol", "Так и"])
def test_a_word_or_two_is_no_narrative(nlp: narrascope.Pipeline, text: str) -> None:
    doc = nlp(text)
    assert [(a.label, a.score, a.evidence) for a in doc.narratives] == [(OTHER, 1.0, [])]


def test_a_sentence_is_read(nlp: narrascope.Pipeline) -> None:
    doc = nlp("NATO provoked this war, and Western capitals keep it going with weapons.")
    assert doc.narratives[0].label != OTHER and doc.narratives[0].evidence
