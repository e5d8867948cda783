"""Word documents (``.docx``) as the text of their paragraphs, with no extra dependency.

Why: statements, reports and tip-offs reach fact-checkers as Word files. A ``.docx`` is a
ZIP of XML parts; the text is ``word/document.xml``'s paragraphs (``w:p``: its runs'
``w:t``, tabs and breaks) in order, table cells included, one line each, so a paragraph
is a paragraph here too. Text deleted under change tracking (``w:delText``) is not the
document's; inserted text is. Title, author and creation date come from
``docProps/core.xml``. Read with lxml, entities unresolved and no network, and with the
unpacked size bounded, so a crafted file cannot make the reader expand without limit.
"""

from __future__ import annotations

import io
import zipfile
from typing import Any

from narrascope.doc import Document
from narrascope.errors import E_EMPTY, E_INPUT, E_TOO_LARGE, InputError
from narrascope.ingest.formats import file_document

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_BODY = "word/document.xml"
_CORE = "docProps/core.xml"
# what the XML of the body may unpack to, per byte of text the reader takes (100 MB at
# the default --max-bytes): a Word body's markup is 5-20 times its text, and lxml holds
# the whole tree, so a larger one is refused before it is unpacked
UNPACKED_PER_TEXT_BYTE = 10


def is_docx(data: bytes) -> bool:
    """Whether ``data`` is a ZIP holding a Word body (a ``.docx`` saved under another
    name)."""
    if not data.startswith(b"PK\x03\x04"):
        return False
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return _BODY in archive.namelist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return False


def docx_document(
    data: bytes,
    source: str,
    doc_id: str,
    path: str | None,
    *,
    threads: bool = True,
    max_bytes: int = 10_000_000,
) -> Document | InputError:
    """One document, a line per paragraph; ``title``, ``author``, ``date`` from the
    file's properties where it has them."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            if _BODY not in names:
                return InputError(source, "a ZIP file without a Word body (not a .docx?)", E_INPUT)
            limit = max_bytes * UNPACKED_PER_TEXT_BYTE
            size = archive.getinfo(_BODY).file_size
            if size > limit:
                return InputError(
                    source,
                    f"its Word body unpacks to {size} bytes, over the {limit} the reader "
                    "allows; raise --max-bytes",
                    E_TOO_LARGE,
                )
            body = archive.read(_BODY)
            core = archive.read(_CORE) if _CORE in names else None
        lines = _paragraphs(_parse(body))
        info = _properties(_parse(core)) if core else {}
    except (zipfile.BadZipFile, OSError, ValueError, KeyError) as exc:
        return InputError(source, f"the Word file could not be read ({exc})", E_INPUT)
    except Exception as exc:  # lxml's errors, a crash on one file: the batch goes on
        reason = f"{type(exc).__name__}: {exc}"
        return InputError(source, f"the Word file could not be read ({reason})", E_INPUT)
    text = "\n".join(lines).strip("\n")
    if not text.strip():
        return InputError(source, "the Word file has no text", E_EMPTY)
    return file_document(text, source, doc_id, path, info, threads=threads, max_bytes=max_bytes)


def _parse(xml: bytes) -> Any:
    from lxml import etree

    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, huge_tree=False, remove_comments=True
    )
    return etree.fromstring(xml, parser)


def _paragraphs(root: Any) -> list[str]:
    """Every ``w:p``'s text, in document order; a paragraph inside another's box (a text
    box, a cell) is a line of its own, not part of the outer one."""
    lines = []
    for paragraph in root.iter(f"{_W}p"):
        parts = []
        for node in paragraph.iter(f"{_W}t", f"{_W}tab", f"{_W}br", f"{_W}cr"):
            if _nearest_paragraph(node) is not paragraph:
                continue
            if node.tag == f"{_W}t":
                parts.append(node.text or "")
            elif node.tag == f"{_W}tab":
                parts.append("\t")
            else:
                parts.append("\n")
        lines.append("".join(parts).rstrip())
    return lines


def _nearest_paragraph(node: Any) -> Any:
    parent = node.getparent()
    while parent is not None and parent.tag != f"{_W}p":
        parent = parent.getparent()
    return parent


def _properties(root: Any) -> dict[str, str]:
    names = {
        "{http://purl.org/dc/elements/1.1/}title": "title",
        "{http://purl.org/dc/elements/1.1/}creator": "author",
        "{http://purl.org/dc/terms/}created": "date",
    }
    out: dict[str, str] = {}
    for child in root:
        key = names.get(child.tag)
        if key and child.text and child.text.strip():
            out[key] = " ".join(child.text.split())
    return out
