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

Why sizes are checked before reading: a Parquet file of a few hundred bytes can expand to
gigabytes (zstd, or one dictionary entry repeated on every row), so the file size says
nothing. The footer gives each column chunk's uncompressed size: a file whose chunk holds
more than its rows could at ``--max-bytes`` each is refused before any row is read
(:func:`oversized`). String columns are read dictionary-encoded (a repeated value stays one
buffer), each row's size is measured in Arrow before it becomes Python strings, a text
over the limit is its row's error without being copied, and rows are turned into Python
values a few texts' worth at a time (:data:`BATCH_TEXTS`).

A file under ``key=value`` partition folders (``source=tass/part-0.parquet``, as Spark,
DuckDB and pyarrow write them) gets those values as fields when it has no such column
(:func:`~narrascope.ingest.remote.partition_fields`): the source or date of a partitioned
export lives only in its folders' names.

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
    E_TOO_LARGE,
    InputError,
)
from narrascope.ingest.encoding import decode_bytes
from narrascope.ingest.formats import FirstSeen, Item, Row, record_documents, too_large
from narrascope.ingest.options import ReadOptions
from narrascope.ingest.remote import INSTALL_HINT, partition_fields

# Rows per batch handed to Python: 256 news articles are a few MB.
BATCH_ROWS = 256
# A batch becomes Python values at most this many --max-bytes texts at a time.
BATCH_TEXTS = 4
# What a column chunk may hold beyond its values: length prefixes, levels, page headers.
ROW_OVERHEAD = 64
CHUNK_OVERHEAD = 1 << 16
# Encodings whose values can be far larger than what is stored (besides dictionaries,
# which are read as such): a value shares its prefix with the previous one.
_EXPANDING = frozenset({"DELTA_BYTE_ARRAY"})

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
        partitions = {
            key: value
            for key, value in partition_fields(label).items()
            if key in wanted and key not in names and key != options.text_field
        }
        refused = oversized(reader.metadata, columns, label, options.max_bytes)
        if refused is not None:
            yield refused
            return
        strings = [n for n in columns if _is_string(reader.schema_arrow.field(n).type)]
        if strings:  # read again from the same footer, string columns as dictionaries
            again = pq.ParquetFile(
                source,
                metadata=reader.metadata,
                pre_buffer=not isinstance(source, str),
                read_dictionary=strings,
            )
            reader.close()
            reader = again
        row = 0
        for group in range(reader.metadata.num_row_groups):
            size = _batch_rows(reader.metadata.row_group(group), columns, options.max_bytes)
            batches = reader.iter_batches(batch_size=size, row_groups=[group], columns=columns)
            while True:
                try:
                    batch = next(batches)
                except StopIteration:
                    break
                except (pa.ArrowException, OSError, ValueError) as exc:  # a damaged page
                    yield InputError(
                        f"{label}:{row + 1}",
                        f"the rest of the file cannot be read ({_reason(exc)}); it is skipped",
                        E_BAD_RECORD,
                    )
                    return
                try:
                    for values in _python_rows(batch, options):
                        row += 1
                        where = f"{label}:{row}"
                        if isinstance(values, int):  # the text's size, over the limit
                            yield too_large(where, values, options.max_bytes, what="record text")
                            continue
                        try:
                            record = {key: plain(value, where) for key, value in values.items()}
                            record.update(partitions)
                        except InputError as err:
                            yield err
                            continue
                        yield where, f"{file_id}:{row}", record
                except (pa.ArrowException, ValueError) as exc:
                    yield InputError(
                        f"{label}:{row + 1}",
                        f"the rest of the file cannot be read ({_reason(exc)}); it is skipped",
                        E_BAD_RECORD,
                    )
                    return
    finally:
        reader.close()
        _close(source)


def oversized(metadata: Any, columns: list[str], label: str, max_bytes: int) -> InputError | None:
    """The file's error when a row group's column holds more (uncompressed) than its rows
    could at ``max_bytes`` each; None when every column chunk fits.

    Why from the footer: a tiny compressed file can expand to gigabytes; this refuses it
    before a single page is decompressed.
    """
    wanted = set(columns)
    for group in range(metadata.num_row_groups):
        meta = metadata.row_group(group)
        allowed = meta.num_rows * (max_bytes + ROW_OVERHEAD) + CHUNK_OVERHEAD
        for k in range(meta.num_columns):
            chunk = meta.column(k)
            name = chunk.path_in_schema.split(".", 1)[0]
            if name in wanted and chunk.total_uncompressed_size > allowed:
                return InputError(
                    label,
                    f"the Parquet file's {name!r} column holds {_mb(chunk.total_uncompressed_size)}"
                    f" uncompressed in row group {group + 1} ({meta.num_rows} rows), more than "
                    f"{meta.num_rows} records at the {_mb(max_bytes)} limit could; the file is "
                    "refused before reading (a compression bomb, or raise --max-bytes)",
                    E_TOO_LARGE,
                )
    return None


def _mb(size: int) -> str:
    return f"{size / 1e6:.1f} MB"


def _batch_rows(meta: Any, columns: list[str], max_bytes: int) -> int:
    """Rows per Arrow batch of one row group: about :data:`BATCH_TEXTS` texts' worth.

    A value of a column chunk whose encoding can expand (delta strings) may be as large
    as the whole chunk, so such a chunk counts whole for each row.
    """
    wanted = set(columns)
    per_row = 0
    rows = max(meta.num_rows, 1)
    for k in range(meta.num_columns):
        chunk = meta.column(k)
        if chunk.path_in_schema.split(".", 1)[0] not in wanted:
            continue
        size = chunk.total_uncompressed_size
        per_row += size if _EXPANDING & set(chunk.encodings) else -(-size // rows)
    return max(1, min(BATCH_ROWS, BATCH_TEXTS * max_bytes // max(per_row, 1)))


def _is_string(kind: Any) -> bool:
    import pyarrow as pa

    return bool(
        pa.types.is_string(kind)
        or pa.types.is_large_string(kind)
        or pa.types.is_binary(kind)
        or pa.types.is_large_binary(kind)
    )


def _sizes(column: Any) -> list[int]:
    """Bytes of each row's value of a string column (0 for others and nulls), measured in
    Arrow: a dictionary column's values are measured once, not per row."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if pa.types.is_dictionary(column.type):
        if not _is_string(column.type.value_type):
            return [0] * len(column)
        lengths = pc.take(pc.binary_length(column.dictionary), column.indices)
    elif _is_string(column.type):
        lengths = pc.binary_length(column)
    else:
        return [0] * len(column)
    return [int(n) for n in pc.fill_null(lengths, 0).to_pylist()]


def _python_rows(batch: Any, options: ReadOptions) -> Iterator[dict[str, Any] | int]:
    """A batch's rows as dicts, a few texts' worth at a time; a row whose text is over
    ``options.max_bytes`` is its size instead, never copied into Python."""
    names = batch.schema.names
    text = _sizes(batch.column(names.index(options.text_field)))
    total = [0] * batch.num_rows
    for column in batch.columns:
        total = [a + b for a, b in zip(total, _sizes(column), strict=True)]
    budget = BATCH_TEXTS * options.max_bytes
    start, held = 0, 0
    for k in range(batch.num_rows):
        if text[k] > options.max_bytes:
            yield from _python(batch.slice(start, k - start))
            yield text[k]
            start, held = k + 1, 0
            continue
        if held + total[k] > budget and k > start:
            yield from _python(batch.slice(start, k - start))
            start, held = k, 0
        held += total[k]
    yield from _python(batch.slice(start, batch.num_rows - start))


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
