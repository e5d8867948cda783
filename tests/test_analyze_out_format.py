"""``analyze``: an ``--out`` extension that names no format is refused before any model
loads; a ``--debunks`` file named as a database that is none says so; on the Ray engine
the report says "Not checked against known debunks" exactly when a local run would, and
``--db`` without ``--out`` prints the summaries, as locally.

No model loads and no Ray starts: an empty pipeline stands in for the models, and a
session of one in-process "worker" for the cluster (the driver's code is the real one)."""

from __future__ import annotations

import contextlib
import csv
import io
import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest

import narrascope
from narrascope.cli import main
from narrascope.cli.analyze import cli_stage_names
from narrascope.doc import Document
from narrascope.pipeline import Pipeline

POSTS = (
    '{"id": "p1", "text": "The bridge over the river reopened on Monday after repairs."}\n'
    '{"id": "p2", "text": "Bakers raised bread prices again this week in the capital."}\n'
)
UNCHECKED = "Not checked against known debunks"


def no_model(*_: object, **__: object) -> Pipeline:
    raise AssertionError("the models were loaded")


@pytest.fixture
def posts(tmp_path: Path) -> Path:
    path = tmp_path / "posts.jsonl"
    path.write_text(POSTS, encoding="utf-8")
    return path


# ---------------------------------------------------------------- --out's extension
@pytest.mark.parametrize("name", ["results.json", "results.xlsx", "report.pdf"])
def test_an_out_extension_without_a_format_is_refused_before_the_models(
    posts: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    name: str,
) -> None:
    monkeypatch.setattr(narrascope, "load", no_model)
    out = tmp_path / name
    assert main(["analyze", str(posts), "-o", str(out), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert f"no format is written as {out.suffix}" in err
    assert "-f" in err and ".jsonl" in err and ".parquet" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["posts.jsonl"]


def test_a_known_extension_none_or_f_still_write(
    posts: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(narrascope, "load", lambda config=None: Pipeline([]))
    forced = tmp_path / "results.json"
    assert main(["analyze", str(posts), "-o", str(forced), "-f", "jsonl", "--no-progress"]) == 0
    assert [json.loads(x)["id"] for x in forced.read_text("utf-8").splitlines()] == ["p1", "p2"]
    bare = tmp_path / "results"  # no extension: jsonl
    assert main(["analyze", str(posts), "-o", str(bare), "--no-progress"]) == 0
    assert json.loads(bare.read_text("utf-8").splitlines()[0])["id"] == "p1"
    table = tmp_path / "results.CSV"
    assert main(["analyze", str(posts), "-o", str(table), "--no-progress"]) == 0
    assert table.read_text("utf-8").startswith("id,")


# ---------------------------------------------------------------- --debunks X.db
@pytest.mark.parametrize("name", ["facts.db", "facts.sqlite", "facts.SQLITE3"])
def test_a_debunks_database_name_that_is_no_sqlite_file_says_so(
    posts: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    name: str,
) -> None:
    monkeypatch.setattr(narrascope, "load", no_model)
    fake = tmp_path / name
    fake.write_text('{"claim": "a JSON line in a file named as a database"}\n', encoding="utf-8")
    assert main(["analyze", str(posts), "--debunks", str(fake), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert f"--debunks {fake}: not a SQLite debunk database" in err
    assert "unknown file type" not in err


# ---------------------------------------------------------------- the Ray engine
class _OneWorker:
    """Stands in for the actor pool: the pipeline built once from the factory, here."""

    def __init__(self, factory: Any, workers: int, *_: object, **__: object) -> None:
        self.pipeline = factory()


def _analysed_here(items: Iterable[Any], pool: _OneWorker, *, batch_size: int = 16) -> Iterator:
    for item in items:
        yield from pool.pipeline.pipe([item]) if isinstance(item, Document) else [item]


@pytest.fixture
def in_process_ray(monkeypatch: pytest.MonkeyPatch) -> None:
    """run_ray's driver as it is, its cluster one in-process worker of an empty pipeline."""
    import narrascope.engine
    from narrascope.engine import ray_engine

    @contextlib.contextmanager
    def session(*_: object, **__: object) -> Iterator[int]:
        yield 1

    monkeypatch.setattr(narrascope.engine, "ray_available", lambda: True)
    monkeypatch.setattr(ray_engine, "ray_session", session)
    monkeypatch.setattr(ray_engine, "ActorPool", _OneWorker)
    monkeypatch.setattr(ray_engine, "analysed_on_ray", _analysed_here)
    monkeypatch.setattr(narrascope, "load", lambda config=None: Pipeline([]))


def test_a_ray_report_says_not_checked_as_a_local_one_does(
    posts: Path, tmp_path: Path, in_process_ray: None
) -> None:
    ray_html, local_html = tmp_path / "ray.html", tmp_path / "local.html"
    argv = ["analyze", str(posts), "--no-progress"]
    assert main([*argv, "-o", str(ray_html), "--engine", "ray"]) == 0
    assert main([*argv, "-o", str(local_html)]) == 0
    for page in (ray_html.read_text("utf-8"), local_html.read_text("utf-8")):
        assert f"<p class=meta id=debunked-count>{UNCHECKED}" in page
    ray_csv = tmp_path / "ray.csv"
    assert main([*argv, "-o", str(ray_csv), "--engine", "ray"]) == 0
    rows = list(csv.DictReader(io.StringIO(ray_csv.read_text("utf-8"))))
    assert {row["debunks"] for row in rows} == {""}  # not "0": nothing was checked


def test_run_ray_reports_the_stages_it_is_given(tmp_path: Path, in_process_ray: None) -> None:
    from narrascope.engine.ray_engine import run_ray

    def docs() -> list[Document]:
        return [Document("The bridge reopened on Monday.", id="d1", language="en")]

    def empty() -> Pipeline:
        return Pipeline([])

    common: dict[str, Any] = {"fmt": "html", "progress": False}
    run_ray(docs(), empty, out=tmp_path / "a.html", stage_names=["language"], **common)
    assert UNCHECKED in (tmp_path / "a.html").read_text("utf-8")
    names = ["language", "debunks"]
    run_ray(docs(), empty, out=tmp_path / "b.html", stage_names=names, **common)
    page = (tmp_path / "b.html").read_text("utf-8")
    assert UNCHECKED not in page and "0 of 1 document repeat known debunks" in page


def test_ray_with_db_and_no_out_prints_the_summaries(
    posts: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], in_process_ray: None
) -> None:
    db = tmp_path / "corpus.db"
    argv = ["analyze", str(posts), "--db", str(db), "--no-progress", "--engine", "ray"]
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert captured.out.startswith("p1") and "\np2" in captured.out  # as without --db
    assert f"2 analysed, 0 skipped (already done), 0 failed -> {db}" in captured.err
    out = tmp_path / "o.jsonl"  # with --out: the records, no summaries
    assert main([*argv, "-o", str(out), "--resume"]) == 0
    assert capsys.readouterr().out == ""


def test_the_stages_named_for_ray_are_those_the_workers_build(tmp_path: Path) -> None:
    facts = tmp_path / "facts.jsonl"
    facts.write_text('{"claim": "The moon landing was staged."}\n', encoding="utf-8")
    config = {"entities": {"detector": "crf"}}
    plain = cli_stage_names(config, None, None)
    assert "debunks" not in plain and plain[:3] == ["language", "segment", "narratives"]
    assert cli_stage_names(config, str(facts), None) == [*plain, "debunks"]
    assert cli_stage_names(config, None, str(tmp_path / "no-debunks.db")) == plain
    assert not (tmp_path / "no-debunks.db").exists()  # a read-only look
    custom = cli_stage_names({**config, "custom_narratives": {"narratives": []}}, None, None)
    assert custom == [*plain[:3], "custom_narratives", *plain[3:]]
