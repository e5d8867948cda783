"""Inputs named by a glob pattern or a URL, expanded into the files they stand for.

A cluster's inputs are rarely one file: they are ``posts/*.jsonl``, a Spark dataset
``s3://bucket/posts/`` or a DuckDB export ``gs://bucket/day=*/part-*.parquet``. This
module turns such names into files; :mod:`narrascope.ingest.core` reads them with the
same readers as local files, so ids, errors and threads come out the same.

* **Globs** (quoted so that the shell leaves them alone): ``*``, ``?`` and ``[...]``
  match within one folder, ``**`` any number of folders; matches are sorted, and a
  path that exists literally (a file really named ``a[1].txt``) is never a pattern.
* **URLs** ``scheme://...`` go through :func:`pyarrow.fs.FileSystem.from_uri`, so any
  filesystem pyarrow knows works (``s3://``, ``gs://``, ``hdfs://``, ``file://``, with
  pyarrow's own credential lookup). A URL's path may hold ``*`` and ``[...]`` patterns;
  ``?`` starts the URL's query (``s3://bucket/x/?region=eu-west-1``), as in any URL.
  A URL that cannot be used (unknown scheme, no credentials, no such bucket) becomes one
  :class:`RemoteFile` carrying the reason, which the reader reports: the batch goes on.

Folders (local or remote) are listed recursively; hidden names (``.x``) are skipped, and
so is the bookkeeping of a Parquet dataset (a folder holding ``*.parquet`` files or
``key=value`` partition folders): ``_errors.jsonl``, ``_fresh`` and the journal of
``narrascope analyze --out DIR/``, Spark's ``_SUCCESS``, ``_metadata``,
``_common_metadata``, ``_committed_*``/``_started_*`` and ``_temporary/``, Delta Lake's
``_delta_log/`` (:data:`BOOKKEEPING`). Other ``_`` names are data like any other (a
``_draft.txt``, an ``_archive/`` folder): pyarrow.dataset skips every ``_`` name, but a
corpus folder that also holds one Parquet export must not lose its other files in silence.
Partition folders give their rows fields (:func:`partition_fields`).

pyarrow is optional (``narrascope[scale]``) and only imported when a URL is given.
"""

from __future__ import annotations

import fnmatch
import glob
import re
from collections.abc import Iterator, Sequence
from pathlib import PurePath, PurePosixPath
from typing import Any, BinaryIO
from urllib.parse import unquote

from narrascope.errors import E_INPUT, E_NOT_FOUND, E_PACKAGE_MISSING

INSTALL_HINT = "pip install 'narrascope[scale]'"
_URL = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
_MAGIC = re.compile(r"[*?[]")
_URL_MAGIC = re.compile(r"[*[]")  # in a URL, "?" starts the query
_PARTITION = re.compile(r"^([^=]+)=([^=]*)$")  # hive-style partition folder: lang=en
# the names the writers of Parquet datasets keep beside the data (see the module docstring)
BOOKKEEPING = re.compile(
    r"_(SUCCESS|metadata|common_metadata|committed_.*|started_.*|temporary|delta_log"
    r"|spark_metadata|errors\.jsonl|journal\.jsonl.*|fresh)"
)
# Hive's name for a partition whose value is null
HIVE_NULL = "__HIVE_DEFAULT_PARTITION__"


def is_url(name: str) -> bool:
    """``scheme://...`` (``-`` and Windows paths such as ``C:\\x`` are not URLs)."""
    return _URL.match(name) is not None


def has_magic(name: str) -> bool:
    """Whether a local path holds glob characters."""
    return _MAGIC.search(name) is not None


def expand_glob(pattern: str) -> list[str]:
    """The paths a local pattern matches, sorted folder by folder as a folder is walked
    (``**`` recursive; hidden names are matched only by a pattern part starting ``.``)."""
    return sorted(glob.glob(pattern, recursive=True), key=lambda p: PurePath(p).parts)


