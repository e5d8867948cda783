"""The SemEval-2025 Task 10 subtask 2 submission format, so results can be scored officially.

One line per document, no header: ``id<TAB>narratives<TAB>sub-narratives``, lists joined
by ``;``. A document with no narrative is ``id<TAB>Other<TAB>Other``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, TextIO

from narrascope.export.records import (
    NARRATIVES,
    OTHER,
    SUBNARRATIVES,
    Record,
    is_other,
    parent_of,
)


def _clean(text: str) -> str:
    # Tabs and newlines would break the columns of the line.
    return " ".join(str(text).split())


def _dedupe(labels: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(labels))


def line(record: Record) -> str:
    """The submission line of one record (without the newline).

    The labels are the model's decisions as they are: if it hedged with ``Other`` next to
    a narrative, so does the line (under the per-document F1 this scores better than
    dropping either). Only gaps are filled: a sub-narrative brings its narrative, a
    narrative without any sub-narrative gets ``<narrative>: Other``.
    """
    doc_id = _clean(record.get("id", ""))
    subs = list(record.get(SUBNARRATIVES) or [])
    implied = [p for a in subs if not is_other(a) and (p := parent_of(a))]
    narratives = _dedupe([*(a["label"] for a in record.get(NARRATIVES) or []), *implied])
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
