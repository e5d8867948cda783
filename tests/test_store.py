"""The corpus database on every backend: round trip, replacement, migrations, search,
counts, streaming, facets, stats, deletion, unstorable text and the CLI.

The storage tests run on SQLite and, when ``NARRASCOPE_TEST_POSTGRES_URL`` names a
reachable server, on PostgreSQL too (each test in a fresh schema, dropped afterwards).
"""

from __future__ import annotations

import json
import re
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import narrascope
from narrascope.cli import main
from narrascope.doc import Annotation, Document, Entity, Span, Technique
from narrascope.errors import StoreError
from narrascope.pipeline import Pipeline
from narrascope.store import (
    SCHEMA_VERSION,
    DocumentsNotSaved,
    FilterError,
    Filters,
    open_store,
    sql,
)
from narrascope.store import sqlite as sqlite_backend
from narrascope.store.common import SQLStore
from pgtest import postgres_schema_url

PUPPET = "URW: Discrediting Ukraine"
PUPPET_SUB = f"{PUPPET}: Ukraine is a puppet of the West"
BLAME = "URW: Blaming the war on others rather than the invader"
EN = "Kyiv is a puppet of the West. NATO provoked this war."
RU = "НАТО спровоцировало эту войну. Киев лишь марионетка Запада."
UK = "Захід тримає Київ як маріонетку. НАТО розпалює цю війну."
BG = "НАТО провокира войната. София трябва да остане неутрална."
PT = "A OTAN provocou esta guerra. A Ucrânia é um fantoche do Ocidente."
HI = "नाटो ने यह युद्ध भड़काया। यूक्रेन पश्चिम की कठपुतली है।"
HOSTILE = "<script>alert('x')</script> \"quoted\" '; DROP TABLE documents; -- NATO"


def analysed(text: str, doc_id: str, language: str, **meta: str) -> Document:
    """A document annotated the way the pipeline would, with round scores (to_dict rounds)."""
    doc = Document(text=text, id=doc_id, language=language, meta=dict(meta))
    cut = min(i for i in (text.find("."), text.find("।"), len(text) - 1) if i >= 0) + 1
    doc.sentences = [doc.span(0, cut), doc.span(min(cut + 1, len(text)), len(text))]
    first = doc.sentences[0]
    doc.groups["narratives"] = [
        Annotation(PUPPET, 0.9, [first], [0.8]),
        Annotation(BLAME, 0.4, [doc.sentences[1]], [0.3]),
    ]
    doc.groups["subnarratives"] = [Annotation(PUPPET_SUB, 0.7, [first], [0.7], parent=PUPPET)]
    doc.explanation = "Why: " + first.text
    word = text.split()[0]
    doc.entities = [
        Entity(
            word,
            [doc.span(0, len(word))],
            "Antagonist",
            0.6,
            [Annotation("Instigator", 0.5, parent="Antagonist")],
            [first],
            [0.5],
            "ORG",
        )
    ]
    doc.techniques = [Technique("Loaded_Language", first, 0.45, 1, "manipulative_wording")]
    doc.persuasion_profile = {"manipulative_wording": 1}
    return doc


def rows(store: SQLStore | Path, table: str, doc_id: str | None = None) -> int:
    """Rows of ``table`` (of one document), read through the store's own connection."""
    if isinstance(store, Path):
        with open_store(store) as opened:
            return rows(opened, table, doc_id)
    if doc_id is None:
        return store._one(f"SELECT COUNT(*) FROM {table}")[0]
    return store._one(f"SELECT COUNT(*) FROM {table} WHERE doc_id = ?", (doc_id,))[0]


# --- the backends ----------------------------------------------------------------------


# --- opening, migrations ---------------------------------------------------------------


def test_a_new_database_is_migrated_and_reopening_is_a_no_op(target: str) -> None:
    with open_store(target) as first:
        assert first.version() == SCHEMA_VERSION and first.count() == 0
        first.save([analysed(EN, "en1", "en")])
        versions = [v for (v,) in first._rows("SELECT version FROM schema_version")]
    assert sorted(versions) == list(range(1, SCHEMA_VERSION + 1))
    with open_store(target) as again:
        assert again.version() == SCHEMA_VERSION and again.count() == 1
        assert sorted(v for (v,) in again._rows("SELECT version FROM schema_version")) == versions


def test_sqlite_is_wal_and_opens_by_url(tmp_path: Path) -> None:
    db = tmp_path / "corpus.db"
    open_store(db).close()
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    with open_store(f"sqlite:///{db}") as again:  # sqlite:////abs/path
        assert again.version() == SCHEMA_VERSION


def test_a_version_2_sqlite_index_is_rekeyed_and_replaces_stay_cheap(tmp_path: Path) -> None:
    """Schema 2 kept the document id in an UNINDEXED FTS column (a replace scanned the whole
    index); step 3 re-keys the index by row id without losing anything searchable."""
    from narrascope.store import sql

    db = tmp_path / "old.db"
    with sqlite3.connect(db) as conn:  # a database as schema 2 left it
        conn.execute("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied TEXT)")
        for statement in sql.CORE_SCHEMA + sql.FTS_SCHEMA:
            conn.execute(statement)
        conn.executemany("INSERT INTO schema_version VALUES (?, 'then')", [(1,), (2,)])
    with open_store(db) as store:
        if not store.fts:
            pytest.skip("this SQLite has no FTS5")
        store.save([analysed(EN, "en1", "en"), analysed(RU, "ru1", "ru")])
    with sqlite3.connect(db) as conn:  # make it schema 2 again, with its rows
        conn.execute("DROP TABLE documents_fts")
        for statement in sql.FTS_SCHEMA:
            conn.execute(statement)
        conn.execute("DELETE FROM schema_version WHERE version > 2")
    with open_store(db) as store:
        assert store.version() == SCHEMA_VERSION
        assert [h.id for h in store.search(Filters(query="provoked"))] == ["en1"]
        store.save([analysed(EN + " Again.", "en1", "en")])
        assert [h.id for h in store.search(Filters(query="Again"))] == ["en1"]
        assert rows(store, "documents_fts") == 2
        plan = " ".join(
            str(r) for r in store._rows("EXPLAIN QUERY PLAN " + sql.DELETE_FTS, ("en1",))
        )
        # the row id is looked up by key, and FTS5 is handed it as a constraint ("=")
        assert "SEARCH documents USING" in plan and "VIRTUAL TABLE INDEX 0:=" in plan


