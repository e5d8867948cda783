"""Search by word forms (issue 23): the stems, the query language, both backends alike,
bad queries, the LIKE fallback and the migration of an old index.

The store tests run on SQLite and, when ``NARRASCOPE_TEST_POSTGRES_URL`` names a server,
on PostgreSQL with the same expectations: both must find the same documents.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from narrascope.doc import Document
from narrascope.store import SCHEMA_VERSION, DocumentsNotSaved, Filters, open_store, sql
from narrascope.store import sqlite as sqlite_backend
from narrascope.store.common import SQLStore
from narrascope.store.query import Query, Term, parse_query, variants
from narrascope.store.stems import index_tokens, stemmed_languages, words

# Short texts written for these tests: each word form is in one document only, so a
# query finding both documents found the other form.
TEXTS = {
    "ru1": ("ru", "Украина получила новую военную помощь от союзников."),
    "ru2": ("ru", "Правительство Украины ответило на санкции против России."),
    "uk1": ("uk", "Україна отримала нову допомогу від партнерів."),
    "uk2": ("uk", "Уряд України запровадив санкції проти агресора."),
    "bg1": ("bg", "Украйна получи нова военна помощ от съюзниците."),
    "bg2": ("bg", "Санкциите срещу Русия бяха удължени с още година."),
    "pt1": ("pt", "As sanções contra a Rússia foram prolongadas por mais um ano."),
    "pt2": ("pt", "O conselho aprovou uma nova sanção económica."),
    "en1": ("en", "New sanctions against Russia were announced on Monday."),
    "en2": ("en", "The committee sanctioned the budget, and the embargo stays."),
    "en3": ("en", "The runway of the airport was closed for repairs."),
    "en4": ("en", "Soldiers keep running drills near the border."),
}
ALL = sorted(TEXTS)


def corpus_docs() -> list[Document]:
    return [Document(text=t, id=i, language=lang) for i, (lang, t) in TEXTS.items()]


# --- stems -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "forms"),
    [
        ("ru", "Украина Украины Украине Украину Украиной"),
        ("ru", "санкции санкций санкциями санкциях"),
        ("uk", "Україна України Україні Україну Україною"),
        ("uk", "санкція санкції санкцій санкціями санкціях"),
        ("bg", "Украйна Украйната Украйни"),
        ("bg", "санкция санкции санкциите"),
        ("bg", "град градът града градове градовете"),
        ("pt", "sanção sanções SANÇÕES sancao sancoes"),
        ("pt", "Ucrânia Ucrania UCRÂNIA"),
        ("en", "sanction sanctions sanctioned sanctioning"),
        ("hi", "युद्ध युद्धों"),
        ("pt-BR", "nação nações"),  # a regional code is its language
    ],
)
def test_the_forms_of_a_word_share_one_stem(language: str, forms: str) -> None:
    assert len(set(index_tokens(forms, language))) == 1


def test_words_are_split_folded_and_cut_alike_in_every_language() -> None:
    assert words("Don't «НАТО»—Це обʼєкт, pro-Russian C:\\file_name.txt") == [
        "don",
        "t",
        "нато",
        "це",
        "об",
        "єкт",
        "pro",
        "russian",
        "c",
        "file",
        "name",
        "txt",
    ]
    assert words("कठपुतली नाटो") == ["कठपुतली", "नाटो"]  # vowel signs stay in the word
    assert words("Украи\u0301на") == ["украина"]  # a stress mark is no word break
    assert words("Cafe\u0301 Straße") == ["café", "strasse"]  # NFC, case folded
    assert index_tokens("Ucrânia São Paulo", None) == ["ucrania", "sao", "paulo"]
    assert index_tokens("йод ёж", None) == ["йод", "ёж"]  # Cyrillic letters are kept
    assert words("x" * 250) == ["x" * 100, "x" * 100, "x" * 50]
    # no stemmer: words as they are; light stemmers keep at least three letters
    assert index_tokens("Україна", "xx") == ["україна"] and index_tokens("ось", "uk") == ["ось"]
    assert stemmed_languages(["ru", "RU", None, "pt-BR", "xx", "uk"]) == ["pt", "ru", "uk"]


# --- the query language ----------------------------------------------------------------


def term(text: str, prefix: bool = False) -> Term:
    return Term(tuple(words(text)), prefix)


@pytest.mark.parametrize(
    ("text", "groups", "excluded"),
    [
        ("Украины санкции", [["Украины"], ["санкции"]], []),
        ("sanction*", [["sanction*"]], []),
        ("NATO sanctions OR embargo", [["NATO"], ["sanctions", "embargo"]], []),
        ("a OR b OR c d", [["a", "b", "c"], ["d"]], []),
        ('"new sanctions" -embargo', [['"new sanctions"']], ["embargo"]),
        ('-"new sanctions" -embargo*', [], ['"new sanctions"', "embargo*"]),
        ("pro-Russian news.example.org", [['"pro russian"'], ['"news example org"']], []),
        # nothing is an error: stray operators and an unclosed quote are plain text
        ('embargo "new sanctions', [["embargo"], ["new"], ["sanctions"]], []),
        ('"a b" c"', [['"a b"'], ["c"]], []),
        ("OR embargo OR", [["embargo"]], []),
        ("a OR OR b", [["a", "b"]], []),
        ("a OR -b", [["a"]], ["b"]),
        ("a & OR b", [["a"], ["b"]], []),
        ("or and not", [["or"], ["and"], ["not"]], []),  # only OR in capitals is one
        ("- * -- ** & ?!", [], []),
        ("", [], []),
    ],
)
def test_parse_query(text: str, groups: list[list[str]], excluded: list[str]) -> None:
    def parsed(spec: str) -> Term:
        return term(spec.strip('"*'), spec.endswith("*"))

    assert parse_query(text) == Query(
        tuple(tuple(parsed(s) for s in g) for g in groups), tuple(parsed(s) for s in excluded)
    )
    assert bool(parse_query(text)) == bool(groups or excluded)


def test_a_prefix_is_its_stem_only_when_that_is_a_short_cut() -> None:
    found = variants(term("санкции", prefix=True), ["ru", "uk"])
    assert (("санкц",), True) in found  # Russian: санкци(и) → санкц*, finds санкций
    found = variants(term("running", prefix=True), ["en"])
    assert (("run",), False) in found and (("running",), True) in found
    assert (("run",), True) not in found  # not runway, rung, ...
    # a phrase is stemmed by one stemmer at a time, never mixing languages
    phrase = {v for v, _ in variants(term("Санкции против"), ["ru", "bg"])}
    assert phrase == {("санкции", "против"), ("санкц", "прот"), ("санкц", "против")}


# --- both backends ---------------------------------------------------------------------


@pytest.fixture
def corpus(target: str) -> Iterator[SQLStore]:
    with open_store(target) as store:
        store.save(corpus_docs())
        yield store  # type: ignore[misc]


QUERIES = [
    # word forms, both ways: each document has one form, the query another
    ("Украины", ["ru1", "ru2"]),
    ("Украине", ["ru1", "ru2"]),
    ("Україною", ["uk1", "uk2"]),
    ("Украйната", ["bg1"]),
    ("sanção", ["pt1", "pt2"]),
    ("sanções", ["pt1", "pt2"]),
    ("SANCOES", ["pt1", "pt2"]),
    ("sanction", ["en1", "en2"]),
    ("sanctions", ["en1", "en2"]),
    ("Russia", ["en1", "pt1"]),  # Rússia without its accent
    ("санкция", ["bg2", "ru2", "uk2"]),  # Russian, Bulgarian and Ukrainian stems agree
    ("санкциями России", ["ru2"]),  # every word must be there
    # prefixes
    ("sanction*", ["en1", "en2"]),
    ("sanctions*", ["en1", "en2"]),
    ("sanc*", ["en1", "en2", "pt1", "pt2"]),
    ("санкци*", ["bg2", "ru2", "uk2"]),
    ("Украи*", ["bg1", "ru1", "ru2", "uk1", "uk2"]),  # укра*: Україна and Украйна too
    ("Украин*", ["ru1", "ru2"]),
    ("running*", ["en4"]),  # not the runway
    ("run", ["en4"]),
    # OR, phrases, exclusion
    ("embargo OR Україною", ["en2", "uk1", "uk2"]),
    ("sanctions OR sanção Monday", ["en1"]),
    ('"new sanctions"', ["en1"]),
    ('"new sanction"', ["en1"]),  # a phrase of stems
    ('"sanctions new"', []),
    ('"санкции против России"', ["ru2"]),
    ('"Украина получила"', ["ru1"]),
    ("sanctions -embargo", ["en1"]),
    ('sanctions -"the embargo"', ["en1"]),
    ("-sanction*", sorted(set(ALL) - {"en1", "en2"})),
    ("sanctions -sanctioned", []),  # one word, other forms: excluded too
    # bad queries: plain words, never an error
    ('"', ALL),
    ("OR", ALL),
    ("- * &&", ALL),
    ('embargo "', ["en2"]),
    ('"new sanctions', ["en1"]),
    ("NEAR(new sanctions)", []),  # "near new" must stand together: it does not
    ("new) AND (sanctions", []),  # AND is a word here, and no text has it
    ("sanctions) OR (embargo", ["en1", "en2"]),
    ("'; DROP TABLE documents; --", []),
    ("100% _ \\", []),
    ("^embargo: $", ["en2"]),
]


@pytest.mark.parametrize(("query", "expected"), QUERIES)
def test_search_finds_word_forms_alike_on_both_backends(
    corpus: SQLStore, query: str, expected: list[str]
) -> None:
    found = sorted(h.id for h in corpus.search(Filters(query=query), limit=100))
    assert found == expected
    assert corpus.search_count(Filters(query=query)) == len(expected)


def test_the_language_filter_stems_with_that_language_only(corpus: SQLStore) -> None:
    assert [h.id for h in corpus.search(Filters(query="Украины", language="ru"))] == ["ru1", "ru2"]
    assert corpus.search(Filters(query="Украины", language="en")) == []
    # the stemmers are those of the languages stored: a corpus without Russian does not
    # stem with the Russian stemmer (the only one that cuts "санкции" to "санкц")
    for doc_id in ("ru1", "ru2", "bg1", "bg2", "uk1", "uk2"):
        corpus.delete(doc_id)
    assert stemmed_languages(r[0] for r in corpus._rows(sql.LANGUAGES)) == ["en", "pt"]
    corpus.save([Document(text="Санкции продлены.", id="x", language=None)])
    assert [h.id for h in corpus.search(Filters(query="санкции"))] == ["x"]
    assert corpus.search(Filters(query="санкций")) == []


def test_export_selects_what_search_finds(corpus: SQLStore) -> None:
    f = Filters(query="sanction* -embargo")
    assert [h.id for h in corpus.search(f)] == ["en1"]
    assert [d.id for d in corpus.iter_documents(f)] == ["en1"]


def test_the_index_follows_replaced_and_deleted_documents(corpus: SQLStore) -> None:
    corpus.save([Document(text="Санкции отменены.", id="ru1", language="ru")])
    with pytest.raises(DocumentsNotSaved):  # no id: refused, nothing indexed
        corpus.save([Document(text="Embargoes everywhere.", id="", language="en")])
    assert sorted(h.id for h in corpus.search(Filters(query="Украины"))) == ["ru2"]
    assert [h.id for h in corpus.search(Filters(query="санкций", language="ru"))] == ["ru1", "ru2"]
    corpus.delete("ru2")
    assert [h.id for h in corpus.search(Filters(query="санкций", language="ru"))] == ["ru1"]
    # the index rebuilt from the stored texts (a migration step), a batch at a time
    table = (
        "documents_fts" if isinstance(corpus, sqlite_backend.SQLiteStore) else "documents_search"
    )

    def rebuild() -> None:
        corpus._exec(f"DELETE FROM {table}")
        corpus._reindex_search(batch_size=2)

    corpus._write(rebuild)
    assert [h.id for h in corpus.search(Filters(query="санкций", language="ru"))] == ["ru1"]
    assert sorted(h.id for h in corpus.search(Filters(query="Україна"))) == ["uk1", "uk2"]
    assert sorted(h.id for h in corpus.search(Filters(query="embargo"))) == ["en2"]


def test_without_fts5_like_finds_the_same(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(sqlite_backend, "has_fts5", lambda: False)
    with open_store(tmp_path / "plain.db") as store:
        assert not store.fts and store.version() == SCHEMA_VERSION
        store.save(corpus_docs())
        for query, expected in QUERIES:
            found = sorted(h.id for h in store.search(Filters(query=query), limit=100))
            assert found == expected, query


# --- migration -------------------------------------------------------------------------


def test_an_old_database_is_reindexed_once_and_finds_word_forms(target: str, monkeypatch) -> None:
    with open_store(target) as store:
        store.save(corpus_docs())
        postgres = not isinstance(store, sqlite_backend.SQLiteStore)
        if not postgres and not store.fts:
            pytest.skip("this SQLite has no FTS5")
        # put the search index back as schema 3 left it: the raw texts, unstemmed
        old = (
            [
                "DROP TABLE documents_search",
                "DROP FUNCTION narrascope_words",
                sql.PG_SEARCH_SCHEMA[0],
            ]
            if postgres
            else sql.FTS_ROWID_SCHEMA
        )
        store._write(
            lambda: [store._exec(s) for s in [*old, "DELETE FROM schema_version WHERE version > 3"]]
        )
        assert store.version() == 3
    calls = []
    real = SQLStore._reindex_search
    monkeypatch.setattr(
        SQLStore,
        "_reindex_search",
        lambda self, *args, **kw: calls.append(1) or real(self, batch_size=5),
    )
    with open_store(target) as store:
        assert store.version() == SCHEMA_VERSION and calls == [1]
        assert sorted(h.id for h in store.search(Filters(query="Украины"))) == ["ru1", "ru2"]
        assert sorted(h.id for h in store.search(Filters(query="sanções"))) == ["pt1", "pt2"]
        assert store.search_count(Filters(query="sanction*")) == 2
    with open_store(target) as store:  # once: opening again does not index again
        assert calls == [1] and store.search_count(Filters(query="Україною")) == 2
