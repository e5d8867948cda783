"""The batch runner: incremental journal, isolation of failures, resume and atomic output."""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest

from narrascope.doc import Annotation, Document, Entity, Span
from narrascope.engine.outputs import run_to_output
from narrascope.errors import InputError, ModelError
from narrascope.export import FORMATS, Format, get_format
from narrascope.pipeline import Pipeline
from narrascope.runner import (
    LONG_TEXT_BYTES,
    STAGE_FAILED,
    errors_path,
    journal_path,
    run_batch,
)

DISCREDIT = "URW: Discrediting Ukraine"
PUPPET = f"{DISCREDIT}: Ukraine is a puppet of the West"
BLAME = "URW: Blaming the war on others rather than the invader"
KEYWORDS = {"puppet": (DISCREDIT, PUPPET), "provoked": (BLAME, None)}
ALL_FORMATS = list(FORMATS)
# formats from which a resumed run can tell every finished document
RESUMABLE = [name for name, f in FORMATS.items() if f.lists_every_document]


class KeywordStage:
    """A fake narrative classifier: a keyword's sentence is the evidence for its narrative."""

    name = "keywords"

    def __init__(self) -> None:
        self.seen: list[str] = []

    def __call__(self, docs: list[Document]) -> list[Document]:
        for doc in docs:
            self.seen.append(doc.id)
            start = 0
            for part in doc.text.split(". "):
                doc.sentences.append(Span.of(doc.text, start, start + len(part)))
                start += len(part) + 2
            narratives = doc.groups.setdefault("narratives", [])
            subs = doc.groups.setdefault("subnarratives", [])
            for word, (label, sub) in KEYWORDS.items():
                hits = [s for s in doc.sentences if word in s.text]
                if hits:
                    narratives.append(Annotation(label, 0.9, hits[:1], [0.8]))
                    if sub:
                        subs.append(Annotation(sub, 0.7, hits[:1], [0.7], parent=label))
            if not narratives:
                narratives.append(Annotation("Other", 0.95))
            at = doc.text.find("NATO")
            if at >= 0:
                mention = Span.of(doc.text, at, at + 4)
                doc.entities = [Entity("NATO", [mention], "Antagonist", 0.8)]
        return docs


class BoomStage:
    """Crashes on any document whose text contains BOOM, like a stage with a bug would."""

    name = "boom"

    def __call__(self, docs: list[Document]) -> list[Document]:
        for doc in docs:
            if "BOOM" in doc.text:
                raise ValueError("kaboom")
        return docs


def make_pipeline() -> tuple[Pipeline, KeywordStage]:
    stage = KeywordStage()
    return Pipeline([stage, BoomStage()]), stage


def make_docs(n: int) -> list[Document]:
    texts = ["Kyiv is a puppet. Rain", "NATO provoked it. Sun", "Prices rose. Fine"]
    return [
        Document(text=texts[i % 3], id=f"doc{i}", language="en", meta={"source": f"s{i}"})
        for i in range(n)
    ]


def dying(docs: list[Document], after: int, exc: BaseException) -> Iterator[Document]:
    """Yields ``after`` documents, then dies the way a Ctrl-C or sys.exit would."""
    for i, doc in enumerate(docs):
        if i == after:
            raise exc
        yield doc


def ids_in(out: Path, fmt: str) -> list[str]:
    with out.open(encoding="utf-8", newline="") as fh:
        return [r["id"] for r in get_format(fmt).read(fh)]


def run(items: Iterable[Document | InputError], out: Path | None, fmt: str = "jsonl", **kw):
    pipeline, stage = make_pipeline()
    kw.setdefault("progress", False)
    kw.setdefault("on_error", lambda e: None)
    report = run_batch(items, pipeline, out=out, fmt=fmt, **kw)
    return report, stage


# --- output ----------------------------------------------------------------------------


