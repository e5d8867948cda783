"""Where an engine's analysed documents go: every format of the runner, plus Parquet.

Why it is built on :func:`narrascope.runner.run_batch` and not beside it: the journal,
``--resume``, the errors file, ``--db`` and the atomic final rename are already right
there, and both engines must write identical records. A Parquet dataset is one more
target on top: the runner journals into ``DIR/_journal.jsonl`` (hidden from Parquet
readers by its leading ``_``), and when the run ends the journal becomes new part files,
then goes. So a ``kill -9`` loses at most the batch in flight, exactly as for jsonl, and
``--resume`` skips the ids already in the parts *and* in the journal.

Failures go to ``DIR/_errors.jsonl`` (the runner's ``<out>.errors.jsonl`` beside a file).
Without ``--resume`` the run replaces the dataset: the old parts are removed once the new
ones are complete.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from narrascope.doc import Document
from narrascope.errors import InputError
from narrascope.export import get_format
from narrascope.export.records import iter_jsonl
from narrascope.runner import BatchReport, SupportsPipe, errors_path, journal_path, run_batch
from narrascope.store import Store

PARQUET = "parquet"
JOURNAL = "_journal.jsonl"
ERRORS = "_errors.jsonl"
Item = Document | InputError


def wants_parquet(out: Path | None, fmt: str | None, *, as_dir: bool = False) -> bool:
    """Whether ``--out``/``--format`` ask for a Parquet dataset: ``--format parquet``, or
    no format and an out that ends in ``/`` (``as_dir``), ``.parquet`` or is a folder."""
    if fmt is not None:
        return fmt == PARQUET
    if out is None:
        return False
    return as_dir or out.suffix.lower() == ".parquet" or out.is_dir()


@dataclass
class SkipDone:
    """Drops documents an earlier run finished (``--resume``), counting them.

    A document counts as finished when its id is in ``done`` and, with a store, the
    store holds it with the same text: the runner's rule, applied before the analysis
    so a cluster never redoes work it would throw away.
    """

    done: set[str]
    store: Store | None = None
    skipped: int = field(default=0)

    def __call__(self, items: Iterable[Item]) -> Iterator[Item]:
        for item in items:
            if (
                isinstance(item, Document)
                and item.id
                and item.id in self.done
                and (self.store is None or self.store.contains(item.id, item.content_hash))
            ):
                self.skipped += 1
                continue
            yield item


def journal_ids(path: Path) -> set[str]:
    """Ids in a runner journal, read only (the runner cuts a half line when it resumes)."""
    if not path.exists():
        return set()
    with path.open("rb") as fh:
        return {str(r["id"]) for r in iter_jsonl(fh) if r.get("id")}


def done_ids(out: Path, fmt: str) -> set[str]:
    """Ids an earlier run wrote into ``out`` (its journal included), for ``--resume``."""
    if fmt == PARQUET:
        from narrascope.export.parquet import parquet_ids

        journal = out / JOURNAL
        return parquet_ids(out) | journal_ids(journal_path(journal)) | journal_ids(journal)
    ids = journal_ids(journal_path(out))
    if out.exists():
        with out.open(encoding="utf-8", errors="replace", newline="") as fh:
            ids |= {str(r["id"]) for r in get_format(fmt).read(fh) if r.get("id")}
    return ids


def _publish(folder: Path, journal: Path, *, keep: set[Path] | None) -> list[Path]:
    """Turn a finished journal into new parts; then drop the parts not in ``keep`` (None:
    keep all, a resumed run) and the journal. Ids already in a part are not written
    twice, so publishing a journal again after a crash is harmless."""
    from narrascope.export.parquet import PartWriter, parquet_ids

    present = parquet_ids(folder) if keep is None else set()  # a fresh run replaces them all
    writer = PartWriter(folder)
    try:
        with journal.open("rb") as fh:
            for record in iter_jsonl(fh):
                if str(record.get("id") or "") not in present or not record.get("id"):
                    writer.write(record)
    except BaseException:
        writer.abort()
        raise
    written = writer.close()
    if keep is not None:
        from narrascope.export.parquet import part_files

        for old in part_files(folder):
            if old not in keep and old not in written:
                old.unlink()
    journal.unlink()
    return written


def run_to_output(
    items: Iterable[Item],
    pipeline: SupportsPipe,
    *,
    out: Path | None,
    fmt: str,
    resume: bool = False,
    batch_size: int = 16,
    progress: bool | Literal["always"] = True,
    total: int | None = None,
    store: Store | None = None,
    on_error: Callable[[InputError], None] | None = None,
) -> BatchReport:
    """:func:`run_batch`, with ``fmt="parquet"`` writing a dataset directory ``out``."""
    if fmt != PARQUET or out is None:
        return run_batch(
            items,
            pipeline,
            out=out,
            fmt=fmt,
            resume=resume,
            batch_size=batch_size,
            progress=progress,
            on_error=on_error,
            total=total,
            store=store,
        )
    if out.exists() and not out.is_dir():
        raise ValueError(f"{out} is a file; a Parquet dataset is a folder")
    out.mkdir(parents=True, exist_ok=True)
    journal = out / JOURNAL
    errors = out / ERRORS
    errors.unlink(missing_ok=True)  # the runner's own errors file is renamed onto it
    skip = SkipDone(set(), store)
    if resume:
        if journal.exists():  # an earlier run ended between its journal and its parts
            _publish(out, journal, keep=None)
        skip.done = done_ids(out, PARQUET)
        items = skip(items)
        if total is not None:
            total = max(total - len(skip.done), 0)  # the bar sees only what is left
    report = run_batch(
        items,
        pipeline,
        out=journal,
        fmt="jsonl",
        resume=resume,
        batch_size=batch_size,
        progress=progress,
        on_error=on_error,
        total=total,
        store=store,
    )
    _publish(out, journal, keep=None if resume else set())  # a fresh run replaces the old
    errors_file = None
    if report.errors_file is not None:
        os.replace(errors_path(journal), errors)
        errors_file = errors
    return BatchReport(
        processed=report.processed,
        skipped=report.skipped + skip.skipped,
        failed=report.failed,
        output=out,
        errors_file=errors_file,
    )
