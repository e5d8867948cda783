"""One reader per input format. Each yields documents and errors, and never raises them.

Record formats (JSONL, CSV) are streamed: only the head of the file is read at once, to
detect its encoding, then one line or row at a time. Records grouped into threads
(``ReadOptions.parent_field``), a Telegram export and a 4CAT export are the exception:
a reply may come anywhere in the file, so the whole file's records are held, and the
documents come after the last line.

Every reader looks for a comment thread (:mod:`narrascope.ingest.threads`) and attaches
it to the document (``Document.article``, ``Document.comments``); a thread that cannot
be read leaves the document whole, with the reason in ``meta["thread_warnings"]``. A
text or HTML file read despite a flaw (bad UTF-8 bytes replaced, NUL bytes) says so in
``meta["input_warnings"]``.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import io
import itertools
import json
import logging
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping
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
    replace_stray_bytes,
)
from narrascope.ingest.front_matter import FrontMatter, read_front_matter
from narrascope.ingest.markdown import markdown_text
from narrascope.ingest.options import ReadOptions
from narrascope.ingest.threads import (
    Thread,
    ThreadDoc,
    epoch_to_iso,
    html_without_comment_markup,
    html_without_comments,
    split_thread,
    thread_from_4cat,
    thread_from_html,
    thread_from_records,
    thread_from_telegram,
)

logger = logging.getLogger(__name__)

HEAD_BYTES = 256 * 1024
_CSV_FIELD_LIMIT = 2**31 - 1  # the most every platform's C long holds; see _CsvLines
_WIDE = ("utf-16", "utf-32")
_SLASHED_DATE = re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})")
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
_HTML_BOMS = (codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
# Declared labels browsers do not take literally (WHATWG Encoding): Latin-1 and ASCII
# pages are read as windows-1252 (their curly quotes and dashes are cp1252 bytes; Python's
# cp1252 lacks five bytes, which the declared Latin-1 then reads), and a meta tag readable
# as ASCII proves the page is not UTF-16 (or UTF-32), so it is read as UTF-8.
_WHATWG_LABELS = {
    **dict.fromkeys(
        ("iso-8859-1", "iso8859-1", "iso_8859-1", "latin1", "latin-1", "l1", "cp819", "ibm819"),
        ("cp1252", "latin-1"),
    ),
    **dict.fromkeys(("us-ascii", "ascii", "ansi_x3.4-1968"), ("cp1252", "latin-1")),
    **dict.fromkeys(
        ("utf-16", "utf-16le", "utf-16be", "utf16", "ucs-2", "utf-32", "utf-32le", "utf-32be"),
        ("utf-8",),
    ),
}

Item = Document | InputError
# (where, default id, record): one record of a JSONL line or a CSV row, not yet checked
Row = tuple[str, str, dict[str, Any]]
# where -> what to say of the record read there (a stray byte replaced), for its document
Notes = dict[str, list[str]]

# a file holding one JSON array (pretty-printed or on one line) instead of JSON Lines
_JSON_ARRAY = (
    "a JSON array, not JSON Lines (one object per line); "
    "convert it with: jq -c '.[]' FILE > FILE.jsonl"
)


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


def text_document(
    data: bytes, source: str, doc_id: str, path: str | None, *, threads: bool = True
) -> Item:
    """Text exactly as written (CRLF kept), because gold offsets refer to it; a comment
    section copied under the article is split from it (``threads``). A front matter or
    header lines above it (``---``/``title: …``/``---``, ``Date: …``) are its metadata,
    as an HTML page's are: its title stays the first line, the rest leaves the text."""
    return _plain_document(data, source, doc_id, path, threads=threads)


def markdown_document(
    data: bytes, source: str, doc_id: str, path: str | None, *, threads: bool = True
) -> Item:
    """Markdown as the text it shows (:mod:`narrascope.ingest.markdown`), its front
    matter read as :func:`text_document` reads a text's. A comment dump saved as ``.md``
    stays as written: its indentation says who replies to whom (``threads``)."""

    def shown(body: str) -> str:
        if threads and _is_thread(body):
            return body
        return markdown_text(body)

    return _plain_document(data, source, doc_id, path, threads=threads, render=shown)


def _is_thread(text: str) -> bool:
    try:
        return split_thread(text) is not None
    except Exception:  # attach_split says what went wrong, on the text as rendered
        return False


