"""Readers for fact-check files: what ``narrascope debunks add`` imports.

Why a reader per layout, chosen by looking: users bring what their fact-checking desk
exports (JSONL or CSV with a ``claim`` column, other names settable), the EUvsDisinfo case
dumps (two CSV layouts, told apart by their header) and CheckThat! ``vclaims/*.json``
folders. Each reader yields a :class:`~narrascope.store.debunks.Debunk` per good row and a
:class:`BadRow` (file, line, reason) per bad one, so one broken row never stops an import.
What the user should know about a row that was imported (a URL left out, a date not
understood) or about a file (the layout it was read as) goes to the ``notes`` callback as a
:class:`Note`: the caller prints it, the row still counts as imported.

Field names and headers are matched whatever their case and surrounding blanks (a desk's
``Claim,URL`` is ``claim,url``), and a file with the claim column is always read as
fact-checks, never as a dump whose header it happens to share columns with.
"""

from __future__ import annotations

import csv
import datetime as _dt
import functools
import io
import json
import re
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from narrascope.store.debunks import Debunk, claim_id, url_id

EUVSDISINFO_VERDICT = "disinformation"  # every EUvsDisinfo case is one
# A debunked claim is a sentence or two; one longer than this is almost always another
# column (an article body) read as the claim, and would cost seconds and gigabytes to encode.
MAX_CLAIM_CHARS = 2000
CLAIM_FIELD_HINT = "is --claim-field the right column?"
# what a ClaimReview ``reviewRating`` object says in words, best first
_RATING_TEXT = ("alternateName", "name", "ratingValue")


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


@dataclass(frozen=True, slots=True)
class Note:
    """What the import tells about a file (the layout it was read as) or about a row it
    imported with a value left out or doubtful (``warning``): the row is not a bad one."""

    source: str
    line: int
    message: str
    warning: bool = True

    def __str__(self) -> str:
        where = f"{self.source}:{self.line}" if self.line else self.source
        return f"{where}: {self.message}"


Item = Debunk | BadRow
Notes = Callable[[Note], None]


def _ignore(note: Note) -> None:
    """The default ``notes``: a caller that prints nothing (``analyze --debunks FILE``)."""


def read_debunks(
    path: str | Path, fields: FieldNames | None = None, *, notes: Notes | None = None
) -> Iterator[Item]:
    """Every debunk in a file or folder (a folder: its ``*.json`` vclaims, or ``vclaims/``).

    ``notes`` receives a :class:`Note` for the layout each file was read as and for every
    value that was left out or may be misread (see the module docstring).
    """
    source = Path(path)
    names = fields or FieldNames()
    tell = notes or _ignore
    if source.is_dir():
        yield from _read_vclaims(source, tell)
        return
    if not source.is_file():
        yield BadRow(str(source), 0, "no such file or folder")
        return
    suffix = source.suffix.lower()
    if suffix in (".jsonl", ".ndjson"):
        yield from _read_jsonl(source, names, tell)
    elif suffix == ".json":
        yield from _read_json(source, names, tell)
    elif suffix in (".csv", ".tsv"):
        yield from _read_csv(source, names, tell)
    elif suffix in (".rss", ".atom", ".xml"):
        yield from _read_feed(source, names, tell)
    else:
        yield BadRow(
            str(source),
            0,
            f"unknown file type {suffix or '(none)'}: give .jsonl, .csv, .tsv, .json, "
            "a fact-checker's RSS/Atom feed (.rss, .atom, .xml) or a folder of vclaims/*.json",
        )


# ---------------------------------------------------------------------------- generic
class _Refused(ValueError):
    """A value that is no text (an object, a list), so the row cannot be imported."""


def _text(value: Any, field: str = "value") -> str | None:
    """A field's value as text; None when missing or blank. A ClaimReview rating object
    gives its words; another object or a list of several values is refused (its Python
    form would be stored and shown as the verdict or the link)."""
    if isinstance(value, list) and len(value) == 1:
        value = value[0]  # ["en"]: one value, written as a list
    if isinstance(value, dict):
        key = next((k for k in _RATING_TEXT if _is_scalar(value.get(k))), None)
        if key is None:
            raise _Refused(f"the {field} field is an object, not text ({_keys(value)})")
        best = value.get("bestRating")
        if key == "ratingValue" and _is_scalar(best):  # a bare 1 means nothing without its scale
            return _text(f"{value[key]}/{best}")
        return _text(value[key])
    if isinstance(value, list):
        raise _Refused(f"the {field} field is a list of {len(value)} values, not text")
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _is_scalar(value: Any) -> bool:
    return isinstance(value, (str, int, float)) and not isinstance(value, bool)


