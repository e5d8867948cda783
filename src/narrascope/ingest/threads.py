"""Split a page into its article and its reader comments, keeping who replied to whom.

A comment section is not part of the article: its words must not feed the article's
narratives, and each comment needs its own analysis (hate, incitement). This module only
finds the structure; it never analyses text. Every reader here returns a :class:`Thread`
whose offsets point into one text (the original text for :func:`split_thread`, the text it
builds and returns for the others), or None when the input holds no thread, in which case
the caller keeps the whole text as one document.

Nothing here raises on bad structure and no comment text is lost: inconsistent
indentation, headers without bodies, cycles or missing parents in records give the best
partial thread with its ``warnings``.

Text not covered by ``article`` or any comment span is furniture: header lines ("Alice
says:"), date lines, "Reply"/"Like" lines, thread headings ("12 Comments") and the reply
form after the last comment (``trailer``).
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import trafilatura
from lxml import html as lxml_html

__all__ = [
    "Comment",
    "Thread",
    "ThreadDoc",
    "epoch_to_iso",
    "html_without_comment_markup",
    "html_without_comments",
    "split_thread",
    "thread_from_4cat",
    "thread_from_html",
    "thread_from_records",
    "thread_from_telegram",
]

# -- the model ------------------------------------------------------------------------------


@dataclass(slots=True)
class Comment:
    """One comment: its body is ``text[start:end]`` (end exclusive), without its header.

    ``parent`` is the id of the comment it replies to, None for a reply to the article.
    ``depth`` is 0 for a top-level comment and ``parent``'s depth + 1 otherwise.
    """

    id: str
    parent: str | None
    author: str | None
    start: int
    end: int
    depth: int = 0
    date: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "parent": self.parent,
            "author": self.author,
            "date": self.date,
            "start": self.start,
            "end": self.end,
            "depth": self.depth,
        }


@dataclass(slots=True)
class Thread:
    """An article and the comments under it, as spans of one text.

    ``article`` is ``(start, end)``; ``(0, 0)`` when the input holds comments only (a
    reply export whose post is missing). ``comments`` are in reading order (a parent
    before its replies). ``kind`` says which reader found it: ``text``, ``html``,
    ``records``, ``telegram`` or ``4cat``. ``trailer`` is text after the last comment
    that belongs to neither (a reply form, a page footer).
    """

    article: tuple[int, int]
    comments: list[Comment]
    kind: str
    warnings: list[str] = field(default_factory=list)
    trailer: tuple[int, int] | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "article": {"start": self.article[0], "end": self.article[1]},
            "comments": [c.to_dict() for c in self.comments],
            "thread_kind": self.kind,
        }
        if self.warnings:
            out["thread_warnings"] = list(self.warnings)
        return out


@dataclass(slots=True)
class ThreadDoc:
    """One document built from records: the root post's text followed by its replies.

    ``text`` is the root's text, then ``"\\n\\n"`` and each reply's text in reading order;
    ``thread`` is None for a post nobody replied to. ``record`` is the root record (or
    the first reply's when the root is missing), for the caller's metadata fields.
    """

    id: str
    text: str
    thread: Thread | None
    record: Mapping[str, Any]


_MAX_WARNINGS = 20


def _capped(warnings: list[str]) -> list[str]:
    """The first warnings and a count of the rest: a broken 1 MB dump must not carry
    thousands of them into every output."""
    if len(warnings) <= _MAX_WARNINGS:
        return warnings
    rest = len(warnings) - _MAX_WARNINGS + 1
    return [*warnings[: _MAX_WARNINGS - 1], f"... and {rest} more warnings"]


# -- plain text -----------------------------------------------------------------------------

_VERBS = (
    r"says|said|wrote|writes|replied|commented|"
    r"пишет|написал[аио]?|говорит|сказал[аи]?|ответил[аи]?|"  # ru
    r"пише|написав|написала|відповів|відповіла|каже|"  # uk
    r"каза|написа|отговори|"  # bg
    r"diz|disse|escreveu|comentou|respondeu|"  # pt
    r"ने कहा|ने लिखा|कहते हैं"  # hi
)
# last words of the verbs, with the optional endings: a prefilter, so over-inclusive
_VERB_WORDS = frozenset(
    w.split()[-1] + ending
    for w in re.sub(r"\[[^\]]*\]\?", "", _VERBS).split("|")
    for ending in ("", "а", "и", "о")
)
# every date we read has a digit or one of these words: a fast filter for the long patterns
_DATE_HINT = re.compile(r"\d|yesterday|today|вчера|сегодня|вчора|сьогодні", re.IGNORECASE)
_NAME = r"[^\s,;:!?\"“”«»()\[\]{}<>|][^,;:!?\"“”«»()\[\]{}<>|]{0,59}?"
_NUMBER = r"#?(?P<num>\d{1,4}(?:\.\d{1,4})*)[.)]?\s+"
_MONTHS = (
    r"jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?|"
    r"январ[яь]|феврал[яь]|марта?|апрел[яь]|ма[яй]|июн[яь]|июл[яь]|августа?|"
    r"сентябр[яь]|октябр[яь]|ноябр[яь]|декабр[яь]|"
    r"січня|лютого|березня|квітня|травня|червня|липня|серпня|вересня|жовтня|листопада|грудня|"
    r"януари|февруари|март|април|юни|юли|август|септември|октомври|ноември|декември|"
    r"janeiro|fevereiro|março|abril|maio|junho|julho|agosto|setembro|outubro|novembro|dezembro"
)
_TIME = (
    r"\d{1,2}[:.]\d{2}(?::\d{2})?\s*(?:[ap]\.?m\.?)?"
    r"(?:\s*\(?(?:utc|gmt|msk|eet|eest|cet|cest)(?:[+-]\d{1,2}(?::?\d{2})?)?\)?)?"
)
_DAY = (
    rf"(?:(?:{_MONTHS})\.?\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}"  # March 3, 2022
    rf"|\d{{1,2}}(?:st|nd|rd|th)?\.?\s+(?:de\s+)?(?:{_MONTHS})\.?,?\s+(?:de\s+)?\d{{4}}(?:\s*г\.?)?"
    r"|\d{4}-\d{2}-\d{2}"  # 2022-03-03
    r"|\d{1,2}[./]\d{1,2}[./]\d{2,4}"  # 03.03.2022
    r"|yesterday|today|вчера|сегодня|вчора|сьогодні)"
)
_AGO = (
    r"(?:\d+|an?|one)\s+(?:second|minute|hour|day|week|month|year)s?\s+ago"
    r"|\d+\s+(?:секунд\w*|минут\w*|час\w*|дн\w*|день|недел\w*|месяц\w*|год\w*|лет)\s+назад"
)
_DATE_BODY = (
    rf"(?:on\s+|в\s+)?(?:{_DAY}(?:\s*(?:,|at|в|о|@|-|–|às|à|,\s*at)?\s*{_TIME})?"
    rf"|{_TIME}\s*(?:,|on|-|–)?\s*{_DAY}|{_AGO})"
)
_AGO_RE = re.compile(_AGO, re.IGNORECASE)
_DATE_LINE = re.compile(rf"^[•·\-–—\s]*{_DATE_BODY}(?:\s*\(?edited\)?)?[•·\s]*$", re.IGNORECASE)
_SAYS = re.compile(
    rf"^(?:{_NUMBER})?(?P<name>{_NAME})\s+(?:on\s+(?P<date1>{_DATE_BODY})\s+)?"
    rf"(?:{_VERBS})(?:\.\.\.|…)?\s*:?(?:\s+(?P<date2>{_DATE_BODY}))?\s*$",
    re.IGNORECASE,
)
# "Alice • 3 years ago", "Bob → Alice · March 3, 2022 at 5:14 pm", "@alice 3 years ago"
_NAME_DATE = re.compile(
    rf"^(?:{_NUMBER})?(?:(?P<name>{_NAME})\s*(?:[•·|—–]|\s-\s|\son\s|\t|\s{{3,}})\s*"
    rf"|(?P<handle>@\S{{1,40}})\s+)"
    rf"(?P<date>{_DATE_BODY})"
    r"(?:\s*\(?edited\)?)?\s*$",
    re.IGNORECASE,
)
_ARROW = re.compile(r"\s*(?:→|➦|↪|►|▶|>|replying to|in reply to)\s*", re.IGNORECASE)
_REPLY_TO = re.compile(
    r"^(?:in reply to|replying to|↪|в ответ на|відповідь на)\s*@?(?P<name>[^,:;!?]{1,60}?)"
    r"[.:]?$",
    re.IGNORECASE,
)
_FURNITURE = re.compile(
    r"^(?:reply|log ?in to reply|login to reply|reply\s*[↓→]|reply to this comment|"
    r"\(reply\)(?:\s*\((?:thread|parent|link|expand)\))*|"
    r"report|report comment|report abuse|flag|share|share\s*›|permalink|edit|quote|"
    r"like|unlike|likes?|liked by \d+ (?:person|people)|like\s+liked by .{1,40}|"
    r"loading(?:\.\.\.|…)|upvote|downvote|hide replies|show replies|view \d+ repl(?:y|ies)|"
    r"load more comments|show more comments|\d+ repl(?:y|ies)|\d+ likes?|"
    r"avatar(?: photo| image)?|your comment is awaiting moderation\.?|"
    r"ответить|цитировать|пожаловаться|нравится|відповісти|отговор|отговори|"
    r"responder|curtir|जवाब दें|"
    r"[\d\s•·|›⬆⬇▲▼↑↓+\-]*(?:(?:reply|share|upvote|downvote|ответить)[\s•·|›⬆⬇▲▼↑↓\d+\-]*)+)$",
    re.IGNORECASE,
)
_HEADING = re.compile(
    r"^(?:(?:\d+\s+)?(?:comments?|responses?|replies|discussion|reader comments|"
    r"readers' comments|thoughts)(?:\s*\(\d+\))?\s*:?"
    r"|(?:\d+|one|two|three|four|five|six|seven|eight|nine|ten)\s+"
    r"(?:thoughts?|responses?|comments?|replies)\s+(?:on|to)\s+.{1,200}"
    r"|(?:leave|post|add|write|submit)\s+a\s+(?:reply|comment|response)"
    r"|join the (?:discussion|conversation)"
    r"|(?:\d+\s+)?(?:комментари\w*|коментар\w*|обсуждение|отзывы|ответы|відгуки|"
    r"coment[áa]rios?|टिप्पणियाँ|टिप्पणियां)(?:\s*\(\d+\))?\s*:?"
    r"|(?:оставить|добавить|написать|оставьте|залишити|додати|напишете|deixe)\s+(?:um\s+)?"
    r"(?:комментарий|коментар|коментарий|coment[áa]rio|resposta))$",
    re.IGNORECASE,
)
# A reply form or a page footer after the last comment: where the thread stops.
_FORM = re.compile(
    r"^(?:leave a (?:reply|comment|response)|cancel reply|post comment|submit comment|"
    r"add a comment|comments are closed\.?|your email address will not be published.*|"
    r"оставить комментарий|добавить комментарий|оставьте комментарий|"
    r"залишити коментар|додати коментар|deixe um coment[áa]rio|deixe uma resposta)$",
    re.IGNORECASE,
)
# Words a name line is never made of: they mark a sentence ("What the Kremlin says").
_NOT_NAME = frozenset(
    "the a an of and or to in on at for with from by that this these those who what which "
    "when where why how he she it they we i you one everyone everybody someone somebody "
    "nobody also now still then there here but if as so his her their our my your its is "
    "was are were be been not no yes just only "
    "он она оно они мы вы я кто что как это и в на не тоже также а но его её их "
    "він вона воно вони ми ви хто що як це та і але".split()
)
_SENTENCE_END = tuple(".!?:;…\"”»)]'’")
_TAB = 4
_INITIAL = re.compile(r"(?:^|\s)\w\.$")  # "Oleg K." ends in an initial, not a full stop


def _name_ok(name: str, relaxed: bool = False) -> bool:
    """Whether a header's name looks like a user name rather than words of a sentence.

    ``relaxed`` (inside a thread already found) lets function words stand inside a name
    ("Jinx the cat"), but not first ("He says").
    """
    words = name.split()
    if not 1 <= len(words) <= 5 or len(name) > 50:
        return False
    if name.endswith(("-", "—", "–")) or (name.endswith(".") and not _INITIAL.search(name)):
        return False
    checked = words[:1] if relaxed else words
    if any(w.lower().strip("'’") in _NOT_NAME for w in checked):
        return False
    return any(ch.isalnum() for ch in name) and not name.replace(" ", "").isdigit()


@dataclass(slots=True)
class _Line:
    start: int  # offset of the line's first character
    end: int  # offset after its content (line break excluded)
    indent: int  # columns of leading whitespace, a tab counting as 4
    lead: int  # characters of leading whitespace
    stripped: str


@dataclass(slots=True)
class _Header:
    first: int  # index of the header line
    last: int  # index of its last line (a date line under it)
    name: str
    date: str | None
    num: str | None
    indent: int
    reply_to: str | None
    # "says" (a verb header) or "dated" (a name line with a date, no verb)
    kind: str = "says"
    loose: bool = False

    @property
    def strong(self) -> bool:
        """Numbered or dated: a shape articles do not give a "Name says:" line."""
        return bool(self.num or self.date)

    @property
    def relative(self) -> bool:
        return bool(self.date and _AGO_RE.search(self.date))


def _lines(text: str) -> list[_Line]:
    out: list[_Line] = []
    pos = 0
    for raw, content in zip(text.splitlines(keepends=True), text.splitlines(), strict=True):
        stripped = content.strip()
        lead = len(content) - len(content.lstrip()) if stripped else 0
        indent = lead
        if lead and "\t" in content[:lead]:
            indent = 0
            for ch in content[:lead]:
                indent = (indent // _TAB + 1) * _TAB if ch == "\t" else indent + 1
        out.append(_Line(pos, pos + len(content), indent, lead, stripped))
        pos += len(raw)
    return out


def _is_furniture(s: str) -> bool:
    return len(s) <= 80 and _FURNITURE.match(s) is not None


def _is_date(s: str) -> bool:
    return len(s) <= 80 and _DATE_HINT.search(s) is not None and _DATE_LINE.match(s) is not None


def _maybe_says(s: str) -> bool:
    """Cheap test before the header pattern: a verb ends the line, or a date might."""
    words = s.rstrip(" :.…").rsplit(None, 1)
    last = words[-1].casefold() if words else ""
    return last in _VERB_WORDS or _DATE_HINT.search(s) is not None


def _next_nonblank(lines: list[_Line], i: int, limit: int = 2) -> int | None:
    """Index of the first non-blank line after ``i``, looking at most ``limit`` lines on."""
    for j in range(i + 1, min(i + 1 + limit, len(lines))):
        if lines[j].stripped:
            return j
    return None


def _split_name(name: str) -> tuple[str, str | None]:
    """``"Bob → Alice"`` is Bob replying to Alice (Disqus shows replies so)."""
    parts = _ARROW.split(name.strip(), maxsplit=1)
    if len(parts) == 2 and parts[0] and parts[1]:
        return parts[0].strip(" *_"), parts[1].strip(" *_")
    return name.strip(" *_"), None  # "**Alice** says:" in Markdown


def _wrapped_prose(lines: list[_Line], i: int) -> bool:
    """A line that continues the paragraph above it ("... as the minister says") is no header."""
    if i == 0 or not lines[i - 1].stripped:
        return False
    above = lines[i - 1]
    return len(above.stripped) >= 60 and not above.stripped.endswith(_SENTENCE_END)


def _find_headers(lines: list[_Line]) -> list[_Header]:
    """Comment headers, in order. A "Name says" header whose name holds function words
    ("Jinx the cat says") is ``loose``: taken only on a line of its own after a blank
    line, and only inside a thread that strict headers found."""
    headers: list[_Header] = []
    i = 0
    n = len(lines)
    while i < n:
        line = lines[i]
        s = line.stripped
        if not s or len(s) > 140:
            i += 1
            continue
        header = None
        found = _SAYS.match(s) if _maybe_says(s) else None
        loose = found is not None and not _name_ok(_split_name(found["name"])[0])
        if loose and i > 0 and lines[i - 1].stripped:
            found = None
        if found and _name_ok(_split_name(found["name"])[0], relaxed=True):
            date = found["date1"] or found["date2"]
            last = i
            after = _next_nonblank(lines, i)
            if date is None and after is not None and _is_date(lines[after].stripped):
                date, last = lines[after].stripped, after
            name, reply_to = _split_name(found["name"])
            header = _Header(i, last, name, date, found["num"], line.indent, reply_to)
            header.loose = loose
        else:
            found = _NAME_DATE.match(s) if _DATE_HINT.search(s) else None
            raw_name = (found["name"] or found["handle"]) if found else ""
            if found and _name_ok(_split_name(raw_name)[0]):
                name, reply_to = _split_name(raw_name)
                header = _Header(
                    i, i, name, found["date"], found["num"], line.indent, reply_to, "dated"
                )
            elif len(s) <= 60 and not s.endswith(_SENTENCE_END):
                after = _next_nonblank(lines, i)
                if (
                    after is not None
                    and _is_date(lines[after].stripped)
                    and not _is_date(s)
                    and not _HEADING.match(s)
                ):
                    name, reply_to = _split_name(s)
                    if _name_ok(name):
                        date = lines[after].stripped
                        header = _Header(i, after, name, date, None, line.indent, reply_to, "dated")
        if header is None or _wrapped_prose(lines, i):
            i += 1
            continue
        # "In reply to Alice" under the header names the parent in a flat dump
        after = _next_nonblank(lines, header.last)
        hint = _REPLY_TO.match(lines[after].stripped) if after is not None else None
        if hint and _name_ok(hint["name"].strip().lstrip("@")):
            header.reply_to = header.reply_to or hint["name"].strip()
            header.last = after
        headers.append(header)
        i = header.last + 1
    return headers


def _heading_before(lines: list[_Line], first: int) -> int | None:
    """Index of the thread heading ("12 Comments") just above the first comment, if any.

    Only short lines ("Sort by: newest") may stand between the two: they are left out
    of the article, and a paragraph must never be.
    """
    seen = 0
    found = None
    j = first - 1
    while j >= 0 and seen < 4:
        s = lines[j].stripped
        if s:
            seen += 1
            if len(s) <= 200 and (_HEADING.match(s) or _FORM.match(s)):
                found = j
            elif len(s) > 80:
                break
        j -= 1
    return found


def _article_end(lines: list[_Line], first: int, heading: int | None) -> int:
    """Offset where the article stops: before the heading, or before the furniture and
    blank lines that lead to the first comment."""
    j = heading if heading is not None else first
    j -= 1
    while j >= 0 and (not lines[j].stripped or _is_furniture(lines[j].stripped)):
        j -= 1
    return lines[j].end if j >= 0 else 0


def _body(lines: list[_Line], first: int, stop: int) -> tuple[int, int] | None:
    """Span of lines ``first..stop-1`` without the furniture and blank lines at both ends."""
    while first < stop and (not lines[first].stripped or _is_furniture(lines[first].stripped)):
        first += 1
    # a date under the body (Blogger's "March 3, 2022 at 5:14 PM") is furniture too
    while stop > first and (
        not lines[stop - 1].stripped
        or _is_furniture(lines[stop - 1].stripped)
        or _is_date(lines[stop - 1].stripped)
    ):
        stop -= 1
    if first >= stop:
        return None
    last = lines[stop - 1]
    return lines[first].start + lines[first].lead, last.start + last.lead + len(last.stripped)


def _depths(headers: list[_Header], warnings: list[str]) -> list[int]:
    """Reply depth of each header: from nested numbers ("1.2") when the dump has them,
    else from indentation, a deeper indent opening a reply level."""
    if any(h.num and "." in h.num for h in headers):
        return [h.num.count(".") if h.num else 0 for h in headers]
    depths: list[int] = []
    stack: list[int] = []  # indents of the open levels
    for h in headers:
        popped = False
        while stack and stack[-1] > h.indent:
            stack.pop()
            popped = True
        if stack and stack[-1] == h.indent:
            depths.append(len(stack) - 1)
            continue
        if popped:
            read_as = "a reply to the comment above" if stack else "top-level"
            warnings.append(
                f"inconsistent indentation at line {h.first + 1} ({h.name!r}): read as {read_as}"
            )
        stack.append(h.indent)
        depths.append(len(stack) - 1)
    return depths


def _looks_like_thread(headers: list[_Header], furniture: int) -> bool:
    """Without a heading, two headers need a shape articles lack. Quotes ("Putin says:")
    and timelines (an event line over a date line) are what articles do have."""
    if len(headers) < 2:
        return False
    says = [h for h in headers if h.kind == "says"]
    return (
        sum(h.strong for h in says) >= 2
        or furniture >= 2
        or sum(h.relative for h in headers) >= 2
        or len(says) >= 5
    )


def split_thread(text: str) -> Thread | None:
    """Find a comment section in a plain-text page dump; None when there is none.

    Recognised comment headers: ``"1. Alice says"``, ``"Alice says:"``, ``"Alice wrote:"``
    (and the ru/uk/bg/pt/hi verbs), ``"Alice on March 3, 2022 at 5:14 pm said:"``, a
    name line over a date line (``"Alice"`` / ``"March 3, 2022 at 5:14 pm"`` or
    ``"• 3 years ago"``, as Disqus and WordPress copy), and ``"Alice • 3 years ago"``.
    Reply depth comes from nested numbers (``"1.2"``) or indentation (spaces or tabs);
    a flat dump's ``"Bob → Alice"`` or ``"In reply to Alice"`` names the parent.

    Ordinary articles must never be split, so a thread needs two headers and a shape
    articles lack: a thread heading ("12 Comments"), numbered or dated headers,
    "Reply"/"Like" lines, or five bare "Name says:" headers. Linear in the text's length.
    """
    lines = _lines(text)
    found = _find_headers(lines)
    headers = [h for h in found if not h.loose]
    if not headers:
        return None
    heading = _heading_before(lines, headers[0].first)
    furniture = sum(
        1 for ln in lines[headers[0].first :] if ln.stripped and _is_furniture(ln.stripped)
    )
    if heading is None and not _looks_like_thread(headers, furniture):
        return None
    headers = [h for h in found if h.first >= headers[0].first]
    warnings: list[str] = []
    depths = _depths(headers, warnings)

    # where the last comment stops: a reply form, or a line less indented than the thread
    end_line = len(lines)
    top_indent = min(h.indent for h in headers)
    last = headers[-1]
    for j in range(last.last + 1, len(lines)):
        s = lines[j].stripped
        if not s:
            continue
        if (len(s) <= 200 and _FORM.match(s)) or (top_indent > 0 and lines[j].indent < top_indent):
            end_line = j
            break

    comments: list[Comment] = []
    authors: dict[str, Comment] = {}
    # open reply levels: (structural depth, the comment its replies go to)
    stack: list[tuple[int, Comment | None]] = []
    for k, h in enumerate(headers):
        depth = depths[k]
        while stack and stack[-1][0] >= depth:
            stack.pop()
        parent = stack[-1][1] if stack else None
        if stack and depth > stack[-1][0] + 1:
            warnings.append(f"line {h.first + 1}: {h.name!r} skips a reply level")
        if parent is None and h.reply_to:
            parent = authors.get(h.reply_to.lstrip("@").casefold())
            if parent is None:
                warnings.append(
                    f"line {h.first + 1}: {h.name!r} replies to {h.reply_to!r}, "
                    "who has no earlier comment; read as top-level"
                )
        stop = headers[k + 1].first if k + 1 < len(headers) else end_line
        span = _body(lines, h.last + 1, stop)
        if span is None:
            # its replies go to its parent
            warnings.append(f"comment header at line {h.first + 1} ({h.name!r}) has no text")
            stack.append((depth, parent))
            continue
        comment = Comment(
            id=f"c{len(comments) + 1}",
            parent=parent.id if parent is not None else None,
            author=h.name,
            start=span[0],
            end=span[1],
            depth=parent.depth + 1 if parent is not None else 0,
            date=h.date,
        )
        comments.append(comment)
        authors[h.name.casefold()] = comment
        stack.append((depth, comment))
    if not comments:
        return None
    article = (0, _article_end(lines, headers[0].first, heading))
    trailer = None
    if end_line < len(lines):
        tail = _body(lines, end_line, len(lines))
        if tail is not None:
            trailer = tail
    return Thread(article, comments, "text", _capped(warnings), trailer)


# -- HTML -----------------------------------------------------------------------------------

_BLOCK_TAGS = frozenset(
    "p div br li ul ol blockquote pre h1 h2 h3 h4 h5 h6 tr table section article footer "
    "header dd dt dl figure figcaption hr".split()
)
_SKIP_TAGS = frozenset("script style form button noscript template svg input textarea".split())
# Parts of a comment's markup that are not its words.
_SKIP_CLASSES = frozenset(
    "comment-author comment-meta comment-metadata commentmetadata reply comment-reply-link "
    "vcard says avatar comment-awaiting-moderation children post-meta post-byline "
    "comment-footer comment-actions comment-header comment-reply comment-date "
    "comment-time comment-votes comment__header comment__footer comment__actions "
    "post-menu post-actions comment-edit-link author username user-name date timestamp".split()
)
_BODY_CLASSES = (
    "comment-content",
    "comment-text",
    "comment_text",
    "commentText",
    "comment-body-text",
    "comment__body",
    "comment__text",
    "comment-message",
    "post-message",
    "text",  # a bare <div class="comment"> with <div class="text">, after the specific ones
)
_AUTHOR_CLASSES = ("fn", "comment-author", "author", "username", "user-name", "comment__author")
_COMMENT_XPATHS = (
    # WordPress and most blog engines: <li class="comment" id="comment-12">, replies
    # nested in <ul class="children">
    "//li[contains(concat(' ', normalize-space(@class), ' '), ' comment ')"
    " or re:test(@id, '^comment-[0-9]+$')]",
    # schema.org microdata
    "//*[@itemprop='comment' or contains(@itemtype, 'schema.org/Comment')]",
    "//article[contains(concat(' ', normalize-space(@class), ' '), ' comment ')]",
    # a saved Disqus thread: <li class="post"> with <div class="post-message">
    "//li[contains(concat(' ', normalize-space(@class), ' '), ' post ')]"
    "[.//*[contains(concat(' ', normalize-space(@class), ' '), ' post-message ')]]",
    # hand-made and news-site markup: <div class="comment">, <section class="comment-item">
    "//*[self::div or self::section]"
    "[contains(concat(' ', normalize-space(@class), ' '), ' comment ')"
    " or contains(concat(' ', normalize-space(@class), ' '), ' comment-item ')]",
)
# Any element a page marks as comments, for when none of _COMMENT_XPATHS matches: the
# page's date and author must not be read from them. The page's frame, or a wrapper
# holding the article, is never one of them (WordPress marks <body> "comments-open").
_COMMENT_LIKE = (
    "//*[not(self::html or self::head or self::body or self::main or self::article)]"
    "[contains(translate(@class, 'COMENT', 'coment'), 'comment')"
    " or contains(translate(@id, 'COMENT', 'coment'), 'comment')]"
    "[not(.//article or .//main or .//h1)]"
)
# lxml refuses a str that declares its encoding; the text is already decoded
_XML_DECLARATION = re.compile(r"^\ufeff?\s*<\?xml[^>]*\?>")
_DATE_CLASSES = ("comment-metadata", "comment-date", "comment-time", "date", "timestamp")
_XPATH_NS = {"re": "http://exslt.org/regular-expressions"}


def _classes(el: Any) -> set[str]:
    return set((el.get("class") or "").split())


def _own(el: Any, nodes: set[Any]) -> Iterator[Any]:
    """Elements under ``el`` (itself included) that are not inside a nested comment."""
    todo = [el]
    while todo:
        cur = todo.pop()
        yield cur
        todo.extend(
            child for child in reversed(cur) if isinstance(child.tag, str) and child not in nodes
        )


def _text_of(el: Any, nodes: set[Any], skip_meta: bool) -> str:
    """Visible words of ``el``, one line per block, leaving out nested comments (and,
    with ``skip_meta``, the author/date/reply markup)."""
    parts: list[str] = []

    def walk(cur: Any) -> None:
        tag = cur.tag if isinstance(cur.tag, str) else ""
        skip = (
            tag in _SKIP_TAGS
            or (cur is not el and cur in nodes)
            or (skip_meta and cur is not el and _classes(cur) & _SKIP_CLASSES)
        )
        if not skip:
            block = tag in _BLOCK_TAGS
            if block:
                parts.append("\n")
            if cur.text:
                parts.append(cur.text)
            for child in cur:
                if isinstance(child.tag, str):
                    walk(child)
                elif child.tail:  # a comment or processing instruction
                    parts.append(child.tail)
            if block:
                parts.append("\n")
        if cur is not el and cur.tail:
            parts.append(cur.tail)

    try:
        walk(el)
    except RecursionError:
        return " ".join(el.text_content().split())
    lines = (" ".join(line.split()) for line in "".join(parts).split("\n"))
    kept = [line for line in lines if line and not _is_furniture(line)]
    return "\n".join(kept)


def _first_with_class(el: Any, nodes: set[Any], names: Sequence[str]) -> Any | None:
    for name in names:
        for cur in _own(el, nodes):
            if name in _classes(cur):
                return cur
    return None


def _author_of(el: Any, nodes: set[Any]) -> str | None:
    for cur in _own(el, nodes):
        if cur.get("itemprop") == "author":
            names = [c for c in cur.iter() if c.get("itemprop") == "name"]
            value = (names[0] if names else cur).text_content()
            return " ".join(value.split()) or None
    found = _first_with_class(el, nodes, _AUTHOR_CLASSES)
    if found is None:
        return None
    name = " ".join(found.text_content().split())
    name = re.sub(r"\s*(?:says|said|wrote)\s*:?\s*$", "", name, flags=re.IGNORECASE)
    return name[:100] or None


def _date_of(el: Any, nodes: set[Any]) -> str | None:
    for cur in _own(el, nodes):
        if cur.tag == "time" or cur.get("itemprop") in ("dateCreated", "datePublished"):
            value = cur.get("datetime") or cur.get("content") or cur.text_content()
            value = " ".join((value or "").split())
            if value:
                return value
    found = _first_with_class(el, nodes, _DATE_CLASSES)
    if found is not None:
        return " ".join(found.text_content().split()) or None
    return None


_Found = tuple[str, str | None, str | None, str | None, str]  # id, parent, author, date, body


def _find_comments(html: str, warnings: list[str]) -> tuple[Any, list[_Found], list[Any]]:
    """The parsed page, the comments found in its markup and their elements (the first
    of ``_COMMENT_XPATHS`` that gives comments with words); no comments when the page
    cannot be parsed or its markup cannot be read."""
    root = _parsed(html)
    if root is None:
        return None, [], []
    try:
        for xpath in _COMMENT_XPATHS:
            nodes = root.xpath(xpath, namespaces=_XPATH_NS)
            if nodes:
                found = _html_comments(nodes, warnings)
                if found:
                    return root, found, nodes
    except Exception as exc:  # odd markup must not stop a batch: fall back to trafilatura's
        warnings.append(f"the comment markup could not be read ({type(exc).__name__})")
    return root, [], []


def _parsed(html: str) -> Any | None:
    """The page's element tree; None when lxml cannot parse it (an empty page)."""
    try:
        return lxml_html.fromstring(_XML_DECLARATION.sub("", html, count=1))
    except Exception:  # lxml refuses empty strings
        return None


def _without(root: Any, nodes: list[Any]) -> str:
    """The page's HTML with the comment ``nodes`` removed (the text after each kept).
    Changes ``root``."""
    outer = set(nodes)
    for node in nodes:
        if not any(a in outer for a in node.iterancestors()) and node.getparent() is not None:
            node.drop_tree()
    return str(lxml_html.tostring(root, encoding="unicode"))


def html_without_comments(html: str) -> str | None:
    """The page without the reader comments :func:`thread_from_html` finds in its
    markup; None when it finds none.

    The main text and the page's date are to be extracted from it: an extractor can take
    a comment list inside ``<article>`` for main text, or a comment's ``<time>`` for the
    page's date, and a comment's words must not be read as the article's.
    """
    root, _, nodes = _find_comments(html, [])
    try:
        return _without(root, nodes) if nodes else None
    except Exception:  # odd markup must not stop a batch: the page is read whole
        return None


def html_without_comment_markup(html: str) -> str | None:
    """The page without any element whose class or id says "comment"; None when it has
    none. For a page whose comments :func:`thread_from_html` cannot read: its date and
    author are read from what is left, never from a comment's."""
    root = _parsed(html)
    if root is None:
        return None
    try:
        nodes = root.xpath(_COMMENT_LIKE)
        return _without(root, nodes) if nodes else None
    except Exception:  # odd markup must not stop a batch: the page is read whole
        return None


def _article_text(html: str) -> tuple[str, str]:
    """The page's main text as the HTML reader builds it (title line, then the body),
    and trafilatura's flat comment text. Comments are asked for so that trafilatura
    keeps them out of the main text."""
    page = trafilatura.bare_extraction(
        html, favor_recall=True, include_comments=True, with_metadata=True
    )
    if page is None:
        return "", ""
    body = (page.text or "").strip()
    title = (page.title or "").strip()
    text = body if not title or body.startswith(title) else f"{title}\n{body}"
    return text, (page.comments or "")


def thread_from_html(
    html: str, *, article: str | None = None, comments: str | None = None
) -> tuple[str, Thread] | None:
    """The text to analyse and its thread, for a page whose reader comments can be found.

    The text is the article, then ``"\\n\\n"`` and each comment's words in page order (a
    parent before its replies); headers, dates and "Reply" links are left out, the
    author and date go to the :class:`Comment`. ``article`` is the page's main text when
    the caller already extracted it (the HTML reader does, with trafilatura); otherwise
    trafilatura runs here. Comments are found in their markup (WordPress
    ``li.comment`` with ``ul.children``, schema.org ``itemprop=comment``,
    ``article.comment``, a saved Disqus ``li.post``); when the page has none of it but
    trafilatura found a comment section (``comments``, its flat text), that text becomes
    one comment with a warning. None when the page has no comments.
    """
    warnings: list[str] = []
    root, found, nodes = _find_comments(html, warnings)
    if article is None:
        try:
            # without the comment nodes, so that no comment can become article text
            article, extracted = _article_text(_without(root, nodes) if nodes else html)
        except Exception:  # a trafilatura crash leaves the comments, with no article
            article, extracted = "", ""
            warnings.append("the article text could not be extracted")
        comments = extracted if comments is None else comments
    if not found and not (comments or "").strip():
        return None
    text = _cut_comments(article, [f[4] for f in found], warnings).rstrip()
    article_span = (0, len(text))
    out: list[Comment] = []
    if not found:
        block = _without_headings((comments or "").strip())
        if not block:  # "Comments (2)" is no comment: the comments are elsewhere
            warnings.append("the page has a comment section, but its comments could not be read")
            return text, Thread(article_span, out, "html", warnings)
        text = f"{text}\n\n{block}" if text else block
        out.append(Comment("c1", None, None, len(text) - len(block), len(text)))
        warnings.append("the comments' structure was not found; they are read as one comment")
        return text, Thread(article_span, out, "html", warnings)
    depth: dict[str, int] = {}
    pieces = [text]
    pos = len(text)
    for cid, parent, author, date, body in found:
        sep = "\n\n" if pos else ""
        start = pos + len(sep)
        pieces.append(sep + body)
        pos = start + len(body)
        depth[cid] = depth[parent] + 1 if parent is not None else 0
        out.append(Comment(cid, parent, author, start, pos, depth[cid], date))
    return "".join(pieces), Thread(article_span, out, "html", warnings)


def _without_headings(block: str) -> str:
    """A flat comment section without its heading and reply-form lines at its start."""
    lines = block.split("\n")
    while lines and (not lines[0].strip() or _is_heading(lines[0].strip())):
        lines.pop(0)
    return "\n".join(lines).strip()


def _is_heading(line: str) -> bool:
    return len(line) <= 200 and (_HEADING.match(line) is not None or _FORM.match(line) is not None)


_LIST_MARK = re.compile(r"^(?:[-*•>]\s+)+")


def _cut_comments(article: str, bodies: list[str], warnings: list[str]) -> str:
    """The article without the comments an extractor took for main text.

    A comment is looked for by its first line: as a whole line of the article (a list
    marker aside), so that a short "Kill them all!" is found too, or, from 20 characters
    on, inside a line. The article is cut at the line of the earliest one, but only when
    most comments are in it: one comment quoting the article must not cut the article.
    """
    lines: dict[str, int] = {}  # a line, whitespace and list marker aside -> its first offset
    pos = 0
    for line in article.split("\n"):
        lines.setdefault(" ".join(_LIST_MARK.sub("", line.strip()).split()), pos)
        pos += len(line) + 1
    probes = [body.split("\n", 1)[0] for body in bodies if body.strip()]
    found = []
    for probe in probes:
        at = lines.get(" ".join(probe.split()), -1)
        if at <= 0 and len(probe) >= 20:
            at = article.find(probe)
        if at > 0:
            found.append(at)
    if not found or len(found) * 2 < len(probes):
        return article
    cut = article.rfind("\n", 0, min(found)) + 1
    if not article[:cut].strip():
        return article  # nothing would be left: keep the extractor's text as it is
    warnings.append("comment text found in the extracted article was cut from it")
    return article[:cut]


def _html_comments(
    nodes_list: list[Any], warnings: list[str]
) -> list[tuple[str, str | None, str | None, str | None, str]]:
    nodes = set(nodes_list)
    ids: dict[Any, str | None] = {}
    used: set[str] = set()
    out = []
    for n, node in enumerate(nodes_list, 1):
        parent_node = next((a for a in node.iterancestors() if a in nodes), None)
        body_el = _first_with_class(node, nodes, _BODY_CLASSES)
        if body_el is None:
            body_el = next((c for c in _own(node, nodes) if c.get("itemprop") == "text"), None)
        body = _text_of(body_el if body_el is not None else node, nodes, skip_meta=True)
        parent = ids.get(parent_node) if parent_node is not None else None
        if not body:
            # an empty comment (deleted, a pingback): its replies go to its parent
            ids[node] = parent
            continue
        cid = node.get("id") or f"c{n}"
        if cid in used:
            warnings.append(f"comment id {cid!r} repeated; renamed")
            cid = f"{cid}~{n}"
        used.add(cid)
        ids[node] = cid
        out.append((cid, parent, _author_of(node, nodes), _date_of(node, nodes), body))
    return out


# -- records --------------------------------------------------------------------------------


@dataclass(slots=True)
class _Node:
    id: str
    parent: str | None
    author: str | None
    text: str
    date: Any
    record: Mapping[str, Any]


def _str_id(value: Any) -> str | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    out = str(value).strip()
    return out or None


def thread_from_records(
    records: Iterable[Mapping[str, Any]],
    *,
    id_field: str = "id",
    parent_field: str = "parent_id",
    author_field: str | None = "author",
    text_field: str = "text",
    date_field: str | None = "date",
) -> list[ThreadDoc]:
    """Group flat records (JSONL lines, CSV rows) into one document per root post.

    A record whose ``parent_field`` is empty is a root; the others hang under their
    parent, however deep. Replies whose parent is not in the input are grouped by that
    parent into a document with no article; a cycle of parent links is cut at its first
    record, which becomes a root; a repeated id is renamed; a record without text is
    left out and its replies go to its parent. Each case adds a warning, none raises.
    Documents come in the order of their root's first record.
    """
    nodes = []
    for n, record in enumerate(records, 1):
        raw_text = record.get(text_field)
        nodes.append(
            _Node(
                id=_str_id(record.get(id_field)) or f"#{n}",
                parent=_str_id(record.get(parent_field)),
                author=_str_id(record.get(author_field)) if author_field else None,
                text=raw_text if isinstance(raw_text, str) else "",
                date=record.get(date_field) if date_field else None,
                record=record,
            )
        )
    return _build(nodes, "records")


def _build(nodes: list[_Node], kind: str) -> list[ThreadDoc]:
    """Reading order by an iterative walk (no recursion limit on deep chains); linear.
    A warning about a record goes to the thread that holds it."""
    notes: dict[int, list[str]] = {}
    index: dict[str, int] = {}
    for k, node in enumerate(nodes):
        if node.id in index:
            new = f"{node.id}~{k + 1}"
            notes.setdefault(k, []).append(
                f"id {node.id!r} repeated; the later record is read as {new!r}"
            )
            node.id = new
        index[node.id] = k
    children: dict[int, list[int]] = {}
    roots: list[int] = []
    orphans: dict[str, list[int]] = {}
    for k, node in enumerate(nodes):
        if node.parent == node.id:
            notes.setdefault(k, []).append(
                f"record {node.id!r} names itself as its parent; read as a post"
            )
            node.parent = None
        if node.parent is None:
            roots.append(k)
        elif node.parent in index:
            children.setdefault(index[node.parent], []).append(k)
        else:
            orphans.setdefault(node.parent, []).append(k)
    # (position for ordering, root index or None, top-level indices, warnings)
    groups: list[tuple[int, int | None, list[int], list[str]]] = []
    visited = [False] * len(nodes)
    for k in roots:
        groups.append((k, k, children.get(k, []), []))
        _mark(k, children, visited)
    for missing, tops in orphans.items():
        note = (
            f"{len(tops)} repl{'y' if len(tops) == 1 else 'ies'} to {missing!r}, "
            "which is not in the input: read without its post"
        )
        groups.append((tops[0], None, tops, [note]))
        for k in tops:
            _mark(k, children, visited)
    for k in range(len(nodes)):
        if visited[k]:
            continue
        # no root reaches it, so its parent links end in a cycle: cut it at its first record
        cut = _cycle_entry(k, nodes, index)
        notes.setdefault(cut, []).append(
            f"parent links of {nodes[cut].id!r} form a cycle; it is read as a post"
        )
        nodes[cut].parent = None
        groups.append((cut, cut, children.get(cut, []), []))
        _mark(cut, children, visited)
    groups.sort(key=lambda g: g[0])
    seen = [False] * len(nodes)
    return [
        _group_doc(nodes, children, root, tops, list(group_notes), notes, kind, seen)
        for _, root, tops, group_notes in groups
    ]


def _cycle_entry(k: int, nodes: list[_Node], index: dict[str, int]) -> int:
    """The record of the cycle above ``k`` that comes first in the input."""
    order: dict[int, int] = {}
    cur = k
    while cur not in order:
        order[cur] = len(order)
        cur = index[nodes[cur].parent]  # type: ignore[index]
    return min(list(order)[order[cur] :])


def _mark(k: int, children: dict[int, list[int]], visited: list[bool]) -> None:
    todo = [k]
    while todo:
        cur = todo.pop()
        visited[cur] = True
        todo.extend(c for c in children.get(cur, []) if not visited[c])


def _group_doc(
    nodes: list[_Node],
    children: dict[int, list[int]],
    root: int | None,
    tops: list[int],
    warnings: list[str],
    notes: dict[int, list[str]],
    kind: str,
    seen: list[bool],
) -> ThreadDoc:
    if root is not None:
        seen[root] = True
        warnings.extend(notes.get(root, ()))
    text = nodes[root].text if root is not None else ""
    article = (0, len(text) if text.strip() else 0)
    comments: list[Comment] = []
    pieces = [text]
    pos = len(text)
    empty = 0
    # (node, id of the nearest kept ancestor comment, its depth + 1)
    todo: list[tuple[int, str | None, int]] = [(k, None, 0) for k in reversed(tops)]
    while todo:
        k, parent, depth = todo.pop()
        if seen[k]:
            continue
        seen[k] = True
        warnings.extend(notes.get(k, ()))
        node = nodes[k]
        if node.text.strip():
            sep = "\n\n" if pos else ""
            start = pos + len(sep)
            pieces.append(sep + node.text)
            pos = start + len(node.text)
            # the text goes in as written; the span leaves out whitespace at its ends
            lead = len(node.text) - len(node.text.lstrip())
            tail = len(node.text) - len(node.text.rstrip())
            comments.append(
                Comment(
                    node.id,
                    parent,
                    node.author,
                    start + lead,
                    pos - tail,
                    depth,
                    _str_id(node.date),
                )
            )
            kept, kept_depth = node.id, depth + 1
        else:
            empty += 1
            kept, kept_depth = parent, depth
        todo.extend((c, kept, kept_depth) for c in reversed(children.get(k, [])))
    if empty:
        warnings.append(f"{empty} repl{'y' if empty == 1 else 'ies'} without text left out")
    if root is not None and not text.strip() and comments:
        warnings.append(f"post {nodes[root].id!r} has no text; its thread has no article")
    base = nodes[root] if root is not None else nodes[tops[0]]
    doc_id = base.id if root is not None else (base.parent or base.id)
    thread = Thread(article, comments, kind, _capped(warnings)) if comments or warnings else None
    return ThreadDoc(doc_id, "".join(pieces), thread, base.record)


# -- Telegram Desktop export ----------------------------------------------------------------


def _telegram_text(message: Mapping[str, Any]) -> str:
    """``text`` is a string, or a list of strings and ``{"type", "text"}`` pieces."""
    value = message.get("text")
    if value is None or value == "" or value == []:
        value = message.get("text_entities") or ""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "".join(
            part if isinstance(part, str) else str(part.get("text", ""))
            for part in value
            if isinstance(part, str | dict)
        )
    return ""


def thread_from_telegram(result_json: Mapping[str, Any] | str) -> list[ThreadDoc]:
    """Documents from a Telegram Desktop export (``result.json``), one per post.

    A post and every message replying to it (``reply_to_message_id``, however deep) form
    one thread: in a channel's discussion group each channel post arrives as a message
    and the comments reply to it. Service messages are left out; a message without text
    (a photo, a sticker) too, its replies going to its parent. Ids are
    ``"<chat id>:<message id>"``. Accepts one chat's export or a whole-account export
    (``chats.list``); bad JSON gives no documents and no exception.
    """
    if isinstance(result_json, str):
        try:
            result_json = json.loads(result_json)
        except json.JSONDecodeError:
            return []
    if not isinstance(result_json, Mapping):
        return []
    chats = result_json.get("chats", {})
    chat_list = chats.get("list") if isinstance(chats, Mapping) else None
    if not isinstance(chat_list, list):
        chat_list = [result_json]
    out: list[ThreadDoc] = []
    for chat in chat_list:
        if not isinstance(chat, Mapping) or not isinstance(chat.get("messages"), list):
            continue
        chat_id = _str_id(chat.get("id")) or _str_id(chat.get("name")) or "chat"
        nodes = []
        for message in chat["messages"]:
            if not isinstance(message, Mapping) or message.get("type", "message") != "message":
                continue
            msg_id = _str_id(message.get("id"))
            if msg_id is None:
                continue
            reply = _str_id(message.get("reply_to_message_id"))
            author = message.get("from") or message.get("forwarded_from") or message.get("actor")
            record = {
                "chat": chat.get("name"),
                "date": message.get("date"),
                "author": author,
                "message_id": message.get("id"),
            }
            nodes.append(
                _Node(
                    id=f"{chat_id}:{msg_id}",
                    parent=f"{chat_id}:{reply}" if reply else None,
                    author=_str_id(author),
                    text=_telegram_text(message),
                    date=message.get("date"),
                    record=record,
                )
            )
        docs = _build(nodes, "telegram")
        out.extend(d for d in docs if d.text.strip() or d.thread is not None)
    return out


# -- 4CAT -----------------------------------------------------------------------------------

# 4CAT's mapped items name the reply target differently per source: Reddit "parent"
# (a "t1_"/"t3_" fullname), Telegram "reply_to"; 4chan-like boards quote ">>123" in the body.
_4CAT_REPLY_FIELDS = ("parent", "reply_to", "in_reply_to", "parent_id", "reply_to_id")
_FULLNAME = re.compile(r"^t\d_")
_QUOTE = re.compile(r">>(\d+)")


def epoch_to_iso(value: Any) -> Any:
    """A Unix time (4CAT's ``timestamp``) as an ISO date in UTC; anything else as given."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        with contextlib.suppress(OverflowError, OSError, ValueError):
            return datetime.fromtimestamp(value, UTC).isoformat()
    return value


def _4cat_target(item: Mapping[str, Any]) -> str | None:
    """The id the item's reply field names, without a Reddit ``t1_``/``t3_`` prefix."""
    for name in _4CAT_REPLY_FIELDS:
        target = _str_id(item.get(name))
        if target:
            return _FULLNAME.sub("", target)
    return None


def thread_from_4cat(ndjson_lines: Iterable[str | bytes]) -> list[ThreadDoc]:
    """Documents from a 4CAT NDJSON export, one per thread (``thread_id``).

    Items carry ``id``, ``thread_id``, ``body``, ``author``, ``timestamp`` (and
    ``subject`` for an opening post). The opening post is the item whose ``id`` is the
    ``thread_id``; a reply hangs under the item its reply field names (``parent``,
    ``reply_to``) or that its body quotes (``>>123``), else under the opening post. A
    bad line is counted in a warning; a thread whose opening post is missing has no
    article. A chat (a ``thread_id`` that no item has as ``id`` or replies to, as
    4CAT's Telegram channels) gives one document per message that replies to nothing,
    with ids ``"<thread_id>:<id>"``, as :func:`thread_from_telegram` does.
    """
    items: list[Mapping[str, Any]] = []
    bad = 0
    for line in ndjson_lines:
        if isinstance(line, bytes):
            line = line.decode("utf-8", "replace")
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError:
            bad += 1
            continue
        if isinstance(item, Mapping):
            items.append(item)
        else:
            bad += 1
    by_thread: dict[str, set[str]] = {}
    targets: set[tuple[str | None, str]] = set()  # (thread, an id some item replies to)
    for item in items:
        tid = _str_id(item.get("thread_id"))
        iid = _str_id(item.get("id"))
        if tid is not None and iid is not None:
            by_thread.setdefault(tid, set()).add(iid)
        if (target := _4cat_target(item)) is not None:
            targets.add((tid, target))
    nodes = []
    for n, item in enumerate(items, 1):
        iid = _str_id(item.get("id")) or f"#{n}"
        tid = _str_id(item.get("thread_id"))
        members = by_thread.get(tid, set()) if tid is not None else set()
        # A chat (4CAT's Telegram: ``thread_id`` is the channel, not a post) names no item
        # and nothing replies to it: its message ids are unique only within it, and a
        # message that replies to nothing is a post of its own, as in a Telegram export.
        chat = tid is not None and tid not in members and (tid, tid) not in targets
        parent = _4cat_target(item)
        body = item.get("body")
        body = body if isinstance(body, str) else ""
        if parent is None:
            quoted = _QUOTE.search(body)
            if quoted and quoted.group(1) in members and quoted.group(1) != iid:
                parent = quoted.group(1)
        if parent is None and tid is not None and tid != iid and not chat:
            parent = tid
        if chat:
            iid = f"{tid}:{iid}"
            parent = f"{tid}:{parent}" if parent is not None else None
        subject = item.get("subject")
        text = (
            f"{subject.strip()}\n\n{body}" if isinstance(subject, str) and subject.strip() else body
        )
        author = item.get("author") or item.get("author_username") or item.get("author_name")
        when = epoch_to_iso(item.get("timestamp"))
        nodes.append(_Node(iid, parent, _str_id(author), text, when, item))
    docs = _build(nodes, "4cat")
    if bad and docs:
        first = docs[0]
        if first.thread is None:
            first.thread = Thread((0, len(first.text)), [], "4cat", [])
        first.thread.warnings.insert(0, f"{bad} line(s) were not JSON objects and were skipped")
    return docs
