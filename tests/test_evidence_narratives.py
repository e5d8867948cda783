"""Narrative evidence and the explanation say only what they can show: the number next to
a label is that label's score, evidence holds words, and a repeated sentence is one piece
of evidence (texts written for these tests)."""

from __future__ import annotations

import re

import pytest

import narrascope
from narrascope.doc import Annotation, Document
from narrascope.stages.explain import explain

WEST = "URW: Discrediting the West, Diplomacy"
TIRED = WEST + ": West is tired of Ukraine"
SLOGAN = "Europe pays for Washington's war while Kyiv steals the aid!"
REFRAIN = (
    "Brussels keeps sending billions to Kyiv while European families cannot pay their bills. "
    "The war was provoked by Washington, which wants to weaken Europe. "
    "Zelensky is a puppet who steals Western aid. "
    "Sanctions hurt Europe more than Russia.\n\n" + f"{SLOGAN}\n\n" * 3
)
SEPARATED = (
    "Западные политики снова лгут о войне.\n—\nНАТО вооружает Киев и затягивает конфликт.\n"
    "➖➖➖\nСанкции ударили по самой Европе, а не по России.\n🔥🔥🔥\n"
    "Киевский режим ворует западную помощь и обманывает своих граждан.\n***\n"
)


@pytest.fixture(scope="module")
def nlp() -> narrascope.Pipeline:
    return narrascope.load(stages=["language", "segment", "narratives", "explanation"])


def labelled(narrative: float, sub: float, evidence: list[str]) -> Document:
    text = " ".join(evidence)
    doc = Document(text=text, language="en")
    spans, start = [], 0
    for sentence in evidence:
        spans.append(doc.span(start, start + len(sentence)))
        start += len(sentence) + 1
    doc.groups["narratives"] = [Annotation(WEST, narrative, spans, [0.9] * len(spans))]
    doc.groups["subnarratives"] = [Annotation(TIRED, sub, spans, [0.8] * len(spans), parent=WEST)]
    return doc


def test_the_explanation_prints_the_named_sub_narratives_own_score() -> None:
    explanation = explain(labelled(0.96, 0.79, ["Europe is tired of paying for Kyiv."]))
    assert explanation is not None
    assert explanation.startswith(f"The text advances the narrative «{TIRED}» (79%).")


def test_the_explanation_hedges_on_the_score_it_shows() -> None:
    # a sure narrative, an unsure sub-narrative: the sub-narrative is named, so it hedges
    explanation = explain(labelled(0.9, 0.3, ["Europe is tired of paying for Kyiv."]))
    assert explanation is not None
    assert explanation.startswith(f"The text may advance the narrative «{TIRED}» (30%).")


def test_the_explanation_quotes_a_repeated_sentence_once_and_skips_separators() -> None:
    doc = labelled(0.9, 0.8, [SLOGAN, "—", SLOGAN, "Brussels obeys Washington.", "🔥"])
    explanation = explain(doc)
    assert explanation is not None
    assert explanation.count("Europe pays") == 1
    assert "“—”" not in explanation and "🔥" not in explanation
    assert "Brussels obeys Washington." in explanation


def test_every_percentage_in_an_explanation_is_its_labels_score(nlp) -> None:
    for text in (REFRAIN, SEPARATED):
        doc = nlp(text)
        assert doc.explanation is not None
        label, pct = re.search(r"«(.*?)» \((\d+)%\)", doc.explanation).groups()
        named = next(a for a in [*doc.narratives, *doc.subnarratives] if a.label == label)
        assert int(pct) == round(named.score * 100)
        if named.score < 0.5:
            assert " may " in doc.explanation or "возможно" in doc.explanation


def test_a_repeated_sentence_is_one_piece_of_evidence(nlp) -> None:
    doc = nlp(REFRAIN)
    labels = [a for a in [*doc.narratives, *doc.subnarratives] if a.evidence]
    assert labels
    for a in labels:
        said = [" ".join(s.text.split()).casefold() for s in a.evidence]
        assert len(said) == len(set(said)), (a.label, said)
        assert len(a.evidence) == 3  # five distinct sentences: every slot is filled
    assert doc.explanation is not None and doc.explanation.count("Europe pays") <= 1


def test_separator_lines_are_never_evidence(nlp) -> None:
    doc = nlp(SEPARATED)
    labels = [a for a in [*doc.narratives, *doc.subnarratives] if a.label != "Other"]
    assert labels
    for a in labels:
        assert a.evidence
        for span in a.evidence:
            assert any(c.isalnum() for c in span.text), (a.label, span.text)
            assert doc.text[span.start : span.end] == span.text


@pytest.mark.parametrize(
    "text", ["!!! ??? ...\n— «» ;;; ,,,", "🔥", "\u200b", "— — —\n***", "➖➖➖\n\n🔥🔥🔥"]
)
def test_a_text_without_a_letter_or_digit_is_other_with_no_evidence(nlp, text: str) -> None:
    doc = nlp(text)
    assert [(a.label, a.score, a.evidence) for a in doc.narratives] == [("Other", 1.0, [])]
    assert [(a.label, a.evidence) for a in doc.subnarratives] == [("Other", [])]
    assert doc.explanation is None