def _keys(value: dict[str, Any]) -> str:
    names = ", ".join(map(str, list(value)[:4]))
    return f"keys: {names}, …" if len(value) > 4 else f"keys: {names}" if value else "empty"


def _key_index(keys: Iterable[str]) -> dict[str, str]:
    """Each key by its trimmed, case-folded form (the first of a repeated form wins)."""
    index: dict[str, str] = {}
    for key in keys:
        index.setdefault(key.strip().casefold(), key)
    return index


def _field_key(record: dict[str, Any], index: dict[str, str], name: str) -> str | None:
    """The key of ``record`` that holds field ``name``: itself, or one that differs only
    in case and blanks ("Claim", "url ")."""
    return name if name in record else index.get(name.strip().casefold())


def _from_record(
    record: Any,
    names: FieldNames,
    where: str,
    line: int,
    tell: Notes,
    index: dict[str, str] | None = None,
) -> tuple[Item, bool]:
    """The debunk of one JSON object or CSV row, and whether its id was made from its URL
    (see :func:`_debunks`). ``index``: its keys' :func:`_key_index` (a CSV's header's)."""
    if not isinstance(record, dict):
        return BadRow(where, line, f"not an object but {type(record).__name__}"), False
    keys = index if index is not None else _key_index(record)

    def value(field: str) -> str | None:
        name = getattr(names, field)
        key = _field_key(record, keys, name)
        return None if key is None else _text(record[key], name)

    try:
        claim = value("claim")
        if claim is None:
            return BadRow(where, line, f"no {names.claim!r} field (or it is empty)"), False
        too_long = _too_long(claim, where, line, hint=CLAIM_FIELD_HINT)
        if too_long is not None:
            return too_long, False
        given, url = value("id"), _url(value("url"), where, line, tell)
        debunk = Debunk(
            id=given or (url_id(url) if url else claim_id(claim)),
            claim=claim,
            url=url,
            verdict=value("verdict"),
            date=_date(value("date"), where, line, tell),
            title=value("title"),
            text=value("text"),
            language=_language(value("language"), claim, where, line, tell),
            source=where,
        )
    except _Refused as exc:
        return BadRow(where, line, str(exc)), False
    return debunk, bool(not given and url)


def _too_long(claim: str, where: str, line: int, hint: str | None = None) -> BadRow | None:
    if len(claim) <= MAX_CLAIM_CHARS:
        return None
    reason = f"the claim is {len(claim):,} characters (a claim is at most {MAX_CLAIM_CHARS:,})"
    return BadRow(where, line, reason, hint=hint)


def _debunks(
    records: list[tuple[int, Any]],
    names: FieldNames,
    where: str,
    tell: Notes,
    index: dict[str, str] | None = None,
    *,
    vclaims: bool = False,
) -> Iterator[Item]:
    """The debunk of each parsed record (a :class:`BadRow` passes through), read one at a
    time (language detection is the slow part: the progress bar moves with it).

    A record without an id is keyed by its URL, except where several records of the file
    share a URL with different claims (a page that checks several): those are keyed by
    URL and claim, so that none replaces another. ``vclaims``: a record with a ``vclaim``
    and no claim field is a CheckThat! vclaim (a JSON array of them)."""
    shared = _shared_urls(records, names, index)
    told: set[str] = set()
    for line, record in records:
        if isinstance(record, BadRow):
            yield record
            continue
        if vclaims and _is_vclaim(record, names):
            yield _from_vclaim(record, where, tell, line)
            continue
        item, by_url = _from_record(record, names, where, line, tell, index)
        if by_url and isinstance(item, Debunk) and item.id in shared:
            if item.id not in told:
                told.add(item.id)
                tell(
                    Note(
                        where,
                        line,
                        f"{shared[item.id]} claims without an id share the url {item.url}: "
                        "each is kept, keyed by url and claim (give them an id column so "
                        "that an edited claim updates its row)",
                    )
                )
            item.id = f"{item.id}#{claim_id(item.claim)}"
        yield item


