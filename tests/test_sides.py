"""text.sides: which side of the war a mention's name belongs to, in our languages."""

from __future__ import annotations

import pytest

from narrascope.text.sides import SIDES, entity_side


@pytest.mark.parametrize(
    ("name", "side"),
    [
        ("Vladimir Putin", "russia"),
        ("Путина", "russia"),  # Russian, inflected
        ("Русия", "russia"),  # Bulgarian
        ("Росія", "russia"),  # Ukrainian
        ("रूसी सेना", "russia"),  # Hindi: "the Russian army"
        ("ВС РФ", "russia"),  # an acronym is a whole word
        ("Kyiv regime", "ukraine"),
        ("ВСУ", "ukraine"),
        ("Зеленський", "ukraine"),
        ("ucranianos", "ukraine"),  # Portuguese
        ("यूक्रेन", "ukraine"),
        ("U.S.", "west"),
        ("the West", "west"),
        ("Съединените щати", "west"),  # a multi-word stem
        ("Estados Unidos", "west"),
        ("ЄС", "west"),
        ("नाटो", "west"),
        ("Лукашенко", "russia"),  # an ally
        ("उत्तर कोरिया", "russia"),  # North Korea, a Devanagari phrase
        ("Андрея Ермака", "ukraine"),
        ("Йенс Столтенберг", "west"),
    ],
)
def test_names_of_each_side(name: str, side: str) -> None:
    assert entity_side(name) == side


@pytest.mark.parametrize(
    "name",
    ["Карусель", "Russell Crowe", "civilians", "Mariupol", "China", "Trump", "", "ES", "USAID"],
)
def test_names_of_no_side(name: str) -> None:
    # a stem must start a word ("рус" is inside Карусель) and a short acronym must be one
    assert entity_side(name) is None


def test_the_first_matching_word_decides() -> None:
    assert entity_side("Russia-NATO council") == "russia"
    assert entity_side("NATO-Russia council") == "west"


def test_sides_are_disjoint() -> None:
    seen: dict[str, str] = {}
    for side, stems in SIDES.items():
        for stem in stems:
            assert stem == stem.lower() and seen.setdefault(stem, side) == side, stem
