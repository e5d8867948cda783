"""``analyze --engine ray``: the same pipeline on a Ray cluster, the same records out.

How a run goes, and why:

* The driver reads the inputs with narrascope's own ingest (:func:`read_inputs`): ids,
  threads, repeated-id errors and ``--mentions`` then work exactly as on one machine
  (reading is thousands of documents a second, far from the bottleneck).
* It drops what ``--resume`` finds done and ids repeated in this run (reported as the
  local engine reports them), so the cluster never analyses a document it would discard.
* The rest goes, in *waves* of ``wave`` documents, to Ray Data: a dataset whose rows are
  batches of ``batch_size`` pickled documents (the local engine's very batches, so the
  models see the same inputs), ``map_batches`` with a callable class on an actor pool of
  ``workers`` actors: each actor builds the pipeline once (``factory()``) and keeps it
  for the whole wave. A document on which a stage raises becomes an error row (the batch
  is re-run one document at a time, as the local engine does), never a failed job.
* Results come back in input order (``preserve_order``) and go through the local
  engine's writer (:func:`~narrascope.engine.outputs.run_to_output`): journal, resume,
  errors file, ``--db``, every ``--format`` and Parquet, so records are identical to
  ``--engine local``'s, byte for byte in the same order.

Without ``address`` a local Ray is started with ``workers`` CPUs and stopped afterwards;
``address="auto"``, ``"HOST:6379"`` or ``"ray://HOST:10001"`` (Ray Client, needs
``ray[client]``) joins a running cluster, whose nodes need narrascope installed
(``pip install 'narrascope[scale]'``). docs/scale.md has the recipe and the numbers.
"""

from __future__ import annotations

import contextlib
import logging
import os
import pickle
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, Literal

from narrascope.doc import Document
from narrascope.engine.outputs import SkipDone, done_ids, run_to_output
from narrascope.errors import InputError, ModelError, NarrascopeError
from narrascope.ingest.formats import repeated_id
from narrascope.runner import BatchReport, SupportsPipe
from narrascope.store import Store

logger = logging.getLogger(__name__)

Item = Document | InputError
PipelineFactory = Callable[[], SupportsPipe]
WAVE = 20_000  # documents per Ray dataset: bounds the driver's memory; models load per wave


class Analyser:
    """The callable class of ``map_batches``: one per actor, the pipeline built once.

    A row holds one batch of pickled documents; it comes back with the pickled results
    (a Document or an InputError per document, in order). A narrascope error that is not
    about one document (``ModelError``: a model that cannot load) comes back as the
    row's ``fatal`` (code, message) and the driver stops the job with it, as the local
    engine stops: raised here, Ray would retry the actor and lose the error's type.
    """

    def __init__(self, factory: PipelineFactory) -> None:
        started = time.perf_counter()
        self.fatal: tuple[str, str] | None = None
        try:
            self.pipeline = factory()
        except NarrascopeError as exc:
            self.fatal = _fields(exc)
        self.load_s = time.perf_counter() - started

    def __call__(self, batch: dict[str, Any]) -> dict[str, Any]:
        import numpy as np

        from narrascope.runner import _analyse  # the local engine's batch, then one by one

        started = time.perf_counter()
        out = []
        fatal = self.fatal
        for blob in batch["docs"] if fatal is None else []:
            docs: list[Document] = pickle.loads(blob)
            results: list[Document | tuple[str, str, str]] = []
            try:
                analysed = _analyse(self.pipeline, docs)
            except NarrascopeError as exc:
                fatal = _fields(exc)
                break
            for result in analysed:
                if isinstance(result, Document):
                    result.tensor = None  # vectors are never written; do not ship them
                    results.append(result)
                else:  # an exception with its own __init__ does not unpickle: send fields
                    results.append((result.source, result.reason, result.code))
            out.append(pickle.dumps(results, protocol=pickle.HIGHEST_PROTOCOL))
        if fatal is not None:
            out = [pickle.dumps(fatal)] * len(batch["docs"])
        n = len(out)
        peak_mb = _peak_rss_mb()
        return {
            "seq": batch["seq"],
            "results": np.array(out, dtype=object),
            # what the benchmark reads: models loaded once per worker, memory per worker
            "pid": np.full(n, os.getpid()),
            "load_s": np.full(n, self.load_s),
            "busy_s": np.full(n, (time.perf_counter() - started) / max(n, 1)),
            "peak_rss_mb": np.full(n, peak_mb),
            "fatal": np.full(n, fatal is not None),
        }


