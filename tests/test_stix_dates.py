"""Campaigns as STIX with dates at the edge of what a datetime holds: "0001-01-01" and
"9999-12-31" are common "null" and "never" sentinels in scraped metadata, and one must
not stop the bundle; such a date is left out as unknown, like a missing one."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from narrascope.cli import main
from narrascope.corpus import find_campaigns
from narrascope.export import stix as export_stix
from test_campaigns import PORT, text

AS_OF = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def stix2() -> Any:
    return pytest.importorskip("stix2")


def copies(sentinel: str) -> list[dict[str, Any]]:
    """The same text from two sources, one dated normally, one with a sentinel date."""
    return [
        {"id": "a", "text": text(PORT), "source": "north-news", "date": "2024-01-01"},
        {"id": "b", "text": text(PORT), "source": "daily", "date": sentinel},
    ]


@pytest.mark.parametrize(
    ("sentinel", "seen"),
    [
        # the year 10000 in UTC: the cluster's last date is unknown
        ("9999-12-31T23:00:00-05:00", {"first_seen": "2024-01-01T00:00:00Z"}),
        # the year 0 in UTC: its first date is unknown
        ("0001-01-01T00:00:00+05:00", {"last_seen": "2024-01-01T00:00:00Z"}),
    ],
)
def test_a_date_beyond_utcs_years_is_unknown_not_a_crash(
    stix2: Any, sentinel: str, seen: dict[str, str]
) -> None:
    (campaign,) = find_campaigns(copies(sentinel))
    made = export_stix.campaigns_bundle([campaign], as_of=AS_OF)
    bundle = json.loads(made.serialize())
    stix2.parse(made.serialize(), allow_custom=False)
    sdo = next(o for o in bundle["objects"] if o["type"] == "campaign")
    observed = {
        o["external_references"][0]["external_id"]: o
        for o in bundle["objects"]
        if o["type"] == "observed-data"
    }
    assert observed["a"]["first_observed"] == "2024-01-01T00:00:00Z"
    assert observed["b"]["first_observed"] == "2024-06-01T12:00:00Z"  # undated: the run time
    assert sentinel in sdo["description"]  # the date as the source gave it
    assert {k: sdo[k] for k in ("first_seen", "last_seen") if k in sdo} == seen


def test_the_cli_writes_the_bundle_of_such_a_corpus(stix2: Any, tmp_path: Path) -> None:
    path = tmp_path / "far.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in copies("9999-12-31T23:00:00-05:00")))
    out = tmp_path / "far.stix.json"
    assert main(["campaigns", str(path), "--format", "stix", "-o", str(out)]) == 0
    stix2.parse(out.read_text("utf-8"), allow_custom=False)