def _plain_document(
    data: bytes,
    source: str,
    doc_id: str,
    path: str | None,
    *,
    threads: bool,
    render: Callable[[str], str] | None = None,
) -> Item:
    warnings: list[str] = []
    try:
        text = decode_bytes(data, source, warnings)
    except InputError as err:
        return err
    if not text.strip():
        return empty(source)
    head = read_front_matter(text)
    body = text if head is None else text[head.end :].lstrip("\r\n")
    if render is not None:
        body = render(body)
    if not body.strip():
        if head is None:
            return empty(source)
        return InputError(source, "no text after its front matter (metadata only)", E_EMPTY)
    if head is None:
        doc = Document(text=body, id=doc_id, meta=meta(path))
    else:
        doc = _headed_document(body, head, doc_id, path)
    if warnings:
        doc.meta["input_warnings"] = warnings
    if threads:
        attach_split(doc)
    return doc


def _headed_document(body: str, head: FrontMatter, doc_id: str, path: str | None) -> Document:
    """The text below its front matter, titled as an HTML page is (the title line first,
    unless the body opens with it, as trafilatura's does), with the fields as ``meta``."""
    found = head.meta
    title = found.get("title", "")
    opening = body.lstrip().lstrip("#").strip()  # a markdown heading is the same title
    if title and not opening.startswith(title):
        body = f"{title}\n{body}"
    source_name = found.get("source") or found.get("hostname")
    doc = Document(
        text=body, id=doc_id, meta=meta(path, source_name, found.get("url"), found.get("date"))
    )
    _keep_about(doc, found)
    doc.meta["front_matter"] = dict(head.fields)
    return doc


def file_document(
    text: str,
    source: str,
    doc_id: str,
    path: str | None,
    about: Mapping[str, str],
    *,
    threads: bool,
    max_bytes: int,
) -> Document | InputError:
    """The document of a text read out of a file format (a PDF's pages, a Word file's
    paragraphs), with what the file says ``about`` itself (``title``, ``author``,
    ``date``) as its metadata; an error when the text is over ``max_bytes``."""
    size = len(text.encode("utf-8"))
    if size > max_bytes:
        return too_large(source, size, max_bytes, "its text")
    doc = Document(text=text, id=doc_id, meta=meta(path, None, None, about.get("date")))
    _keep_about(doc, about)
    if threads:
        attach_split(doc)
    return doc


def _keep_about(doc: Document, about: Mapping[str, str]) -> None:
    """The ``title`` and ``author`` a file or its front matter states, where it does."""
    for key in ("title", "author"):
        if about.get(key):
            doc.meta[key] = about[key]


def compose_nfc(doc: Document) -> None:
    """Normalise the document's text to Unicode NFC, keeping its spans on the same words.

    Why: decomposed letters (NFD, as macOS copy-paste and PDF extraction give: "и" and a
    combining breve for "й") defeat every word pattern and tokeniser downstream, so the
    same threat would go unflagged for an invisible reason. The text is composed piece by
    piece between the offsets the reader set (the article, the comments, subtitle cues),
    so that each offset moves with its text; what changed is said in ``input_warnings``.
    """
    text = doc.text
    if unicodedata.is_normalized("NFC", text):
        return
    cues = doc.meta.get("cues") or []
    cuts = {0, len(text), *(doc.article or ())}
    cuts.update(offset for c in doc.comments for offset in (c.start, c.end))
    cuts.update(offset for cue in cues for offset in (cue["start"], cue["end"]))
    moved: dict[int, int] = {}
    pieces: list[str] = []
    position = 0
    ordered = sorted(cuts)
    for start, end in itertools.pairwise(ordered):
        moved[start] = position
        pieces.append(unicodedata.normalize("NFC", text[start:end]))
        position += len(pieces[-1])
    moved[len(text)] = position
    doc.text = "".join(pieces)
    if doc.article is not None:
        doc.article = (moved[doc.article[0]], moved[doc.article[1]])
    for comment in doc.comments:
        comment.start, comment.end = moved[comment.start], moved[comment.end]
    for cue in cues:
        cue["start"], cue["end"] = moved[cue["start"]], moved[cue["end"]]
    doc.meta.setdefault("input_warnings", []).append(
        "the text was not in Unicode NFC (letters and their accents stored apart, as macOS "
        f"and PDF copies give): normalised to NFC, {len(text)} -> {len(doc.text)} characters; "
        "offsets refer to the normalised text"
    )


def attach_split(doc: Document) -> None:
    """Split a comment dump from the document's text, if it has one.

    The splitter never raises on odd structure; a crash on a text it was not built for
    must still not lose the document, which is then analysed whole with a warning.
    """
    try:
        thread = split_thread(doc.text)
    except Exception as exc:  # one strange text must not stop a batch
        doc.meta["thread_warnings"] = [f"thread detection failed ({type(exc).__name__})"]
        return
    doc.set_thread(thread)