def test_a_database_from_a_newer_version_is_refused(target: str) -> None:
    with open_store(target) as store:
        store._write(
            lambda: store._exec(
                "INSERT INTO schema_version (version) VALUES (?)", (SCHEMA_VERSION + 1,)
            )
        )
    with pytest.raises(StoreError, match=r"E301.*newer.*upgrade narrascope"):
        open_store(target)


@pytest.fixture
def postgres_url(postgres_admin: Any) -> Iterator[str]:
    yield from postgres_schema_url(postgres_admin)


def test_postgres_urls_and_connection_errors(postgres_url: str) -> None:
    url = postgres_url
    for scheme in ("postgres://", "postgresql+psycopg://"):
        with open_store(url.replace("postgresql://", scheme, 1)) as store:
            assert type(store).__name__ == "PostgresStore" and store.count() >= 0
    wrong = re.sub(r"://([^:@/]+):[^@/]*@", r"://\1:not-the-password@", url)
    with pytest.raises(StoreError, match=r"E303.*cannot connect to PostgreSQL") as caught:
        open_store(wrong)
    assert "not-the-password" not in str(caught.value)
    with pytest.raises(StoreError, match=r"E303.*cannot connect"):
        open_store(re.sub(r"/[^/?]+\?", "/no_such_database_here?", url))


def test_urls_and_garbage(tmp_path: Path, monkeypatch) -> None:
    with pytest.raises(StoreError, match=r"E303.*cannot connect to PostgreSQL.*127\.0\.0\.1:1"):
        open_store("postgresql://user@127.0.0.1:1/corpus")  # nothing listens on port 1
    with pytest.raises(StoreError, match="unknown database URL scheme"):
        open_store("mysql://localhost/x")
    monkeypatch.chdir(tmp_path)
    with open_store("sqlite:///relative.db") as relative:
        assert relative.path == Path("relative.db")
    assert (tmp_path / "relative.db").exists()
    (tmp_path / "not_a.db").write_bytes(b"this is not sqlite at all, just bytes" * 100)
    with pytest.raises(StoreError, match=r"E303.*not_a\.db"):
        open_store(tmp_path / "not_a.db")


# --- writes ----------------------------------------------------------------------------


def test_save_then_get_returns_the_same_document(store: SQLStore) -> None:
    docs = [
        analysed(EN, "en1", "en", source="blog", date="2024-03-02", url="https://x.test/1"),
        analysed(RU, "ru1", "ru", source="channel", date="2024-04-10"),
        analysed(UK, "uk1", "uk", source="канал"),
        analysed(BG, "bg1", "bg"),
        analysed(PT, "pt1", "pt", source="jornal"),
        analysed(HI, "hi1", "hi", source="समाचार"),
    ]
    assert store.save(docs) == len(docs)
    for doc in docs:
        got = store.get_document(doc.id)
        assert got == Document.from_dict(doc.to_dict())
        assert got == doc  # scores are round, meta has no None: nothing is lost
    assert store.get_document("missing") is None
    assert store.contains("ru1", docs[1].content_hash)
    assert not store.contains("ru1", docs[0].content_hash)


def test_resaving_replaces_results_without_duplicates(store: SQLStore) -> None:
    doc = analysed(EN, "en1", "en")
    store.save([doc, analysed(RU, "ru1", "ru")])
    counts = {
        t: rows(store, t, "en1") for t in ("narratives", "evidence", "entities", "techniques")
    }
    assert counts == {"narratives": 3, "evidence": 3, "entities": 1, "techniques": 1}
    store.save([doc])  # same id, same text: results replaced, nothing duplicated
    assert {t: rows(store, t, "en1") for t in counts} == counts
    assert rows(store, "documents") == 2
    doc.groups["narratives"] = [Annotation("Other", 0.95)]  # a new model, new results
    doc.groups["subnarratives"] = []
    store.save([doc])
    assert rows(store, "narratives", "en1") == 1 and rows(store, "evidence", "en1") == 0
    assert store.get_document("en1").narratives == [Annotation("Other", 0.95)]
    assert rows(store, "narratives", "ru1") == 3  # the other document is untouched
    changed = Document(text=EN + " More.", id="en1", language="en")
    store.save([changed])
    assert rows(store, "documents") == 2
    assert (
        store.contains("en1", changed.content_hash)
        and store.search(Filters(query="More"))[0].id == "en1"
    )
    assert (
        store.search(Filters(query="provoked", language="en"))[0].id == "en1"
    )  # FTS row replaced too
    if getattr(store, "fts", False):
        assert rows(store, "documents_fts") == 2


def test_a_document_the_database_refuses_costs_only_itself(store: SQLStore, monkeypatch) -> None:
    store.save([analysed(EN, "en1", "en")])
    real = type(store)._save_one

    def refuse_ru2(self: SQLStore, doc: Document, now: str) -> None:
        real(self, doc, now)  # its rows are written, then the database says no
        if doc.id == "ru2":
            raise OverflowError("Python int too large to convert to SQLite INTEGER")

    monkeypatch.setattr(type(store), "_save_one", refuse_ru2)
    with pytest.raises(DocumentsNotSaved, match=r"E304.*ru2: OverflowError") as caught:
        store.save([analysed(EN, "en2", "en"), analysed(RU, "ru2", "ru"), analysed(PT, "pt", "pt")])
    assert caught.value.saved == 2 and [i for i, _ in caught.value.failures] == ["ru2"]
    assert store.count() == 3 and store.get_document("ru2") is None
    assert rows(store, "narratives", "ru2") == 0 and rows(store, "entities", "ru2") == 0
    assert store.search(Filters(query="Ucrânia"))[0].id == "pt"