def marks_dataset(name: str, is_dir: bool) -> bool:
    """A folder entry that makes its folder a Parquet dataset: a Parquet file, or a
    hive-style partition folder (``lang=en``)."""
    if is_dir:
        return _PARTITION.match(name) is not None
    return name.lower().endswith(".parquet")


def skipped(name: str, in_dataset: bool) -> bool:
    """Entries of a listed folder that are not inputs (see the module's docstring)."""
    return name.startswith(".") or (in_dataset and BOOKKEEPING.fullmatch(name) is not None)


def partition_fields(location: str) -> dict[str, str | None]:
    """The ``key=value`` folders above a file, as fields (``.../source=tass/date=2024-01-02/
    part-0.parquet``: source and date), the deepest winning; values URL-decoded as Hive
    and pyarrow write them, Hive's null partition None.

    Why: Spark and DuckDB exports are partitioned by date or source, and the value then
    lives only in the folder's name; every reader of such a dataset gives it as a column.
    """
    parts = PurePosixPath(location).parts if is_url(location) else PurePath(location).parts
    fields: dict[str, str | None] = {}
    for folder in parts[:-1]:
        found = _PARTITION.match(folder)
        if found is not None:
            value = unquote(found.group(2))
            fields[unquote(found.group(1))] = None if value == HIVE_NULL else value
    return fields


class RemoteFile(str):
    """One file behind a URL, as :func:`~narrascope.ingest.core.discover` yields it.

    It is a ``str`` (its URL, without credentials or query: what errors and
    ``meta["path"]`` show), so code that only prints inputs keeps working. ``error`` is
    set instead of a file system when the URL could not be used; the reader reports it.
    """

    fs: Any
    path: str
    size: int | None
    error: str | None
    code: str

    def __new__(
        cls,
        label: str,
        fs: Any = None,
        path: str = "",
        size: int | None = None,
        *,
        error: str | None = None,
        code: str = E_INPUT,
    ) -> RemoteFile:
        item = super().__new__(cls, label)
        item.fs, item.path, item.size, item.error, item.code = fs, path, size, error, code
        return item

    @property
    def name(self) -> str:
        """The file's name, the first choice for its document id (like a local file)."""
        return PurePosixPath(self.path).name if self.path else str(self)

    @property
    def suffix(self) -> str:
        return PurePosixPath(self.path).suffix

    def open(self, mode: str = "rb") -> BinaryIO:
        """A sequential stream (``mode`` is there to match ``Path.open``; always "rb").
        Nothing is decompressed by suffix: a ``.gz`` is reported as compressed, as a
        local one is."""
        return self.fs.open_input_stream(self.path, compression=None)  # type: ignore[no-any-return]

    def open_random(self) -> Any:
        """A random-access file, as :class:`pyarrow.parquet.ParquetFile` needs."""
        return self.fs.open_input_file(self.path)


