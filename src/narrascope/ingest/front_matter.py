"""Metadata written above a plain text: YAML front matter, e-mail-like header lines, a
date label opening its first line.

Why: the texts users bring are often saved by a scraper that writes what it knows of the
page above the article. trafilatura's own text and markdown output with metadata (the
``--with-metadata`` switch) opens with a YAML block (``---``, ``title: …``, ``url: …``,
``date: "2024-03-23"``, ``---``); static-site posts do the same, and scripts write
``Title: …`` / ``Date: …`` / ``URL: …`` lines. Read as text, those lines became the
document's first "sentences", its title unit became ``title: …``, and its date, link and
outlet were lost to the timeline, the dated debunk matching and the campaign view. So
they are read as what they are: the same ``meta`` keys an HTML page gives.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# Names a header may give a field, per meta key (case-folded; en ru uk bg pt hi).
_NAMES: dict[str, tuple[str, ...]] = {
    "title": ("title", "headline", "заголовок", "заглавие", "назва", "título", "titulo", "शीर्षक"),
    "date": (
        "date",
        "published",
        "published_at",
        "pubdate",
        "date_published",
        "datetime",
        "дата",
        "опубликовано",
        "опубліковано",
        "публикувано",
        "data",
        "तारीख",
        "दिनांक",
    ),
    "url": ("url", "link", "permalink", "source_url", "ссылка", "посилання", "връзка", "लिंक"),
    "source": (
        "sitename",
        "site",
        "source",
        "publisher",
        "outlet",
        "источник",
        "джерело",
        "източник",
        "fonte",
        "स्रोत",
    ),
    "hostname": ("hostname", "host", "domain"),
    "author": ("author", "authors", "by", "автор", "autor", "लेखक"),
}
KEY_OF = {name: key for key, names in _NAMES.items() for name in names}

MAX_LINES = 100  # a front matter is short; a longer "block" is the text itself
MAX_CHARS = 16_384
_FENCE = re.compile(r"---[ \t]*")
_CLOSE = re.compile(r"(?:---|\.\.\.)[ \t]*")
_YAML_FIELD = re.compile(r"([A-Za-z_][\w.-]*)[ \t]*:(?:[ \t]+(.*?))?[ \t]*")
# a header line: a known name (it may be two words: "Дата публикации"), a colon, a value
_HEADER_FIELD = re.compile(r"[ \t]*([^\W\d][\w ]{0,30}?)[ \t]*:[ \t]+(\S.*?)[ \t]*")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# A date label and its date opening the text on the same line as what follows ("Date
# 23.03.2024 The president said…", "date 2024-03-23 Conventional…"): a page's date widget
# copied with its article. Only a label of :data:`_NAMES`' dates, then a date of one of
# these forms that :mod:`narrascope.text.dates` reads as a day.
_DATELINE = re.compile(
    r"[ \t]*([^\W\d]+)[ \t]*:?[ \t]+("
    r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2})?(?:Z|[+-]\d{2}:?\d{2})?)?"
    r"|\d{1,2}\.\d{1,2}\.\d{4}(?:,?[ \t]+\d{1,2}:\d{2})?"
    r"|[^\W\d]+\.?[ \t]+\d{1,2},[ \t]+\d{4}"
    r"|\d{1,2}[ \t]+(?:de[ \t]+)?[^\s\d,]+[ \t]+(?:de[ \t]+)?\d{4}(?:[ \t]*(?:г|р)\.)?"
    r")(?=\s)"
)
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n|$)")
_SPACES = re.compile(r"\s*")


@dataclass(slots=True)
class FrontMatter:
    """What a text's head said of it: ``fields`` as written (name → value), ``meta``
    (title, date, url, source, hostname, author: the keys recognised), and ``end``, the
    offset in the text where its body begins."""

    fields: dict[str, str] = field(default_factory=dict)
    meta: dict[str, str] = field(default_factory=dict)
    end: int = 0


def read_front_matter(text: str) -> FrontMatter | None:
    """The front matter (or header lines) at the start of ``text``, if it has one."""
    lines = _lines(text)
    if not lines:
        return None
    if _FENCE.fullmatch(lines[0][0]):
        return _yaml_block(lines)
    return _header_lines(lines) or _dateline(text)


def _dateline(text: str) -> FrontMatter | None:
    """A date label and date opening the text's first line (:data:`_DATELINE`)."""
    from narrascope.text.dates import exact_day

    found = _DATELINE.match(text)
    if found is None or KEY_OF.get(found.group(1).casefold()) != "date":
        return None
    if exact_day(found.group(2)) is None:
        return None
    spaces = _SPACES.match(text, found.end())  # the blanks before the body, not a copy
    end = spaces.end() if spaces else found.end()
    return FrontMatter({found.group(1): found.group(2)}, {"date": found.group(2)}, end)


def _lines(text: str) -> list[tuple[str, int]]:
    """The first lines of ``text``, each without its line end, and the offset after it."""
    out: list[tuple[str, int]] = []
    for match in _LINE.finditer(text[:MAX_CHARS]):
        if not match.group() or len(out) >= MAX_LINES:
            break
        out.append((match.group().rstrip("\r\n"), match.end()))
    return out


def _yaml_block(lines: list[tuple[str, int]]) -> FrontMatter | None:
    """``---``, ``name: value`` lines (a list's items and indented lines under a name are
    passed over), then ``---`` or ``...``: anything else inside means it was no front
    matter (a markdown rule above a paragraph, say)."""
    found = FrontMatter()
    named = False  # whether a name came before: an indented line or item belongs to it
    for line, after in lines[1:]:
        if _CLOSE.fullmatch(line):
            if not found.fields and not named:
                return None
            found.end = after
            found.meta = _meta(found.fields)
            return found
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if named and (line[:1] in (" ", "\t") or stripped.startswith("- ")):
            continue
        field_ = _YAML_FIELD.fullmatch(line)
        if field_ is None:
            return None
        named = True
        value = _unquoted(field_.group(2) or "")
        if value and value not in ("null", "~", "|", ">", "[]", "{}"):
            found.fields[field_.group(1)] = value
    return None  # never closed


def _header_lines(lines: list[tuple[str, int]]) -> FrontMatter | None:
    """``Title: …`` / ``Date: …`` lines opening a text, ended by a blank line or the
    first other line. Only names of :data:`KEY_OF` count, and two of them are needed, or
    one date (an ISO date) or link (``http…``): a text may well open with "Update: …"."""
    found = FrontMatter()
    for line, after in lines:
        if not line.strip():
            if found.fields:
                found.end = after
            break
        field_ = _HEADER_FIELD.fullmatch(line)
        name = field_.group(1).casefold() if field_ else ""
        if field_ is None or name not in KEY_OF or field_.group(1) in found.fields:
            break
        found.fields[field_.group(1)] = _unquoted(field_.group(2))
        found.end = after
    if not found.fields:
        return None
    found.meta = _meta(found.fields)
    if len(found.meta) < 2 and not _telling(found.meta):
        return None
    return found


def _telling(meta: dict[str, str]) -> bool:
    """Whether one header line is surely metadata: an ISO date or a web link."""
    return bool(
        _ISO_DATE.match(meta.get("date", ""))
        or meta.get("url", "").lower().startswith(("http://", "https://"))
    )


def _meta(fields: dict[str, str]) -> dict[str, str]:
    meta: dict[str, str] = {}
    for name, value in fields.items():
        key = KEY_OF.get(name.casefold().replace("-", "_"))
        if key is not None and key not in meta:
            meta[key] = value
    return meta


def _unquoted(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1].strip()
    return value
