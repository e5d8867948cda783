"""Field names the user chose (``--id-field``, ``--date-field``...) that the records lack:
a missing id field is an error like a missing text field; a missing date, source or url
field is said once per file, naming the keys the records have."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from narrascope import Document
from narrascope.errors import InputError
from narrascope.ingest import ReadOptions, read_inputs

POSTS = [
    {"id": "p1", "body": "NATO provoked this war.", "published": "2024-05-01", "site": "blog"},
    {"id": "p2", "body": "Sanctions hurt Europe more.", "published": "2024-05-03", "site": "tg"},
]


def _jsonl(path: Path, rows: list[dict[str, str]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def _read(*paths: Path, **options: str) -> list[Document | InputError]:
    return list(read_inputs(list(paths), ReadOptions(**options)))  # type: ignore[arg-type]


def test_a_misspelled_date_or_source_field_is_said_once_per_file(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    first = _jsonl(tmp_path / "a.jsonl", POSTS)
    second = _jsonl(tmp_path / "b.jsonl", [{**r, "id": r["id"] + "b"} for r in POSTS])
    with caplog.at_level(logging.WARNING, logger="narrascope.ingest"):
        docs = _read(first, second, text_field="body", date_field="publishd", source_field="sitee")
    said = [r.getMessage() for r in caplog.records]
    assert said == [
        f"{first}:1: no 'publishd' field (keys present: id, body, published, site), so "
        "records without it get no date; choose the date field with --date-field "
        "(said once per file)",
        f"{first}:1: no 'sitee' field (keys present: id, body, published, site), so "
        "records without it get no source; choose the source field with --source-field "
        "(said once per file)",
        f"{second}:1: no 'publishd' field (keys present: id, body, published, site), so "
        "records without it get no date; choose the date field with --date-field "
        "(said once per file)",
        f"{second}:1: no 'sitee' field (keys present: id, body, published, site), so "
        "records without it get no source; choose the source field with --source-field "
        "(said once per file)",
    ]
    # the documents are read; the first of each file carries the note
    assert [d.id for d in docs] == ["p1", "p2", "p1b", "p2b"]  # type: ignore[union-attr]
    assert all(isinstance(d, Document) and d.meta["date"] is None for d in docs)
    notes = [d.meta.get("input_warnings") for d in docs]  # type: ignore[union-attr]
    assert [bool(n) for n in notes] == [True, False, True, False]
    assert "no 'publishd' field" in notes[0][0]  # type: ignore[index]


def test_default_or_correct_field_names_say_nothing(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = _jsonl(tmp_path / "a.jsonl", POSTS)
    with caplog.at_level(logging.WARNING, logger="narrascope.ingest"):
        plain = _read(path, text_field="body")  # no "date", "source", "url" keys: defaults
        named = _read(path, text_field="body", date_field="published", source_field="site")
    assert caplog.records == []
    assert all("input_warnings" not in d.meta for d in plain + named)  # type: ignore[union-attr]
    assert [d.meta["date"] for d in named] == ["2024-05-01", "2024-05-03"]  # type: ignore[union-attr]
    assert [d.meta["source"] for d in named] == ["blog", "tg"]  # type: ignore[union-attr]


def test_a_misspelled_id_field_is_an_error_like_the_text_field(tmp_path: Path) -> None:
    path = _jsonl(tmp_path / "a.jsonl", POSTS)
    items = _read(path, text_field="body", id_field="ident")
    assert all(isinstance(i, InputError) and i.code == "E107" for i in items)
    assert [i.source for i in items] == [f"{path}:1", f"{path}:2"]  # type: ignore[union-attr]
    assert items[0].reason == (  # type: ignore[union-attr]
        "no 'ident' field (keys present: id, body, published, site); "
        "choose the id field with --id-field"
    )
    # a CSV says it once, of its header
    table = tmp_path / "posts.csv"
    table.write_text("post_id,body\nx1,NATO provoked this war.\n", encoding="utf-8")
    (error,) = _read(table, text_field="body", id_field="ident")
    assert isinstance(error, InputError) and error.code == "E107"
    assert error.reason == (
        "no 'ident' column (columns: post_id, body); choose the id column with --id-field"
    )
    assert [d.id for d in _read(table, text_field="body", id_field="post_id")] == ["x1"]


def test_threads_grouped_by_a_parent_field_check_the_chosen_fields_too(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    rows = [
        {"uid": "t1", "text": "NATO provoked this war.", "parent": ""},
        {"uid": "t2", "text": "No, Russia invaded.", "parent": "t1"},
    ]
    path = _jsonl(tmp_path / "thread.jsonl", rows)
    with caplog.at_level(logging.WARNING, logger="narrascope.ingest"):
        (doc,) = _read(path, id_field="uid", parent_field="parent", url_field="link")
    assert isinstance(doc, Document) and doc.id == "t1" and len(doc.comments) == 1
    assert [r.getMessage().split(": ", 1)[1][:16] for r in caplog.records] == ["no 'link' field "]
    errors = _read(path, id_field="ident", parent_field="parent")
    assert {e.code for e in errors if isinstance(e, InputError)} == {"E107"}