def test_a_failing_batch_is_rolled_back_entirely(store: SQLStore, monkeypatch) -> None:
    store.save([analysed(EN, "en1", "en")])

    def crash(self: SQLStore, doc: Document, now: str) -> None:
        raise KeyboardInterrupt  # not a document's fault: nothing of the batch stays

    monkeypatch.setattr(type(store), "_save_one", crash)
    with pytest.raises(KeyboardInterrupt):
        store.save([analysed(EN, "en2", "en")])
    monkeypatch.undo()
    assert store.count() == 1 and store.get_document("en2") is None
    assert store.save([analysed(EN, "en2", "en")]) == 1  # the connection is still usable


def test_lone_surrogates_and_nul_are_stored_without_costing_the_batch(store: SQLStore) -> None:
    broken = "Emoji cut in half \ud83d by a scraper, NUL\x00 too. Второе предложение здесь."
    bad = analysed(broken, "bad\udc80id", "ru", source="chan\ud800")
    good = analysed(RU, "ru1", "ru")
    assert store.save([analysed(EN, "en1", "en"), bad, good]) == 3
    got = store.get_document("bad\udc80id")
    assert got == bad and got.text == broken  # the record keeps the exact text
    assert store.contains("bad\udc80id", bad.content_hash)  # so --resume skips it
    hits = store.search(Filters(query="scraper"))
    assert [h.id for h in hits] == ["bad\ufffdid"]  # indexed text: U+FFFD, same offsets
    assert (
        hits[0].source == "chan\ufffd" and store.search(Filters(source="chan\ud800"))[0] == hits[0]
    )
    assert [d.id for d in store.iter_documents(Filters(query="scraper"))] == ["bad\udc80id"]
    assert store.get_document("ru1") == good


def test_hostile_text_is_stored_and_returned_verbatim(store: SQLStore) -> None:
    doc = analysed(HOSTILE + ". Second sentence here.", "'; DROP TABLE documents; --", "en")
    doc.meta["source"] = "<b>src</b>' OR '1'='1"
    store.save([doc])
    got = store.get_document("'; DROP TABLE documents; --")
    assert got is not None and got.text == doc.text and got == doc
    assert store.search(Filters(source="<b>src</b>' OR '1'='1"))[0].id == doc.id
    assert store.search(Filters(source="x' OR '1'='1")) == []
    assert [h.id for h in store.search(Filters(query="DROP TABLE"))] == [doc.id]
    # no FTS syntax leaks, no tsquery either
    assert [h.id for h in store.search(Filters(query='"quoted" alert('))] == [doc.id]
    assert [h.id for h in store.search(Filters(query="alert & !zebra | (quoted)"))] == []
    assert [h.id for h in store.search(Filters(query="NEAR(alert quoted) OR zebra*"))] == []
    assert store.search_count(Filters(query="100% ?")) == 0
    assert store.count() == 1


def test_delete_removes_the_document_and_all_its_results(store: SQLStore) -> None:
    store.save([analysed(EN, "en1", "en"), analysed(UK, "uk1", "uk")])
    assert store.delete("uk1") is True
    assert store.delete("uk1") is False and store.delete("never") is False
    assert store.get_document("uk1") is None and store.count() == 1
    for table in ("narratives", "evidence", "entities", "techniques"):
        assert rows(store, table, "uk1") == 0 and rows(store, table, "en1") > 0
    assert store.search(Filters(query="маріонетку")) == []
    assert store.search_count(Filters(query="puppet")) == 1
    assert store.facets()["language"] == [("en", 1)]
    store.save([analysed(UK, "uk1", "uk")])  # and it can come back
    assert [h.id for h in store.search(Filters(query="маріонетку"))] == ["uk1"]


# --- reads -----------------------------------------------------------------------------


@pytest.fixture
def corpus(store: SQLStore) -> SQLStore:
    plain = Document(text="The council approved the library budget.", id="en2", language="en")
    plain.meta = {"source": "paper", "date": "2024-03-20"}
    plain.groups["narratives"] = [Annotation("Other", 0.95)]
    store.save(
        [
            analysed(EN, "en1", "en", source="blog", date="2024-03-02"),
            analysed(RU, "ru1", "ru", source="channel", date="2024-04-10T08:30:00"),
            plain,
            analysed(UK, "uk1", "uk", source="channel", date="2023-01-01"),
            analysed(HI, "hi1", "hi", source="blog"),  # no date: last in time order
        ]
    )
    return store


FILTERS: list[Filters] = [
    Filters(),
    Filters(narrative=PUPPET),
    Filters(narrative=PUPPET_SUB),
    Filters(narrative=BLAME, min_score=0.5),
    Filters(min_score=0.92),
    Filters(language="ru"),
    Filters(source="paper"),
    Filters(source="channel"),
    Filters(date_from="2024-03-02", date_to="2024-03-31"),
    Filters(date_from="2024-04-10", date_to="2024-04-10"),
    Filters(date_to="2023-12-31"),
    Filters(query="puppet"),
    Filters(query="марионетка"),
    Filters(query="нато"),
    Filters(query="НАТО", language="uk"),
    Filters(query="कठपुतली"),
    Filters(query="library budget"),
    Filters(query="library war"),
    Filters(query="NATO", language="en", narrative=PUPPET),
    Filters(query="   "),
]
EXPECTED = [
    ["en1", "en2", "hi1", "ru1", "uk1"],
    ["en1", "hi1", "ru1", "uk1"],
    ["en1", "hi1", "ru1", "uk1"],  # sub-narratives are labels too
    [],
    ["en2"],
    ["ru1"],
    ["en2"],
    ["ru1", "uk1"],
    ["en1", "en2"],
    ["ru1"],  # time of day ignored
    ["uk1"],
    ["en1"],
    ["ru1"],
    ["ru1", "uk1"],  # case folded for Cyrillic too
    ["uk1"],
    ["hi1"],  # Devanagari words, vowel signs included
    ["en2"],
    [],  # every word must be there
    ["en1"],
    ["en1", "en2", "hi1", "ru1", "uk1"],  # a blank query is no filter
]


