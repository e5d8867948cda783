"""Campaigns as STIX 2.1 (issue 26): the bundle parses with ``stix2`` and no custom
content, holds a campaign, a note, observed-data per document and their relationships,
labels and DISARM references; ids are deterministic; a missing stix2 says what to install.

The STIX tests skip when stix2 (the ``stix`` extra) is not installed; the missing-package
test always runs.
"""

from __future__ import annotations

import hashlib
import json
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from narrascope.cli import main
from narrascope.corpus import find_campaigns
from narrascope.export import stix as export_stix
from test_campaigns import PORT, SILOS, corpus, text

AS_OF = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
LABEL = "URW: Discrediting Ukraine"


@pytest.fixture
def stix2() -> Any:
    return pytest.importorskip("stix2")


def records() -> list[dict[str, Any]]:
    """The test corpus with URLs on two documents, narratives and techniques on some."""
    out = corpus()
    for r in out:
        if r["id"] in ("orig", "edit"):
            r["url"] = f"https://{r['source']}.example/{r['id']}"
        if r["id"] in ("orig", "cut"):
            r["narratives"] = [{"label": LABEL, "score": 0.8}]
    out[1]["techniques"] = [{"label": "Whataboutism"}, {"label": "Loaded_Language"}]
    return out


def bundle_of(campaigns: list[Any], **kwargs: Any) -> dict[str, Any]:
    made = export_stix.campaigns_bundle(campaigns, as_of=AS_OF, **kwargs)
    return json.loads(made.serialize())


