"""Parquet files, glob patterns and URLs as inputs (issue 27): read as JSONL records would
be, with the same ids and the same errors, and one error per input that cannot be read."""

from __future__ import annotations

import datetime as dt
import json
import sys
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from narrascope import Document
from narrascope.errors import E_NOT_FOUND, E_PACKAGE_MISSING, InputError
from narrascope.ingest import INPUT_FORMATS, ReadOptions, discover, estimate_count, read_inputs
from narrascope.ingest.remote import _label_prefix, _match, redact

# Our own texts (no dataset text).
TEXTS = [
    "Officials said the sanctions were working, but prices kept rising in every shop.",
    "The city council approved the budget; bus lines and schools get four percent more.",
    "Власти заявили, что удар по электростанции оставил без света тысячи жителей.",
    "Ships carrying grain left the port at dawn, traders said on Monday.",
]


@pytest.fixture
def pq() -> ModuleType:
    """pyarrow.parquet, or the test is skipped (pyarrow is the optional scale extra)."""
    pytest.importorskip("pyarrow", reason="pyarrow is not installed (narrascope[scale])")
    return pytest.importorskip("pyarrow.parquet")


def write_parquet(path: Path, columns: dict[str, Any], **kwargs: Any) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table(columns), path, **kwargs)
    return path


def read_all(*inputs: str | Path, **options: Any) -> list[Document | InputError]:
    return list(read_inputs(list(inputs), ReadOptions(**options)))


def summary(items: list[Document | InputError]) -> list[tuple[str, ...]]:
    """(id, text) of each document, (code, message) of each error, in order."""
    return [
        (item.id or "", item.text) if isinstance(item, Document) else (item.code, str(item))
        for item in items
    ]


# -- Parquet rows are JSONL records ---------------------------------------------------------


def test_parquet_rows_read_as_the_same_jsonl_records(pq: ModuleType, tmp_path: Path) -> None:
    records = [
        {"id": "p1", "text": TEXTS[0], "source": "wire", "url": "https://a.example/1"},
        {"id": None, "text": TEXTS[1], "source": None, "url": None},
        {"id": "p3", "text": TEXTS[2], "source": "tg", "url": None},
    ]
    dates = ["2024-03-02T08:00:00", "2024-03-05 10:30", None]
    jsonl = tmp_path / "posts.jsonl"
    jsonl.write_text(
        "\n".join(
            json.dumps({**r, "date": d}, ensure_ascii=False)
            for r, d in zip(records, dates, strict=True)
        ),
        encoding="utf-8",
    )
    columns = {key: [r[key] for r in records] for key in records[0]}
    columns["date"] = [dt.datetime(2024, 3, 2, 8), dt.datetime(2024, 3, 5, 10, 30), None]
    columns["likes"] = [3, 4, 5]  # a column no document needs: ignored, as a JSON key is
    parquet = write_parquet(tmp_path / "posts.parquet", columns)

    from_jsonl, from_parquet = read_all(jsonl), read_all(parquet)
    assert all(isinstance(d, Document) for d in from_jsonl + from_parquet)
    assert [d.id for d in from_parquet] == ["p1", "posts.parquet:2", "p3"]  # rows count from 1
    assert [d.id for d in from_jsonl] == ["p1", "posts.jsonl:2", "p3"]
    for a, b in zip(from_jsonl, from_parquet, strict=True):
        assert a.text == b.text
        assert {**a.meta, "path": None} == {**b.meta, "path": None}
    assert from_parquet[0].meta["date"] == "2024-03-02T08:00:00"  # a timestamp column
    assert from_parquet[1].meta["date"] == "2024-03-05T10:30:00"
    assert from_parquet[0].meta["path"] == str(parquet)


def test_each_bad_row_is_one_error_and_the_rest_is_read(pq: ModuleType, tmp_path: Path) -> None:
    path = write_parquet(
        tmp_path / "rows.parquet",
        {
            "id": ["a", "b", "a", "d", "e", "f"],
            "text": [TEXTS[0], None, TEXTS[1], "   ", TEXTS[3] * 20, TEXTS[2]],
        },
    )
    items = read_all(path, max_bytes=1000)
    assert summary(items) == [
        ("a", TEXTS[0]),
        ("E106", f"[E106] {path}:2: field 'text' is null, expected a string"),
        ("E106", f"[E106] {path}:3: id 'a' repeated: first seen in {path}:1; the first is kept"),
        ("E105", f"[E105] {path}:4: empty document (no text, or only whitespace)"),
        (
            "E102",
            f"[E102] {path}:5: record text is 1.3 KB (1340 bytes), over the 1.0 KB limit; "
            "raise it with --max-bytes (ReadOptions.max_bytes)",
        ),
        ("f", TEXTS[2]),
    ]


