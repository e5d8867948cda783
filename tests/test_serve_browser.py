"""The workspace web page end to end, in a real headless browser (issue 5).

Debian's chromium (``/usr/bin/chromium``, installed by ``.ci/setup-browser.sh``) is driven
by Playwright for Python against the real server (``create_app`` under uvicorn, in a
thread) over a temporary SQLite corpus of the bundled samples analysed by the real models.
Skipped, with the reason, when chromium or Playwright is missing. The screenshots in
``docs/img/`` (README "Workspace") are taken here, on the bundled samples: into pytest's
temporary directory, so a test run leaves the git tree clean, and into ``docs/img/`` only
with ``NARRASCOPE_UPDATE_SCREENSHOTS=1`` (to refresh the README's pictures).
"""

from __future__ import annotations

import csv
import json
import os
import re
import threading
import time
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote
from urllib.request import urlopen

import pytest

CHROMIUM = os.environ.get("NARRASCOPE_CHROMIUM", "/usr/bin/chromium")
if not Path(CHROMIUM).is_file():
    pytest.skip(
        f"no chromium at {CHROMIUM} (run .ci/setup-browser.sh as root)", allow_module_level=True
    )
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
pytest.importorskip("uvicorn", reason="uvicorn is not installed")

from live_server import LiveServer as _Server  # noqa: E402
from live_server import watched_page  # noqa: E402
from narrascope.doc import Annotation, Document, Span, Technique  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
IMG = ROOT / "docs" / "img"
UPDATE_SCREENSHOTS = "NARRASCOPE_UPDATE_SCREENSHOTS"
VIEWPORT = {"width": 1280, "height": 800}
TIMEOUT_MS = 20_000

# Our own fixture texts (never copied from any dataset).
PASTED = (
    "🔥 Breaking: the sanctions are ruining Europe, not Russia.\n"
    "Families in Germany cannot pay their heating bills while Washington sells them "
    "expensive gas. NATO pushed Ukraine into this war and now the West abandons it. "
    "Kyiv obeys orders from abroad and the Ukrainian army keeps losing ground."
)
PAYLOAD_ID = "xss-<img src=x onerror=window.__pwned=1>"
PAYLOAD_TEXT = (
    "<script>window.__pwned = 2; alert('script')</script> NATO provoked this war.\n"
    "<img src=x onerror=\"window.__pwned=3; alert('img')\"> Kyiv follows orders from Washington.\n"
    "<svg onload=\"alert('svg')\"></svg><b>bold?</b> &lt;not an entity&gt; "
    '<a href="javascript:alert(1)">link</a>'
)
UPLOAD_FILES = [
    ("grain-deal.txt", "The grain corridor reopened on Monday and twelve ships left Odesa."),
    (
        "sanctions-op-ed.txt",
        "Brussels keeps imposing sanctions that hurt only ordinary Europeans. "
        "The West is tired of Ukraine and its leaders will soon abandon Kyiv.",
    ),
    ("empty.txt", ""),
]
UPLOAD_JSONL = "\n".join(
    json.dumps({"id": f"feed-{i}", "source": "test-feed", "date": f"2024-05-0{i}", "text": t})
    for i, t in enumerate(
        [
            "NATO expansion provoked Russia and the war is the fault of the West.",
            "Зеленский выполняет приказы Вашингтона, а Запад устал от Украины.",
            "Local farmers expect a good harvest of sunflowers this autumn.",
            "Russian troops liberate one village after another, unstoppable.",
        ],
        start=1,
    )
)


@pytest.fixture(scope="module")
def nlp() -> Any:
    import narrascope

    return narrascope.load()


