"""Expand inputs into files and route each file to the reader for its format.

JSON files are told apart by their first line: a line holding only ``{`` starts a
JSON document over several lines, read whole as a Telegram Desktop export
(``result.json``), as is a one-line file with Telegram's keys. A first record with
``thread_id`` and ``body`` but no text field is a 4CAT NDJSON export: such a file could
not be read as plain records anyway, so the guess never changes what a readable file
gives (``--input-format`` overrides it). Anything else is JSON Lines.

Other files are read by their extension, with three looks at their contents, each one
that a file of the extension's kind could not fail: a ``.txt`` whose first lines are
WhatsApp message stamps is a chat export (:mod:`~narrascope.ingest.whatsapp`; local
files only), an ``.xml`` with an RSS, RDF or Atom root is a feed
(:mod:`~narrascope.ingest.feeds`), and a text or markdown file that is a PDF or a Word
file by its bytes is read as one (:mod:`~narrascope.ingest.pdf`,
:mod:`~narrascope.ingest.docx`).

Inputs may also be glob patterns and URLs (:mod:`narrascope.ingest.remote`); a file
behind a URL is read by the same readers as a local one, through pyarrow's streams.
Parquet files are read row by row (:mod:`narrascope.ingest.parquet`).
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import sys
from collections.abc import Callable, Iterator, Sequence
from functools import partial
from pathlib import Path
from typing import Any, BinaryIO

from narrascope.doc import Document
from narrascope.errors import InputError
from narrascope.ingest.docx import docx_document, is_docx
from narrascope.ingest.encoding import E_NOT_FOUND, decode_bytes, decode_sample, readable_name
from narrascope.ingest.feeds import feed_documents, looks_like_feed
from narrascope.ingest.formats import (
    HEAD_BYTES,
    FirstSeen,
    Item,
    compose_nfc,
    csv_records,
    empty,
    fourcat_documents,
    html_document,
    is_telegram_export,
    jsonl_records,
    markdown_document,
    prefixed,
    telegram_documents,
    text_document,
    too_large,
)
from narrascope.ingest.mail import email_document
from narrascope.ingest.options import CONTAINER_FACTOR, ReadOptions
from narrascope.ingest.parquet import parquet_documents, parquet_row_count
from narrascope.ingest.pdf import pdf_document
from narrascope.ingest.remote import (
    RemoteFile,
    expand_glob,
    expand_url,
    has_magic,
    is_url,
    marks_dataset,
    skipped,
)
from narrascope.ingest.subtitles import SUFFIXES as SUBTITLE_SUFFIXES
from narrascope.ingest.subtitles import subtitle_document
from narrascope.ingest.whatsapp import looks_like_whatsapp, whatsapp_documents

STDIN = "-"
_STDIN_LABEL = "<stdin>"
_BY_SUFFIX = {
    ".txt": "txt",
    ".text": "txt",
    ".md": "md",
    ".markdown": "md",
    ".html": "html",
    ".htm": "html",
    ".xhtml": "html",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".parquet": "parquet",
    ".pdf": "pdf",
    ".docx": "docx",
    ".rss": "feed",
    ".atom": "feed",
    ".eml": "eml",
    **dict.fromkeys(SUBTITLE_SUFFIXES, "subtitles"),
}
_RECORD_FORMATS = ("jsonl", "csv", "tsv", "parquet")
# a file whose extension names no format: read as text, and said so
_UNKNOWN = "unknown"

# the head of a one-line Telegram export: "messages" or "chats" among its first keys
_EXPORT_KEY = re.compile(
    r'\{(?:\s*"(?:name|type|id|about)"\s*:\s*(?:"[^"]*"|\d+)\s*,)*\s*"(?:messages|chats)"\s*:'
)


def discover(inputs: Sequence[str | Path]) -> Iterator[Path | str]:
    """Files in a deterministic order: folders expanded recursively, entries sorted by name.

    Hidden files and folders (``.git``, ``.DS_Store``) are skipped inside folders, and so
    is a Parquet dataset's bookkeeping (its errors file and journal, Spark's ``_SUCCESS``
    and ``_temporary/``: :data:`~narrascope.ingest.remote.BOOKKEEPING`; other ``_`` names
    are read); symlinked folders are not followed (no cycles). ``'-'`` stands for
    stdin. A glob pattern (``'data/**/*.parquet'``) stands for its matches, sorted, unless
    a file has that very name; a URL (``s3://bucket/posts/``) for the files behind it,
    each a :class:`~narrascope.ingest.remote.RemoteFile` (a ``str``). A file reached
    twice is yielded once. Paths that do not exist, broken symlinks in a folder, patterns
    matching nothing and URLs that cannot be used are yielded anyway so that the reader
    reports them.
    """
    seen: set[str] = set()
    for raw in inputs:
        name = str(raw)
        if name == STDIN:
            if STDIN not in seen:
                seen.add(STDIN)
                yield STDIN
            continue
        if is_url(name):
            for remote in expand_url(name):
                if remote not in seen:
                    seen.add(remote)
                    yield remote
            continue
        path = Path(raw)
        matches = [path]
        if has_magic(name) and not path.exists():
            matches = [Path(found) for found in expand_glob(name)] or matches
        for match in matches:
            for found in _walk(match) if match.is_dir() else iter([match]):
                key = os.path.realpath(found)
                if key not in seen:
                    seen.add(key)
                    yield found


def estimate_count(inputs: Sequence[str | Path], options: ReadOptions | None = None) -> int | None:
    """How many documents the inputs hold, for a progress bar's ETA; None if unknowable.

    One per text/html file; JSONL/CSV lines are counted by scanning bytes (far faster
    than parsing, so a 1 GB file costs about a second), Parquet rows read from the
    file's footer. stdin cannot be counted, nor inputs grouped into threads (records with
    a parent field, Telegram and 4CAT exports): their documents are posts, not lines;
    nor JSONL/CSV behind a URL, which would have to be downloaded twice.
    """
    options = options or ReadOptions()
    total = 0
    for item in discover(inputs):
        if item == STDIN:
            return None
        remote = isinstance(item, RemoteFile)
        if remote and item.error is not None:
            total += 1  # the reader reports it as one failure
            continue
        path = Path(item)
        fmt = _remote_format(item, options) if remote else _format_of(path, options)
        grouped = options.parent_field is not None and fmt in _RECORD_FORMATS
        if fmt in ("telegram", "4cat", "json", "whatsapp", "feed") or grouped:
            return None
        if remote and fmt in ("jsonl", "csv", "tsv"):
            return None
        if fmt == "parquet":
            rows = parquet_row_count(item.open_random if remote else partial(str, path))
            total += 1 if rows is None else rows
            continue
        if fmt not in ("jsonl", "csv", "tsv"):
            total += 1
            continue
        try:
            with path.open("rb") as stream:
                lines, last = 0, b""
                for chunk in iter(lambda: stream.read(1 << 20), b""):
                    # LF, CRLF or a lone CR (old Mac exports) ends a line; a CRLF split
                    # between two chunks is one
                    ends = chunk.count(b"\n") + chunk.count(b"\r") - chunk.count(b"\r\n")
                    lines += ends - (last == b"\r" and chunk[:1] == b"\n")
                    last = chunk[-1:]
                lines += bool(last) and last not in (b"\n", b"\r")  # a last line unended
        except OSError:
            total += 1  # the reader will report it as one failure
            continue
        total += max(lines - (fmt != "jsonl"), 1)  # CSV/TSV: minus the header row
    return total


def _walk(folder: Path, in_dataset: bool = False) -> Iterator[Path]:
    try:
        with os.scandir(folder) as scan:
            entries = sorted(scan, key=lambda entry: entry.name)
    except OSError:
        yield folder  # the reader reports why it cannot be listed
        return
    in_dataset = in_dataset or any(
        marks_dataset(entry.name, entry.is_dir(follow_symlinks=False)) for entry in entries
    )
    for entry in entries:
        if skipped(entry.name, in_dataset):
            continue
        path = folder / entry.name
        if entry.is_dir(follow_symlinks=False):
            yield from _walk(path, in_dataset)
        elif entry.is_file() or (entry.is_symlink() and not path.exists()):
            yield path  # a broken link too: the reader says where it points


def read_inputs(
    inputs: Sequence[str | Path], options: ReadOptions | None = None
) -> Iterator[Document | InputError]:
    """Stream documents from files, folders and stdin; yield an InputError for each bad input.

    Nothing is raised for bad input, so a batch always runs to the end. A file's document
    id is its name (``EN_UA_300009.txt``, as the SemEval submission format needs); when a
    later file has the same name as an earlier one, its id is its path as discovered
    (``corpus/b/EN_UA_300009.txt``) instead (for a URL: the URL). Records in
    JSONL/CSV/Parquet take their id field, or ``file.jsonl:LINE`` / ``file.csv:ROW`` /
    ``file.parquet:ROW``. An id given twice is an error at the second place (``id 'x'
    repeated: first seen in a.jsonl:3``); the first document is kept. Every document's
    text is composed to Unicode NFC here, whatever read it (:func:`compose_nfc`).
    """
    options = options or ReadOptions()
    for item in _read_all(inputs, options):
        if isinstance(item, Document):
            compose_nfc(item)
        yield item


def _read_all(inputs: Sequence[str | Path], options: ReadOptions) -> Iterator[Item]:
    used_ids: set[str] = set()
    seen = FirstSeen()
    for item in discover(inputs):
        if item == STDIN:
            yield from _guarded(_read_stdin(options, seen), _STDIN_LABEL)
            continue
        if isinstance(item, RemoteFile):
            doc_id = _unique_id(item.name, str(item), used_ids)
            yield from _guarded(_read_remote(item, doc_id, options, seen), str(item))
            continue
        path = Path(item)
        doc_id = _unique_id(readable_name(path.name), readable_name(path.as_posix()), used_ids)
        yield from _guarded(_read_path(path, doc_id, options, seen), readable_name(str(path)))


def _unique_id(name: str, full: str, used: set[str]) -> str:
    candidates = [name, full]
    candidates += [f"{full}#{n}" for n in range(2, len(used) + 3)]
    for candidate in candidates:
        if candidate not in used:
            used.add(candidate)
            return candidate
    raise AssertionError("unreachable: more candidates than used ids")


def _guarded(items: Iterator[Item], label: str) -> Iterator[Item]:
    """Turn an I/O failure in the middle of a file into one more error, not a crash; and
    so a malformed file that a reader failed to catch: what was read before stands."""
    try:
        yield from items
    except OSError as exc:
        yield InputError(label, f"read failed ({exc.strerror or exc})")
    except (csv.Error, UnicodeError) as exc:
        yield InputError(label, f"cannot read this file ({exc})")


def _read_path(path: Path, doc_id: str, options: ReadOptions, seen: FirstSeen) -> Iterator[Item]:
    source = readable_name(str(path))  # what the records and errors say; opened as it is
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        if path.is_symlink():
            target = os.readlink(path)
            yield InputError(
                source, f"broken symbolic link (to {target}); fix or remove it", E_NOT_FOUND
            )
            return
        what = "no file matches this pattern" if has_magic(source) else "no such file or folder"
        yield InputError(source, f"{what}; check the path", E_NOT_FOUND)
        return
    if path.is_dir():
        try:
            os.listdir(path)
        except OSError as exc:
            yield InputError(source, f"cannot list this folder ({exc.strerror})")
        return
    fmt = _format_of(path, options)
    yield from _read_file(
        fmt, size, source, doc_id, source, options, seen, path.open, lambda: source
    )


def _read_remote(
    item: RemoteFile, doc_id: str, options: ReadOptions, seen: FirstSeen
) -> Iterator[Item]:
    """A file behind a URL, read by the same readers as a local file."""
    if item.error is not None:
        yield InputError(str(item), item.error, item.code)
        return
    fmt = _remote_format(item, options)
    yield from _read_file(
        fmt, item.size, str(item), doc_id, str(item), options, seen, item.open, item.open_random
    )


def _read_file(
    fmt: str,
    size: int | None,
    source: str,
    doc_id: str,
    path: str | None,
    options: ReadOptions,
    seen: FirstSeen,
    open_stream: Callable[[str], BinaryIO],
    open_random: Callable[[], Any],
) -> Iterator[Item]:
    """Route one file to its format's reader. ``open_stream("rb")`` opens it for
    reading once through; ``open_random()`` gives what Parquet's reader opens. ``path``
    goes to the documents' ``meta["path"]`` (None for stdin)."""
    if fmt == "parquet":
        yield from parquet_documents(open_random, source, doc_id, path, options, seen)
        return
    if fmt in ("telegram", "4cat", "json", "whatsapp", "feed"):
        # read whole: replies may come anywhere; --max-bytes bounds each document instead
        with open_stream("rb") as stream:
            data = stream.read()
        if fmt == "whatsapp":
            yield from _whatsapp(data, source, path, options, seen)
        elif fmt == "feed":
            for item in feed_documents(data, source, path, max_bytes=options.max_bytes):
                yield seen.check(item, source) if isinstance(item, Document) else item
        elif fmt == "4cat":
            yield from fourcat_documents(data, source, path, options, seen)
        else:
            yield from telegram_documents(
                data, source, path, options, seen, forced=fmt == "telegram"
            )
        return
    if fmt in ("jsonl", "csv", "tsv"):
        with open_stream("rb") as stream:
            if fmt == "jsonl":
                yield from jsonl_records(stream, source, doc_id, path, options, seen)
            else:
                delimiter = "\t" if fmt == "tsv" else None
                yield from csv_records(stream, source, doc_id, path, options, delimiter, seen)
        return
    limit = options.max_bytes * (CONTAINER_FACTOR if fmt in _CONTAINERS else 1)
    if size is not None and size > limit:  # a huge file is never loaded
        yield too_large(source, size, limit)
        return
    with open_stream("rb") as stream:
        data = stream.read(limit + 1)
    if len(data) > limit:  # a size the file system did not tell
        what = "input" if path is None else "file"
        yield too_large(source, len(data), limit, what, more=True)
        return
    sniffed = _container_of(data) if fmt in ("txt", "md", _UNKNOWN) else None
    if sniffed is not None:
        fmt = sniffed  # a PDF or Word file by another name (or none): read as what it is
    if fmt in _CONTAINERS:
        if not data.strip():  # for every reader alike: nothing to open
            yield empty(source)
            return
        reader = {"pdf": pdf_document, "docx": docx_document, "eml": email_document}[fmt]
        doc = reader(
            data, source, doc_id, path, threads=options.threads, max_bytes=options.max_bytes
        )
        yield seen.check(doc, source)
        return
    reader = {
        "html": html_document,
        "md": markdown_document,
        "subtitles": subtitle_document,
    }.get(fmt, text_document)
    doc = reader(data, source, doc_id, path, threads=options.threads)
    if fmt == _UNKNOWN and isinstance(doc, Document):
        doc.meta.setdefault("input_warnings", []).append(
            f"unknown file extension {Path(source).suffix!r}: read as plain text "
            "(choose the format with --input-format)"
        )
    yield seen.check(doc, source)


