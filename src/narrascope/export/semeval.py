"""Shared-task submission formats, so results can be scored officially.

SemEval-2025 Task 10 subtask 2 (``semeval-narratives``): one line per document, no header:
``id<TAB>narratives<TAB>sub-narratives``, lists joined by ``;``; a document with no
narrative is ``id<TAB>Other<TAB>Other``. Lines come in the order the documents were read
(a folder's files sorted by name). **The official subtask-2 scorer pairs prediction and
gold lines by their position in the files**, checking the ids only as sets: a file in
another order than the gold (or template) file is scored wrong, silently (a perfect
prediction of the English train set, sorted by id, scores 0.246 coarse F1). Put the lines
in the gold file's order before scoring (README.md, "Scoring semeval-narratives")::

    awk -F'\\t' 'NR == FNR {line[$1] = $0; next} $1 in line {print line[$1]}' \\
        predictions.txt gold.txt > predictions.ordered.txt

Subtask 1 (``semeval-entities``): one line per entity mention, see :func:`entity_lines`.
SemEval-2023 Task 3 subtask 3 (``semeval-techniques``): one line per paragraph, see
:func:`technique_lines`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TextIO

from narrascope.export.records import (
    ENTITIES,
    NARRATIVES,
    OTHER,
    SUBNARRATIVES,
    TECHNIQUES,
    Record,
    is_other,
    parent_of,
)
from narrascope.taxonomy import CUSTOM_PREFIX


def _clean(text: str) -> str:
    # Tabs and newlines would break the columns of the line.
    return " ".join(str(text).split())


def _dedupe(labels: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(labels))


def _official(annotations: Iterable[Any]) -> list[Any]:
    """The annotations with a taxonomy label: a user's own narrative (``Custom: ...``,
    `narrascope taxonomy add`) is no label of the shared task."""
    return [a for a in annotations if not str(a.get("label", "")).startswith(CUSTOM_PREFIX)]


def line(record: Record) -> str:
    """The submission line of one record (without the newline).

    The labels are the model's decisions as they are: if it hedged with ``Other`` next to
    a narrative, so does the line (under the per-document F1 this scores better than
    dropping either). Only gaps are filled: a sub-narrative brings its narrative, a
    narrative without any sub-narrative gets ``<narrative>: Other``.
    """
    doc_id = _clean(record.get("id", ""))
    subs = _official(record.get(SUBNARRATIVES) or [])
    implied = [p for a in subs if not is_other(a) and (p := parent_of(a))]
    coarse = _official(record.get(NARRATIVES) or [])
    narratives = _dedupe([*(a["label"] for a in coarse), *implied])
    if not narratives or narratives == [OTHER]:
        return f"{doc_id}\t{OTHER}\t{OTHER}"
    fine = _dedupe(a["label"] for a in subs)
    if not fine:
        fine = [OTHER if n == OTHER else f"{n}: {OTHER}" for n in narratives]
    return f"{doc_id}\t{';'.join(map(_clean, narratives))}\t{';'.join(map(_clean, fine))}"


def write(records: Iterable[Record], fh: TextIO) -> int:
    """Write one line per record; returns how many were written."""
    n = 0
    for record in records:
        fh.write(line(record) + "\n")
        n += 1
    return n


def read(fh: TextIO) -> Iterator[dict[str, Any]]:
    """Rebuild (label-only) records from an earlier output; :func:`write` reproduces its lines."""
    for raw in fh:
        parts = raw.rstrip("\r\n").split("\t")
        if not parts[0]:
            continue
        coarse = [n for n in (parts[1].split(";") if len(parts) > 1 else []) if n]
        fine = [s for s in (parts[2].split(";") if len(parts) > 2 else []) if s]
        record: dict[str, Any] = {"id": parts[0]}
        record[NARRATIVES] = [{"label": n} for n in coarse]
        record[SUBNARRATIVES] = []
        for sub in fine:
            if sub == OTHER:
                record[SUBNARRATIVES].append({"label": OTHER, "parent": OTHER})
                continue
            parents = [n for n in coarse if sub.startswith(n + ": ")]
            parent = max(parents, key=len) if parents else None
            record[SUBNARRATIVES].append({"label": sub, "parent": parent})
        yield record


# --- subtask 1: entity framing ---------------------------------------------------------------


def entity_lines(record: Record) -> Iterator[str]:
    """Submission lines of one record: one per mention of every framed entity.

    ``<id><TAB><mention><TAB><start><TAB><end><TAB><main role><TAB><fine role>...`` with
    the release's inclusive end offset. Entities without a role are not framed, so they
    have no line (with ``--mentions`` every given mention gets a role).
    """
    doc_id = _clean(record.get("id", ""))
    rows = []
    for entity in record.get(ENTITIES) or []:
        main = entity.get("main_role")
        if not main:
            continue
        fine = [_clean(a["label"]) for a in entity.get("fine_roles") or []]
        for m in entity.get("mentions") or []:
            rows.append((int(m["start"]), int(m["end"]), _clean(m.get("text", "")), main, fine))
    for start, end, text, main, fine in sorted(rows, key=lambda r: (r[0], r[1])):
        yield "\t".join([doc_id, text, str(start), str(end - 1), main, *fine])


def _write_lines(
    records: Iterable[Record], fh: TextIO, lines_of: Callable[[Record], Iterable[str]]
) -> int:
    n = 0
    for record in records:
        for text in lines_of(record):
            fh.write(text + "\n")
        n += 1
    return n


def write_entities(records: Iterable[Record], fh: TextIO) -> int:
    """Write the subtask-1 lines of every record; returns how many records were written."""
    return _write_lines(records, fh, entity_lines)


def read_entities(fh: TextIO) -> Iterator[dict[str, Any]]:
    """Rebuild records (one entity per mention line) from an earlier subtask-1 output.

    A document with no framed mention left no line, so a resumed run analyses it again;
    that costs time, never correctness.
    """
    current: dict[str, Any] | None = None
    for raw in fh:
        parts = raw.rstrip("\r\n").split("\t")
        if len(parts) < 5 or not parts[0]:
            continue
        doc_id, text, start, end, main, *fine = parts
        if current is None or current["id"] != doc_id:
            if current is not None:
                yield current
            current = {"id": doc_id, ENTITIES: []}
        current[ENTITIES].append(
            {
                "name": text,
                "main_role": main,
                "fine_roles": [{"label": f, "parent": main} for f in fine if f],
                "mentions": [{"start": int(start), "end": int(end) + 1, "text": text}],
            }
        )
    if current is not None:
        yield current


# --- SemEval-2023 Task 3 subtask 3: persuasion techniques per paragraph ------------------------

_ARTICLE_ID = re.compile(r"article(\d+)\.txt")
# What :func:`read_techniques` keeps of a text-less record: its paragraph line numbers.
PARAGRAPH_LINES = "paragraph_lines"


def _technique_id(doc_id: str) -> str:
    """The ``<ID>`` column of a document: an ``article<ID>.txt`` name's digits, else its id."""
    match = _ARTICLE_ID.fullmatch(doc_id)
    return match.group(1) if match else _clean(doc_id)


