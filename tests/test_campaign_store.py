"""Campaigns stored in the corpus database (issue 26): ``narrascope campaigns --db`` saves
its clusters, a rerun replaces them without duplicates, ids persist, ``--no-save`` and the
read API leave a database without campaign tables as it was.

Runs on SQLite and, when ``NARRASCOPE_TEST_POSTGRES_URL`` names a reachable server, on
PostgreSQL too (each test in a fresh schema, dropped afterwards).
"""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from narrascope.cli import main
from narrascope.corpus import CampaignRecord, find_campaigns
from narrascope.doc import Annotation, Document, Technique
from narrascope.errors import StoreError
from narrascope.store import open_store
from narrascope.store.campaigns import (
    SCHEMA_VERSION,
    TABLES,
    campaigns_of_document,
    first_stored,
    get_campaign,
    has_campaigns,
    latest_run,
    list_campaigns,
    list_runs,
    save_campaigns,
)
from test_campaigns import PORT, PRICES, SILOS, corpus, edited, text

LABEL = "URW: Discrediting Ukraine"


def document(record: dict[str, Any], *, techniques: tuple[str, ...] = ()) -> Document:
    doc = Document(text=record["text"], id=record["id"], language="en")
    doc.meta = {k: record[k] for k in ("source", "date", "url") if record.get(k) is not None}
    doc.groups["narratives"] = [Annotation(LABEL, 0.7)]
    for name in techniques:
        doc.techniques.append(Technique(name, doc.span(0, 10), 0.6, 1, "distraction"))
    return doc


def fill(db: str, records: list[dict[str, Any]]) -> None:
    """A corpus database holding ``records`` as analysed documents."""
    with open_store(db) as store:
        store.save(
            document(r, techniques=("Whataboutism",) if r["id"] == "edit" else ()) for r in records
        )


def with_urls(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    for r in records:
        if r["id"] in ("orig", "edit"):
            r["url"] = f"https://{r['source']}.example/{r['id']}"
    return records


def tables(db: Path) -> set[str]:
    with sqlite3.connect(db) as conn:
        return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}


def rows(db: str, table: str) -> int:
    with open_store(db) as store:
        return int(store._one(f"SELECT COUNT(*) FROM {table}")[0])


# -- stored, read back -----------------------------------------------------------------------


def test_the_clusters_found_in_a_corpus_are_stored_and_read_back(
    target: str, capsys: pytest.CaptureFixture[str]
) -> None:
    fill(target, with_urls(corpus()))
    assert not has_campaigns(target)
    assert main(["campaigns", "--db", target]) == 0
    assert "stored 1 clusters of 6 documents" in capsys.readouterr().err
    (listed,) = list_campaigns(target)
    assert listed.size == 4 and listed.members == []
    assert listed.sources == ["channel-7", "north-news", "daily", "blog"]
    assert listed.source_count == 4 and listed.coordinated_sources == 3
    assert listed.coordination == pytest.approx(2 * 2 ** (-9.5 / 24))
    assert (listed.first_seen, listed.last_seen) == ("2024-05-06", "2024-05-08")
    assert listed.narratives == [(LABEL, 4)] and listed.techniques == [("Whataboutism", 1)]
    assert listed.shared_passage.split()[:4] == ["Officials", "told", "reporters", "that"]

    campaign = get_campaign(target, listed.id)
    assert campaign is not None
    members = [(m.id, m.source, m.date, m.url) for m in campaign.members]
    assert members == [
        ("reorder", "channel-7", "2024-05-06", None),
        ("orig", "north-news", "2024-05-06T08:00:00", "https://north-news.example/orig"),
        ("edit", "daily", "2024-05-06T09:30", "https://daily.example/edit"),
        ("cut", "blog", "2024-05-08", None),
    ]
    assert campaign.members[0].similarity == 1.0 and campaign.members[3].containment > 0.9
    assert campaign.members[2].techniques == ["Whataboutism"]
    assert all(m.narratives == [LABEL] and len(m.sha256 or "") == 64 for m in campaign.members)
    # the stored record says what the clustering said, plus its run
    with open_store(target) as store:
        (fresh,) = find_campaigns(store.iter_documents())
    stored = campaign.to_dict()
    for key, value in fresh.to_dict().items():
        assert stored[key] == value, key
    run = latest_run(target)
    assert run is not None and (run.documents, run.clusters, run.members) == (6, 1, 4)
    assert stored["run_id"] == stored["first_run"] == run.run_id
    assert stored["stored"] == stored["first_stored"] == run.created
    assert run.parameters["jaccard"] == 0.3 and run.to_dict()["input"] == target
    assert campaigns_of_document(target, "edit") == [listed.id]
    assert campaigns_of_document(target, "silos") == []
    assert get_campaign(target, "Cnope") is None