_CONTAINERS = ("pdf", "docx", "eml")  # read whole, may be larger than their text


def _container_of(data: bytes) -> str | None:
    """``pdf`` or ``docx`` when the bytes are one, whatever the file's name says."""
    if data.startswith(b"%PDF-"):
        return "pdf"
    return "docx" if is_docx(data) else None


def _whatsapp(
    data: bytes, source: str, path: str | None, options: ReadOptions, seen: FirstSeen
) -> Iterator[Item]:
    try:
        text = decode_bytes(data, source)
    except InputError as err:
        yield err
        return
    for item in whatsapp_documents(text, source, path, max_bytes=options.max_bytes):
        yield seen.check(item, source) if isinstance(item, Document) else item


def _format_of(path: Path, options: ReadOptions) -> str:
    """The reader for ``path``: the forced format, else its suffix's, JSON, feeds in
    ``.xml`` and chat exports in ``.txt`` told by their heads."""
    return _sniffed(path.suffix, path.open, str(path), options)


def _remote_format(item: RemoteFile, options: ReadOptions) -> str:
    return _sniffed(item.suffix, item.open, str(item), options, local=False)


def _sniffed(
    suffix: str,
    open_stream: Callable[[str], BinaryIO],
    label: str,
    options: ReadOptions,
    *,
    local: bool = True,
) -> str:
    if options.input_format is not None:
        return options.input_format
    fmt = _BY_SUFFIX.get(suffix.lower(), _UNKNOWN if suffix else "txt")
    if suffix.lower() == ".xml":
        try:
            with open_stream("rb") as stream:
                return "feed" if looks_like_feed(stream.read(4096)) else fmt
        except OSError:
            return fmt  # the text reader reports it
    if fmt == "txt":  # a chat is exported to a phone or a laptop: remote texts stay texts
        return "whatsapp" if local and _opens_as_chat(open_stream, label) else fmt
    if fmt != "jsonl":
        return fmt
    try:
        with open_stream("rb") as stream:
            head = stream.read(HEAD_BYTES)
        text, _ = decode_sample(head, label, final=len(head) < HEAD_BYTES)
    except (OSError, ValueError, InputError):  # pyarrow's ArrowInvalid is a ValueError
        return fmt  # the reader reports it
    return json_kind(text, options)


