"""Parquet datasets as inputs (issue 27 review): partition folders give their rows fields,
and a corpus folder holding one Parquet file keeps its ``_`` files; only the bookkeeping
of the tools that write datasets is skipped."""

from __future__ import annotations

from pathlib import Path

import pytest

pa = pytest.importorskip("pyarrow", reason="pyarrow is not installed (narrascope[scale])")
pq = pytest.importorskip("pyarrow.parquet")

from narrascope.doc import Document  # noqa: E402
from narrascope.ingest import read_inputs  # noqa: E402

TEXTS = [
    "NATO provoked the war, the channel said again on Tuesday.",
    "Росія напала на Україну, повідомили у Києві.",
    "Sanctions backfired badly, a columnist wrote.",
    "Ukraine exported grain through the Danube ports.",
]


def read(*inputs: str | Path) -> list[Document]:
    items = list(read_inputs([str(i) for i in inputs]))
    assert all(isinstance(i, Document) for i in items), items
    return [i for i in items if isinstance(i, Document)]


def test_partition_folders_give_source_and_date_to_their_rows(tmp_path: Path) -> None:
    table = pa.table(
        {
            "id": ["h1", "h2", "h3", "h4"],
            "text": TEXTS,
            "source": ["tass", "suspilne", None, "ria novosti"],
            "date": ["2024-01-02", "2024-02-03", "2024-02-04", "2024-02-05"],
        }
    )
    root = tmp_path / "export"
    pq.write_to_dataset(table, root, partition_cols=["source", "date"])
    docs = {d.id: d.meta for d in read(root)}
    assert {k: (m["source"], m["date"]) for k, m in docs.items()} == {
        "h1": ("tass", "2024-01-02"),
        "h2": ("suspilne", "2024-02-03"),
        "h3": (None, "2024-02-04"),  # Hive's null partition
        "h4": ("ria novosti", "2024-02-05"),  # written URL-encoded: ria%20novosti
    }
    # through a URL too, and a named file under a partition folder
    (file_url,) = {f"file://{p}" for p in root.glob("source=tass/*")}
    assert [d.meta["source"] for d in read(file_url)] == ["tass"]
    (part,) = root.glob("source=tass/date=*/*.parquet")
    assert [(d.meta["source"], d.meta["date"]) for d in read(part)] == [("tass", "2024-01-02")]


def test_a_column_of_the_file_wins_over_its_folder(tmp_path: Path) -> None:
    path = tmp_path / "source=folder" / "posts.parquet"
    path.parent.mkdir()
    pq.write_table(pa.table({"id": ["a"], "text": TEXTS[:1], "source": ["column"]}), path)
    assert [d.meta["source"] for d in read(path)] == ["column"]


def test_a_parquet_file_in_a_corpus_folder_keeps_its_underscore_files(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    (corpus / "_archive").mkdir(parents=True)
    (corpus / "sub").mkdir()
    (corpus / "_draft.txt").write_text(TEXTS[0], encoding="utf-8")
    (corpus / "_archive" / "a.txt").write_text(TEXTS[1], encoding="utf-8")
    (corpus / "sub" / "b.txt").write_text(TEXTS[2], encoding="utf-8")
    pq.write_table(pa.table({"id": ["u9"], "text": TEXTS[3:]}), corpus / "telegram.parquet")
    # the bookkeeping of Spark, Delta Lake and narrascope is still no document
    (corpus / "_SUCCESS").write_bytes(b"")
    (corpus / "_committed_123").write_text("{}", encoding="utf-8")
    (corpus / "_errors.jsonl").write_text('{"source": "x", "reason": "y"}\n', encoding="utf-8")
    (corpus / "_journal.jsonl.partial.jsonl").write_text('{"id": "j"}\n', encoding="utf-8")
    (corpus / "_delta_log").mkdir()
    (corpus / "_delta_log" / "00000.json").write_text('{"commitInfo": {}}\n', encoding="utf-8")
    attempt = corpus / "_temporary" / "0"
    attempt.mkdir(parents=True)
    pq.write_table(
        pa.table({"id": ["half"], "text": ["a task's unfinished output"]}), attempt / "p.parquet"
    )
    expected = ["a.txt", "_draft.txt", "b.txt", "u9"]
    assert [d.id for d in read(corpus)] == expected
    assert [d.id for d in read(f"file://{corpus}")] == expected