@pytest.mark.parametrize(("filters", "expected"), list(zip(FILTERS, EXPECTED, strict=True)))
def test_search_and_search_count_filters(
    corpus: SQLStore, filters: Filters, expected: list[str]
) -> None:
    assert sorted(h.id for h in corpus.search(filters)) == expected
    assert corpus.search_count(filters) == len(expected)
    streamed = list(corpus.iter_documents(filters, batch_size=2))
    assert [d.id for d in streamed] == [h.id for h in corpus.search(filters)]


def test_search_pages_newest_first(corpus: SQLStore) -> None:
    hit = corpus.search(Filters(narrative=PUPPET, language="ru"))[0]
    assert (hit.source, hit.date) == ("channel", "2024-04-10T08:30:00")
    assert hit.narratives == [(PUPPET, 0.9), (BLAME, 0.4)]  # best first, narratives only
    newest_first = [h.id for h in corpus.search()]
    assert newest_first == ["ru1", "en2", "en1", "uk1", "hi1"]  # undated last
    assert [h.id for h in corpus.search(limit=2, offset=1)] == ["en2", "en1"]
    assert corpus.search(limit=2, offset=10) == [] and corpus.search_count() == 5


def test_one_filters_object_selects_the_same_documents_in_every_read(corpus: SQLStore) -> None:
    f = Filters(narrative=PUPPET, date_from="2024-01-01", min_score=0.5)
    found = [h.id for h in corpus.search(f)]
    assert found == ["ru1", "en1"]  # not uk1 (2023), hi1 (no date) nor en2 (no puppet)
    assert corpus.search_count(f) == 2
    assert [d.id for d in corpus.iter_documents(f, batch_size=1)] == found
    assert [(r.bucket, r.documents) for r in corpus.stats("month", f)] == [
        ("2024-03", 1),
        ("2024-04", 1),
    ]
    assert corpus.stats_undated(f) == 0
    assert corpus.search(None) == corpus.search(Filters()) == corpus.search()
    with pytest.raises(TypeError, match=r"narrascope\.store\.Filters"):
        corpus.search("NATO")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("given", "refused"),
    [
        ({"date_from": "March"}, "not a date (YYYY-MM-DD): 'March'"),
        ({"date_to": "2024-02-30"}, "not a date"),
        ({"min_score": 2}, "a score is a number from 0 to 1, got 2"),
        ({"min_score": float("nan")}, "from 0 to 1"),
        ({"min_score": "high"}, "from 0 to 1, got 'high'"),
    ],
)
def test_filters_refuse_a_value_no_store_could_use(given: dict[str, Any], refused: str) -> None:
    with pytest.raises(FilterError, match=re.escape(refused)) as caught:
        Filters(**given)
    assert caught.value.code == "E305" and str(caught.value).startswith("[E305] ")
    assert isinstance(caught.value, StoreError)
    assert Filters(min_score="0.5").min_score == 0.5  # a score given as text is a number
    # another ISO spelling of a day compares like the stored dates (text comparison)
    assert Filters(date_from="20240302").date_from == "2024-03-02"
    with pytest.raises(AttributeError):  # frozen: what was checked stays as checked
        Filters().date_from = "March"  # type: ignore[misc]


def test_iter_documents_streams_whole_documents_in_batches(corpus: SQLStore, monkeypatch) -> None:
    batches: list[int] = []
    real = type(corpus)._ids_param

    def spy(self: SQLStore, ids: list[str]) -> Any:
        batches.append(len(ids))
        return real(self, ids)

    monkeypatch.setattr(type(corpus), "_ids_param", spy)
    docs = corpus.iter_documents(batch_size=2)
    first = next(docs)  # lazy: one batch read so far
    assert first == corpus.get_document("ru1") and batches == [2]
    rest = list(docs)
    assert [d.id for d in rest] == ["en2", "en1", "uk1", "hi1"] and batches == [2, 2, 1]
    assert all(d == corpus.get_document(d.id) for d in rest)
    assert rest[-1].entities[0].name == "नाटो" and rest[-1].narratives[0].evidence
    assert list(corpus.iter_documents(Filters(query="library war"))) == []
    with pytest.raises(ValueError, match="batch_size"):
        list(corpus.iter_documents(batch_size=0))


def test_facets_count_documents_per_value_most_frequent_first(corpus: SQLStore) -> None:
    corpus.save([analysed(BG, "bg1", "bg"), analysed(PT, "pt1", "pt", source="blog")])
    facets = corpus.facets()
    assert facets["language"] == [("en", 2), ("bg", 1), ("hi", 1), ("pt", 1), ("ru", 1), ("uk", 1)]
    assert facets["source"] == [("blog", 3), ("channel", 2), ("paper", 1)]  # None not counted
    assert facets["narrative"] == [(BLAME, 6), (PUPPET, 6), ("Other", 1)]
    assert facets["subnarrative"] == [(PUPPET_SUB, 6)]


