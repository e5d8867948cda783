"""CSV: one row per document and label, for spreadsheets and pandas.

Rows are long-format (id, level, label, score, best evidence) so a fact-checker can filter
by label without parsing nested JSON. A framed entity is one row too: level ``entity``, its
name in ``entity``, the main role as label, fine roles joined by ``;``. So is every
technique span: level ``technique``, its family as parent, the span as evidence and its
paragraph's line number in ``paragraph``; and every technique family the document uses:
level ``profile``, the family as label, the number of paragraphs as score. ``comments`` is
the number of reader comments of a document with a thread, on each of its rows (empty for
an article without one); the comments themselves are in the JSONL output, but each flag
the hate stage raised is a row: level ``hate`` (label hateful/offensive, the target as
parent) or ``incitement`` for the article, ``comment_hate`` / ``comment_incitement`` with
the comment's id in ``comment`` for a comment, evidence as for labels (a flag is never
reprinted in a summary, but a CSV row is the flag itself). Every check-worthy claim is a
row, level ``claim``, its text and offsets as evidence; every known debunk the document
repeats is a row, level ``debunk``: its id as label, the verdict as parent, the matched
stretch as evidence (empty for a match of the whole document), the debunked claim in
``debunk_claim``, the fact-check's address in ``url`` and its date (as imported) in
``debunk_date``. A reader comment's claims and debunk matches are rows of the same shape,
levels ``comment_claim`` and ``comment_debunk``, with the comment's id in ``comment``
(offsets in the whole text, as its flags' are). ``claims`` and ``debunks`` count them
all, the comments' too, on each row of the document, so a spreadsheet filter on
``debunks > 0`` keeps the documents that repeat a known debunk, in the article or in a
comment, as the corpus database counts them (empty for a record from before claims
existed, and ``debunks`` empty when the run matched no debunk list: "0" would read as
checked and clean). Cells are untrusted
text: any cell that a spreadsheet would run as a formula (``=``, ``+``, ``-``, ``@``...) is
prefixed with ``'`` (OWASP's advice against CSV injection); :func:`read` removes the prefix
again.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator, Mapping
from itertools import groupby
from typing import Any, TextIO

from narrascope.doc import COMMENT
from narrascope.export.records import (
    CLAIMS,
    COMMENT_COUNT,
    COMMENTS,
    DEBUNKS,
    ENTITIES,
    PROFILE,
    TECHNIQUES,
    Record,
    annotation_groups,
    claim_list,
    comment_claims,
    comment_count,
    comment_debunks,
    debunk_list,
)

COLUMNS = [
    "id",
    "language",
    "source",
    "date",
    "comments",
    "level",
    "label",
    "parent",
    "entity",
    "fine_roles",
    "score",
    "evidence",
    "evidence_start",
    "evidence_end",
    "paragraph",
    "comment",
    # issue 25: the last columns, filled on every row of a document by _rows
    "claims",
    "debunks",
    "debunk_claim",
    "url",
    "debunk_date",
]
_BASE = len(COLUMNS) - 5  # the cells of a label, entity, technique, profile or flag row
# Group name → level column; groups not listed use their own name.
LEVELS = {
    "narratives": "narrative",
    "subnarratives": "subnarrative",
    "entities": "entity",
}
_GROUPS = {level: group for group, level in LEVELS.items()}
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "'")


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def _uncell(text: str) -> str:
    return text[1:] if text.startswith("'") and text[1:].startswith(_FORMULA_START) else text


def _tail(a: Mapping[str, Any]) -> list[str]:
    """score and best-evidence cells of an annotation or entity."""
    evidence = a.get("evidence") or []
    best = evidence[0] if evidence else {}
    score = a.get("score")
    return [
        "" if score is None else f"{float(score):.4f}",
        _cell(best.get("text")),
        str(best.get("start", "")),
        str(best.get("end", "")),
    ]


def _count(record: Record, key: str, found: list[Mapping[str, Any]]) -> str:
    """How many claims (debunk matches) the record has; empty when it has no such list."""
    return str(len(found)) if isinstance(record.get(key), list) else ""


def _rows(record: Record, debunks_checked: bool | None = None) -> Iterator[list[str]]:
    """Every row of the record: those of :func:`_label_rows`, then its claims and debunk
    matches, then its comments', each with the two counts (no debunk count when
    ``debunks_checked`` is False and the record has no match)."""
    claims = claim_list(record) + comment_claims(record)
    debunks = debunk_list(record) + comment_debunks(record)
    unchecked = debunks_checked is False and not debunks
    counts = [_count(record, CLAIMS, claims), "" if unchecked else _count(record, DEBUNKS, debunks)]
    rows = list(_label_rows(record))
    head = rows[0][:5]
    for c in claims:
        span = {"start": c.get("start", ""), "end": c.get("end", ""), "text": c.get("text")}
        tail = _tail({"score": c.get("score"), "evidence": [span]})
        level, comment = _level("claim", c)
        rows.append([*head, level, "", "", "", "", *tail, "", comment])
    for d in debunks:
        span = d.get("claim_span")
        tail = _tail({"score": d.get("score"), "evidence": [span] if span else []})
        ids = [_cell(d.get("id")), _cell(d.get("verdict"))]
        found = [*counts, _cell(d.get("claim")), _cell(d.get("url")), _cell(d.get("date"))]
        level, comment = _level("debunk", d)
        rows.append([*head, level, *ids, "", "", *tail, "", comment, *found])
    if (claims or debunks) and not rows[0][5]:
        rows.pop(0)  # the empty row of a document without labels: its claims are rows now
    for row in rows:
        if len(row) == _BASE:
            row.extend([*counts, "", "", ""])
        yield row


def _level(level: str, item: Mapping[str, Any]) -> tuple[str, str]:
    """The level of a claim or debunk row and its ``comment`` cell: ``comment_<level>``
    and the comment's id for a comment's (:func:`comment_claims` names it)."""
    if COMMENT in item:
        return f"comment_{level}", _cell(item[COMMENT])
    return level, ""


def _label_rows(record: Record) -> Iterator[list[str]]:
    count = comment_count(record)
    head = [_cell(record.get(k)) for k in ("id", "language", "source", "date")]
    head.append("" if count is None else str(count))
    found = False
    for group, group_annotations in annotation_groups(record).items():
        for a in group_annotations:
            found = True
            level = LEVELS.get(group, group)
            yield [
                *head,
                level,
                _cell(a.get("label")),
                _cell(a.get("parent")),
                "",
                "",
                *_tail(a),
                "",
                "",
            ]
    for e in record.get(ENTITIES) or []:
        if not e.get("main_role"):
            continue
        found = True
        fine = ";".join(str(a.get("label")) for a in e.get("fine_roles") or [])
        yield [
            *head,
            "entity",
            _cell(e["main_role"]),
            "",
            _cell(e.get("name")),
            _cell(fine),
            *_tail(e),
            "",
            "",
        ]
    for t in record.get(TECHNIQUES) or []:
        found = True
        span = {"start": t.get("start", ""), "end": t.get("end", ""), "text": t.get("text")}
        yield [
            *head,
            "technique",
            _cell(t.get("label")),
            _cell(t.get("family")),
            "",
            "",
            *_tail({"score": t.get("score"), "evidence": [span]}),
            str(t.get("paragraph", "")),
            "",
        ]
    for family, count in (record.get(PROFILE) or {}).items():
        if count:
            found = True
            yield [*head, "profile", _cell(family), "", "", "", str(int(count)), "", "", "", "", ""]
    for level, reading, comment in _flags(record):
        found = True
        evidence = reading.get("evidence")
        label = "incitement" if level.endswith("incitement") else reading.get("label")
        yield [
            *head,
            level,
            _cell(label),
            _cell(reading.get("target")),
            "",
            "",
            *_tail({"score": reading.get("score"), "evidence": [evidence] if evidence else []}),
            "",
            _cell(comment),
        ]
    if not found:
        # A document with no label still gets a row, so every analysed id is in the file.
        yield [*head, *[""] * (_BASE - len(head))]


def _flags(record: Record) -> Iterator[tuple[str, Mapping[str, Any], str]]:
    """(level, reading, comment id) of every flag: the article's, then each comment's."""
    owners = [("", record)] + [
        ("comment_", c) for c in record.get(COMMENTS) or [] if isinstance(c, Mapping)
    ]
    for prefix, owner in owners:
        hate, call = owner.get("hate"), owner.get("incitement")
        comment = str(owner.get("id", "")) if prefix else ""
        if isinstance(hate, Mapping) and hate.get("label") in ("hateful", "offensive"):
            yield prefix + "hate", hate, comment
        if isinstance(call, Mapping) and call.get("label") is True:
            yield prefix + "incitement", call, comment


def write(records: Iterable[Record], fh: TextIO, *, debunks_checked: bool | None = None) -> int:
    """Write a header and the rows of every record; returns the number of documents.

    ``debunks_checked`` (from the runner): whether the run matched known debunks; None
    when not known, and the records' counts are written as they are.
    """
    writer = csv.writer(fh, lineterminator="\n")
    writer.writerow(COLUMNS)
    n = 0
    for record in records:
        writer.writerows(_rows(record, debunks_checked))
        n += 1
    return n


def read(fh: TextIO) -> Iterator[dict[str, Any]]:
    """Rebuild (partial) records from an earlier CSV output; :func:`write` reproduces its rows."""
    rows = csv.DictReader(fh)
    for doc_id, doc_rows in groupby(rows, key=lambda r: _uncell(r.get("id") or "")):
        record: dict[str, Any] = {"id": doc_id, "language": None}
        for row in doc_rows:
            record["language"] = _uncell(row.get("language") or "") or None
            for key in ("source", "date"):
                if row.get(key):
                    record[key] = _uncell(row[key])
            if (row.get("comments") or "").isdigit():
                record[COMMENT_COUNT] = int(row["comments"])
            for key in (CLAIMS, DEBUNKS):
                if (row.get(key) or "").isdigit():
                    record.setdefault(key, [])
            level = row.get("level") or ""
            if not level:
                continue
            if level == "entity":
                record.setdefault(ENTITIES, []).append(_entity_from_row(row))
                continue
            if level == "technique":
                record.setdefault(TECHNIQUES, []).append(_technique_from_row(row))
                continue
            if level == "profile":
                record.setdefault(PROFILE, {})[_uncell(row.get("label") or "")] = int(
                    row.get("score") or 0
                )
                continue
            if level == "claim":
                (span,) = _evidence_from_row(row) or [{"start": 0, "end": 0, "text": ""}]
                score = float(row["score"]) if row.get("score") else 0.0
                record.setdefault(CLAIMS, []).append({"score": score, **span})
                continue
            if level == "debunk":
                record.setdefault(DEBUNKS, []).append(_debunk_from_row(row))
                continue
            if level == "comment_claim":
                (span,) = _evidence_from_row(row) or [{"start": 0, "end": 0, "text": ""}]
                score = float(row["score"]) if row.get("score") else 0.0
                owner = _comment_of(record, row)
                owner.setdefault(CLAIMS, []).append({"score": score, **span, COMMENT: owner["id"]})
                continue
            if level == "comment_debunk":
                owner = _comment_of(record, row)
                owner.setdefault(DEBUNKS, []).append(
                    {**_debunk_from_row(row), COMMENT: owner["id"]}
                )
                continue
            if level in FLAG_LEVELS:
                _flag_from_row(record, level, row)
                continue
            annotation: dict[str, Any] = {"label": _uncell(row.get("label") or "")}
            if row.get("score"):
                annotation["score"] = float(row["score"])
            if row.get("parent"):
                annotation["parent"] = _uncell(row["parent"])
            annotation["evidence"] = _evidence_from_row(row)
            record.setdefault(_GROUPS.get(level, level), []).append(annotation)
        yield record


FLAG_LEVELS = frozenset({"hate", "incitement", "comment_hate", "comment_incitement"})


def _flag_from_row(record: dict[str, Any], level: str, row: Mapping[str, str]) -> None:
    """Put a flag row back on the record (article) or on a partial comment ``{id, ...}``."""
    evidence = _evidence_from_row(row)
    reading: dict[str, Any] = {"score": float(row["score"]) if row.get("score") else 0.0}
    if level.endswith("hate"):
        reading = {
            "label": _uncell(row.get("label") or ""),
            **reading,
            "target": _uncell(row.get("parent") or "") or None,
        }
    else:
        reading = {"label": True, **reading}
    reading["evidence"] = evidence[0] if evidence else None
    owner = _comment_of(record, row) if level.startswith("comment_") else record
    owner["hate" if level.endswith("hate") else "incitement"] = reading


def _comment_of(record: dict[str, Any], row: Mapping[str, str]) -> dict[str, Any]:
    """The (partial) comment ``{id, ...}`` of the record that the row's ``comment`` names,
    added to the record's comments the first time."""
    comment_id = _uncell(row.get("comment") or "")
    comments = record.setdefault(COMMENTS, [])
    owner = next((c for c in comments if c.get("id") == comment_id), None)
    if owner is None:
        owner = {"id": comment_id}
        comments.append(owner)
    return owner