@pytest.fixture(scope="module")
def server(nlp: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[_Server]:
    from narrascope.ingest import read_inputs
    from narrascope.serve import create_app
    from narrascope.store import open_store

    db = tmp_path_factory.mktemp("corpus") / "samples.db"
    docs = [d for d in read_inputs([EXAMPLES]) if isinstance(d, Document)]
    assert len(docs) >= 8
    with open_store(db) as store:
        store.save(list(nlp.pipe(docs)))
    with _Server(create_app(db, pipeline=nlp), db) as srv:
        yield srv


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        yield b
        b.close()


@pytest.fixture
def page(browser: Any, server: _Server) -> Iterator[Any]:
    """A fresh browser context (empty localStorage); fails the test on any page error,
    Content-Security-Policy violation, dialog or failed request."""
    context = browser.new_context(viewport=VIEWPORT, accept_downloads=True)
    context.set_default_timeout(TIMEOUT_MS)
    pg, problems = watched_page(context, server.url)
    pg.problems = problems  # type: ignore[attr-defined]
    yield pg
    context.close()
    assert problems == []


def _table_ids(page: Any) -> list[str]:
    return page.eval_on_selector_all(
        "#doc-table tbody tr[data-id]", "rows => rows.map(r => r.dataset.id)"
    )


def _wait_table(page: Any) -> None:
    page.wait_for_selector("#doc-table[aria-busy=false] tbody tr")


def _series(page: Any) -> dict[str, int]:
    """Each time-chart series' label and the sum of its counts."""
    return page.evaluate(
        "() => Object.fromEntries(Chart.getChart('chart-time').data.datasets"
        ".map(d => [d.label, d.data.reduce((a, p) => a + p.y, 0)]))"
    )


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where screenshots go: docs/img/ only when asked for, else a throw-away directory."""
    if os.environ.get(UPDATE_SCREENSHOTS) == "1":
        return IMG
    return tmp_path_factory.mktemp("screenshots")


def _screenshot(page: Any, directory: Path, name: str) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    page.screenshot(path=str(path))
    assert 10_000 < path.stat().st_size < 600_000


# What the page shows of a document's text, without the role chips, and where its marks
# are (UTF-16 offsets, as the browser counts).
_READ_TEXT = """root => {
  let off = 0; const parts = []; const marks = [];
  const walk = n => {
    if (n.nodeType === 3) { parts.push(n.data); off += n.data.length; return; }
    if (n.classList && n.classList.contains('role')) return;
    const start = off;
    for (const c of n.childNodes) walk(c);
    if (n.tagName === 'MARK') marks.push([start, off, n.className]);
  };
  walk(root);
  return {text: parts.join(''), marks};
}"""


def _utf16(text: str, i: int) -> int:
    return len(text[:i].encode("utf-16-le")) // 2


def _covered(ranges: list[tuple[int, int]]) -> set[int]:
    return {i for s, e in ranges for i in range(s, e)}


def _check_highlights(page: Any, record: dict[str, Any]) -> None:
    """The text is shown whole and literally; the marks are exactly the evidence spans."""
    text = record["text"]
    shown = page.eval_on_selector(".doc-text", _READ_TEXT)
    assert shown["text"] == text
    evidence = [
        (_utf16(text, ev["start"]), _utf16(text, ev["end"]))
        for group in ("narratives", "subnarratives")
        for a in record.get(group, [])
        for ev in a.get("evidence", [])
    ]
    assert evidence, "the record has no evidence to show"
    # the narrative evidence marks (an article's hate/incitement evidence is a mark.flag-ev)
    shown["marks"] = [m for m in shown["marks"] if "ev" in m[2].split()]
    marks = [(s, e) for s, e, _ in shown["marks"]]
    assert _covered(marks) == _covered(evidence)
    # each mark is coloured by a narrative of the side panel
    panel = set(
        page.eval_on_selector_all(
            ".panel li.narr .swatch",
            "els => els.map(e => [...e.classList].find(c => /^n\\d+$/.test(c)) || 'other')",
        )
    )
    for _, _, cls in shown["marks"]:
        colour = next((c for c in cls.split() if re.fullmatch(r"n\d+|other", c)), None)
        assert colour in panel


def test_document_view_from_the_dashboard(page: Any, server: _Server, screenshots: Path) -> None:
    doc_id = "en_nato_provoked_the_war.txt"
    page.goto(f"{page.base}/#/dashboard")
    _wait_table(page)
    page.click(f'#doc-table a[href="#/doc/{quote(doc_id)}"]')
    page.wait_for_selector(".doc-text mark.ev")
    assert page.url.endswith(f"#/doc/{quote(doc_id)}")
    record = server.get(f"/api/documents/{quote(doc_id)}")
    assert page.text_content(".doc-id") == doc_id
    _check_highlights(page, record)
    # side panel: one bar per narrative, its width the score
    labels = page.eval_on_selector_all(
        ".panel li.narr > .label-line .label", "e => e.map(x => x.textContent)"
    )
    assert labels[0] == max(record["narratives"], key=lambda a: a["score"])["label"]
    width = page.eval_on_selector(".panel li.narr > .bar > span", "e => e.style.width")
    best = max(a["score"] for a in record["narratives"])
    assert width.endswith("%") and float(width[:-1]) == pytest.approx(best * 100, abs=0.01)
    assert page.text_content(".explanation") == record["explanation"]
    framed = [e for e in record["entities"] if e["main_role"]]
    assert page.locator(".panel .entities tbody tr").count() == len(framed)
    assert page.locator(".panel .techniques tbody tr").count() == len(record["techniques"])
    # clicking a narrative keeps only its evidence highlighted
    page.click(".panel li.narr >> nth=0")
    assert page.locator(".docview.focus").count() == 1
    assert 0 < page.locator("mark.ev.on").count() <= page.locator("mark.ev").count()
    page.click(".panel li.narr >> nth=0")
    assert page.locator(".docview.focus").count() == 0
    _screenshot(page, screenshots, "document-view.png")
    # back returns to the dashboard; a reload of the document's address shows it again
    page.go_back()
    page.wait_for_selector("#view-dashboard:not([hidden])")
    page.go_forward()
    page.reload()
    page.wait_for_selector(".doc-text mark.ev")
    assert page.text_content(".doc-id") == doc_id


def test_dashboard_chart_filter_drill_down_and_export(
    page: Any, server: _Server, screenshots: Path
) -> None:
    page.goto(f"{page.base}/#/dashboard")
    _wait_table(page)
    total = server.get("/api/documents?limit=1")["total"]
    assert sorted(_table_ids(page)) == sorted(
        d["id"] for d in server.get("/api/documents?limit=25")["items"]
    )
    assert f"of {total}" in page.text_content("#page-info")
    # the chart library drew the narratives over time and the language mix
    page.wait_for_function(
        "() => window.Chart && Chart.getChart('chart-time')?.data.datasets.length > 0"
    )
    drawn = page.evaluate(
        """id => { const c = document.getElementById(id);
        const px = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let n = 0; for (let i = 3; i < px.length; i += 4) if (px[i] > 0) n++; return n; }""",
        "chart-time",
    )
    assert drawn > 2000
    series = _series(page)
    # the charts count the labels scored at least the default threshold, 0.5
    by_day = server.get("/api/stats?by=day&min_score=0.5")
    stats = by_day["rows"]
    for label, n in series.items():
        # undated documents have no place on a time axis
        assert n == sum(r["documents"] for r in stats if r["narrative"] == label and r["bucket"])
    # ... so the chart says how many it leaves out (the bundled .txt samples have no date)
    assert by_day["undated"] > 0
    assert page.text_content("#threshold-note") == "Counting labels with score ≥ 0.50"
    page.wait_for_selector("#chart-time-undated:not([hidden])")
    note = page.text_content("#chart-time-undated")
    assert note.startswith(f"{by_day['undated']} document") and "without a date" in note
    languages = page.evaluate("() => Chart.getChart('chart-language').data.labels")
    facets = server.get("/api/facets")["language"]
    assert set(languages) == {v["value"] for v in facets}
    legend = page.evaluate(
        "() => Chart.getChart('chart-language').legend.legendItems.map(i => i.text)"
    )
    assert set(legend) == {f"{v['value']} ({v['count']})" for v in facets}
    assert page.locator("#top-sources .ts-narr").count() > 0
    # the source lists fill their card down to its foot (they used to stop short, cut off)
    gap = page.eval_on_selector(
        "#top-sources",
        "b => b.parentElement.getBoundingClientRect().bottom - b.getBoundingClientRect().bottom",
    )
    assert 0 <= gap < 20
    # documents without a source come last in every list
    for items in page.eval_on_selector_all(
        "#top-sources ol", "ls => ls.map(l => [...l.children].map(li => li.className))"
    ):
        assert "unnamed" not in items[:-1]
    _screenshot(page, screenshots, "dashboard.png")

    # switch the time buckets and the chart mode: the chart follows, the URL keeps it
    page.click("#by-switch button[data-by=month]")
    page.click("#mode-switch button[data-mode=stacked]")
    page.wait_for_function(
        "() => Chart.getChart('chart-time').data.labels.every(l => /^\\d{4}-\\d{2}$/.test(l))"
    )
    assert "by=month" in page.url and "mode=stacked" in page.url

    # filter by a sub-narrative (listed under its narrative), then back to all
    sub = next(v["value"] for v in server.get("/api/facets")["subnarrative"] if ": " in v["value"])
    page.select_option("#f-narrative", sub)
    page.wait_for_function("() => location.hash.includes('narrative=')")
    _wait_table(page)
    with_sub = server.get(f"/api/documents?narrative={quote(sub)}&limit=25")
    assert 0 < with_sub["total"] < total
    page.wait_for_function(
        "n => document.querySelectorAll('#doc-table tbody tr[data-id]').length === n",
        arg=with_sub["total"],
    )
    assert sorted(_table_ids(page)) == sorted(d["id"] for d in with_sub["items"])
    page.select_option("#f-narrative", "")
    page.wait_for_function("() => !location.hash.includes('narrative=')")

    # a date range: only the documents of that day
    page.fill("#f-date_from", "2024-03-03")
    page.fill("#f-date_to", "2024-03-03")
    page.wait_for_function("() => location.hash.includes('date_to=2024-03-03')")
    _wait_table(page)
    day = server.get("/api/documents?date_from=2024-03-03&date_to=2024-03-03&limit=25")
    page.wait_for_function(
        "n => document.querySelectorAll('#doc-table tbody tr[data-id]').length === n",
        arg=day["total"],
    )
    assert sorted(_table_ids(page)) == sorted(d["id"] for d in day["items"]) == ["comment-3"]
    page.wait_for_selector("#chart-time-undated", state="hidden")  # dated documents only
    page.click("#f-reset")
    page.wait_for_function("() => !location.hash.includes('date_')")

    # filter by language: the table changes to exactly the server's answer
    page.select_option("#f-language", "ru")
    page.wait_for_function("() => location.hash.includes('language=ru')")
    _wait_table(page)
    ru = server.get("/api/documents?language=ru&limit=25")
    assert 0 < ru["total"] < total
    page.wait_for_function(
        "n => document.querySelectorAll('#doc-table tbody tr[data-id]').length === n",
        arg=ru["total"],
    )
    assert sorted(_table_ids(page)) == sorted(d["id"] for d in ru["items"])
    cells = page.eval_on_selector_all(
        "#doc-table tbody tr[data-id] td:nth-child(4)", "e => e.map(x => x.textContent)"
    )
    assert set(cells) == {"ru"}

    # full-text search (debounced) narrows it further, the export link follows the filters
    page.fill("#f-q", "Запад")
    page.wait_for_function("() => location.hash.includes('q=')")
    _wait_table(page)
    hits = server.get(f"/api/documents?language=ru&q={quote('Запад')}&limit=25")
    page.wait_for_function(
        "n => document.querySelectorAll('#doc-table tbody tr[data-id]').length === n",
        arg=hits["total"],
    )
    assert sorted(_table_ids(page)) == sorted(d["id"] for d in hits["items"])
    with page.expect_download() as info:
        page.click("#export-jsonl")
    path = info.value.path()
    lines = [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines()]
    assert sorted(r["id"] for r in lines) == sorted(d["id"] for d in hits["items"])
    assert all(r["language"] == "ru" and "Запад" in r["text"] for r in lines)
    with page.expect_download() as info:
        page.click("#export-csv")
    with Path(info.value.path()).open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert {r["id"] for r in rows} == {d["id"] for d in hits["items"]}
    assert {r["language"] for r in rows} == {"ru"} and "narrative" in {r["level"] for r in rows}

    # drill down, then back: the filters are still there
    first = _table_ids(page)[0]
    page.click("#doc-table tbody tr[data-id] td:nth-child(2) >> nth=0")
    page.wait_for_selector(".doc-text")
    assert page.text_content(".doc-id") == first
    page.go_back()
    _wait_table(page)
    assert page.input_value("#f-language") == "ru"
    assert page.input_value("#f-q") == "Запад"
    assert sorted(_table_ids(page)) == sorted(d["id"] for d in hits["items"])


def test_analyse_pasted_text_highlights_evidence(page: Any) -> None:
    page.goto(f"{page.base}/")
    page.wait_for_selector("#view-analyze:not([hidden])")
    page.fill("#analyze-text", PASTED)
    with page.expect_response("**/api/analyze") as res:
        page.click("#analyze-submit")
    record = res.value.json()
    page.wait_for_selector("#analyze-result mark.ev")
    # the emoji makes code-point offsets (the record) and UTF-16 offsets (the page) differ
    _check_highlights(page, record)
    assert page.locator("#analyze-result .panel li.narr").count() >= 1
    framed = [e for e in record["entities"] if e["main_role"]]
    chips = page.locator("#analyze-result .doc-text .role").count()
    assert 0 < chips <= sum(len(e["mentions"]) for e in framed) if framed else chips == 0


def test_untrusted_text_is_shown_literally_and_never_runs(page: Any, server: _Server) -> None:
    page.goto(f"{page.base}/#/analyze")
    page.fill("#analyze-text", PAYLOAD_TEXT)
    page.fill("#analyze-id", PAYLOAD_ID)
    page.check("#analyze-store")
    page.click("#analyze-submit")
    page.wait_for_selector("#analyze-result .doc-text")
    view = page.eval_on_selector(".doc-text", _READ_TEXT)
    assert view["text"] == PAYLOAD_TEXT
    assert page.text_content("#analyze-result .doc-id") == PAYLOAD_ID

    def assert_inert() -> None:
        assert page.evaluate("() => window.__pwned") is None
        # no element came out of the data (CSP would stop the handlers, not the elements)
        for tag in ("script", "img", "svg", "a[href^=javascript]"):
            assert page.locator(f"body {tag}").count() == 0, tag
        assert page.locator(".doc-text b, .doc-head b, #doc-table td.id b").count() == 0

    assert_inert()
    # stored: the dashboard row and the drilled-down document are just as literal
    page.goto(f"{page.base}/#/dashboard?q=provoked")
    _wait_table(page)
    assert PAYLOAD_ID in _table_ids(page)
    page.click(f'#doc-table tr[data-id="{PAYLOAD_ID}"] a')
    page.wait_for_selector("#doc-result .doc-text")
    assert page.text_content("#doc-result .doc-id") == PAYLOAD_ID
    assert page.eval_on_selector("#doc-result .doc-text", _READ_TEXT)["text"] == PAYLOAD_TEXT
    page.reload()
    page.wait_for_selector("#doc-result .doc-text")
    assert_inert()
    assert page.problems == []  # type: ignore[attr-defined]


def test_upload_job_progress_survives_reload(page: Any, server: _Server) -> None:
    page.goto(f"{page.base}/#/analyze")
    files = [
        {"name": name, "mimeType": "text/plain", "buffer": text.encode("utf-8")}
        for name, text in UPLOAD_FILES
    ]
    files.append(
        {"name": "feed.jsonl", "mimeType": "application/json", "buffer": UPLOAD_JSONL.encode()}
    )
    with page.expect_response("**/api/documents/upload") as res:
        page.set_input_files("#upload-files", files)
    assert res.value.status == 202
    job_id = res.value.json()["job"]["id"]
    card = f'.job[data-job-id="{job_id}"]'
    page.wait_for_selector(card)
    assert job_id in page.evaluate("() => localStorage.getItem('narrascope.jobs')")
    # reload at once (the job is usually still running): the card comes back from localStorage
    page.reload()
    page.wait_for_selector(card)
    page.wait_for_selector(f"{card}.state-done", timeout=60_000)
    job = server.get(f"/api/jobs/{job_id}")
    assert (
        job["state"] == "done" and job["failed"] == 1 and job["done"] == len(UPLOAD_FILES) - 1 + 4
    )
    assert page.eval_on_selector(f"{card} progress", "p => p.value === p.max")
    assert f"{job['done']} analysed" in page.text_content(card)
    corpus = server.get("/api/health")["documents"]
    page.wait_for_function(
        "n => document.getElementById('corpus-count').textContent.startsWith(n + ' ')", arg=corpus
    )
    errors = page.eval_on_selector_all(f"{card} ul.errors li", "e => e.map(x => x.textContent)")
    assert len(errors) == 1 and "empty.txt" in errors[0]
    # after the job: a reload still shows its result, a stored document opens from it
    page.reload()
    page.wait_for_selector(f"{card}.state-done")
    page.click(f"{card} a[href^='#/doc/']")
    page.wait_for_selector("#doc-result .doc-text")
    assert page.text_content("#doc-result .doc-id") in job["document_ids"]
    # dismissed: gone from the page and from localStorage
    page.click(f"{card} button.dismiss")
    assert page.locator(card).count() == 0
    page.reload()
    page.wait_for_selector("#view-doc:not([hidden])")
    assert page.locator(card).count() == 0
    assert job_id not in (page.evaluate("() => localStorage.getItem('narrascope.jobs')") or "")


def test_token_server_page_opened_once_with_its_token(
    browser: Any, nlp: Any, server: _Server, tmp_path: Path
) -> None:
    from narrascope.serve import create_app
    from narrascope.store import open_store

    db = tmp_path / "token.db"
    with open_store(server.db) as source, open_store(db) as store:
        store.save([source.get_document("comment-2"), source.get_document("comment-1")])
    token = "s3cret-token-0123456"
    with _Server(create_app(db, token=token, pipeline=nlp)) as srv:
        context = browser.new_context(viewport=VIEWPORT, accept_downloads=True)
        context.set_default_timeout(TIMEOUT_MS)
        page = context.new_page()
        try:
            # without the token: nothing but the 401 (the page's own files included)
            res = page.goto(f"{srv.url}/#/dashboard")
            assert res.status == 401
            assert page.request.get(f"{srv.url}/static/js/app.js").status == 401
            # opened once with it: the token leaves the address bar, the cookie does the rest
            page.goto(f"{srv.url}/?token={token}#/dashboard")
            _wait_table(page)
            assert token not in page.url and page.url.endswith("#/dashboard")
            assert sorted(_table_ids(page)) == ["comment-1", "comment-2"]
            page.click('#doc-table a[href="#/doc/comment-2"]')
            page.wait_for_selector("#doc-result .doc-text")
            page.reload()
            page.wait_for_selector("#doc-result .doc-text")
            assert page.text_content(".doc-id") == "comment-2"
            page.goto(f"{srv.url}/#/dashboard")
            _wait_table(page)
            with page.expect_download() as info:
                page.click("#export-jsonl")
            lines = Path(info.value.path()).read_text(encoding="utf-8").splitlines()
            ids = [json.loads(line)["id"] for line in lines]
            assert sorted(ids) == ["comment-1", "comment-2"]
        finally:
            context.close()


# A corpus of 10,000 documents (synthetic records, no model run) for the speed of the table.
BIG = 10_000


@pytest.fixture(scope="module")
def big_server(nlp: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[_Server]:
    from narrascope.serve import create_app
    from narrascope.store import open_store

    labels = [
        "URW: Discrediting Ukraine",
        "URW: Praise of Russia",
        "URW: Blaming the war on others rather than the invader",
        "CC: Amplifying Climate Fears",
        "Other",
    ]
    words = ["grain", "sanctions", "energy", "front", "harvest", "summit", "drones", "gas"]
    docs = []
    day0 = date(2024, 1, 1)
    for i in range(BIG):
        text = f"Report {i} about {words[i % len(words)]} and {words[(i * 7) % len(words)]}."
        label = labels[i % len(labels)]
        span = Span.of(text, 0, len(text))
        doc = Document(
            text=text,
            id=f"big-{i:05d}",
            language=["en", "ru", "bg", "pt"][i % 4],
            meta={"source": f"site-{i % 37}", "date": str(day0 + timedelta(days=i % 366))},
            sentences=[span],
        )
        doc.groups["narratives"] = [Annotation(label, 0.3 + (i % 7) / 10, [span], [0.5])]
        docs.append(doc)
    db = tmp_path_factory.mktemp("big") / "big.db"
    with open_store(db) as store:
        store.save(docs)
    with _Server(create_app(db, pipeline=nlp)) as srv:
        yield srv


def test_dashboard_stays_fast_on_ten_thousand_documents(browser: Any, big_server: _Server) -> None:
    context = browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url) if "/api/documents" in r.url else None)
    try:
        start = time.monotonic()
        page.goto(f"{big_server.url}/#/dashboard")
        _wait_table(page)
        page.wait_for_function("() => Chart.getChart('chart-time')?.data.labels.length > 300")
        assert time.monotonic() - start < 10
        assert page.locator("#doc-table tbody tr").count() == 25  # one page, never more
        assert f"of {BIG}" in page.text_content("#page-info")
        page.click("#page-next")
        page.wait_for_function("() => location.hash.includes('offset=25')")
        _wait_table(page)
        second = big_server.get("/api/documents?limit=25&offset=25")["items"]
        assert _table_ids(page) == [d["id"] for d in second]
        assert "26–50 of" in page.text_content("#page-info")
        # typing a word: one search after the pause, not one per key stroke
        requests.clear()
        page.type("#f-q", "harvest", delay=30)
        page.wait_for_function("() => location.hash.includes('q=harvest')")
        _wait_table(page)
        searches = [u for u in requests if "q=" in u and "limit=25" in u]
        assert len(searches) == 1, searches
        expected = big_server.get("/api/documents?q=harvest&limit=1")["total"]
        assert f"of {expected}" in page.text_content("#page-info")
        assert page.locator("#doc-table tbody tr").count() == 25
    finally:
        context.close()


# Issue 23: honest charts, what the page is for, a header count that follows a job, bidi.
# A tiny synthetic corpus (no model run): one narrative, dates with a two-month gap, a label
# at 0.14 among confident ones, three documents without a source, an id with a bidi override.
NARRATIVE = "URW: Praise of Russia"
RTL_ID = "rtl-\u202eabc"
RTL_SHOWN = "rtl-\u27e8U+202E\u27e9abc"
CHART_DOCS = [  # id, date, language, source, score
    ("c-1", "2024-01-01", "en", "alpha", 0.95),
    ("c-2", "2024-01-02", "en", None, 0.14),
    ("c-3", "2024-01-02", "ru", "alpha", 0.9),
    ("c-4", "2024-03-01", "ru", None, 0.8),
    ("c-5", "2024-03-01", "ru", None, 0.85),
    ("c-6", "2024-03-02", "ru", None, 0.7),
    (RTL_ID, "2024-03-01", "en", "beta", 0.6),
]
RTL_TEXT = "Before the override \u202eafter it, then the end."


@pytest.fixture(scope="module")
def chart_server(nlp: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[_Server]:
    from narrascope.serve import create_app
    from narrascope.store import open_store

    docs = []
    for doc_id, day, language, source, score in CHART_DOCS:
        text = RTL_TEXT if doc_id == RTL_ID else f"Report {doc_id} about the front."
        span = Span.of(text, 0, len(text))
        meta = {"date": day} | ({"source": source} if source else {})
        doc = Document(text=text, id=doc_id, language=language, meta=meta, sentences=[span])
        doc.groups["narratives"] = [Annotation(NARRATIVE, score, [span], [0.5])]
        docs.append(doc)
    db = tmp_path_factory.mktemp("charts") / "charts.db"
    with open_store(db) as store:
        store.save(docs)
    with _Server(create_app(db, pipeline=nlp), db) as srv:
        yield srv


# the first time series' total count is n
_COUNTED = (
    "n => Chart.getChart('chart-time')?.data.datasets[0]?.data.reduce((a, p) => a + p.y, 0) === n"
)


def _points(page: Any) -> dict[str, dict[str, float]]:
    """The first series' drawn points by bucket: pixel x and y, and the count."""
    return page.evaluate(
        """() => { const c = Chart.getChart('chart-time'); const meta = c.getDatasetMeta(0);
        return Object.fromEntries(c.data.labels.map((b, i) =>
          [b, {x: meta.data[i].x, y: meta.data[i].y, n: c.data.datasets[0].data[i].y}])); }"""
    )


def test_time_axis_is_proportional_to_dates_and_never_overshoots(
    page: Any, chart_server: _Server
) -> None:
    page.goto(f"{chart_server.url}/#/dashboard")
    _wait_table(page)
    page.wait_for_function("() => Chart.getChart('chart-time')?.data.datasets.length === 1")
    points = _points(page)
    # a point sits at its date: Jan 1 → Jan 2 is one day, Jan 1 → Mar 1 (2024) sixty
    x0 = points["2024-01-01"]["x"]
    day = points["2024-01-02"]["x"] - x0
    assert day > 0
    assert (points["2024-03-01"]["x"] - x0) / day == pytest.approx(60, rel=0.01)
    assert (points["2024-03-02"]["x"] - x0) / day == pytest.approx(61, rel=0.01)
    # the counts; the days next to a counted one are 0, so no line bridges the gap
    assert {b: p["n"] for b, p in points.items() if p["n"]} == {
        "2024-01-01": 1,
        "2024-01-02": 1,
        "2024-03-01": 3,
        "2024-03-02": 1,
    }
    assert points["2024-01-03"]["n"] == 0 and points["2024-02-29"]["n"] == 0
    # straight segments: nothing drawn above the highest count (pixels grow downwards)
    drawn = page.evaluate(
        """() => { const c = Chart.getChart('chart-time'); const y = c.scales.y;
        const most = Math.max(...c.data.datasets.flatMap(d => d.data.map(p => p.y)));
        const top = y.getPixelForValue(most);
        const ys = c.data.datasets.flatMap((d, i) => c.getDatasetMeta(i).data.flatMap(p =>
          [p.y, p.cp1y, p.cp2y].filter(v => v !== undefined)));
        return {top, min: Math.min(...ys), bottom: y.getPixelForValue(0), max: Math.max(...ys),
                tension: c.data.datasets.map(d => d.tension)}; }"""
    )
    assert drawn["tension"] == [0]
    assert drawn["min"] >= drawn["top"] - 0.5 and drawn["max"] <= drawn["bottom"] + 0.5
    # the ticks are dates: days, Mondays, month or year starts, each labelled as a date
    ticks = page.evaluate(
        "() => Chart.getChart('chart-time').scales.x.ticks.map(t => [t.value, t.label])"
    )
    assert len(ticks) >= 3
    for value, label in ticks:
        when = date(1970, 1, 1) + timedelta(milliseconds=value)
        assert when.weekday() == 0 or when.day == 1, (when, label)
        assert re.fullmatch(r"\d{1,2} [A-Z][a-z]{2}( \d{4})?|[A-Z][a-z]{2}( \d{4})?|\d{4}", label)
    assert "2024" in ticks[0][1]
    # by month: January, an empty February, March, at their real distances
    page.click("#by-switch button[data-by=month]")
    page.wait_for_function("() => Chart.getChart('chart-time').data.labels.includes('2024-02')")
    points = _points(page)
    assert [points[m]["n"] for m in ("2024-01", "2024-02", "2024-03")] == [2, 0, 4]
    jan, feb, mar = (points[m]["x"] for m in ("2024-01", "2024-02", "2024-03"))
    assert (feb - jan) / (mar - jan) == pytest.approx(31 / 60, rel=0.01)
    # by ISO week: 2024-01-01 is the Monday of 2024-W01
    page.click("#by-switch button[data-by=week]")
    page.wait_for_function("() => Chart.getChart('chart-time').data.labels.includes('2024-W01')")
    points = _points(page)
    assert points["2024-W01"]["n"] == 2 and points["2024-W09"]["n"] == 4
    # the page's bucket arithmetic agrees with the server's (ISO weeks across new years)
    buckets = ["2020-W53", "2021-W01", "2024-W52", "2025-W01", "2026-W53", "0001-01-01", "0099-12"]
    days = page.evaluate(
        """async bs => { const m = await import('/static/js/dashboard.js');
        return bs.map(b => { const t = m.bucketTime(b); const by = b.includes('W') ? 'week'
          : b.length === 7 ? 'month' : 'day';
          return [new Date(t).toISOString().slice(0, 10), m.bucketName(t, by)]; }); }""",
        buckets,
    )
    assert [name for _, name in days] == buckets
    assert [day for day, _ in days[:5]] == [
        str(date.fromisocalendar(int(b[:4]), int(b[6:]), 1)) for b in buckets[:5]
    ]
    assert (points["2024-W09"]["x"] - points["2024-W01"]["x"]) / (
        points["2024-W02"]["x"] - points["2024-W01"]["x"]
    ) == pytest.approx(8, rel=0.01)


def test_threshold_on_the_chart_decides_what_counts(page: Any, chart_server: _Server) -> None:
    page.goto(f"{chart_server.url}/#/dashboard")
    _wait_table(page)
    page.wait_for_function("() => Chart.getChart('chart-time')?.data.datasets.length === 1")
    # the default is explicit: the 0.14 label of c-2 is not counted, its chip is faint
    assert page.text_content("#threshold-note") == "Counting labels with score ≥ 0.50"
    assert "≥ 0.50" in page.evaluate(
        "() => Chart.getChart('chart-time').options.scales.y.title.text"
    )
    assert _series(page) == {NARRATIVE: 6}
    assert page.locator('#doc-table tr[data-id="c-2"] .chip.low').count() == 1
    assert page.locator('#doc-table tr[data-id="c-1"] .chip.low').count() == 0
    # lowered on the chart: it counts, the note, the axis and the address say so
    page.fill("#threshold", "0.1")
    page.wait_for_function("() => location.hash.includes('threshold=0.1')")
    page.wait_for_function(_COUNTED, arg=7)
    assert page.text_content("#threshold-note") == "Counting labels with score ≥ 0.10"
    assert "≥ 0.10" in page.evaluate(
        "() => Chart.getChart('chart-time').options.scales.y.title.text"
    )
    page.wait_for_selector('#doc-table tr[data-id="c-2"] .chip:not(.low)')
    # raised: the confident ones only; a reload keeps it
    page.fill("#threshold", "0.9")
    page.wait_for_function(_COUNTED, arg=2)
    page.reload()
    page.wait_for_function(_COUNTED, arg=2)
    assert page.input_value("#threshold") == "0.9"
    assert page.text_content("#threshold-note") == "Counting labels with score ≥ 0.90"
    # a Min score filter above it counts from there, and says so; Reset restores 0.5
    page.fill("#threshold", "0.5")
    page.fill("#f-min_score", "0.8")
    page.wait_for_function(_COUNTED, arg=4)
    assert page.text_content("#threshold-note") == (
        "Counting labels with score ≥ 0.80 (the Min score filter)"
    )
    page.fill("#threshold", "0.9")
    page.click("#f-reset")
    page.wait_for_function(_COUNTED, arg=6)
    assert page.text_content("#threshold-note") == "Counting labels with score ≥ 0.50"
    assert "threshold" not in page.url


def test_donut_counts_and_unnamed_sources_last(page: Any, chart_server: _Server) -> None:
    page.goto(f"{chart_server.url}/#/dashboard")
    _wait_table(page)
    page.wait_for_function(
        "() => Chart.getChart('chart-language')?.legend?.legendItems?.length === 2"
    )
    legend = page.evaluate(
        "() => Chart.getChart('chart-language').legend.legendItems.map(i => i.text)"
    )
    assert sorted(legend) == ["en (3)", "ru (4)"]
    assert page.text_content("#chart-language-total") == "7 documents"
    # three documents without a source: more than any named one, listed last all the same
    page.wait_for_selector("#top-sources .ts-narr li")
    items = page.eval_on_selector_all(
        "#top-sources .ts-narr li", "e => e.map(x => x.textContent.replace(/\\s+/g, ' '))"
    )
    assert items == ["alpha (2)", "beta (1)", "(no source) (3)"]
    # the box shows its content whole, wrapped, with no hidden overflow sideways
    box = page.eval_on_selector(
        "#top-sources",
        "e => ({sw: e.scrollWidth, cw: e.clientWidth, ox: getComputedStyle(e).overflowX})",
    )
    assert box["sw"] <= box["cw"]
    # every source list puts the unnamed last: the source filter lists named sources only
    options = page.eval_on_selector_all("#f-source option", "e => e.map(o => o.value)")
    assert options == ["", "alpha", "beta"]


def test_bidi_controls_cannot_reorder_ids(page: Any, chart_server: _Server) -> None:
    page.goto(f"{chart_server.url}/#/dashboard")
    _wait_table(page)
    cell = f'#doc-table tr[data-id="{RTL_ID}"] td.id'
    assert page.text_content(cell) == RTL_SHOWN
    # shown in order: each character right of the one before it
    lefts = page.eval_on_selector(
        f"{cell} bdi",
        """b => { const t = b.firstChild; const out = [];
        for (let i = 0; i < t.data.length; i++) { const r = document.createRange();
          r.setStart(t, i); r.setEnd(t, i + 1); out.push(r.getBoundingClientRect().left); }
        return out; }""",
    )
    assert len(lefts) == len(RTL_SHOWN) and lefts == sorted(lefts) and len(set(lefts)) == len(lefts)
    page.click(f"{cell} a")
    page.wait_for_selector("#doc-result .doc-text")
    assert page.text_content("#doc-result .doc-id") == RTL_SHOWN
    assert RTL_SHOWN in page.title()
    # the document's own text keeps the control, isolated in its box
    assert page.eval_on_selector("#doc-result .doc-text", _READ_TEXT)["text"] == RTL_TEXT
    assert (
        page.eval_on_selector("#doc-result .doc-text", "e => getComputedStyle(e).unicodeBidi")
        == "plaintext"
    )


def test_search_help_explains_the_query_syntax(page: Any, chart_server: _Server) -> None:
    page.goto(f"{chart_server.url}/#/dashboard")
    _wait_table(page)
    assert not page.is_visible("#search-help-text")
    page.click("#search-help summary")
    page.wait_for_selector("#search-help-text", state="visible")
    help_text = page.text_content("#search-help-text")
    for syntax in ("sanction*", "gas OR oil", '"grain corridor"', "-Russia", "Украины"):
        assert syntax in help_text, syntax
    page.click("#search-help summary")
    page.wait_for_selector("#search-help-text", state="hidden")
    # it closes like a menu too: Escape, or a click elsewhere
    page.click("#search-help summary")
    page.keyboard.press("Escape")
    page.wait_for_selector("#search-help-text", state="hidden")
    page.click("#search-help summary")
    page.click("#table-summary")
    page.wait_for_selector("#search-help-text", state="hidden")


def test_home_page_says_what_it_is_for_and_tries_an_example(page: Any, screenshots: Path) -> None:
    page.goto(f"{page.base}/")
    page.wait_for_selector("#view-analyze:not([hidden])")
    intro = page.text_content(".intro")
    for words in (
        "war-related media",
        "narratives",
        "persuasion techniques",
        "evidence",
        "confidence",
    ):
        assert words in intro, words
    with page.expect_response("**/api/analyze") as res:
        page.click("#analyze-example")
    record = res.value.json()
    example = page.input_value("#analyze-text")
    assert len(example) > 200 and record["text"] == example
    page.wait_for_selector("#analyze-result .doc-text")
    assert page.eval_on_selector("#analyze-result .doc-text", _READ_TEXT)["text"] == example
    assert page.locator("#analyze-result .panel li.narr").count() >= 1
    _screenshot(page, screenshots, "analyse-example.png")


class _Gated:
    """The real pipeline, but each background batch waits for the test's go (a job to watch)."""

    def __init__(self, nlp: Any) -> None:
        self.nlp = nlp
        self.go = threading.Semaphore(0)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.nlp, name)

    def __call__(self, doc: Any) -> Any:
        return self.nlp(doc)

    def pipe(self, docs: Any, **kwargs: Any) -> Any:
        assert self.go.acquire(timeout=60), "the test never let the batch go"
        return self.nlp.pipe(docs, **kwargs)


