"""Known debunks across languages USE was not trained on (Hindi here): the e5 channel.

USE puts a Hindi restatement of an English debunk far from it (cosine under 0.13, e5 0.92),
so neither first-stage channel found it and the cross head never read it. Every text here
was written for these tests (made-up places).
"""

from __future__ import annotations

import pytest

from narrascope.doc import Document
from narrascope.models.artefact import bundled_path
from narrascope.store.debunks import Debunk, DebunkStore

pytestmark = pytest.mark.skipif(
    not (bundled_path("debunks") / "config.json").is_file(), reason="no shipped debunk matcher"
)

ENGLISH = [
    ("d-water", "The water supply of Marlowe was poisoned by foreign saboteurs in April 2023."),
    ("d-labs", "The army of Velgaria runs secret laboratories that make bioweapons in Ostrovin."),
    (
        "d-mayor",
        "The mayor of Quillby resigned after he was arrested for smuggling artillery shells.",
    ),
    ("d-chips", "Vaccines handed out in the eastern district contain tracking microchips."),
]
HINDI = [
    (
        "hi-labs",
        "वेल्गारिया की सेना ओस्त्रोविन में जैविक हथियार बनाने वाली गुप्त प्रयोगशालाएँ चलाती है।",
    ),
    ("hi-water", "मार्लो शहर की जल आपूर्ति को विदेशी एजेंटों ने ज़हरीला कर दिया।"),
]


def _matcher(folder, rows: list[tuple[str, str]], language: str):
    from narrascope.models.debunk_match import DebunkMatcher
    from narrascope.models.encoder import SentenceEncoder

    store = DebunkStore(folder / "corpus.db")
    debunks = [Debunk(id=i, claim=c, language=language) for i, c in rows]
    store.add(debunks, encode=SentenceEncoder.shared().encode)
    return DebunkMatcher(store)


@pytest.fixture(scope="module")
def english(tmp_path_factory: pytest.TempPathFactory):
    return _matcher(tmp_path_factory.mktemp("en"), ENGLISH, "en")


@pytest.fixture(scope="module")
def hindi(tmp_path_factory: pytest.TempPathFactory):
    return _matcher(tmp_path_factory.mktemp("hi"), HINDI, "hi")


def _found(matcher, text: str, language: str) -> list[str]:
    return [m.id for m in matcher.match(Document(text=text, id="t", language=language))]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # "Velgaria's army runs secret labs in Ostrovin where biological weapons are made."
        (
            "वेल्गारिया की सेना ओस्त्रोविन में गुप्त प्रयोगशालाएँ चलाती है जहाँ जैविक हथियार बनाए जाते हैं।",
            "d-labs",
        ),
        # "In April 2023 foreign saboteurs put poison in Marlowe's water supply."
        ("मार्लो की जल आपूर्ति में अप्रैल 2023 में विदेशी तोड़फोड़ करने वालों ने ज़हर मिला दिया।", "d-water"),
        # a children's concert in the park: unrelated
        ("आज शहर के पार्क में बच्चों के लिए एक संगीत कार्यक्रम हुआ और बहुत लोग आए।", None),
        # "The defence ministry said there was heavy fighting near Ostrovin yesterday."
        ("रक्षा मंत्रालय ने कहा कि ओस्त्रोविन के पास कल भारी लड़ाई हुई।", None),
    ],
    ids=["labs", "water", "unrelated", "on-topic"],
)
def test_a_hindi_text_matches_an_english_debunk_it_restates(english, text, expected) -> None:
    assert _found(english, text, "hi")[:1] == ([expected] if expected else [])


@pytest.mark.parametrize(
    ("language", "text", "expected"),
    [
        ("en", "The Velgarian army is secretly running bioweapon labs in Ostrovin.", "hi-labs"),
        ("en", "Foreign agents poisoned the water supply of Marlowe, locals say.", "hi-water"),
        (
            "ru",
            "Армия Вельгарии тайно держит лаборатории биологического оружия в Островине.",
            "hi-labs",
        ),
        ("en", "Heavy fighting was reported near Ostrovin yesterday, the ministry said.", None),
        ("en", "Today there was a concert for children in the park and many families came.", None),
    ],
    ids=["en-labs", "en-water", "ru-labs", "en-on-topic", "en-unrelated"],
)
def test_a_hindi_debunk_is_matched_from_other_languages(hindi, language, text, expected) -> None:
    assert _found(hindi, text, language)[:1] == ([expected] if expected else [])


def test_the_e5_channel_reads_no_more_than_it_must(english) -> None:
    """English text against English debunks never pays for the channel (no e5 pass)."""
    calls: list[list[str]] = []
    e5 = english.e5

    def spy(texts):
        calls.append(list(texts))
        return e5(texts)

    english._e5 = spy
    try:
        assert _found(english, "Vaccines in our eastern district carry tracking microchips.", "en")
        assert calls == []
    finally:
        english._e5 = e5


def test_an_article_pays_no_e5_pass_for_debunks_in_other_scripts(hindi) -> None:
    """The parts of an English article are not read by e5 because the database holds a
    Hindi debunk (70 ms and more an article); a whole English post still is (above)."""
    calls: list[list[str]] = []
    e5 = hindi.e5

    def spy(texts):
        calls.append(list(texts))
        return e5(texts)

    paragraph = (
        "The regional council met on Tuesday to discuss the budget for roads, schools and "
        "the hospital of the northern district, officials said after the meeting."
    )
    article = "\n\n".join(f"{paragraph} Item {k}." for k in range(8))
    hindi._e5 = spy
    try:
        hindi.match(Document(text=article, id="a", language="en"))
        assert calls == []
        hindi.match(Document(text=paragraph, id="p", language="en"))
        assert calls  # a post: the channel reads it
    finally:
        hindi._e5 = e5