def html_document(
    data: bytes, source: str, doc_id: str, path: str | None, *, threads: bool = True
) -> Item:
    """Main text, title first and reader comments last, each comment a span of its own
    (``threads``); without ``threads`` the comments are appended to the text as one block."""
    warnings: list[str] = []
    try:
        html = _decode_html(data, source, warnings)
    except InputError as err:
        return err
    if not html.strip():
        return empty(source)
    # Only dates the page states; the extensive search guesses from any number.
    date_params = set_date_params(extensive=False)
    # The comments found in the markup are not the page's: the main text (with
    # ``threads``), the date and the author are read from the page without them; when
    # none are found, the date and author from the page without what it marks as
    # comments (a comment's time or name is never the article's).
    bare = html_without_comments(html)
    uncommented = bare if bare is not None else html_without_comment_markup(html)
    try:
        page = _extract_page(bare, date_params) if threads and bare is not None else None
        if page is None or not (page.text or "").strip():
            page = _extract_page(html, date_params)
            if page is not None and uncommented is not None:  # still without them
                found = trafilatura.extract_metadata(uncommented, date_config=date_params)
                page.date = found.date if found is not None else None
                page.author = found.author if found is not None else None
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
    thread: Thread | None = None
    warning = None
    if threads:
        try:
            found = thread_from_html(html, article=text, comments=comments)
        except Exception as exc:  # a parser crash keeps the page, comments appended
            found = None
            warning = f"the comment thread could not be read ({type(exc).__name__})"
        if found is not None:
            text, thread = found
    if thread is None and comments:
        text = f"{text}\n\n{comments}"
    doc = Document(
        text=text,
        id=doc_id,
        meta=meta(path, page.sitename or page.hostname, page.url, page.date),
    )
    if title:
        doc.meta["title"] = title
    author = (page.author or "").strip()
    if author:
        doc.meta["author"] = author
    if warnings:
        doc.meta["input_warnings"] = warnings
    if thread is not None:
        doc.set_thread(thread)
    elif warning is not None:
        doc.meta["thread_warnings"] = [warning]
    elif threads:
        attach_split(doc)  # a page that shows a comment dump as plain text
    return doc


def _extract_page(html: str, date_params: dict[str, Any]) -> Any:
    """trafilatura's main text, comments and metadata of a page (None when it finds none)."""
    return trafilatura.bare_extraction(
        html,
        favor_recall=True,
        include_comments=True,
        with_metadata=True,
        date_extraction_params=date_params,
    )


def _decode_html(data: bytes, source: str, warnings: list[str]) -> str:
    """A charset the page declares wins if it decodes cleanly, read as browsers read it
    (WHATWG labels); otherwise, or after a byte-order mark, we detect it.

    A page that is valid UTF-8 with non-ASCII characters is read as UTF-8 whatever it
    declares, with a warning: single-byte charsets decode any bytes, so a wrong
    declaration (a page saved as UTF-8 that still says windows-1251) would always
    "succeed" as mojibake, while legacy text is hardly ever valid UTF-8 by chance.
    """
    declared = _META_CHARSET.search(data[:4096])
    if declared is not None and not data.startswith(_HTML_BOMS):
        label = declared.group(1).decode("ascii").lower()
        encodings = _WHATWG_LABELS.get(label, (label,))
        if not data.isascii() and not any(map(_is_utf8, encodings)):
            with contextlib.suppress(UnicodeDecodeError):
                text = data.decode("utf-8")
                warnings.append(
                    f"the page declares charset {label!r} but is valid UTF-8: read as UTF-8"
                )
                return text
        for encoding in encodings:
            try:
                return data.decode(encoding)
            except (LookupError, UnicodeDecodeError):
                pass
    return decode_bytes(data, source, warnings)


def _is_utf8(encoding: str) -> bool:
    try:
        return codecs.lookup(encoding).name == "utf-8"
    except LookupError:
        return False


# -- records: JSONL lines and CSV rows ------------------------------------------------------


