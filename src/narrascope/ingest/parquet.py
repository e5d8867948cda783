"""Parquet inputs: one document per row, read exactly as a JSONL record would be.

Datasets that outgrow one JSON-lines file arrive as Parquet (Spark, DuckDB, or
``narrascope analyze --out DIR/`` itself). Each row becomes a record and goes through
the JSONL readers' functions (:func:`~narrascope.ingest.formats.record_documents`), so
the text, id, parent, date, source and url fields, ``--max-bytes``, threads and the
errors per bad row are those of a JSONL line. A row's default id is ``file.parquet:ROW``
(rows count from 1, as lines do).

Why columns, not whole rows: only the fields a document needs are read
(``ParquetFile.iter_batches(columns=...)``), so the typed columns and the ``record``
JSON of narrascope's own output cost nothing. The file is streamed batch by batch, so
memory is bounded by about one row group, not the file (100,000 articles, 911 M
characters in 5,000-row groups: 202 MB peak RSS, 52 MB of it the imports).
A file without the text column is one error, as a CSV file without that column is.

Values that JSON has no type for become what a JSONL record would hold: timestamps and
dates ISO strings (which :func:`~narrascope.ingest.formats.normalise_date` then writes
one way), bytes decoded text (or the row's error when they are not text), decimals
strings.

pyarrow is optional (``narrascope[scale]``): without it a Parquet input is one
InputError saying how to install it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

from narrascope.errors import (
    E_BAD_RECORD,
    E_MISSING_FIELD,
    E_PACKAGE_MISSING,
    InputError,
)
from narrascope.ingest.encoding import decode_bytes
from narrascope.ingest.formats import FirstSeen, Item, Row, record_documents
from narrascope.ingest.options import ReadOptions
from narrascope.ingest.remote import INSTALL_HINT

# Rows per batch handed to Python: 256 news articles are a few MB.
BATCH_ROWS = 256

# What pq.ParquetFile reads: a path, or an open (random-access) file.
Opener = Callable[[], Any]


def parquet_documents(
    open_file: Opener,
    label: str,
    file_id: str,
    path: str | None,
    options: ReadOptions,
    seen: FirstSeen | None = None,
) -> Iterator[Item]:
    """A document per row (per thread of rows with ``options.parent_field``); a bad row,
    or a file that is not Parquet, is an error and the batch goes on."""
    try:
        import pyarrow.parquet as pq  # noqa: F401  (checked here, used by _rows)
    except ImportError:
        yield missing_pyarrow(label)
        return
    yield from record_documents(_rows(open_file, label, file_id, options), path, options, seen)


def missing_pyarrow(label: str) -> InputError:
    """pyarrow is an optional extra: say how to add it, for this one input."""
    return InputError(label, f"reading Parquet needs pyarrow: {INSTALL_HINT}", E_PACKAGE_MISSING)


def parquet_row_count(open_file: Opener) -> int | None:
    """Rows of a Parquet file from its footer (no data read); None when unreadable."""
    source = None
    try:
        import pyarrow.parquet as pq

        source = open_file()
        with pq.ParquetFile(source) as reader:
            return int(reader.metadata.num_rows)
    except Exception:  # no pyarrow, not Parquet, unreachable: the reader reports it
        return None
    finally:
        _close(source)


def _rows(
    open_file: Opener, label: str, file_id: str, options: ReadOptions
) -> Iterator[Row | InputError]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        source = open_file()
    except (pa.ArrowException, OSError) as exc:
        yield InputError(label, f"cannot open this file ({_reason(exc)})")
        return
    try:
        # Pre-buffering coalesces reads, which a remote file needs (few, large requests)
        # and a local one does not: locally it only raised the peak memory (188 MB of
        # Arrow buffers against 39 MB without, on 100,000 articles in 5,000-row groups).
        reader = pq.ParquetFile(source, pre_buffer=not isinstance(source, str))
    except (pa.ArrowException, OSError) as exc:
        yield InputError(label, f"not a readable Parquet file ({_reason(exc)})", E_BAD_RECORD)
        _close(source)
        return
    try:
        names = reader.schema_arrow.names
        if options.text_field not in names:
            yield InputError(
                label,
                f"no {options.text_field!r} column (columns: {', '.join(names)}); "
                "choose the text column with --text-field",
                E_MISSING_FIELD,
            )
            return
        wanted = (
            options.text_field,
            options.id_field,
            options.source_field,
            options.url_field,
            options.date_field,
            options.parent_field,
            options.author_field,
        )
        columns = list(dict.fromkeys(f for f in wanted if f is not None and f in names))
        batches = reader.iter_batches(batch_size=BATCH_ROWS, columns=columns)
        row = 0
        while True:
            try:
                batch = _python(next(batches))
            except StopIteration:
                return
            except (pa.ArrowException, OSError, ValueError) as exc:  # a damaged page
                yield InputError(
                    f"{label}:{row + 1}",
                    f"the rest of the file cannot be read ({_reason(exc)}); it is skipped",
                    E_BAD_RECORD,
                )
                return
            for values in batch:
                row += 1
                where = f"{label}:{row}"
                try:
                    record = {key: plain(value, where) for key, value in values.items()}
                except InputError as err:
                    yield err
                    continue
                yield where, f"{file_id}:{row}", record
    finally:
        reader.close()
        _close(source)


def _python(batch: Any) -> list[dict[str, Any]]:
    """A record batch as dicts; nanosecond timestamps cut to microseconds first, which
    Python's datetime holds (without it, pyarrow needs pandas or refuses)."""
    import pyarrow as pa

    columns = [
        column.cast(pa.timestamp("us", column.type.tz), safe=False)
        if pa.types.is_timestamp(column.type) and column.type.unit == "ns"
        else column
        for column in batch.columns
    ]
    return pa.RecordBatch.from_arrays(columns, names=batch.schema.names).to_pylist()


def _close(source: Any) -> None:
    """Close what the opener opened (a remote file); a path is closed by pyarrow."""
    if hasattr(source, "close"):
        source.close()


def plain(value: Any, where: str) -> Any:
    """A Parquet value as JSON would hold it (see the module's docstring)."""
    if value is None or isinstance(value, str | bool | int | float):
        return value
    if isinstance(value, bytes):
        return decode_bytes(value, where)  # raises InputError when not text
    if isinstance(value, dict):
        return {str(k): plain(v, where) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v, where) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    if hasattr(value, "isoformat"):  # datetime, date, time, pandas.Timestamp
        return value.isoformat()
    return str(value)  # durations, intervals: as Arrow prints them


def _reason(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__
