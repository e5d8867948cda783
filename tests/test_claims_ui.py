"""Claims and known debunks everywhere the user looks (issue 25, item 4): the HTML
report, the CSV export, the corpus store (SQLite and PostgreSQL), the API, the command
line and the web page.

Documents are built with ``claims`` and ``debunks`` set directly (no model), from short
texts written for these tests. The store tests run on SQLite and, when
``NARRASCOPE_TEST_POSTGRES_URL`` names a reachable server, on PostgreSQL too; the browser
test needs chromium and Playwright (skipped with the reason otherwise).
"""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from browser_needs import CHROMIUM, sync_api_or_skip
from live_server import LiveServer as _Server
from narrascope.cli import main
from narrascope.doc import Document
from narrascope.doc.document import Claim, DebunkMatch
from narrascope.export import get_format, report, table
from narrascope.store import (
    SCHEMA_VERSION,
    DebunkStatsRow,
    DebunkSummary,
    Filters,
    open_store,
)
from narrascope.store.common import SQLStore
from test_store import (  # the storage suite's documents and PostgreSQL fixtures
    EN,
    analysed,
    rows,
)

XSS = "<script>alert(1)</script>"
NATO = "The alliance grew from sixteen members in 1990 to thirty by 2020."
FLAG = "Officials said the attack on the concert hall was staged by foreign agents."
TEXT = f"{NATO} The weather was mild all week. {FLAG}"


def claimed(
    doc_id: str = "d1",
    *,
    date: str | None = "2024-03-02",
    debunks: bool = True,
    text: str = TEXT,
    **meta: str,
) -> Document:
    """A document with two check-worthy claims; with ``debunks`` the first restates debunk
    DB-1 (with a link), and the document as a whole restates DB-2 (an unsafe URL)."""
    full_meta = {"date": date, **meta} if date else dict(meta)
    doc = Document(text=text, id=doc_id, language="en", meta=full_meta)
    nato = doc.span(text.index(NATO), text.index(NATO) + len(NATO))
    flag = doc.span(text.index(FLAG), text.index(FLAG) + len(FLAG))
    doc.claims = [Claim(flag, 0.93), Claim(nato, 0.81)]
    if debunks:
        doc.debunks = [
            DebunkMatch(
                "DB-1",
                f"NATO expanded eastwards {XSS}",
                0.88,
                url="https://factcheck.example/nato?a=1&b=2",
                verdict="false",
                claim_span=nato,
            ),
            DebunkMatch(
                "DB-2",
                "The concert hall attack was a false flag",
                0.71,
                url="javascript:alert(2)",
                verdict=None,
                claim_span=None,
            ),
        ]
    return doc


def write_html(records: list[dict[str, Any]]) -> str:
    fh = io.StringIO()
    report.write(records, fh)
    return fh.getvalue()


