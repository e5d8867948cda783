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
ones are complete, and until then ``DIR/_fresh`` says so, so that resuming an interrupted
fresh run finishes it instead of keeping the old parts.

Only narrascope's own files are ever replaced or removed: the parts it names
(:data:`~narrascope.export.parquet.PART_NAME`) and its ``_`` bookkeeping. A folder that
holds other files and none of those is not a dataset narrascope wrote (a data lake, the
folder of the input itself): it is refused (:func:`check_dataset_folder`), not emptied.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from narrascope.doc import Document
from narrascope.errors import E_INPUT, InputError, NarrascopeError
from narrascope.export import get_format
from narrascope.export.records import iter_jsonl
from narrascope.runner import (
    BatchReport,
    SupportsPipe,
    errors_path,
    fresh_path,
    journal_path,
    mark_fresh,
    run_batch,
)
from narrascope.store import Store

PARQUET = "parquet"
JOURNAL = "_journal.jsonl"
ERRORS = "_errors.jsonl"
FRESH = "_fresh"  # the runner's ``fresh_path``, for a dataset: this run replaces the parts
Item = Document | InputError
# errors held while the done documents at the head of the input are skipped (see SkipDone)
HELD_ERRORS = 1_000


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

    def finished(self, item: Item) -> bool:
        """Whether an earlier run finished ``item`` (an error never is)."""
        return bool(
            isinstance(item, Document)
            and item.id
            and item.id in self.done
            and (self.store is None or self.store.contains(item.id, item.content_hash))
        )

    def __call__(self, items: Iterable[Item]) -> Iterator[Item]:
        for item in items:
            if self.finished(item):
                self.skipped += 1
                continue
            yield item

    def left(self, items: Iterable[Item], total: int | None) -> tuple[Iterator[Item], int | None]:
        """``items`` less the finished ones, and what is left of ``total`` for the bar.

        Why the head is skipped now: the progress bar's total is set before the first
        document is read, and only the documents of *this* input that are done may come
        off it (not every id the output holds: a new day's file added to a large dataset
        would leave nothing). A resumed run's input starts with what the earlier run
        finished, so the done documents at its head are read and counted here; the input
        errors met meanwhile are held (up to :data:`HELD_ERRORS`) to keep their place.
        A done document further on is skipped as it comes, the bar then ending short.
        """
        stream = iter(items)
        head: list[Item] = []
        for item in stream:
            if self.finished(item):
                self.skipped += 1
                continue
            head.append(item)
            if isinstance(item, Document) or len(head) >= HELD_ERRORS:
                break
        if total is not None:
            total = max(total - self.skipped, 0)
        return itertools.chain(head, self(stream)), total


def journal_ids(path: Path) -> set[str]:
    """Ids in a runner journal, read only (the runner cuts a half line when it resumes)."""
    if not path.exists():
        return set()
    with path.open("rb") as fh:
        return {str(r["id"]) for r in iter_jsonl(fh) if r.get("id")}


def done_ids(out: Path, fmt: str) -> set[str]:
    """Ids an earlier run wrote into ``out`` (its journal included), for ``--resume``;
    of an interrupted run that replaces ``out``, only those it wrote itself."""
    if fmt == PARQUET:
        from narrascope.export.parquet import parquet_ids

        journal = out / JOURNAL
        ids = journal_ids(journal_path(journal)) | journal_ids(journal)
        return ids if (out / FRESH).exists() else ids | parquet_ids(out)
    ids = journal_ids(journal_path(out))
    if out.exists() and not fresh_path(out).exists():
        with out.open(encoding="utf-8", errors="replace", newline="") as fh:
            ids |= {str(r["id"]) for r in get_format(fmt).read(fh) if r.get("id")}
    return ids


def is_own_file(path: Path) -> bool:
    """Whether ``path``, in a dataset folder, is one narrascope writes there: a part, the
    journal (with the runner's files beside it), the errors file, the ``_fresh`` marker,
    or a hidden part or rewrite in flight."""
    from narrascope.export.parquet import is_part

    name = path.name
    return (
        is_part(path)
        or name in (ERRORS, FRESH)
        or name.startswith(JOURNAL)
        or (name.startswith(".") and name.endswith(".tmp") and is_part(Path(name[1:-4])))
    )


