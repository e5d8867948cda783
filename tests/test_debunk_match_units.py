"""What a document is matched against known debunks by: its units, and which may pass.

A post of a few words (a hashtag, a place name) states no claim, yet every word of it is in
some debunk; a post's listed claim is matched as well as the post whole; a match carries
the debunk's date. Every text here was written for these tests (made-up places).
"""

from __future__ import annotations

import pytest

from narrascope.doc import Claim, DebunkMatch, Document, Span
from narrascope.models.artefact import bundled_path
from narrascope.store.debunks import Debunk, DebunkStore

needs_artefact = pytest.mark.skipif(
    not (bundled_path("debunks") / "config.json").is_file(), reason="no shipped debunk matcher"
)

DEBUNKS = [
    (
        "d-water",
        "The water supply of Marlowe was poisoned by foreign saboteurs in April 2023.",
        "2023-04-20",
    ),
    (
        "d-labs",
        "The army of Velgaria runs secret laboratories that make bioweapons in Ostrovin.",
        "2022-03-10",
    ),
    (
        "d-mayor",
        "The mayor of Quillby resigned after he was arrested for smuggling artillery shells.",
        "2022-11-15",
    ),
    (
        "d-grain",
        "Grain shipped through the Amber Sea corridor was sold to Europe instead of to poor "
        "countries.",
        "2023-07-01",
    ),
    ("d-chips", "Vaccines handed out in the eastern district contain tracking microchips.", None),
]

CHATTER = (
    "Back home after a long week. The weather was grey and the trains were late again, so I "
    "spent most of Tuesday reading in the station cafe. My sister visited on Thursday and we "
    "cooked soup together, then watched an old film about sailors. The neighbours finally "
    "fixed their fence, and the cat is happier for it. Work was quiet; we moved offices to "
    "the third floor, which has better light. "
)
CLAIM = "People keep telling me the Velgarian army hides bioweapon labs in Ostrovin."


@pytest.fixture(scope="module")
def matcher(tmp_path_factory: pytest.TempPathFactory):
    if not (bundled_path("debunks") / "config.json").is_file():
        pytest.skip("no shipped debunk matcher")
    from narrascope.models.debunk_match import DebunkMatcher
    from narrascope.models.encoder import SentenceEncoder

    store = DebunkStore(tmp_path_factory.mktemp("units") / "corpus.db")
    rows = [
        Debunk(
            id=i,
            claim=c,
            date=d,
            url=f"https://fc.example.org/{i}",
            verdict="false",
            language="en",
        )
        for i, c, d in DEBUNKS
    ]
    store.add(rows, encode=SentenceEncoder.shared().encode)
    return DebunkMatcher(store)


@needs_artefact
@pytest.mark.parametrize(
    "text",
    [
        "Ostrovin",  # 1.00 before: every word of it is in d-labs
        "#Ostrovin",
        "Ostrovin, Velgaria",
        "artillery shells",  # 0.98 against d-mayor
        "Velgaria's army",
        "Amber Sea corridor",
    ],
)
def test_a_post_of_a_few_words_repeats_no_debunk(matcher, text: str) -> None:
    doc = Document(text=text, id="short", language="en")
    assert matcher.match(doc) == []
    # nor does the scorer read it as one: its pairs are given no probability
    assert all(p == 0.0 for _, p in matcher.score([text], "en"))


@needs_artefact
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # four content words and more: a claim, however short
        ("Velgaria's army secretly makes bioweapons in Ostrovin labs.", "d-labs"),
        ("Marlowe water poisoned by saboteurs!", "d-water"),
    ],
)
def test_a_short_restatement_still_matches(matcher, text: str, expected: str) -> None:
    found = matcher.match(Document(text=text, id="short", language="en"))
    assert [m.id for m in found][:1] == [expected]


def test_content_words_count_scripts_without_spaces() -> None:
    from narrascope.models.debunk_match import MIN_UNIT_WORDS, content_words

    assert content_words("#Ostrovin", "en") == 1
    assert content_words("The mayor of Quillby", "en") == 2  # "the", "of" are function words
    assert content_words("Photo: Ostrovin, 2022", "en") == 3
    # Chinese has no spaces: two characters count as a word, so a sentence is a claim...
    assert content_words("乌克兰军队在哈尔科夫秘密经营生物武器实验室", "zh") >= MIN_UNIT_WORDS
    # ...and a place name is not
    assert content_words("哈尔科夫", "zh") < MIN_UNIT_WORDS


@needs_artefact
def test_a_post_is_matched_by_its_listed_claim_too(matcher) -> None:
    """A restatement amid 400 characters of chatter scores 0.19 read whole; the claim the
    claim stage listed is read as well, and its span is the match's."""
    text = CHATTER + CLAIM + " Anyway, off to bed now."
    assert len(text) <= 600  # a post: matched whole
    doc = Document(text=text, id="post", language="en")
    start = text.index(CLAIM)
    doc.claims = [Claim(Span.of(text, start, start + len(CLAIM)), 0.6)]
    units = matcher.units(doc)
    assert [u.text for u in units] == [text.strip(), CLAIM]
    # in a database of 5,000 debunks or more the claim is read as a part of a text (the
    # article head), as the same sentence in a longer document is; the post whole is not
    assert matcher.parts(doc, units) == [False, True]
    (found,) = [m for m in matcher.match(doc) if m.id == "d-labs"]
    assert found.claim_span is not None and found.claim_span.text == CLAIM
    # without the claim stage it is still matched whole, and that alone finds nothing here
    assert [m.id for m in matcher.match(Document(text=text, id="bare", language="en"))] == []


@needs_artefact
def test_a_match_carries_the_debunks_date(matcher) -> None:
    text = "Everyone knows the water supply of Marlowe was poisoned by foreign saboteurs."
    (found,) = [m for m in matcher.match(Document(text=text, id="d", language="en"))]
    assert (found.id, found.date) == ("d-water", "2023-04-20")
    record = found.to_dict()
    assert record["date"] == "2023-04-20"
    assert DebunkMatch.from_dict(record).to_dict() == record  # read back from JSONL
    undated = "Vaccines handed out in our eastern district contain microchips that track you."
    (chips,) = matcher.match(Document(text=undated, id="u", language="en"))
    assert chips.id == "d-chips" and chips.date is None and chips.to_dict()["date"] is None