class ChosenFields:
    """One file's look at the id, date, source and url fields the caller chose
    (:meth:`ReadOptions.chosen_fields`): those a record must carry.

    Why: a misspelled ``--date-field`` used to leave every date empty in silence, and a
    misspelled ``--id-field`` gave every document a made-up id (which ``--resume`` and a
    join with the user's own ids then missed). A record without the chosen id field is an
    error, as one without the text field is; one without a chosen date, source or url
    field is read, and that is said once per file (logged, and in the document's
    ``input_warnings``), naming the keys the record has.
    """

    def __init__(self, options: ReadOptions) -> None:
        self.others = options.chosen_fields()
        self.id_field = self.others.pop("id", None)
        self._said: set[str] = set()

    def check_id(self, record: Mapping[str, Any], source: str) -> None:
        """Raise the error for a record without the chosen id field."""
        if self.id_field is not None and self.id_field not in record:
            raise InputError(
                source,
                f"no {self.id_field!r} field (keys present: {_keys(record)}); "
                "choose the id field with --id-field",
                E_MISSING_FIELD,
            )

    def warnings(self, record: Mapping[str, Any], source: str) -> list[str]:
        """What to say of this record: each chosen field it lacks, the first time in
        this file (logged here too)."""
        said = []
        for what, name in self.others.items():
            if what in self._said or name in record:
                continue
            self._said.add(what)
            message = (
                f"no {name!r} field (keys present: {_keys(record)}), so records without "
                f"it get no {what}; choose the {what} field with --{what}-field "
                "(said once per file)"
            )
            logger.warning("%s: %s", source, message)
            said.append(message)
        return said


def _keys(record: Mapping[str, Any]) -> str:
    return ", ".join(map(str, record)) or "none"


def record_document(
    record: Mapping[str, Any],
    source: str,
    default_id: str,
    path: str | None,
    options: ReadOptions,
    chosen: ChosenFields | None = None,
    flaws: Iterable[str] = (),
) -> Document:
    """Build a document from one record; raises InputError naming what is wrong.
    ``chosen``: the file's :class:`ChosenFields` (one per file, so a warning is said once);
    ``flaws``: what the reader found wrong with the record's line or row, and read anyway."""
    chosen = chosen or ChosenFields(options)
    text = record_text(record, source, options)
    if not text.strip():
        raise empty(source)
    chosen.check_id(record, source)
    doc_id = record_id(record, default_id, options)
    doc = Document(
        text=text,
        id=doc_id,
        meta=meta(
            path,
            _field(record, options.source_field),
            _field(record, options.url_field),
            _field(record, options.date_field),
        ),
    )
    warnings = [*flaws, *chosen.warnings(record, source)]
    if warnings:
        doc.meta["input_warnings"] = warnings
    if options.threads:
        attach_split(doc)
    return doc


def record_text(record: Mapping[str, Any], source: str, options: ReadOptions) -> str:
    """The record's text field, checked (present, a string, within the limit)."""
    field = options.text_field
    if field not in record:
        raise InputError(
            source,
            f"no {field!r} field (keys present: {_keys(record)}); "
            "choose the text field with --text-field",
            E_MISSING_FIELD,
        )
    text = record[field]
    if not isinstance(text, str):
        kind = "null" if text is None else type(text).__name__
        raise InputError(source, f"field {field!r} is {kind}, expected a string", E_BAD_RECORD)
    if len(text) * 4 > options.max_bytes and len(encoded := text.encode()) > options.max_bytes:
        raise too_large(source, len(encoded), options.max_bytes, what="record text")
    return text