def _fields(exc: NarrascopeError) -> tuple[str, str]:
    """(code, message) of a narrascope error: what crosses to the driver."""
    return exc.code, str(exc).removeprefix(f"[{exc.code}] ")


def _peak_rss_mb() -> float:
    """This process's peak resident memory in MB (0 where ``resource`` is missing)."""
    try:
        import resource
    except ImportError:  # Windows
        return 0.0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024  # bytes / KiB


class Identity:
    """The driver's 'pipeline': documents arrive analysed from the cluster.

    ``copies_needed = False`` tells the runner that a failing batch cannot have left
    half-annotated documents, so it need not keep pristine copies (a deep copy of every
    analysed document: three quarters of the driver's time, measured)."""

    copies_needed = False

    def pipe(self, docs: Iterable[Document], *, batch_size: int = 16) -> Iterator[Document]:
        return iter(docs)


def first_of_each_id(items: Iterable[Item]) -> Iterator[Item]:
    """Replace a document repeating an id of this run by the runner's error for it, so
    it is reported exactly as the local engine reports it, without being analysed."""
    seen: dict[str, str] = {}
    for position, item in enumerate(items, 1):
        if isinstance(item, Document) and item.id:
            if item.id in seen:
                path = item.meta.get("path")
                yield repeated_id(item.id, str(path or item.id), seen[item.id])
                continue
            seen[item.id] = str(item.meta.get("path") or f"input {position} of this run")
        yield item


@contextlib.contextmanager
def ray_session(address: str | None, workers: int | None) -> Iterator[int]:
    """Connect to ``address`` or start a local Ray of ``workers`` CPUs (stopped on exit);
    yields how many actors to run (``workers``, else the cluster's CPUs)."""
    import ray

    started = not ray.is_initialized()
    if started:
        kwargs: dict[str, Any] = {"include_dashboard": False, "logging_level": logging.WARNING}
        if address is None:
            kwargs["num_cpus"] = workers or os.cpu_count() or 1
        else:
            kwargs["address"] = address
        ray.init(**kwargs)
    try:
        cpus = int(ray.cluster_resources().get("CPU", 1))
        yield max(1, workers or cpus)
    finally:
        if started:
            ray.shutdown()


def _configure_data(progress: bool) -> None:
    import ray.data

    ctx = ray.data.DataContext.get_current()
    ctx.execution_options.preserve_order = True  # records in input order, as locally
    ctx.enable_progress_bars = progress
    ctx.print_on_execution_start = False
    if not logger.isEnabledFor(logging.INFO):  # -v shows Ray Data's plan and timings
        logging.getLogger("ray.data").setLevel(logging.WARNING)


class WorkerStats(dict):
    """Per worker process (pid): model load seconds, busy seconds, batches, peak RSS."""

    def add(self, row: dict[str, Any]) -> None:
        entry = self.setdefault(
            int(row["pid"]), {"load_s": 0.0, "busy_s": 0.0, "batches": 0, "peak_rss_mb": 0.0}
        )
        entry["load_s"] = float(row["load_s"])
        entry["busy_s"] += float(row["busy_s"])
        entry["batches"] += 1
        entry["peak_rss_mb"] = max(entry["peak_rss_mb"], float(row["peak_rss_mb"]))


