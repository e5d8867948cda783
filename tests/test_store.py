"""The corpus database: round trip, replacement, migrations, search, stats and the CLI."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

import narrascope
from narrascope.cli import main
from narrascope.doc import Annotation, Document, Entity, Span, Technique
from narrascope.errors import StoreError
from narrascope.pipeline import Pipeline
from narrascope.store import SCHEMA_VERSION, SQLiteStore, open_store
from narrascope.store import sqlite as sqlite_backend

PUPPET = "URW: Discrediting Ukraine"
PUPPET_SUB = f"{PUPPET}: Ukraine is a puppet of the West"
BLAME = "URW: Blaming the war on others rather than the invader"
EN = "Kyiv is a puppet of the West. NATO provoked this war."
RU = "НАТО спровоцировало эту войну. Киев лишь марионетка Запада."
HOSTILE = "<script>alert('x')</script> \"quoted\" '; DROP TABLE documents; -- NATO"


def analysed(text: str, doc_id: str, language: str, **meta: str) -> Document:
    """A document annotated the way the pipeline would, with round scores (to_dict rounds)."""
    doc = Document(text=text, id=doc_id, language=language, meta=dict(meta))
    cut = text.index(".") + 1
    doc.sentences = [doc.span(0, cut), doc.span(cut + 1, len(text))]
    first = doc.sentences[0]
    doc.groups["narratives"] = [
        Annotation(PUPPET, 0.9, [first], [0.8]),
        Annotation(BLAME, 0.4, [doc.sentences[1]], [0.3]),
    ]
    doc.groups["subnarratives"] = [Annotation(PUPPET_SUB, 0.7, [first], [0.7], parent=PUPPET)]
    doc.explanation = "Why: " + first.text
    at = max(text.find("NATO"), text.find("НАТО"))
    doc.entities = [
        Entity(
            "NATO",
            [doc.span(at, at + 4)],
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


def rows(db: Path, table: str, doc_id: str | None = None) -> int:
    with sqlite3.connect(db) as conn:
        if doc_id is None:
            return conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
        return conn.execute(f"SELECT COUNT(*) FROM {table} WHERE doc_id = ?", (doc_id,)).fetchone()[
            0
        ]


@pytest.fixture
def store(tmp_path: Path):
    with open_store(tmp_path / "corpus.db") as opened:
        yield opened


# --- opening, migrations ---------------------------------------------------------------


def test_a_new_file_is_migrated_and_reopening_is_a_no_op(tmp_path: Path) -> None:
    db = tmp_path / "corpus.db"
    with open_store(db) as first:
        assert first.version() == SCHEMA_VERSION and first.count() == 0
        first.save([analysed(EN, "en1", "en")])
    with sqlite3.connect(db) as conn:
        versions = [v for (v,) in conn.execute("SELECT version FROM schema_version")]
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert versions == list(range(1, SCHEMA_VERSION + 1))
    with open_store(f"sqlite:///{db}") as again:  # sqlite:////abs/path
        assert again.version() == SCHEMA_VERSION and again.count() == 1
    with sqlite3.connect(db) as conn:
        assert [v for (v,) in conn.execute("SELECT version FROM schema_version")] == versions


def test_a_database_from_a_newer_version_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "future.db"
    open_store(db).close()
    with sqlite3.connect(db) as conn:
        conn.execute("INSERT INTO schema_version (version) VALUES (?)", (SCHEMA_VERSION + 1,))
    with pytest.raises(StoreError, match=r"E301.*newer.*upgrade narrascope"):
        open_store(db)


def test_urls_postgresql_and_garbage(tmp_path: Path, monkeypatch) -> None:
    with pytest.raises(StoreError, match=r"E302.*PostgreSQL support is not yet available"):
        open_store("postgresql://user@localhost/corpus")
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


def test_save_then_get_returns_the_same_document(store: SQLiteStore) -> None:
    docs = [
        analysed(EN, "en1", "en", source="blog", date="2024-03-02", url="https://x.test/1"),
        analysed(RU, "ru1", "ru", source="channel", date="2024-04-10"),
    ]
    assert store.save(docs) == 2
    for doc in docs:
        got = store.get_document(doc.id)
        assert got == Document.from_dict(doc.to_dict())
        assert got == doc  # scores are round, meta has no None: nothing is lost
    assert store.get_document("missing") is None
    assert store.contains("ru1", docs[1].content_hash)
    assert not store.contains("ru1", docs[0].content_hash)


def test_resaving_replaces_results_without_duplicates(store: SQLiteStore) -> None:
    db = store.path
    doc = analysed(EN, "en1", "en")
    store.save([doc, analysed(RU, "ru1", "ru")])
    counts = {t: rows(db, t, "en1") for t in ("narratives", "evidence", "entities", "techniques")}
    assert counts == {"narratives": 3, "evidence": 3, "entities": 1, "techniques": 1}
    store.save([doc])  # same id, same text: results replaced, nothing duplicated
    assert {t: rows(db, t, "en1") for t in counts} == counts
    assert rows(db, "documents") == 2
    doc.groups["narratives"] = [Annotation("Other", 0.95)]  # a new model, new results
    doc.groups["subnarratives"] = []
    store.save([doc])
    assert rows(db, "narratives", "en1") == 1 and rows(db, "evidence", "en1") == 0
    assert store.get_document("en1").narratives == [Annotation("Other", 0.95)]
    assert rows(db, "narratives", "ru1") == 3  # the other document is untouched
    changed = Document(text=EN + " More.", id="en1", language="en")
    store.save([changed])
    assert rows(db, "documents") == 2
    assert store.contains("en1", changed.content_hash) and store.search("More")[0].id == "en1"
    assert store.search("provoked", language="en")[0].id == "en1"  # FTS row replaced too
    if store.fts:
        assert rows(db, "documents_fts") == 2


def test_a_failing_batch_is_rolled_back_entirely(store: SQLiteStore) -> None:
    store.save([analysed(EN, "en1", "en")])
    bad = analysed(RU, "ru1", "ru")
    bad.text = "\ud800 lone surrogate"  # SQLite refuses text that is not valid UTF-8
    with pytest.raises(UnicodeEncodeError):
        store.save([analysed(EN, "en2", "en"), bad])
    assert store.count() == 1 and store.get_document("en2") is None


def test_hostile_text_is_stored_and_returned_verbatim(store: SQLiteStore) -> None:
    doc = analysed(HOSTILE + ". Second sentence here.", "'; DROP TABLE documents; --", "en")
    doc.meta["source"] = "<b>src</b>' OR '1'='1"
    store.save([doc])
    got = store.get_document("'; DROP TABLE documents; --")
    assert got is not None and got.text == doc.text and got == doc
    assert store.search(source="<b>src</b>' OR '1'='1")[0].id == doc.id
    assert store.search(source="x' OR '1'='1") == []
    assert [h.id for h in store.search("DROP TABLE")] == [doc.id]
    assert [h.id for h in store.search('"quoted" alert(')] == [doc.id]  # no FTS syntax leaks
    assert store.count() == 1


# --- reads -----------------------------------------------------------------------------


@pytest.fixture
def corpus(store: SQLiteStore) -> SQLiteStore:
    plain = Document(text="The council approved the library budget.", id="en2", language="en")
    plain.meta = {"source": "paper", "date": "2024-03-20"}
    plain.groups["narratives"] = [Annotation("Other", 0.95)]
    store.save(
        [
            analysed(EN, "en1", "en", source="blog", date="2024-03-02"),
            analysed(RU, "ru1", "ru", source="channel", date="2024-04-10T08:30:00"),
            plain,
        ]
    )
    return store


def test_search_filters(corpus: SQLiteStore) -> None:
    def ids(**kw) -> list[str]:
        return sorted(h.id for h in corpus.search(**kw))

    assert ids() == ["en1", "en2", "ru1"]
    assert ids(narrative=PUPPET) == ["en1", "ru1"]
    assert ids(narrative=PUPPET_SUB) == ["en1", "ru1"]  # sub-narratives are labels too
    assert ids(narrative=BLAME, min_score=0.5) == []
    assert ids(min_score=0.92) == ["en2"]
    assert ids(language="ru") == ["ru1"]
    assert ids(source="paper") == ["en2"]
    assert ids(date_from="2024-03-02", date_to="2024-03-31") == ["en1", "en2"]
    assert ids(date_from="2024-04-10", date_to="2024-04-10") == ["ru1"]  # time of day ignored
    assert ids(query="puppet") == ["en1"]
    assert ids(query="марионетка") == ["ru1"]
    assert ids(query="нато") == ["ru1"]  # case folded for Cyrillic too
    assert ids(query="library budget") == ["en2"]
    assert ids(query="library war") == []  # every word must be there
    assert ids(query="NATO", language="en", narrative=PUPPET) == ["en1"]
    hit = corpus.search(narrative=PUPPET, language="ru")[0]
    assert (hit.source, hit.date) == ("channel", "2024-04-10T08:30:00")
    assert hit.narratives == [(PUPPET, 0.9), (BLAME, 0.4)]  # best first, narratives only
    newest_first = [h.id for h in corpus.search()]
    assert newest_first == ["ru1", "en2", "en1"]
    assert [h.id for h in corpus.search(limit=1, offset=1)] == ["en2"]


def test_search_without_fts_falls_back_to_like(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(sqlite_backend, "has_fts5", lambda: False)
    with open_store(tmp_path / "plain.db") as store:
        assert not store.fts and store.version() == SCHEMA_VERSION
        store.save([analysed(EN, "en1", "en"), analysed(HOSTILE + ". End.", "h", "en")])
        assert [h.id for h in store.search("puppet West")] == ["en1"]
        assert [h.id for h in store.search("100%_")] == []
        assert [h.id for h in store.search("'; DROP")] == ["h"]


def test_stats_buckets(corpus: SQLiteStore) -> None:
    def table(by: str) -> set[tuple]:
        return {(r.bucket, r.narrative, r.documents) for r in corpus.stats(by)}

    assert table("month") == {
        ("2024-03", PUPPET, 1),
        ("2024-03", BLAME, 1),
        ("2024-03", "Other", 1),
        ("2024-04", PUPPET, 1),
        ("2024-04", BLAME, 1),
    }
    assert ("channel", PUPPET, 1) in table("source")
    assert {(b, n) for b, n, _ in table("language")} >= {("en", "Other"), ("ru", BLAME)}
    assert {b for b, _, _ in table("day")} == {"2024-03-02", "2024-03-20", "2024-04-10"}
    assert {b for b, _, _ in table("week")} == {"2024-W09", "2024-W12", "2024-W15"}
    with pytest.raises(ValueError, match="by must be one of"):
        corpus.stats("year")  # type: ignore[arg-type]


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
    monkeypatch.setattr(narrascope, "load", lambda: Pipeline([stage]))
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
    assert err.out == ""  # stored, not printed
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


def test_stats_and_analyze_usage_errors(tmp_path: Path, capsys) -> None:
    assert main(["stats", "--db", str(tmp_path / "none.db")]) == 2
    assert "no database" in capsys.readouterr().err
    assert not (tmp_path / "none.db").exists()
    assert main(["stats", "--db", "postgresql://localhost/x"]) == 2
    assert "PostgreSQL support is not yet available" in capsys.readouterr().err
    open_store(tmp_path / "empty.db").close()
    assert main(["stats", "--db", str(tmp_path / "empty.db")]) == 0
    assert "no narratives stored yet" in capsys.readouterr().out
    assert main(["analyze", "-", "--resume"]) == 2
    assert "--resume needs --out or --db" in capsys.readouterr().err
