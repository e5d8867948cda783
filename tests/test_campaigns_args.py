"""`narrascope campaigns`: INPUT and --db together is refused for what it is, and an --out
extension that names no format is refused before anything is read or written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from narrascope.cli import main

COPIED = (
    "The harbour authority in Northbay said on Monday that grain exports resumed after a "
    "three week pause caused by damage to the main loading terminal near the old bridge."
)


@pytest.fixture
def records(tmp_path: Path) -> Path:
    path = tmp_path / "recs.jsonl"
    rows = [
        {"id": "r1", "text": COPIED, "source": "north-news", "date": "2024-03-21"},
        {"id": "r2", "text": COPIED, "source": "port-daily", "date": "2024-03-22"},
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_inputs_and_db_together_are_refused_as_both(
    records: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["campaigns", str(records), "--db", str(tmp_path / "c.db")]) == 2
    assert "give INPUT files or folders, or --db, not both" in capsys.readouterr().err
    assert not (tmp_path / "c.db").exists()
    assert main(["campaigns"]) == 2
    err = capsys.readouterr().err
    assert "give INPUT files or folders, or --db" in err and "not both" not in err


@pytest.mark.parametrize("name", ["clusters.parquet", "clusters.xml", "bundle.json"])
def test_an_out_extension_without_a_format_is_refused(
    records: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    out = tmp_path / name
    assert main(["campaigns", str(records), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"no format is written as {out.suffix}" in err and "-f" in err and ".csv" in err
    assert not out.exists()


def test_a_named_format_or_a_known_extension_still_writes(
    records: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    forced = tmp_path / "clusters.txt"
    assert main(["campaigns", str(records), "-o", str(forced), "-f", "jsonl"]) == 0
    assert json.loads(forced.read_text(encoding="utf-8").splitlines()[0])["size"] == 2
    table = tmp_path / "clusters.CSV"  # any case
    assert main(["campaigns", str(records), "-o", str(table)]) == 0
    assert table.read_text(encoding="utf-8").startswith("campaign,size,")
    bare = tmp_path / "clusters"  # no extension: jsonl, as for os.devnull
    assert main(["campaigns", str(records), "-o", str(bare)]) == 0
    assert json.loads(bare.read_text(encoding="utf-8").splitlines()[0])["size"] == 2
