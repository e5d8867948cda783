"""A known debunk's date wherever a match is shown: JSONL, CSV, the terminal summary, the
HTML report and the web document view. A fact-checker weighs whether the check came
before or after the post (and the matcher counts a debunk dated just before it as more
likely). Documents are built with ``debunks`` set directly (no model), from texts written
for these tests."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from browser_needs import CHROMIUM, sync_api_or_skip
from narrascope.doc import Document
from narrascope.doc.document import DebunkMatch
from narrascope.export import get_format, report, table
from narrascope.export.terminal import format_terminal_summary

CLAIM = "Neighbours say the water supply of Marlowe was poisoned by saboteurs in April."
TEXT = f"Quiet week in town. {CLAIM}"


def matched(doc_id: str = "d1") -> Document:
    doc = Document(text=TEXT, id=doc_id, language="en", meta={"date": "2023-05-02"})
    start = TEXT.index(CLAIM)
    doc.debunks = [
        DebunkMatch(
            "D-WATER",
            "The water supply of Marlowe was poisoned by foreign saboteurs.",
            0.91,
            url="https://fc.example.org/water",
            verdict="false",
            claim_span=doc.span(start, start + len(CLAIM)),
            date="2023-04-20",
        ),
        DebunkMatch("D-OLD", "An undated fact-check about Marlowe.", 0.55, verdict="misleading"),
    ]
    return doc


def test_jsonl_record_holds_the_date_and_reads_back() -> None:
    record = json.loads(json.dumps(matched().to_dict()))
    assert [d["date"] for d in record["debunks"]] == ["2023-04-20", None]
    back = Document.from_dict(record)
    assert [d.date for d in back.debunks] == ["2023-04-20", None]


def test_csv_debunk_rows_carry_the_date_and_read_back() -> None:
    records = [matched().to_dict()]
    fh = io.StringIO()
    get_format("csv").write(records, fh)
    rows = [r for r in csv.DictReader(io.StringIO(fh.getvalue())) if r["level"] == "debunk"]
    assert [(r["label"], r["debunk_date"]) for r in rows] == [
        ("D-WATER", "2023-04-20"),
        ("D-OLD", ""),
    ]
    (back,) = table.read(io.StringIO(fh.getvalue(), newline=""))
    assert [d["date"] for d in back["debunks"]] == ["2023-04-20", None]


def test_terminal_summary_says_when_the_debunk_was_checked() -> None:
    out = format_terminal_summary(matched(), colour=False, width=200)
    assert "(false, checked 2023-04-20)" in out
    assert "(misleading)" in out  # undated: the verdict alone


def test_html_report_says_when_the_debunk_was_checked() -> None:
    fh = io.StringIO()
    report.write([matched().to_dict()], fh)
    html = fh.getvalue()
    assert "(false, checked 2023-04-20)" in html
    table_html = html[html.index("<h2>Known debunks repeated</h2>") :]
    assert "<th>Checked</th>" in table_html and "<td>2023-04-20</td>" in table_html


def test_web_document_view_says_when_the_debunk_was_checked(tmp_path: Path) -> None:
    sync_api = sync_api_or_skip()
    from live_server import LiveServer
    from narrascope.serve import create_app
    from narrascope.store import open_store
    from test_serve_api import fake_pipeline

    db = tmp_path / "corpus.db"
    with open_store(db) as store:
        store.save([matched()])
    with (
        LiveServer(create_app(db, pipeline=fake_pipeline())) as srv,
        sync_api.sync_playwright() as p,
    ):
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        try:
            page = browser.new_page()
            page.set_default_timeout(20_000)
            page.goto(f"{srv.url}/#/doc/d1")
            page.wait_for_selector(".panel .claims .debunk")
            lines = page.eval_on_selector_all(
                ".panel .claims .debunk", "e => e.map(x => x.textContent)"
            )
            assert any("(false, checked 2023-04-20)" in line for line in lines), lines
            assert any("(misleading)" in line and "checked" not in line for line in lines)
        finally:
            browser.close()