def test_jsonl_output_has_every_document_and_no_leftovers(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    docs = make_docs(5)
    report, _ = run(docs, out, batch_size=2)
    assert (report.processed, report.skipped, report.failed) == (5, 0, [])
    assert report.output == out and report.errors_file is None and report.exit_code == 0
    records = [json.loads(line) for line in out.read_text("utf-8").splitlines()]
    assert [r["id"] for r in records] == [d.id for d in docs]
    assert Document.from_dict(records[0]).narratives[0].label == DISCREDIT
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.jsonl"]


def test_semeval_output_is_exact(tmp_path: Path) -> None:
    out = tmp_path / "out.tsv"
    run(make_docs(3), out, "semeval-narratives")
    assert out.read_text("utf-8") == (
        f"doc0\t{DISCREDIT}\t{PUPPET}\ndoc1\t{BLAME}\t{BLAME}: Other\ndoc2\tOther\tOther\n"
    )


def test_csv_and_html_outputs(tmp_path: Path) -> None:
    run(make_docs(3), tmp_path / "out.csv", "csv")
    rows = list(csv.DictReader(io.StringIO(Path(tmp_path / "out.csv").read_text("utf-8"))))
    assert [(r["id"], r["level"], r["label"]) for r in rows] == [
        ("doc0", "narrative", DISCREDIT),
        ("doc0", "subnarrative", PUPPET),
        ("doc1", "narrative", BLAME),
        ("doc1", "entity", "Antagonist"),
        ("doc2", "narrative", "Other"),
    ]
    run(make_docs(3), tmp_path / "out.html", "html")
    page = (tmp_path / "out.html").read_text("utf-8")
    assert "<mark " in page and "<table class=summary>" in page


# --- failures --------------------------------------------------------------------------


def test_input_errors_are_reported_logged_and_the_run_goes_on(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    seen: list[InputError] = []
    docs = make_docs(2)
    items = [docs[0], InputError("bad.pdf", "not a text file", "E101"), docs[1]]
    report, _ = run(items, out, on_error=seen.append)
    assert [e.source for e in seen] == ["bad.pdf"]
    assert report.processed == 2 and report.exit_code == 1
    assert report.errors_file == errors_path(out) == tmp_path / "out.jsonl.errors.jsonl"
    (entry,) = [json.loads(line) for line in report.errors_file.read_text("utf-8").splitlines()]
    assert entry["source"] == "bad.pdf"
    assert entry["reason"] == "not a text file"
    assert entry["code"] == "E101"
    assert entry["time"].endswith("+00:00")
    assert ids_in(out, "jsonl") == ["doc0", "doc1"]


def test_default_error_report_goes_to_stderr(tmp_path: Path, capsys) -> None:
    pipeline, _ = make_pipeline()
    run_batch([InputError("x.txt", "empty")], pipeline, out=None, fmt="jsonl", progress=False)
    captured = capsys.readouterr()
    assert captured.err == "error: x.txt: empty\n"
    assert captured.out == ""


def test_a_stage_crash_costs_only_its_document(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    docs = make_docs(4)
    docs[1].text = "BOOM. NATO provoked it"
    report, _ = run(docs, out, batch_size=4)
    assert [e.source for e in report.failed] == ["doc1"]
    assert report.failed[0].code == STAGE_FAILED
    assert "ValueError: kaboom" in report.failed[0].reason
    records = [json.loads(line) for line in out.read_text("utf-8").splitlines()]
    assert [r["id"] for r in records] == ["doc0", "doc2", "doc3"]
    # the good documents were re-analysed from clean copies, not annotated twice
    assert len(records[0]["narratives"]) == 1 and len(records[0]["sentences"]) == 2
    assert json.loads(errors_path(out).read_text("utf-8"))["source"] == "doc1"


def test_a_model_error_stops_the_run_but_keeps_finished_batches(tmp_path: Path) -> None:
    class Broken:
        name = "broken"

        def __call__(self, docs: list[Document]) -> list[Document]:
            if any(d.id == "doc2" for d in docs):
                raise ModelError("E200", "model missing")
            return docs

    out = tmp_path / "out.jsonl"
    with pytest.raises(ModelError):
        run_batch(
            make_docs(4), Pipeline([Broken()]), out=out, fmt="jsonl", batch_size=2, progress=False
        )
    assert not out.exists()
    assert [json.loads(x)["id"] for x in journal_path(out).read_text().splitlines()] == [
        "doc0",
        "doc1",
    ]


def test_a_store_is_one_more_sink_of_the_same_loop(tmp_path: Path) -> None:
    from narrascope.store import open_store

    class Broken:
        name = "broken"

        def __call__(self, docs: list[Document]) -> list[Document]:
            if any(d.id == "doc4" for d in docs):
                raise ModelError("E200", "model missing")
            return docs

    docs = make_docs(6)
    docs[1].text = "BOOM. NATO provoked it"
    with open_store(tmp_path / "corpus.db") as store:
        pipeline, _ = make_pipeline()
        pipeline = Pipeline([*pipeline.stages, Broken()])
        with pytest.raises(ModelError):
            run_batch(docs, pipeline, out=None, fmt="jsonl", batch_size=2, store=store)
        # the batches before the model error are stored, the crashing document is not
        assert sorted(h.id for h in store.search()) == ["doc0", "doc2", "doc3"]
        report, stage = run(make_docs(6), None, store=store, resume=True)
        assert stage.seen == ["doc1", "doc4", "doc5"] and report.skipped == 3
        assert store.count() == 6


# --- kill and resume -------------------------------------------------------------------


@pytest.mark.parametrize("fmt", RESUMABLE)
@pytest.mark.parametrize("death", [KeyboardInterrupt(), SystemExit(1)], ids=["ctrl-c", "exit"])
def test_killed_run_resumes_without_redoing_finished_documents(
    tmp_path: Path, fmt: str, death: BaseException
) -> None:
    out = tmp_path / f"out.{fmt}"
    docs = make_docs(8)
    with pytest.raises(type(death)):
        run(dying(docs, after=5, exc=death), out, fmt, batch_size=2)
    assert not out.exists()
    journal = [json.loads(x)["id"] for x in journal_path(out).read_text().splitlines()]
    assert journal == ["doc0", "doc1", "doc2", "doc3"]  # the 5th was in flight

    report, stage = run(make_docs(8), out, fmt, batch_size=2, resume=True)
    assert (report.processed, report.skipped) == (4, 4)
    assert stage.seen == ["doc4", "doc5", "doc6", "doc7"]
    assert ids_in(out, fmt) == [d.id for d in docs]
    assert not journal_path(out).exists()


@pytest.mark.parametrize("fmt", RESUMABLE)
def test_resume_after_a_complete_run_skips_everything(tmp_path: Path, fmt: str) -> None:
    out = tmp_path / f"out.{fmt}"
    run(make_docs(3), out, fmt)
    before = ids_in(out, fmt)
    report, stage = run(make_docs(3), out, fmt, resume=True)
    assert (report.processed, report.skipped) == (0, 3)
    assert stage.seen == []
    assert ids_in(out, fmt) == before


@pytest.mark.parametrize("fmt", RESUMABLE)
def test_resume_adds_new_documents_to_an_existing_output(tmp_path: Path, fmt: str) -> None:
    out = tmp_path / f"out.{fmt}"
    run(make_docs(2), out, fmt)
    _, stage = run(make_docs(5), out, fmt, resume=True)
    assert stage.seen == ["doc2", "doc3", "doc4"]
    assert ids_in(out, fmt) == [f"doc{i}" for i in range(5)]


def test_resumed_entity_lines_are_complete_and_never_repeated(tmp_path: Path) -> None:
    # documents without a framed entity leave no line, so resume re-analyses only those
    out = tmp_path / "out.tsv"
    run(make_docs(3), out, "semeval-entities")
    before = out.read_text(encoding="utf-8")
    assert before.splitlines() == ["doc1\tNATO\t0\t3\tAntagonist"]
    report, stage = run(make_docs(6), out, "semeval-entities", resume=True)
    assert "doc1" not in stage.seen and report.skipped == 1
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines == ["doc1\tNATO\t0\t3\tAntagonist", "doc4\tNATO\t0\t3\tAntagonist"]


def test_resume_tolerates_a_truncated_last_journal_line(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    docs = make_docs(4)
    lines = [json.dumps(d.to_dict()) for d in docs[:2]]
    journal_path(out).write_text(lines[0] + "\n" + lines[1] + "\n" + lines[1][:25], "utf-8")
    report, stage = run(make_docs(4), out, resume=True)
    assert stage.seen == ["doc2", "doc3"]
    assert (report.processed, report.skipped) == (2, 2)
    records = [json.loads(x) for x in out.read_text("utf-8").splitlines()]  # all parse
    assert [r["id"] for r in records] == ["doc0", "doc1", "doc2", "doc3"]


def test_a_repeated_id_is_an_error_and_the_first_document_is_kept(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    again = Document(text="NATO provoked it", id="doc0", meta={"path": "b.jsonl"})
    items = [*make_docs(2), Document(text="Other text", id="doc1"), again, *make_docs(3)[2:]]
    report, stage = run(items, out)
    assert stage.seen == ["doc0", "doc1", "doc2"]  # the repeats are not analysed
    assert (report.processed, report.skipped, report.exit_code) == (3, 0, 1)
    assert [(e.source, e.reason) for e in report.failed] == [
        ("doc1", "id 'doc1' repeated: first seen in input 2 of this run; the first is kept"),
        ("b.jsonl", "id 'doc0' repeated: first seen in input 1 of this run; the first is kept"),
    ]
    records = [json.loads(line) for line in out.read_text("utf-8").splitlines()]
    assert [(r["id"], r["text"]) for r in records] == [
        ("doc0", "Kyiv is a puppet. Rain"),
        ("doc1", "NATO provoked it. Sun"),
        ("doc2", "Prices rose. Fine"),
    ]
    logged = [json.loads(x) for x in errors_path(out).read_text("utf-8").splitlines()]
    assert [(e["source"], e["code"]) for e in logged] == [("doc1", "E106"), ("b.jsonl", "E106")]


def test_skipped_counts_only_what_resume_found_done(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    run(make_docs(2), out)
    report, stage = run([*make_docs(3), *make_docs(1)], out, resume=True)
    assert stage.seen == ["doc2"]
    assert (report.processed, report.skipped) == (1, 2)
    assert [e.reason for e in report.failed] == [
        "id 'doc0' repeated: first seen in input 1 of this run; the first is kept"
    ]
    assert ids_in(out, "jsonl") == ["doc0", "doc1", "doc2"]


# --- atomic replace --------------------------------------------------------------------


def test_without_resume_the_output_is_replaced_only_when_complete(tmp_path: Path) -> None:
    out = tmp_path / "out.csv"
    run(make_docs(2), out, "csv")
    old = out.read_bytes()
    new_docs = [Document(text="NATO provoked it", id="new0"), Document(text="x", id="new1")]
    with pytest.raises(KeyboardInterrupt):
        run(dying(new_docs, after=1, exc=KeyboardInterrupt()), out, "csv", batch_size=1)
    assert out.read_bytes() == old

    run(new_docs, out, "csv")  # no resume: overwrite
    assert ids_in(out, "csv") == ["new0", "new1"]


def test_a_crash_while_rendering_leaves_the_old_output_intact(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out.csv"
    run(make_docs(2), out, "csv")
    old = out.read_bytes()
    real = FORMATS["csv"]

    def half_then_crash(records, fh) -> int:
        fh.write("id,partial\n")
        raise OSError("disk full")

    monkeypatch.setitem(FORMATS, "csv", Format("csv", real.suffixes, half_then_crash, real.read))
    with pytest.raises(OSError, match="disk full"):
        run(make_docs(3), out, "csv")
    assert out.read_bytes() == old
    assert not (tmp_path / "out.csv.tmp").exists()
    assert journal_path(out).exists()  # the analysed documents are still there

    monkeypatch.setitem(FORMATS, "csv", real)
    _, stage = run(make_docs(3), out, "csv", resume=True)
    assert stage.seen == [] and ids_in(out, "csv") == ["doc0", "doc1", "doc2"]


# --- modes and arguments ---------------------------------------------------------------


def test_without_out_summaries_go_to_stdout_and_no_file_is_written(
    tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    report, _ = run(make_docs(2), None)
    out = capsys.readouterr().out
    assert "doc0  [en]" in out and f"0.90  {DISCREDIT}" in out and "doc1  [en]" in out
    assert "\x1b" not in out  # not a terminal: no colours
    assert report.output is None and report.errors_file is None
    assert list(tmp_path.iterdir()) == []


def test_progress_bar_can_be_forced_and_disabled(tmp_path: Path, capsys) -> None:
    run(make_docs(3), tmp_path / "a.jsonl", progress="always", total=3)
    assert "3/3" in capsys.readouterr().err
    run(make_docs(3), tmp_path / "b.jsonl", progress=True, total=3)  # stderr is not a TTY here
    assert capsys.readouterr().err == ""


def test_a_long_text_shows_the_stage_being_run(
    tmp_path: Path, capsys, caplog: pytest.LogCaptureFixture
) -> None:
    long = Document(text="NATO provoked it. " * (LONG_TEXT_BYTES // 18 + 1), id="long")
    with caplog.at_level("INFO", logger="narrascope.runner"):
        run([*make_docs(1), long], tmp_path / "a.jsonl", progress="always", total=2)
    err = capsys.readouterr().err
    assert "stage=keywords 1/2" in err and "stage=boom 2/2" in err
    assert [r.getMessage() for r in caplog.records] == [
        f"long ({len(long.text):,} characters): keywords 1/2",
        f"long ({len(long.text):,} characters): boom 2/2",
    ]
    caplog.clear()
    run(make_docs(2), tmp_path / "b.jsonl", progress="always", total=2)  # short: no stages
    assert "stage=" not in capsys.readouterr().err and not caplog.records


def test_a_long_text_in_cyrillic_counts_its_bytes() -> None:
    from narrascope.runner import _is_long

    cyrillic = "ж" * (LONG_TEXT_BYTES // 2)  # 2 bytes each in UTF-8
    assert _is_long(Document(text=cyrillic)) and not _is_long(Document(text=cyrillic[:-1]))


def test_a_pipe_without_a_progress_argument_still_runs_long_texts(tmp_path: Path) -> None:
    class Plain:
        def __init__(self) -> None:
            self.pipeline, _ = make_pipeline()

        def pipe(self, docs: Iterable[Document], *, batch_size: int = 16) -> Iterator[Document]:
            return self.pipeline.pipe(docs, batch_size=batch_size)

    long = Document(text="x " * LONG_TEXT_BYTES, id="long")
    out = tmp_path / "out.jsonl"
    report = run_batch([long], Plain(), out=out, fmt="jsonl", progress="always")
    assert report.processed == 1 and ids_in(out, "jsonl") == ["long"]


def test_bad_arguments_are_refused_before_any_work(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="resume needs an output file"):
        run(make_docs(1), None, resume=True)
    with pytest.raises(ValueError, match="unknown output format 'xml'"):
        run(make_docs(1), tmp_path / "o.xml", "xml")
    assert list(tmp_path.iterdir()) == []


CHILD = """
import sys, time
from pathlib import Path
from narrascope.doc import Document
from narrascope.pipeline import Pipeline
from narrascope.runner import run_batch

class Slow:
    name = "slow"
    def __call__(self, docs):
        time.sleep(0.05)
        return docs

docs = (Document(text=f"text {i}", id=f"doc{i}") for i in range(1000))
run_batch(docs, Pipeline([Slow()]), out=Path(sys.argv[1]), fmt="csv", batch_size=2, progress=False)
"""


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX kill -9")
def test_kill_9_loses_at_most_the_batch_in_flight(tmp_path: Path) -> None:
    out = tmp_path / "out.csv"
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(out)])
    journal = journal_path(out)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if journal.exists() and journal.read_bytes().count(b"\n") >= 6:
            break
        time.sleep(0.01)
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    # only complete lines count; a kill during a write may leave half of one
    complete = journal.read_text("utf-8", errors="replace").split("\n")[:-1]
    done = [json.loads(x)["id"] for x in complete]
    assert len(done) >= 6 and not out.exists()

    docs = [Document(text=f"text {i}", id=f"doc{i}") for i in range(len(done) + 3)]
    report, stage = run(docs, out, "csv", resume=True)
    assert report.skipped == len(done)
    assert not set(stage.seen) & set(done)
    assert ids_in(out, "csv") == [d.id for d in docs]


# --- resume: ids as written, each id once, fresh runs finished --------------------------


@pytest.mark.parametrize("fmt", ["semeval-narratives", "semeval-techniques", "semeval-entities"])
def test_resume_finds_ids_the_semeval_writers_changed(tmp_path: Path, fmt: str) -> None:
    # techniques lines write "1" and "article1.txt" alike; every SemEval line collapses
    # whitespace: a resumed run must still see these documents as done
    ids = ["1", "post  12", "13 "]
    docs = [Document(text="NATO provoked it. Sun", id=i, language="en") for i in ids]
    out = tmp_path / "out.tsv"
    run(docs, out, fmt)
    before = out.read_text("utf-8")
    again = [Document(text="NATO provoked it. Sun", id=i, language="en") for i in ids]
    report, stage = run([*again, *make_docs(1)], out, fmt, resume=True)
    assert (report.processed, report.skipped) == (1, 3) and stage.seen == ["doc0"]
    assert out.read_text("utf-8").startswith(before)
    lines = out.read_text("utf-8").splitlines()
    assert len(lines) == len(set(lines))


def changed_after_interruption(tmp_path: Path, fmt: str, store) -> Path:  # type: ignore[no-untyped-def]
    """A run into ``out`` killed after 4 documents, then doc1's text changes and the run
    is resumed with the store: doc1 is analysed again after its journal record."""
    out = tmp_path / ("ds" if fmt == "parquet" else f"out.{fmt}")
    pipeline, _ = make_pipeline()
    with pytest.raises(KeyboardInterrupt):
        run_to_output(
            dying(make_docs(6), after=5, exc=KeyboardInterrupt()),
            pipeline,
            out=out,
            fmt=fmt,
            batch_size=2,
            progress=False,
            store=store,
        )
    docs = make_docs(6)
    docs[1].text = "Kyiv is a puppet. NATO provoked it"
    pipeline, stage = make_pipeline()
    run_to_output(
        docs, pipeline, out=out, fmt=fmt, batch_size=2, progress=False, store=store, resume=True
    )
    assert stage.seen == ["doc1", "doc4", "doc5"]
    return out


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "html", "parquet"])
def test_a_document_analysed_again_on_resume_is_written_once_newest(
    tmp_path: Path, fmt: str
) -> None:
    from narrascope.store import open_store

    if fmt == "parquet":
        pytest.importorskip("pyarrow")
    with open_store(tmp_path / "corpus.db") as store:
        out = changed_after_interruption(tmp_path, fmt, store)
    if fmt == "parquet":
        from narrascope.export.parquet import read_parquet_records

        records = list(read_parquet_records(out))
    else:
        with out.open(encoding="utf-8", newline="") as fh:
            records = list(get_format(fmt).read(fh))
    assert sorted(r["id"] for r in records) == [f"doc{i}" for i in range(6)]
    if fmt != "csv":  # csv keeps labels, not texts
        (doc1,) = [r for r in records if r["id"] == "doc1"]
        assert doc1["text"] == "Kyiv is a puppet. NATO provoked it"


def test_a_resumed_parquet_record_replaces_the_row_of_an_older_part(tmp_path: Path) -> None:
    pytest.importorskip("pyarrow")
    from narrascope.export.parquet import part_files, read_parquet_records
    from narrascope.store import open_store

    out = tmp_path / "ds"
    with open_store(tmp_path / "corpus.db") as store:
        pipeline, _ = make_pipeline()
        run_to_output(make_docs(3), pipeline, out=out, fmt="parquet", progress=False, store=store)
        docs = make_docs(4)
        docs[1].text = "A new text"
        pipeline, stage = make_pipeline()
        kw = {"progress": False, "store": store, "resume": True}
        run_to_output(docs, pipeline, out=out, fmt="parquet", **kw)  # type: ignore[arg-type]
    assert stage.seen == ["doc1", "doc3"]
    records = {r["id"]: r["text"] for r in read_parquet_records(out)}
    assert len(list(read_parquet_records(out))) == 4 and records["doc1"] == "A new text"
    assert len(part_files(out)) == 2 and not [p for p in out.iterdir() if p.name[0] in "._"]


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "semeval-narratives", "parquet"])
def test_resuming_an_interrupted_fresh_run_drops_the_old_output(tmp_path: Path, fmt: str) -> None:
    if fmt == "parquet":
        pytest.importorskip("pyarrow")
    out = tmp_path / ("ds" if fmt == "parquet" else f"out.{fmt}")
    old = [Document(text="Kyiv is a puppet. Rain", id=f"doc{i}") for i in (0, 1, 2, 3, 9)]
    pipeline, _ = make_pipeline()
    run_to_output(old, pipeline, out=out, fmt=fmt, progress=False)
    pipeline, _ = make_pipeline()
    with pytest.raises(KeyboardInterrupt):  # a fresh run: it replaces ``out``
        run_to_output(
            dying(make_docs(4), after=3, exc=KeyboardInterrupt()),
            pipeline,
            out=out,
            fmt=fmt,
            batch_size=2,
            progress=False,
        )
    pipeline, stage = make_pipeline()
    report = run_to_output(
        make_docs(4), pipeline, out=out, fmt=fmt, batch_size=2, progress=False, resume=True
    )
    assert stage.seen == ["doc2", "doc3"] and report.skipped == 2
    if fmt == "parquet":
        from narrascope.export.parquet import read_parquet_records

        records = list(read_parquet_records(out))
        assert not (out / "_fresh").exists()
    else:
        with out.open(encoding="utf-8", newline="") as fh:
            records = list(get_format(fmt).read(fh))
        assert sorted(p.name for p in tmp_path.iterdir()) == [out.name]
    assert len(records) == 4  # each id once
    # the new analyses only: none of the old ones, doc9 (not in this run) included
    labels = {r["id"]: [n["label"] for n in r["narratives"]] for r in records}
    assert labels == {"doc0": [DISCREDIT], "doc1": [BLAME], "doc2": ["Other"], "doc3": [DISCREDIT]}