class _Links(HTMLParser):
    """Every <a> of a page with its attributes, and whether a <script> runs anything."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[dict[str, str | None]] = []
        self.scripts: list[dict[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self.links.append(dict(attrs))
        if tag == "script":
            self.scripts.append(dict(attrs))


# --- html report -------------------------------------------------------------------------


def test_html_lists_claims_best_first_and_highlights_them() -> None:
    html = write_html([claimed().to_dict()])
    section = html[html.index('<section class="claims">') : html.index("</section>")]
    assert "<h3>Claims (2)</h3>" in section
    # best first, each with its score, linking to its place in the text
    assert section.index("0.93") < section.index("0.81")
    assert section.index(FLAG) < section.index(NATO)
    assert '<a href="#doc-0-claim-0"><q dir="auto">' + FLAG in section
    text = html[html.index('<div class="text"') :]
    assert f'<span class="claim" id="doc-0-claim-0" title="check-worthy claim (0.93)">{FLAG}' in (
        text
    )
    # the claim that restates a debunk is marked so, and its tooltip says which
    assert '<span class="claim debunked" id="doc-0-claim-1"' in text
    assert "matches debunk: NATO expanded eastwards &lt;script&gt;" in text


def test_html_shows_each_debunk_next_to_its_claim_or_for_the_whole_document() -> None:
    html = write_html([claimed().to_dict()])
    section = html[html.index('<section class="claims">') : html.index("</section>")]
    # DB-1 sits in the item of the claim it restates (the second one listed)
    items = section.split('<li class="claim-item"')
    assert "DB-1" not in items[1] and "DB-1" in items[2]
    assert 'matches debunk: <q dir="auto">NATO expanded eastwards &lt;script&gt;' in items[2]
    assert "(false)" in items[2]
    # DB-2 matched the document as a whole: before the list, its unsafe URL as text only
    whole = section[: section.index("<ol>")]
    assert 'class="debunks"' in whole and "The concert hall attack was a false flag" in whole
    parser = _Links()
    parser.feed(html)
    fact_checks = [a for a in parser.links if a.get("target") == "_blank"]
    assert {a["href"] for a in fact_checks} == {"https://factcheck.example/nato?a=1&b=2"}
    assert all("noopener" in (a.get("rel") or "") for a in fact_checks)
    assert not any((a.get("href") or "").startswith("javascript:") for a in parser.links)
    assert XSS not in html and "alert(2)</a>" not in html
    # the headline says it, without text
    assert '<span class="flag debunked">repeats 2 known debunks</span>' in html


def test_html_summary_counts_documents_repeating_known_debunks() -> None:
    records = [
        claimed("d1").to_dict(),
        claimed("d2", debunks=False).to_dict(),
        claimed("d3").to_dict(),
    ]
    html = write_html(records)
    assert "<p class=meta id=debunked-count>2 of 3 documents repeat known debunks</p>" in html
    table_html = html[html.index("<h2>Known debunks repeated</h2>") :]
    table_html = table_html[: table_html.index("</table>")]
    # most repeated first, each linking to its documents
    assert table_html.count("<tr>") == 3  # the head and two debunks
    assert '<a href="#doc-0">d1</a>, <a href="#doc-2">d3</a>' in table_html


def test_html_keeps_older_records_and_thread_regions() -> None:
    old = {"id": "old", "language": "en", "text": "An old record without claims."}
    odd = {"id": "odd", "text": "abc", "claims": "none", "debunks": [{"no": "id"}, 3]}
    html = write_html([old, odd])
    assert '<section class="claims">' not in html
    assert "0 of 2 documents repeat known debunks" in html
    assert "Known debunks repeated" not in html
    assert list(report.read(io.StringIO(html))) == [old, odd]
    # a thread: a claim of a comment is listed, not highlighted in the article
    from narrascope.ingest.threads import Comment, Thread

    doc = claimed()
    article = len(doc.text)
    doc.text += "\n\nNATO had 12 members in 1949, a reader wrote."
    comment_claim = doc.span(article + 2, len(doc.text))
    doc.claims.append(Claim(comment_claim, 0.6))
    doc.set_thread(
        Thread((0, article), [Comment("c1", None, "A", article + 2, len(doc.text))], "t")
    )
    html = write_html([doc.to_dict()])
    assert "(in a comment)" in html
    shown = html[html.index('<div class="text"') : html.index('<section class="thread">')]
    assert "doc-0-claim-2" not in shown and "12 members" not in shown


# --- csv -----------------------------------------------------------------------------------


def test_csv_has_claim_and_debunk_rows_and_counts_and_reads_them_back_exactly() -> None:
    docs = [claimed(source="=evil()"), claimed("d2", debunks=False), Document(text="x", id="d3")]
    records = [d.to_dict() for d in docs] + [{"id": "old", "language": "en", "text": "t"}]
    fh = io.StringIO()
    get_format("csv").write(records, fh)
    text = fh.getvalue()
    found = list(csv.DictReader(io.StringIO(text)))
    assert table.COLUMNS[-5:] == ["claims", "debunks", "debunk_claim", "url", "debunk_date"]
    d1 = [r for r in found if r["id"] == "d1"]
    assert {(r["claims"], r["debunks"]) for r in d1} == {("2", "2")}  # on every row
    assert next(r["source"] for r in d1) == "'=evil()"  # formulas neutralised as before
    claims = [r for r in d1 if r["level"] == "claim"]
    assert [(r["score"], r["evidence"]) for r in claims] == [("0.9300", FLAG), ("0.8100", NATO)]
    debunk_rows = [r for r in d1 if r["level"] == "debunk"]
    assert [
        (r["label"], r["parent"], r["debunk_claim"], r["url"], r["evidence"]) for r in debunk_rows
    ] == [
        (
            "DB-1",
            "false",
            f"NATO expanded eastwards {XSS}",
            "https://factcheck.example/nato?a=1&b=2",
            NATO,
        ),
        ("DB-2", "", "The concert hall attack was a false flag", "javascript:alert(2)", ""),
    ]
    assert next((r["claims"], r["debunks"]) for r in found if r["id"] == "d2") == ("2", "0")
    assert [(r["level"], r["claims"]) for r in found if r["id"] == "d3"] == [("", "0")]
    assert [(r["level"], r["claims"], r["debunks"]) for r in found if r["id"] == "old"] == [
        ("", "", "")
    ]
    back = list(table.read(io.StringIO(text, newline="")))
    assert back[0]["claims"] == records[0]["claims"]
    assert back[0]["debunks"] == records[0]["debunks"]
    assert back[2]["claims"] == [] and "claims" not in back[3]
    again = io.StringIO()
    table.write(back, again)
    assert again.getvalue() == text


# --- the corpus store ----------------------------------------------------------------------


@pytest.fixture
def corpus(target: str) -> Iterator[SQLStore]:
    """d1 and d3 repeat DB-1 and DB-2 (March), d2 has claims only, d4 is undated and
    repeats DB-1, plain has nothing of it."""
    with open_store(target) as store:
        d4 = claimed("d4", date=None)
        d4.debunks = d4.debunks[:1]
        store.save(
            [
                claimed("d1", source="blog"),
                claimed("d2", debunks=False, source="blog"),
                claimed("d3", date="2024-04-05", source="paper"),
                d4,
                analysed(EN, "plain", "en", date="2024-03-09"),
            ]
        )
        yield store  # type: ignore[misc]


def ids(store: SQLStore, **filters: Any) -> list[str]:
    return sorted(hit.id for hit in store.search(Filters(**filters)))


def test_debunk_matches_are_child_rows_replaced_on_save_and_deleted_with_it(
    corpus: SQLStore,
) -> None:
    assert corpus.version() == SCHEMA_VERSION
    assert rows(corpus, "debunk_matches") == 5
    stored = corpus._rows(
        "SELECT debunk_id, verdict, score, span_start, span_end FROM debunk_matches "
        "WHERE doc_id = ? ORDER BY debunk_id",
        ("d1",),
    )
    start = TEXT.index(NATO)
    assert stored == [
        ("DB-1", "false", pytest.approx(0.88), start, start + len(NATO)),
        ("DB-2", None, pytest.approx(0.71), None, None),
    ]
    corpus.save([claimed("d1", debunks=False)])  # re-analysed: no match any more
    assert rows(corpus, "debunk_matches", "d1") == 0
    corpus.delete("d3")
    assert rows(corpus, "debunk_matches") == 1
    assert corpus.get_document("d4") == claimed_d4()


def claimed_d4() -> Document:
    d4 = claimed("d4", date=None)
    d4.debunks = d4.debunks[:1]
    return Document.from_dict(d4.to_dict())


def test_the_debunk_filter_in_search_count_stats_and_export(corpus: SQLStore) -> None:
    assert ids(corpus, debunk="any") == ["d1", "d3", "d4"]
    assert ids(corpus, debunk=" ANY ") == ["d1", "d3", "d4"]
    assert ids(corpus, debunk="DB-1") == ["d1", "d3", "d4"]
    assert ids(corpus, debunk="DB-2") == ["d1", "d3"]
    assert ids(corpus, debunk="DB-9") == []
    assert ids(corpus, debunk="") == ["d1", "d2", "d3", "d4", "plain"]
    assert ids(corpus, debunk="DB-2", source="paper") == ["d3"]
    assert corpus.search_count(Filters(debunk="any")) == 3
    assert [d.id for d in corpus.iter_documents(Filters(debunk="DB-2"))] == ["d3", "d1"]
    march = corpus.stats("month", Filters(debunk="any"))
    assert {(r.bucket, r.documents) for r in march} == set()  # claimed docs carry no narrative
    assert corpus.debunk_stats("month") == [
        DebunkStatsRow("2024-03", 3, 1),
        DebunkStatsRow("2024-04", 1, 1),
        DebunkStatsRow(None, 1, 1),
    ]
    assert corpus.debunk_stats("source", Filters(debunk="DB-2")) == [
        DebunkStatsRow("blog", 1, 1),
        DebunkStatsRow("paper", 1, 1),
    ]
    day_total = sum(r.debunked for r in corpus.debunk_stats("day"))
    assert day_total == corpus.search_count(Filters(debunk="any"))


def test_facets_and_the_summary_name_each_repeated_debunk(corpus: SQLStore) -> None:
    assert corpus.facets()["debunk"] == [("DB-1", 3), ("DB-2", 2)]
    assert corpus.debunk_summary() == [
        DebunkSummary(
            "DB-1",
            f"NATO expanded eastwards {XSS}",
            "false",
            "https://factcheck.example/nato?a=1&b=2",
            3,
        ),
        DebunkSummary(
            "DB-2", "The concert hall attack was a false flag", None, "javascript:alert(2)", 2
        ),
    ]


def test_an_older_database_gains_the_debunk_table_from_its_records(target: str) -> None:
    if "://" not in target and sqlite3.sqlite_version_info < (3, 35):
        pytest.skip("this SQLite cannot drop a table in a transaction reliably")
    with open_store(target) as store:
        store.save([claimed("0", source="blog"), claimed("d2", debunks=False), claimed("d3")])

        def make_version_5() -> None:  # as step 5 left the schema, with these records
            store._exec("DROP TABLE debunk_matches")  # step 6 (later steps run again)
            store._exec("DELETE FROM schema_version WHERE version > 5")

        store._write(make_version_5)
        assert store.version() == 5
    with open_store(target) as store:
        assert store.version() == SCHEMA_VERSION
        assert ids(store, debunk="any") == ["0", "d3"]  # the first key (an empty id is refused)
        assert rows(store, "debunk_matches") == 4
        store.save([claimed("d3", debunks=False)])  # and it is written as any other
        assert ids(store, debunk="DB-1") == ["0"]


def test_a_match_of_an_odd_shape_is_left_out_not_fatal(target: str) -> None:
    doc = claimed("odd")
    doc.debunks.append(DebunkMatch("DB-3", "x", float("nan")))
    with open_store(target) as store:
        assert store.save([doc]) == 1
        assert store.facets()["debunk"][:2] == [("DB-1", 1), ("DB-2", 1)]


def test_cli_search_and_stats_by_debunk(corpus: SQLStore, target: str, capsys) -> None:
    assert main(["search", "--db", target, "--debunk", "any", "--json"]) == 0
    found = [json.loads(line)["id"] for line in capsys.readouterr().out.splitlines()]
    assert sorted(found) == ["d1", "d3", "d4"]
    assert main(["search", "--db", target, "--debunk", "DB-2"]) == 0
    out = capsys.readouterr().out
    assert out.strip().endswith("1-2 of 2 documents")
    assert main(["stats", "--db", target, "--by", "month", "--debunks"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["month", "documents", "repeating", "a", "known", "debunk"]
    assert [line.split() for line in lines[1:]] == [
        ["2024-03", "3", "1"],
        ["2024-04", "1", "1"],
        ["(no", "date)", "1", "1"],
    ]
    assert main(["stats", "--db", target, "--by", "source", "--debunks", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)[0] == {
        "source": "blog",
        "documents": 2,
        "debunked": 1,
    }


# --- the API -------------------------------------------------------------------------------


def test_api_filters_by_debunk_and_counts_debunked_documents(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from narrascope.serve import create_app
    from test_serve_api import fake_pipeline

    db = tmp_path / "corpus.db"
    with open_store(db) as store:
        store.save([claimed("d1"), claimed("d2", debunks=False), claimed("d3")])
    with TestClient(create_app(db, pipeline=fake_pipeline())) as client:
        page = client.get("/api/documents", params={"debunk": "any"}).json()
        assert page["total"] == 2 and {d["id"] for d in page["items"]} == {"d1", "d3"}
        assert client.get("/api/documents", params={"debunk": ""}).json()["total"] == 3
        assert client.get("/api/documents", params={"debunk": "DB-9"}).json()["total"] == 0
        facets = client.get("/api/facets").json()
        assert facets["debunked"] == 2
        assert facets["debunk"] == [{"value": "DB-1", "count": 2}, {"value": "DB-2", "count": 2}]
        assert facets["debunks"][0]["claim"] == f"NATO expanded eastwards {XSS}"
        record = client.get("/api/documents/d1").json()
        assert record["claims"][0]["text"] == FLAG and record["debunks"][0]["id"] == "DB-1"
        export = client.get("/api/export", params={"format": "csv", "debunk": "DB-1"}).text
        assert {r["id"] for r in csv.DictReader(io.StringIO(export))} == {"d1", "d3"}
        schema = client.get("/openapi.json").json()
        params = schema["paths"]["/api/documents"]["get"]["parameters"]
        assert "debunk" in {p["name"] for p in params}
        # the stats of `narrascope stats --debunks`, with the same filters as a search
        by_source = client.get("/api/stats/debunks", params={"by": "source"}).json()
        assert by_source["by"] == "source"
        with open_store(db) as store:
            expected = [r.to_dict() for r in store.debunk_stats("source")]
        assert by_source["rows"] == expected and sum(r["debunked"] for r in expected) == 2
        only = client.get("/api/stats/debunks", params={"by": "day", "debunk": "any"}).json()
        assert sum(r["documents"] for r in only["rows"]) == 2


# --- the web page --------------------------------------------------------------------------


def test_web_page_claims_panel_debunk_count_and_filter(tmp_path: Path) -> None:
    sync_api = sync_api_or_skip()
    from narrascope.serve import create_app
    from test_serve_api import fake_pipeline

    db = tmp_path / "corpus.db"
    hostile = claimed("d3")
    hostile.debunks[0].claim = "<img src=x onerror=window.__pwned=1>"
    with open_store(db) as store:
        store.save([claimed("d1"), claimed("d2", debunks=False), hostile])
    problems: list[str] = []
    with (
        _Server(create_app(db, pipeline=fake_pipeline())) as srv,
        sync_api.sync_playwright() as p,
    ):
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        try:
            page = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
            page.set_default_timeout(20_000)
            page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
            page.on(
                "console",
                lambda m: problems.append(f"console: {m.text}") if m.type == "error" else None,
            )
            # the dashboard: the count links to the filtered list; the filter lists debunks
            page.goto(f"{srv.url}/#/dashboard")
            expect = sync_api.expect
            expect(page.locator("#debunked-count")).to_have_text("2")
            assert page.text_content("#debunked-label") == "documents repeating known debunks"
            choices = page.eval_on_selector_all("#f-debunk option", "o => o.map(x => x.value)")
            assert choices == ["", "any", "DB-1", "DB-2"]
            page.click("#debunked-link")
            expect(page.locator("#table-summary")).to_have_text("2 matches")
            assert page.input_value("#f-debunk") == "any"
            listed = page.eval_on_selector_all(
                "#doc-table tr[data-id]", "r => r.map(x => x.dataset.id)"
            )
            assert sorted(listed) == ["d1", "d3"]
            page.select_option("#f-debunk", "")
            expect(page.locator("#table-summary")).to_have_text("3 matches")
            # the document view: the Claims panel, best first, with its debunks
            page.goto(f"{srv.url}/#/doc/{quote('d3')}")
            page.wait_for_selector(".panel .claims li.claim-item")
            texts = page.eval_on_selector_all(
                ".panel li.claim-item .claim-text", "e => e.map(x => x.textContent)"
            )
            assert texts == [FLAG, NATO]
            scores = page.eval_on_selector_all(
                ".panel li.claim-item .score", "e => e.map(x => x.textContent)"
            )
            assert scores == ["0.93", "0.81"]
            second = page.locator(".panel li.claim-item >> nth=1")
            assert "matches debunk: <img src=x onerror=window.__pwned=1> (false)" in (
                second.inner_text().replace("\n", " ")
            )
            link = second.locator(".debunk a")
            assert link.get_attribute("href") == "https://factcheck.example/nato?a=1&b=2"
            assert link.get_attribute("target") == "_blank"
            assert "noopener" in link.get_attribute("rel")
            whole = page.locator(".panel .loose-debunk")
            assert whole.count() == 1 and whole.locator("a").count() == 0  # javascript: URL
            # hovering a claim lights it up in the text
            assert page.locator(".doc-text span.claim").count() == 2
            assert page.locator(".doc-text span.claim.debunked").count() == 1
            second.hover()
            lit = page.locator(".doc-text span.claim.on")
            assert lit.count() == 1 and lit.text_content() == NATO
            page.locator(".panel li.claim-item >> nth=0").hover()
            assert page.locator(".doc-text span.claim.on").text_content() == FLAG
            assert page.text_content(".doc-head .flag.debunked") == "repeats 2 known debunks"
            assert page.evaluate("() => window.__pwned") is None
        finally:
            browser.close()
    assert problems == []