def test_search_without_fts_falls_back_to_like(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(sqlite_backend, "has_fts5", lambda: False)
    with open_store(tmp_path / "plain.db") as store:
        assert not store.fts and store.version() == SCHEMA_VERSION
        store.save([analysed(EN, "en1", "en"), analysed(HOSTILE + ". End.", "h", "en")])
        assert [h.id for h in store.search(Filters(query="puppet West"))] == ["en1"]
        assert [h.id for h in store.search(Filters(query="100%_"))] == []
        assert [h.id for h in store.search(Filters(query="'; DROP"))] == ["h"]
        assert store.search_count(Filters(query="puppet")) == 1 and store.delete("en1")
        assert store.search_count(Filters(query="puppet")) == 0


def test_stats_buckets(corpus: SQLStore) -> None:
    def table(by: str, **filters: Any) -> set[tuple]:
        return {(r.bucket, r.narrative, r.documents) for r in corpus.stats(by, Filters(**filters))}

    assert table("month") == {
        ("2023-01", PUPPET, 1),
        ("2023-01", BLAME, 1),
        ("2024-03", PUPPET, 1),
        ("2024-03", BLAME, 1),
        ("2024-03", "Other", 1),
        ("2024-04", PUPPET, 1),
        ("2024-04", BLAME, 1),
        (None, PUPPET, 1),
        (None, BLAME, 1),
    }
    assert ("channel", PUPPET, 2) in table("source")
    assert {(b, n) for b, n, _ in table("language")} >= {("en", "Other"), ("ru", BLAME)}
    assert {b for b, _, _ in table("day")} == {
        "2023-01-01",
        "2024-03-02",
        "2024-03-20",
        "2024-04-10",
        None,
    }
    # ISO 8601 weeks: 1 January 2023 is a Sunday, in the last week of 2022
    assert {b for b, _, _ in table("week")} == {
        "2022-W52",
        "2024-W09",
        "2024-W12",
        "2024-W15",
        None,
    }
    rows_ = corpus.stats("month")
    assert [r.bucket for r in rows_][-1] is None  # undated last
    assert [r.narrative for r in rows_ if r.bucket == "2024-03"] == ["Other", BLAME, PUPPET]
    with pytest.raises(ValueError, match="by must be one of"):
        corpus.stats("year")  # type: ignore[arg-type]


def test_stats_weeks_at_year_ends_and_odd_dates(store: SQLStore) -> None:
    days = ["2020-12-31", "2021-01-03", "2024-12-30", "2026-06-15", "2024-02-30", "soon", "2024"]
    store.save([analysed(EN, f"d{i}", "en", date=day) for i, day in enumerate(days)])
    weeks = {r.bucket: r.documents for r in store.stats("week", Filters(narrative=PUPPET))}
    # "2024-02-30" and "soon" name no day, and a bare year pins none: undated (not filed
    # under 1 January)
    assert weeks == {"2020-W53": 2, "2025-W01": 1, "2026-W25": 1, None: 3}
    months = {r.bucket for r in store.stats("month")}
    assert months == {"2020-12", "2021-01", "2024-12", "2026-06", None}


def test_stats_of_a_filtered_set(corpus: SQLStore) -> None:
    def table(by: str, **filters: Any) -> list[tuple]:
        return [(r.bucket, r.narrative, r.documents) for r in corpus.stats(by, Filters(**filters))]

    assert table("language", narrative=PUPPET, source="channel") == [
        ("ru", PUPPET, 1),
        ("uk", PUPPET, 1),
    ]
    assert table("month", language="en") == [
        ("2024-03", "Other", 1),  # ties by label, in byte order
        ("2024-03", BLAME, 1),
        ("2024-03", PUPPET, 1),
    ]
    assert table("source", min_score=0.5) == [
        ("blog", PUPPET, 2),
        ("channel", PUPPET, 2),
        ("paper", "Other", 1),
    ]
    assert table("month", query="НАТО", date_from="2024-01-01") == [
        ("2024-04", BLAME, 1),
        ("2024-04", PUPPET, 1),
    ]
    assert table("day", narrative=PUPPET_SUB) == [
        ("2023-01-01", PUPPET_SUB, 1),
        ("2024-03-02", PUPPET_SUB, 1),
        ("2024-04-10", PUPPET_SUB, 1),
        (None, PUPPET_SUB, 1),
    ]
    assert table("month", narrative="no such narrative") == []
    for filters in FILTERS:
        label = filters.narrative
        if label is None:
            continue
        by_day = corpus.stats("day", filters)
        assert sum(r.documents for r in by_day) == corpus.search_count(filters)


def test_stats_undated_counts_each_undated_document_once(corpus: SQLStore) -> None:
    assert corpus.stats_undated() == 1  # hi1: two narratives, counted once
    assert corpus.stats_undated(Filters(narrative=PUPPET, source="blog")) == 1
    assert corpus.stats_undated(Filters(language="en")) == 0
    assert corpus.stats_undated(Filters(narrative="no such narrative")) == 0
    assert corpus.stats_undated(Filters(date_from="2000-01-01")) == 0  # a date filter: dated only
    corpus.save([analysed(EN, "en3", "en", source="blog", date="")])  # empty: no day either
    assert corpus.stats_undated(Filters(source="blog")) == 2
    assert corpus.stats_undated(Filters(query="कठपुतली")) == 1
    for filters in FILTERS:  # one label: its undated row is exactly the undated count
        if filters.narrative is not None:
            undated = [r.documents for r in corpus.stats("month", filters) if not r.bucket]
            assert sum(undated) == corpus.stats_undated(filters)


def dated(doc_id: str, day: str | None) -> Document:
    doc = analysed(EN, doc_id, "en", source="blog")
    doc.meta["date"] = day
    return doc


ODD_DATES = [
    dated("f1", "02.03.2024"),  # 2 March 2024
    dated("f2", "March 5, 2024"),
    dated("f3", "2024-03-04"),
    dated("f4", "not a date"),
    dated("f5", "2024-02-30"),  # no such day
]


def test_dates_in_other_forms_are_filtered_counted_and_ordered_by_their_day(
    store: SQLStore,
) -> None:
    """Compared as text, "02.03.2024" came before 2023 and "March 5, 2024" after any day,
    and each date made up a stats bucket of its own; a date naming no day is undated."""
    store.save(ODD_DATES)

    def found(**filters: str) -> list[str]:
        return [h.id for h in store.search(Filters(**filters))]

    assert found() == ["f2", "f3", "f1", "f4", "f5"]  # by day, newest first; undated last
    assert found(date_to="2023-01-01") == []
    assert found(date_from="2024-03-01", date_to="2024-03-31") == ["f2", "f3", "f1"]
    assert found(date_from="2024-03-03") == ["f2", "f3"]
    assert found(date_from="2099-01-01") == []
    assert store.search_count(Filters(date_to="2024-03-04")) == 2
    assert [h.date for h in store.search()][:3] == ["March 5, 2024", "2024-03-04", "02.03.2024"]
    by_label = Filters(narrative=PUPPET)
    assert [(r.bucket, r.documents) for r in store.stats("day", by_label)] == [
        ("2024-03-02", 1),
        ("2024-03-04", 1),
        ("2024-03-05", 1),
        (None, 2),
    ]
    assert [(r.bucket, r.documents) for r in store.stats("week", by_label)] == [
        ("2024-W09", 1),
        ("2024-W10", 2),
        (None, 2),
    ]
    assert [(r.bucket, r.documents) for r in store.stats("month", by_label)] == [
        ("2024-03", 3),
        (None, 2),
    ]
    assert store.stats_undated() == 2
    assert [(r.bucket, r.documents) for r in store.stats("month", hate=True)] == [
        ("2024-03", 3),
        (None, 2),
    ]


def test_the_day_of_documents_stored_before_it_is_filled_by_the_migration(target: str) -> None:
    with open_store(target) as store:
        store.save(ODD_DATES)
        store._write(lambda: store._exec("UPDATE documents SET day = NULL"))  # as before step 7
        # the step that reads every date's day again runs again (and the ones after it)
        step = 1 + [steps for _, steps in sql.MIGRATIONS].index(sql.MOMENT_SCHEMA)
        store._write(lambda: store._exec(f"DELETE FROM schema_version WHERE version > {step - 1}"))
    with open_store(target) as store:
        assert store.version() == SCHEMA_VERSION
        days = dict(store._rows("SELECT id, day FROM documents"))
        assert days == {
            "f1": "2024-03-02",
            "f2": "2024-03-05",
            "f3": "2024-03-04",
            "f4": None,
            "f5": None,
        }
        assert [h.id for h in store.search(Filters(date_from="2024-03-01"))] == ["f2", "f3", "f1"]


def test_limit_and_offset_are_checked(store: SQLStore) -> None:
    store.save([dated("a", "2024-03-01"), dated("b", "2024-03-02")])
    assert [h.id for h in store.search(offset=10**20)] == []  # clamped to 64 bits: no page
    assert [h.id for h in store.search(limit=10**20)] == ["b", "a"]
    assert [h.id for h in store.search(limit=0)] == []
    for bad in ({"limit": -1}, {"offset": -1}, {"limit": 1.5}, {"offset": "1"}):
        with pytest.raises(FilterError, match="a whole number from 0"):
            store.search(**bad)  # type: ignore[arg-type]


def test_a_sqlite_file_of_another_program_is_refused_and_left_as_it_is(tmp_path: Path) -> None:
    notes = tmp_path / "notes.db"
    with sqlite3.connect(notes) as conn:
        conn.execute("CREATE TABLE notes (x TEXT)")
    clash = tmp_path / "clash.db"
    with sqlite3.connect(clash) as conn:
        conn.execute("CREATE TABLE documents (id TEXT, body TEXT)")
    for path, table in ((notes, "notes"), (clash, "documents")):
        with pytest.raises(StoreError, match=r"E303.*not a narrascope corpus database") as caught:
            open_store(path)
        assert table in str(caught.value) and "--resume" not in str(caught.value)
        with sqlite3.connect(path) as conn:
            tables = [n for (n,) in conn.execute("SELECT name FROM sqlite_master")]
        assert tables == [table]  # nothing written into it
    # a file holding only a narrascope feature's tables (debunks imported first) is ours
    own = tmp_path / "own.db"
    with sqlite3.connect(own) as conn:
        conn.execute("CREATE TABLE debunks_schema (version INTEGER NOT NULL)")
    with open_store(own) as store:
        assert store.version() == SCHEMA_VERSION


def test_a_failure_while_opening_does_not_talk_about_a_batch(tmp_path: Path) -> None:
    broken = tmp_path / "broken.db"
    with sqlite3.connect(broken) as conn:  # narrascope's, with a table in the migration's way
        conn.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
        conn.execute("CREATE TABLE documents (id TEXT, body TEXT)")
    with pytest.raises(
        StoreError, match=r"E303.*cannot open .* as a narrascope database"
    ) as caught:
        open_store(broken)
    assert "batch" not in str(caught.value) and "--resume" not in str(caught.value)


@pytest.mark.parametrize("name", ["corpus#2.db", "what?.db", "50%25.db", "plain.db"])
def test_read_only_looks_work_whatever_characters_the_path_has(tmp_path: Path, name: str) -> None:
    """A ``#``, ``?`` or ``%`` in an unquoted ``file:`` URI cut the path short: the look
    opened (and created) another file, read-write, and found nothing."""
    from narrascope.store.custom_narratives import holds_custom_narratives
    from narrascope.store.discover import has_discover_tables
    from narrascope.store.own_tables import connect, holds_rows

    path = tmp_path / name
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE discover_clusters (x TEXT)")
        conn.execute("CREATE TABLE custom_narratives (label TEXT)")
        conn.execute("INSERT INTO custom_narratives VALUES ('mine')")
    assert has_discover_tables(path)
    assert holds_rows(path, "custom_narratives") and holds_custom_narratives(path)
    reader = connect(path, read_only=True)
    try:
        assert reader.execute("SELECT label FROM custom_narratives").fetchall() == [("mine",)]
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            reader.execute("INSERT INTO custom_narratives VALUES ('no')")
    finally:
        reader.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]  # no stray file made


