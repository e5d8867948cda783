"""``analyze`` and ``discover`` outputs after the new-user and scale reviews: an ``--out``
that would write over an input named on the command line, the ``--db`` or any SQLite file
is a usage error that touches nothing; ``-o -`` writes the format to stdout; ``-f``
without ``--out`` is an error, not ignored; ``--db`` without ``--out`` prints the summary;
a folder with nothing to read is said to be empty. No model is loaded (an empty pipeline
stands in): these are the command's decisions, not the analysis."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from pathlib import Path

import pytest

import narrascope
from narrascope.cli import main
from narrascope.pipeline import Pipeline

POSTS_CSV = 'id,text\nx1,"NATO provoked this war."\nx2,"Sanctions hurt Europe more."\n'
MORE_JSONL = '{"id": "y1", "text": "Kyiv is a puppet of Washington."}\n'


def no_model(config=None):  # type: ignore[no-untyped-def]
    raise AssertionError("the models were loaded")


@pytest.fixture
def empty_pipeline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(narrascope, "load", lambda config=None: Pipeline([]))


@pytest.fixture
def inputs(tmp_path: Path) -> tuple[Path, Path]:
    posts = tmp_path / "posts.csv"
    posts.write_text(POSTS_CSV, encoding="utf-8")
    more = tmp_path / "more.jsonl"
    more.write_text(MORE_JSONL, encoding="utf-8")
    return posts, more


def _sqlite(path: Path) -> Path:
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE documents (id TEXT)")
    conn.execute("INSERT INTO documents VALUES ('kept')")
    conn.commit()
    conn.close()
    return path


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


# ---------------------------------------------------------------------- --out over data
def test_an_out_that_names_an_input_is_refused_and_the_input_left_whole(
    tmp_path: Path, inputs: tuple[Path, Path], capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(narrascope, "load", no_model)
    posts, more = inputs
    before = _files(tmp_path)
    assert main(["analyze", str(more), str(posts), "-o", str(posts), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert f"--out {posts} would write over the input {posts}" in err
    assert _files(tmp_path) == before  # no output, journal, marker or errors file either
    # the same file named another way (./, ..) is the same input
    other = tmp_path / "sub"
    other.mkdir()
    again = str(other / ".." / "posts.csv")
    assert main(["analyze", again, "-o", str(posts), "--no-progress"]) == 2
    assert _files(tmp_path) == before


@pytest.mark.parametrize("form", ["{db}", "sqlite:///{db}"])
def test_an_out_that_is_the_db_is_refused_and_the_database_left_whole(
    tmp_path: Path, inputs: tuple[Path, Path], capsys, monkeypatch: pytest.MonkeyPatch, form: str
) -> None:
    monkeypatch.setattr(narrascope, "load", no_model)
    _, more = inputs
    db = _sqlite(tmp_path / "corpus.db")
    before = db.read_bytes()
    given = form.format(db=db)
    assert main(["analyze", str(more), "--db", given, "-o", str(db), "--no-progress"]) == 2
    assert "is the --db file" in capsys.readouterr().err
    assert db.read_bytes() == before
    # a --db still to be created is refused alike: nothing is created
    new = tmp_path / "new.db"
    assert main(["analyze", str(more), "--db", str(new), "-o", str(new), "--no-progress"]) == 2
    assert not new.exists()


def test_an_out_that_is_any_sqlite_database_is_refused(
    tmp_path: Path, inputs: tuple[Path, Path], capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``-o corpus.db`` typed where ``--db corpus.db`` was meant."""
    monkeypatch.setattr(narrascope, "load", no_model)
    _, more = inputs
    db = _sqlite(tmp_path / "corpus.db")
    before = db.read_bytes()
    assert main(["analyze", str(more), "-o", str(db), "--no-progress"]) == 2
    assert "is a SQLite database" in capsys.readouterr().err
    assert db.read_bytes() == before