def _opens_as_chat(open_stream: Callable[[str], BinaryIO], label: str) -> bool:
    """Whether a text file is a WhatsApp chat export (its head read once)."""
    try:
        with open_stream("rb") as stream:
            head = stream.read(4096)
        text, _ = decode_sample(head, label, final=len(head) < 4096)
    except (OSError, ValueError, InputError):
        return False  # the text reader reports it
    return looks_like_whatsapp(text)


def json_kind(head: str, options: ReadOptions) -> str:
    """``json`` (one document over several lines), ``4cat`` or ``jsonl``, from the head
    of a JSON file (see the module's docstring)."""
    # "\n" only, as the JSONL reader: U+2028, U+2029 and U+0085 are legal in a JSON string;
    # "\r" where no line ends in "\n" (an old Mac's file), as the JSONL reader too
    head = head.lstrip("\ufeff").rstrip("\r\n")
    lines = head.split("\n" if "\n" in head or "\r" not in head else "\r")
    first = next((line.strip() for line in lines if line.strip()), "")
    if first == "{":
        return "json"
    try:
        record = json.loads(first)
    except json.JSONDecodeError:
        # a minified export longer than the head: Telegram writes "messages" (or, for a
        # whole account, "chats") among its first keys
        if len(lines) == 1 and _EXPORT_KEY.match(first):
            return "json"
        return "jsonl"  # a bad or cut first line: the JSONL reader says which
    if is_telegram_export(record):
        return "json"
    if (
        isinstance(record, dict)
        and "thread_id" in record
        and "body" in record
        and options.text_field not in record
    ):
        return "4cat"
    return "jsonl"


def _read_stdin(options: ReadOptions, seen: FirstSeen) -> Iterator[Item]:
    """The format ``--input-format`` names; without it, JSONL if the first non-blank
    character is ``{``, else one text document ``stdin``."""
    stream = sys.stdin.buffer
    head = stream.read(HEAD_BYTES)
    fmt = options.input_format
    if fmt is None:
        try:
            head_text, _ = decode_sample(head, _STDIN_LABEL, final=len(head) < HEAD_BYTES)
        except InputError:
            head_text = ""  # not text: the text reader below reports why
        fmt = "jsonl" if head_text.lstrip().startswith("{") else "txt"
        if fmt == "txt" and looks_like_whatsapp(head_text[:4096]):
            fmt = "whatsapp"
    replay = prefixed(head, stream)

    def whole() -> io.BytesIO:  # what Parquet's reader needs: a file it can seek in
        return io.BytesIO(replay.read())

    yield from _read_file(
        fmt, None, _STDIN_LABEL, "stdin", None, options, seen, lambda _mode: replay, whole
    )
