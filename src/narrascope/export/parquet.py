"""Partitioned Parquet: one row per document, for outputs too big for one JSON-lines file.

Why this layout (issue 27): a cluster run writes millions of documents, which people then
query with DuckDB, pyarrow or Spark without parsing JSON for every question, and which
narrascope must read back exactly (``--resume``, ``read_parquet_records``).

A record's keys are open: what the input said (``source``, ``url``, ``date``, ``path``,
an HTML page's ``title``; other fields of a JSONL record are not kept) is there when
given, stages add annotation groups (custom narratives, thread comments), and the
nesting goes four levels deep (entities -> fine roles -> evidence spans). A strict nested
schema for all of that would differ from one part file to the next (a key present in one
batch only) and fail to merge. So every row holds

* ``record``: the whole record as JSON (``Document.to_dict()``, the jsonl line), with
  ``text`` set to null: the lossless copy that :func:`read_parquet_records` returns;
* ``text`` and the fields people filter on as typed columns: ``id``, ``language``,
  ``content_hash``, ``source``, ``url``, ``date`` (strings, null when absent);
* typed nested columns for the analysis people aggregate: ``narratives`` and
  ``subnarratives`` (list of {label, score[, parent]}), ``entities`` (list of {name, kind,
  main_role, score}) and ``techniques`` (list of {label, family, paragraph, score, start,
  end}). They are projections of ``record`` (no evidence spans), never read back.

Text with lone surrogates (which UTF-8, and so Arrow, cannot hold) stays escaped inside
``record`` and its ``text`` column has them replaced; the reader takes ``record``'s.

A *dataset* is a directory of ``part-<stamp>-<n>.parquet`` files (:data:`PART_NAME`);
the staging journal and the errors file live beside them under ``_`` names. Only files
with that very name are parts: whatever else a user keeps in the folder (their own
``metrics.parquet``, a ``year=2023/`` sub-folder) is never read, replaced or deleted as
one. Each part is written to a hidden temporary name and renamed, so a reader never sees
half a part. Parts sort by name in the order they were written.

A part that cannot be read (cut short, not Parquet, not narrascope's columns) is a
:class:`PartError` naming the file and why, never a pyarrow traceback.
"""

from __future__ import annotations

import json
import os
import re
import secrets
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from narrascope.errors import E_BAD_RECORD, InputError
from narrascope.export.records import Record

SUFFIX = ".parquet"
# what PartWriter names a part: part-<run_stamp()>-<n>.parquet
PART_NAME = re.compile(r"part-\d{8}T\d{6}-[0-9a-f]{6}-\d{5}\.parquet")
ROWS_PER_FILE = 5_000  # ~50 MB of news articles per part: big enough for scans, small for retries
ROWS_PER_GROUP = 500

_LABEL = pa.struct([("label", pa.string()), ("score", pa.float64())])
_SUBLABEL = pa.struct([("label", pa.string()), ("parent", pa.string()), ("score", pa.float64())])
_ENTITY = pa.struct(
    [
        ("name", pa.string()),
        ("kind", pa.string()),
        ("main_role", pa.string()),
        ("score", pa.float64()),
    ]
)
_TECHNIQUE = pa.struct(
    [
        ("label", pa.string()),
        ("family", pa.string()),
        ("paragraph", pa.int32()),
        ("score", pa.float64()),
        ("start", pa.int64()),
        ("end", pa.int64()),
    ]
)
SCALARS = ("id", "language", "content_hash", "source", "url", "date")
SCHEMA = pa.schema(
    [
        *[(name, pa.string()) for name in SCALARS],
        ("text", pa.large_string()),
        ("narratives", pa.list_(_LABEL)),
        ("subnarratives", pa.list_(_SUBLABEL)),
        ("entities", pa.list_(_ENTITY)),
        ("techniques", pa.list_(_TECHNIQUE)),
        ("record", pa.large_string()),
    ]
)


def _str(value: Any) -> str | None:
    """A scalar as a column string (a date given as a number stays readable); None for
    absent or nested values, which ``record`` keeps anyway."""
    if value is None or isinstance(value, dict | list):
        return None
    return _utf8(str(value))


def _utf8(text: str) -> str:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "replace").decode("utf-8")
    return text


def _num(value: Any, kind: type) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return kind(value)


def _items(value: Any) -> list[Mapping[str, Any]]:
    return [v for v in value if isinstance(v, Mapping)] if isinstance(value, list) else []


