"""PDF files as the text of their pages (pypdf, pure Python).

Why read them at all: reports, statements and leaked papers reach fact-checkers as PDFs,
and "extract its text first" sent every user to another tool, which lost the file's date
and title on the way. The text layer is read as pypdf lays it out: lines as the page set
them, so the sentences of a page run across its lines (``text.segment`` reads a
hard-wrapped text across its lines); pages are apart by a blank line. A scan has no text
layer, and says so: OCR is another tool's job. A word the page broke at a line's end
("govern-" / "ment") is joined again (:func:`join_broken_words`), or the models would
read two pieces that are no word.
"""

from __future__ import annotations

import io
import logging
import re
from typing import Any

from narrascope.doc import Document
from narrascope.errors import E_EMPTY, E_INPUT, E_NO_MAIN_TEXT, InputError
from narrascope.ingest.formats import file_document

PAGE_BREAK = "\n\n"
# a word broken at a line's end: letters, a hyphen (or a soft one), the line break, and
# the rest of the word in lower case on the next line
_BROKEN = re.compile(r"(\w+)([-\u00ad\u2010])[ \t]*\n[ \t]*(?=([^\W\d_]+))")
_BROKEN_PAIR = re.compile(_BROKEN.pattern + r"\w*")
_WORD = re.compile(r"\w+(?:[-\u2010]\w+)*")


def join_broken_words(text: str) -> str:
    """``text`` with the words a page broke across lines joined, the hyphen dropped where
    it only marked the break. Which: a soft hyphen always; else the text decides where it
    can (it writes "government" elsewhere: dropped; "well-known": kept), and with no such
    evidence the hyphen is kept only when the text uses both pieces as words ("so-" /
    "called", "из-" / "за") or after a digit ("2030-" / "та"), dropped when not
    ("govern-" / "ment", "be-" / "gins"). On the 54-page SemEval-2025 guidelines PDF
    (121 breaks, ~1 ms a page) 116 came out right; wrong were "mis-takes", "us-ability"
    and three compounds whose pieces the text never uses alone ("worldending")."""
    if "\n" not in text:
        return text
    # the evidence: the text's words, the broken ones left out
    words = {w.casefold() for w in _WORD.findall(_BROKEN_PAIR.sub(" ", text))}
    pieces = {p for w in words for p in re.split(r"[-\u2010]", w)}

    def join(m: re.Match[str]) -> str:
        left, hyphen, right = m.group(1), m.group(2), m.group(3)
        if not right[0].islower():
            return m.group(0)
        whole = (left + right).casefold()
        if hyphen == "\u00ad" or whole in words:
            return left
        if (
            left[-1].isdigit()  # "2030-" / "та", "COVID-19-" / "related"
            or f"{left}-{right}".casefold() in words
            or {left.casefold(), right.casefold()} <= pieces
        ):
            return left + "-"
        return left

    return _BROKEN.sub(join, text)


def pdf_document(
    data: bytes,
    source: str,
    doc_id: str,
    path: str | None,
    *,
    threads: bool = True,
    max_bytes: int = 10_000_000,
) -> Document | InputError:
    """One document, the text of every page; ``title``, ``author`` and ``date`` (its
    creation date) from the file's own metadata where it has them."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    quiet = logging.getLogger("pypdf")
    level = quiet.level
    quiet.setLevel(logging.ERROR)  # a damaged cross-reference is repaired, not news
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted and not reader.decrypt(""):
            return InputError(source, "the PDF is encrypted: open it with its password", E_INPUT)
        pages = [join_broken_words((page.extract_text() or "").strip()) for page in reader.pages]
        info = _info(reader)
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as exc:
        return InputError(source, f"the PDF could not be read ({exc})", E_INPUT)
    except Exception as exc:  # a parser crash on one file must not stop a batch
        return InputError(source, f"the PDF could not be read ({type(exc).__name__})", E_INPUT)
    finally:
        quiet.setLevel(level)
    if not pages:
        return InputError(source, "the PDF has no pages", E_EMPTY)
    text = PAGE_BREAK.join(page for page in pages if page)
    if not text.strip():
        return InputError(
            source,
            f"the PDF's {len(pages)} pages have no text layer (a scan?): run OCR on it first",
            E_NO_MAIN_TEXT,
        )
    doc = file_document(text, source, doc_id, path, info, threads=threads, max_bytes=max_bytes)
    if isinstance(doc, Document):
        doc.meta["pages"] = len(pages)
    return doc


def _info(reader: Any) -> dict[str, str]:
    """The file's title, author and creation date, where it states them."""
    try:
        found = reader.metadata
    except Exception:  # a broken info dictionary: the text is what matters
        return {}
    if found is None:
        return {}
    out: dict[str, str] = {}
    for key, value in (("title", found.title), ("author", found.author)):
        if isinstance(value, str) and value.strip():
            out[key] = " ".join(value.split())
    try:
        created = found.creation_date
    except Exception:  # a date pypdf cannot parse
        created = None
    if created is not None:
        out["date"] = created.isoformat()
    return out