def _is_vclaim(record: Any, names: FieldNames) -> bool:
    """A CheckThat! vclaim: a ``vclaim`` and no claim field."""
    if not isinstance(record, dict) or "vclaim" not in record:
        return False
    return _field_key(record, _key_index(record), names.claim) is None


def _shared_urls(
    records: list[tuple[int, Any]], names: FieldNames, index: dict[str, str] | None
) -> dict[str, int]:
    """The URL ids (:func:`~narrascope.store.debunks.url_id`) that records without an id
    give to more than one claim, and how many claims each."""
    claims: dict[str, set[str]] = {}
    for _, record in records:
        if not isinstance(record, dict):
            continue
        keys = index if index is not None else _key_index(record)
        found = {f: _field_key(record, keys, getattr(names, f)) for f in ("id", "url", "claim")}
        try:
            given, url, claim = (None if k is None else _text(record[k]) for k in found.values())
        except _Refused:
            continue  # a bad row: it keys nothing
        url = url and _http_url(url)
        if url and claim and not given:
            claims.setdefault(url_id(url), set()).add(claim_id(claim))
    return {key: len(seen) for key, seen in claims.items() if len(seen) > 1}


_SCHEMES = ("http", "https")
_BARE_HOST = re.compile(r"(?:www\.)?[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}(?:[/?#]\S*)?", re.I)


def _url(given: str | None, where: str, line: int, tell: Notes) -> str | None:
    """The fact-check's link if it is an http(s) one (``www.x.org/a`` gains ``https://``);
    anything else ("not a url", ``javascript:``) is left out with a warning."""
    if given is None:
        return None
    url = _http_url(given)
    if url is None:
        tell(Note(where, line, f"url {given[:80]!r} is not an http(s) link; left out"))
    return url


def _http_url(given: str) -> str | None:
    """``given`` as an http(s) link, or None when it is none."""
    if _BARE_HOST.fullmatch(given):
        return "https://" + given
    try:
        parts = urlsplit(given)
        ok = parts.scheme.lower() in _SCHEMES and bool(parts.hostname) and " " not in given
    except ValueError:
        return None
    return given if ok else None


# 05/11/2022 or 05-11-2022: day or month first? (dd.mm.yyyy is always read day first)
_NUMERIC_DAY = re.compile(r"(\d{1,2})([/\-])(\d{1,2})\2(\d{4})")


def _date(given: str | None, where: str, line: int, tell: Notes) -> str | None:
    """The date as written, when it names a day (the matcher reads it as
    :func:`~narrascope.text.dates.day_of` does); one that names none ("yesterday",
    "2023-02-30") is left out with a warning, and one that reads both ways (05/11/2022)
    is kept with a warning saying which way it is read."""
    if given is None:
        return None
    from narrascope.text.dates import day_of

    day = day_of(given)
    if day is None:
        tell(Note(where, line, f"date {given[:40]!r} not understood; left out (give yyyy-mm-dd)"))
        return None
    numeric = _NUMERIC_DAY.fullmatch(given)
    if numeric and numeric[1] != numeric[3] and int(numeric[1]) <= 12 and int(numeric[3]) <= 12:
        read = _dt.date.fromordinal(day)
        tell(
            Note(
                where,
                line,
                f"date {given!r} reads as day-month or month-day; taken as "
                f"{read.day} {read:%B %Y} (give yyyy-mm-dd to be sure)",
            )
        )
    return given


def _language(given: str | None, claim: str, where: str, line: int, tell: Notes) -> str | None:
    """The claim's language as a two-letter code: the one given ("ru", "RU", "rus",
    "Russian", "русский"), or, when none is given or it names no language, the one
    detected in the claim (the search index stems a claim in its language)."""
    if given is not None:
        code = _language_code(given)
        if code is not None:
            return code
    from narrascope.text.language import detect_language

    detected = detect_language(claim)[0]
    if given is not None:
        seen = f"detected as {detected!r}" if detected else "none detected"
        tell(Note(where, line, f"language {given[:40]!r} not understood; {seen}"))
    return detected


def _language_code(given: str) -> str | None:
    from narrascope.text.language import normalize_language

    try:
        return normalize_language(given)
    except ValueError:
        return _language_names().get(given.strip().casefold())


