"""The workspace API's campaigns and discover endpoints (issue 26, item 5).

Campaigns are found by the real clustering (``find_campaigns``) in a temporary SQLite
corpus of texts written for these tests and stored through ``narrascope.store.campaigns``;
discovered clusters are stored through ``narrascope.store.discover`` as ``narrascope
discover`` stores them (no encoder: the API reads records, it does not cluster), and the
promotion to a custom narrative runs the real ``taxonomy add`` code with the USE encoder.
"""

from __future__ import annotations

import importlib.util
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from narrascope.corpus import find_campaigns
from narrascope.doc import Annotation, Document
from narrascope.serve import create_app
from narrascope.store import open_store
from narrascope.store.campaigns import has_campaigns, save_campaigns
from pgtest import postgres_schema_url
from test_serve_api import fake_pipeline

# A made-up story about a ferry, written for these tests, in three paragraphs.
FERRY = [
    "The ferry between Eastport and the island of Salm will stop running on Friday, the "
    "harbour office announced, because both of its engines failed an inspection.",
    "Passengers were told to use the morning bus and the small water taxi, which carries "
    "twelve people at a time and costs three times as much as the ferry ticket.",
    "Shop owners on the island fear that deliveries of bread, milk and medicine will be "
    "late for weeks while the engines are repaired in a shipyard on the mainland.",
]
# A second story, posted by three channels within minutes.
STADIUM = [
    "Fans of the Eastport football club collected money for a new roof over the north "
    "stand after the old one was torn off by last winter's storm.",
    "The club's chairman promised that the work will be finished before the first home "
    "game of the season and thanked every family that gave something.",
    "Builders started on Monday, and the local council said it would pay for the lights.",
]
DISTINCT = [
    "A new library opened in the old post office building, with a reading room for children.",
    "The weather service expects heavy rain in the hills on Sunday and warns drivers.",
]
# Paragraphs of an invented rumour (village wells poisoned by a paint factory): a
# discovered cluster's member texts, 12 distinct ones.
WELLS = [
    "Villagers near the paint factory say their well water turned blue overnight.",
    "A farmer claims the paint factory dumps solvents into the river at night.",
    "Posts shared in the valley say the wells are poisoned and children are sick.",
    "The district doctor denies that anyone fell ill from the water of the wells.",
    "Residents queue for bottled water because they no longer trust their wells.",
    "An anonymous worker says the factory hides barrels of waste behind its fence.",
    "Fact-checkers found that the blue water photo was taken in another country.",
    "The factory's director invited journalists to test the water of every well.",
    "Laboratory tests of ten wells found no paint solvents, the district said.",
    "Parents keep their children home from school, afraid of the poisoned wells.",
    "A local priest asked the faithful not to spread rumours about the wells.",
    "The river's fish died last spring, and villagers blame the paint factory.",
]


def text(paragraphs: list[str]) -> str:
    return "\n\n".join(paragraphs)


def _doc(doc_id: str, body: str, source: str | None, date: str | None) -> Document:
    doc = Document(text=body, id=doc_id, language="en")
    doc.meta = {k: v for k, v in (("source", source), ("date", date)) if v is not None}
    doc.groups["narratives"] = [Annotation("Other", 0.6)]
    return doc