def test_a_rerun_replaces_the_result_never_duplicates_and_keeps_ids(target: str) -> None:
    records = corpus()
    fill(target, records)
    assert main(["campaigns", "--db", target, "-o", os.devnull]) == 0
    (first,) = list_campaigns(target)
    first_run = latest_run(target)
    assert main(["campaigns", "--db", target, "-o", os.devnull]) == 0
    (again,) = list_campaigns(target)
    assert again.id == first.id and again.size == 4
    assert rows(target, "campaigns") == 1 and rows(target, "campaign_members") == 4
    assert len(list_runs(target)) == 2 and rows(target, "campaign_runs") == 2
    second_run = latest_run(target)
    assert second_run is not None and first_run is not None
    assert (again.run_id, again.first_run) == (second_run.run_id, first_run.run_id)

    # a later copy joins: the earliest member, hence the id and first_run, stay
    later = {"id": "late", "text": text(edited(PORT)), "source": "echo", "date": "2024-06-01"}
    fill(target, [later])
    assert main(["campaigns", "--db", target, "-o", os.devnull]) == 0
    (grown,) = list_campaigns(target)
    assert (grown.id, grown.size, grown.first_run) == (first.id, 5, first_run.run_id)
    assert first_stored(target) == {first.id: first_run.created}
    # an earlier copy found later becomes the earliest member: the id is its
    earlier = {"id": "early", "text": text(PORT), "source": "origin", "date": "2024-05-01"}
    fill(target, [earlier])
    assert main(["campaigns", "--db", target, "-o", os.devnull]) == 0
    (moved,) = list_campaigns(target)
    assert moved.id != first.id and moved.size == 6
    assert moved.first_run == latest_run(target).run_id  # type: ignore[union-attr]
    assert rows(target, "campaigns") == 1 and rows(target, "campaign_members") == 6


def test_listing_filters_by_size_and_source_and_orders_by_coordination(target: str) -> None:
    records = corpus()
    # a second cluster: three copies of SILOS posted by three channels within ten minutes
    records += [
        {"id": "s1", "text": text(SILOS), "source": "tg-a", "date": "2024-05-09T10:00:00"},
        {"id": "s2", "text": text(SILOS[:3]), "source": "tg-b", "date": "2024-05-09T10:10:00"},
        {"id": "s3", "text": text(SILOS[1:]), "source": "tg-c", "date": "2024-05-09T10:05:00"},
    ]
    records = [r for r in records if r["id"] != "silos"]
    fill(target, records)
    assert main(["campaigns", "--db", target, "-o", os.devnull]) == 0
    by_size = list_campaigns(target)
    assert [c.size for c in by_size] == [4, 3]
    by_coordination = list_campaigns(target, order="coordination")
    assert [c.size for c in by_coordination] == [3, 4]  # 2 * 2^(-10 min / 24 h) vs 1.52
    assert by_coordination[0].coordination == pytest.approx(2 * 2 ** (-10 / 60 / 24))
    assert [c.size for c in list_campaigns(target, min_size=4)] == [4]
    assert [c.size for c in list_campaigns(target, source="tg-b")] == [3]
    assert list_campaigns(target, source="nobody") == []
    assert [c.size for c in list_campaigns(target, limit=1, offset=1)] == [3]
    assert len(list_campaigns(target, limit=None)) == 2
    with pytest.raises(ValueError, match="order"):
        list_campaigns(target, order="newest")  # type: ignore[arg-type]


# -- what is not stored ----------------------------------------------------------------------