def test_header_count_follows_a_running_job(browser: Any, nlp: Any, tmp_path: Path) -> None:
    from narrascope.serve import create_app

    gated = _Gated(nlp)
    feed = "\n".join(
        json.dumps({"id": f"job-{i}", "text": f"Report {i}: the grain corridor reopened today."})
        for i in range(3)
    )
    with _Server(create_app(tmp_path / "job.db", pipeline=gated, batch_size=1)) as srv:
        context = browser.new_context(viewport=VIEWPORT)
        context.set_default_timeout(TIMEOUT_MS)
        page = context.new_page()
        count = "() => document.getElementById('corpus-count').textContent"
        try:
            page.goto(f"{srv.url}/#/analyze")
            page.wait_for_function(f"() => ({count})() === '0 documents in the corpus'")
            files = [
                {"name": "feed.jsonl", "mimeType": "application/json", "buffer": feed.encode()}
            ]
            with page.expect_response("**/api/documents/upload") as res:
                page.set_input_files("#upload-files", files)
            card = f'.job[data-job-id="{res.value.json()["job"]["id"]}"]'
            page.wait_for_selector(card)
            for n in (1, 2):
                gated.go.release()  # one more document analysed and stored
                page.wait_for_function(f"() => ({count})().startsWith('{n} document')")
                # ... while the job still runs (its next batch waits for the go)
                assert page.locator(f"{card}.state-done").count() == 0
            gated.go.release()
            page.wait_for_selector(f"{card}.state-done")
            page.wait_for_function(f"() => ({count})() === '3 documents in the corpus'")
        finally:
            for _ in range(5):
                gated.go.release()
            context.close()


