"""Campaign dates given as epoch numbers: JavaScript and most platforms' APIs count
milliseconds, and a cluster must not come out 54,000 years long for it."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from narrascope.corpus import find_campaigns
from narrascope.corpus.campaigns import timestamp
from test_campaigns import PORT, text

SECONDS = 1_709_290_000  # 2024-03-01T10:46:40Z


def test_an_epoch_number_in_seconds_or_milliseconds_is_the_same_moment() -> None:
    moment = datetime(2024, 3, 1, 10, 46, 40, tzinfo=UTC).timestamp()
    assert timestamp(SECONDS) == moment
    assert timestamp(SECONDS * 1000) == moment
    assert timestamp(SECONDS * 1000 + 250) == moment + 0.25
    assert timestamp(SECONDS * 1_000_000) == moment  # microseconds
    assert timestamp(SECONDS * 1_000_000_000) == moment  # nanoseconds
    assert timestamp(float(SECONDS) * 1000) == moment
    assert timestamp(0) is None and timestamp(-5) is None and timestamp(True) is None


def copies() -> list[dict[str, Any]]:
    return [
        {"id": "a", "text": text(PORT), "source": "chan-a", "date": "2024-03-01T10:00:00Z"},
        {"id": "b", "text": text(PORT), "source": "chan-b", "date": SECONDS * 1000},
        {"id": "c", "text": text(PORT), "source": "chan-c", "date": "2024-03-01T12:00:00Z"},
    ]


def test_a_cluster_with_a_millisecond_date_spans_hours_not_millennia() -> None:
    (campaign,) = find_campaigns(copies())
    record = campaign.to_dict()
    assert [m["id"] for m in record["members"]] == ["a", "b", "c"]  # b is at 10:46:40
    assert record["first_seen"] == "2024-03-01T10:00:00Z"
    assert record["last_seen"] == "2024-03-01T12:00:00Z"
    assert record["time_span_hours"] == 2.0
    assert record["members"][1]["date"] == str(SECONDS * 1000)  # the member's date as given


def test_a_millisecond_date_reads_as_an_iso_time_when_it_is_the_first_or_last() -> None:
    records = copies()[:2]
    (campaign,) = find_campaigns(records)
    record = campaign.to_dict()
    assert record["last_seen"] == "2024-03-01T10:46:40Z"
    assert record["time_span_hours"] == pytest.approx(0.78, abs=0.01)


def test_its_stix_campaign_has_the_last_seen_time() -> None:
    pytest.importorskip("stix2")
    from narrascope.export import stix as export_stix

    (campaign,) = find_campaigns(copies()[:2])
    made = export_stix.campaigns_bundle([campaign], as_of=datetime(2024, 6, 1, tzinfo=UTC))
    sdo = next(o for o in json.loads(made.serialize())["objects"] if o["type"] == "campaign")
    assert sdo["last_seen"] == "2024-03-01T10:46:40Z"
    assert "last seen 2024-03-01T10:46:40Z" in sdo["description"]
