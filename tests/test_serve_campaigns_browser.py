"""The Campaigns and Discover views in a real headless browser (issue 26, item 5).

Debian's chromium driven by Playwright against the real server (uvicorn in a thread) over
a temporary SQLite corpus whose campaigns were found by the real clustering and stored
(texts written for the tests, see test_serve_campaigns.py). Skipped, with the reason,
when chromium or Playwright is missing, as the other browser tests are.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = os.environ.get("NARRASCOPE_CHROMIUM", "/usr/bin/chromium")
if not Path(CHROMIUM).is_file():
    pytest.skip(
        f"no chromium at {CHROMIUM} (run .ci/setup-browser.sh as root)", allow_module_level=True
    )
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
pytest.importorskip("uvicorn", reason="uvicorn is not installed")

from live_server import LiveServer, watched_page  # noqa: E402
from narrascope.store import open_store  # noqa: E402
from test_serve_api import fake_pipeline  # noqa: E402
from test_serve_campaigns import (  # noqa: E402
    FERRY,
    _doc,
    corpus_docs,
    store_campaigns,
    store_discovered,
    text,
)

VIEWPORT = {"width": 1280, "height": 900}
HOSTILE_SOURCE = '<img src=x onerror="window.__pwned=1">'
HOSTILE_ID = "xss-<svg onload=window.__pwned=2>"
# Our own text: a third, smaller cluster whose source and id are markup.
HOSTILE_TEXT = (
    "<script>window.__pwned = 3</script> The mayor of Westfield opened a new tram line "
    "on Saturday, and the first trams carried hundreds of passengers to the river park. "
    "Tickets are free until the end of the month, the city transport company said."
)
TIMEOUT_MS = 20_000


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    from narrascope.serve import create_app

    db = tmp_path_factory.mktemp("campaigns") / "corpus.db"
    docs = corpus_docs()
    docs += [
        _doc(HOSTILE_ID, HOSTILE_TEXT, HOSTILE_SOURCE, "2025-03-20"),
        _doc("tram-copy", HOSTILE_TEXT + " Share!", "\u202eevil-source", "2025-03-21"),
    ]
    with open_store(db) as store:
        store.save(docs)
    store_campaigns(db)
    with LiveServer(create_app(db, pipeline=fake_pipeline()), db) as srv:
        yield srv


@pytest.fixture
def page(server: LiveServer) -> Iterator[Any]:
    """A fresh page; fails the test on any page error, CSP violation or dialog."""
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        context = browser.new_context(viewport=VIEWPORT)
        context.set_default_timeout(TIMEOUT_MS)
        pg, problems = watched_page(context, server.url)  # expected: e.g. a test's 409
        yield pg
        browser.close()
        assert [p for p in problems if not any(e in p for e in pg.expected)] == []


def _rows(page: Any) -> list[str]:
    return page.eval_on_selector_all(
        "#campaign-table tbody tr[data-id]", "rows => rows.map(r => r.dataset.id)"
    )


def test_campaigns_view_shows_clusters_and_a_timeline_per_source(
    page: Any, server: LiveServer
) -> None:
    listed = server.get("/api/campaigns")["items"]
    ferry, stadium, tram = listed  # by size: 4 documents, then 3, then 2
    page.goto(f"{page.base}/#/campaigns")
    page.wait_for_selector("#campaign-table[aria-busy=false] tbody tr[data-id]")
    assert _rows(page) == [ferry["id"], stadium["id"], tram["id"]]
    assert page.locator("header nav a.active").inner_text() == "Campaigns"
    first = page.locator("#campaign-table tbody tr").first
    assert "4 documents" in first.inner_text() and "engines" in first.inner_text()
    assert "Latest run" in page.inner_text("#campaign-run")

    # by coordination: three channels within nine minutes come first
    page.click("#campaign-order button[data-order=coordination]")
    page.wait_for_function(
        f"() => document.querySelector('#campaign-table tbody tr[data-id]')?.dataset.id === "
        f"'{stadium['id']}'"
    )
    assert "order=coordination" in page.url

    # a click opens the cluster: a timeline with one row per source and a dot per post
    page.click(f"#campaign-table tbody tr[data-id='{ferry['id']}'] td.passage")
    page.wait_for_selector("#campaign-panel[aria-busy=false] svg.timeline")
    sources = page.eval_on_selector_all(
        "#campaign-panel svg.timeline text.tl-source", "els => els.map(e => e.dataset.source)"
    )
    assert sources == ["eastport-news", "island-daily", "channel-9", "unknown"]
    dots = page.eval_on_selector_all(
        "#campaign-panel svg.timeline circle.tl-dot",
        "els => els.map(e => [e.dataset.id, +e.getAttribute('cx'), +e.getAttribute('cy')])",
    )
    assert [d[0] for d in dots] == ["ferry-orig", "ferry-edit", "ferry-cut", "ferry-nodate"]
    x = {d[0]: d[1] for d in dots}
    y = {d[0]: d[2] for d in dots}
    # a dot per post at its date: 08:00 and 12:00 on the 3rd, then the 5th; undated at the end
    assert x["ferry-orig"] < x["ferry-edit"] < x["ferry-cut"] < x["ferry-nodate"]
    gap = (x["ferry-edit"] - x["ferry-orig"]) / (x["ferry-cut"] - x["ferry-orig"])
    assert gap == pytest.approx(4 / 40, abs=0.02)  # 4 h of the 40 h between first and last
    assert len(set(y.values())) == 4  # one row per source
    assert "undated" in page.text_content("#campaign-panel svg.timeline")
    members = page.eval_on_selector_all(
        "#campaign-panel .member-table tbody tr", "rows => rows.map(r => r.dataset.id)"
    )
    assert members == ["ferry-orig", "ferry-edit", "ferry-cut", "ferry-nodate"]
    assert f"id={ferry['id']}" in page.url

    # a dot links to its document's view
    page.click("#campaign-panel svg.timeline a:has(circle[data-id='ferry-cut'])")
    page.wait_for_selector("#view-doc:not([hidden]) .doc-text")
    assert "ferry-cut" in page.url
    page.go_back()
    page.wait_for_selector("#campaign-panel[aria-busy=false] svg.timeline")

    # sources and ids that are markup are shown as text and never run
    page.click(f"#campaign-table tbody tr[data-id='{tram['id']}'] td.passage")
    page.wait_for_function(
        f"() => document.querySelector('#campaign-panel h2')?.textContent.includes('{tram['id']}')"
    )
    panel = page.inner_text("#campaign-panel")
    assert HOSTILE_SOURCE in panel and HOSTILE_ID in panel and "</script>" in panel
    assert "⟨U+202E⟩evil-source" in panel  # a bidi override is shown, not obeyed
    assert page.locator("#campaign-panel img, #campaign-panel script").count() == 0
    assert page.evaluate("() => window.__pwned") is None


def test_discover_view_lists_a_cluster_and_promotes_it(page: Any, server: LiveServer) -> None:
    pytest.importorskip("narrascope.models.custom_narratives")
    assert server.db is not None
    cluster_id = store_discovered(server.db)
    page.goto(f"{page.base}/#/discover")
    card = page.locator(f"article.discovered[data-id='{cluster_id}']")
    card.wait_for()
    assert "wells" in card.locator(".terms").inner_text()
    assert card.locator("svg.sparkline rect.spark-bar").count() == 12
    assert card.locator("ol.exemplars a").first.get_attribute("href") == "#/doc/wells-00"
    assert not card.locator("form.promote").is_visible()  # asked for with its button
    card.locator("button.promote-open").click()
    assert card.locator("form.promote").is_visible()
    assert not card.locator("label.replace").is_visible()
    card.locator("input[name=label]").fill("Poisoned wells")
    card.locator("form.promote button[type=submit]").click()
    card.locator(".promote-result.done").wait_for(timeout=60_000)
    assert "Custom: Poisoned wells" in card.locator(".promote-result").inner_text()
    assert "Poisoned wells" in card.locator(".promoted").inner_text()
    # the same label again: the conflict is said, and "replace" is offered
    page.expected.append("the server responded with a status of 409")
    card.locator("form.promote button[type=submit]").click()
    card.locator(".promote-result.error").wait_for()
    assert "exists already" in card.locator(".promote-result").inner_text()
    assert card.locator("label.replace").is_visible()


def test_timeline_places_dates_as_the_server_read_them(
    page: Any, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Review item 4: members dated "05.03.2024" sat under "undated" (the page read only
    ISO dates); now they are placed by the API's `timestamp`, 48 h from first to last. A
    source name is cut by characters (item 5): no emoji split in two."""
    from narrascope.serve import create_app

    db = tmp_path_factory.mktemp("dated") / "corpus.db"
    ferry = text(FERRY)
    bear = "x" * 22 + "🐻🐻 channel"  # cut at 24 characters: the emoji is the 23rd
    with open_store(db) as store:
        store.save(
            [
                _doc("dmy-1", ferry, "portal-1", "05.03.2024"),
                _doc("dmy-2", ferry + " Share!", bear, "06.03.2024"),
                _doc("dmy-3", ferry + " Read more.", "portal-3", "2024-03-07"),
            ]
        )
    store_campaigns(db)
    with LiveServer(create_app(db, pipeline=fake_pipeline()), db) as srv:
        (only,) = srv.get("/api/campaigns")["items"]
        page.goto(f"{srv.url}/#/campaigns?id={only['id']}")
        page.wait_for_selector("#campaign-panel[aria-busy=false] svg.timeline")
        dots = page.eval_on_selector_all(
            "#campaign-panel svg.timeline circle.tl-dot",
            "els => els.map(e => [e.dataset.id, +e.getAttribute('cx')])",
        )
        chart = page.text_content("#campaign-panel svg.timeline")
        label = page.eval_on_selector(
            f"#campaign-panel svg.timeline text.tl-source[data-source='{bear}']",
            "t => [t.firstChild.textContent, t.firstChild.textContent.isWellFormed()]",
        )
        members = page.inner_text("#campaign-panel .member-table")
    x = dict(dots)
    assert [d[0] for d in dots] == ["dmy-1", "dmy-2", "dmy-3"]
    assert x["dmy-1"] < x["dmy-2"] < x["dmy-3"]
    assert (x["dmy-2"] - x["dmy-1"]) == pytest.approx(x["dmy-3"] - x["dmy-2"], abs=1)
    assert "undated" not in chart
    assert label == ["x" * 22 + "🐻…", True]
    assert "05.03.2024" in members  # the table shows the date as given


def test_discover_cards_use_the_runs_unit(
    page: Any, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Review item 6: a run over whole documents (`--unit document`) called its units
    "passages" on the cards ("12 documents, 12 passages")."""
    pytest.importorskip("narrascope.corpus.discover")
    from narrascope.serve import create_app

    db = tmp_path_factory.mktemp("unit") / "corpus.db"
    cluster_id = store_discovered(db, unit="document")
    with LiveServer(create_app(db, pipeline=fake_pipeline()), db) as srv:
        page.goto(f"{srv.url}/#/discover")
        card = page.locator(f"article.discovered[data-id='{cluster_id}']")
        card.wait_for()
        facts = card.locator(".facts").inner_text()
        note = page.inner_text("#discover-run")
    assert facts.startswith("12 documents · ") and "passage" not in facts
    assert "among 12 documents" in note
