"""Readers for fact-check files: what ``narrascope debunks add`` imports.

Why a reader per layout, chosen by looking: users bring what their fact-checking desk
exports (JSONL or CSV with a ``claim`` column, other names settable), the EUvsDisinfo case
dumps (two CSV layouts, told apart by their header) and CheckThat! ``vclaims/*.json``
folders. Each reader yields a :class:`~narrascope.store.debunks.Debunk` per good row and a
:class:`BadRow` (file, line, reason) per bad one, so one broken row never stops an import.
"""

from __future__ import annotations

import csv
import datetime as _dt
import io
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from narrascope.store.debunks import Debunk, claim_id

EUVSDISINFO_VERDICT = "disinformation"  # every EUvsDisinfo case is one


@dataclass(frozen=True, slots=True)
class FieldNames:
    """Which column or key holds each debunk field in a generic JSONL/CSV file."""

    claim: str = "claim"
    id: str = "id"
    url: str = "url"
    verdict: str = "verdict"
    date: str = "date"
    title: str = "title"
    text: str = "text"
    language: str = "language"


@dataclass(frozen=True, slots=True)
class BadRow:
    """A row that could not be imported: where it is and why."""

    source: str
    line: int
    reason: str
    # what to do, in `debunks add`'s options (analyze, which has none of them, leaves it out)
    hint: str | None = None

    def __str__(self) -> str:
        tail = f"; {self.hint}" if self.hint else ""
        where = f"{self.source}:{self.line}" if self.line else self.source  # 0: the whole file
        return f"{where}: {self.reason}{tail}"


Item = Debunk | BadRow


def read_debunks(path: str | Path, fields: FieldNames | None = None) -> Iterator[Item]:
    """Every debunk in a file or folder (a folder: its ``*.json`` vclaims, or ``vclaims/``)."""
    source = Path(path)
    names = fields or FieldNames()
    if source.is_dir():
        yield from _read_vclaims(source)
        return
    if not source.is_file():
        yield BadRow(str(source), 0, "no such file or folder")
        return
    suffix = source.suffix.lower()
    if suffix in (".jsonl", ".ndjson"):
        yield from _read_jsonl(source, names)
    elif suffix == ".json":
        yield from _read_json(source, names)
    elif suffix in (".csv", ".tsv"):
        yield from _read_csv(source, names)
    else:
        yield BadRow(
            str(source),
            0,
            f"unknown file type {suffix or '(none)'}: "
            "give .jsonl, .csv, .tsv, .json or a folder of vclaims/*.json",
        )


# ---------------------------------------------------------------------------- generic
def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _from_record(record: Any, names: FieldNames, where: str, line: int) -> Item:
    if not isinstance(record, dict):
        return BadRow(where, line, f"not an object but {type(record).__name__}")
    claim = _text(record.get(names.claim))
    if claim is None:
        return BadRow(where, line, f"no {names.claim!r} field (or it is empty)")
    given = _text(record.get(names.id))
    return Debunk(
        id=given or claim_id(claim),
        claim=claim,
        url=_text(record.get(names.url)),
        verdict=_text(record.get(names.verdict)),
        date=_text(record.get(names.date)),
        title=_text(record.get(names.title)),
        text=_text(record.get(names.text)),
        language=_text(record.get(names.language)),
        source=where,
    )


def _decoded(path: Path) -> str | BadRow:
    """The file's text in whatever encoding it was saved (cp1251, UTF-16...), detected as
    ``analyze`` detects its inputs': a desk's export is not always UTF-8, and text read as
    UTF-8 with replacements would be stored as garbage under an id of its own."""
    from narrascope.ingest.encoding import InputError, decode_bytes

    try:
        return decode_bytes(path.read_bytes(), str(path))
    except InputError as exc:
        return BadRow(str(path), 0, exc.reason)
    except OSError as exc:
        return BadRow(str(path), 0, f"cannot read it ({exc.strerror or exc})")