def record_id(record: Mapping[str, Any], default_id: str, options: ReadOptions) -> str:
    if options.id_field is not None and record.get(options.id_field) not in (None, ""):
        return str(record[options.id_field])
    return default_id


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
    with its number and skipped. With ``options.parent_field``, one document per thread
    (see :func:`grouped_documents`). A line with a stray undecodable byte is read with
    U+FFFD in its place and a warning."""
    notes: Notes = {}
    rows = _jsonl_rows(stream, label, file_id, options, notes)
    yield from record_documents(rows, path, options, seen, notes)


def _jsonl_rows(
    stream: BinaryIO, label: str, file_id: str, options: ReadOptions, notes: Notes
) -> Iterator[Row | InputError]:
    head = stream.read(HEAD_BYTES)
    try:
        head_text, encoding = decode_sample(head, label, final=len(head) < HEAD_BYTES)
    except InputError as err:
        yield err
        return
    reader = prefixed(head, stream)
    # Generous cap on a raw line: JSON escapes can make it several times the text.
    cap = 8 * options.max_bytes + 65536
    first = True
    # a raw "\r" is never inside a JSON value, so it can end a line as well as "\n" can
    cr_only = "\r" in head_text and "\n" not in head_text
    for lineno, line, flaw in _lines(reader, encoding, cap, label, cr_only):
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
                yield InputError(label, _JSON_ARRAY, E_BAD_RECORD)
                return
            yield InputError(source, f"invalid JSON ({_json_problem(exc)})", E_BAD_RECORD)
            first = False
            continue
        if not isinstance(record, dict):
            kind = "null" if record is None else type(record).__name__
            why = f"line is a JSON {kind}, expected an object"
            if first and isinstance(record, list):  # a whole JSON array on one line?
                why = f"{why}: if the file is {_JSON_ARRAY}"
            first = False
            yield InputError(source, why, E_BAD_RECORD)
            continue
        first = False
        if flaw is not None:
            notes[source] = [flaw]
        yield source, f"{file_id}:{lineno}", record


def record_documents(
    rows: Iterable[Row | InputError],
    path: str | None,
    options: ReadOptions,
    seen: FirstSeen | None = None,
    notes: Notes | None = None,
) -> Iterator[Item]:
    """A document per record, or per thread of records with ``options.parent_field``.
    ``notes``: what the row reader has to say of a record (filled as it reads), by place."""
    notes = {} if notes is None else notes
    if options.parent_field is not None:
        yield from grouped_documents(rows, path, options, seen, notes)
        return
    chosen = ChosenFields(options)
    for row in rows:
        if isinstance(row, InputError):
            yield row
            continue
        source, default_id, record = row
        try:
            doc = record_document(
                record, source, default_id, path, options, chosen, notes.pop(source, ())
            )
        except InputError as err:
            yield err
            continue
        yield seen.check(doc, source) if seen is not None else doc


def grouped_documents(
    rows: Iterable[Row | InputError],
    path: str | None,
    options: ReadOptions,
    seen: FirstSeen | None = None,
    notes: Notes | None = None,
) -> Iterator[Item]:
    """One document per post: its text, then its replies' texts as its comments.

    A bad record is reported at its line, as without threads, and left out (its replies
    are then read without it, with a warning); a record with blank or null text is
    kept, so that the replies to a deleted comment stay in its thread. Only the fields a
    document needs are held until the end of the file. A thread's id is its post's id
    (checked with ``seen``), or the id the replies name when the post is missing. What
    ``notes`` says of a record goes to its thread's document, naming the record's place.
    """
    assert options.parent_field is not None
    notes = {} if notes is None else notes
    chosen = ChosenFields(options)
    kept = []
    flawed: dict[str, list[str]] = {}  # record id -> what was said of it
    for row in rows:
        if isinstance(row, InputError):
            yield row
            continue
        source, default_id, record = row
        try:
            # a null text is a deleted comment, as blank as an empty one
            none = record.get(options.text_field, "") is None
            text = "" if none else record_text(record, source, options)
            chosen.check_id(record, source)
        except InputError as err:
            yield err
            continue
        chosen.warnings(record, source)  # logged: a thread's document is built later
        for note in notes.pop(source, ()):
            flawed.setdefault(record_id(record, default_id, options), []).append(
                f"{source}: {note}"
            )
        kept.append(
            {
                "id": record_id(record, default_id, options),
                "parent": record.get(options.parent_field),
                "author": _field(record, options.author_field),
                "text": text,
                "date": _field(record, options.date_field),
                "source": _field(record, options.source_field),
                "url": _field(record, options.url_field),
                "at": source,
            }
        )
    docs = thread_from_records(kept, parent_field="parent")
    for item in thread_documents(
        docs,
        path,
        options,
        seen,
        where=lambda d: str(d.record["at"]),
        meta_of=lambda r: (r["source"], r["url"], r["date"]),
    ):
        if flawed and isinstance(item, Document):
            ids = (item.id, *(comment.id for comment in item.comments))
            said = [note for record in ids for note in flawed.get(record, ())]
            if said:
                item.meta.setdefault("input_warnings", []).extend(said)
        yield item


def thread_documents(
    docs: Iterable[ThreadDoc],
    path: str | None,
    options: ReadOptions,
    seen: FirstSeen | None,
    *,
    where: Callable[[ThreadDoc], str],
    meta_of: Callable[[Mapping[str, Any]], tuple[Any, Any, Any]],
) -> Iterator[Item]:
    """Documents of grouped records; ``options.max_bytes`` bounds each document (an
    export may be far bigger than one text). ``where`` names a document's place in the
    input for its errors; ``meta_of`` gives the root record's source, url and date."""
    for found in docs:
        source = where(found)
        if not found.text.strip():
            yield empty(source)
            continue
        limit = options.max_bytes
        if len(found.text) * 4 > limit and len(encoded := found.text.encode()) > limit:
            yield too_large(source, len(encoded), limit, what="thread text")
            continue
        doc = Document(text=found.text, id=found.id, meta=meta(path, *meta_of(found.record)))
        # without threads: one text, comments included, as the user asked
        if options.threads and found.thread is not None:
            doc.set_thread(found.thread)
            for comment in doc.comments:  # written as the article's date is
                comment.date = normalise_date(comment.date)
        elif options.threads:
            attach_split(doc)  # a post nobody replied to may hold a comment dump itself
        yield seen.check(doc, source) if seen is not None else doc