def test_an_out_that_is_the_debunks_file_is_refused(
    tmp_path: Path, inputs: tuple[Path, Path], capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(narrascope, "load", no_model)
    _, more = inputs
    checks = tmp_path / "factchecks.jsonl"
    checks.write_text('{"id": "d1", "claim": "NATO provoked the war."}\n', encoding="utf-8")
    before = checks.read_bytes()
    args = ["analyze", str(more), "--debunks", str(checks), "-o", str(checks), "--no-progress"]
    assert main(args) == 2
    assert "is the --debunks file" in capsys.readouterr().err
    assert checks.read_bytes() == before


def test_discover_refuses_an_out_that_is_its_db(
    tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    import narrascope.corpus.discover as corpus_discover

    def no_run(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise AssertionError("discover ran")

    monkeypatch.setattr(corpus_discover, "discover_run", no_run)
    db = _sqlite(tmp_path / "corpus.db")
    other = _sqlite(tmp_path / "other.db")
    before = (db.read_bytes(), other.read_bytes())
    assert main(["discover", "--db", str(db), "-o", str(db)]) == 2
    assert "is the --db file" in capsys.readouterr().err
    assert main(["discover", "--db", str(db), "-o", str(other)]) == 2
    assert "is a SQLite database" in capsys.readouterr().err
    assert (db.read_bytes(), other.read_bytes()) == before


def test_a_named_input_inside_the_parquet_out_folder_is_an_error(
    tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The scale review's data loss: ``analyze data/posts.parquet --out data/`` read
    nothing and went on; a named input there (a file or the folder) is refused."""
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    monkeypatch.setattr(narrascope, "load", no_model)
    data = tmp_path / "data"
    data.mkdir()
    posts = data / "posts.parquet"
    pq.write_table(pa.table({"id": ["p1"], "text": ["NATO provoked this war."]}), posts)
    before = posts.read_bytes()
    for named in (posts, data):
        assert main(["analyze", str(named), "--out", f"{data}/", "--no-progress"]) == 2
        assert "lies in the --out folder" in capsys.readouterr().err
    assert sorted(p.name for p in data.iterdir()) == ["posts.parquet"]
    assert posts.read_bytes() == before


def test_files_a_folder_finds_are_still_skipped_as_the_runs_own(
    tmp_path: Path, capsys, empty_pipeline: None
) -> None:
    """Only named inputs are refused: an output inside an input folder is left out."""
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.txt").write_text("A text.", encoding="utf-8")
    out = folder / "out.jsonl"
    for _ in range(2):
        assert main(["analyze", str(folder), "-o", str(out), "--no-progress"]) == 0
        assert "1 analysed" in capsys.readouterr().err


# ---------------------------------------------------------------------- -o - and -f
def test_out_dash_streams_jsonl_to_stdout_and_counts_to_stderr(
    tmp_path: Path, inputs: tuple[Path, Path], capsys, empty_pipeline: None, monkeypatch
) -> None:
    posts, more = inputs
    monkeypatch.chdir(tmp_path)
    before = sorted(p.name for p in tmp_path.iterdir())
    assert main(["analyze", str(more), str(posts), "-o", "-", "--no-progress"]) == 0
    captured = capsys.readouterr()
    records = [json.loads(line) for line in captured.out.splitlines()]
    assert [r["id"] for r in records] == ["y1", "x1", "x2"]
    assert records[0]["text"] == "Kyiv is a puppet of Washington."
    assert "3 analysed, 0 skipped (already done), 0 failed -> stdout" in captured.err
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # no file named "-"


def test_out_dash_writes_csv_to_stdout(
    tmp_path: Path, inputs: tuple[Path, Path], capsys, empty_pipeline: None, monkeypatch
) -> None:
    posts, _ = inputs
    monkeypatch.chdir(tmp_path)
    assert main(["analyze", str(posts), "-f", "csv", "-o", "-", "--no-progress"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [r["id"] for r in rows] == ["x1", "x2"]
    assert not (tmp_path / "-").exists()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["-o", "-", "--resume"], "--resume needs --out FILE: stdout cannot be read back"),
        (["-f", "csv"], "-f csv needs --out FILE (or -o - for stdout)"),
        (["-f", "jsonl", "--db", "{tmp}/c.db"], "-f jsonl needs --out FILE"),
        (["-f", "parquet", "-o", "-"], "-f parquet needs --out DIR"),
    ],
)
def test_stdout_and_format_misuse_are_usage_errors(
    tmp_path: Path,
    inputs: tuple[Path, Path],
    capsys,
    monkeypatch: pytest.MonkeyPatch,
    extra: list[str],
    message: str,
) -> None:
    if "parquet" in extra:
        pytest.importorskip("pyarrow")
    monkeypatch.setattr(narrascope, "load", no_model)
    monkeypatch.chdir(tmp_path)
    posts, _ = inputs
    before = sorted(p.name for p in tmp_path.iterdir())
    given = [x.format(tmp=tmp_path) for x in extra]
    assert main(["analyze", str(posts), *given, "--no-progress"]) == 2
    assert message in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == before


# ---------------------------------------------------------------------- --db summary
def test_db_without_out_prints_the_summary_then_the_count(
    tmp_path: Path, inputs: tuple[Path, Path], capsys, empty_pipeline: None
) -> None:
    _, more = inputs
    db = tmp_path / "c.db"
    assert main(["analyze", str(more), "--db", str(db), "--no-progress"]) == 0
    captured = capsys.readouterr()
    assert captured.out.startswith("y1")  # the summary, as without --db
    assert f"1 analysed, 0 skipped (already done), 0 failed -> {db}" in captured.err


def test_the_runner_prints_the_summaries_of_a_store_only_when_asked(tmp_path: Path, capsys) -> None:
    """With a store and no out: no summaries by default (the web server's jobs run so),
    the summaries when asked (``analyze --db`` asks)."""
    from narrascope.doc import Document
    from narrascope.runner import run_batch
    from narrascope.store import open_store

    common = {"out": None, "fmt": "jsonl", "progress": False}
    with open_store(tmp_path / "c.db") as store:
        docs = [Document("NATO provoked this war.", id="p1", language="en")]
        run_batch(docs, Pipeline([]), store=store, **common)
        assert capsys.readouterr().out == ""
        docs = [Document("Sanctions hurt Europe more.", id="p2", language="en")]
        run_batch(docs, Pipeline([]), store=store, summaries=True, **common)
        assert capsys.readouterr().out.startswith("p2")
        assert store.count() == 2


# ---------------------------------------------------------------------- empty folders
def test_a_folder_with_nothing_to_read_is_an_error_before_any_model(
    tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(narrascope, "load", no_model)
    empty = tmp_path / "emptydir"
    (empty / "sub").mkdir(parents=True)
    (empty / ".hidden.txt").write_text("not read", encoding="utf-8")
    out = tmp_path / "x.jsonl"
    for extra in ([], ["-o", str(out)]):
        assert main(["analyze", str(empty), *extra, "--no-progress"]) == 1
        assert capsys.readouterr().err == f"narrascope: error: no files found in {empty}\n"
    assert not out.exists()
    pattern = str(tmp_path / "nothing*")  # matches only empty folders
    (tmp_path / "nothing1").mkdir()
    (tmp_path / "nothing2").mkdir()
    assert main(["analyze", pattern, "--no-progress"]) == 1
    assert f"no files found in {pattern}" in capsys.readouterr().err


def test_an_empty_folder_beside_real_inputs_is_one_failed_input(
    tmp_path: Path, inputs: tuple[Path, Path], capsys, empty_pipeline: None
) -> None:
    _, more = inputs
    empty = tmp_path / "emptydir"
    empty.mkdir()
    out = tmp_path / "out.jsonl"
    assert main(["analyze", str(empty), str(more), "-o", str(out), "--no-progress"]) == 1
    err = capsys.readouterr().err
    assert f"error: {empty}: no files found" in err
    assert "1 analysed, 0 skipped (already done), 1 failed" in err
    assert [json.loads(line)["id"] for line in out.read_text().splitlines()] == ["y1"]
    (entry,) = [json.loads(line) for line in (tmp_path / "out.jsonl.errors.jsonl").open()]
    assert (entry["source"], entry["code"]) == (str(empty), "E105")
