"""Helpers that read the annotation parts of a document record (``Document.to_dict()``).

Writers work on records, not Documents, because the runner streams them back from a
JSONL journal: converting every line to a Document just to write it out again would
cost time and memory for nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from typing import IO, Any

from narrascope.doc import COMMENT, RESERVED_KEYS
from narrascope.taxonomy import OTHER

NARRATIVES = "narratives"
SUBNARRATIVES = "subnarratives"

ENTITIES = "entities"
TECHNIQUES = "techniques"
PROFILE = "persuasion_profile"
ARTICLE = "article"
COMMENTS = "comments"
# what a CSV keeps of the comments (their number); see comment_count
COMMENT_COUNT = "comment_count"
CLAIMS = "claims"
DEBUNKS = "debunks"

Record = Mapping[str, Any]


def annotation_groups(record: Record) -> dict[str, list[Mapping[str, Any]]]:
    """Every annotation group of a record, narratives first, then sub-narratives, then the rest.

    A group is any list of dicts that all carry a ``label`` — the same rule as
    ``Document.from_dict`` — so groups added later need no change here (entities and
    techniques have their own record keys and readers).
    """
    groups = {
        name: value
        for name, value in record.items()
        if name not in RESERVED_KEYS
        and isinstance(value, list)
        and all(isinstance(a, Mapping) and "label" in a for a in value)
    }
    order = [NARRATIVES, SUBNARRATIVES]
    ordered = {name: groups.pop(name) for name in order if name in groups}
    ordered.update(groups)
    return ordered


def parent_of(annotation: Mapping[str, Any]) -> str | None:
    """The coarse label of a fine one: its ``parent``, else the label minus its last part."""
    parent = annotation.get("parent")
    if parent:
        return str(parent)
    label = str(annotation.get("label", ""))
    return label.rsplit(": ", 1)[0] if ": " in label else None


def comment_count(record: Record) -> int | None:
    """How many reader comments the document has; None when no thread was found (an
    article alone), which is not the same as a thread whose comments were all empty.
    A record read back from a CSV holds only the number, under ``comment_count``."""
    comments = record.get(COMMENTS)
    if isinstance(comments, list) and ARTICLE in record:
        return len(comments)
    count = record.get(COMMENT_COUNT)
    return int(count) if isinstance(count, int) else None


def claim_list(record: Record) -> list[Mapping[str, Any]]:
    """The record's check-worthy claims, best first as stored; entries that are not
    objects (not ones ``to_dict`` writes) are left out. An older record has none."""
    claims = record.get(CLAIMS)
    return [c for c in claims if isinstance(c, Mapping)] if isinstance(claims, list) else []


def debunk_list(record: Record) -> list[Mapping[str, Any]]:
    """The known debunks the record repeats (objects with an ``id``), as stored."""
    found = record.get(DEBUNKS)
    if not isinstance(found, list):
        return []
    return [d for d in found if isinstance(d, Mapping) and d.get("id") is not None]


def comment_claims(record: Record) -> list[Mapping[str, Any]]:
    """The check-worthy claims of the record's reader comments, comment by comment, each
    naming its comment under ``comment`` (offsets in the record's whole text). A record
    without a thread, or from before comments were read for claims, has none."""
    return _of_comments(record, CLAIMS, claim_list)


def comment_debunks(record: Record) -> list[Mapping[str, Any]]:
    """The known debunks the record's reader comments repeat, comment by comment, each
    naming its comment under ``comment`` (``claim_span`` in the record's whole text)."""
    return _of_comments(record, DEBUNKS, debunk_list)


def _of_comments(
    record: Record, key: str, read: Callable[[Record], list[Mapping[str, Any]]]
) -> list[Mapping[str, Any]]:
    out: list[Mapping[str, Any]] = []
    for comment in record.get(COMMENTS) or []:
        if isinstance(comment, Mapping) and isinstance(comment.get(key), list):
            owner = str(comment.get("id", ""))
            out.extend({**item, COMMENT: str(item.get(COMMENT, owner))} for item in read(comment))
    return out


def is_other(annotation: Mapping[str, Any]) -> bool:
    return annotation.get("label") == OTHER


def dumps_record(record: Record) -> bytes:
    """One JSON line as UTF-8 bytes (newline included).

    Text with lone surrogates cannot be encoded as UTF-8; those records fall back to
    ASCII escapes, which JSON reads back to the very same string.
    """
    line = json.dumps(record, ensure_ascii=False)
    try:
        return line.encode("utf-8") + b"\n"
    except UnicodeEncodeError:
        return json.dumps(record).encode("ascii") + b"\n"


def iter_jsonl(fh: IO[bytes] | IO[str]) -> Iterator[dict[str, Any]]:
    """Records of a JSON-lines stream, skipping blank lines and lines that do not parse.

    A file cut short by a crash ends in half a line; that line is dropped, not fatal.
    """
    for line in fh:
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except (ValueError, UnicodeDecodeError):
            continue
        if isinstance(record, dict):
            yield record
