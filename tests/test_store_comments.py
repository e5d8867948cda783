"""Reader threads in the corpus database (issue 24): comments as child rows, the hate and
incitement readings as filterable and countable columns, on every backend.

Runs on SQLite and, when ``NARRASCOPE_TEST_POSTGRES_URL`` names a reachable server, on
PostgreSQL too (each test in a fresh schema), with the same expected results.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

import pytest

from narrascope.cli import main
from narrascope.doc import Document
from narrascope.doc.document import CommentRecord
from narrascope.store import SCHEMA_VERSION, FilterError, Filters, HateStatsRow, open_store
from narrascope.store.common import SQLStore
from test_store import (  # the storage suite's documents and PostgreSQL fixtures
    EN,
    analysed,
    rows,
)

ARTICLE = "The ministry published the new grain export figures on Monday."
BODIES = [
    "Good summary, thanks for the numbers.",
    "Those vermin from over the border should all be thrown out.",
    "Somebody should burn their offices down tonight, zanzibarquux.",
]


def hate(label: str, score: float, start: int, end: int, text: str) -> dict[str, Any]:
    target = "nationality" if label == "hateful" else None
    evidence = {"start": start, "end": end, "text": text[start:end]}
    return {"label": label, "score": score, "target": target, "evidence": evidence}


def incitement(flag: bool, score: float, start: int, end: int, text: str) -> dict[str, Any]:
    return {"label": flag, "score": score, "evidence": {"start": start, "end": end}}


def threaded(
    doc_id: str, bodies: list[str] = BODIES, *, date: str | None = "2024-03-02", **meta: str
) -> Document:
    """A page: the article, then one comment per body, the second a reply to the first.

    The comment ``BODIES[1]`` is read hateful, ``BODIES[2]`` incitement; the article is
    clean.
    """
    text = ARTICLE
    spans = []
    for body in bodies:
        text += "\n\n"
        spans.append((len(text), len(text) + len(body)))
        text += body
    doc = analysed(text, doc_id, "en", **({"date": date} if date else {}), **meta)
    doc.article = (0, len(ARTICLE))
    doc.hate = hate("none", 0.05, 0, 3, text)
    doc.incitement = incitement(False, 0.02, 0, 3, text)
    for n, (start, end) in enumerate(spans):
        comment = CommentRecord(
            id=f"c{n + 1}",
            parent="c1" if n == 1 else None,
            author=f"reader{n + 1}",
            start=start,
            end=end,
            depth=1 if n == 1 else 0,
            date="2024-03-03",
            language="en",
        )
        comment.annotations["hate"] = hate("none", 0.1, start, start + 4, text)
        comment.annotations["incitement"] = incitement(False, 0.1, start, start + 4, text)
        if bodies[n] == BODIES[1]:
            comment.annotations["hate"] = hate("hateful", 0.91, start + 6, start + 12, text)
        if bodies[n] == BODIES[2]:
            comment.annotations["incitement"] = incitement(True, 0.87, start, end, text)
        doc.comments.append(comment)
    return doc


def comment_table(store: SQLStore, doc_id: str) -> list[tuple[Any, ...]]:
    return store._rows(
        """SELECT comment_id, parent, author, span_start, span_end, depth, date, language,
            hate_label, hate_score, hate_target, incitement, incitement_score
        FROM comments WHERE doc_id = ? ORDER BY comment_id""",
        (doc_id,),
    )


def test_a_thread_is_stored_as_comment_rows_and_read_back_whole(store: SQLStore) -> None:
    doc = threaded("page1", source="forum")
    assert store.save([doc]) == 1
    assert store.get_document("page1") == Document.from_dict(doc.to_dict())
    got = store.get_document("page1")
    assert [c.id for c in got.comments] == ["c1", "c2", "c3"]
    assert got.comments[1].annotations["hate"]["label"] == "hateful"
    assert got.hate == doc.hate and got.incitement == doc.incitement
    table = comment_table(store, "page1")
    assert [row[:8] for row in table] == [
        (c.id, c.parent, c.author, c.start, c.end, c.depth, "2024-03-03", "en")
        for c in doc.comments
    ]
    assert [row[8:] for row in table] == [
        ("none", 0.1, None, 0, 0.1),
        ("hateful", 0.91, "nationality", 0, 0.1),
        ("none", 0.1, None, 1, 0.87),
    ]
    article = store._one(
        """SELECT hate_label, hate_score, hate_target, incitement, incitement_score
        FROM documents WHERE id = ?""",
        ("page1",),
    )
    assert article == ("none", 0.05, None, 0, 0.02)


def test_resaving_replaces_the_thread_and_delete_removes_it(store: SQLStore) -> None:
    store.save([threaded("page1"), threaded("page2")])
    store.save([threaded("page1")])  # idempotent
    assert rows(store, "comments", "page1") == 3 and rows(store, "comments") == 6
    fewer = threaded("page1", BODIES[:1])  # the hateful and violent comments are gone
    store.save([fewer])
    assert [row[0] for row in comment_table(store, "page1")] == ["c1"]
    assert store.search_count(Filters(hate="flagged")) == 1  # page2 only
    assert len(store.get_document("page1").comments) == 1
    assert store.delete("page1") is True
    assert rows(store, "comments", "page1") == 0 and rows(store, "comments", "page2") == 3
    plain = analysed(EN, "page2", "en")  # the same id without a thread or readings
    store.save([plain])
    assert rows(store, "comments") == 0
    assert store.search_count(Filters(hate="flagged")) == 0
    assert store._one("SELECT hate_label, incitement FROM documents") == (None, None)


@pytest.fixture
def corpus(store: SQLStore) -> SQLStore:
    """Pages over two months and two sources, one undated, one with a hateful article."""
    offensive = threaded("apr-offensive", BODIES[:1], date="2024-04-09", source="blog")
    offensive.comments[0].annotations["hate"] = hate("offensive", 0.7, 0, 4, offensive.text)
    article_hate = analysed(EN, "apr-article", "en", date="2024-04-20", source="blog")
    article_hate.hate = hate("hateful", 0.8, 0, 4, EN)  # no thread: the article alone
    store.save(
        [
            threaded("mar-1", source="forum"),
            threaded("mar-2", BODIES[:1], date="2024-03-28", source="forum"),
            offensive,
            article_hate,
            threaded("undated", date=None, source="forum"),
            analysed(EN, "old", "en", date="2024-03-05"),  # analysed before the hate stage
        ]
    )
    return store


def ids(store: SQLStore, **filters: Any) -> list[str]:
    return sorted(hit.id for hit in store.search(Filters(**filters)))


def test_the_hate_filter_selects_documents_by_article_or_any_comment(corpus: SQLStore) -> None:
    assert ids(corpus, hate="hateful") == ["apr-article", "mar-1", "undated"]
    assert ids(corpus, hate="offensive") == ["apr-offensive"]
    assert ids(corpus, hate="incitement") == ["mar-1", "undated"]
    assert ids(corpus, hate="flagged") == ["apr-article", "apr-offensive", "mar-1", "undated"]
    assert ids(corpus, hate=" Hateful ", date_from="2024-03-01") == ["apr-article", "mar-1"]
    assert ids(corpus, hate="") == ids(corpus)  # blank: no filter, as in the web form
    assert corpus.search_count(Filters(hate="flagged", source="forum")) == 2
    flagged = [d.id for d in corpus.iter_documents(Filters(hate="flagged", query="vermin"))]
    assert flagged == ["mar-1", "undated"]  # newest first, undated last
    with pytest.raises(FilterError, match="hate is one of hateful, offensive"):
        Filters(hate="nasty")


def test_a_search_finds_words_that_are_only_in_a_comment(corpus: SQLStore) -> None:
    assert "zanzibarquux" not in ARTICLE
    assert ids(corpus, query="zanzibarquux") == ["mar-1", "undated"]
    assert ids(corpus, query="offices burned") == ["mar-1", "undated"]  # word forms too
    assert ids(corpus, query="grain -zanzibarquux") == ["apr-offensive", "mar-2"]


def test_hate_stats_count_flagged_documents_and_comments(corpus: SQLStore) -> None:
    months = corpus.stats("month", hate=True)
    assert months == [
        HateStatsRow("2024-03", 3, 1, 0, 1, 4, 1, 0, 1),
        HateStatsRow("2024-04", 2, 1, 1, 0, 1, 0, 1, 0),
        HateStatsRow(None, 1, 1, 0, 1, 3, 1, 0, 1),
    ]
    assert corpus.stats("source", hate=True) == [
        HateStatsRow("blog", 2, 1, 1, 0, 1, 0, 1, 0),
        HateStatsRow("forum", 3, 2, 0, 2, 7, 2, 0, 2),
        HateStatsRow(None, 1, 0, 0, 0, 0, 0, 0, 0),
    ]
    # the rows of one flag add up to what the filter selects, with any other filter
    for flag in ("hateful", "offensive", "incitement"):
        days = corpus.stats("day", Filters(language="en"), hate=True)
        counted = sum(getattr(row, flag) for row in days)
        assert counted == corpus.search_count(Filters(hate=flag, language="en"))
    assert corpus.stats("month", Filters(hate="offensive"), hate=True) == [
        HateStatsRow("2024-04", 1, 0, 1, 0, 1, 0, 1, 0)
    ]
    assert corpus.stats("week", Filters(source="nowhere"), hate=True) == []
    # the narrative counts are what they were
    assert {row.bucket for row in corpus.stats("month")} == {"2024-03", "2024-04", None}


def test_odd_readings_are_stored_as_not_analysed(store: SQLStore) -> None:
    doc = threaded("odd")
    doc.hate = {"label": 3, "score": "high"}  # not the stage's shape
    doc.comments[0].annotations["hate"] = "hateful"
    doc.comments[1].annotations["incitement"] = {"label": "yes", "score": True}
    assert store.save([doc]) == 1
    assert store._one("SELECT hate_label, hate_score FROM documents") == (None, None)
    table = comment_table(store, "odd")
    assert table[0][8:11] == (None, None, None) and table[1][11:] == (None, None)
    assert store.get_document("odd") == Document.from_dict(doc.to_dict())  # record intact


def test_a_version_4_database_gains_the_thread_tables_with_its_stored_threads(
    target: str,
) -> None:
    """Documents saved with a thread before step 5 keep their JSON record; the migration
    fills their comment rows and readings from it, so they are filtered and counted."""
    if "://" not in target and sqlite3.sqlite_version_info < (3, 35):
        pytest.skip("this SQLite cannot drop a column, to make a version 4 database")
    first = threaded("0", BODIES[1:2], source="forum")  # the first key (an empty id is refused)
    with open_store(target) as store:
        store.save([threaded("page1", source="forum"), first, analysed(EN, "en1", "en")])

        def make_version_4() -> None:  # as step 4 left the schema, with these records
            store._exec("DROP TABLE comments")
            for column in ("hate_label", "hate_score", "hate_target", "incitement"):
                store._exec(f"ALTER TABLE documents DROP COLUMN {column}")
            store._exec("ALTER TABLE documents DROP COLUMN incitement_score")
            store._exec("DELETE FROM schema_version WHERE version > 4")

        store._write(make_version_4)
        assert store.version() == 4
    with open_store(target) as store:
        assert store.version() == SCHEMA_VERSION
        assert [row[0] for row in comment_table(store, "page1")] == ["c1", "c2", "c3"]
        assert [row[8] for row in comment_table(store, "0")] == ["hateful"]
        assert ids(store, hate="hateful") == ["0", "page1"]
        assert ids(store, hate="incitement") == ["page1"]
        assert store.stats("month", hate=True) == [
            HateStatsRow("2024-03", 2, 2, 0, 1, 4, 2, 0, 1),
            HateStatsRow(None, 1, 0, 0, 0, 0, 0, 0, 0),
        ]
        store.save([threaded("page1", BODIES[:1])])  # and it is written as any other
        assert rows(store, "comments", "page1") == 1


def test_cli_stats_hate_table_and_json(corpus: SQLStore, target: str, capsys) -> None:
    assert main(["stats", "--db", target, "--by", "month", "--hate"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["documents", "comments"]
    assert lines[1].split() == ["month", *["all", "hateful", "offensive", "incitement"] * 2]
    assert [line.split() for line in lines[2:]] == [
        ["2024-03", "3", "1", "0", "1", "4", "1", "0", "1"],
        ["2024-04", "2", "1", "1", "0", "1", "0", "1", "0"],
        ["(no", "date)", "1", "1", "0", "1", "3", "1", "0", "1"],
    ]
    assert main(["stats", "--db", target, "--by", "source", "--hate", "--json"]) == 0
    found = json.loads(capsys.readouterr().out)
    assert found[1] == {
        "source": "forum",
        "documents": 3,
        "hateful": 2,
        "offensive": 0,
        "incitement": 2,
        "comments": 7,
        "hateful_comments": 2,
        "offensive_comments": 0,
        "incitement_comments": 2,
    }
    assert [row["source"] for row in found] == ["blog", "forum", None]


def test_api_stats_hate_gives_the_cli_rows_with_the_search_filters(
    corpus: SQLStore, target: str
) -> None:
    from fastapi.testclient import TestClient

    from narrascope.serve import create_app
    from test_serve_api import fake_pipeline

    with TestClient(create_app(target, pipeline=fake_pipeline())) as client:
        months = client.get("/api/stats/hate", params={"by": "month"}).json()
        assert months["by"] == "month"
        assert months["rows"] == [r.to_dict() for r in corpus.stats("month", hate=True)]
        assert months["rows"][0] == {
            "bucket": "2024-03",
            "documents": 3,
            "hateful": 1,
            "offensive": 0,
            "incitement": 1,
            "comments": 4,
            "hateful_comments": 1,
            "offensive_comments": 0,
            "incitement_comments": 1,
        }
        offensive = client.get("/api/stats/hate", params={"hate": "offensive"}).json()
        assert [r["bucket"] for r in offensive["rows"]] == ["2024-04"]
        assert client.get("/api/stats/hate", params={"by": "year"}).status_code == 422