def _article_id(column: str) -> str:
    """The id :func:`read_techniques` gives an ``<ID>`` column: digits name a file."""
    return f"article{column}.txt" if column.isdigit() else column


def technique_lines(record: Record) -> Iterator[str]:
    """Submission lines of one record: ``<ID><TAB><line><TAB><techniques joined by ,>``.

    One line per paragraph, i.e. per line of the text that is not blank, numbered from 1
    by its line in the file as stored (``\n``, ``\r\n`` or a bare ``\r`` ends a line);
    the third column is empty when no technique applies. ``<ID>`` is the digits of an
    ``article<ID>.txt`` file name, else the document id. Techniques follow the official
    list's order.
    """
    from narrascope.taxonomy import TECHNIQUES as ORDER
    from narrascope.text.segment import split_paragraphs

    doc_id = _technique_id(str(record.get("id", "")))
    text = record.get("text")
    lines = (
        [line for line, _, _ in split_paragraphs(str(text))]
        if text is not None
        else [int(x) for x in record.get(PARAGRAPH_LINES) or []]
    )
    found: dict[int, set[str]] = {}
    for t in record.get(TECHNIQUES) or []:
        found.setdefault(int(t.get("paragraph", 0)), set()).add(str(t["label"]))
    rank = {t: i for i, t in enumerate(ORDER)}
    for line in lines:
        labels = sorted(found.get(line, ()), key=lambda t: (rank.get(t, len(rank)), t))
        yield f"{doc_id}\t{line}\t{','.join(map(_clean, labels))}"


def write_techniques(records: Iterable[Record], fh: TextIO) -> int:
    """Write the subtask-3 lines of every record; returns how many records were written."""
    return _write_lines(records, fh, technique_lines)


def read_techniques(fh: TextIO) -> Iterator[dict[str, Any]]:
    """Rebuild (text-less) records from an earlier subtask-3 output, each with its
    paragraph line numbers, so :func:`write_techniques` reproduces its lines. A numeric
    ``<ID>`` is read back as the ``article<ID>.txt`` id the file was analysed under."""
    current: dict[str, Any] | None = None
    for raw in fh:
        parts = raw.rstrip("\r\n").split("\t")
        if len(parts) < 2 or not parts[0] or not parts[1].isdigit():
            continue
        doc_id = _article_id(parts[0])
        if current is None or current["id"] != doc_id:
            if current is not None:
                yield current
            current = {"id": doc_id, TECHNIQUES: [], PARAGRAPH_LINES: []}
        line = int(parts[1])
        current[PARAGRAPH_LINES].append(line)
        labels = parts[2].split(",") if len(parts) > 2 else []
        current[TECHNIQUES].extend({"label": t, "paragraph": line} for t in labels if t)
    if current is not None:
        yield current


def read_back_id(fmt: str, doc_id: str) -> str:
    """The id that format ``fmt``'s reader gives back for a document written as ``doc_id``.

    The SemEval lines collapse whitespace in ids, and the techniques lines write
    ``article<ID>.txt`` and ``<ID>`` alike as ``<ID>``, which reads back as the file name;
    no reader can undo that, so ``--resume`` compares the ids of this run's documents in
    this form. The other formats keep ids as they are.
    """
    if fmt == "semeval-techniques":
        return _article_id(_technique_id(doc_id))
    if fmt in ("semeval-narratives", "semeval-entities"):
        return _clean(doc_id)
    return doc_id
