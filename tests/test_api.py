"""The Python API at its boundary: what ``nlp(text)`` and ``nlp.pipe(texts)`` accept, the
ids they give, and what they refuse with a coded error instead of failing deep inside."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from narrascope.doc import Document
from narrascope.errors import NarrascopeError
from narrascope.ingest import ReadOptions, read_inputs
from narrascope.pipeline import Pipeline
from narrascope.stages.language import LanguageStage
from narrascope.stages.segment import SegmentStage
from narrascope.store import open_store

TEXTS = [
    "The council approved the new budget on Monday.",
    "Heavy rain is expected in the north this weekend.",
    "The museum opens a new exhibition of painters.",
]

# a blog post pasted with its reader comments (written for this test)
PAGE = """Title of the post

The council met on Monday and voted on the new budget.

2 thoughts on “Title of the post”

1. Anna says
March 3, 2022 at 5:14 pm
The budget is a disgrace and the council should resign.
Reply
2. Boris says
March 3, 2022 at 6:01 pm
Это полная чепуха, и автор статьи ничего не понимает в политике.
Reply
"""


class Seen:
    """A stage that records the text each document showed it."""

    name = "seen"

    def __init__(self) -> None:
        self.texts: list[str] = []

    def __call__(self, docs: list[Document]) -> list[Document]:
        self.texts.extend(doc.text for doc in docs)
        return docs


def test_documents_without_an_id_get_their_content_hash_and_are_all_stored(
    tmp_path: Path,
) -> None:
    nlp = Pipeline([LanguageStage(), SegmentStage()])
    docs = list(nlp.pipe(TEXTS))
    assert [d.id for d in docs] == [f"doc-{Document(text=t).content_hash}" for t in TEXTS]
    assert nlp(TEXTS[0]).id == docs[0].id  # the same text, the same id (as over HTTP)
    assert nlp(Document(text=TEXTS[1])).id == docs[1].id
    assert nlp(TEXTS[0], id="minutes-1").id == "minutes-1"
    store = open_store(tmp_path / "corpus.db")
    assert store.save(docs) == 3
    assert store.search_count() == 3  # not one document replacing the others under ""


def test_the_id_of_a_page_is_the_hash_of_the_whole_page() -> None:
    doc = Pipeline([Seen()])(PAGE)
    assert doc.comments and doc.text == PAGE
    assert doc.id == f"doc-{Document(text=PAGE).content_hash}"


def test_call_takes_the_record_meta_and_refuses_it_for_a_document() -> None:
    nlp = Pipeline([SegmentStage()])
    doc = nlp(TEXTS[0], id="a", meta={"source": "gazette", "date": "2024-03-02"})
    record = doc.to_dict()
    assert record["id"] == "a" and record["source"] == "gazette"
    with pytest.raises(NarrascopeError, match=r"E001.*set them on the Document"):
        nlp(Document(text=TEXTS[0]), id="b")


def test_a_document_built_by_hand_is_split_from_its_comments_like_a_text() -> None:
    seen = Seen()
    nlp = Pipeline([seen, LanguageStage()])
    from_text = nlp(PAGE)
    by_hand = nlp(Document(text=PAGE, id="page-1"))
    assert by_hand.id == "page-1"
    for doc in (from_text, by_hand):
        assert [c.author for c in doc.comments] == ["Anna", "Boris"]
        assert doc.article == from_text.article and doc.text == PAGE
        assert [c.language for c in doc.comments] == ["en", "ru"]
    # the stage read the article alone both times, never a reader's comment
    assert len(seen.texts) == 2 and not any("disgrace" in t for t in seen.texts)


def test_a_document_a_reader_made_keeps_the_readers_choice(tmp_path: Path) -> None:
    page = tmp_path / "page.txt"
    page.write_text(PAGE, encoding="utf-8")
    (whole,) = read_inputs([page], ReadOptions(threads=False))  # --no-threads
    (split,) = read_inputs([page], ReadOptions())
    assert isinstance(whole, Document) and isinstance(split, Document)
    seen = Seen()
    nlp = Pipeline([seen])
    assert nlp(whole).article is None and not whole.comments
    assert [c.author for c in nlp(split).comments] == ["Anna", "Boris"]
    assert "disgrace" in seen.texts[0] and "disgrace" not in seen.texts[1]


def test_a_lone_surrogate_is_analysed_and_kept_exactly() -> None:
    # a JSON-decoded post with half an emoji: no UTF-8 holds that character
    cut = json.loads('"NATO provoked this war. \\ud83d Kyiv only obeys Washington."')
    nlp = Pipeline([LanguageStage(), SegmentStage()])
    docs = list(nlp.pipe([cut, TEXTS[0]]))  # before: UnicodeEncodeError, no document back
    assert [d.language for d in docs] == ["en", "en"]
    doc = docs[0]
    assert doc.text == cut and doc.id == f"doc-{Document(text=cut).content_hash}"
    sentences = [doc.text[s.start : s.end] for s in doc.sentences]  # offsets into the exact text
    assert sentences[0].startswith("NATO provoked") and sentences[-1].endswith("Washington.")


@pytest.mark.parametrize("batch_size", [0, -1, 1.5])
def test_pipe_refuses_a_batch_size_below_one_when_called(batch_size: object) -> None:
    nlp = Pipeline([SegmentStage()])
    with pytest.raises(ValueError, match="batch_size must be an integer of at least 1"):
        nlp.pipe(TEXTS, batch_size=batch_size)  # type: ignore[arg-type]
    assert [d.id for d in nlp.pipe(TEXTS, batch_size=1)] == [
        d.id for d in nlp.pipe(TEXTS, batch_size=2)
    ]


def test_a_stage_that_returns_copies_breaks_the_contract() -> None:
    class Copying:
        name = "copying"

        def __call__(self, docs: list[Document]) -> list[Document]:
            return [copy.copy(d) for d in docs]

    with pytest.raises(NarrascopeError, match=r"E002.*'copying'.*the same Documents"):
        Pipeline([SegmentStage(), Copying()])(PAGE)


def test_a_stage_without_a_name_is_refused_when_the_pipeline_is_built() -> None:
    def unnamed(docs: list[Document]) -> list[Document]:
        return docs

    with pytest.raises(NarrascopeError, match=r"E002.*is not a stage.*name"):
        Pipeline([SegmentStage(), unnamed])  # type: ignore[list-item]
    with pytest.raises(NarrascopeError, match=r"E002.*is not a stage"):
        Pipeline(["segment"])  # type: ignore[list-item]