def _read_jsonl(path: Path, names: FieldNames) -> Iterator[Item]:
    where = str(path)
    text = _decoded(path)
    if isinstance(text, BadRow):
        yield text
        return
    for line_no, line in enumerate(io.StringIO(text), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            yield BadRow(where, line_no, f"not JSON ({exc.msg})")
            continue
        yield _from_record(record, names, where, line_no)


def _read_json(path: Path, names: FieldNames) -> Iterator[Item]:
    where = str(path)
    text = _decoded(path)
    if isinstance(text, BadRow):
        yield text
        return
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        yield BadRow(where, exc.lineno, f"not JSON ({exc.msg})")
        return
    records = data if isinstance(data, list) else [data]
    for n, record in enumerate(records, 1):
        if isinstance(record, dict) and "vclaim" in record and names.claim not in record:
            yield _from_vclaim(record, where)
        else:
            yield _from_record(record, names, where, n)


def _read_csv(path: Path, names: FieldNames) -> Iterator[Item]:
    where = str(path)
    text = _decoded(path)
    if isinstance(text, BadRow):
        yield text
        return
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
    first = text.split("\n", 1)[0]
    delimiter = "\t" if path.suffix.lower() == ".tsv" else _delimiter(first)
    rows = _csv_rows(text, delimiter)
    header: list[str] = []
    for line, row in rows:
        if isinstance(row, str):
            yield BadRow(where, line, f"cannot read the header row: {row}")
            return
        if row:
            header = row
            break
    lowered = {h.strip().lower() for h in header}
    if {"title", "summary", "disproof"} <= lowered:
        make = _kalkun
    elif {"id", "title", "languages", "outlets"} <= lowered:
        make = _cknabs
    else:
        make = None
    if make is None and names.claim not in header:
        yield BadRow(
            where,
            1,
            f"no {names.claim!r} column (columns: {', '.join(header)})",
            hint="name it with --claim-field",
        )
        return
    for line, row in rows:
        if isinstance(row, str):
            yield BadRow(where, line, row)
            continue
        if not row:
            continue
        if len(row) > len(header):
            yield BadRow(where, line, f"{len(row) - len(header)} more fields than the header")
            continue
        record = dict(zip(header, row, strict=False))
        try:
            yield make(record, where, line) if make else _from_record(record, names, where, line)
        except ValueError as exc:
            yield BadRow(where, line, str(exc))


class _Lines:
    """The lines of a file for :func:`csv.reader`, which can be sent back to a line (a
    csv reader cannot skip a bad row itself)."""

    def __init__(self, text: str) -> None:
        self.lines = io.StringIO(text, newline="").readlines()
        self.pos = 0

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        if self.pos >= len(self.lines):
            raise StopIteration
        self.pos += 1
        return self.lines[self.pos - 1]


def _csv_rows(text: str, delimiter: str) -> Iterator[tuple[int, list[str] | str]]:
    """(first line, fields) of each row, or (first line, why it is bad).

    Why strict, and why read on from the next line: a stray or unclosed ``"`` opens a
    quoted field that swallows the following rows into one claim, silently. Read
    strictly, such a field ends in an error (a quote followed by text, or the end of the
    file); when the row's quotes do not pair up, its opening quote was the stray one, so
    only its first line is reported and the rows it swallowed are read again.
    """
    lines = _Lines(text)
    reader = csv.reader(lines, delimiter=delimiter, strict=True)
    while True:
        start = lines.pos
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            quotes = sum(line.count('"') for line in lines.lines[start : lines.pos])
            if quotes % 2:
                lines.pos = start + 1
                yield start + 1, 'a stray or unclosed quote (") in this row; it is skipped'
            else:
                yield start + 1, f"malformed CSV row ({exc}); it is skipped"
            reader = csv.reader(lines, delimiter=delimiter, strict=True)
            continue
        yield start + 1, row


def _delimiter(header: str) -> str:
    return max((",", ";", "\t"), key=header.count)


# ---------------------------------------------------------------------------- layouts
def _iso_day(value: str | None) -> str | None:
    """dd.mm.yyyy (kalkun) → yyyy-mm-dd; other forms as given."""
    if not value:
        return None
    try:
        return _dt.datetime.strptime(value.strip(), "%d.%m.%Y").date().isoformat()
    except ValueError:
        return value.strip()


def _kalkun(row: dict[str, str], where: str, line: int) -> Item:
    """kalkun/euvsdisinfo-scraper ``full_dataset.csv``: the title is the claim (English)."""
    claim = _text(row.get("title"))
    if claim is None:
        return BadRow(where, line, "no title (the case's claim)")
    summary, disproof = _text(row.get("summary")), _text(row.get("disproof"))
    text = "\n\n".join(t for t in (summary, disproof and "Disproof: " + disproof) if t)
    return Debunk(
        id=claim_id(claim),
        claim=claim,
        url=None,
        verdict=EUVSDISINFO_VERDICT,
        date=_iso_day(row.get("date")),
        title=None,
        text=text or None,
        language="en",
        source=where,
    )


def _cknabs(row: dict[str, str], where: str, line: int) -> Item:
    """cknabs/EUvsDisinfo ``posts.csv``: id is the case URL, title the claim (English)."""
    claim, url = _text(row.get("title")), _text(row.get("id"))
    if claim is None:
        return BadRow(where, line, "no title (the case's claim)")
    return Debunk(
        id=url or claim_id(claim),
        claim=claim,
        url=url if url and url.startswith("http") else None,
        verdict=EUVSDISINFO_VERDICT,
        date=_text(row.get("date")),
        language="en",
        source=where,
    )


def _from_vclaim(record: dict[str, Any], where: str) -> Item:
    claim = _text(record.get("vclaim"))
    if claim is None:
        return BadRow(where, 1, "no 'vclaim' field (or it is empty)")
    return Debunk(
        id=_text(record.get("vclaim_id")) or claim_id(claim),
        claim=claim,
        url=_text(record.get("url")),
        verdict=_text(record.get("verdict")),
        date=_text(record.get("date")),
        title=_text(record.get("title")),
        text=_text(record.get("subtitle")),
        language=_text(record.get("language")) or "en",
        source=where,
    )


def _read_vclaims(folder: Path) -> Iterator[Item]:
    """CheckThat! 2A: one JSON object per file (``vclaim_id``, ``vclaim``, ``title``...)."""
    inner = folder / "vclaims"
    files = sorted((inner if inner.is_dir() else folder).glob("*.json"))
    if not files:
        yield BadRow(str(folder), 0, "no *.json files (nor a vclaims/ folder) here")
        return
    for path in files:
        where = str(path)
        text = _decoded(path)
        if isinstance(text, BadRow):
            yield text
            continue
        try:
            record = json.loads(text)
        except json.JSONDecodeError as exc:
            yield BadRow(where, getattr(exc, "lineno", 0), f"not JSON ({exc})")
            continue
        if not isinstance(record, dict):
            yield BadRow(where, 1, "not a JSON object")
            continue
        yield _from_vclaim(record, where)


def count_rows(path: str | Path) -> int | None:
    """About how many rows a source holds (for a progress bar); None when unknown."""
    source = Path(path)
    try:
        if source.is_dir():
            inner = source / "vclaims"
            return sum(1 for _ in (inner if inner.is_dir() else source).glob("*.json"))
        if source.suffix.lower() in (".jsonl", ".ndjson", ".csv", ".tsv"):
            with source.open("rb") as handle:
                return sum(buf.count(b"\n") for buf in iter(lambda: handle.read(1 << 20), b""))
    except OSError:
        return None
    return None
