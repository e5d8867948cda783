"""Claims and known debunks of every reader comment (issue 25): the claim and debunk
stages read each comment of a thread as a post, in one batched pass, and the results
reach every output a comment's hate flags reach (JSONL, CSV, the corpus store and its
counts, the HTML report, the terminal summary, the web page's document view).

Every text was written for these tests. The stage tests load the shipped claim model,
the sentence encoder and the shipped debunk scorer (skipped without them); the export,
store and API tests build records by hand. The store tests run on SQLite and, when
``NARRASCOPE_TEST_POSTGRES_URL`` names a reachable server, on PostgreSQL too; the browser
test needs chromium and Playwright.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from browser_needs import CHROMIUM, sync_api_or_skip
from narrascope.doc import COMMENT, Claim, DebunkMatch, Document
from narrascope.export import get_format, report, table
from narrascope.export.terminal import format_terminal_summary, thread_summary
from narrascope.ingest.threads import Comment, Thread
from narrascope.models.artefact import bundled_path
from narrascope.store import SCHEMA_VERSION, DebunkSummary, Filters, open_store
from narrascope.store.debunks import Debunk, DebunkStore

needs_models = pytest.mark.skipif(
    not (bundled_path("claims") / "config.json").is_file()
    or not (bundled_path("debunks") / "config.json").is_file(),
    reason="no shipped claim model or debunk scorer",
)

ARTICLE = (
    "Bus timetable for the spring\n\n"
    "The city council met on Monday to discuss the new bus timetable for the spring.\n"
)
CHATTER = "Thanks for the update, see you all at the next meeting!"
FACT = "What a gloomy day. The ministry said 4,000 soldiers died in the fire in March 2022."
FACT_CLAIM = "The ministry said 4,000 soldiers died in the fire in March 2022."
VACCINE = (
    "Off topic, but everyone should know that the vaccines against COVID-19 carry "
    "microchips to track us."
)
BODIES = [CHATTER, FACT, VACCINE]

# a newsroom's short list of debunks (our own wording)
DEBUNKS = [
    ("d-vaccine", "COVID-19 vaccines contain microchips to track people."),
    ("d-moon", "The moon landing in 1969 was filmed in a studio."),
    ("d-nato", "NATO promised in 1990 never to expand one inch to the east."),
    ("d-biolabs", "The Pentagon runs secret biolabs in Ukraine that make bioweapons."),
    ("d-fries", "A fast food chain sells any size of fries for one dollar this month."),
]


def page(doc_id: str = "page", article: str = ARTICLE) -> Document:
    """An article and three comments (one chatter, one stating a fact, one restating
    the vaccine debunk), as a thread reader leaves them."""
    text = article + "\n3 comments\n"
    spans = []
    for i, body in enumerate(BODIES):
        text += f"{i + 1}. Reader{i} says\n"
        spans.append((len(text), len(text) + len(body)))
        text += body + "\n"
    comments = [
        Comment(f"c{i}", None, f"Reader{i}", start, end, 0) for i, (start, end) in enumerate(spans)
    ]
    doc = Document(text=text, id=doc_id, language="en")
    doc.set_thread(Thread((0, len(article)), comments, "test", []))
    return doc


# --- the stages ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def debunk_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from narrascope.models.encoder import SentenceEncoder

    db = tmp_path_factory.mktemp("debunks") / "corpus.db"
    with DebunkStore(db) as store:
        store.add(
            [Debunk(id=i, claim=c, language="en", verdict="false") for i, c in DEBUNKS],
            encode=SentenceEncoder.shared().encode,
        )
    return db


@pytest.fixture(scope="module")
def nlp(debunk_db: Path) -> Any:
    """The stages these outputs come from: language, segment, claims, debunks."""
    if not (bundled_path("claims") / "config.json").is_file():
        pytest.skip("no shipped claim model")
    if not (bundled_path("debunks") / "config.json").is_file():
        pytest.skip("no shipped debunk scorer")
    import narrascope

    return narrascope.load(
        stages=["language", "segment", "claims", "debunks"],
        config={"debunks": {"db": debunk_db}},
    )


@needs_models
def test_each_comment_gets_its_claims_offsets_in_the_whole_text(nlp: Any) -> None:
    doc = nlp(page())
    by_id = {c.id: c for c in doc.comments}
    (claim,) = by_id["c1"].annotations["claims"]
    assert claim["text"] == FACT_CLAIM and claim[COMMENT] == "c1"
    assert doc.text[claim["start"] : claim["end"]] == FACT_CLAIM  # the whole page's offsets
    assert by_id["c1"].start <= claim["start"] < claim["end"] <= by_id["c1"].end
    assert claim["score"] >= nlp.get_stage("claims").threshold
    assert by_id["c0"].annotations["claims"] == []
    # the document's own claims stay the article's
    assert all(c.span.end <= doc.article[1] for c in doc.claims)


@needs_models
def test_a_comment_restating_a_debunk_is_matched_with_its_span(nlp: Any) -> None:
    doc = nlp(page())
    by_id = {c.id: c for c in doc.comments}
    (match,) = by_id["c2"].annotations["debunks"]
    assert match["id"] == "d-vaccine" and match[COMMENT] == "c2" and match["verdict"] == "false"
    span = match["claim_span"]
    assert doc.text[span["start"] : span["end"]] == span["text"] == VACCINE
    assert match["score"] >= nlp.get_stage("debunks").matcher.threshold
    assert by_id["c0"].annotations["debunks"] == by_id["c1"].annotations["debunks"] == []
    assert doc.debunks == []  # the article restates nothing
    # JSON round trip: the comment keeps both lists
    again = Document.from_dict(json.loads(json.dumps(doc.to_dict())))
    assert again.to_dict() == doc.to_dict()
    record = doc.to_dict()["comments"][2]
    assert record["debunks"][0]["id"] == "d-vaccine" and record["claims"] == []


@needs_models
def test_a_batch_is_read_in_one_e5_call_and_one_match_call(
    nlp: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    claims, debunks = nlp.get_stage("claims"), nlp.get_stage("debunks")
    calls = {"e5": 0, "match": 0}
    vectors, match_many = claims.model.vectors, debunks.matcher.match_many

    def count_vectors(texts: Any) -> Any:
        calls["e5"] += 1
        return vectors(texts)

    def count_matches(docs: Any, **kwargs: Any) -> Any:
        calls["match"] += 1
        return match_many(docs, **kwargs)

    monkeypatch.setattr(claims.model, "vectors", count_vectors)
    monkeypatch.setattr(debunks.matcher, "match_many", count_matches)
    docs = list(nlp.pipe([page("a"), page("b")], batch_size=2))
    assert calls == {"e5": 1, "match": 1}  # six comments, two articles
    assert [[c.annotations["debunks"][0]["id"] for c in d.comments[2:]] for d in docs] == [
        ["d-vaccine"],
        ["d-vaccine"],
    ]


@needs_models
def test_cli_thread_records_and_no_threads(tmp_path: Path) -> None:
    """The issue's repro: a post and its replies as JSONL records with a parent field,
    against a debunk database made with `narrascope debunks add`."""
    from narrascope.cli import main

    facts = tmp_path / "t1.jsonl"
    facts.write_text(
        "".join(json.dumps({"id": i, "claim": c, "verdict": "false"}) + "\n" for i, c in DEBUNKS)
    )
    db = tmp_path / "t1.db"
    assert main(["debunks", "add", str(facts), "--db", str(db)]) == 0
    thread = tmp_path / "thread.jsonl"
    rows = [{"id": "p1", "text": ARTICLE.split("\n\n")[1].strip()}]
    rows += [
        {"id": "c1", "parent": "p1", "text": CHATTER},
        {"id": "c2", "parent": "p1", "text": VACCINE},
    ]
    thread.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "out.jsonl"
    args = ["analyze", str(thread), "--debunks", str(db), "--no-progress", "-o"]
    assert main([*args, str(out), "--parent-field", "parent"]) == 0
    (record,) = [json.loads(line) for line in out.read_text().splitlines()]
    comments = {c["id"]: c for c in record["comments"]}
    assert [d["id"] for d in comments["c2"]["debunks"]] == ["d-vaccine"]
    assert comments["c1"]["debunks"] == [] and record["debunks"] == []
    span = comments["c2"]["debunks"][0]["claim_span"]
    assert record["text"][span["start"] : span["end"]] == VACCINE
    # --no-threads: each record is a document of its own, its matches its own, as before
    alone = tmp_path / "alone.jsonl"
    assert main([*args, str(alone), "--no-threads"]) == 0
    records = {r["id"]: r for r in map(json.loads, alone.read_text().splitlines())}
    assert sorted(records) == ["c1", "c2", "p1"]
    assert [d["id"] for d in records["c2"]["debunks"]] == ["d-vaccine"]
    assert all("comments" not in r for r in records.values())


# --- outputs, from records built by hand ------------------------------------------------


def matched(doc_id: str = "d1", *, article_match: bool = False) -> Document:
    """:func:`page` as the stages leave it: comment c1 lists its claim, c2 restates
    debunk DB-V; with ``article_match`` the article restates DB-N too."""
    doc = page(doc_id)
    _, c1, c2 = doc.comments
    for c in doc.comments:
        c.annotations.update({"claims": [], "debunks": []})
    start = doc.text.index(FACT_CLAIM)
    claim = Claim(doc.span(start, start + len(FACT_CLAIM)), 0.77)
    c1.annotations["claims"] = [{**claim.to_dict(), COMMENT: "c1"}]
    match = DebunkMatch(
        "DB-V",
        "COVID-19 vaccines contain microchips.",
        0.93,
        url="https://factcheck.example/vax",
        verdict="false",
        claim_span=doc.span(c2.start, c2.end),
    )
    c2.annotations["debunks"] = [{**match.to_dict(), COMMENT: "c2"}]
    if article_match:
        bus = doc.text.index("The city council")
        doc.debunks = [
            DebunkMatch("DB-N", "Buses are free.", 0.6, claim_span=doc.span(bus, bus + 16))
        ]
    return doc


def test_csv_has_comment_claim_and_debunk_rows_and_reads_them_back() -> None:
    records = [matched().to_dict(), page("plain").to_dict()]
    fh = io.StringIO()
    get_format("csv").write(records, fh)
    rows = list(csv.DictReader(io.StringIO(fh.getvalue())))
    mine = [r for r in rows if r["id"] == "d1"]
    (claim,) = [r for r in mine if r["level"] == "comment_claim"]
    assert (claim["comment"], claim["evidence"], claim["score"]) == ("c1", FACT_CLAIM, "0.7700")
    text = records[0]["text"]
    assert text[int(claim["evidence_start"]) : int(claim["evidence_end"])] == FACT_CLAIM
    (debunk,) = [r for r in mine if r["level"] == "comment_debunk"]
    assert (debunk["comment"], debunk["label"], debunk["parent"]) == ("c2", "DB-V", "false")
    assert debunk["debunk_claim"] == "COVID-19 vaccines contain microchips."
    assert debunk["evidence"] == VACCINE and debunk["url"] == "https://factcheck.example/vax"
    # the counts take the comments' too: `debunks > 0` keeps a document a reply repeats
    assert {(r["claims"], r["debunks"]) for r in mine} == {("1", "1")}
    assert {(r["claims"], r["debunks"]) for r in rows if r["id"] == "plain"} == {("0", "0")}
    assert not [r for r in mine if r["level"] in ("claim", "debunk")]
    # read back, written again: the same rows
    again = io.StringIO()
    table.write(table.read(io.StringIO(fh.getvalue())), again)
    assert again.getvalue() == fh.getvalue()


def test_html_lists_comment_claims_in_their_comment_and_counts_the_document() -> None:
    out = io.StringIO()
    report.write([matched().to_dict(), page("plain").to_dict()], out, debunks_checked=True)
    html = out.getvalue()
    assert "1 of 2 documents repeats known debunks (1 in a comment)" in html
    assert "repeats 1 known debunk in a comment" in html
    section = html[html.index('<section class="claims">') :]
    section = section[: section.index("</section>")]
    assert "(in a comment by Reader1)" in section and "(in a comment by Reader2)" in section
    assert '<a href="#doc-0-claim-0">' in section  # the claim links to its comment
    shown = html[html.index('<div class="text"') : html.index('<section class="thread">')]
    assert "4,000 soldiers" not in shown  # the article shows the article alone
    thread = html[html.index('<section class="thread">') :]
    thread = thread[: thread.index("</section>")]
    assert '<span class="claim" id="doc-0-claim-0"' in thread
    assert '<span class="claim debunked"' in thread and "matches debunk: COVID-19" in thread
    assert "1 repeating known debunks" in thread
    table_html = html[html.index("Known debunks repeated") :]
    assert "d1 (in a comment)" in table_html[: table_html.index("</table>")]
    (first, _) = report.read(io.StringIO(html))
    assert first == {k: v for k, v in matched().to_dict().items() if k != "sentences"}


def test_html_a_document_repeating_in_article_and_comment_is_counted_once() -> None:
    out = io.StringIO()
    report.write([matched(article_match=True).to_dict()], out, debunks_checked=True)
    html = out.getvalue()
    assert "1 of 1 document repeats known debunks (1 in a comment)" in html
    assert "repeats 1 known debunk</span>" in html and "repeats 1 known debunk in a comment" in html


def test_terminal_names_the_comment_never_its_words() -> None:
    doc = matched()
    line = thread_summary(doc)
    assert line == "thread: 3 comments, 1 repeating known debunks"
    shown = format_terminal_summary(doc, width=100, colour=False)
    assert "Comment c2 repeats a known debunk 0.93 at" in shown
    assert "COVID-19 vaccines contain microchips." in shown
    assert "microchips to track us" not in shown  # the comment's own words are not printed


# --- the corpus store and the API ------------------------------------------------------------


def test_store_counts_a_document_whose_comment_repeats_a_debunk(target: str) -> None:
    with open_store(target) as store:
        store.save([matched("d1"), matched("d2", article_match=True), page("d3")])
        assert sorted(hit.id for hit in store.search(Filters(debunk="any"))) == ["d1", "d2"]
        assert store.search_count(Filters(debunk="any")) == 2
        assert store.search_count(Filters(debunk="DB-V")) == 2
        assert store.search_count(Filters(debunk="DB-N")) == 1
        assert store.debunked_in_comments() == 2
        vax = "COVID-19 vaccines contain microchips."
        assert store.debunk_summary() == [
            DebunkSummary("DB-V", vax, "false", "https://factcheck.example/vax", 2, 2),
            DebunkSummary("DB-N", "Buses are free.", None, None, 1, 0),
        ]
        rows = store._rows(
            "SELECT doc_id, debunk_id, comment_id, span_start FROM debunk_matches "
            "ORDER BY doc_id, debunk_id"
        )
        text = matched().text
        start = text.index(VACCINE)
        assert [tuple(r) for r in rows] == [
            ("d1", "DB-V", "c2", start),
            ("d2", "DB-N", None, text.index("The city council")),
            ("d2", "DB-V", "c2", start),
        ]
        assert sum(r.debunked for r in store.debunk_stats("day")) == 2
        # the stored record keeps the comments' lists as written
        stored = store.get_document("d1")
        assert stored is not None and stored.to_dict() == matched("d1").to_dict()
        store.save([page("d1")])  # analysed again without matches: its rows go
        assert store.search_count(Filters(debunk="DB-V")) == 1
        assert store.debunked_in_comments() == 1


def test_an_older_database_gains_the_comment_column_from_its_records(target: str) -> None:
    with open_store(target) as store:
        store.save([matched("d1"), page("d2")])

        def make_version_8() -> None:  # as step 8 left the schema, with these records
            store._exec("DROP TABLE debunk_matches")
            store._exec(
                """CREATE TABLE debunk_matches (
                doc_id TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
                debunk_id TEXT NOT NULL, claim TEXT, verdict TEXT, url TEXT,
                score REAL NOT NULL, span_start INTEGER, span_end INTEGER)"""
            )
            store._exec("DELETE FROM schema_version WHERE version > 8")

        store._write(make_version_8)
        assert store.version() == 8
    with open_store(target) as store:
        assert store.version() == SCHEMA_VERSION
        assert store.search_count(Filters(debunk="DB-V")) == 1
        assert store.debunked_in_comments() == 1


def test_api_facets_say_in_a_comment(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from narrascope.serve import create_app
    from test_serve_api import fake_pipeline

    db = tmp_path / "corpus.db"
    with open_store(db) as store:
        store.save([matched("d1"), matched("d2", article_match=True), page("d3")])
    with TestClient(create_app(db, pipeline=fake_pipeline())) as client:
        facets = client.get("/api/facets").json()
        assert facets["debunked"] == 2 and facets["debunked_in_comments"] == 2
        assert [(d["id"], d["documents"], d["in_comments"]) for d in facets["debunks"]] == [
            ("DB-V", 2, 2),
            ("DB-N", 1, 0),
        ]
        page_ = client.get("/api/documents", params={"debunk": "DB-V"}).json()
        assert {d["id"] for d in page_["items"]} == {"d1", "d2"}
        record = client.get("/api/documents/d1").json()
        assert record["comments"][2]["debunks"][0]["id"] == "DB-V"
        export = client.get("/api/export", params={"format": "csv", "debunk": "any"}).text
        levels = {r["level"] for r in csv.DictReader(io.StringIO(export))}
        assert {"comment_claim", "comment_debunk"} <= levels


# --- the web page ----------------------------------------------------------------------------


@pytest.fixture
def browser() -> Iterator[Any]:
    sync_api = sync_api_or_skip()
    with sync_api.sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        try:
            yield launched
        finally:
            launched.close()


def test_web_document_view_shows_comment_claims_in_their_comment(
    tmp_path: Path, browser: Any
) -> None:
    from live_server import LiveServer
    from narrascope.serve import create_app
    from test_serve_api import fake_pipeline

    db = tmp_path / "corpus.db"
    with open_store(db) as store:
        store.save([matched("d1"), page("d3")])
    problems: list[str] = []
    with LiveServer(create_app(db, pipeline=fake_pipeline())) as srv:
        page_ = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
        page_.set_default_timeout(20_000)
        page_.on("pageerror", lambda e: problems.append(f"page error: {e}"))
        page_.goto(f"{srv.url}/#/dashboard")
        # a locator waits without evaluating a string in the page: the page's CSP forbids
        # eval, and a string predicate failed there once in CI (EvalError)
        sync_api_or_skip().expect(page_.locator("#debunked-count")).to_have_text("1")
        label = page_.text_content("#debunked-label")
        assert label == "document repeating known debunks (1 in a comment)"
        assert "(1 in a comment)" in page_.text_content("#top-debunks")
        page_.goto(f"{srv.url}/#/doc/{quote('d1')}")
        page_.wait_for_selector(".panel .claims li.claim-item")
        item = page_.locator(".panel li.claim-item")
        assert item.count() == 1
        assert item.locator(".claim-text").text_content() == FACT_CLAIM
        assert item.locator(".in-comment").text_content() == " (in a comment by Reader1)"
        loose = page_.locator(".panel .loose-debunk")
        assert loose.count() == 1 and "(in a comment by Reader2)" in loose.inner_text()
        # marked in the thread, not in the article; hovering the claim lights it there
        assert page_.locator(".doc-text span.claim").count() == 0
        marked = page_.locator("li.comment span.claim")
        assert marked.count() == 2
        assert page_.locator("li.comment span.claim.debunked").text_content() == VACCINE
        item.hover()
        assert page_.locator("li.comment span.claim.on").text_content() == FACT_CLAIM
        head = page_.text_content(".doc-head .flag.debunked")
        assert head == "repeats 1 known debunk in a comment"
        summary = page_.text_content(".thread-summary")
        assert summary is not None and summary.endswith("1 repeating known debunks")
    assert problems == []


def test_terminal_counts_the_claims_it_does_not_show() -> None:
    text = " ".join(f"In {2010 + i} the town of Ashby had {100 + i} residents." for i in range(5))
    doc = Document(text, id="d")
    sentences = [m.span() for m in re.finditer(r"In \d+[^.]+\.", text)]
    doc.claims = [Claim(doc.span(a, b), 0.9 - i / 10) for i, (a, b) in enumerate(sentences)]
    assert "… and 2 more claims" in format_terminal_summary(doc, width=100, colour=False)
    doc.claims = doc.claims[:4]
    assert "… and 1 more claim\n" in format_terminal_summary(doc, width=100, colour=False) + "\n"