def _evidence_from_row(row: Mapping[str, str]) -> list[dict[str, Any]]:
    if not row.get("evidence_start"):
        return []
    return [
        {
            "start": int(row["evidence_start"]),
            "end": int(row["evidence_end"]),
            "text": _uncell(row.get("evidence") or ""),
        }
    ]


def _debunk_from_row(row: Mapping[str, str]) -> dict[str, Any]:
    evidence = _evidence_from_row(row)
    return {
        "id": _uncell(row.get("label") or ""),
        "claim": _uncell(row.get("debunk_claim") or ""),
        "url": _uncell(row.get("url") or "") or None,
        "verdict": _uncell(row.get("parent") or "") or None,
        "date": _uncell(row.get("debunk_date") or "") or None,
        "score": float(row["score"]) if row.get("score") else 0.0,
        "claim_span": evidence[0] if evidence else None,
    }


def _entity_from_row(row: Mapping[str, str]) -> dict[str, Any]:
    main = _uncell(row.get("label") or "")
    fine = [f for f in _uncell(row.get("fine_roles") or "").split(";") if f]
    return {
        "name": _uncell(row.get("entity") or ""),
        "main_role": main,
        "score": float(row["score"]) if row.get("score") else 0.0,
        "fine_roles": [{"label": f, "parent": main} for f in fine],
        "evidence": _evidence_from_row(row),
    }


def _technique_from_row(row: Mapping[str, str]) -> dict[str, Any]:
    (span,) = _evidence_from_row(row) or [{"start": 0, "end": 0, "text": ""}]
    return {
        "label": _uncell(row.get("label") or ""),
        "family": _uncell(row.get("parent") or "") or None,
        "score": float(row["score"]) if row.get("score") else 0.0,
        "paragraph": int(row["paragraph"]) if row.get("paragraph") else 0,
        **span,
    }