@functools.cache
def _language_names() -> dict[str, str]:
    """Language names as desks write them: lingua's English names, and the analysed
    languages' own names."""
    from lingua import Language

    names = {
        language.name.casefold(): language.iso_code_639_1.name.lower()
        for language in Language.all()
    }
    names.update(
        {
            "русский": "ru",
            "українська": "uk",
            "български": "bg",
            "português": "pt",
            "portugues": "pt",
            "हिन्दी": "hi",
            "हिंदी": "hi",
            "deutsch": "de",
            "français": "fr",
            "francais": "fr",
            "italiano": "it",
            "polski": "pl",
            "español": "es",
            "espanol": "es",
        }
    )
    return names


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


def _read_jsonl(path: Path, names: FieldNames, tell: Notes) -> Iterator[Item]:
    where = str(path)
    text = _decoded(path)
    if isinstance(text, BadRow):
        yield text
        return
    tell(Note(where, 0, f"read as JSON lines of fact-checks (the claim in {names.claim!r})", False))
    records: list[tuple[int, Any]] = []
    for line_no, line in enumerate(io.StringIO(text), 1):
        if not line.strip():
            continue
        try:
            records.append((line_no, json.loads(line)))
        except json.JSONDecodeError as exc:
            records.append((line_no, BadRow(where, line_no, f"not JSON ({exc.msg})")))
    yield from _debunks(records, names, where, tell)


def _read_feed(path: Path, names: FieldNames, tell: Notes) -> Iterator[Item]:
    """A fact-checker's RSS or Atom feed: each item a debunk, its headline the claim (or,
    with ``--claim-field text``, its summary), its link, date and guid the rest.

    Why the headline: a desk's feed titles its fact-checks by the claim ("No, NATO did not
    stage the attack in Ashby"), and the matcher compares claims with what a text says.
    """
    from narrascope.ingest.feeds import read_feed

    where = str(path)
    try:
        _, items = read_feed(path.read_bytes())
    except OSError as exc:
        yield BadRow(where, 0, f"cannot be read ({exc.strerror or exc})")
        return
    except Exception as exc:  # lxml's syntax errors: this file alone fails
        yield BadRow(where, 0, f"not a readable RSS or Atom feed ({exc})")
        return
    from_text = names.claim.casefold() in ("text", "summary", "description")
    what = "summary" if from_text else "headline"
    tell(
        Note(
            where,
            0,
            f"read as an RSS/Atom feed of fact-checks (the claim: each item's {what})",
            False,
        )
    )
    records: list[tuple[int, Any]] = []
    for number, item in enumerate(items, 1):
        record = {
            "claim": item.text if from_text else item.title,
            "id": item.guid or None,
            "url": item.link or None,
            "date": item.date,
            "title": item.title or None,
            "text": item.text or None,
        }
        records.append((number, {k: v for k, v in record.items() if v}))
    yield from _debunks(records, FieldNames(), where, tell)


def _read_json(path: Path, names: FieldNames, tell: Notes) -> Iterator[Item]:
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
    tell(Note(where, 0, f"read as JSON fact-checks (the claim in {names.claim!r})", False))
    records = list(enumerate(data if isinstance(data, list) else [data], 1))
    yield from _debunks(records, names, where, tell, vclaims=True)


def _read_csv(path: Path, names: FieldNames, tell: Notes) -> Iterator[Item]:
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
    index = _key_index(header)
    claim_column = index.get(names.claim.strip().casefold())
    make, layout = _dump_layout(index) if claim_column is None else (None, None)
    if make is None and claim_column is None:
        yield BadRow(
            where,
            1,
            f"no {names.claim!r} column (columns: {', '.join(header)})",
            hint="name it with --claim-field",
        )
        return
    tell(Note(where, 0, layout or _generic_layout(header, index, names, claim_column), False))
    records: list[tuple[int, Any]] = []
    for line, row in rows:
        if isinstance(row, str):
            records.append((line, BadRow(where, line, row)))
        elif len(row) > len(header):
            extra = f"{len(row) - len(header)} more fields than the header"
            records.append((line, BadRow(where, line, extra)))
        elif row:
            records.append((line, dict(zip(header, row, strict=False))))
    if make is None:
        yield from _debunks(records, names, where, tell, index)
        return
    for line, record in records:
        yield record if isinstance(record, BadRow) else make(record, where, line, tell)