# --- the command line ------------------------------------------------------------------


class FakeNarratives:
    """Stands in for the slow real pipeline: keywords decide the narrative."""

    name = "fake"

    def __init__(self) -> None:
        self.seen: list[str] = []

    def __call__(self, docs: list[Document]) -> list[Document]:
        for doc in docs:
            self.seen.append(doc.id)
            if "BOOM" in doc.text:
                raise ValueError("kaboom")
            doc.language = "ru" if any("а" <= c <= "я" for c in doc.text.lower()) else "en"
            found = [
                Annotation(label, 0.8, [Span.of(doc.text, 0, len(doc.text))], [0.8])
                for word, label in (("puppet", PUPPET), ("марионетка", PUPPET), ("NATO", BLAME))
                if word in doc.text
            ]
            doc.groups["narratives"] = found or [Annotation("Other", 0.9)]
        return docs


@pytest.fixture
def fake(monkeypatch) -> FakeNarratives:
    stage = FakeNarratives()
    monkeypatch.setattr(narrascope, "load", lambda **config: Pipeline([stage]))
    return stage


def write_jsonl(path: Path, records: list[dict | str]) -> Path:
    lines = [r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in records]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


POSTS = [
    {"id": "p1", "text": "Kyiv is a puppet of the West.", "published": "2024-03-02", "src": "a"},
    {"id": "p2", "text": "NATO provoked the war.", "published": "2024-03-15", "src": "b"},
    "{not json",
    {"id": "p3", "text": "Киев — марионетка Запада.", "published": "2024-04-01", "src": "a"},
    {"id": "p4", "text": "BOOM goes a stage.", "published": "2024-04-02", "src": "b"},
    {"id": "p5", "text": HOSTILE, "published": "2024-04-03", "src": "a"},
]
FIELDS = ["--date-field", "published", "--source-field", "src", "--no-progress"]