def test_binary_and_typed_values_become_what_json_would_hold(
    pq: ModuleType, tmp_path: Path
) -> None:
    import pyarrow as pa

    path = write_parquet(
        tmp_path / "typed.parquet",
        {
            "id": pa.array(
                [Decimal("7.50"), Decimal("8.00"), Decimal("9.00")], pa.decimal128(5, 2)
            ),
            "text": pa.array([TEXTS[2].encode("cp1251"), b"\x89PNG\r\n\x1a\n\x00\x00", b"Hi."]),
            "date": pa.array(
                [1709373600123456789, None, None], pa.timestamp("ns", tz="UTC")
            ),  # nanoseconds: cut to microseconds, no pandas needed
            "day": pa.array([dt.date(2024, 3, 2), None, None], pa.date32()),
        },
    )
    doc, error, short = read_all(path)
    assert isinstance(doc, Document) and doc.text == TEXTS[2]  # legacy encoding detected
    assert doc.id == "7.50" and doc.meta["date"] == "2024-03-02T10:00:00.123456+00:00"
    assert isinstance(error, InputError) and error.source == f"{path}:2"
    assert "PNG" in error.reason
    assert isinstance(short, Document) and short.text == "Hi."
    (day, _, _) = read_all(path, date_field="day")
    assert isinstance(day, Document) and day.meta["date"] == "2024-03-02"


def test_a_file_without_the_text_column_is_one_error(pq: ModuleType, tmp_path: Path) -> None:
    path = write_parquet(tmp_path / "posts.parquet", {"id": ["1"], "body": [TEXTS[0]]})
    (error,) = read_all(path)
    assert isinstance(error, InputError) and error.code == "E107"
    assert "no 'text' column (columns: id, body); choose the text column with --text-field" in (
        str(error)
    )
    (doc,) = read_all(path, text_field="body")
    assert isinstance(doc, Document) and doc.id == "1" and doc.text == TEXTS[0]


def test_replies_in_parquet_become_comments_with_a_parent_field(
    pq: ModuleType, tmp_path: Path
) -> None:
    path = write_parquet(
        tmp_path / "thread.parquet",
        {
            "id": ["post", "r1", "r2"],
            "parent": [None, "post", "r1"],
            "author": ["chan", "ann", "bob"],
            "text": [TEXTS[0], "Prices rose here too.", "Not in my town."],
        },
    )
    (doc,) = read_all(path, parent_field="parent")
    assert isinstance(doc, Document) and doc.id == "post"
    comments = [(c.author, c.parent, doc.text[c.start : c.end]) for c in doc.comments]
    assert comments == [("ann", None, "Prices rose here too."), ("bob", "r1", "Not in my town.")]
    assert estimate_count([path], ReadOptions(parent_field="parent")) is None  # posts, not rows


def test_a_corrupt_or_cut_file_is_one_error_and_the_batch_goes_on(
    pq: ModuleType, tmp_path: Path
) -> None:
    good = write_parquet(tmp_path / "c.parquet", {"text": TEXTS[:2]})
    fake = tmp_path / "a.parquet"
    fake.write_text("id,text\n1,not parquet\n", encoding="utf-8")
    cut = tmp_path / "b.parquet"
    cut.write_bytes(good.read_bytes()[:-30])  # the footer is gone
    items = read_all(tmp_path)
    assert [type(i).__name__ for i in items] == ["InputError", "InputError", "Document", "Document"]
    assert items[0].source == str(fake) and "not a readable Parquet file" in str(items[0])
    assert items[1].source == str(cut) and items[1].code == "E106"
    assert estimate_count([tmp_path]) == 4  # one per unreadable file, plus two rows


def test_a_compression_bomb_is_refused_from_its_footer(pq: ModuleType, tmp_path: Path) -> None:
    # 60 rows of 300 KB compress to a few hundred bytes: 18 MB of text, more than 60
    # texts at a 100 KB limit could hold, so no row is decompressed
    bomb = write_parquet(
        tmp_path / "bomb.parquet",
        {"text": ["a" * 300_000] * 60},
        compression="zstd",
        use_dictionary=False,
    )
    assert bomb.stat().st_size < 10_000
    good = write_parquet(tmp_path / "good.parquet", {"text": TEXTS[:2]})
    items = read_all(bomb, good, max_bytes=100_000)
    assert [type(i).__name__ for i in items] == ["InputError", "Document", "Document"]
    assert items[0].source == str(bomb) and items[0].code == "E102"
    assert "'text' column holds 18.0 MB uncompressed" in items[0].reason
    assert "refused before reading" in items[0].reason
    assert len(read_all(bomb, max_bytes=300_000)) == 60  # within the limit it is read