def _dump_layout(
    index: dict[str, str],
) -> tuple[Callable[[dict[str, str], str, int, Notes], Item] | None, str | None]:
    """The EUvsDisinfo dump a header without a claim column is, and what that means."""
    said = "the case title is the claim (English), every case 'disinformation'"
    if {"title", "summary", "disproof"} <= index.keys():
        return _kalkun, f"read as an EUvsDisinfo case dump (full_dataset.csv): {said}"
    if {"id", "title", "languages", "outlets"} <= index.keys():
        return _cknabs, f"read as an EUvsDisinfo case dump (posts.csv): {said}"
    return None, None


def _generic_layout(
    header: list[str], index: dict[str, str], names: FieldNames, claim_column: str
) -> str:
    """What a fact-check table was read as: the claim's column, and the columns read by no
    field (a verdict column named otherwise shows up here)."""
    wanted = {getattr(names, f).strip().casefold() for f in FieldNames.__dataclass_fields__}
    unread = [h for h in header if h.strip().casefold() not in wanted]
    tail = f"; columns not read: {', '.join(unread)}" if unread else ""
    return f"read as a table of fact-checks (the claim in column {claim_column!r}){tail}"


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


def _column(row: dict[str, str], name: str) -> str | None:
    """A dump's column, whatever the case and blanks of its header."""
    key = _field_key(row, _key_index(row), name)
    return None if key is None else _text(row[key])


def _kalkun(row: dict[str, str], where: str, line: int, tell: Notes) -> Item:
    """kalkun/euvsdisinfo-scraper ``full_dataset.csv``: the title is the claim (English)."""
    claim = _column(row, "title")
    if claim is None:
        return BadRow(where, line, "no title (the case's claim)")
    summary, disproof = _column(row, "summary"), _column(row, "disproof")
    text = "\n\n".join(t for t in (summary, disproof and "Disproof: " + disproof) if t)
    return _too_long(claim, where, line) or Debunk(
        id=claim_id(claim),
        claim=claim,
        url=None,
        verdict=EUVSDISINFO_VERDICT,
        date=_date(_iso_day(_column(row, "date")), where, line, tell),
        title=None,
        text=text or None,
        language="en",
        source=where,
    )


def _cknabs(row: dict[str, str], where: str, line: int, tell: Notes) -> Item:
    """cknabs/EUvsDisinfo ``posts.csv``: id is the case URL, title the claim (English)."""
    claim, url = _column(row, "title"), _column(row, "id")
    if claim is None:
        return BadRow(where, line, "no title (the case's claim)")
    return _too_long(claim, where, line) or Debunk(
        id=url or claim_id(claim),
        claim=claim,
        url=url if url and url.startswith("http") else None,
        verdict=EUVSDISINFO_VERDICT,
        date=_date(_column(row, "date"), where, line, tell),
        language="en",
        source=where,
    )


def _from_vclaim(record: dict[str, Any], where: str, tell: Notes, line: int = 1) -> Item:
    try:
        claim = _text(record.get("vclaim"), "vclaim")
        if claim is None:
            return BadRow(where, line, "no 'vclaim' field (or it is empty)")
        language = _text(record.get("language"), "language")
        return _too_long(claim, where, line) or Debunk(
            id=_text(record.get("vclaim_id"), "vclaim_id") or claim_id(claim),
            claim=claim,
            url=_url(_text(record.get("url"), "url"), where, line, tell),
            verdict=_text(record.get("verdict"), "verdict"),
            date=_date(_text(record.get("date"), "date"), where, line, tell),
            title=_text(record.get("title"), "title"),
            text=_text(record.get("subtitle"), "subtitle"),
            # CheckThat!'s vclaims are English and say no language
            language=(language and _language(language, claim, where, line, tell)) or "en",
            source=where,
        )
    except _Refused as exc:
        return BadRow(where, line, str(exc))


def _read_vclaims(folder: Path, tell: Notes) -> Iterator[Item]:
    """CheckThat! 2A: one JSON object per file (``vclaim_id``, ``vclaim``, ``title``...)."""
    inner = folder / "vclaims"
    files = sorted((inner if inner.is_dir() else folder).glob("*.json"))
    if not files:
        yield BadRow(str(folder), 0, "no *.json files (nor a vclaims/ folder) here")
        return
    tell(Note(str(folder), 0, f"read as CheckThat! vclaims ({len(files)} JSON files)", False))
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
        yield _from_vclaim(record, where, tell)


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
