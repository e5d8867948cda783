"""The word pattern technique spans and story discovery cut text with: a decomposed (NFD)
accent belongs to its word, as a Devanagari vowel sign does."""

from __future__ import annotations

import unicodedata

import pytest

from narrascope.text.function_words import WORD


@pytest.mark.parametrize("word", ["invasão", "Ucrânia", "война", "Йошкар", "हमला"])
def test_a_decomposed_word_is_one_word(word: str) -> None:
    for form in ("NFC", "NFD"):
        text = unicodedata.normalize(form, f"({word}!)")
        assert [m.group() for m in WORD.finditer(text)] == [text[1:-2]]