def _peak_python_bytes(items: Any) -> tuple[int, list[Any]]:
    """Python memory at its peak while ``items`` is consumed (kept: errors, doc ids)."""
    import gc
    import tracemalloc

    gc.collect()
    tracemalloc.start()
    kept: list[Any] = []
    try:
        for item in items:
            kept.append(item if isinstance(item, InputError) else item.id)
        return tracemalloc.get_traced_memory()[1], kept
    finally:
        tracemalloc.stop()


def test_a_repeated_value_is_converted_a_few_texts_at_a_time(
    pq: ModuleType, tmp_path: Path
) -> None:
    # one dictionary entry of 200 KB on 600 rows: 120 MB of text in a file of kilobytes
    over = write_parquet(tmp_path / "over.parquet", {"text": ["b" * 200_000] * 600})
    assert over.stat().st_size < 100_000
    peak, kept = _peak_python_bytes(read_inputs([over], ReadOptions(max_bytes=100_000)))
    assert len(kept) == 600 and all(isinstance(e, InputError) and e.code == "E102" for e in kept)
    assert "record text is 200.0 KB" in kept[0].reason and kept[0].source == f"{over}:1"
    assert peak < 5_000_000  # the over-long texts are never copied into Python
    within = write_parquet(tmp_path / "within.parquet", {"text": ["c" * 100_000] * 600})
    peak, kept = _peak_python_bytes(read_inputs([within], ReadOptions(max_bytes=200_000)))
    assert kept == [f"within.parquet:{n}" for n in range(1, 601)]
    assert peak < 8_000_000  # a batch becomes Python a few texts at a time, not 256 rows


def test_without_pyarrow_a_parquet_input_says_how_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "posts.parquet"
    path.write_bytes(b"PAR1 whatever PAR1")
    (tmp_path / "note.txt").write_text(TEXTS[0], encoding="utf-8")
    for name in ("pyarrow", "pyarrow.parquet", "pyarrow.fs"):
        monkeypatch.setitem(sys.modules, name, None)  # import fails
    note, error = read_all(tmp_path)
    assert isinstance(note, Document) and note.text == TEXTS[0]
    assert isinstance(error, InputError) and error.code == E_PACKAGE_MISSING
    assert "pip install 'narrascope[scale]'" in str(error)
    (url_error,) = read_all(f"file://{path}")
    assert isinstance(url_error, InputError) and "narrascope[scale]" in str(url_error)
    assert estimate_count([tmp_path]) == 2


def test_estimate_count_reads_parquet_footers(pq: ModuleType, tmp_path: Path) -> None:
    write_parquet(tmp_path / "a.parquet", {"text": [TEXTS[0]] * 1200}, row_group_size=500)
    (tmp_path / "b.jsonl").write_text('{"text": "x"}\n{"text": "y"}\n', encoding="utf-8")
    assert estimate_count([tmp_path]) == 1202
    assert estimate_count([f"file://{tmp_path}/a.parquet"]) == 1200
    assert estimate_count([f"file://{tmp_path}/b.jsonl"]) is None  # would download it twice


@pytest.mark.skipif("parquet" not in INPUT_FORMATS, reason="ReadOptions has no 'parquet' yet")
def test_input_format_parquet_forces_the_reader(pq: ModuleType, tmp_path: Path) -> None:
    path = write_parquet(tmp_path / "export.bin", {"id": ["x"], "text": [TEXTS[3]]})
    (doc,) = read_all(path, input_format="parquet")
    assert isinstance(doc, Document) and doc.id == "x" and doc.text == TEXTS[3]


# -- a Parquet dataset folder, narrascope's own output included -----------------------------


def test_a_dataset_folder_gives_its_rows_not_its_bookkeeping(
    pq: ModuleType, tmp_path: Path
) -> None:
    ds = tmp_path / "ds"
    write_parquet(ds / "part-0.parquet", {"id": ["a", "b"], "text": TEXTS[:2]})
    write_parquet(ds / "lang=ru" / "part-0.parquet", {"id": ["c"], "text": TEXTS[2:3]})
    (ds / "_errors.jsonl").write_text('{"source": "x", "reason": "boom"}\n', encoding="utf-8")
    (ds / "_journal.jsonl.partial.jsonl").write_text('{"id": "a", "text": "a"}\n', "utf-8")
    (ds / "_SUCCESS").write_bytes(b"")
    (ds / ".part-1.parquet.tmp").write_bytes(b"half")
    (ds / "lang=ru" / "_metadata").write_bytes(b"footer")
    corpus = tmp_path / "corpus"  # not a dataset: a "_" name is a document like any other
    corpus.mkdir()
    (corpus / "_intro.txt").write_text(TEXTS[3], encoding="utf-8")
    assert summary(read_all(ds, corpus)) == [
        ("c", TEXTS[2]),
        ("a", TEXTS[0]),
        ("b", TEXTS[1]),
        ("_intro.txt", TEXTS[3]),
    ]
    assert estimate_count([ds]) == 3


