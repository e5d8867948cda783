"""`narrascope campaigns --out`: written whole or not at all, never over a database; a
folder of the user's own Parquet documents is read as documents; an input with no files
is an error, as for `analyze`."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from narrascope.cli import campaigns as cli
from narrascope.cli import main

COPIED = (
    "The harbour authority in Northbay said on Monday that grain exports resumed after a "
    "three week pause caused by damage to the main loading terminal near the old bridge."
)
OTHER = (
    "Bakers in the capital blamed the cost of flour and electricity for another rise in "
    "bread prices, while the government promised inspections of large wholesalers."
)


@pytest.fixture
def records(tmp_path: Path) -> Path:
    path = tmp_path / "recs.jsonl"
    rows = [
        {"id": "r1", "text": COPIED, "source": "north-news", "date": "2024-03-21"},
        {"id": "r2", "text": COPIED, "source": "port-daily", "date": "2024-03-22"},
        {"id": "r3", "text": OTHER, "source": "port-daily", "date": "2024-03-22"},
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_a_failed_write_leaves_the_previous_output_whole(
    records: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "clusters.jsonl"
    assert main(["campaigns", str(records), "-o", str(out)]) == 0
    before = out.read_bytes()
    assert json.loads(before.splitlines()[0])["size"] == 2

    def half_then_fail(campaigns: object, fh: object, fmt: str, **_: object) -> None:
        fh.write('{"id": "half')  # type: ignore[attr-defined]
        raise OSError("disk full")

    monkeypatch.setattr(cli, "write_campaigns", half_then_fail)
    with pytest.raises(OSError, match="disk full"):
        main(["campaigns", str(records), "-o", str(out)])
    assert out.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clusters.jsonl", "recs.jsonl"]


def test_a_new_output_appears_only_when_complete(
    records: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "new" / "clusters.csv"

    def fail(*_: object, **__: object) -> None:
        raise RuntimeError("stop")

    monkeypatch.setattr(cli, "write_campaigns", fail)
    with pytest.raises(RuntimeError):
        main(["campaigns", str(records), "-o", str(out)])
    assert list(out.parent.iterdir()) == []


def _sqlite(path: Path) -> bytes:
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE notes (x TEXT)")
        conn.execute("INSERT INTO notes VALUES ('keep me')")
    conn.close()
    return path.read_bytes()


def test_out_that_is_the_save_to_database_is_refused(
    records: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "camp.db"
    for fmt in ([], ["-f", "jsonl"]):
        argv = ["campaigns", str(records), "--save-to", str(target), "-o", str(target), *fmt]
        assert main(argv) == 2
        assert "is the --save-to file" in capsys.readouterr().err
    assert not target.exists()  # nothing created, nothing clustered


def test_out_that_is_the_db_is_refused_untouched(
    records: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "corpus.db"
    assert main(["campaigns", str(records), "--save-to", str(db)]) == 0
    before = db.read_bytes()
    capsys.readouterr()
    assert main(["campaigns", "--db", str(db), "-o", str(db), "-f", "csv"]) == 2
    assert "is the --db file" in capsys.readouterr().err
    assert db.read_bytes() == before
    assert main(["campaigns", "--db", str(db), "--stored", "-o", str(db), "-f", "html"]) == 2
    assert "is the --db file" in capsys.readouterr().err
    assert db.read_bytes() == before


def test_out_that_is_any_sqlite_file_is_refused(
    records: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = tmp_path / "notes.sqlite"
    before = _sqlite(other)
    assert main(["campaigns", str(records), "-o", str(other), "-f", "jsonl"]) == 2
    assert "is a SQLite database" in capsys.readouterr().err
    bare = tmp_path / "archive"  # no extension: jsonl, unless it is a database
    bare_before = _sqlite(bare)
    assert main(["campaigns", str(records), "-o", str(bare)]) == 2
    assert bare.read_bytes() == bare_before
    assert other.read_bytes() == before


def test_out_that_is_an_input_is_refused(records: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = records.read_bytes()
    assert main(["campaigns", str(records), "-o", str(records), "-f", "jsonl"]) == 2
    assert "would write over the input" in capsys.readouterr().err
    assert records.read_bytes() == before


def test_an_output_inside_an_input_folder_is_not_read_back(records: Path, tmp_path: Path) -> None:
    out = tmp_path / "clusters.jsonl"
    assert main(["campaigns", str(tmp_path), "-o", str(out), "--id-field", "id"]) == 0
    first = out.read_text(encoding="utf-8")
    assert main(["campaigns", str(tmp_path), "-o", str(out), "--id-field", "id"]) == 0
    assert out.read_text(encoding="utf-8") == first  # the clusters of recs.jsonl alone


def test_a_folder_of_own_parquet_documents_is_read_as_documents(tmp_path: Path) -> None:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    folder = tmp_path / "exports"
    folder.mkdir()
    table = pa.table(
        {
            "id": ["p1", "p2", "p3"],
            "text": [COPIED, COPIED, OTHER],
            "source": ["north-news", "port-daily", "bakers-weekly"],
            "date": ["2024-03-21", "2024-03-21", "2024-03-22"],
        }
    )
    pq.write_table(table, folder / "posts.parquet")
    out = tmp_path / "c.jsonl"
    assert main(["campaigns", str(folder), "-o", str(out)]) == 0
    (campaign,) = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert {m["id"] for m in campaign["members"]} == {"p1", "p2"}
    assert {m["source"] for m in campaign["members"]} == {"north-news", "port-daily"}
    # the file named alone is read the same way
    assert main(["campaigns", str(folder / "posts.parquet"), "-o", str(out)]) == 0
    (again,) = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert {m["id"] for m in again["members"]} == {"p1", "p2"}


def test_an_empty_folder_is_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["campaigns", str(empty)]) == 1
    captured = capsys.readouterr()
    assert f"narrascope: error: no files found in {empty}" in captured.err
    assert "no near-duplicate clusters" not in captured.out
    pattern = str(tmp_path / "*.jsonl")  # reported as analyze reports it
    assert main(["campaigns", pattern]) == 1
    assert f"{pattern}: no file matches this pattern" in capsys.readouterr().err


def test_an_empty_folder_beside_real_inputs_is_one_failed_input(
    records: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    out = tmp_path / "c.jsonl"
    assert main(["campaigns", str(records), str(empty), "-o", str(out)]) == 1
    assert f"skipped: {empty}: no files found" in capsys.readouterr().err
    assert json.loads(out.read_text(encoding="utf-8").splitlines()[0])["size"] == 2
