"""What the html report and the CSV say beyond the records, from the run that wrote them:
the inputs that failed, and whether the documents were checked against known debunks at
all ("0 repeat known debunks" must mean checked and clean)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from narrascope.doc import DebunkMatch, Document, Span
from narrascope.errors import InputError
from narrascope.export import report, table
from narrascope.pipeline import Pipeline
from narrascope.runner import checks_debunks, run_batch

UNCHECKED = "Not checked against known debunks"


class Language:
    """A stand-in first stage: every document is English."""

    name = "language"

    def __call__(self, docs: list[Document]) -> list[Document]:
        for doc in docs:
            doc.language = "en"
        return docs


class Debunks:
    """A stand-in debunk stage: a text saying "biolabs" repeats the known debunk fc-1."""

    name = "debunks"

    def __call__(self, docs: list[Document]) -> list[Document]:
        for doc in docs:
            at = doc.text.find("biolabs")
            if at >= 0:
                span = Span.of(doc.text, 0, len(doc.text))
                doc.debunks = [DebunkMatch("fc-1", "Secret biolabs", 0.9, claim_span=span)]
        return docs


def docs(*texts: str) -> list[Document]:
    return [Document(text=t, id=f"d{i}") for i, t in enumerate(texts)]


def run(items: list, out: Path, fmt: str, *stages: object) -> None:
    pipeline = Pipeline([Language(), *stages])
    run_batch(items, pipeline, out=out, fmt=fmt, progress=False, on_error=lambda e: None)


def debunk_cells(out: Path) -> set[str]:
    return {row["debunks"] for row in csv.DictReader(io.StringIO(out.read_text("utf-8")))}


def test_a_run_without_a_debunk_list_says_it_did_not_check(tmp_path: Path) -> None:
    run(docs("Prices rose.", "It rained."), tmp_path / "out.html", "html")
    page = (tmp_path / "out.html").read_text("utf-8")
    assert f"<p class=meta id=debunked-count>{UNCHECKED}" in page
    assert "repeat known debunks" not in page and "0 of 2" not in page
    run(docs("Prices rose.", "It rained."), tmp_path / "out.csv", "csv")
    assert debunk_cells(tmp_path / "out.csv") == {""}  # not "0": nothing was checked


def test_a_run_with_a_debunk_list_counts_even_none(tmp_path: Path) -> None:
    run(docs("Prices rose.", "It rained."), tmp_path / "out.html", "html", Debunks())
    page = (tmp_path / "out.html").read_text("utf-8")
    assert "<p class=meta id=debunked-count>0 of 2 documents repeat known debunks</p>" in page
    assert UNCHECKED not in page
    run(docs("Hidden biolabs exist.", "It rained."), tmp_path / "two.html", "html", Debunks())
    page = (tmp_path / "two.html").read_text("utf-8")
    assert "<p class=meta id=debunked-count>1 of 2 documents repeats known debunks</p>" in page
    run(docs("Hidden biolabs exist.", "It rained."), tmp_path / "out.csv", "csv", Debunks())
    assert debunk_cells(tmp_path / "out.csv") == {"0", "1"}


def test_writers_told_nothing_by_a_run_count_as_before() -> None:
    records = [d.to_dict() for d in docs("Prices rose.")]
    fh = io.StringIO()
    report.write(records, fh)
    assert "0 of 1 document repeat known debunks" in fh.getvalue()
    fh = io.StringIO()
    table.write(records, fh)
    assert next(csv.DictReader(io.StringIO(fh.getvalue())))["debunks"] == "0"


def test_whether_a_pipeline_checks_debunks() -> None:
    assert checks_debunks(Pipeline([Language(), Debunks()])) is True
    assert checks_debunks(Pipeline([Language()])) is False
    assert checks_debunks(object()) is None  # a stand-in that names no stages: not known


def test_the_report_says_which_inputs_failed_and_where_they_are_listed(tmp_path: Path) -> None:
    out = tmp_path / "mixed.html"
    bad = InputError("empty.txt", "empty document (no text, or only whitespace)", "E102")
    run([*docs("Prices rose.", "It rained."), bad], out, "html")
    page = out.read_text("utf-8")
    head = page.split("<h2>Narratives</h2>", 1)[0]
    assert "<p class=meta>2 documents" in head
    assert (
        "<p class=failed id=failed-count>1 input failed — see mixed.html.errors.jsonl</p>" in head
    )
    assert (tmp_path / "mixed.html.errors.jsonl").exists()


def test_a_report_of_failures_only_is_not_just_empty(tmp_path: Path) -> None:
    out = tmp_path / "onefail.html"
    failures = [InputError(f"{n}.txt", "empty document", "E102") for n in ("a", "b")]
    run(failures, out, "html")
    page = out.read_text("utf-8")
    assert "<p class=meta>0 documents" in page and "<p>No documents.</p>" in page
    assert "2 inputs failed — see onefail.html.errors.jsonl" in page


def test_a_clean_run_mentions_no_failures(tmp_path: Path) -> None:
    run(docs("Prices rose."), tmp_path / "out.html", "html")
    assert "failed-count" not in (tmp_path / "out.html").read_text("utf-8")