# Issue: the job card shows the stage in flight, and a job can be cancelled and resumed.


class _HeldAtStage:
    """The real pipeline, but a batch waits at the start of ``stage`` until ``go`` is set
    (after the pipeline has reported the stage), so the page can watch a job mid-run."""

    def __init__(self, nlp: Any, stage: str = "entities") -> None:
        self.nlp = nlp
        self.stage = stage
        self.reached = threading.Event()
        self.go = threading.Event()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.nlp, name)

    def __call__(self, doc: Any, **kwargs: Any) -> Any:
        return self.nlp(doc, **kwargs)

    def pipe(self, docs: Any, *, progress: Any = None, **kwargs: Any) -> Any:
        def held(name: str, done: int, total: int) -> None:
            if progress is not None:
                progress(name, done, total)
            if name == self.stage:
                self.reached.set()
                assert self.go.wait(60), "the test never let the stage go"

        return self.nlp.pipe(docs, progress=held, **kwargs)


def _job_upload(page: Any, feed: str) -> str:
    files = [{"name": "feed.jsonl", "mimeType": "application/json", "buffer": feed.encode()}]
    with page.expect_response("**/api/documents/upload") as res:
        page.set_input_files("#upload-files", files)
    assert res.value.status == 202
    return res.value.json()["job"]["id"]