def corpus_docs() -> list[Document]:
    """Two near-duplicate clusters (one dated and undated, one posted within minutes) and
    two distinct texts."""
    ferry = text(FERRY)
    edited = ferry.replace("announced", "said on Tuesday").replace("three times", "twice")
    stadium = text(STADIUM)
    return [
        _doc("ferry-orig", ferry, "eastport-news", "2025-03-03T08:00:00"),
        _doc("ferry-edit", edited, "island-daily", "2025-03-03T12:00:00"),
        _doc("ferry-cut", ferry[: len(ferry) * 2 // 3], "channel-9", "2025-03-05"),
        _doc("ferry-nodate", text([FERRY[1], FERRY[0], FERRY[2]]), None, None),
        _doc("stadium-a", stadium, "tg-one", "2025-03-10T10:00:00"),
        _doc("stadium-b", text(STADIUM[:2]), "tg-two", "2025-03-10T10:04:00"),
        _doc("stadium-c", stadium + "\n\nShare this post!", "tg-three", "2025-03-10T10:09:00"),
        _doc("library", DISTINCT[0], "eastport-news", "2025-03-04"),
        _doc("rain", DISTINCT[1], "weather", "2025-03-06"),
    ]


def tables(db: Path) -> set[str]:
    with sqlite3.connect(db) as conn:
        return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "corpus.db"
    with open_store(path) as store:
        store.save(corpus_docs())
    return path


def store_campaigns(db: Path) -> list[Any]:
    with open_store(db) as store:
        found = find_campaigns(store.iter_documents())
        count = store.count()
    save_campaigns(db, found, documents=count, input=str(db))
    return found


@pytest.fixture
def client(db: Path) -> Iterator[TestClient]:
    with TestClient(create_app(db, pipeline=fake_pipeline())) as c:
        yield c


# -- campaigns -------------------------------------------------------------------------------


def test_a_database_without_campaigns_lists_none_and_creates_no_table(
    db: Path, client: TestClient
) -> None:
    before = tables(db)
    res = client.get("/api/campaigns")
    assert res.status_code == 200
    assert res.json() == {"stored": False, "run": None, "more": False, "items": []}
    assert client.get("/api/campaigns?order=coordination&source=tg-one").json()["items"] == []
    missing = client.get("/api/campaigns/C0123456789abcdef")
    assert missing.status_code == 404 and "narrascope campaigns" in missing.json()["detail"]
    assert tables(db) == before and not has_campaigns(db)
    paths = client.get("/openapi.json").json()["paths"]
    assert {
        "/api/campaigns",
        "/api/campaigns/{cluster_id}",
        "/api/discover",
        "/api/discover/{cluster_id}/promote",
    } <= set(paths)


def test_clusters_are_listed_by_size_and_by_coordination(db: Path, client: TestClient) -> None:
    found = store_campaigns(db)
    assert len(found) == 2
    page = client.get("/api/campaigns").json()
    assert page["stored"] is True and page["more"] is False
    assert page["run"]["documents"] == 9 and page["run"]["clusters"] == 2
    by_size = [(c["size"], sorted(c["sources"])) for c in page["items"]]
    assert by_size == [
        (4, ["channel-9", "eastport-news", "island-daily", "unknown"]),
        (3, ["tg-one", "tg-three", "tg-two"]),
    ]
    ferry, stadium = page["items"]
    assert "members" not in ferry
    assert ferry["first_seen"] == "2025-03-03T08:00:00Z" and ferry["source_count"] == 3
    assert "engines" in ferry["shared_passage"]
    assert stadium["coordinated_sources"] == 3 and stadium["coordination_window_hours"] < 0.2
    # three channels within nine minutes outrank four sources over two days
    assert stadium["coordination"] > ferry["coordination"]
    ordered = client.get("/api/campaigns", params={"order": "coordination"}).json()
    assert [c["id"] for c in ordered["items"]] == [stadium["id"], ferry["id"]]
    assert ordered["items"][0]["narratives"] == [{"label": "Other", "count": 3}]


def test_filters_and_pages(db: Path, client: TestClient) -> None:
    store_campaigns(db)
    big = client.get("/api/campaigns", params={"min_size": 4}).json()["items"]
    assert [c["size"] for c in big] == [4]
    by_source = client.get("/api/campaigns", params={"source": "tg-two"}).json()["items"]
    assert [c["size"] for c in by_source] == [3]
    assert client.get("/api/campaigns", params={"source": ""}).json()["items"] != []  # any
    first = client.get("/api/campaigns", params={"limit": 1}).json()
    second = client.get("/api/campaigns", params={"limit": 1, "offset": 1}).json()
    assert first["more"] is True and second["more"] is False
    assert [c["size"] for c in first["items"] + second["items"]] == [4, 3]
    for bad in ({"order": "date"}, {"min_size": 1}, {"limit": 0}, {"offset": -1}):
        res = client.get("/api/campaigns", params=bad)
        assert res.status_code == 422, bad
        assert "detail" in res.json()


def test_one_cluster_with_its_members_earliest_first(db: Path, client: TestClient) -> None:
    store_campaigns(db)
    (ferry,) = client.get("/api/campaigns", params={"min_size": 4}).json()["items"]
    res = client.get(f"/api/campaigns/{ferry['id']}")
    assert res.status_code == 200
    detail = res.json()
    assert detail["id"] == ferry["id"] and detail["size"] == 4
    members = [(m["id"], m["source"], m["date"]) for m in detail["members"]]
    assert members == [
        ("ferry-orig", "eastport-news", "2025-03-03T08:00:00"),
        ("ferry-edit", "island-daily", "2025-03-03T12:00:00"),
        ("ferry-cut", "channel-9", "2025-03-05"),
        ("ferry-nodate", "unknown", "unknown"),  # undated: last, shown as unknown
    ]
    first, edit, cut, _ = detail["members"]
    assert first["similarity"] == 1.0 and 0.3 < edit["similarity"] < 1.0
    assert cut["containment"] > 0.9
    assert all(m["in_corpus"] for m in detail["members"])
    assert detail["members"][2]["view"] == "/#/doc/ferry-cut"
    assert detail["members"][0]["narratives"] == ["Other"]
    # a member's document is what the page links to
    assert client.get("/api/documents/ferry-cut").json()["id"] == "ferry-cut"
    assert client.get("/api/campaigns/Cnope").status_code == 404


def test_members_carry_the_date_as_the_clustering_read_it(tmp_path: Path) -> None:
    """Review item 4: "05.03.2024" dates a member (first_seen says so); the member record
    keeps the date as given and adds its ISO `timestamp`, which the page's timeline places
    (it read only ISO dates, so such posts sat under "undated")."""
    db = tmp_path / "dates.db"
    ferry = text(FERRY)
    with open_store(db) as store:
        store.save(
            [
                _doc("d-1", ferry, "a", "05.03.2024"),
                _doc("d-2", ferry + " Share!", "b", "06.03.2024"),
                _doc("d-3", ferry + " Read more.", "c", "2024-03-07T06:30:00+02:00"),
                _doc("d-4", ferry + " Repost.", "d", "soon"),
                _doc("d-5", ferry + " Via us.", None, None),
            ]
        )
    store_campaigns(db)
    with TestClient(create_app(db, pipeline=fake_pipeline())) as c:
        (only,) = c.get("/api/campaigns").json()["items"]
        assert only["first_seen"] == "2024-03-05"
        members = c.get(f"/api/campaigns/{only['id']}").json()["members"]
        schema = c.get("/openapi.json").json()["components"]["schemas"]["CampaignMemberOut"]
    assert [(m["id"], m["date"], m["timestamp"]) for m in members] == [
        ("d-1", "05.03.2024", "2024-03-05T00:00:00Z"),
        ("d-2", "06.03.2024", "2024-03-06T00:00:00Z"),
        ("d-3", "2024-03-07T06:30:00+02:00", "2024-03-07T04:30:00Z"),
        ("d-4", "soon", None),  # undated, as for first_seen and time_span_hours
        ("d-5", "unknown", None),
    ]
    assert "timestamp" in schema["properties"]


def test_member_timestamp_reads_stored_epoch_seconds() -> None:
    from narrascope.corpus.campaigns import timestamp
    from narrascope.serve.app import _member_timestamp

    assert _member_timestamp("1709596800", timestamp) == "2024-03-05T00:00:00Z"
    assert _member_timestamp("2024", timestamp) is None  # a year names no day
    assert _member_timestamp("2024-03-05T10:00:00.5", timestamp) == "2024-03-05T10:00:00.500000Z"


def test_members_of_files_not_in_the_corpus_are_marked(db: Path, client: TestClient) -> None:
    records = [
        {"id": "file-1", "text": text(FERRY), "source": "a"},
        {"id": "file-2", "text": text(FERRY[:2]), "source": "b"},
    ]
    save_campaigns(db, find_campaigns(records), documents=2, input="files")
    (only,) = client.get("/api/campaigns").json()["items"]
    members = client.get(f"/api/campaigns/{only['id']}").json()["members"]
    assert [(m["id"], m["in_corpus"], m["view"], m["date"]) for m in members] == [
        ("file-1", False, None, "unknown"),
        ("file-2", False, None, "unknown"),
    ]


def test_campaign_endpoints_need_the_token(db: Path) -> None:
    store_campaigns(db)
    app = create_app(db, token="campaign-token-0123456789", pipeline=fake_pipeline())
    with TestClient(app) as c:
        assert c.get("/api/campaigns").status_code == 401
        good = c.get(
            "/api/campaigns", headers={"Authorization": "Bearer campaign-token-0123456789"}
        )
        assert good.status_code == 200 and len(good.json()["items"]) == 2
        promote = c.post("/api/discover/D1/promote", json={"label": "x"})
        assert promote.status_code == 401


# -- discover --------------------------------------------------------------------------------

discover_module = pytest.mark.skipif(
    importlib.util.find_spec("narrascope.corpus.discover") is None
    or importlib.util.find_spec("narrascope.store.discover") is None,
    reason="narrascope discover is not in this copy",
)


def store_discovered(db: Path, unit: str = "paragraph") -> str:
    """A discovered cluster over the WELLS paragraphs, stored as `narrascope discover`
    stores one (a run over `unit`s); its id."""
    discover = pytest.importorskip("narrascope.corpus.discover")
    dstore_module = pytest.importorskip("narrascope.store.discover")
    if not hasattr(discover, "DiscoveredCluster") or not hasattr(dstore_module, "DiscoverStore"):
        pytest.skip("this copy's discover has no DiscoveredCluster / DiscoverStore")
    docs = []
    members = []
    for i, para in enumerate(WELLS):
        body = f"Valley news, item {i}\n\n{para}"
        docs.append(_doc(f"wells-{i:02d}", body, f"site{i % 3}", f"2025-04-{1 + i:02d}"))
        start = body.index(para)
        members.append(discover.ClusterMember(f"wells-{i:02d}", start, start + len(para), 0.9))
    with open_store(db) as store:
        store.save(docs)
    exemplar = discover.Exemplar("wells-00", members[0].start, members[0].end, WELLS[0], 0.8)
    cluster = discover.DiscoveredCluster(
        id="D1",
        size=len(WELLS),
        documents=len(WELLS),
        terms=["wells", "factory", "paint", "water"],
        exemplars=[exemplar],
        languages={"en": len(WELLS)},
        sources={"site0": 4, "site1": 4, "site2": 4},
        first_seen="2025-04-01",
        last_seen="2025-04-12",
        growth=[{"bucket": f"2025-04-{1 + i:02d}", "documents": 1} for i in range(12)],
        confidence=0.9,
        cohesion=0.7,
        doc_ids=[d.id for d in docs],
        members=members,
    )
    keys = [f"{m.doc_id}:{i}" for i, m in enumerate(members)]
    with dstore_module.DiscoverStore(db) as dstore:
        dstore.save_run(
            {"unit": unit},
            len(WELLS),
            [(cluster.id, np.ones(8, dtype=np.float32), keys, cluster.terms, cluster.to_dict())],
        )
    return cluster.id


@discover_module
def test_no_discover_run_is_an_empty_list_and_creates_nothing(db: Path, client: TestClient) -> None:
    before = tables(db)
    res = client.get("/api/discover")
    assert res.status_code == 200
    assert res.json() == {"stored": False, "run": None, "items": []}
    assert client.post("/api/discover/D9/promote", json={"label": "Wells"}).status_code == 404
    assert tables(db) == before


@discover_module
def test_a_discover_run_that_found_no_cluster_is_still_said(db: Path, client: TestClient) -> None:
    from narrascope.store.discover import DiscoverStore

    with DiscoverStore(db) as dstore:
        dstore.save_run({"unit": "paragraph"}, 7, [])
    page = client.get("/api/discover").json()
    assert page["stored"] is True and page["items"] == []
    assert page["run"]["units"] == 7  # when it ran and on what: the user sees it did


@discover_module
def test_discovered_clusters_are_listed_without_their_members(db: Path, client: TestClient) -> None:
    cluster_id = store_discovered(db)
    page = client.get("/api/discover").json()
    assert page["stored"] is True and page["run"]["units"] == len(WELLS)
    (item,) = page["items"]
    assert item["id"] == cluster_id and item["size"] == 12 and item["documents"] == 12
    assert item["terms"][:2] == ["wells", "factory"] and item["label"].startswith("wells")
    assert item["exemplars"][0]["text"] == WELLS[0]
    assert len(item["growth"]) == 12 and item["promoted"] == []
    assert "members" not in item and "doc_ids" not in item


@discover_module
def test_promote_checks_its_input_before_any_model_runs(db: Path, client: TestClient) -> None:
    cluster_id = store_discovered(db)
    before = tables(db)
    for body in ({}, {"label": ""}, {"label": "x" * 201}, {"label": "ok", "replace": "yes"}):
        res = client.post(f"/api/discover/{cluster_id}/promote", json=body)
        assert res.status_code == 422, body
    # nothing but the prefix records add is no label either, however it is spaced (the
    # label is kept as `taxonomy add` keeps it: normalise_label, whose prefix is "Custom:")
    for label in ("   ", "Custom: ", "Custom:", "  Custom:   ", "Custom:\t\n"):
        blank = client.post(f"/api/discover/{cluster_id}/promote", json={"label": label})
        assert blank.status_code == 422 and "empty" in blank.json()["detail"], label
    unknown = client.post("/api/discover/D77/promote", json={"label": "Wells"})
    assert unknown.status_code == 404 and "D77" in unknown.json()["detail"]
    foreign = client.post(
        f"/api/discover/{cluster_id}/promote",
        json={"label": "Wells"},
        headers={"Origin": "https://elsewhere.example", "Sec-Fetch-Site": "cross-site"},
    )
    assert foreign.status_code == 403
    assert tables(db) == before  # nothing was added


@discover_module
@pytest.mark.skipif(
    importlib.util.find_spec("narrascope.models.custom_narratives") is None,
    reason="custom narratives are not in this copy",
)
def test_promote_makes_the_cluster_a_custom_narrative(db: Path, client: TestClient) -> None:
    from narrascope.store.custom_narratives import CustomNarrativeStore

    cluster_id = store_discovered(db)
    res = client.post(
        f"/api/discover/{cluster_id}/promote",
        json={"label": "  Poisoned   wells ", "description": "a paint factory rumour"},
    )
    assert res.status_code == 200, res.text
    out = res.json()
    assert out["label"] == "Poisoned wells" and out["reported_as"] == "Custom: Poisoned wells"
    assert out["examples"] == 12 and out["new"] is True and out["cluster"] == cluster_id
    assert 0.0 <= out["cv"]["precision"] <= 1.0 and 0.0 < out["threshold"] < 1.0
    with CustomNarrativeStore(db, create=False) as store:
        stored = store.get("Poisoned wells")
    assert stored is not None and sorted(stored.examples) == sorted(WELLS)
    assert stored.source == f"cluster {cluster_id}" and stored.description.startswith("a paint")
    # the listing says it was promoted; the same label again is a conflict unless replaced
    (item,) = client.get("/api/discover").json()["items"]
    assert item["promoted"] == ["Poisoned wells"]
    again = client.post(f"/api/discover/{cluster_id}/promote", json={"label": "Poisoned wells"})
    assert again.status_code == 409 and "replace" in again.json()["detail"]
    replaced = client.post(
        f"/api/discover/{cluster_id}/promote", json={"label": "Poisoned wells", "replace": True}
    )
    assert replaced.status_code == 200 and replaced.json()["new"] is False


def test_campaigns_on_postgres_and_discover_there_is_a_501(postgres_admin: Any) -> None:
    for url in postgres_schema_url(postgres_admin):
        with open_store(url) as store:
            store.save(corpus_docs())
        with TestClient(create_app(url, pipeline=fake_pipeline())) as c:
            assert c.get("/api/campaigns").json()["stored"] is False
            assert not has_campaigns(url)  # reading created nothing
            with open_store(url) as store:
                save_campaigns(url, find_campaigns(store.iter_documents()), documents=9)
            page = c.get("/api/campaigns", params={"order": "coordination"}).json()
            assert [item["size"] for item in page["items"]] == [3, 4]
            detail = c.get(f"/api/campaigns/{page['items'][1]['id']}").json()
            assert [m["in_corpus"] for m in detail["members"]] == [True] * 4
            res = c.get("/api/discover")
            assert res.status_code == 501 and "SQLite" in res.json()["detail"]
            assert "narrascope-ci" not in res.json()["detail"]  # no password echoed
            promote = c.post("/api/discover/D1/promote", json={"label": "Wells"})
            assert promote.status_code == 501


def test_the_sqlite_file_of_the_servers_url() -> None:
    from narrascope.serve.app import _sqlite_file

    assert _sqlite_file("corpus.db", "discover") == Path("corpus.db")
    assert _sqlite_file("sqlite:////tmp/c.db", "discover") == Path("/tmp/c.db")
    from fastapi import HTTPException

    with pytest.raises(HTTPException) as err:
        _sqlite_file("postgresql://user:secret@host/db", "discover")
    assert err.value.status_code == 501 and "secret" not in str(err.value.detail)


def test_a_missing_module_is_a_501_not_a_crash(
    db: Path, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "narrascope.corpus.discover", None)  # import fails
    res = client.get("/api/discover")
    assert res.status_code == 501 and "narrascope.corpus.discover" in res.json()["detail"]
    promote = client.post("/api/discover/D1/promote", json={"label": "Wells"})
    assert promote.status_code == 501
    assert client.get("/api/campaigns").status_code == 200  # the rest still works


def test_a_promoted_label_loses_the_prefix_records_add_before_its_spaces() -> None:
    """The promote endpoint keeps a label as `taxonomy add` does (``normalise_label``;
    tests/test_serve_promote_and_epoch_dates.py drives the endpoint)."""
    from narrascope.errors import NarrascopeError
    from narrascope.models.custom_narratives import normalise_label

    assert normalise_label("  Custom:  Poisoned   wells ") == "Poisoned wells"
    assert normalise_label("Customs officers") == "Customs officers"
    with pytest.raises(NarrascopeError, match="empty"):
        normalise_label("Custom: ")


def test_the_servers_pipeline_follows_the_corpus_custom_narratives(tmp_path, monkeypatch) -> None:
    """A cluster promoted in the page is reported by the server's next analyses: its
    pipeline carries a custom-narrative stage that follows the database."""
    import narrascope
    from narrascope.pipeline import Pipeline
    from narrascope.serve.app import _loader
    from narrascope.store import open_store

    class Named:
        def __init__(self, name: str) -> None:
            self.name = name

        def __call__(self, docs):
            return docs

    monkeypatch.setattr(
        narrascope, "load", lambda: Pipeline([Named("segment"), Named("narratives"), Named("x")])
    )
    with open_store(tmp_path / "corpus.db") as store:
        load = _loader(store)
    assert load is not None
    pipeline = load()
    names = ["segment", "narratives", "custom_narratives", "x", "debunks"]
    assert pipeline.stage_names == names  # debunks: as `analyze --db` (test_serve_api)
    assert pipeline.get_stage("custom_narratives").db == tmp_path / "corpus.db"
    assert _loader(object()) is None  # a store without a file (PostgreSQL): none
