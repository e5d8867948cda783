"""A Parquet ``--out`` folder (issue 27 review): narrascope replaces only its own part
files, refuses a folder it did not write, reports a damaged part as one line naming it,
and a resumed run's progress bar counts what is left of *this* input."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest

pa = pytest.importorskip("pyarrow", reason="pyarrow is not installed (narrascope[scale])")
pq = pytest.importorskip("pyarrow.parquet")

import narrascope  # noqa: E402
from narrascope.cli import main  # noqa: E402
from narrascope.doc import Document  # noqa: E402
from narrascope.engine.outputs import run_to_output  # noqa: E402
from narrascope.errors import NarrascopeError  # noqa: E402
from narrascope.export.parquet import (  # noqa: E402
    PartError,
    count_rows,
    parquet_ids,
    part_files,
    read_parquet_records,
)
from narrascope.pipeline import Pipeline  # noqa: E402

TEXTS = [
    "Officials said the sanctions were working, but prices kept rising in every shop.",
    "Власти заявили, что удар по электростанции оставил без света тысячи жителей.",
    "Ships carrying grain left the port at dawn, traders said on Monday.",
]


class Echo:
    """A pipeline that annotates nothing: these tests are about files, not models."""

    def pipe(self, docs: Iterable[Document], *, batch_size: int = 16) -> Iterator[Document]:
        yield from docs


def documents(prefix: str, n: int) -> list[Document]:
    return [Document(text=f"{TEXTS[i % 3]} ({i})", id=f"{prefix}{i:02d}") for i in range(n)]


def write_table(path: Path, columns: dict[str, list]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table(columns), path)
    return path


@pytest.fixture
def no_models(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(narrascope, "load", lambda config=None: Pipeline([]))


def test_a_fresh_run_replaces_only_narrascopes_own_parts(tmp_path: Path) -> None:
    out = tmp_path / "results"
    run_to_output(documents("old", 3), Echo(), out=out, fmt="parquet", progress=False)
    (old_part,) = part_files(out)
    # files a user keeps in the folder: their own table, a partition, notes
    metrics = write_table(out / "metrics.parquet", {"x": [1, 2, 3]})
    lake = write_table(out / "year=2023" / "part-0.parquet", {"id": ["h1"], "text": ["archived"]})
    notes = out / "notes.txt"
    notes.write_text("kept by hand", encoding="utf-8")
    before = {p: p.read_bytes() for p in (metrics, lake, notes)}

    run_to_output(documents("new", 2), Echo(), out=out, fmt="parquet", progress=False)
    assert {p: p.read_bytes() for p in (metrics, lake, notes)} == before  # untouched
    assert not old_part.exists()  # narrascope's old part was replaced
    assert [r["id"] for r in read_parquet_records(out)] == ["new00", "new01"]
    # the foreign files are no parts: --resume and the readers pass them by
    assert parquet_ids(out) == {"new00", "new01"} and count_rows(out) == 2
    again = run_to_output(
        documents("new", 3), Echo(), out=out, fmt="parquet", resume=True, progress=False
    )
    assert (again.processed, again.skipped) == (1, 2)
    assert metrics.read_bytes() == before[metrics]


def test_a_folder_narrascope_did_not_write_is_refused_and_left_alone(
    tmp_path: Path, no_models: None, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    posts = write_table(data / "posts.parquet", {"id": ["p1", "p2"], "text": TEXTS[:2]})
    more = write_table(data / "sub" / "more.parquet", {"id": ["q1"], "text": TEXTS[2:]})
    before = {p: p.read_bytes() for p in (posts, more)}
    with pytest.raises(NarrascopeError, match="is not a Parquet output of narrascope"):
        run_to_output(documents("x", 1), Echo(), out=data, fmt="parquet", progress=False)
    # another input, the folder as --out: refused (exit 2), with or without --resume
    posts_jsonl = tmp_path / "posts.jsonl"
    posts_jsonl.write_text(json.dumps({"id": "j1", "text": TEXTS[0]}) + "\n", encoding="utf-8")
    for extra in ([], ["--resume"], ["-f", "parquet"]):
        argv = ["analyze", str(posts_jsonl), "--out", f"{data}/", "--no-progress", *extra]
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert err.startswith("narrascope: error: [E100]") and "new or empty folder" in err
    # the input inside the output folder: refused too, never read as nothing and deleted
    assert main(["analyze", str(posts), "--out", f"{data}/", "--no-progress"]) == 2
    assert capsys.readouterr().err.startswith("narrascope: error: [E100]")
    assert {p: p.read_bytes() for p in (posts, more)} == before
    assert sorted(p.name for p in data.rglob("*")) == ["more.parquet", "posts.parquet", "sub"]
    # an empty folder (hidden files aside) is fine
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / ".DS_Store").write_bytes(b"finder")
    assert main(["analyze", str(posts_jsonl), "--out", str(empty), "--no-progress"]) == 0
    assert parquet_ids(empty) == {"j1"}


def damaged_dataset(tmp_path: Path) -> tuple[Path, Path]:
    """A dataset whose newest part was cut short (a full disk, a copy interrupted)."""
    out = tmp_path / "res"
    run_to_output(documents("d", 3), Echo(), out=out, fmt="parquet", progress=False)
    (part,) = part_files(out)
    cut = out / "part-20991231T000000-aaaaaa-00000.parquet"
    cut.write_bytes(part.read_bytes()[:200])
    return out, cut


def test_a_damaged_part_is_one_error_naming_it(
    tmp_path: Path, no_models: None, capsys: pytest.CaptureFixture[str]
) -> None:
    out, cut = damaged_dataset(tmp_path)
    with pytest.raises(PartError, match=rf"{cut.name}: not a readable Parquet file \(ArrowInvalid"):
        list(read_parquet_records(out))
    with pytest.raises(PartError, match=cut.name):
        parquet_ids(out)
    # stats --parquet and analyze --resume: one line, exit 2, no traceback
    assert main(["stats", "--parquet", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("narrascope: error: [E106]") and str(cut) in err
    assert "Traceback" not in err
    posts = tmp_path / "posts.jsonl"
    posts.write_text(json.dumps({"id": "d00", "text": TEXTS[0]}) + "\n", encoding="utf-8")
    argv = ["analyze", str(posts), "--out", str(out), "--resume", "--no-progress"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "[E106]" in err and cut.name in err and "Traceback" not in err


def test_a_part_named_file_without_narrascopes_columns_is_one_error(tmp_path: Path) -> None:
    out = tmp_path / "res"
    run_to_output(documents("d", 2), Echo(), out=out, fmt="parquet", progress=False)
    odd = write_table(out / "part-20991231T000000-bbbbbb-00000.parquet", {"x": [1]})
    with pytest.raises(PartError, match=r"no 'text', 'record' column"):
        list(read_parquet_records(out))
    with pytest.raises(PartError, match=rf"{odd.name}: no 'id' column"):
        parquet_ids(out)
    # a caller that skips a damaged dataset and goes on (campaigns) still can
    with pytest.raises(ValueError):
        list(read_parquet_records(out))


def test_a_resumed_runs_bar_counts_only_what_is_left_of_this_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "ds"
    run_to_output(documents("x", 12), Echo(), out=out, fmt="parquet", progress=False)
    capsys.readouterr()
    # a new day's file added to a large dataset: none of its 8 documents is done
    report = run_to_output(
        documents("y", 8), Echo(), out=out, fmt="parquet", resume=True, progress="always", total=8
    )
    assert (report.processed, report.skipped) == (8, 0)
    assert "8/8" in capsys.readouterr().err
    # the same input again, grown: 20 of which 12 are done
    report = run_to_output(
        documents("x", 20), Echo(), out=out, fmt="parquet", resume=True, progress="always", total=20
    )
    assert (report.processed, report.skipped) == (8, 12)
    assert "8/8" in capsys.readouterr().err
