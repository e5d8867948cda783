"""Parquet output (issue 27): one row per document, read back into the very jsonl records,
written by the local engine, resumable after a crash."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

pa = pytest.importorskip("pyarrow", reason="pyarrow is not installed (narrascope[scale])")
pq = pytest.importorskip("pyarrow.parquet")

import narrascope  # noqa: E402
from narrascope.cli import main  # noqa: E402
from narrascope.doc import Document  # noqa: E402
from narrascope.engine.outputs import ERRORS, JOURNAL, run_to_output  # noqa: E402
from narrascope.export.parquet import (  # noqa: E402
    count_rows,
    parquet_ids,
    part_files,
    read_parquet_records,
    record_to_row,
    write_parquet_records,
)
from scale_texts import TEXTS as SCALE_TEXTS  # noqa: E402

TEXTS = SCALE_TEXTS[:4]  # a war narrative, two local stories, a sanctions claim
STAGES = ["language", "segment", "narratives", "techniques"]


@pytest.fixture(scope="module")
def nlp() -> narrascope.Pipeline:
    return narrascope.load(stages=STAGES)


def documents(n: int = 8) -> list[Document]:
    return [
        Document(text=f"{TEXTS[i % len(TEXTS)]} Note {i}.", id=f"doc-{i}", meta={"source": "t"})
        for i in range(n)
    ]


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_a_parquet_dataset_reads_back_the_jsonl_records(
    nlp: narrascope.Pipeline, tmp_path: Path
) -> None:
    run_to_output(documents(), nlp, out=tmp_path / "a.jsonl", fmt="jsonl", progress=False)
    report = run_to_output(documents(), nlp, out=tmp_path / "ds", fmt="parquet", progress=False)
    expected = read_jsonl(tmp_path / "a.jsonl")
    assert report.processed == 8 and report.output == tmp_path / "ds"
    assert list(read_parquet_records(tmp_path / "ds")) == expected
    # the journal is gone, only complete parts remain
    assert not (tmp_path / "ds" / JOURNAL).exists()
    assert [p.suffix for p in (tmp_path / "ds").iterdir()] == [".parquet"]
    # typed columns answer questions without parsing JSON
    table = pq.read_table(tmp_path / "ds", columns=["id", "language", "narratives"])
    rows = table.to_pylist()
    assert [r["id"] for r in rows] == [r["id"] for r in expected]
    assert {r["language"] for r in rows} == {"en"}
    for row, record in zip(rows, expected, strict=True):
        assert [n["label"] for n in row["narratives"]] == [n["label"] for n in record["narratives"]]
    assert any(row["narratives"] for row in rows)  # the war texts do get a narrative


def test_a_record_with_open_keys_and_lone_surrogates_round_trips(tmp_path: Path) -> None:
    odd = {
        "id": "x1",
        "language": "uk",
        "date": 20240501,  # a number: the column says "20240501", the record keeps the int
        "title": "Заголовок",
        "custom_group": [{"label": "A: b", "score": 0.5, "evidence": []}],
        "thread": {"depth": 2, "authors": ["a", None]},
        "content_hash": "abc",
        "text": "broken \ud800 text",
        "sentences": [[0, 6]],
        "entities": [{"name": "Kyiv", "kind": None, "main_role": "Innocent", "score": 0.7}],
        "techniques": [{"label": "Doubt", "paragraph": 2, "score": 0.4, "start": 0, "end": 6}],
    }
    plain = {"id": "x2", "text": "plain text", "narratives": []}
    parts = write_parquet_records([odd, plain], tmp_path / "ds", rows_per_file=1)
    assert len(parts) == 2 and part_files(tmp_path / "ds") == parts
    assert list(read_parquet_records(tmp_path / "ds")) == [odd, plain]
    assert parquet_ids(tmp_path / "ds") == {"x1", "x2"} and count_rows(tmp_path / "ds") == 2
    row = record_to_row(odd)
    assert row["date"] == "20240501" and row["text"] == "broken ? text"
    assert row["entities"] == [
        {"name": "Kyiv", "kind": None, "main_role": "Innocent", "score": 0.7}
    ]


def crash_after(items: list[Document], n: int) -> Iterator[Document]:
    """The input of a run that dies (a kill, a lost machine) after ``n`` documents."""
    for i, item in enumerate(items):
        if i == n:
            raise KeyboardInterrupt("killed")
        yield item


def test_a_killed_parquet_run_resumes_without_losing_or_repeating(
    nlp: narrascope.Pipeline, tmp_path: Path
) -> None:
    out = tmp_path / "ds"
    with pytest.raises(KeyboardInterrupt):
        run_to_output(crash_after(documents(), 5), nlp, out=out, fmt="parquet", batch_size=2)
    # two full batches reached the journal before the kill; no part yet
    assert (out / f"{JOURNAL}.partial.jsonl").exists() and not part_files(out)
    report = run_to_output(documents(), nlp, out=out, fmt="parquet", resume=True, batch_size=2)
    assert (report.processed, report.skipped) == (4, 4)
    full = tmp_path / "full.jsonl"
    run_to_output(documents(), nlp, out=full, fmt="jsonl", progress=False, batch_size=2)
    assert list(read_parquet_records(out)) == read_jsonl(full)
    # resuming a finished dataset analyses nothing; a fresh run replaces it
    again = run_to_output(documents(), nlp, out=out, fmt="parquet", resume=True, progress=False)
    assert (again.processed, again.skipped) == (0, 8)
    fresh = run_to_output(documents(3), nlp, out=out, fmt="parquet", progress=False)
    assert fresh.processed == 3 and parquet_ids(out) == {"doc-0", "doc-1", "doc-2"}


def test_failures_go_to_the_datasets_errors_file(tmp_path: Path) -> None:
    class Fails:
        def pipe(self, docs, *, batch_size=16):  # type: ignore[no-untyped-def]
            for doc in docs:
                if doc.id == "doc-1":
                    raise ValueError("no way")
                yield doc

    report = run_to_output(documents(3), Fails(), out=tmp_path / "ds", fmt="parquet")
    assert report.processed == 2 and report.errors_file == tmp_path / "ds" / ERRORS
    (entry,) = read_jsonl(tmp_path / "ds" / ERRORS)
    assert entry["source"] == "doc-1" and "ValueError: no way" in entry["reason"]
    assert parquet_ids(tmp_path / "ds") == {"doc-0", "doc-2"}


def test_cli_writes_parquet_to_a_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from narrascope.pipeline import Pipeline

    monkeypatch.setattr(narrascope, "load", lambda config=None: Pipeline([]))  # no model needed
    posts = tmp_path / "posts.jsonl"
    posts.write_text(
        "\n".join(json.dumps({"id": f"p{i}", "text": TEXTS[i]}) for i in range(3)),
        encoding="utf-8",
    )
    assert main(["analyze", str(posts), "--out", f"{tmp_path}/ds/", "--no-progress"]) == 0
    assert [r["id"] for r in read_parquet_records(tmp_path / "ds")] == ["p0", "p1", "p2"]
    assert main(["analyze", str(posts), "--out", str(tmp_path / "x.jsonl"), "--no-progress"]) == 0
    assert list(read_parquet_records(tmp_path / "ds")) == read_jsonl(tmp_path / "x.jsonl")
    # an existing folder and .parquet names mean Parquet too; --resume skips what is there
    argv = ["analyze", str(posts), "--out", str(tmp_path / "ds"), "--resume", "--no-progress"]
    assert main(argv) == 0
    assert "0 analysed, 3 skipped (already done), 0 failed" in capsys.readouterr().err
    assert main(["analyze", str(posts), "-o", str(tmp_path / "y.parquet"), "--no-progress"]) == 0
    assert parquet_ids(tmp_path / "y.parquet") == {"p0", "p1", "p2"}