def _post(url: str) -> Any:
    from urllib.request import Request

    with urlopen(Request(url, method="POST"), timeout=30) as res:
        return json.loads(res.read())


def _feed(prefix: str, n: int) -> str:
    return "".join(
        json.dumps({"id": f"{prefix}-{i}", "text": f"Report {i}: the grain corridor reopened."})
        + "\n"
        for i in range(n)
    )


def test_job_shows_its_stage_is_cancelled_and_resumed(
    browser: Any, nlp: Any, tmp_path: Path
) -> None:
    from narrascope.serve import create_app

    held = _HeldAtStage(nlp)
    with _Server(create_app(tmp_path / "job.db", pipeline=held, batch_size=1)) as srv:
        context = browser.new_context(viewport=VIEWPORT)
        context.set_default_timeout(TIMEOUT_MS)
        page = context.new_page()
        problems: list[str] = []
        page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
        try:
            # a job this server never had (a 404): only that card says the server forgot it
            page.goto(f"{srv.url}/#/analyze")
            page.evaluate(
                "() => localStorage.setItem('narrascope.jobs', JSON.stringify("
                "[{id: 'f0f0f0f0f0f0', label: 'Old job', created: '2026-01-01'}]))"
            )
            page.reload()
            ghost = '.job[data-job-id="f0f0f0f0f0f0"]'
            page.wait_for_selector(f"{ghost}.state-failed")
            assert "no longer knows this job" in page.text_content(ghost)
            assert page.locator(f"{ghost} button.job-resume").count() == 0

            job_id = _job_upload(page, _feed("held", 3))
            card = f'.job[data-job-id="{job_id}"]'
            assert held.reached.wait(60)
            # the first document is held in its entities stage: the card says so
            page.wait_for_function(
                "sel => document.querySelector(sel + ' .job-count').textContent"
                " === 'entities · 0 / 3 documents'",
                arg=card,
            )
            assert page.eval_on_selector(f"{card} progress", "p => p.value > 0 && p.value < 1")
            assert page.locator(f"{card} button.job-resume").count() == 0
            with page.expect_response(f"**/api/jobs/{job_id}/cancel") as res:
                page.click(f"{card} button.job-cancel")
            assert res.value.status == 200
            page.wait_for_selector(f"{card} button.job-cancel:disabled")
            assert "cancelling" in page.text_content(f"{card} .state")
            held.go.set()  # the stage ends; the pipeline stops before the next one
            page.wait_for_selector(f"{card}.state-failed.resumable button.job-resume")
            job = srv.get(f"/api/jobs/{job_id}")
            assert job["state"] == "failed" and job["resumable"] and job["done"] == 0
            assert page.text_content(f"{card} .state") == "cancelled · resumable"
            # the job's own error (why it stopped) is listed, but it is not a failed document
            assert page.text_content(f"{card} .job-count") == "0 / 3 documents · 0 analysed"
            assert "the job was cancelled" in page.text_content(f"{card} ul.errors")
            assert page.locator(f"{card} button.job-cancel").count() == 0
            assert "no longer knows" not in page.text_content(card)
            assert srv.get("/api/health")["documents"] == 0

            with page.expect_response(f"**/api/jobs/{job_id}/resume") as res:
                page.click(f"{card} button.job-resume")
            assert res.value.status == 202
            page.wait_for_selector(f"{card}.state-done")
            links = page.eval_on_selector_all(
                f"{card} a[href^='#/doc/']", "a => a.map(x => x.textContent)"
            )
            assert sorted(links) == ["held-0", "held-1", "held-2"]
            assert page.locator(f"{card} button.job-resume").count() == 0
            assert page.locator(f"{card} ul.errors").count() == 0
            page.wait_for_function(
                "() => document.getElementById('corpus-count').textContent"
                " === '3 documents in the corpus'"
            )
            # the documents are in the dashboard too
            page.goto(f"{srv.url}/#/dashboard")
            _wait_table(page)
            assert sorted(_table_ids(page)) == ["held-0", "held-1", "held-2"]
        finally:
            held.go.set()
            context.close()
        assert problems == []