def test_no_save_and_the_read_api_leave_a_corpus_database_as_it_was(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "corpus.db"
    fill(str(db), corpus())
    before = tables(db)
    assert main(["campaigns", "--db", str(db), "--no-save"]) == 0
    assert capsys.readouterr().out.splitlines()[1].split()[1] == "4"
    assert list_campaigns(db) == [] and get_campaign(db, "C0") is None
    assert latest_run(db) is None and first_stored(db) == {} and not has_campaigns(db)
    assert main(["campaigns", "--db", str(db), "--stored"]) == 2
    assert "holds no stored clusters" in capsys.readouterr().err
    assert tables(db) == before and not set(TABLES) & before
    with pytest.raises(StoreError, match="no database"):
        list_campaigns(tmp_path / "missing.db")
    assert not (tmp_path / "missing.db").exists()


def test_clusters_of_input_files_are_stored_with_save_to(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "texts"
    folder.mkdir()
    for record in corpus():
        (folder / f"{record['id']}.txt").write_text(record["text"], encoding="utf-8")
    db = tmp_path / "new.db"
    assert main(["campaigns", str(folder), "--save-to", str(db), "-o", os.devnull]) == 0
    (listed,) = list_campaigns(db)
    campaign = get_campaign(db, listed.id)
    assert campaign is not None
    assert [m.id for m in campaign.members] == ["cut.txt", "edit.txt", "orig.txt", "reorder.txt"]
    assert {(m.source, m.date) for m in campaign.members} == {
        (None, "unknown")
    }  # none given (shown "unknown")
    assert campaign.first_seen == "unknown" and campaign.sources == ["unknown"]
    assert campaign.source_count == 0 and campaign.coordination == 0.0
    assert latest_run(db).documents == 6  # type: ignore[union-attr]
    with open_store(db) as store:
        assert store._one("SELECT COUNT(*) FROM campaigns_schema")[0] == 1
    # usage errors
    assert main(["campaigns", str(folder), "--no-save"]) == 2
    assert main(["campaigns", str(folder), "--stored"]) == 2
    assert "--no-save goes with --db" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["campaigns", "--db", str(db), "--no-save", "--save-to", str(db)])


def _port_and_silos() -> tuple[list[CampaignRecord], list[CampaignRecord]]:
    port = [CampaignRecord(f"p{i}", text(PORT), f"s{i}", f"2024-01-0{i + 1}") for i in range(2)]
    silos = [CampaignRecord(f"s{i}", text(SILOS), f"s{i}", f"2024-02-0{i + 1}") for i in range(2)]
    return port, silos


def test_a_cluster_absent_from_one_run_keeps_its_first_run(target: str) -> None:
    port, silos = _port_and_silos()
    (port_cluster,) = find_campaigns(port)
    first = save_campaigns(target, find_campaigns(port + silos), documents=4)
    save_campaigns(target, find_campaigns(silos), documents=2)  # the port cluster is absent
    third = save_campaigns(target, find_campaigns(port + silos), documents=4)
    stored = get_campaign(target, port_cluster.id)
    assert stored is not None and stored.run_id == third.run_id
    assert stored.first_run == first.run_id  # its STIX created stays that of the first run
    assert first_stored(target)[port_cluster.id] == first.created


def test_version_1_tables_learn_their_first_runs_from_the_stored_clusters(tmp_path: Path) -> None:
    db = tmp_path / "corpus.db"
    port, silos = _port_and_silos()
    (port_cluster,) = find_campaigns(port)
    first = save_campaigns(db, find_campaigns(port + silos), documents=4)
    with sqlite3.connect(db) as conn:  # as a version-1 database was: no first-run record
        conn.execute("DROP TABLE campaign_first_runs")
        conn.execute("UPDATE campaigns_schema SET version = 1")
    save_campaigns(db, find_campaigns(silos), documents=2)  # upgrades, then drops port
    save_campaigns(db, find_campaigns(port + silos), documents=4)
    stored = get_campaign(db, port_cluster.id)
    assert stored is not None and stored.first_run == first.run_id
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT version FROM campaigns_schema").fetchall() == [
            (SCHEMA_VERSION,)
        ]


def test_newer_campaign_tables_are_refused(tmp_path: Path) -> None:
    db = tmp_path / "corpus.db"
    save_campaigns(db, find_campaigns(corpus()), documents=6)
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE campaigns_schema SET version = ?", (SCHEMA_VERSION + 1,))
    with pytest.raises(StoreError, match="upgrade narrascope") as error:
        list_campaigns(db)
    assert error.value.code == "E301"


def test_clusters_whose_earliest_documents_share_an_id_get_distinct_ids(tmp_path: Path) -> None:
    # two unrelated clusters, each led by a document called "a" (two input files)
    records = [
        CampaignRecord("a", text(PORT), date="2024-01-01"),
        CampaignRecord("b", text(PORT), date="2024-01-02"),
        CampaignRecord("a", text(PRICES), date="2024-01-01"),
        CampaignRecord("c", text(PRICES), date="2024-01-02"),
    ]
    campaigns = find_campaigns(records)
    ids = [c.id for c in campaigns]
    assert len(set(ids)) == 2 and ids[1] == ids[0] + "-2"
    db = tmp_path / "corpus.db"
    run = save_campaigns(db, campaigns, documents=4, input="test")
    assert run.clusters == 2 and len(list_campaigns(db)) == 2
    record = json.loads(json.dumps(get_campaign(db, ids[1]).to_dict()))  # type: ignore[union-attr]
    assert [m["id"] for m in record["members"]] == ["a", "c"]


def test_a_source_named_unknown_is_stored_as_a_source(tmp_path: Path) -> None:
    records = corpus()
    records[0]["source"] = "unknown"  # a real name, as scrapers write it
    records[1].pop("source")  # none given
    found = find_campaigns(records)
    db = tmp_path / "c.db"
    save_campaigns(db, found, documents=len(records))
    (listed,) = list_campaigns(db)
    campaign = get_campaign(db, listed.id)
    assert campaign is not None
    sources = {m.id: m.source for m in campaign.members}
    assert sources["orig"] == "unknown" and sources["edit"] is None
    assert listed.source_count == found[0].source_count == 3  # unknown, channel-7, blog
