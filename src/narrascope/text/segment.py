"""Sentence segmentation that keeps exact character offsets.

Evidence must point back into the original text, so we never normalise it: we find
boundaries with regular expressions over the raw string. Lines are hard boundaries
(news, transcripts and comment threads put one paragraph or comment per line; ``\\n``,
``\\r\\n`` and a bare ``\\r`` all end one), except in a hard-wrapped text (a PDF's or an
e-mail's copy, lines cut at a width: :func:`wrapped_breaks`), where a long line that
ends mid-sentence goes on on the next; inside a line we split after ``. ! ? … ।``
when the next word starts like a sentence, except after common abbreviations and
initials, and before the dash of a quote's attribution («...!» — заявил он).
"""

from __future__ import annotations

import re
import unicodedata
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from narrascope.doc import Document

_LINE = re.compile(r"[^\r\n]+")
# A line break: LF, CRLF, or a bare CR (classic Mac files, Excel for Mac exports).
_LINE_BREAK = re.compile(r"\r\n?|\n")
# Terminal punctuation, optional closing quotes/brackets, then whitespace.
_BOUNDARY = re.compile(r"[.!?…।॥]+[\"'”’»)\]]*\s+")
_ABBREVIATIONS = frozenset(
    """mr mrs ms dr prof sr jr st vs etc e.g i.e u.s u.k u.n fig gen gov sen rep col
    lt capt sgt maj brig adm pres dept jan feb apr jun jul aug sep sept oct nov dec inc
    ltd co corp
    г гг ул пр просп пл т.е т.д т.п тыс млн млрд руб проф акад др ген сен
    вул ім
    д.р т.нар напр гр бул
    sr sra dra dr av pág nº
    डॉ श्री प्रो""".split()
)
# Abbreviations that are also words ("no"; "mar" is Portuguese for sea): only before a
# number ("No. 2623", "Mar. 5"). Russian "им." (имени) is left out: "им" is "them".
_BEFORE_NUMBER = frozenset({"no", "mar"})
_CLOSING_QUOTES = "\"'”’»"
_DASHES = "-—–"
_LONGEST_WORD = 64  # characters; a longer run before a dot is never an abbreviation
_MAX_SENTENCE = 1000  # characters; longer runs are cut at the last comma/semicolon
# Hard wrapping: a line at least this long that ends without a sentence's end is cut at a
# width (subtitles' lines, at most 42 characters, and headings are shorter)
WRAPPED_LINE = 50
_ENDS_SENTENCE = tuple(".!?…।॥:;\"'”’»)]")
# a text is hard-wrapped when at least this many of its line breaks, and this share of
# them, fall inside a sentence whose next line goes on in lower case
_WRAPS_MIN, _WRAPS_SHARE = 3, 0.3


def _starts_sentence(text: str, start: int, end: int) -> bool:
    """Whether ``text[start:end]`` (the rest of a line) starts like a sentence; reads one
    character, never copies the rest (a long line has thousands of boundaries)."""
    if start >= end:
        return False
    ch = text[start]
    if ch.isalpha():
        # Scripts without case (Devanagari) always qualify.
        return ch.isupper() or not ch.islower()
    return ch.isdigit() or ch in "\"'“”«„‘([-—–•*#"


def _attributes_quote(text: str, punct: str, start: int, end: int) -> bool:
    """Whether ``text[start:end]`` (the rest of a line after a boundary ``punct``) is a dash
    and a lower-case word after a closing quote or ``! ? …``: the attribution of a quote
    («Мы не сдадимся!» — заявил он.) belongs to its sentence."""
    if not punct.endswith(tuple(_CLOSING_QUOTES + "!?…")):
        return False
    if start >= end or text[start] not in _DASHES:
        return False
    start += 1
    while start < end and text[start].isspace():
        start += 1
    return start < end and text[start].islower()


def _is_abbreviation(text: str, end: int, after: int) -> bool:
    """True if the word before position ``end`` (a dot) is an abbreviation or an initial;
    ``after`` is where the next word starts."""
    start = end
    while start > 0 and not text[start - 1].isspace() and text[start - 1] not in "([\"'«“":
        start -= 1
        if end - start > _LONGEST_WORD:  # no abbreviation: don't walk a whole run of text
            return False
    word = text[start:end].lower().rstrip(".")
    if not word:
        return False
    if len(word) == 1 and word.isalpha():
        return True  # an initial: "V. Putin", "В. Путин"
    if word in _BEFORE_NUMBER:
        return after < len(text) and text[after].isdigit()
    return word in _ABBREVIATIONS