def record_to_row(record: Record) -> dict[str, Any]:
    """The Parquet row of one record (see the module docstring for the columns)."""
    body = dict(record)
    text = body.get("text")
    if isinstance(text, str) and _utf8(text) is text:
        body["text"] = None  # the text lives in its own column, not twice
    payload = json.dumps(body, ensure_ascii=False)
    if _utf8(payload) is not payload:  # lone surrogates: kept exactly, as JSON escapes
        payload = json.dumps(body)
    row: dict[str, Any] = {name: _str(record.get(name)) for name in SCALARS}
    row["text"] = _utf8(text) if isinstance(text, str) else None
    row["narratives"] = [
        {"label": _str(a.get("label")), "score": _num(a.get("score"), float)}
        for a in _items(record.get("narratives"))
    ]
    row["subnarratives"] = [
        {
            "label": _str(a.get("label")),
            "parent": _str(a.get("parent")),
            "score": _num(a.get("score"), float),
        }
        for a in _items(record.get("subnarratives"))
    ]
    row["entities"] = [
        {
            "name": _str(e.get("name")),
            "kind": _str(e.get("kind")),
            "main_role": _str(e.get("main_role")),
            "score": _num(e.get("score"), float),
        }
        for e in _items(record.get("entities"))
    ]
    row["techniques"] = [
        {
            "label": _str(t.get("label")),
            "family": _str(t.get("family")),
            "paragraph": _num(t.get("paragraph"), int),
            "score": _num(t.get("score"), float),
            "start": _num(t.get("start"), int),
            "end": _num(t.get("end"), int),
        }
        for t in _items(record.get("techniques"))
    ]
    row["record"] = payload
    return row


def row_to_record(text: str | None, payload: str) -> dict[str, Any]:
    """The record of a row: ``record``'s JSON with the text put back in its place."""
    record = json.loads(payload)
    if "text" in record and record["text"] is None:
        record["text"] = text
    return record


def records_table(records: Iterable[Record]) -> pa.Table:
    """Records as one Arrow table of :data:`SCHEMA`."""
    return pa.Table.from_pylist([record_to_row(r) for r in records], schema=SCHEMA)


def run_stamp() -> str:
    """A part-name prefix that sorts by time and never collides between two writers."""
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S") + "-" + secrets.token_hex(3)


class PartWriter:
    """Writes records into ``part-<stamp>-<n>.parquet`` files of ``rows_per_file`` rows.

    Each part is written under a hidden name and renamed when complete, so a crash
    leaves complete parts only (the part in flight is lost, not half-visible).
    """

    def __init__(
        self,
        folder: Path,
        *,
        stamp: str | None = None,
        rows_per_file: int = ROWS_PER_FILE,
        rows_per_group: int = ROWS_PER_GROUP,
    ) -> None:
        if rows_per_file < 1 or rows_per_group < 1:
            raise ValueError("rows_per_file and rows_per_group must be at least 1")
        self.folder = folder
        self.stamp = stamp or run_stamp()
        self.rows_per_file = rows_per_file
        self.rows_per_group = min(rows_per_group, rows_per_file)
        self.written: list[Path] = []
        self._writer: pq.ParquetWriter | None = None
        self._tmp: Path | None = None
        self._rows_in_file = 0
        self._pending: list[Record] = []
        folder.mkdir(parents=True, exist_ok=True)

    def write(self, record: Record) -> None:
        self._pending.append(record)
        if len(self._pending) >= min(self.rows_per_group, self.rows_per_file - self._rows_in_file):
            self._flush_group()

    def _flush_group(self) -> None:
        if not self._pending:
            return
        if self._writer is None:
            name = f"part-{self.stamp}-{len(self.written):05d}{SUFFIX}"
            self._tmp = self.folder / f".{name}.tmp"
            self._writer = pq.ParquetWriter(self._tmp, SCHEMA, compression="zstd")
        self._writer.write_table(records_table(self._pending), row_group_size=len(self._pending))
        self._rows_in_file += len(self._pending)
        self._pending = []
        if self._rows_in_file >= self.rows_per_file:
            self._close_part()

    def _close_part(self) -> None:
        if self._writer is None or self._tmp is None:
            return
        self._writer.close()
        with self._tmp.open("rb") as fh:
            os.fsync(fh.fileno())
        final = self.folder / self._tmp.name[1:].removesuffix(".tmp")
        os.replace(self._tmp, final)
        self.written.append(final)
        self._writer, self._tmp, self._rows_in_file = None, None, 0

    def close(self) -> list[Path]:
        """Write what is pending and finish the last part; the parts written, in order."""
        self._flush_group()
        self._close_part()
        return self.written

    def abort(self) -> None:
        """Drop the part in flight (after an error); complete parts stay."""
        if self._writer is not None:
            self._writer.close()
        if self._tmp is not None:
            self._tmp.unlink(missing_ok=True)
        self._writer, self._tmp, self._pending = None, None, []