def test_analyze_output_read_back_as_input_gives_the_same_documents(
    pq: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import narrascope
    from narrascope.cli import main
    from narrascope.pipeline import Pipeline

    monkeypatch.setattr(narrascope, "load", lambda config=None: Pipeline([]))  # no model needed
    posts = tmp_path / "posts.jsonl"
    posts.write_text(
        "\n".join(
            json.dumps({"id": f"p{i}", "text": t, "source": "s", "date": "2024-03-0" + str(i + 1)})
            for i, t in enumerate(TEXTS)
        )
        + '\n{"text": "no id here, so the line number is its id"}\n{"id": "p0", "text": "again"}\n',
        encoding="utf-8",
    )
    argv = ["analyze", str(posts), "--out", f"{tmp_path}/ds/", "--no-progress"]
    assert main(argv) == 1  # the repeated id failed
    ds = tmp_path / "ds"
    assert (ds / "_errors.jsonl").is_file()
    (ds / "_journal.jsonl.partial.jsonl").write_text("{}\n", encoding="utf-8")  # a killed run's
    first = read_all(posts)
    again = read_all(ds)
    assert all(isinstance(d, Document) for d in again)
    expected = [(d.id, d.text, d.meta["source"], d.meta["date"]) for d in first[:-1]]
    assert [(d.id, d.text, d.meta["source"], d.meta["date"]) for d in again] == expected
    assert expected[4][0] == "posts.jsonl:5"
    # and through the CLI: the dataset analysed again gives the very same records
    assert main(["analyze", str(ds), "--out", str(tmp_path / "b.jsonl"), "--no-progress"]) == 0
    assert main(["analyze", str(posts), "--out", str(tmp_path / "a.jsonl"), "--no-progress"]) == 1
    a, b = (
        [json.loads(line) for line in (tmp_path / name).read_text("utf-8").splitlines()]
        for name in ("a.jsonl", "b.jsonl")
    )
    assert [(r["id"], r["text"]) for r in a] == [(r["id"], r["text"]) for r in b]


# -- glob patterns --------------------------------------------------------------------------


def test_glob_patterns_expand_sorted_and_recursively(tmp_path: Path) -> None:
    data = tmp_path / "data"
    for name in ("b.jsonl", "a.jsonl", "c.txt", "deep/x/d.jsonl", ".hidden/e.jsonl", "deep.jsonl"):
        (data / name).parent.mkdir(parents=True, exist_ok=True)
        (data / name).write_text(json.dumps({"text": name}) + "\n", encoding="utf-8")
    flat = [Path(p).relative_to(tmp_path).as_posix() for p in discover([f"{data}/*.jsonl"])]
    assert flat == ["data/a.jsonl", "data/b.jsonl", "data/deep.jsonl"]
    deep = [Path(p).relative_to(data).as_posix() for p in discover([f"{data}/**/*.jsonl"])]
    # the order of the folder walked (a folder before a file named like it + suffix);
    # hidden folders left out
    assert deep == ["a.jsonl", "b.jsonl", "deep/x/d.jsonl", "deep.jsonl"]
    walked = [Path(p).relative_to(data).as_posix() for p in discover([data])]
    assert [p for p in walked if p.endswith(".jsonl")] == deep
    assert [d.text for d in read_all(f"{data}/*/*/*.jsonl")] == ["deep/x/d.jsonl"]  # type: ignore[union-attr]


def test_a_pattern_matching_nothing_is_one_error_and_the_batch_goes_on(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text(TEXTS[0], encoding="utf-8")
    missing, doc = read_all(tmp_path / "*.csv", tmp_path / "a.txt")
    assert isinstance(missing, InputError) and missing.code == E_NOT_FOUND
    assert str(missing) == f"[E101] {tmp_path}/*.csv: no file matches this pattern; check the path"
    assert isinstance(doc, Document) and doc.id == "a.txt"


def test_a_path_that_exists_is_never_a_pattern(tmp_path: Path) -> None:
    (tmp_path / "a[1].txt").write_text(TEXTS[0], encoding="utf-8")
    (tmp_path / "a1.txt").write_text(TEXTS[1], encoding="utf-8")
    assert summary(read_all(tmp_path / "a[1].txt")) == [("a[1].txt", TEXTS[0])]
    assert summary(read_all(tmp_path / "a[12].txt")) == [("a1.txt", TEXTS[1])]


# -- URLs (file:// goes through pyarrow's from_uri, as s3:// and gs:// do) ------------------


def test_file_urls_read_files_folders_and_patterns(pq: ModuleType, tmp_path: Path) -> None:
    write_parquet(tmp_path / "posts" / "day=1" / "part-0.parquet", {"text": TEXTS[:2]})
    (tmp_path / "posts" / "_SUCCESS").write_bytes(b"")
    (tmp_path / "posts" / "more.jsonl").write_text(
        json.dumps({"id": "j", "text": TEXTS[2]}) + "\n", encoding="utf-8"
    )
    (tmp_path / "posts" / "note.txt").write_text(TEXTS[3], encoding="utf-8")
    (tmp_path / "empty").mkdir()
    assert read_all(f"file://{tmp_path}/empty") == read_all(tmp_path / "empty") == []
    url = f"file://{tmp_path}/posts"
    local = summary(read_all(tmp_path / "posts"))
    assert local == [
        ("part-0.parquet:1", TEXTS[0]),
        ("part-0.parquet:2", TEXTS[1]),
        ("j", TEXTS[2]),
        ("note.txt", TEXTS[3]),
    ]
    assert summary(read_all(url)) == local  # the same ids: a file's name, as for a path
    assert summary(read_all(url + "/")) == local
    assert summary(read_all(url + "/**/*.parquet")) == local[:2]
    assert summary(read_all(url + "/*.[jt]*")) == local[2:]
    (doc,) = read_all(url + "/note.txt")
    assert isinstance(doc, Document) and doc.meta["path"] == f"{url}/note.txt"
    found = list(discover([url + "/*.txt", url + "/note.txt"]))
    assert found == [f"{url}/note.txt"]  # reached twice, yielded once


def test_a_url_that_cannot_be_used_is_one_error_and_the_batch_goes_on(
    pq: ModuleType, tmp_path: Path
) -> None:
    (tmp_path / "a.txt").write_text(TEXTS[0], encoding="utf-8")
    items = read_all(
        "nosuchscheme://bucket/posts/x.jsonl",
        f"file://{tmp_path}/missing.jsonl",
        f"file://{tmp_path}/*.csv",
        tmp_path / "a.txt",
    )
    assert [type(i).__name__ for i in items] == ["InputError"] * 3 + ["Document"]
    assert items[0].source == "nosuchscheme://bucket/posts/x.jsonl"
    assert "cannot open this URL" in str(items[0]) and "nosuchscheme" in items[0].reason
    assert items[1].code == E_NOT_FOUND and items[2].code == E_NOT_FOUND
    assert "no file matches this pattern" in str(items[2])


@pytest.mark.parametrize(
    ("base_uri", "base", "prefix"),
    [
        ("s3://bucket/posts/", "bucket/posts", "s3://"),
        ("s3://KEY:SECRET@bucket/posts/", "bucket/posts", "s3://"),
        ("hdfs://namenode:8020/data/", "/data", "hdfs://namenode:8020"),
        ("file:///tmp/x/", "/tmp/x", "file://"),
        ("file:///", "/", "file://"),
    ],
)
def test_listed_files_are_named_by_urls(base_uri: str, base: str, prefix: str) -> None:
    assert _label_prefix(base_uri, base) == prefix


def test_urls_never_show_their_credentials() -> None:
    assert redact("s3://KEY:SECRET@bucket/x.jsonl?region=eu") == "s3://bucket/x.jsonl"
    assert redact("file:///tmp/a b.txt") == "file:///tmp/a b.txt"


@pytest.mark.parametrize(
    ("path", "pattern", "matches"),
    [
        ("a.jsonl", "*.jsonl", True),
        ("x/a.jsonl", "*.jsonl", False),  # * stays within one folder
        ("x/y/a.jsonl", "**/*.jsonl", True),
        ("a.jsonl", "**/*.jsonl", True),  # ** may be no folder at all
        (".h/a.jsonl", "**/*.jsonl", False),  # nor a hidden one
        (".a.jsonl", "*.jsonl", False),
        ("day=1/p.parquet", "day=[12]/*.parquet", True),
    ],
)
def test_url_patterns_follow_glob_rules(path: str, pattern: str, matches: bool) -> None:
    assert _match(tuple(path.split("/")), tuple(pattern.split("/"))) is matches
