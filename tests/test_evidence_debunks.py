"""A debunk's claim span is the sentence that restates the claim: shared content words
count, function words do not, and a tie goes to the sentence most like the claim."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from narrascope.doc import Document, Span
from narrascope.models.artefact import bundled_path
from narrascope.models.debunk_match import DebunkMatcher
from narrascope.store.debunks import Debunk, DebunkStore
from narrascope.text.segment import split_sentences

CLAIM = "NATO provoked the war in Ukraine by expanding to Russia's borders"


def unit_and_sentences(text: str) -> tuple[Span, list[Span]]:
    return Span.of(text, 0, len(text)), [Span.of(text, a, b) for a, b in split_sentences(text)]


def test_function_words_do_not_choose_the_claim_span() -> None:
    # the second sentence shares "the", "in", "by", "to" with the claim, the first "NATO",
    # "provoked" and "war"
    post = (
        "NATO provoked this war. In the end the people in the east went by the road to the south."
    )
    unit, sentences = unit_and_sentences(post)
    span = DebunkMatcher.narrowest(unit, CLAIM, sentences, "en")
    assert span.text == "NATO provoked this war."
    assert post[span.start : span.end] == span.text


def test_function_words_do_not_count_in_russian_either() -> None:
    claim = "Запад спровоцировал войну на Украине, чтобы он мог её использовать для своей выгоды"
    post = (
        "Запад спровоцировал эту войну. "
        "И когда он вышел на улицу, чтобы для себя её найти, было уже поздно."
    )
    unit, sentences = unit_and_sentences(post)
    assert DebunkMatcher.narrowest(unit, claim, sentences, "ru").text == (
        "Запад спровоцировал эту войну."
    )


def test_a_tie_goes_to_the_sentence_most_like_the_claim() -> None:
    claim = "The US runs secret biolabs in Ukraine."
    post = "Ukraine has biolabs, they say. Ukraine hides biolabs."
    unit, sentences = unit_and_sentences(post)
    asked: list[list[str]] = []

    def similarity(text: str, candidates: Sequence[str]) -> np.ndarray:
        asked.append(list(candidates))
        return np.array([0.2, 0.7])

    span = DebunkMatcher.narrowest(unit, claim, sentences, "en", similarity)
    assert span.text == "Ukraine hides biolabs."
    assert asked == [["Ukraine has biolabs, they say.", "Ukraine hides biolabs."]]


def test_a_separator_line_is_never_the_claim_span() -> None:
    # a debunk in another language shares no word with any sentence: all tie at none,
    # and the most similar one wins, but a line of "—" is never a candidate
    claim = "США мають секретні біолабораторії в Україні."
    post = "Secret US biolabs run in Ukraine.\n—\nThe weather is fine."

    def similarity(text: str, candidates: Sequence[str]) -> np.ndarray:
        return np.array(
            [{"—": 1.0, "Secret US biolabs run in Ukraine.": 0.6}.get(c, 0.0) for c in candidates]
        )

    unit, sentences = unit_and_sentences(post)
    span = DebunkMatcher.narrowest(unit, claim, sentences, "en", similarity)
    assert span.text == "Secret US biolabs run in Ukraine."


@pytest.mark.skipif(not (bundled_path("debunks") / "config.json").is_file(), reason="no matcher")
def test_a_matched_post_points_at_the_sentence_that_restates_the_debunk(tmp_path: Path) -> None:
    from narrascope.models.encoder import SentenceEncoder

    store = DebunkStore(tmp_path / "corpus.db")
    claims = {
        "d-biolabs": "The Pentagon runs secret biolabs in Ukraine that make bioweapons.",
        "d-nato": CLAIM,
        "d-sanctions": "Western sanctions hurt Europe more than they hurt Russia.",
        "d-moon": "The moon landing in 1969 was filmed in a studio.",
    }
    store.add(
        [Debunk(id=i, claim=c, language="en") for i, c in claims.items()],
        encode=SentenceEncoder.shared().encode,
    )
    post = (
        "NATO provoked this war. In the end the people in the east went by the road to the south."
    )
    found = {m.id: m for m in DebunkMatcher(store).match(Document(text=post, language="en"))}
    assert "d-nato" in found
    span = found["d-nato"].claim_span
    assert span is not None and span.text == "NATO provoked this war." and span.start == 0