def by_type(bundle: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for obj in bundle["objects"]:
        out.setdefault(obj["type"], []).append(obj)
    return out


def test_the_bundle_parses_without_custom_content_and_holds_the_cluster(stix2: Any) -> None:
    (campaign,) = find_campaigns(records())
    made = export_stix.campaigns_bundle([campaign], as_of=AS_OF)
    parsed = stix2.parse(made.serialize(), allow_custom=False)
    assert parsed.type == "bundle"
    objects = by_type(json.loads(made.serialize()))
    assert {k: len(v) for k, v in objects.items()} == {
        "identity": 1,
        "campaign": 1,
        "note": 1,
        "observed-data": 4,
        "relationship": 4,
        "url": 2,
        "file": 2,
    }
    (identity,) = objects["identity"]
    assert identity["name"] == "Narrascope" and identity["identity_class"] == "system"
    (sdo,) = objects["campaign"]
    assert sdo["created_by_ref"] == identity["id"]
    assert sdo["name"] == "Officials told reporters that twelve cargo ships had…"
    assert (sdo["first_seen"], sdo["last_seen"]) == (
        "2024-05-06T00:00:00Z",
        "2024-05-08T00:00:00Z",
    )
    assert "4 documents from 4 sources (channel-7, north-news, daily, blog)" in sdo["description"]
    assert "3 sources posted it within 9.5 hours" in sdo["description"]
    assert sdo["labels"] == [
        f"narrative:{LABEL}",
        "technique:Loaded_Language",
        "technique:Whataboutism",
    ]
    refs = {r["source_name"] + ":" + r["external_id"] for r in sdo["external_references"]}
    assert refs == {f"narrascope:{campaign.id}", "DISARM:T0077", "DISARM:T0084.001"}
    (note,) = objects["note"]
    assert note["object_refs"] == [sdo["id"]]
    assert campaign.shared_passage in note["content"]
    assert (
        "Coordination score: 1.5" in note["content"] and "Coordinated sources: 3" in note["content"]
    )


def test_each_document_is_observed_data_related_to_its_campaign(stix2: Any) -> None:
    recs = records()
    recs[2]["date"] = None  # "reorder" has no date: observed at the run time
    (campaign,) = find_campaigns(recs)
    objects = by_type(bundle_of([campaign]))
    sdo_id = objects["campaign"][0]["id"]
    scos = {o["id"]: o for o in objects["url"] + objects["file"]}
    observed = {o["external_references"][0]["external_id"]: o for o in objects["observed-data"]}
    assert set(observed) == {"orig", "edit", "reorder", "cut"}
    assert scos[observed["orig"]["object_refs"][0]]["value"] == "https://north-news.example/orig"
    cut = scos[observed["cut"]["object_refs"][0]]
    assert cut["type"] == "file" and cut["name"] == "cut"
    cut_text = next(r["text"] for r in recs if r["id"] == "cut")
    assert cut["hashes"]["SHA-256"] == hashlib.sha256(cut_text.encode()).hexdigest()
    assert observed["orig"]["first_observed"] == "2024-05-06T08:00:00Z"
    assert observed["reorder"]["first_observed"] == observed["reorder"]["last_observed"]
    assert observed["reorder"]["first_observed"] == "2024-06-01T12:00:00Z"
    assert all(o["number_observed"] == 1 for o in observed.values())
    assert "source: daily" in observed["edit"]["external_references"][0]["description"]
    links = {
        (r["source_ref"], r["relationship_type"], r["target_ref"]) for r in objects["relationship"]
    }
    assert links == {(o["id"], "related-to", sdo_id) for o in observed.values()}


def test_ids_are_deterministic_and_a_reexport_is_the_same_bundle(stix2: Any) -> None:
    (campaign,) = find_campaigns(records())
    first = export_stix.campaigns_bundle([campaign], as_of=AS_OF).serialize(pretty=True)
    (again,) = find_campaigns(list(reversed(records())))
    assert export_stix.campaigns_bundle([again], as_of=AS_OF).serialize(pretty=True) == first
    expected = uuid.uuid5(export_stix.NAMESPACE, f"campaign|{campaign.id}")
    objects = by_type(json.loads(first))
    assert objects["campaign"][0]["id"] == f"campaign--{expected}"
    # a later run: the same ids, a new version (modified), created kept from the first run
    later = datetime(2024, 7, 1, tzinfo=UTC)
    bumped = export_stix.campaigns_bundle(
        [campaign], as_of=later, first_created={campaign.id: AS_OF}
    )
    newer = by_type(json.loads(bumped.serialize()))
    for kind in ("campaign", "note", "observed-data", "relationship"):
        assert [o["id"] for o in newer[kind]] == [o["id"] for o in objects[kind]]
        assert {o["created"] for o in newer[kind]} == {"2024-06-01T12:00:00.000Z"}
        assert {o["modified"] for o in newer[kind]} == {"2024-07-01T00:00:00.000Z"}


def test_disarm_references_only_where_the_mapping_is_unambiguous(stix2: Any) -> None:
    recs = [{**r, "source": None} for r in corpus()]  # no known sources: no copypasta
    recs[0]["techniques"] = [{"label": "Loaded_Language"}, {"label": "Appeal_to_Hypocrisy"}]
    (campaign,) = find_campaigns(recs)
    (sdo,) = by_type(bundle_of([campaign]))["campaign"]
    assert [r["source_name"] for r in sdo["external_references"]] == ["narrascope"]
    assert "of unknown sources" in sdo["description"]
    recs[1]["techniques"] = [{"label": "Red_Herring"}]
    (campaign,) = find_campaigns(recs)
    (sdo,) = by_type(bundle_of([campaign]))["campaign"]
    disarm = [r for r in sdo["external_references"] if r["source_name"] == "DISARM"]
    assert [r["external_id"] for r in disarm] == ["T0077"]
    assert "Red_Herring in 1 of 4 documents" in disarm[0]["description"]
    assert set(export_stix.DISARM) == {"Whataboutism", "Red_Herring"}


def test_undated_clusters_have_no_first_seen_and_several_clusters_share_one_identity(
    stix2: Any,
) -> None:
    undated = [{"id": f"p{i}", "text": text(PORT)} for i in range(2)]
    undated += [{"id": f"s{i}", "text": text(SILOS)} for i in range(3)]
    campaigns = find_campaigns(undated)
    bundle = bundle_of(campaigns)
    stix2.parse(json.dumps(bundle), allow_custom=False)
    objects = by_type(bundle)
    assert len(objects["identity"]) == 1 and len(objects["campaign"]) == 2
    assert all("first_seen" not in c and "last_seen" not in c for c in objects["campaign"])
    assert len(objects["observed-data"]) == 5


def test_the_cli_writes_a_bundle_from_files_and_from_the_stored_run(
    stix2: Any, tmp_path: Path
) -> None:
    path = tmp_path / "posts.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records()), encoding="utf-8")
    out = tmp_path / "bundle.json"
    assert main(["campaigns", str(path), "--format", "stix", "-o", str(out)]) == 0
    bundle = stix2.parse(out.read_text(encoding="utf-8"), allow_custom=False)
    kinds = [o.type for o in bundle.objects]
    assert kinds.count("campaign") == 1 and kinds.count("observed-data") == 4
    (sdo,) = [o for o in bundle.objects if o.type == "campaign"]
    # narratives and techniques read from the JSONL records (analyze output)
    assert f"narrative:{LABEL}" in sdo.labels and "technique:Whataboutism" in sdo.labels
    assert "T0077" in {r.external_id for r in sdo.external_references}

    db = tmp_path / "corpus.db"
    assert (
        main(["campaigns", str(path), "--save-to", str(db), "-o", str(tmp_path / "x.jsonl")]) == 0
    )
    first, second = tmp_path / "b1.json", tmp_path / "b2.json"
    for target in (first, second):
        code = main(
            ["campaigns", "--db", str(db), "--stored", "--format", "stix", "-o", str(target)]
        )
        assert code == 0
    assert first.read_bytes() == second.read_bytes()
    stored = json.loads(first.read_text(encoding="utf-8"))
    (stored_sdo,) = [o for o in stored["objects"] if o["type"] == "campaign"]
    assert stored_sdo["id"] == sdo.id  # the same cluster, the same STIX id


def test_a_missing_stix2_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "stix2", None)  # import stix2 raises ImportError
    with pytest.raises(export_stix.StixUnavailable, match=r"pip install stix2"):
        export_stix.campaigns_bundle([], as_of=AS_OF)
    path = tmp_path / "posts.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in corpus()), encoding="utf-8")
    out = tmp_path / "bundle.json"
    assert main(["campaigns", str(path), "--format", "stix", "-o", str(out)]) == 2
    assert "pip install stix2" in capsys.readouterr().err
    assert not out.exists()