# -- exports of whole threads: Telegram Desktop, 4CAT --------------------------------------


def is_telegram_export(data: Any) -> bool:
    """One chat's export (``messages``) or a whole account's (``chats.list``)."""
    if not isinstance(data, Mapping):
        return False
    chats = data.get("chats")
    return isinstance(data.get("messages"), list) or (
        isinstance(chats, Mapping) and isinstance(chats.get("list"), list)
    )


def telegram_documents(
    data: bytes,
    label: str,
    path: str | None,
    options: ReadOptions,
    seen: FirstSeen | None = None,
    *,
    forced: bool = True,
) -> Iterator[Item]:
    """One document per post of a Telegram Desktop export (``result.json``), its replies
    as comments. ``forced=False``: the file was only guessed to be one (a ``.json``
    file that is not JSON Lines), which the error says."""
    try:
        text = decode_bytes(data, label)
    except InputError as err:
        yield err
        return
    try:
        export = json.loads(text)
    except json.JSONDecodeError as exc:
        yield InputError(label, f"invalid JSON ({_json_problem(exc)})", E_BAD_RECORD)
        return
    if not is_telegram_export(export):
        what = (
            'not a Telegram Desktop export (no "messages" list, nor "chats": {"list"})'
            if forced
            else "a JSON document over several lines: neither JSON Lines (one object per "
            "line) nor a Telegram Desktop export; convert it with: jq -c . FILE > FILE.jsonl"
        )
        yield InputError(label, what, E_BAD_RECORD)
        return
    docs = thread_from_telegram(export)
    if not docs:
        yield InputError(label, "the Telegram export holds no message with text", E_EMPTY)
        return
    yield from thread_documents(
        docs,
        path,
        options,
        seen,
        where=lambda d: f"{label}:{d.id}",
        meta_of=lambda r: (r.get("chat"), None, r.get("date")),
    )


def fourcat_documents(
    data: bytes, label: str, path: str | None, options: ReadOptions, seen: FirstSeen | None = None
) -> Iterator[Item]:
    """One document per thread of a 4CAT NDJSON export, its replies as comments; the
    source is the item's subreddit, board or chat, the date its ``timestamp``."""
    try:
        text = decode_bytes(data, label)
    except InputError as err:
        yield err
        return
    # "\n" only: U+2028, U+2029 and U+0085 are legal inside a JSON string; "\r" where
    # no line ends in "\n" (an old Mac's file: a raw "\r" is never inside a JSON value)
    docs = thread_from_4cat(text.split("\n" if "\n" in text or "\r" not in text else "\r"))
    if not docs:
        yield InputError(label, "the 4CAT export holds no item", E_EMPTY)
        return
    yield from thread_documents(
        docs,
        path,
        options,
        seen,
        where=lambda d: f"{label}:{d.id}",
        meta_of=_fourcat_meta,
    )


def _fourcat_meta(item: Mapping[str, Any]) -> tuple[Any, Any, Any]:
    source = next((item[k] for k in ("subreddit", "board", "chat", "source") if item.get(k)), None)
    url = item.get("url") if isinstance(item.get("url"), str) and item.get("url") else None
    return source, url, epoch_to_iso(item.get("timestamp"))


def _json_problem(exc: json.JSONDecodeError) -> str:
    """``Expecting value at column 7``; some of json's messages already end in "at"
    (``Unterminated string starting at``), which must not read "at at"."""
    return f"{exc.msg.removesuffix(' at')} at column {exc.colno}"


