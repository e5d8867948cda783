"""``stats --parquet``: the narrative counts of analysed records without a database are
the database's own (``Store.stats``), bucket by bucket. Texts are our own."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from narrascope.cli import main
from narrascope.corpus.stats import record_stats
from narrascope.doc import Annotation, Document
from narrascope.store import STATS_BY, open_store

PUPPET = "URW: Discrediting Ukraine"
BLAME = "URW: Blaming the war on others rather than the invader"
DOCS = [
    ("a", "2024-03-02T10:00:00", "north-news", "en", [PUPPET]),
    ("b", "2024-03-02", "daily", "en", [PUPPET, BLAME]),
    ("c", "2024-03-09", "daily", "ru", [BLAME]),
    ("d", "2024-04-30T23:59:00", "north-news", "pt", [PUPPET]),
    ("e", None, None, "en", [PUPPET]),  # no date, no source: the bucket None
    ("f", "2024-04-01", "blog", "bg", []),  # no narrative: not counted
]


def documents() -> list[Document]:
    out = []
    for doc_id, day, source, language, labels in DOCS:
        meta = {k: v for k, v in (("date", day), ("source", source)) if v}
        doc = Document(
            text=f"Text {doc_id} says something about the war.", id=doc_id, language=language
        )
        doc.meta = meta
        doc.groups["narratives"] = [Annotation(label, 0.8) for label in labels]
        out.append(doc)
    return out


def _records_count_as_the_database(docs: list[Document], tmp_path: Path) -> list[dict]:
    """The records of ``docs``, after checking that every kind of count made from them
    equals the corpus database's; the tests go on from there."""
    with open_store(tmp_path / "corpus.db") as store:
        store.save(docs)
        expected = {by: store.stats(by) for by in STATS_BY}
    records = [d.to_dict() for d in docs]
    for by in STATS_BY:
        assert record_stats(records, by) == expected[by], by
    return records


def test_record_counts_are_the_databases(tmp_path: Path) -> None:
    docs = documents()
    records = _records_count_as_the_database(docs, tmp_path)
    assert record_stats(records, "week")[0].bucket == "2024-W09"
    with pytest.raises(ValueError, match="by must be one of"):
        record_stats(records, "year")


def test_written_dates_are_bucketed_as_the_database_buckets_them(tmp_path: Path) -> None:
    # the database files "05.03.2024" and "March 7, 2024" under their day; "March 2024"
    # and "2024" pin no day and are undated there
    dates = {"w1": "05.03.2024", "w2": "March 7, 2024", "w3": "March 2024", "w4": "2024"}
    docs = []
    for doc_id, day in dates.items():
        doc = Document(text=f"Text {doc_id} about the war.", id=doc_id, language="en")
        doc.meta = {"date": day}
        doc.groups["narratives"] = [Annotation(PUPPET, 0.8)]
        docs.append(doc)
    records = _records_count_as_the_database(docs, tmp_path)
    buckets = {r.bucket: r.documents for r in record_stats(records, "month")}
    assert buckets == {"2024-03": 2, None: 2}
    assert [r.bucket for r in record_stats(records, "day")] == ["2024-03-05", "2024-03-07", None]
    assert [r.bucket for r in record_stats(records, "week")] == ["2024-W10", None]


def test_padded_and_blank_sources_count_as_the_database_counts_them(tmp_path: Path) -> None:
    sources = {"p1": "daily ", "p2": "daily", "p3": "   "}
    docs = []
    for doc_id, source in sources.items():
        doc = Document(text=f"Text {doc_id} about the war.", id=doc_id, language="en")
        doc.meta = {"source": source}
        doc.groups["narratives"] = [Annotation(PUPPET, 0.8)]
        docs.append(doc)
    records = _records_count_as_the_database(docs, tmp_path)
    assert {r.bucket: r.documents for r in record_stats(records, "source")} == {
        "daily": 2,
        None: 1,
    }


def test_stats_reads_the_parquet_output(tmp_path: Path, capsys) -> None:
    pytest.importorskip("pyarrow")
    from narrascope.export.parquet import write_parquet_records

    docs = documents()
    folder = tmp_path / "results"
    write_parquet_records([d.to_dict() for d in docs], folder)
    with open_store(tmp_path / "corpus.db") as store:
        store.save(docs)
    assert main(["stats", "--db", str(tmp_path / "corpus.db"), "--by", "source", "--json"]) == 0
    from_db = json.loads(capsys.readouterr().out)
    assert main(["stats", "--parquet", str(folder), "--by", "source", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == from_db
    assert main(["stats", "--parquet", str(folder), "--hate"]) == 2
    assert "narratives only" in capsys.readouterr().err
    assert main(["stats", "--parquet", str(tmp_path / "nothing")]) == 2
    assert "no Parquet parts" in capsys.readouterr().err
