"""Given entity mentions (the shared task's evaluation mode) and attaching them to documents.

The organisers' ``subtask-1-entity-mentions.txt`` lists ``id<TAB>mention<TAB>start<TAB>end``
with an inclusive end offset into the file's text as stored (CRLF kept). An annotation file
(roles in extra columns) is accepted too, so gold files can be re-scored.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

from narrascope.doc import Document, Entity, Span
from narrascope.errors import E_BAD_RECORD, E_NOT_FOUND, NarrascopeError

GivenMentions = dict[str, list[Span]]


def read_mentions_file(path: str | Path) -> GivenMentions:
    """id → mention spans (half-open, as everywhere in narrascope), in file order."""
    source = Path(path)
    if not source.is_file():
        raise NarrascopeError(E_NOT_FOUND, f"mentions file not found: {source}")
    out: GivenMentions = {}
    with open(source, encoding="utf-8-sig", newline="") as handle:
        for lineno, line in enumerate(handle, 1):
            line = line.rstrip("\r\n")
            if not line.strip():
                continue
            parts = line.split("\t")
            try:
                doc_id, text, start, end = parts[0].strip(), parts[1], int(parts[2]), int(parts[3])
            except (IndexError, ValueError):
                raise NarrascopeError(
                    E_BAD_RECORD,
                    f"{source}:{lineno}: expected id<TAB>mention<TAB>start<TAB>end",
                ) from None
            if start < 0 or end < start:
                raise NarrascopeError(E_BAD_RECORD, f"{source}:{lineno}: bad offsets {start}-{end}")
            out.setdefault(doc_id, []).append(Span(start, end + 1, text))
    return out


def attach_mentions(
    items: Iterable[Document | object], given: GivenMentions
) -> Iterator[Document | object]:
    """Give each document its listed mentions, one entity per mention, roles to be decided.

    The shared task scores every mention on its own, so mentions are not grouped here.
    Offsets are kept as given (the scorer matches on them) even if the text there differs.
    """
    for item in items:
        if isinstance(item, Document):
            item.entities = [
                Entity(name=span.text, mentions=[span]) for span in given.get(item.id, [])
            ]
        yield item
