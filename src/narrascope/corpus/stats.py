"""Narrative counts per bucket over analysed records, without a database.

Why: ``analyze --out DIR/`` (the local engine or a Ray cluster) writes Parquet, and a
corpus that size is not always loaded into a database. :func:`record_stats` counts what
``Store.stats`` counts (documents carrying each coarse narrative, per day, ISO week,
month, source or language; a document without a date, source or language in the bucket
None), in the same order, so ``narrascope stats`` prints the same table from either.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from narrascope.store import STATS_BY, StatsRow
from narrascope.store.common import document_day, document_source, iso_week


def bucket_of(record: Mapping[str, Any], by: str) -> str | None:
    """The bucket a record falls in, as the store's SQL computes it: from the day the
    database files its date under (:func:`~narrascope.store.common.document_day`), so
    "05.03.2024" is 2024-03-05 here too and a date that pins no day is undated."""
    if by == "source":
        return document_source(record.get("source"))
    if by == "language":
        value = record.get(by)
        return str(value) if value not in (None, "") else None
    day = document_day(record.get("date"))
    if day is None:
        return None
    if by == "day":
        return day
    if by == "month":
        return day[:7]
    return iso_week(day)


def record_stats(records: Iterable[Mapping[str, Any]], by: str = "month") -> list[StatsRow]:
    """Documents per bucket and narrative (each document once per label), ordered as
    ``Store.stats`` orders them: dated buckets first, by bucket, most documents first."""
    if by not in STATS_BY:
        raise ValueError(f"by must be one of {', '.join(STATS_BY)}, got {by!r}")
    seen: dict[tuple[str | None, str], set[str]] = defaultdict(set)
    for index, record in enumerate(records):
        labels = {
            n.get("label")
            for n in record.get("narratives") or []
            if isinstance(n, Mapping) and isinstance(n.get("label"), str)
        }
        doc_id = str(record.get("id") or f"#{index}")
        bucket = bucket_of(record, by)
        for label in labels:
            seen[(bucket, label)].add(doc_id)
    rows = [StatsRow(bucket, label, len(ids)) for (bucket, label), ids in seen.items()]
    rows.sort(key=lambda r: (r.bucket is None, r.bucket or "", -r.documents, r.narrative))
    return rows
