"""Campaigns read dates and sources as the corpus database does (review D1-D3, D5, D6):
"dd.mm.yyyy HH:MM" day first with its time, an epoch number dated as a number or as its
digits (STIX too), first/last seen in UTC, the summary with the offset, and a source
named "unknown" counted as the source it is."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from narrascope.cli.campaigns import format_summary
from narrascope.corpus import find_campaigns
from test_campaigns import PORT, text


def copies(*posts: tuple[str, Any, Any]) -> list[dict[str, Any]]:
    """Copies of one text: (id, source, date) each."""
    return [{"id": i, "text": text(PORT), "source": s, "date": d} for i, s, d in posts]


def test_a_dotted_date_with_a_time_is_day_first_and_keeps_its_time() -> None:
    (campaign,) = find_campaigns(
        copies(
            ("f1", "a", "12.03.2024 23:00"),
            ("f2", "b", "13.03.2024 10:00"),
            ("f3", "c", "2024-03-12T23:30:00Z"),
        )
    )
    record = campaign.to_dict()
    assert [m["id"] for m in record["members"]] == ["f1", "f3", "f2"]
    assert (record["first_seen"], record["last_seen"]) == (
        "2024-03-12T23:00:00Z",
        "2024-03-13T10:00:00Z",
    )
    # was 6360.5 hours (f1 read as 3 December) and a 0.5 h window (f2 put at midnight)
    assert record["time_span_hours"] == 11.0
    assert record["coordinated_sources"] == 3 and record["coordination_window_hours"] == 11.0


EPOCH = 1711929600  # 2024-04-01T00:00:00Z


def epoch_copies() -> list[dict[str, Any]]:
    return copies(("k1", "a", EPOCH), ("k2", "b", "2024-04-01T00:30:00Z"), ("k3", "c", str(EPOCH)))


def test_an_epoch_number_is_dated_as_a_number_or_as_its_digits() -> None:
    (campaign,) = find_campaigns(epoch_copies())
    record = campaign.to_dict()
    assert [m["id"] for m in record["members"]] == ["k1", "k3", "k2"]  # k3 was undated, last
    assert record["first_seen"] == "2024-04-01T00:00:00Z"
    assert record["coordinated_sources"] == 3 and record["coordination_window_hours"] == 0.5


def test_stix_observes_an_epoch_member_at_its_date_not_at_the_export_time() -> None:
    pytest.importorskip("stix2")
    from narrascope.export.stix import campaigns_bundle

    (campaign,) = find_campaigns(epoch_copies())
    bundle = campaigns_bundle([campaign], as_of=datetime(2026, 12, 7, tzinfo=UTC))
    observed = {
        o["external_references"][0]["external_id"]: o["first_observed"]
        for o in json.loads(bundle.serialize())["objects"]
        if o["type"] == "observed-data"
    }
    assert observed == {
        "k1": "2024-04-01T00:00:00Z",
        "k2": "2024-04-01T00:30:00Z",
        "k3": "2024-04-01T00:00:00Z",
    }


def zoned() -> list[dict[str, Any]]:
    # 04:30, 03:00 and 04:10 UTC on 1 April
    return copies(
        ("c1", "ny", "2024-03-31T23:30:00-05:00"),
        ("c2", "msk", "2024-04-01T06:00:00+03:00"),
        ("c3", "utc", "2024-04-01T04:10:00Z"),
    )


def test_first_and_last_seen_are_written_in_utc() -> None:
    (campaign,) = find_campaigns(zoned())
    record = campaign.to_dict()
    # was first "2024-04-01T06:00:00+03:00", last "2024-03-31T23:30:00-05:00"
    assert (record["first_seen"], record["last_seen"]) == (
        "2024-04-01T03:00:00Z",
        "2024-04-01T04:30:00Z",
    )
    assert record["members"][0]["date"] == "2024-04-01T06:00:00+03:00"  # as given


def test_the_summary_shows_first_seen_whole_with_its_zone() -> None:
    (campaign,) = find_campaigns(zoned())
    assert "2024-04-01T03:00:00Z" in format_summary([campaign])
    # a cluster stored before first seen was written in UTC keeps its offset on screen
    stored = replace(campaign, first_seen="2024-04-01T06:00:00+03:00")
    assert "2024-04-01T06:00:00+03:00" in format_summary([stored])


def test_a_source_named_unknown_is_a_source_and_a_missing_one_is_not() -> None:
    records = copies(("z1", "unknown", "2024-06-01T10:00:00Z"), ("z2", "chan", "2024-06-01T10:10Z"))
    (campaign,) = find_campaigns(records)
    record = campaign.to_dict()
    assert record["sources"] == ["unknown", "chan"]
    assert record["source_count"] == record["coordinated_sources"] == 2  # was 1 and 2
    missing = [{**r, "source": None} if r["id"] == "z1" else r for r in records]
    (campaign,) = find_campaigns(missing)
    assert campaign.members[0].source is None  # None, not the word "unknown"
    record = campaign.to_dict()
    assert record["members"][0]["source"] == "unknown"  # shown so
    assert record["source_count"] == 1 and record["coordinated_sources"] == 1


def test_a_padded_or_blank_source_is_read_stripped_or_as_none() -> None:
    records = copies(("p1", " chan ", "2024-06-01"), ("p2", "   ", "2024-06-02"))
    (campaign,) = find_campaigns(records)
    assert [m.source for m in campaign.members] == ["chan", None]
    assert campaign.to_dict()["source_count"] == 1


def test_stix_counts_a_source_named_unknown_as_the_record_does() -> None:
    pytest.importorskip("stix2")
    from narrascope.export.stix import campaigns_bundle

    records = copies(("z1", "unknown", "2024-06-01T10:00:00Z"), ("z2", "chan", "2024-06-01T10:10Z"))
    bundle = campaigns_bundle(find_campaigns(records), as_of=datetime(2026, 12, 7, tzinfo=UTC))
    (sdo,) = [o for o in json.loads(bundle.serialize())["objects"] if o["type"] == "campaign"]
    assert "2 documents from 2 sources (unknown, chan)" in sdo["description"]
    assert "of unknown source" not in sdo["description"]
    copypasta = [r for r in sdo["external_references"] if r.get("external_id") == "T0084.001"]
    assert copypasta and "posted by 2 sources" in copypasta[0]["description"]