def _wave(
    buffer: list[Item],
    factory: PipelineFactory,
    *,
    workers: int,
    batch_size: int,
    stats: WorkerStats | None = None,
) -> Iterator[Item]:
    """Analyse the documents of ``buffer`` on the cluster; yield every item in order."""
    import ray.data

    docs = [item for item in buffer if isinstance(item, Document)]
    if not docs:
        yield from buffer
        return
    rows = [
        {"seq": n, "docs": pickle.dumps(docs[i : i + batch_size], pickle.HIGHEST_PROTOCOL)}
        for n, i in enumerate(range(0, len(docs), batch_size))
    ]
    dataset = ray.data.from_items(rows, override_num_blocks=len(rows)).map_batches(
        Analyser,
        fn_constructor_args=(factory,),
        batch_size=1,
        compute=ray.data.ActorPoolStrategy(size=min(workers, len(rows))),
        num_cpus=1,
    )

    def rows() -> Iterator[dict[str, Any]]:
        for row in dataset.iter_rows():
            if row["fatal"]:  # a model that cannot load: stop, as the local engine does
                raise ModelError(*pickle.loads(row["results"]))
            if stats is not None:
                stats.add(row)
            yield row

    results: Iterator[Item] = (
        result if isinstance(result, Document) else InputError(*result)
        for row in rows()
        for result in pickle.loads(row["results"])  # one per document, in order
    )
    for item in buffer:
        if isinstance(item, Document):
            result = next(results, None)
            if result is None:
                raise RuntimeError("the cluster returned fewer results than documents")
            yield result
        else:
            yield item


def analysed_on_ray(
    items: Iterable[Item],
    factory: PipelineFactory,
    *,
    workers: int,
    batch_size: int = 16,
    wave: int = WAVE,
    stats: WorkerStats | None = None,
) -> Iterator[Item]:
    """``items`` analysed on the current Ray cluster, errors passed through, in order."""
    if wave < 1:
        raise ValueError(f"wave must be at least 1, got {wave}")
    buffer: list[Item] = []
    docs = 0
    for item in items:
        buffer.append(item)
        if isinstance(item, Document):
            docs += 1
            if docs >= wave:
                yield from _wave(
                    buffer, factory, workers=workers, batch_size=batch_size, stats=stats
                )
                buffer, docs = [], 0
    if buffer:
        yield from _wave(buffer, factory, workers=workers, batch_size=batch_size, stats=stats)


def run_ray(
    items: Iterable[Item],
    factory: PipelineFactory,
    *,
    out: Path | None,
    fmt: str,
    resume: bool = False,
    batch_size: int = 16,
    progress: bool | Literal["always"] = True,
    total: int | None = None,
    store: Store | None = None,
    on_error: Callable[[InputError], None] | None = None,
    address: str | None = None,
    workers: int | None = None,
    wave: int = WAVE,
    stats: WorkerStats | None = None,
) -> BatchReport:
    """Analyse ``items`` on Ray into ``out`` (any format, or ``"parquet"``); the same
    report, records and files as the local engine's :func:`run_to_output`."""
    if resume and out is None and store is None:
        raise ValueError("resume needs an output (out=...) or a store")
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    skip = SkipDone(set(), store)
    if resume and out is not None:
        skip.done = done_ids(out, fmt)
    elif resume:  # a store only: the runner skips what the store holds with the same text
        skip.done = _AllIds()
    pending: Iterable[Item] = first_of_each_id(items)
    if resume:
        pending = skip(pending)
        if total is not None and not isinstance(skip.done, _AllIds):
            total = max(total - len(skip.done), 0)  # the bar sees only what is left
    with ray_session(address, workers) as actors:
        _configure_data(progress is not False and sys.stderr.isatty())
        analysed = analysed_on_ray(
            pending, factory, workers=actors, batch_size=batch_size, wave=wave, stats=stats
        )
        report = run_to_output(
            analysed,
            Identity(),
            out=out,
            fmt=fmt,
            resume=resume,
            batch_size=batch_size,
            progress=progress,
            total=total,
            store=store,
            on_error=on_error,
        )
    report.skipped += skip.skipped
    return report


class _AllIds(set):
    """A ``done`` set holding every id: with a store alone, the store decides."""

    def __contains__(self, item: object) -> bool:
        return True
