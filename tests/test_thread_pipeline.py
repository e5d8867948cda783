"""A page with a reader thread: the stages read the article alone, offsets stay those of
the whole text, and each comment gets its own language."""

from __future__ import annotations

import pytest

from narrascope.doc import Document
from narrascope.ingest.threads import Comment, Thread
from narrascope.pipeline import Pipeline
from narrascope.stages.language import LanguageStage

ARTICLE = "Title of the post\n\nThe council met on Monday and voted on the new budget.\n"
THREAD = (
    "2 thoughts on this\n"
    "1. Anna says\n"
    "Nuke them all, every last one of those traitors.\n"
    "2. Boris says\n"
    "Это полная чепуха, и автор статьи ничего не понимает в политике.\n"
)


class Seen:
    """A stage that records the text it was given and marks the last word it saw."""

    name = "seen"

    def __init__(self) -> None:
        self.texts: list[str] = []

    def __call__(self, docs: list[Document]) -> list[Document]:
        for doc in docs:
            self.texts.append(doc.text)
            word = "budget"
            start = doc.text.find(word)
            doc.meta["span"] = (start, start + len(word))
        return docs


def _threaded(prefix: str = "") -> Document:
    text = prefix + ARTICLE + THREAD
    a, b = len(prefix), len(prefix) + len(ARTICLE)
    first = text.index("Nuke")
    second = text.index("Это")
    thread = Thread(
        article=(a, b),
        comments=[
            Comment("c1", None, "Anna", first, text.index("\n", first), 0),
            Comment("c2", None, "Boris", second, text.index("\n", second), 0),
        ],
        kind="test",
        warnings=[],
    )
    doc = Document(text=text, id="page")
    doc.set_thread(thread)
    return doc


def test_stages_read_the_article_alone_and_offsets_stay_whole() -> None:
    seen = Seen()
    doc = Pipeline([seen])(_threaded("Site header line\n"))
    (given,) = seen.texts
    assert "Nuke" not in given and "чепуха" not in given and "header" not in given
    assert given.count("\n") >= 1 and "budget" in given
    assert doc.text.startswith("Site header line\n") and "Nuke" in doc.text  # put back
    start, end = doc.meta["span"]
    assert doc.text[start:end] == "budget"


def test_text_is_put_back_when_a_stage_fails() -> None:
    class Broken:
        name = "broken"

        def __call__(self, docs: list[Document]) -> list[Document]:
            raise RuntimeError("boom")

    doc = _threaded()
    whole = doc.text
    with pytest.raises(RuntimeError, match="boom"):
        Pipeline([Broken()])(doc)
    assert doc.text == whole


def test_no_thread_or_no_article_reads_the_whole_text() -> None:
    seen = Seen()
    plain = Document(text=ARTICLE, id="plain")
    orphan = _threaded()
    orphan.article = (0, 0)  # replies whose post is not in the input
    list(Pipeline([seen]).pipe([plain, orphan]))
    assert seen.texts == [ARTICLE, orphan.text]


def test_each_comment_gets_its_own_language() -> None:
    doc = Pipeline([LanguageStage()])(_threaded())
    assert doc.language == "en"
    assert [c.language for c in doc.comments] == ["en", "ru"]


PAGE = """Title of the post

The council met on Monday and voted on the new budget.

2 thoughts on “Title of the post”

1. Anna says
March 3, 2022 at 5:14 pm
Nuke them all, every last one of those traitors.
Reply
2. Boris says
March 3, 2022 at 6:01 pm
Это полная чепуха, и автор статьи ничего не понимает в политике.
Reply
"""


def test_a_pasted_page_is_split_by_the_pipeline_too() -> None:
    """The Python API and the server take a str: thread detection runs there as well."""
    seen = Seen()
    doc = Pipeline([seen, LanguageStage()])(PAGE)
    assert [c.author for c in doc.comments] == ["Anna", "Boris"]
    assert "Nuke" not in seen.texts[0] and doc.text == PAGE
    assert [c.language for c in doc.comments] == ["en", "ru"]
    record = doc.to_dict()
    assert record["article"] == {"start": 0, "end": PAGE.index("\n\n2 thoughts")}
