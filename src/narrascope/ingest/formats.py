"""One reader per input format. Each yields documents and errors, and never raises them.

Record formats (JSONL, CSV) are streamed: only the head of the file is read at once, to
detect its encoding, then one line or row at a time.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator, Mapping
from datetime import date, datetime
from typing import Any, BinaryIO

import trafilatura
from trafilatura.settings import set_date_params

from narrascope.doc import Document
from narrascope.errors import InputError
from narrascope.ingest.encoding import (
    E_BAD_RECORD,
    E_DECODE,
    E_EMPTY,
    E_MISSING_FIELD,
    E_NO_MAIN_TEXT,
    E_RAGGED_ROW,
    E_TOO_LARGE,
    decode_bytes,
    decode_sample,
)
from narrascope.ingest.options import ReadOptions

HEAD_BYTES = 256 * 1024
_WIDE = ("utf-16", "utf-32")
_SLASHED_DATE = re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})")
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)

Item = Document | InputError


def too_large(
    source: str, size: int, limit: int, what: str = "file", more: bool = False
) -> InputError:
    """The size, the limit, and how to raise it."""
    over = "more than " if more else ""
    exact = f" ({size} bytes)" if size >= 1000 else ""
    return InputError(
        source,
        f"{what} is {over}{_human(size)}{exact}, over the {_human(limit)} limit; "
        "raise it with --max-bytes (ReadOptions.max_bytes)",
        E_TOO_LARGE,
    )


def empty(source: str) -> InputError:
    return InputError(source, "empty document (no text, or only whitespace)", E_EMPTY)


def repeated_id(doc_id: str, where: str, first: str) -> InputError:
    """The one wording for an id seen twice in one run, wherever it is caught."""
    return InputError(
        where, f"id {doc_id!r} repeated: first seen in {first}; the first is kept", E_BAD_RECORD
    )


class FirstSeen:
    """Where each id of one run was first seen, so a repeat names both places.

    A repeated id is an error, not a silent skip: the second document is not analysed,
    and the user learns that two inputs claim the same id.
    """

    def __init__(self) -> None:
        self._where: dict[str, str] = {}

    def check(self, item: Item, where: str) -> Item:
        """``item`` itself, or the error for it when its id was seen before."""
        if not isinstance(item, Document) or not item.id:
            return item
        first = self._where.get(item.id)
        if first is None:
            self._where[item.id] = where
            return item
        return repeated_id(item.id, where, first)


def meta(
    path: str | None, source: Any = None, url: Any = None, date_: Any = None
) -> dict[str, Any]:
    """The same four keys for every document, so consumers need not guess."""
    return {"source": source, "url": url, "date": normalise_date(date_), "path": path}


def normalise_date(value: Any) -> Any:
    """Write obvious ISO dates one way (``2024-03-02``); keep anything else as given."""
    if not isinstance(value, str):
        return value
    raw = value.strip()
    found = _SLASHED_DATE.fullmatch(raw)
    try:
        if found:
            return date(*map(int, found.groups())).isoformat()
        if len(raw) >= 10 and raw[:4].isdigit() and raw[4] == "-":
            parsed = datetime.fromisoformat(raw)
            if "T" in raw or " " in raw:
                return parsed.isoformat()
            return parsed.date().isoformat()
    except ValueError:
        pass
    return value


# -- plain text and HTML: one file, one document --------------------------------------------


def text_document(data: bytes, source: str, doc_id: str, path: str | None) -> Item:
    """Text exactly as written (CRLF kept), because gold offsets refer to it."""
    try:
        text = decode_bytes(data, source)
    except InputError as err:
        return err
    if not text.strip():
        return empty(source)
    return Document(text=text, id=doc_id, meta=meta(path))


def html_document(data: bytes, source: str, doc_id: str, path: str | None) -> Item:
    """Main text, title first and reader comments last (comments carry narratives too)."""
    try:
        html = _decode_html(data, source)
    except InputError as err:
        return err
    if not html.strip():
        return empty(source)
    try:
        page = trafilatura.bare_extraction(
            html,
            favor_recall=True,
            include_comments=True,
            with_metadata=True,
            # Only dates the page states; the extensive search guesses from any number.
            date_extraction_params=set_date_params(extensive=False),
        )
    except Exception as exc:  # a parser crash on one page must not stop a batch
        return InputError(source, f"HTML could not be parsed ({exc})", E_NO_MAIN_TEXT)
    body = ((page.text if page is not None else None) or "").strip()
    if not body:
        return InputError(
            source,
            "no main text found in the HTML page (empty, or rendered by JavaScript?); "
            "save the article text as .txt instead",
            E_NO_MAIN_TEXT,
        )
    title = (page.title or "").strip()
    text = body if not title or body.startswith(title) else f"{title}\n{body}"
    comments = (page.comments or "").strip()
    if comments:
        text = f"{text}\n\n{comments}"
    doc = Document(
        text=text,
        id=doc_id,
        meta=meta(path, page.sitename or page.hostname, page.url, page.date),
    )
    if title:
        doc.meta["title"] = title
    return doc


def _decode_html(data: bytes, source: str) -> str:
    """A charset the page declares wins if it decodes cleanly; otherwise we detect it."""
    declared = _META_CHARSET.search(data[:4096])
    if declared is not None:
        try:
            return data.decode(declared.group(1).decode("ascii"))
        except (LookupError, UnicodeDecodeError):
            pass
    return decode_bytes(data, source)


# -- records: JSONL lines and CSV rows ------------------------------------------------------


def record_document(
    record: Mapping[str, Any], source: str, default_id: str, path: str | None, options: ReadOptions
) -> Document:
    """Build a document from one record; raises InputError naming what is wrong."""
    field = options.text_field
    if field not in record:
        keys = ", ".join(map(str, record)) or "none"
        raise InputError(
            source,
            f"no {field!r} field (keys present: {keys}); choose the text field with --text-field",
            E_MISSING_FIELD,
        )
    text = record[field]
    if not isinstance(text, str):
        kind = "null" if text is None else type(text).__name__
        raise InputError(source, f"field {field!r} is {kind}, expected a string", E_BAD_RECORD)
    if len(text) * 4 > options.max_bytes and len(encoded := text.encode()) > options.max_bytes:
        raise too_large(source, len(encoded), options.max_bytes, what="record text")
    if not text.strip():
        raise empty(source)
    doc_id = default_id
    if options.id_field is not None and record.get(options.id_field) not in (None, ""):
        doc_id = str(record[options.id_field])
    return Document(
        text=text,
        id=doc_id,
        meta=meta(
            path,
            _field(record, options.source_field),
            _field(record, options.url_field),
            _field(record, options.date_field),
        ),
    )


def _field(record: Mapping[str, Any], name: str | None) -> Any:
    if name is None:
        return None
    value = record.get(name)
    return None if value == "" else value


def jsonl_records(
    stream: BinaryIO,
    label: str,
    file_id: str,
    path: str | None,
    options: ReadOptions,
    seen: FirstSeen | None = None,
) -> Iterator[Item]:
    """One document per line; a bad line (or, with ``seen``, a repeated id) is reported
    with its number and skipped."""
    head = stream.read(HEAD_BYTES)
    try:
        _, encoding = decode_sample(head, label, final=len(head) < HEAD_BYTES)
    except InputError as err:
        yield err
        return
    reader = prefixed(head, stream)
    # Generous cap on a raw line: JSON escapes can make it several times the text.
    cap = 8 * options.max_bytes + 65536
    first = True
    for lineno, line in _lines(reader, encoding, cap, label):
        if isinstance(line, InputError):
            yield line
            continue
        source = f"{label}:{lineno}"
        if not line.strip():
            continue
        try:
            # without its newline a cut line reads "Unterminated string", not "Invalid
            # control character"
            record = json.loads(line.rstrip("\r\n"))
        except json.JSONDecodeError as exc:
            if first and line.lstrip("\ufeff \t").startswith("["):
                yield InputError(
                    label,
                    "a JSON array, not JSON Lines (one object per line); "
                    "convert it with: jq -c '.[]' FILE > FILE.jsonl",
                    E_BAD_RECORD,
                )
                return
            yield InputError(source, f"invalid JSON ({_json_problem(exc)})", E_BAD_RECORD)
            first = False
            continue
        first = False
        if not isinstance(record, dict):
            kind = "null" if record is None else type(record).__name__
            yield InputError(source, f"line is a JSON {kind}, expected an object", E_BAD_RECORD)
            continue
        try:
            doc = record_document(record, source, f"{file_id}:{lineno}", path, options)
        except InputError as err:
            yield err
            continue
        yield seen.check(doc, source) if seen is not None else doc


def _json_problem(exc: json.JSONDecodeError) -> str:
    """``Expecting value at column 7``; some of json's messages already end in "at"
    (``Unterminated string starting at``), which must not read "at at"."""
    return f"{exc.msg.removesuffix(' at')} at column {exc.colno}"


def _lines(
    reader: io.BufferedReader, encoding: str, cap: int, label: str
) -> Iterator[tuple[int, str | InputError]]:
    """Numbered decoded lines; an over-long line is skipped without being held in memory."""
    wide = encoding.startswith(_WIDE)
    # UTF-16/32 cannot be split on b"\n", so those go through a text wrapper.
    text_reader = io.TextIOWrapper(reader, encoding=encoding, newline="") if wide else None
    lineno = 0
    while True:
        lineno += 1
        try:
            line = text_reader.readline(cap) if text_reader else reader.readline(cap)
        except UnicodeDecodeError:
            yield (
                lineno,
                InputError(
                    f"{label}:{lineno}",
                    f"not valid {encoding} from here on; the rest of the file is skipped; "
                    "re-save it as UTF-8",
                    E_DECODE,
                ),
            )
            return
        if not line:
            return
        if len(line) >= cap and not line.endswith("\n" if text_reader else b"\n"):
            size = len(line) + _skip_rest_of_line(text_reader or reader)
            yield lineno, too_large(f"{label}:{lineno}", size, cap, what="line")
            continue
        if isinstance(line, str):
            yield lineno, line
            continue
        try:
            yield lineno, line.decode(encoding)
        except UnicodeDecodeError:
            yield (
                lineno,
                InputError(
                    f"{label}:{lineno}",
                    f"line is not valid {encoding} (the encoding of the start of the file); "
                    "re-save the file as UTF-8",
                    E_DECODE,
                ),
            )


def _skip_rest_of_line(reader: Any) -> int:
    skipped = 0
    while True:
        chunk = reader.readline(1 << 20)
        skipped += len(chunk)
        newline = "\n" if isinstance(chunk, str) else b"\n"
        if not chunk or chunk.endswith(newline):
            return skipped


def csv_records(
    stream: BinaryIO,
    label: str,
    file_id: str,
    path: str | None,
    options: ReadOptions,
    delimiter: str | None = None,
    seen: FirstSeen | None = None,
) -> Iterator[Item]:
    """One document per row under a header row; row numbers count the header as row 1.
    With ``seen``, a row repeating an earlier id is reported instead of read."""
    head = stream.read(HEAD_BYTES)
    try:
        head_text, encoding = decode_sample(head, label, final=len(head) < HEAD_BYTES)
    except InputError as err:
        yield err
        return
    if not head_text.strip():
        yield empty(label)
        return
    dialect = _sniff(head_text, delimiter)
    text_stream = io.TextIOWrapper(prefixed(head, stream), encoding=encoding, newline="")
    # The csv module refuses fields over 128 KiB by default; our limit is --max-bytes.
    csv.field_size_limit(max(csv.field_size_limit(), options.max_bytes))
    reader = csv.reader(text_stream, dialect)
    try:
        header = [name.strip() for name in next(reader)]
    except (csv.Error, UnicodeDecodeError) as exc:
        yield InputError(label, f"cannot read the CSV header row ({exc})", E_BAD_RECORD)
        return
    if options.text_field not in header:
        yield InputError(
            label,
            f"no {options.text_field!r} column (columns: {', '.join(header)}); "
            "choose the text column with --text-field",
            E_MISSING_FIELD,
        )
        return
    row_number = 1
    while True:
        row_number += 1
        source = f"{label}:{row_number}"
        try:
            row = next(reader)
        except StopIteration:
            return
        except UnicodeDecodeError:
            yield InputError(
                source,
                f"not valid {encoding} from here on; the rest of the file is skipped; "
                "re-save it as UTF-8",
                E_DECODE,
            )
            return
        except csv.Error as exc:
            if "field larger than field limit" in str(exc):
                yield too_large(source, options.max_bytes, options.max_bytes, "a field", True)
            else:
                yield InputError(source, f"malformed CSV row ({exc})", E_BAD_RECORD)
            continue
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            yield InputError(
                source,
                f"row has {len(row)} columns but the header has {len(header)}; "
                "check quoting and delimiters in this row",
                E_RAGGED_ROW,
            )
            continue
        try:
            doc = record_document(
                dict(zip(header, row, strict=True)),
                source,
                f"{file_id}:{row_number}",
                path,
                options,
            )
        except InputError as err:
            yield err
            continue
        yield seen.check(doc, source) if seen is not None else doc


def _sniff(sample: str, delimiter: str | None) -> type[csv.Dialect] | csv.Dialect:
    if delimiter == "\t":
        return csv.excel_tab
    # Sniff on whole lines only: a cut last line confuses the quote detection.
    cut = sample.rfind("\n")
    try:
        return csv.Sniffer().sniff(sample[:cut] if cut > 0 else sample, delimiters=",;\t|")
    except csv.Error:
        return csv.excel


def prefixed(head: bytes, rest: BinaryIO) -> io.BufferedReader:
    """``rest`` with ``head``, already read from it, put back in front."""
    return io.BufferedReader(_Prefixed(head, rest))


class _Prefixed(io.RawIOBase):
    """A stream whose first bytes were already read (to sniff them), glued back on."""

    def __init__(self, head: bytes, rest: BinaryIO) -> None:
        super().__init__()
        self._head = memoryview(head)
        self._rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._head:
            n = min(len(buffer), len(self._head))
            buffer[:n] = self._head[:n]
            self._head = self._head[n:]
            return n
        data = self._rest.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def _human(size: int) -> str:
    value = float(size)
    for unit in ("bytes", "KB", "MB"):
        if value < 1000:
            return f"{size} bytes" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} GB"