def test_analyze_db_stores_good_docs_and_reports_bad_ones(
    tmp_path: Path, fake: FakeNarratives, capsys
) -> None:
    posts = write_jsonl(tmp_path / "posts.jsonl", POSTS)
    db = tmp_path / "corpus.db"
    assert main(["analyze", str(posts), "--db", str(db), *FIELDS]) == 1
    err = capsys.readouterr()
    assert "posts.jsonl:3" in err.err and "p4: analysis failed" in err.err
    assert "4 analysed, 0 skipped (already done), 2 failed" in err.err
    # stored, and each stored document's summary printed as without --db
    printed = [line.split()[0] for line in err.out.splitlines() if line and not line[0].isspace()]
    assert printed == ["p1", "p2", "p3", "p5"]
    with open_store(db) as store:
        assert sorted(h.id for h in store.search()) == ["p1", "p2", "p3", "p5"]
        assert store.get_document("p5").text == HOSTILE
        assert store.get_document("p3").meta["date"] == "2024-04-01"

    assert main(["stats", "--db", str(db), "--by", "month"]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split() == ["month", "narrative", "docs"]
    assert table[1].split() == ["2024-03", *BLAME.split(), "1"]  # ties: by label
    assert table[2].split() == [*PUPPET.split(), "1"]  # the bucket is shown once
    assert any(line.startswith("2024-04") for line in table)
    assert main(["stats", "--db", str(db), "--by", "source", "--json"]) == 0
    got = {
        (r["source"], r["narrative"]): r["documents"] for r in json.loads(capsys.readouterr().out)
    }
    assert got == {("a", PUPPET): 2, ("a", BLAME): 1, ("b", BLAME): 1}


def test_analyze_db_with_out_and_resume_skips_stored_documents(
    tmp_path: Path, fake: FakeNarratives, capsys
) -> None:
    db, out = tmp_path / "corpus.db", tmp_path / "out.jsonl"
    first = write_jsonl(tmp_path / "first.jsonl", POSTS[:2])
    assert main(["analyze", str(first), "--db", str(db), "--out", str(out), *FIELDS]) == 0
    assert fake.seen == ["p1", "p2"]
    assert [json.loads(x)["id"] for x in out.read_text().splitlines()] == ["p1", "p2"]
    capsys.readouterr()
    edited = dict(POSTS[1], text="NATO provoked the war, and Kyiv is a puppet.")
    more = write_jsonl(tmp_path / "more.jsonl", [POSTS[0], edited, POSTS[3]])
    assert main(["analyze", str(more), "--db", str(db), "--resume", *FIELDS]) == 0
    assert fake.seen == ["p1", "p2", "p2", "p3"]  # p1 unchanged: skipped; p2's text changed
    assert "2 analysed, 1 skipped" in capsys.readouterr().err
    with open_store(db) as store:
        assert store.count() == 3
        assert [a.label for a in store.get_document("p2").narratives] == [PUPPET, BLAME]
    assert rows(db, "narratives", "p2") == 2


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://me:s3cret@h:5432/x", "postgresql://me:***@h:5432/x"),
        ("postgresql://me:s3?cret@h/x", "postgresql://me:***@h/x"),
        ("postgresql://me@h/x?password=s3cret", "postgresql://me@h/x?password=***"),
        (
            "postgresql://me@h/x?sslmode=require&PASSWORD=s3cret&sslpassword=s3cret&a=1",
            "postgresql://me@h/x?sslmode=require&PASSWORD=***&sslpassword=***&a=1",
        ),
        ("postgresql:///x?host=/tmp&passfile=/s3cret", "postgresql:///x?host=/tmp&passfile=***"),
        ("host=h password='s3 cret' dbname=x", "host=h password=*** dbname=x"),
    ],
)
def test_postgres_urls_are_shown_without_any_password(url: str, shown: str) -> None:
    from narrascope.store.postgres import redact

    assert redact(url) == shown
    assert "s3" not in redact(url)