def test_job_stopped_by_a_restart_is_resumed_from_the_page(
    browser: Any, nlp: Any, tmp_path: Path
) -> None:
    from narrascope.serve import create_app

    db, jobs_dir = tmp_path / "job.db", tmp_path / "jobs"
    held = _HeldAtStage(nlp)
    context = browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    try:
        app = create_app(db, pipeline=held, batch_size=1, jobs_dir=jobs_dir)
        with _Server(app) as srv:
            port = srv.port
            page.goto(f"{srv.url}/#/analyze")
            job_id = _job_upload(page, _feed("restart", 2))
            card = f'.job[data-job-id="{job_id}"]'
            assert held.reached.wait(60)
            page.wait_for_selector(f"{card}.state-running button.job-cancel")
        held.go.set()  # the stopped server's worker may end its stage now
        # the same address, database and jobs folder: the server remembers the job
        app = create_app(db, pipeline=nlp, batch_size=1, jobs_dir=jobs_dir)
        with _Server(app, port=port) as srv:
            page.reload()
            page.wait_for_selector(f"{card}.state-failed.resumable button.job-resume")
            assert page.text_content(f"{card} .state") == "stopped · resumable"
            text = page.text_content(card)
            assert "the server stopped before the job was finished" in text
            assert "no longer knows" not in text
            # another client resumes it first: the page's Resume (409) shows it running on
            page.route(
                f"**/api/jobs/{job_id}/resume",
                lambda route: (_post(f"{srv.url}/api/jobs/{job_id}/resume"), route.continue_()),
            )
            with page.expect_response(f"**/api/jobs/{job_id}/resume") as res:
                page.click(f"{card} button.job-resume")
            assert res.value.status == 409
            page.wait_for_selector(f"{card}.state-done")
            links = page.eval_on_selector_all(
                f"{card} a[href^='#/doc/']", "a => a.map(x => x.textContent)"
            )
            assert sorted(links) == ["restart-0", "restart-1"]
            assert page.locator(f"{card} .job-note").count() == 0
            assert srv.get("/api/health")["documents"] == 2
    finally:
        held.go.set()
        context.close()
    assert problems == []


# --- issue 24: the reader thread under the article -----------------------------------------

THREAD_ID = "thread-doc"
THREAD_ARTICLE = "NATO provoked this war. The harvest was good this year."
# (id, parent, author, depth, body, hate label, incitement): our own texts; the words the
# flags point at are stand-ins, and one body carries markup and a bidi override
THREAD_COMMENTS = [
    ("c1", None, "Anna", 0, "I agree with the article.", "none", False),
    ("c2", "c1", "Boris", 1, "Those <b>rats</b> should be wiped out\u202e now.", "hateful", True),
    ("c3", "c2", "Chris", 2, "Calm down, please.", "none", False),
    ("c4", None, "Dana", 0, "What an idiotic take.", "offensive", False),
    ("c5", None, "Emil", 0, "Thanks for the report.", "none", False),
    ("c6", "c3", "Fay", 9, "Deep in the thread.", "none", False),
]
_FLAG_WORDS = {"hateful": "rats", "offensive": "idiotic"}


def _thread_document() -> Document:
    from narrascope.ingest.threads import Comment, Thread

    text = THREAD_ARTICLE
    sentence = Span.of(text, 0, 23)
    spans = []
    for cid, parent, author, depth, body, _, _ in THREAD_COMMENTS:
        text += f"\n\n{author} says\n"
        spans.append(Comment(cid, parent, author, len(text), len(text) + len(body), depth, "May 2"))
        text += body
    doc = Document(text=text, id=THREAD_ID, language="en", meta={"date": "2024-05-02"})
    doc.sentences = [sentence]
    doc.groups["narratives"] = [Annotation(NARRATIVE, 0.9, [sentence], [0.9])]
    doc.set_thread(Thread((0, len(THREAD_ARTICLE)), spans, "text"))
    for comment, (*_, body, hate, incitement) in zip(doc.comments, THREAD_COMMENTS, strict=True):
        comment.language = "en"
        word = _FLAG_WORDS.get(hate)
        at = comment.start + body.index(word) if word else comment.start
        evidence = {
            "start": at,
            "end": at + len(word or "x"),
            "text": text[at : at + len(word or "x")],
        }
        comment.annotations["hate"] = {
            "label": hate,
            "score": {"hateful": 0.91, "offensive": 0.66}.get(hate, 0.04),
            "target": "ethnicity" if hate == "hateful" else None,
            "evidence": evidence,
        }
        at = comment.start + body.index("wiped out") if incitement else comment.start
        comment.annotations["incitement"] = {
            "label": incitement,
            "score": 0.84 if incitement else 0.02,
            "evidence": {"start": at, "end": at + 9, "text": text[at : at + 9]},
        }
    return doc


