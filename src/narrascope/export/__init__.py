"""Writers that turn analysed documents into files people and scorers read.

Formats: ``jsonl`` (lossless, one ``Document.to_dict()`` per line), ``csv`` (one row per
document and label), ``semeval-narratives`` and ``semeval-entities`` (SemEval-2025 Task 10
subtask 2 and subtask 1 submission lines), ``semeval-techniques`` (SemEval-2023 Task 3
subtask 3 lines, one per paragraph) and ``html`` (a self-contained report). Every
writer takes *records* (the dicts of ``Document.to_dict()``) and streams them, and can read
its own earlier output back into records, which is what lets the runner resume a batch into
any format.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from narrascope.doc import Document
from narrascope.export import jsonl, report, semeval, table
from narrascope.export.records import Record
from narrascope.export.terminal import format_terminal_summary


@dataclass(frozen=True)
class Format:
    """One output format: how to write records and how to read an earlier output back."""

    name: str
    suffixes: tuple[str, ...]
    write: Callable[[Iterable[Record], TextIO], int]
    read: Callable[[TextIO], Iterator[dict[str, Any]]]
    # False when a document can leave no trace in the output (semeval-entities has lines
    # only for framed mentions): a resumed run then analyses such documents again.
    lists_every_document: bool = True


FORMATS: dict[str, Format] = {
    f.name: f
    for f in (
        Format("jsonl", (".jsonl", ".ndjson"), jsonl.write, jsonl.read),
        Format("csv", (".csv",), table.write, table.read),
        Format("semeval-narratives", (".tsv", ".txt"), semeval.write, semeval.read),
        Format(
            "semeval-entities",
            (),
            semeval.write_entities,
            semeval.read_entities,
            lists_every_document=False,
        ),
        Format("semeval-techniques", (), semeval.write_techniques, semeval.read_techniques),
        Format("html", (".html", ".htm"), report.write, report.read),
    )
}


def get_format(name: str) -> Format:
    """The format called ``name``; a ValueError lists the valid names."""
    try:
        return FORMATS[name]
    except KeyError:
        raise ValueError(
            f"unknown output format {name!r}; choose one of {', '.join(FORMATS)}"
        ) from None


def guess_format(path: Path) -> str | None:
    """The format a file name suggests (``.csv`` → ``csv``), or None."""
    suffix = path.suffix.lower()
    return next((f.name for f in FORMATS.values() if suffix in f.suffixes), None)


def write_documents(docs: Iterable[Document], fh: TextIO, fmt: str) -> int:
    """Write documents (not records) in ``fmt``; a convenience for library users."""
    return get_format(fmt).write((d.to_dict() for d in docs), fh)


__all__ = [
    "FORMATS",
    "Format",
    "format_terminal_summary",
    "get_format",
    "guess_format",
    "write_documents",
]
