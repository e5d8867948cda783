"""Which units the claim stage's e5 head rescores (only they can be listed, and matched
against known debunks): the cheap tier's best k *distinct* ones, plus the title line.

Every text here was written for these tests (made-up towns)."""

from __future__ import annotations

import numpy as np
import pytest

from narrascope.doc import Document
from narrascope.models.artefact import bundled_path
from narrascope.store.stems import WORD

TOWNS = [
    "Ashby",
    "Brackwell",
    "Corrin",
    "Dunhollow",
    "Elsford",
    "Fennick",
    "Garrow",
    "Hathby",
    "Ilmere",
    "Jessop",
    "Kelderby",
    "Lowick",
    "Marnham",
    "Norcot",
    "Oxley",
]
RESTATEMENT = (
    "Neighbours say the water supply of Marlowe was poisoned by foreign saboteurs in April."
)


def _article() -> str:
    """A title, fifteen sentences of one template with figures (the cheap tier's favourites)
    and, as the 12th sentence, a restatement of a debunked claim with none."""
    lines = [
        f"Officials said {120 + 37 * i} people left {town} on {i + 1} June 2024 after "
        f"{i + 3} drones struck the district, the regional governor reported."
        for i, town in enumerate(TOWNS)
    ]
    lines.insert(11, RESTATEMENT)
    return "\n\n".join(["Evacuations in the north", *lines])


def _words(texts: list[str]) -> list[frozenset[str]]:
    return [frozenset(w.casefold() for w in WORD.findall(t)) for t in texts]


def test_near_duplicates_wait_until_the_distinct_units_are_in() -> None:
    from narrascope.stages.claims import distinct_best

    texts = [
        "Title line",
        "Officials said 120 people left Ashby on 1 June after 3 drones struck.",
        "Officials said 157 people left Brackwell on 2 June after 4 drones struck.",
        "Officials said 194 people left Corrin on 3 June after 5 drones struck.",
        "The mayor opened a new library on Friday.",
        "Officials said 231 people left Dunhollow on 4 June after 6 drones struck.",
    ]
    cheap = np.array([0.0, 2.0, 1.9, 1.8, -1.0, 1.7])
    # unit 0 (the title) is rescored anyway; the library sentence comes before the
    # template's second, third and fourth repeats
    assert distinct_best(cheap, _words(texts), 3) == [1, 4, 2]
    assert distinct_best(cheap, _words(texts), 2) == [1, 4]
    # without repeats it is the cheap tier's ranking
    assert distinct_best(cheap[[0, 1, 4]], _words([texts[i] for i in (0, 1, 4)]), 5) == [1, 2]


@pytest.fixture(scope="module")
def stage():
    if not (bundled_path("claims") / "config.json").is_file():
        pytest.skip("no shipped claim model")
    from narrascope.stages.claims import ClaimStage

    return ClaimStage()


def test_a_claim_among_many_figures_is_rescored_and_listed(stage, monkeypatch) -> None:
    text = _article()
    doc = Document(text=text, id="evacuations", language="en")
    read: list[list[str]] = []
    vectors = stage.model.vectors

    def spy(texts):
        read.append(list(texts))
        return vectors(texts)

    monkeypatch.setattr(stage.model, "vectors", spy)
    (out,) = stage([doc])
    assert RESTATEMENT in [c.text for c in out.claims], [c.text for c in out.claims]
    # the e5 head read as many units as before (the best k and the title): no extra cost
    assert sum(len(r) for r in read) == stage.k + 1
    assert RESTATEMENT in read[0] and "Evacuations in the north" in read[0]


def test_a_page_printed_twice_lists_each_claim_once(stage) -> None:
    """A scraped page that prints its text twice (9 of 60 Bulgarian SemEval-2025 training
    articles) spent the rescoring on both copies of its best three sentences, and listed
    each twice; now on six distinct ones."""
    lines = [
        "The ministry said 4,200 homes in Garrow lost power after the storm on 3 March.",
        "Repairs will cost 12 million euros, according to the regional energy company.",
        "Schools in Hathby stayed closed on Monday, the council announced on Sunday.",
        "Two fishing boats sank in Lowick harbour, and their crews were rescued by 9 pm.",
        "The storm brought 140 mm of rain in 24 hours, twice the March average.",
        "Insurers expect more than 6,000 claims from the three northern counties.",
        "Trains between Ilmere and Norcot will run again from Wednesday, the operator said.",
        "The last storm of this strength hit the coast in 1987, meteorologists said.",
    ]
    text = "\n\n".join(["Storm update", *lines, *lines])
    (out,) = stage([Document(text=text, id="twice", language="en")])
    listed = [c.text for c in out.claims]
    assert listed and len(set(listed)) == len(listed), listed


def test_the_restatement_is_matched_against_known_debunks(stage, tmp_path) -> None:
    if not (bundled_path("debunks") / "config.json").is_file():
        pytest.skip("no shipped debunk matcher")
    from narrascope.models.encoder import SentenceEncoder
    from narrascope.stages.debunks import DebunkStage
    from narrascope.store.debunks import Debunk, DebunkStore

    store = DebunkStore(tmp_path / "corpus.db")
    claim = "The water supply of Marlowe was poisoned by foreign saboteurs in April 2023."
    store.add(
        [Debunk(id="d-water", claim=claim, language="en")], encode=SentenceEncoder.shared().encode
    )
    text = _article()
    doc = Document(text=text, id="evacuations", language="en")
    (out,) = DebunkStage(db=tmp_path / "corpus.db")(stage([doc]))
    assert [m.id for m in out.debunks] == ["d-water"]
    span = out.debunks[0].claim_span
    assert span is not None and span.text == RESTATEMENT