def expand_url(url: str) -> Iterator[RemoteFile]:
    """The files a URL names: itself, a folder's files (recursively) or a pattern's
    matches, sorted; one :class:`RemoteFile` with ``error`` set when it cannot be used."""
    shown = redact(url)
    try:
        from pyarrow import fs as pafs
    except ImportError:
        yield RemoteFile(
            shown,
            error=f"reading URLs needs pyarrow: {INSTALL_HINT}",
            code=E_PACKAGE_MISSING,
        )
        return
    head, query = _split_query(url)
    scheme_end = _URL.match(head).end()  # type: ignore[union-attr]
    magic = _URL_MAGIC.search(head, scheme_end)
    base_uri, pattern = head, ""
    if magic is not None:
        cut = head.rfind("/", scheme_end, magic.start())
        if cut < 0:
            yield RemoteFile(shown, error="a pattern in the bucket or host name is not supported")
            return
        base_uri, pattern = head[: cut + 1], head[cut + 1 :]
    try:
        filesystem, base = pafs.FileSystem.from_uri(base_uri + query)
        base = base.rstrip("/") or base
        if not pattern:
            info = filesystem.get_file_info(base)
            if info.type == pafs.FileType.File:
                yield RemoteFile(shown, filesystem, info.path, info.size)
                return
            if info.type != pafs.FileType.Directory:
                yield RemoteFile(
                    shown, error="no such file or folder; check the URL", code=E_NOT_FOUND
                )
                return
        recursive = not pattern or "/" in pattern or "**" in pattern
        listed = filesystem.get_file_info(
            pafs.FileSelector(base, recursive=recursive, allow_not_found=True)
        )
    except Exception as exc:  # pyarrow raises many kinds: bad scheme, credentials, network
        yield RemoteFile(shown, error=f"cannot open this URL ({_reason(exc)})")
        return
    prefix = _label_prefix(base_uri, base)
    files = {i.path: i for i in listed if i.type == pafs.FileType.File}
    kept = _matching(files, base, pattern) if pattern else _visible(files, base)
    if pattern and not kept:  # an empty folder gives nothing, as a local one does
        yield RemoteFile(shown, error="no file matches this pattern", code=E_NOT_FOUND)
        return
    # folder by folder, as a local folder is walked: "a/b.txt" before "a.txt"
    for path in sorted(kept, key=lambda p: _relative(p, base)):
        yield RemoteFile(prefix + path, filesystem, path, files[path].size)


def _relative(path: str, base: str) -> tuple[str, ...]:
    return tuple(p for p in path[len(base) :].split("/") if p)


def _visible(files: dict[str, Any], base: str) -> list[str]:
    """The files of a listed folder that are inputs, by the same rule as local folders:
    hidden names skipped, ``_`` names skipped below a folder that is a dataset."""
    parts = {path: _relative(path, base) for path in files}
    datasets = set()  # folders (as relative parts) that directly hold a dataset marker
    for rel in parts.values():
        for depth in range(len(rel)):
            if marks_dataset(rel[depth], is_dir=depth < len(rel) - 1):
                datasets.add(rel[:depth])
    kept = []
    for path, rel in parts.items():
        in_dataset = False
        for depth, name in enumerate(rel):
            in_dataset = in_dataset or rel[:depth] in datasets
            if skipped(name, in_dataset):
                break
        else:
            kept.append(path)
    return kept


def _matching(files: dict[str, Any], base: str, pattern: str) -> list[str]:
    wanted = tuple(p for p in pattern.split("/") if p)
    return [path for path in files if _match(_relative(path, base), wanted)]


def _match(parts: Sequence[str], pattern: Sequence[str]) -> bool:
    """Glob semantics on path parts: ``*`` stays within one part, ``**`` spans any
    number of parts, and a hidden part is matched only by a pattern part starting ``.``."""
    if not pattern:
        return not parts
    if pattern[0] == "**":
        return any(
            _match(parts[n:], pattern[1:])
            for n in range(len(parts) + 1)
            if not any(p.startswith(".") for p in parts[:n])
        )
    if not parts or (parts[0].startswith(".") and not pattern[0].startswith(".")):
        return False
    return fnmatch.fnmatchcase(parts[0], pattern[0]) and _match(parts[1:], pattern[1:])


def _split_query(url: str) -> tuple[str, str]:
    head, mark, query = url.partition("?")
    return head, mark + query


def redact(url: str) -> str:
    """The URL without its query and user info, which may hold credentials
    (``s3://KEY:SECRET@bucket/``, ``?secret_key=``): errors and ids show this."""
    head, _ = _split_query(url)
    return re.sub(r"^([^:/]+://)[^/@]*@", r"\1", head)


def _label_prefix(base_uri: str, base: str) -> str:
    """What goes before a listed file's path to name it as a URL: ``s3://`` for
    ``s3://bucket/x``, ``hdfs://host:8020`` for ``hdfs://host:8020/x``."""
    full = redact(base_uri)
    shown = full.rstrip("/")
    if base not in ("", "/") and shown.endswith(base):
        return shown[: len(shown) - len(base)]
    return full[: full.index("://") + 3]


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__
