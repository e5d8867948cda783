"""JSON lines: one ``Document.to_dict()`` per line, the lossless format."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, TextIO

from narrascope.export.records import Record, dumps_record, iter_jsonl


def write(records: Iterable[Record], fh: TextIO) -> int:
    """Write one record per line; returns how many were written."""
    n = 0
    for record in records:
        fh.write(dumps_record(record).decode("utf-8"))
        n += 1
    return n


def read(fh: TextIO) -> Iterator[dict[str, Any]]:
    """Records of an earlier output, so a resumed run can keep them."""
    return iter_jsonl(fh)