def _lines(
    reader: io.BufferedReader, encoding: str, cap: int, label: str, cr_only: bool = False
) -> Iterator[tuple[int, str | InputError, str | None]]:
    """Numbered decoded lines, each with what to say of it (stray bytes replaced) or None;
    an over-long line is skipped without being held in memory. ``cr_only``: the lines end
    in "\\r" alone (an old Mac's file)."""
    wide = encoding.startswith(_WIDE)
    # UTF-16/32 cannot be split on b"\n", nor lines that end in "\r" alone: those go
    # through a text wrapper, which keeps an undecodable byte escaped (see _csv_rows).
    text_reader = (
        io.TextIOWrapper(reader, encoding=encoding, errors="surrogateescape", newline="")
        if wide or cr_only
        else None
    )
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
                None,
            )
            return
        if not line:
            return
        if len(line) >= cap and not line.endswith(("\n", "\r") if text_reader else b"\n"):
            size = len(line) + _skip_rest_of_line(text_reader or reader)
            yield lineno, too_large(f"{label}:{lineno}", size, cap, what="line"), None
            continue
        if isinstance(line, bytes):
            line = line.decode(encoding, "surrogateescape")
        mended = replace_stray_bytes([line])
        if mended is None:
            yield (
                lineno,
                InputError(f"{label}:{lineno}", _not_valid(encoding, "line"), E_DECODE),
                None,
            )
            continue
        (text,), bad = mended
        yield lineno, text, _replaced(encoding, bad) if bad else None


def _skip_rest_of_line(reader: Any) -> int:
    skipped = 0
    while True:
        chunk = reader.readline(1 << 20)
        skipped += len(chunk)
        newline = ("\n", "\r") if isinstance(chunk, str) else b"\n"
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
    With ``seen``, a row repeating an earlier id is reported instead of read. With
    ``options.parent_field``, one document per thread (see :func:`grouped_documents`).
    A row with a stray undecodable byte is read with U+FFFD in its place and a warning;
    a row in another encoding than the file's start is reported alone."""
    notes: Notes = {}
    rows = _csv_rows(stream, label, file_id, options, delimiter, notes)
    yield from record_documents(rows, path, options, seen, notes)


def _not_valid(encoding: str, what: str) -> str:
    """Why a row or line is skipped: it is in another encoding than the file's start."""
    return (
        f"{what} is not valid {encoding} (the encoding of the start of the file); "
        "re-save the file as UTF-8"
    )


def _replaced(encoding: str, bad: int) -> str:
    """The warning on a record read with its stray bytes replaced."""
    what = "byte" if bad == 1 else "bytes"
    return f"not valid {encoding}: {bad} bad {what} replaced by U+FFFD"


def _undecodable(source: str, encoding: str) -> InputError:
    """A CSV stream that stops decoding: what was read stands, the rest is skipped."""
    return InputError(
        source,
        f"not valid {encoding} from here on; the rest of the file is skipped; re-save it as UTF-8",
        E_DECODE,
    )


def _csv_rows(
    stream: BinaryIO,
    label: str,
    file_id: str,
    options: ReadOptions,
    delimiter: str | None,
    notes: Notes,
) -> Iterator[Row | InputError]:
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
    # A byte the encoding cannot read is kept escaped, so that it costs at most its own
    # row (a strict decoder stops the whole file, and at a chunk's row, not its own).
    text_stream = io.TextIOWrapper(
        prefixed(head, stream), encoding=encoding, errors="surrogateescape", newline=""
    )
    # As for a JSONL line: quotes can double the text, and other fields come with it.
    lines = _CsvLines(text_stream, cap=8 * options.max_bytes + 65536)
    # The csv module's own limit (128 KiB by default) is process-wide and would leave its
    # reader inside the field it refused; _CsvLines bounds a row instead.
    csv.field_size_limit(_CSV_FIELD_LIMIT)
    reader = csv.reader(lines, dialect)
    try:
        header = [name.strip() for name in next(reader)]
    except StopIteration:
        yield empty(label)
        return
    except _RowTooLarge as exc:
        yield too_large(label, exc.size, lines.cap, what="header row", more=True)
        return
    except (csv.Error, UnicodeDecodeError) as exc:
        yield InputError(label, f"cannot read the CSV header row ({exc})", E_BAD_RECORD)
        return
    mended = replace_stray_bytes(header)
    if mended is None:
        yield InputError(label, _not_valid(encoding, "header row"), E_DECODE)
        return
    header, bad = mended
    if bad:
        logger.warning("%s: %s (in the header row)", label, _replaced(encoding, bad))
    id_field = options.chosen_fields().get("id")
    for field, what in ((options.text_field, "text"), (id_field, "id")):
        if field is not None and field not in header:  # said once, not on every row
            yield InputError(
                label,
                f"no {field!r} column (columns: {', '.join(header)}); "
                f"choose the {what} column with --{what}-field",
                E_MISSING_FIELD,
            )
            return
    row_number = 1
    while True:
        row_number += 1
        source = f"{label}:{row_number}"
        lines.start_row()
        try:
            row = next(reader)
        except StopIteration:
            return
        except UnicodeDecodeError:
            yield _undecodable(source, encoding)
            return
        except (csv.Error, _RowTooLarge) as exc:
            # the reader stopped inside this row: skip the rest of it, so that the next
            # row read is the next real row, not a line of a quoted field
            try:
                size, closed = lines.skip_row()
            except UnicodeDecodeError:
                yield _undecodable(source, encoding)
                return
            if isinstance(exc, _RowTooLarge):
                yield too_large(source, size, lines.cap, what="row", more=not closed)
            else:
                yield InputError(source, f"malformed CSV row ({exc})", E_BAD_RECORD)
            if not closed:
                yield InputError(
                    source,
                    "a quoted field is not closed before the end of the file; "
                    "the rest of the file is skipped",
                    E_BAD_RECORD,
                )
                return
            continue
        if not any(cell.strip() for cell in row):
            continue
        mended = replace_stray_bytes(row)
        if mended is None:
            yield InputError(source, _not_valid(encoding, "row"), E_DECODE)
            continue
        row, bad = mended
        if bad:
            notes[source] = [_replaced(encoding, bad)]
        if len(row) != len(header):
            yield InputError(
                source,
                f"row has {len(row)} columns but the header has {len(header)}; "
                "check quoting and delimiters in this row",
                E_RAGGED_ROW,
            )
            continue
        yield source, f"{file_id}:{row_number}", dict(zip(header, row, strict=True))