def check_dataset_folder(out: Path) -> None:
    """Refuse a Parquet ``out`` that is a folder with files but none of narrascope's
    (hidden names such as ``.DS_Store`` aside): writing there would mix the parts with
    data narrascope did not write, and a run replaces its parts; an empty folder, or one
    holding narrascope's files, is fine (other files there are left alone)."""
    if not out.is_dir():
        return
    entries = sorted(e.name for e in out.iterdir() if not e.name.startswith("."))
    if entries and not any(is_own_file(out / name) for name in entries):
        shown = ", ".join(entries[:3]) + (", ..." if len(entries) > 3 else "")
        raise NarrascopeError(
            E_INPUT,
            f"{out} is not empty ({shown}) and is not a Parquet output of narrascope; "
            "its files are left alone: give --out a new or empty folder",
        )


def _publish(folder: Path, journal: Path, *, keep: set[Path] | None) -> list[Path]:
    """Turn a finished journal into new parts; then drop the old parts not in ``keep``
    (None: keep all, a resumed run; narrascope's parts only, never another file of the
    folder) and the journal. A journal record replaces the rows of its id in the other
    parts (the newest analysis wins, each id once), so publishing a journal again after
    a crash is harmless."""
    from narrascope.export.parquet import PartWriter, part_files

    ids: set[str] = set()
    writer = PartWriter(folder)
    try:
        with journal.open("rb") as fh:
            for record in iter_jsonl(fh):
                writer.write(record)
                if record.get("id"):
                    ids.add(str(record["id"]))
    except BaseException:
        writer.abort()
        raise
    written = writer.close()
    for old in part_files(folder):
        if old in written:
            continue
        if keep is not None and old not in keep:
            old.unlink()
        elif ids:
            _drop_rows(old, ids)
    journal.unlink()
    return written


def _drop_rows(part: Path, ids: set[str]) -> None:
    """Remove the rows of ``ids`` from a part file: rewritten under a hidden name and
    renamed onto itself, or removed when nothing is left, so a crash leaves it whole."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    from narrascope.export.parquet import read_part

    wanted = pa.array(sorted(ids), pa.string())
    found = pc.is_in(read_part(part, ["id"])["id"], value_set=wanted)
    hit = pc.fill_null(found, False)  # a row without an id is never superseded
    if not pc.any(hit).as_py():
        return
    kept = read_part(part).filter(pc.invert(hit))
    if kept.num_rows == 0:
        part.unlink()
        return
    tmp = part.with_name(f".{part.name}.tmp")
    pq.write_table(kept, tmp, compression="zstd")
    with tmp.open("rb") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, part)


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
    summaries: bool | None = None,
) -> BatchReport:
    """:func:`run_batch`, with ``fmt="parquet"`` writing a dataset directory ``out``
    (a folder holding other files than narrascope's is refused: :func:`check_dataset_folder`).
    ``summaries``: :func:`run_batch`'s (printed only without ``out``).

    ``total``, the number of inputs, is what the progress bar counts down from; with
    ``resume`` the inputs already in the dataset come off it (:meth:`SkipDone.left`)."""
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
            summaries=summaries,
        )
    if out.exists() and not out.is_dir():
        raise ValueError(f"{out} is a file; a Parquet dataset is a folder")
    check_dataset_folder(out)
    out.mkdir(parents=True, exist_ok=True)
    journal = out / JOURNAL
    errors = out / ERRORS
    fresh = out / FRESH
    errors.unlink(missing_ok=True)  # the runner's own errors file is renamed onto it
    if not resume:
        mark_fresh(fresh)
    skip = SkipDone(set(), store)
    if resume:
        if journal.exists():  # an earlier run ended between its journal and its parts
            _publish(out, journal, keep=set() if fresh.exists() else None)
            fresh.unlink(missing_ok=True)  # the old parts are gone: an ordinary resume now
        skip.done = done_ids(out, PARQUET)
        items, total = skip.left(items, total)  # the bar sees only what is left
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
    # a fresh run, or a resumed one that finishes it, replaces the old parts
    _publish(out, journal, keep=set() if fresh.exists() else None)
    fresh.unlink(missing_ok=True)
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
