"""Expand inputs into files and route each file to the reader for its format.

JSON files are told apart by their first line: a line holding only ``{`` starts a
JSON document over several lines, read whole as a Telegram Desktop export
(``result.json``), as is a one-line file with Telegram's keys. A first record with
``thread_id`` and ``body`` but no text field is a 4CAT NDJSON export: such a file could
not be read as plain records anyway, so the guess never changes what a readable file
gives (``--input-format`` overrides it). Anything else is JSON Lines.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

from narrascope.doc import Document
from narrascope.errors import InputError
from narrascope.ingest.encoding import E_NOT_FOUND, decode_sample
from narrascope.ingest.formats import (
    HEAD_BYTES,
    FirstSeen,
    Item,
    csv_records,
    empty,
    fourcat_documents,
    html_document,
    is_telegram_export,
    jsonl_records,
    prefixed,
    telegram_documents,
    text_document,
    too_large,
)
from narrascope.ingest.options import ReadOptions

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
}

# the head of a one-line Telegram export: "messages" or "chats" among its first keys
_EXPORT_KEY = re.compile(
    r'\{(?:\s*"(?:name|type|id|about)"\s*:\s*(?:"[^"]*"|\d+)\s*,)*\s*"(?:messages|chats)"\s*:'
)


def discover(inputs: Sequence[str | Path]) -> Iterator[Path | str]:
    """Files in a deterministic order: folders expanded recursively, entries sorted by name.

    Hidden files and folders (``.git``, ``.DS_Store``) are skipped inside folders, and
    symlinked folders are not followed (no cycles). ``'-'`` stands for stdin. A file
    reached twice is yielded once. Paths that do not exist are yielded anyway so that the
    reader reports them.
    """
    seen: set[str] = set()
    for raw in inputs:
        if str(raw) == STDIN:
            if STDIN not in seen:
                seen.add(STDIN)
                yield STDIN
            continue
        path = Path(raw)
        for found in _walk(path) if path.is_dir() else iter([path]):
            key = os.path.realpath(found)
            if key not in seen:
                seen.add(key)
                yield found


def estimate_count(inputs: Sequence[str | Path], options: ReadOptions | None = None) -> int | None:
    """How many documents the inputs hold, for a progress bar's ETA; None if unknowable.

    One per text/html file; JSONL/CSV lines are counted by scanning bytes (far faster
    than parsing, so a 1 GB file costs about a second). stdin cannot be counted, nor
    inputs grouped into threads (records with a parent field, Telegram and 4CAT
    exports): their documents are posts, not lines.
    """
    options = options or ReadOptions()
    total = 0
    for item in discover(inputs):
        if item == STDIN:
            return None
        path = Path(item)
        fmt = _format_of(path, options)
        if fmt in ("telegram", "4cat", "json") or (
            options.parent_field is not None and fmt in ("jsonl", "csv", "tsv")
        ):
            return None
        if fmt not in ("jsonl", "csv", "tsv"):
            total += 1
            continue
        try:
            with path.open("rb") as stream:
                lines, last = 0, b""
                for chunk in iter(lambda: stream.read(1 << 20), b""):
                    lines, last = lines + chunk.count(b"\n"), chunk[-1:]
                lines += bool(last) and last != b"\n"  # a last line without its newline
        except OSError:
            total += 1  # the reader will report it as one failure
            continue
        total += max(lines - (fmt != "jsonl"), 1)  # CSV/TSV: minus the header row
    return total


def _walk(folder: Path) -> Iterator[Path]:
    try:
        with os.scandir(folder) as scan:
            entries = sorted(scan, key=lambda entry: entry.name)
    except OSError:
        yield folder  # the reader reports why it cannot be listed
        return
    for entry in entries:
        if entry.name.startswith("."):
            continue
        path = folder / entry.name
        if entry.is_dir(follow_symlinks=False):
            yield from _walk(path)
        elif entry.is_file():
            yield path


def read_inputs(
    inputs: Sequence[str | Path], options: ReadOptions | None = None
) -> Iterator[Document | InputError]:
    """Stream documents from files, folders and stdin; yield an InputError for each bad input.

    Nothing is raised for bad input, so a batch always runs to the end. A file's document
    id is its name (``EN_UA_300009.txt``, as the SemEval submission format needs); when a
    later file has the same name as an earlier one, its id is its path as discovered
    (``corpus/b/EN_UA_300009.txt``) instead. Records in JSONL/CSV take their id field, or
    ``file.jsonl:LINE`` / ``file.csv:ROW``. An id given twice is an error at the second
    place (``id 'x' repeated: first seen in a.jsonl:3``); the first document is kept.
    """
    options = options or ReadOptions()
    used_ids: set[str] = set()
    seen = FirstSeen()
    for item in discover(inputs):
        if item == STDIN:
            yield from _guarded(_read_stdin(options, seen), _STDIN_LABEL)
            continue
        path = Path(item)
        doc_id = _unique_id(path, used_ids)
        yield from _guarded(_read_path(path, doc_id, options, seen), str(path))


def _unique_id(path: Path, used: set[str]) -> str:
    candidates = [path.name, path.as_posix()]
    candidates += [f"{path.as_posix()}#{n}" for n in range(2, len(used) + 3)]
    for candidate in candidates:
        if candidate not in used:
            used.add(candidate)
            return candidate
    raise AssertionError("unreachable: more candidates than used ids")


def _guarded(items: Iterator[Item], label: str) -> Iterator[Item]:
    """Turn an I/O failure in the middle of a file into one more error, not a crash."""
    try:
        yield from items
    except OSError as exc:
        yield InputError(label, f"read failed ({exc.strerror or exc})")


def _read_path(path: Path, doc_id: str, options: ReadOptions, seen: FirstSeen) -> Iterator[Item]:
    source = str(path)
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        yield InputError(source, "no such file or folder; check the path", E_NOT_FOUND)
        return
    if path.is_dir():
        try:
            os.listdir(path)
        except OSError as exc:
            yield InputError(source, f"cannot list this folder ({exc.strerror})")
        return
    fmt = _format_of(path, options)
    if fmt in ("telegram", "4cat", "json"):
        # read whole: replies may come anywhere; --max-bytes bounds each document instead
        data = path.read_bytes()
        if fmt == "4cat":
            yield from fourcat_documents(data, source, source, options, seen)
        else:
            yield from telegram_documents(
                data, source, source, options, seen, forced=fmt == "telegram"
            )
        return
    if fmt in ("jsonl", "csv", "tsv"):
        with path.open("rb") as stream:
            if fmt == "jsonl":
                yield from jsonl_records(stream, source, doc_id, source, options, seen)
            else:
                delimiter = "\t" if fmt == "tsv" else None
                yield from csv_records(stream, source, doc_id, source, options, delimiter, seen)
        return
    if size > options.max_bytes:  # checked before reading: a huge file is never loaded
        yield too_large(source, size, options.max_bytes)
        return
    data = path.read_bytes()
    reader = html_document if fmt == "html" else text_document
    yield seen.check(reader(data, source, doc_id, source, threads=options.threads), source)


def _format_of(path: Path, options: ReadOptions) -> str:
    """The reader for ``path``: the forced format, else its suffix's, JSON sniffed."""
    if options.input_format is not None:
        return options.input_format
    fmt = _BY_SUFFIX.get(path.suffix.lower(), "txt")
    if fmt != "jsonl":
        return fmt
    try:
        with path.open("rb") as stream:
            head = stream.read(HEAD_BYTES)
        text, _ = decode_sample(head, str(path), final=len(head) < HEAD_BYTES)
    except (OSError, InputError):
        return fmt  # the reader reports it
    return json_kind(text, options)


def json_kind(head: str, options: ReadOptions) -> str:
    """``json`` (one document over several lines), ``4cat`` or ``jsonl``, from the head
    of a JSON file (see the module's docstring)."""
    lines = head.lstrip("\ufeff").splitlines()
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
    """JSONL if the first non-blank character is ``{``, else one text document ``stdin``."""
    stream = sys.stdin.buffer
    head = stream.read(HEAD_BYTES)
    try:
        head_text, _ = decode_sample(head, _STDIN_LABEL, final=len(head) < HEAD_BYTES)
    except InputError:
        head_text = ""  # not text: the text reader below reports why
    if head_text.lstrip().startswith("{"):
        replay = prefixed(head, stream)
        yield from jsonl_records(replay, _STDIN_LABEL, "stdin", None, options, seen)
        return
    data = head + stream.read(max(options.max_bytes + 1 - len(head), 0))
    if len(data) > options.max_bytes:
        yield too_large(_STDIN_LABEL, len(data), options.max_bytes, "input", more=True)
        return
    if not data:
        yield empty(_STDIN_LABEL)
        return
    doc = text_document(data, _STDIN_LABEL, "stdin", None, threads=options.threads)
    yield seen.check(doc, _STDIN_LABEL)