def test_stats_and_analyze_usage_errors(tmp_path: Path, capsys) -> None:
    assert main(["stats", "--db", str(tmp_path / "none.db")]) == 2
    assert "no database" in capsys.readouterr().err
    assert not (tmp_path / "none.db").exists()
    assert main(["stats", "--db", "postgresql://me:s3cret@127.0.0.1:1/x"]) == 2
    err = capsys.readouterr().err
    assert "[E303] cannot connect to PostgreSQL at postgresql://me:***@127.0.0.1:1/x" in err
    assert "s3cret" not in err and "Traceback" not in err
    open_store(tmp_path / "empty.db").close()
    assert main(["stats", "--db", str(tmp_path / "empty.db")]) == 0
    assert "no narratives stored yet" in capsys.readouterr().out
    assert main(["analyze", "-", "--resume"]) == 2
    assert "--resume needs --out or --db" in capsys.readouterr().err


def test_analyze_db_stores_broken_text_and_reports_a_refused_document(
    tmp_path: Path, fake: FakeNarratives, capsys, monkeypatch
) -> None:
    real = SQLStore._save_one

    def refuse(self: SQLStore, doc: Document, now: str) -> None:
        if doc.id == "p2":
            raise sqlite3.IntegrityError("refused for the test")
        real(self, doc, now)

    monkeypatch.setattr(SQLStore, "_save_one", refuse)
    posts = tmp_path / "posts.jsonl"  # JSON escapes give Python a lone surrogate
    posts.write_text(
        '{"id": "p0", "text": "Kyiv is a puppet \\ud83d of the West.", "src": "a"}\n'
        + "".join(json.dumps(p, ensure_ascii=False) + "\n" for p in POSTS[:2]),
        encoding="utf-8",
    )
    db, out = tmp_path / "corpus.db", tmp_path / "out.jsonl"
    assert main(["analyze", str(posts), "--db", str(db), "--out", str(out), *FIELDS]) == 1
    err = capsys.readouterr().err
    assert "p2: not stored: IntegrityError: refused for the test" in err
    assert "2 analysed, 0 skipped (already done), 1 failed" in err
    (logged,) = [
        json.loads(x) for x in (tmp_path / "out.jsonl.errors.jsonl").read_text().splitlines()
    ]
    assert (logged["source"], logged["code"]) == ("p2", "E304")
    with open_store(db) as store:
        assert sorted(h.id for h in store.search()) == ["p0", "p1"]
        assert store.get_document("p0").text == "Kyiv is a puppet \ud83d of the West."
    assert sorted(json.loads(x)["id"] for x in out.read_text().splitlines()) == ["p0", "p1", "p2"]


def test_a_lost_postgres_connection_is_a_store_error(
    postgres_url: str, postgres_admin: Any
) -> None:
    with open_store(postgres_url) as store:
        store.save([analysed(EN, "en1", "en")])
        postgres_admin.execute("SELECT pg_terminate_backend(%s)", (store._conn.info.backend_pid,))
        with pytest.raises(
            StoreError, match=r"E303.*lost the connection to postgresql://.*\*\*\*@"
        ):
            store.save([analysed(RU, "ru1", "ru")])
        with pytest.raises(StoreError, match="lost the connection"):
            store.count()
    with open_store(postgres_url) as again:
        assert [h.id for h in again.search()] == ["en1"]  # the interrupted batch left nothing


WORDS = [
    "Read more at https://news.example.org/war/kyiv-2024.html today.",
    "Write to press@kremlin.example or call +7 495, it is 12:30.",
    "The pro-Russian channel: <b>Don't</b> trust «НАТО»—Це їхня брехня!",
    "मोदी ने कहा: 'युद्ध नहीं'. Path C:\\Users\\file_name.txt",
]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("example", ["w0", "w1"]),
        ("kyiv 2024", ["w0"]),
        ("news.example.org/war", ["w0"]),
        ("kremlin", ["w1"]),
        ("7 495", ["w1"]),
        ("30", ["w1"]),
        ("pro", ["w2"]),
        ("pro-russian", ["w2"]),
        ("b", ["w2"]),
        ("don", ["w2"]),
        ("нато брехня", ["w2"]),
        ("युद्ध", ["w3"]),
        ("file name txt", ["w3"]),
        ("users", ["w3"]),
    ],
)
def test_both_backends_split_words_alike(store: SQLStore, query: str, expected: list[str]) -> None:
    store.save([Document(text=t, id=f"w{i}", language="en") for i, t in enumerate(WORDS)])
    assert sorted(h.id for h in store.search(Filters(query=query))) == expected


def test_a_locked_sqlite_database_is_a_store_error(tmp_path: Path) -> None:
    db = tmp_path / "corpus.db"
    with open_store(db) as store:
        store._conn.execute("PRAGMA busy_timeout = 50")
        other = sqlite3.connect(db, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")  # another writer holds the lock
        with pytest.raises(StoreError, match=r"E303.*corpus\.db failed \(database is locked\)"):
            store.save([analysed(EN, "en1", "en")])
        other.execute("ROLLBACK")
        other.close()
        assert store.save([analysed(EN, "en1", "en")]) == 1 and store.count() == 1


def test_stores_opened_at_once_migrate_once(target: str) -> None:
    opened: list[Any] = []
    errors: list[BaseException] = []

    def open_one() -> None:
        try:
            opened.append(open_store(target))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=open_one) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and len(opened) == 4
    versions = sorted(v for (v,) in opened[0]._rows("SELECT version FROM schema_version"))
    assert versions == list(range(1, SCHEMA_VERSION + 1))
    for store in opened:
        store.close()


def test_postgres_refuses_one_document_and_keeps_the_rest(postgres_url: str) -> None:
    # a real refusal, not a stand-in: more distinct words than a tsvector holds (1 MB)
    huge = Document(text=" ".join(f"w{i:06d}x" for i in range(130_000)), id="huge")
    with open_store(postgres_url) as store:
        with pytest.raises(DocumentsNotSaved, match=r"huge: ProgramLimitExceeded") as caught:
            store.save([analysed(EN, "en1", "en"), huge, analysed(RU, "ru1", "ru")])
        assert caught.value.saved == 2
        assert sorted(h.id for h in store.search()) == ["en1", "ru1"]
        assert rows(store, "documents") == 2