def _split_long(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Cut a run longer than ``_MAX_SENTENCE`` after its last comma or semicolon, else at
    its last space (past the first quarter, so no piece is tiny); pieces are trimmed."""
    pieces = []
    while end - start > _MAX_SENTENCE:
        window = text[start : start + _MAX_SENTENCE]
        cut = max(window.rfind(", "), window.rfind("; "))
        if cut <= _MAX_SENTENCE // 4:
            cut = window.rfind(" ")
        if cut > _MAX_SENTENCE // 4:
            cut = start + cut + 1
        else:  # no space to cut at: cut blind, but never off a letter's accent
            cut = _grapheme_end(text, start + _MAX_SENTENCE, end)
        piece_end = cut
        while text[piece_end - 1].isspace():  # the piece starts with a non-space
            piece_end -= 1
        pieces.append((start, piece_end))
        start = cut
        while start < end and text[start].isspace():
            start += 1
    pieces.append((start, end))
    return pieces


def _grapheme_end(text: str, at: int, end: int) -> int:
    """``at`` moved past the combining marks (and joiners) that belong to the character
    before it, up to ``end``: a span must not end between "a" and the U+0303 of a
    decomposed "ã", or keep a letter's accent out."""
    while at < end and (text[at] in "\u200c\u200d" or unicodedata.combining(text[at])):
        at += 1
    return at


def wrapped_breaks(lines: list[tuple[int, int]], text: str) -> set[int]:
    """The indices ``i`` of the ``lines`` (``(start, end)``, in order) that go on on line
    ``i + 1``, when ``text`` is hard-wrapped; else none.

    Why a decision for the whole text: one line that ends without a full stop says
    nothing (a title, a transcript's or a comment's line), but a text where many long
    lines end mid-sentence and the next line goes on in lower case was cut at a width,
    and each of its lines is no sentence: claims and evidence were fragments ("They
    would have posed real genuine questions of Sheriff"). In such a text every long line
    that ends without a sentence's end goes on, whatever case the next line starts in."""
    joins: list[int] = []
    breaks = lowered = 0
    for i in range(len(lines) - 1):
        (start, end), (after, next_end) = lines[i], lines[i + 1]
        line, following = text[start:end].rstrip(), text[after:next_end].lstrip()
        if len(_LINE_BREAK.findall(text, end, after)) != 1 or not line or not following:
            continue  # a blank line between them: a paragraph's end
        breaks += 1
        if len(line) < WRAPPED_LINE or line.endswith(_ENDS_SENTENCE):
            continue
        joins.append(i)
        lowered += following[0].islower()
    if lowered < _WRAPS_MIN or lowered < _WRAPS_SHARE * breaks:
        return set()
    return set(joins)


def _logical_lines(text: str) -> list[tuple[int, int]]:
    """The lines of ``text``, a hard-wrapped text's wrapped lines joined."""
    lines = [m.span() for m in _LINE.finditer(text)]
    joins = wrapped_breaks(lines, text)
    if not joins:
        return lines
    out: list[tuple[int, int]] = []
    for i, (start, end) in enumerate(lines):
        if i - 1 in joins:
            out[-1] = (out[-1][0], end)
        else:
            out.append((start, end))
    return out


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Return ``(start, end)`` offsets of the sentences of ``text``, whitespace trimmed."""
    spans: list[tuple[int, int]] = []
    for line_start, line_end in _logical_lines(text):
        cursor = line_start
        for match in _BOUNDARY.finditer(text, line_start, line_end):
            punct = match.group().rstrip()
            punct_end = match.start() + len(punct)
            if not _starts_sentence(text, match.end(), line_end):
                continue
            if _attributes_quote(text, punct, match.end(), line_end):
                continue
            single_dot = match.group().startswith(".") and not match.group().startswith("..")
            if single_dot and _is_abbreviation(text, match.start(), match.end()):
                continue
            spans.append((cursor, punct_end))
            cursor = match.end()
        spans.append((cursor, line_end))
    out: list[tuple[int, int]] = []
    for start, end in spans:
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        if end > start:
            out.extend(_split_long(text, start, end))
    return out


def split_paragraphs(text: str) -> list[tuple[int, int, int]]:
    """``(line number, start, end)`` of every non-blank line, numbered as SemEval-2023 does.

    Lines are cut at ``\\n``, ``\\r\\n`` or a bare ``\\r`` (a classic Mac file numbers
    its lines as the same text with ``\\n`` would; a CRLF file too) and numbered from 1
    (the title is line 1); blank or whitespace-only lines keep their number but are not
    paragraphs. ``end`` excludes trailing whitespace, so ``text[start:end]`` is the
    paragraph, its offsets those of ``text`` as given.
    """
    out: list[tuple[int, int, int]] = []
    breaks = [m.span() for m in _LINE_BREAK.finditer(text)] + [(len(text), len(text))]
    start = 0
    for number, (end, next_start) in enumerate(breaks, 1):
        stripped = text[start:end].rstrip()
        if stripped.strip():
            out.append((number, start, start + len(stripped)))
        start = next_start
    return out


def segment(doc: Document) -> Document:
    """Set ``doc.sentences`` and ``doc.paragraphs`` unless the input already set them: the
    one place a document is cut, so every stage reads the same sentences and paragraphs."""
    from narrascope.doc import Paragraph, Span

    text = doc.text
    if not doc.sentences:
        doc.sentences = [Span.of(text, s, e) for s, e in split_sentences(text)]
    if not doc.paragraphs:
        doc.paragraphs = [Paragraph(s, e, text[s:e], line) for line, s, e in split_paragraphs(text)]
    return doc