def write_parquet_records(
    records: Iterable[Record], folder: Path, *, rows_per_file: int = ROWS_PER_FILE
) -> list[Path]:
    """Write ``records`` as new parts in ``folder``; the part files written, in order."""
    writer = PartWriter(folder, rows_per_file=rows_per_file)
    try:
        for record in records:
            writer.write(record)
    except BaseException:
        writer.abort()
        raise
    return writer.close()


class PartError(InputError, ValueError):
    """A part file that cannot be read as narrascope's: ``[E106] FILE: why``.

    An :class:`InputError`, so the CLI prints it as one line (exit 2); a ``ValueError``
    too, as pyarrow's own errors are, so a caller that skips a damaged dataset and goes
    on (``campaigns``) keeps doing so.
    """

    def __init__(self, part: Path, reason: str) -> None:
        super().__init__(str(part), reason, E_BAD_RECORD)


def is_part(path: Path) -> bool:
    """Whether ``path`` is named as :class:`PartWriter` names a part."""
    return PART_NAME.fullmatch(path.name) is not None


def part_files(path: Path) -> list[Path]:
    """The part files of a dataset (the :data:`PART_NAME` files directly in a directory)
    or ``[path]`` for one Parquet file; sorted by their name, so in the order written."""
    if path.is_file():
        return [path]
    if not path.is_dir():
        return []
    return sorted(part for part in path.iterdir() if is_part(part) and part.is_file())


def _why(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__


def open_part(part: Path, columns: Iterable[str]) -> pq.ParquetFile:
    """``part`` opened, with ``columns`` checked to be there; :class:`PartError` when it
    is not a readable Parquet file or not one narrascope wrote."""
    try:
        reader = pq.ParquetFile(part)
    except (pa.ArrowException, OSError, ValueError) as exc:  # cut short, not Parquet
        raise PartError(part, f"not a readable Parquet file ({_why(exc)})") from exc
    missing = [name for name in columns if name not in reader.schema_arrow.names]
    if missing:
        reader.close()
        raise PartError(
            part,
            f"no {', '.join(map(repr, missing))} column: not a part of narrascope's Parquet "
            "output (move the file out of the dataset folder)",
        )
    return reader


def read_parquet_records(path: Path | str) -> Iterator[dict[str, Any]]:
    """The records of a Parquet file or dataset directory, streamed part by part, each
    equal to the jsonl record of the same document; :class:`PartError` at a part that
    cannot be read."""
    for part in part_files(Path(path)):
        with open_part(part, ("text", "record")) as reader:
            batches = reader.iter_batches(columns=["text", "record"], batch_size=1024)
            while True:
                try:
                    batch = next(batches, None)
                    if batch is None:
                        break
                    texts = batch.column("text").to_pylist()
                    payloads = batch.column("record").to_pylist()
                    records = [row_to_record(t, p) for t, p in zip(texts, payloads, strict=True)]
                except (pa.ArrowException, OSError, ValueError, TypeError) as exc:
                    raise PartError(part, f"cannot be read ({_why(exc)})") from exc
                yield from records


def read_part(part: Path, columns: list[str] | None = None) -> pa.Table:
    """One part's ``columns`` (None: all of them) as a table; :class:`PartError` when
    the part cannot be read."""
    with open_part(part, columns or ("id", "record")) as reader:
        try:
            return reader.read(columns=columns)
        except (pa.ArrowException, OSError, ValueError) as exc:
            raise PartError(part, f"cannot be read ({_why(exc)})") from exc


def parquet_ids(path: Path | str) -> set[str]:
    """Ids of the documents in a Parquet file or dataset (reads the ``id`` column only);
    :class:`PartError` at a part that cannot be read."""
    ids: set[str] = set()
    for part in part_files(Path(path)):
        column = read_part(part, ["id"]).column("id")
        ids.update(str(v) for v in column.to_pylist() if v)
    return ids


def count_rows(path: Path | str) -> int:
    """How many documents a Parquet file or dataset holds (from the footers)."""
    total = 0
    for part in part_files(Path(path)):
        with open_part(part, ()) as reader:
            total += reader.metadata.num_rows
    return total