def _sniff(sample: str, delimiter: str | None) -> type[csv.Dialect]:
    """Standard quoting (``""`` inside quotes) with the sample's delimiter.

    Only the delimiter (and spaces after it) is taken from :class:`csv.Sniffer`: its
    guess of the quoting fails on CRLF lines and then reads every ``""`` wrong.
    """
    if delimiter == "\t":
        return csv.excel_tab
    # The Sniffer's patterns end lines at "\n" only (an old Mac's CSV ends them at "\r",
    # which the csv reader then takes for a new line inside a field); and sniff whole
    # lines only: a cut last line confuses it.
    sample = sample.replace("\r\n", "\n").replace("\r", "\n")
    cut = sample.rfind("\n")
    try:
        sniffed = csv.Sniffer().sniff(sample[:cut] if cut > 0 else sample, delimiters=",;\t|")
        found, skip_space = sniffed.delimiter, sniffed.skipinitialspace
    except csv.Error:
        found, skip_space = ",", False
    try:
        header = next(csv.reader(io.StringIO(sample), delimiter=found), [])
    except csv.Error:  # the reader that follows says what is wrong with the header row
        header = []
    if len(header) == 1:  # a header of one column naming others: its delimiter is another
        counts = {d: header[0].count(d) for d in ";\t|" if d != found}
        best = max(counts, key=lambda d: counts[d])
        if counts[best]:
            found, skip_space = best, False
    return type("sniffed", (csv.excel,), {"delimiter": found, "skipinitialspace": skip_space})


class _RowTooLarge(Exception):
    """A CSV row over the size limit (raised through the csv reader by :class:`_CsvLines`)."""

    def __init__(self, size: int) -> None:
        super().__init__(f"row of more than {size} characters")
        self.size = size


class _CsvLines:
    """The lines of a CSV file for :func:`csv.reader`, which cannot skip a bad row itself.

    It counts the characters and quote characters of the row being read: a row over
    ``cap`` stops the reader (:class:`_RowTooLarge`) before it is held in memory, and
    after a bad row :meth:`skip_row` reads on to the end of a quoted field left open
    (an odd number of quotes: in standard quoting a quote inside a field is doubled).
    """

    def __init__(self, stream: io.TextIOBase, cap: int) -> None:
        self.cap = cap
        self._stream = stream
        self._size = 0
        self._quotes = 0
        self._line_ended = True

    def __iter__(self) -> _CsvLines:
        return self

    def __next__(self) -> str:
        line = self._read(self.cap)
        if not line:
            raise StopIteration
        if self._size > self.cap or not self._line_ended:
            raise _RowTooLarge(self._size)
        return line

    def start_row(self) -> None:
        self._size = self._quotes = 0

    def skip_row(self) -> tuple[int, bool]:
        """Read to the end of the row being read: ``(its size, whether it ended)``."""
        while not self._line_ended or self._quotes % 2:
            if not self._read(1 << 20):
                return self._size, False
        return self._size, True

    def _read(self, limit: int) -> str:
        line = self._stream.readline(limit)
        self._size += len(line)
        self._quotes += line.count('"')
        # shorter than asked for without a newline: the file's last line
        self._line_ended = line.endswith(("\n", "\r")) or len(line) < limit
        return line


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