@pytest.fixture(scope="module")
def thread_server(nlp: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[_Server]:
    from narrascope.serve import create_app
    from narrascope.store import open_store

    db = tmp_path_factory.mktemp("thread") / "thread.db"
    with open_store(db) as store:
        store.save([_thread_document()])
    with _Server(create_app(db, pipeline=nlp), db) as srv:
        yield srv


_COMMENTS = """els => els.map(li => ({id: li.dataset.id, depth: li.dataset.depth,
  cls: li.className, author: li.querySelector('.c-author').textContent,
  text: li.querySelector('.c-text').textContent,
  badges: [...li.querySelectorAll('.flag')].map(b => b.textContent),
  marks: [...li.querySelectorAll('mark.flag-ev')].map(m => m.textContent),
  shown: li.offsetParent !== null, opacity: getComputedStyle(li).opacity,
  left: li.getBoundingClientRect().left}))"""


def test_document_view_shows_the_thread_with_flags(page: Any, thread_server: _Server) -> None:
    record = thread_server.get(f"/api/documents/{THREAD_ID}")
    assert [c["id"] for c in record["comments"]] == [c[0] for c in THREAD_COMMENTS]
    page.goto(f"{thread_server.url}/#/doc/{THREAD_ID}")
    page.wait_for_selector("#doc-result .thread li.comment")
    # the article alone in the text box, its evidence highlighted
    assert page.eval_on_selector("#doc-result .doc-text", _READ_TEXT)["text"] == THREAD_ARTICLE
    assert page.locator("#doc-result .doc-text mark.ev").count() == 1
    assert page.text_content("#doc-result .thread h3") == "Comments (6)"
    summary = "6 comments · 1 hateful · 1 offensive · 1 incitement"
    assert page.text_content("#doc-result .thread-summary") == summary
    rows = page.eval_on_selector_all("#doc-result li.comment", _COMMENTS)
    assert [(r["id"], r["author"], r["depth"]) for r in rows] == [
        (cid, author, str(min(depth, 6))) for cid, _, author, depth, *_ in THREAD_COMMENTS
    ]
    assert [r["text"] for r in rows] == [c[4] for c in THREAD_COMMENTS]  # literal text
    left = {r["id"]: r["left"] for r in rows}
    assert left["c1"] == left["c4"] == left["c5"] < left["c2"] < left["c3"] < left["c6"]
    assert left["c6"] - left["c3"] == pytest.approx((left["c3"] - left["c1"]) * 2, abs=1)
    by_id = {r["id"]: r for r in rows}
    assert by_id["c2"]["badges"] == ["hateful 0.91 · target: ethnicity", "incitement 0.84"]
    assert by_id["c2"]["marks"] == ["rats", "wiped out"]
    assert by_id["c4"]["badges"] == ["offensive 0.66"] and by_id["c4"]["marks"] == ["idiotic"]
    assert all(not by_id[i]["badges"] for i in ("c1", "c3", "c5", "c6"))
    assert page.locator("#doc-result .c-text b").count() == 0  # markup stays text
    assert (
        page.eval_on_selector(
            "#doc-result li.comment .c-text", "e => getComputedStyle(e).unicodeBidi"
        )
        == "plaintext"
    )
    # no heading or summary reprints a comment's words
    headings = page.eval_on_selector_all(
        "h1, h2, h3, .thread-summary, .doc-head", "e => e.map(x => x.textContent)"
    )
    for shown in headings:
        assert not any(w in shown for w in ("rats", "wiped", "idiotic", "agree", "Calm")), shown
    # show flagged only: the flagged comments and, dimmed, the ancestors of flagged replies
    page.check("#doc-result input.flagged-only")
    rows = {r["id"]: r for r in page.eval_on_selector_all("#doc-result li.comment", _COMMENTS)}
    assert {i for i, r in rows.items() if r["shown"]} == {"c1", "c2", "c4"}
    assert float(rows["c1"]["opacity"]) < 1 and float(rows["c2"]["opacity"]) == 1
    page.uncheck("#doc-result input.flagged-only")
    rows = page.eval_on_selector_all("#doc-result li.comment", _COMMENTS)
    assert all(r["shown"] and float(r["opacity"]) == 1 for r in rows)


def test_analysed_comment_dump_is_shown_as_a_thread(page: Any) -> None:
    text = (
        "Title\n\nBody sentence about the grain deal.\n\n2 thoughts on \u201cTitle\u201d\n\n"
        "1. Anna says\nMarch 3, 2022 at 5:14 pm\nFirst comment text.\nReply\n"
        "2. Boris says\nMarch 3, 2022 at 6:01 pm\nSecond comment.\nReply\n"
    )
    page.goto(f"{page.base}/#/analyze")
    page.fill("#analyze-text", text)
    with page.expect_response("**/api/analyze") as res:
        page.click("#analyze-submit")
    record = res.value.json()
    if "comments" not in record:
        pytest.skip("the analyse API does not split threads from pasted text")
    page.wait_for_selector("#analyze-result .thread li.comment")
    start, end = record["article"]["start"], record["article"]["end"]
    shown = page.eval_on_selector("#analyze-result .doc-text", _READ_TEXT)["text"]
    assert shown == text[start:end] and "Anna" not in shown
    rows = page.eval_on_selector_all("#analyze-result li.comment", _COMMENTS)
    assert [(r["author"], r["depth"]) for r in rows] == [
        (c["author"], str(min(c["depth"], 6))) for c in record["comments"]
    ]
    assert [r["text"] for r in rows] == [text[c["start"] : c["end"]] for c in record["comments"]]
    assert page.text_content("#analyze-result .thread h3") == f"Comments ({len(rows)})"


def test_document_without_thread_has_no_thread_section(page: Any, thread_server: _Server) -> None:
    page.goto(f"{thread_server.url}/#/analyze")
    page.fill("#analyze-text", PASTED)
    with page.expect_response("**/api/analyze") as res:
        page.click("#analyze-submit")
    assert "comments" not in res.value.json()
    page.wait_for_selector("#analyze-result .doc-text")
    assert page.eval_on_selector("#analyze-result .doc-text", _READ_TEXT)["text"] == PASTED
    assert page.locator("#analyze-result .thread, #analyze-result .flag").count() == 0


def test_html_report_thread_is_indented_and_filters(browser: Any, tmp_path: Path) -> None:
    """The self-contained report's thread in a real browser: indentation by depth and the
    "show flagged only" filter (its script runs under the report's nonce policy)."""
    import io

    from narrascope.export import report

    doc = _thread_document()
    fh = io.StringIO()
    report.write([doc.to_dict()], fh)
    path = tmp_path / "report.html"
    path.write_text(fh.getvalue(), encoding="utf-8")
    context = browser.new_context(viewport=VIEWPORT)
    pg = context.new_page()
    problems: list[str] = []
    pg.on("pageerror", lambda e: problems.append(str(e)))
    pg.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    try:
        pg.goto(path.as_uri())
        pg.click("#expand-all")
        assert pg.text_content(".thread-summary") == (
            "6 comments · 1 hateful · 1 offensive · 1 incitement"
        )
        rows = {r["id"]: r for r in pg.eval_on_selector_all("li.comment", _COMMENTS)}
        assert list(rows) == [c[0] for c in THREAD_COMMENTS]
        left = {i: r["left"] for i, r in rows.items()}
        assert left["c1"] == left["c4"] < left["c2"] < left["c3"] < left["c6"]
        assert pg.locator(".c-text b, .c-text script").count() == 0
        pg.check("input.flagged-only")
        rows = {r["id"]: r for r in pg.eval_on_selector_all("li.comment", _COMMENTS)}
        assert {i for i, r in rows.items() if r["shown"]} == {"c1", "c2", "c4"}
        assert float(rows["c1"]["opacity"]) < 1
        assert problems == []
    finally:
        context.close()


# --- review of the page against the API: uploads, the article's flags, long strings, job
# errors. A server of its own with the fake pipeline of the API tests (no models).


@pytest.fixture
def quick(browser: Any, tmp_path: Path) -> Iterator[tuple[Any, _Server]]:
    """A fresh page and a server of its own (fake pipeline, empty corpus); fails the test on
    any page error, dialog or console error but the ones a test expects (`page.expected`)."""
    from narrascope.serve import create_app
    from test_serve_api import fake_pipeline

    db = tmp_path / "quick.db"
    with _Server(create_app(db, pipeline=fake_pipeline()), db) as srv:
        context = browser.new_context(viewport=VIEWPORT)
        context.set_default_timeout(TIMEOUT_MS)
        pg, problems = watched_page(context, srv.url)
        try:
            yield pg, srv
        finally:
            context.close()
    assert [p for p in problems if not any(e in p for e in pg.expected)] == []


def test_one_plain_file_is_uploaded_decoded_and_stored_under_its_own_name(
    quick: tuple[Any, _Server],
) -> None:
    """Review items 1 and 2: a single .txt/.md went to /api/analyze, decoded as UTF-8 in the
    page (cp1251 became mojibake), stored only with "store" ticked, and under the previous
    file's name (the Id field kept it), replacing that document."""
    page, srv = quick
    analysed: list[str] = []
    page.on("request", lambda r: analysed.append(r.url) if "/api/analyze" in r.url else None)
    page.goto(f"{page.base}/#/analyze")
    page.wait_for_selector("#view-analyze:not([hidden])")
    assert not page.is_checked("#analyze-store")  # as it starts: "store" is not ticked
    files = [
        ("ru-cp1251.txt", "Запад развязал эту войну, а НАТО провоцирует Россию.", "cp1251"),
        ("second.md", "Second file: the ferry to the island runs again on Friday.", "utf-16"),
    ]
    for name, text, encoding in files:
        buffer = text.encode(encoding)
        with page.expect_response("**/api/documents/upload") as res:
            page.set_input_files(
                "#upload-files", [{"name": name, "mimeType": "text/plain", "buffer": buffer}]
            )
        assert res.value.status == 202
        job_id = res.value.json()["job"]["id"]
        page.wait_for_selector(f'.job[data-job-id="{job_id}"].state-done', timeout=60_000)
        assert srv.get(f"/api/jobs/{job_id}")["document_ids"] == [name]
        assert page.input_value("#analyze-id") == ""  # no file name left for the next one
    for name, text, _ in files:
        assert srv.get(f"/api/documents/{quote(name)}")["text"].strip() == text
    assert srv.get("/api/health")["documents"] == 2  # the first was not replaced
    assert analysed == []


FLAGGED_ID = "flagged-post"
# our own text: emoji before the flagged sentences, so code points and UTF-16 units differ
FLAGGED_TEXT = (
    "🇺🇦 😀 Morning report from the border town.\n"
    "🔥 Those people are vermin and must be driven out of the town. "
    "The market reopened on Monday."
)


def _flagged_document() -> Document:
    text = FLAGGED_TEXT
    insult = "Those people are vermin"
    call = "must be driven out of the town"
    at, to = text.index(insult), text.index(call)
    doc = Document(text=text, id=FLAGGED_ID, language="en", meta={"source": "tg-test"})
    doc.hate = {
        "label": "hateful",
        "score": 0.88,
        "target": "origin",
        "evidence": {"start": at, "end": at + len(insult), "text": insult},
    }
    doc.incitement = {
        "label": True,
        "score": 0.77,
        "evidence": {"start": to, "end": to + len(call), "text": call},
    }
    return doc


def _thread_with_flagged_article() -> Document:
    doc = _thread_document()
    doc.id = "thread-flagged"
    insult = "NATO provoked this war."
    doc.hate = {
        "label": "offensive",
        "score": 0.61,
        "target": None,
        "evidence": {"start": 0, "end": len(insult), "text": insult},
    }
    return doc


def test_article_flags_are_shown_and_their_evidence_marked_thread_or_not(
    quick: tuple[Any, _Server],
) -> None:
    """Review item 3: the article's hate/incitement badges were shown only when the record
    had a reader thread, and the article's own evidence was never marked."""
    from narrascope.store import open_store

    page, srv = quick
    assert srv.db is not None
    with open_store(srv.db) as store:
        store.save([_flagged_document(), _thread_with_flagged_article()])
    page.goto(f"{page.base}/#/doc/{FLAGGED_ID}")
    page.wait_for_selector("#doc-result .doc-text")
    badges = page.eval_on_selector_all(
        "#doc-result .doc-head .flag", "e => e.map(x => [x.className, x.textContent])"
    )
    assert badges == [
        ["flag hateful", "hateful 0.88 · target: origin"],
        ["flag incitement", "incitement 0.77"],
    ]
    shown = page.eval_on_selector("#doc-result .doc-text", _READ_TEXT)
    assert shown["text"] == FLAGGED_TEXT  # whole and literal
    marks = [(s, e, cls) for s, e, cls in shown["marks"] if "flag-ev" in cls.split()]
    record = srv.get(f"/api/documents/{FLAGGED_ID}")
    assert marks == [
        (
            _utf16(FLAGGED_TEXT, record[key]["evidence"]["start"]),
            _utf16(FLAGGED_TEXT, record[key]["evidence"]["end"]),
            cls,
        )
        for key, cls in (("hate", "flag-ev hateful"), ("incitement", "flag-ev incitement"))
    ]
    texts = page.eval_on_selector_all(
        "#doc-result .doc-text mark.flag-ev", "e => e.map(x => x.textContent)"
    )
    assert texts == ["Those people are vermin", "must be driven out of the town"]
    # with a thread: the article's badge and mark too, the comments' as before
    page.goto(f"{page.base}/#/doc/thread-flagged")
    page.wait_for_selector("#doc-result .thread li.comment")
    assert page.eval_on_selector_all(
        "#doc-result .doc-head .flag", "e => e.map(x => x.textContent)"
    ) == ["offensive 0.61"]
    assert page.eval_on_selector_all(
        "#doc-result .doc-text mark.flag-ev", "e => e.map(x => x.textContent)"
    ) == ["NATO provoked this war."]
    assert page.locator("#doc-result .doc-text mark.ev").count() == 1  # the narrative's
    assert page.locator("#doc-result li.comment mark.flag-ev").count() == 3


def test_long_strings_are_cut_by_characters_not_utf16_units(quick: tuple[Any, _Server]) -> None:
    """Review item 5: cutting by UTF-16 units split an emoji at the cut into a lone
    surrogate (shown as �)."""
    from narrascope.store import open_store

    page, srv = quick
    assert srv.db is not None
    # a technique span with an emoji where the technique table cuts it
    span = "y" * 77 + "🔥 the rest of the loaded words"
    text = f"Intro. {span} End."
    doc = Document(text=text, id="long-technique", language="en")
    doc.techniques = [
        Technique("Loaded_Language", Span.of(text, 7, 7 + len(span)), 0.9, 1, "justification")
    ]
    with open_store(srv.db) as store:
        store.save([doc])
    page.goto(f"{page.base}/#/doc/long-technique")
    cell = page.locator("#doc-result .techniques tbody td").last
    cell.wait_for()
    assert cell.evaluate("td => td.textContent.isWellFormed()")
    assert cell.text_content() == "y" * 77 + "🔥 …"
    out = page.evaluate(
        """async () => {
          const { cut } = await import('/static/js/docview.js');
          const long = 'x'.repeat(138) + '😀 and more';
          return [cut(long, 140), cut('Telegram 🐻🐻🐻🐻🐻🐻🐻🐻 channel', 24), cut('short', 24),
                  cut('x'.repeat(22) + '🐻🐻', 24), cut('x'.repeat(23) + '🐻🐻', 24)]
            .map((s) => [s, s.isWellFormed(), [...s].length]);
        }"""
    )
    assert all(
        well and n <= most for (_, well, n), most in zip(out, [140, 24, 24, 24, 24], strict=True)
    )
    assert out[0][0] == "x" * 138 + "😀…"
    assert out[1][0] == "Telegram 🐻🐻🐻🐻🐻🐻🐻🐻 chann…"
    assert out[2][0] == "short" and out[3][0] == "x" * 22 + "🐻🐻"  # 24 characters: kept
    assert out[4][0] == "x" * 23 + "…"


def test_job_card_says_when_the_server_refuses_or_fails(quick: tuple[Any, _Server]) -> None:
    """Review item 7: on any answer but a 404 the card polled on every 2.4 s, silently,
    still "running". Now a 401/403 is said and the polling stops; a 5xx is said and asked
    again (less often), and the card follows the job once it answers; a network failure
    alone is retried without a word."""
    page, _ = quick
    page.expected.extend(  # type: ignore[attr-defined]
        ["status of 401", "status of 500", "net::ERR_FAILED"]
    )
    calls = {"denied": 0, "broken": 0, "offline": 0}
    answers = {
        "denied": (401, {"detail": "missing or wrong token"}),
        "broken": (500, {"detail": "the database is broken"}),
    }

    def answer(name: str) -> Any:
        def handle(route: Any) -> None:
            calls[name] += 1
            if name == "offline":
                route.abort()
                return
            status, body = answers[name]
            route.fulfill(status=status, content_type="application/json", body=json.dumps(body))

        return handle

    for name in calls:
        page.route(f"**/api/jobs/job-{name}", answer(name))
    page.goto(f"{page.base}/#/analyze")
    page.evaluate(
        "() => localStorage.setItem('narrascope.jobs', JSON.stringify(['denied', 'broken', "
        "'offline'].map(n => ({id: `job-${n}`, label: n, created: '2026-01-01'}))))"
    )
    page.reload()
    card = '.job[data-job-id="job-{}"]'
    page.wait_for_selector(f"{card.format('denied')} .job-note")
    page.wait_for_selector(f"{card.format('broken')} .job-note")
    denied = page.text_content(f"{card.format('denied')} .job-note")
    assert "missing or wrong token" in denied and "401" in denied
    assert "the database is broken" in page.text_content(f"{card.format('broken')} .job-note")
    page.wait_for_timeout(4_000)  # the offline card fails again meanwhile
    assert calls["denied"] == 1  # stopped
    assert calls["offline"] >= 2  # retried, without a word
    assert page.locator(f"{card.format('offline')} .job-note").count() == 0
    # the server answers again: the card follows the job and the note goes
    answers["broken"] = (
        200,
        {"id": "job-broken", "state": "done", "total": 1, "done": 1, "failed": 0, "errors": []},
    )
    page.wait_for_selector(f"{card.format('broken')}.state-done", timeout=30_000)
    assert page.locator(f"{card.format('broken')} .job-note").count() == 0
    assert calls["broken"] >= 2
