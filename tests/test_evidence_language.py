"""One spelling per language: a code given as "RU", "ru-RU" or "rus" is the "ru" every
stage looks up, an unknown code is refused saying what to give, and a text of many
languages is said to be in one of them (texts written for these tests)."""

from __future__ import annotations

import pytest

import narrascope
from narrascope.doc import Document
from narrascope.text.language import detect_language

RU = (
    "НАТО продолжает расширяться на восток и вооружает киевский режим. "
    "Западные политики лгут о причинах конфликта и затягивают войну. "
    "Санкции ударили по самой Европе, а не по России."
)
MIXED = (
    "NATO provoked this war and Washington controls Kyiv. Запад лжёт, а санкции не работают. "
    "Захід бреше про перемогу. O Ocidente mente sobre a guerra. पश्चिम झूठ बोल रहा है। "
    "Западът лъже за войната."
)


@pytest.mark.parametrize(
    ("given", "code"),
    [
        ("ru", "ru"),
        ("RU", "ru"),
        ("ru-RU", "ru"),
        ("pt_BR", "pt"),
        (" uk ", "uk"),
        ("rus", "ru"),
        ("ukr", "uk"),
        ("bul", "bg"),
        ("por", "pt"),
        ("hin", "hi"),
        ("ENG", "en"),
        ("ger", "de"),  # ISO 639-2/B
        ("sr-Latn", "sr"),
        ("zh-Hant-TW", "zh"),
        (None, None),
        ("", None),
        ("  ", None),
    ],
)
def test_a_language_code_is_normalised(given: str | None, code: str | None) -> None:
    from narrascope.text.language import normalize_language

    assert normalize_language(given) == code


@pytest.mark.parametrize("given", ["xx", "english", "r", "zzz", "x-RU"])
def test_an_unknown_language_code_is_refused_saying_what_to_give(given: str) -> None:
    from narrascope.text.language import normalize_language

    with pytest.raises(ValueError, match=rf"unknown language code '{given}'.*'ru'.*detected"):
        normalize_language(given)
    with pytest.raises(ValueError, match="unknown language code"):
        Document(text="Some text.", language=given)


def test_a_document_keeps_one_spelling_of_its_language() -> None:
    for given in ("RU", "ru-RU", "rus"):
        doc = Document(text=RU, language=given)
        assert doc.language == "ru"
        assert Document.from_dict(doc.to_dict()).language == "ru"


def test_every_stage_reads_a_language_given_as_ru_ru_as_russian() -> None:
    nlp = narrascope.load(stages=["language", "segment", "narratives", "explanation"])
    plain = nlp(Document(text=RU, id="a", language="ru"))
    regional = nlp(Document(text=RU, id="b", language="ru-RU"))
    assert regional.language == "ru"
    assert [(a.label, a.score) for a in regional.narratives] == [
        (a.label, a.score) for a in plain.narratives
    ]
    assert regional.explanation == plain.explanation
    assert regional.explanation is None or regional.explanation.startswith("Текст")


def test_a_text_of_many_languages_is_said_to_be_in_one_of_them() -> None:
    code, confidence = detect_language(MIXED)
    assert code in {"en", "ru", "uk", "pt", "hi", "bg"}
    assert 0.0 < confidence < 0.5  # no language holds most of it


def test_a_text_in_one_language_is_detected_as_before() -> None:
    assert detect_language(RU)[0] == "ru"
    assert detect_language("The council approved the budget for schools and roads.")[0] == "en"
