"""``analyze --engine ray``: the same pipeline on a Ray cluster, the same records out.

How a run goes, and why:

* The driver reads the inputs with narrascope's own ingest (:func:`read_inputs`): ids,
  threads, repeated-id errors and ``--mentions`` then work exactly as on one machine
  (reading is thousands of documents a second, far from the bottleneck).
* It drops what ``--resume`` finds done and ids repeated in this run (reported as the
  local engine reports them), so the cluster never analyses a document it would discard.
* ``workers`` Ray actors (:class:`Analyser`, ``cpus_per_worker`` CPUs each) build the
  pipeline once and keep it for the whole run. The driver sends them the local
  engine's very batches of ``batch_size`` documents, at most :data:`QUEUED` queued per
  actor and :data:`AHEAD` per actor read ahead in all, so its memory stays bounded
  whatever the input's size. A document on which a stage raises becomes an error row
  (the batch is re-run one document at a time, as the local engine does).
* A worker that dies (killed, out of memory, a crashing library) is restarted by Ray and
  its batch retried; a batch that kills its worker on every try is split, and the one
  document that does becomes an error row (:func:`_isolated`): the job never fails on it.
* Results come back in input order and go through the local engine's writer
  (:func:`~narrascope.engine.outputs.run_to_output`): journal, resume, errors file,
  ``--db``, every ``--format`` and Parquet, so records are identical to
  ``--engine local``'s, byte for byte in the same order.

Plain actors, not Ray Data's ``map_batches``: the pipeline must load once per worker for
the whole run (Ray Data builds an actor pool per dataset), and results must stream back
in order with per-document failures; an actor pool does both with less driver work.

Without ``address`` a local Ray is started with ``workers x cpus_per_worker`` CPUs (without
``workers``: the cores this process may run on, :func:`~narrascope.models.cpus.available_cpus`,
so a ``taskset`` or Slurm allocation is respected and ``cpus_per_worker`` means fewer
actors) and stopped afterwards; ``address="auto"``, ``"HOST:6379"`` or
``"ray://HOST:10001"`` (Ray Client, needs ``ray[client]``) joins a running cluster, whose
nodes need narrascope installed (``pip install 'narrascope[scale]'``). A ``HOST:PORT``
with nothing listening is a ``ConnectionError`` within :data:`CONNECT_TIMEOUT` seconds
(:func:`check_reachable`): ``ray.init`` would retry it for ever. docs/scale.md has the
recipe and the numbers.
"""

from __future__ import annotations

import contextlib
import logging
import os
import pickle
import socket
import sys
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from narrascope.doc import Document
from narrascope.engine.outputs import (
    PARQUET,
    SkipDone,
    check_dataset_folder,
    done_ids,
    run_to_output,
)
from narrascope.errors import (
    E_MODEL_MISSING,
    E_STAGE_FAILED,
    InputError,
    ModelError,
    NarrascopeError,
    StoreError,
)
from narrascope.ingest.formats import repeated_id
from narrascope.runner import BatchReport, SupportsPipe
from narrascope.store import Store

logger = logging.getLogger(__name__)

Item = Document | InputError
PipelineFactory = Callable[[], SupportsPipe]
QUEUED = 2  # batches queued on one actor: one running, one ready, so it never waits
AHEAD = 4  # batches per actor the driver holds (sent or done, not yet written)
TRIES = 3  # tries of a batch on workers that die (Ray restarts them in between)
RESTARTS = 20  # restarts of one actor before it counts as dead
CONNECT_TIMEOUT = 10.0  # seconds to reach a cluster's HOST:PORT before giving up


class Analyser:
    """One Ray actor: the pipeline built once (in its own process), batches in, results out.

    A batch arrives pickled and goes back pickled: a Document or, for a document that
    failed, its error's fields, in order. A narrascope error that is not about one
    document (``ModelError``: a model that cannot load) comes back as the batch's
    ``fatal`` (code, message) and the driver stops the job with it, as the local engine
    stops: raised here, Ray would restart the actor and lose the error's type.
    """

    def __init__(
        self, factory: PipelineFactory, cpus: int | None = None, save_to: str | None = None
    ) -> None:
        from narrascope.models.cpus import limit_cpus

        started = time.perf_counter()
        limit_cpus(cpus)  # thread pools sized by the actor's CPUs, not the node's cores
        self.fatal: tuple[str, str, str] | None = None
        self.store: Store | None = None
        try:
            if save_to is not None:  # each worker writes its own batches (PostgreSQL)
                from narrascope.store import open_store

                self.store = open_store(save_to)
            self.pipeline = factory()
        except NarrascopeError as exc:
            self.fatal = _fields(exc)
        except Exception as exc:  # an import or a library failing: the same for every worker
            message = f"the pipeline cannot be built on a worker: {exc!r}"
            self.fatal = ("ModelError", E_MODEL_MISSING, message)
        self.load_s = time.perf_counter() - started

    def analyse(self, blob: bytes) -> bytes:
        from narrascope.runner import _analyse  # the local engine's batch, then one by one
        from narrascope.store.base import DocumentsNotSaved

        started = time.perf_counter()
        fatal = self.fatal
        results: list[Document | tuple[str, str, str]] = []
        unsaved: list[tuple[str, str]] = []
        if fatal is None:
            try:
                analysed = _analyse(self.pipeline, pickle.loads(blob))
                if self.store is not None:
                    try:
                        self.store.save(r for r in analysed if isinstance(r, Document))
                    except DocumentsNotSaved as exc:  # the rest of the batch is stored
                        unsaved = exc.failures
            except NarrascopeError as exc:  # a model, or the database, failing for all
                fatal = _fields(exc)
                analysed = []
            for result in analysed:
                if isinstance(result, Document):
                    result.tensor = None  # vectors are never written; do not ship them
                    results.append(result)
                else:  # an exception with its own __init__ does not unpickle: send fields
                    results.append((result.source, result.reason, result.code))
        stats = {
            # what the benchmark reads: models loaded once per worker, memory per worker
            "pid": os.getpid(),
            "load_s": self.load_s,
            "busy_s": time.perf_counter() - started,
            "peak_rss_mb": _peak_rss_mb(),
        }
        reply = (results, unsaved, fatal, stats)
        return pickle.dumps(reply, protocol=pickle.HIGHEST_PROTOCOL)


def _fields(exc: NarrascopeError) -> tuple[str, str, str]:
    """(kind, code, message) of a narrascope error: what crosses to the driver."""
    kind = "StoreError" if isinstance(exc, StoreError) else "ModelError"
    return kind, exc.code, str(exc).removeprefix(f"[{exc.code}] ")


def _raise(fatal: tuple[str, str, str]) -> None:
    kind, code, message = fatal
    raise (StoreError if kind == "StoreError" else ModelError)(code, message)


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
    analysed document: three quarters of the driver's time, measured).

    ``stage_names``: the stages the workers run (None: not known). The writers read them
    (:func:`~narrascope.runner.checks_debunks`): without them a Ray run's report could not
    say "Not checked against known debunks" where a local run says it."""

    copies_needed = False

    def __init__(self, stage_names: list[str] | None = None) -> None:
        self.stage_names = None if stage_names is None else list(stage_names)

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


def check_reachable(address: str, timeout: float = CONNECT_TIMEOUT) -> None:
    """Raise ``ConnectionError`` when nothing answers at a ``HOST:PORT`` or
    ``ray://HOST:PORT`` address (``auto`` and ``local`` are Ray's to resolve).

    Why: ``ray.init`` on a port where no cluster listens retries for ever, ignoring
    Ctrl-C and SIGTERM, so a typo in a batch job held its slot until ``kill -9``.
    """
    target = address.removeprefix("ray://")
    host, colon, port = target.rpartition(":")
    if not colon or not port.isdigit() or not host:
        return  # not HOST:PORT: Ray says what is wrong with it
    host = host.removeprefix("[").removesuffix("]")  # [::1]:6379
    try:
        with socket.create_connection((host, int(port)), timeout=timeout):
            pass
    except OSError as exc:
        why = exc.strerror or str(exc) or type(exc).__name__
        raise ConnectionError(
            f"cannot reach {address} ({why}); is the cluster started (ray start --head) "
            "and the address its head's HOST:PORT?"
        ) from exc


def local_cpus(workers: int | None, cpus_per_worker: int) -> int:
    """The CPUs of a local Ray: ``workers x cpus_per_worker``; without ``workers``, the
    cores this process may run on (its affinity, as the models count them), and at least
    one worker's worth so that an actor can start."""
    from narrascope.models.cpus import available_cpus

    if workers:
        return workers * cpus_per_worker
    return max(available_cpus(), cpus_per_worker)


@contextlib.contextmanager
def ray_session(
    address: str | None, workers: int | None, cpus_per_worker: int = 1
) -> Iterator[int]:
    """Connect to ``address`` or start a local Ray of :func:`local_cpus` CPUs (stopped on
    exit); yields how many actors to run (``workers``, else as many actors of
    ``cpus_per_worker`` as the cluster's CPUs hold)."""
    import ray

    started = not ray.is_initialized()
    if started:
        kwargs: dict[str, Any] = {"include_dashboard": False, "logging_level": logging.WARNING}
        if address is None:  # a new local Ray, even where another one runs on this machine
            kwargs["address"] = "local"
            kwargs["num_cpus"] = local_cpus(workers, cpus_per_worker)
        else:
            check_reachable(address)
            kwargs["address"] = address
        ray.init(**kwargs)
    try:
        cpus = int(ray.cluster_resources().get("CPU", 1))
        yield max(1, workers or cpus // cpus_per_worker)
    finally:
        if started:
            ray.shutdown()


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


@dataclass
class _Sent:
    """A batch on its way: its documents (kept to split it if its worker dies), the
    actor it went to, and the reference to its result."""

    docs: list[Document]
    actor: int
    ref: Any


@dataclass
class ActorPool:
    """``workers`` :class:`Analyser` actors and the batches queued on each.

    A batch goes to the actor with the fewest unfinished batches, never more than
    :data:`QUEUED` at once; a dead actor (out of restarts) is left out, and with none left
    the job stops (:class:`ModelError`)."""

    factory: PipelineFactory
    workers: int
    cpus_per_worker: int = 1
    stats: WorkerStats | None = None
    save_to: str | None = None  # a database URL: the workers store what they analyse
    unsaved: dict[str, str] = field(default_factory=dict)  # id -> why the database refused it
    actors: list[Any] = field(default_factory=list)
    unfinished: list[list[Any]] = field(default_factory=list)
    dead: set[int] = field(default_factory=set)

    def __post_init__(self) -> None:
        import ray

        remote = ray.remote(
            num_cpus=self.cpus_per_worker, max_restarts=RESTARTS, max_task_retries=TRIES - 1
        )(Analyser)
        self.actors = [
            remote.remote(self.factory, self.cpus_per_worker, self.save_to)
            for _ in range(self.workers)
        ]
        self.unfinished = [[] for _ in self.actors]

    def send(self, docs: list[Document]) -> _Sent:
        import ray

        while True:
            self._forget_finished()
            live = [i for i in range(len(self.actors)) if i not in self.dead]
            if not live:
                raise ModelError(E_MODEL_MISSING, "every Ray worker died; see the Ray logs")
            actor = min(live, key=lambda i: len(self.unfinished[i]))
            if len(self.unfinished[actor]) < QUEUED:
                break
            waiting = [ref for i in live for ref in self.unfinished[i]]
            ray.wait(waiting, num_returns=1)
        blob = pickle.dumps(docs, protocol=pickle.HIGHEST_PROTOCOL)
        ref = self.actors[actor].analyse.remote(blob)
        self.unfinished[actor].append(ref)
        return _Sent(docs, actor, ref)

    def _forget_finished(self) -> None:
        import ray

        waiting = [ref for refs in self.unfinished for ref in refs]
        if not waiting:
            return
        done, _ = ray.wait(waiting, num_returns=len(waiting), timeout=0, fetch_local=False)
        finished = set(done)
        self.unfinished = [[r for r in refs if r not in finished] for refs in self.unfinished]

    def ready(self, sent: _Sent) -> bool:
        import ray

        done, _ = ray.wait([sent.ref], timeout=0, fetch_local=False)
        return bool(done)

    def results(self, sent: _Sent) -> list[Item]:
        """The batch's results, in order (waits for them); a batch whose worker died on
        every try is split until the document that kills it is an error row."""
        import ray

        try:
            blob = ray.get(sent.ref)
        except ray.exceptions.RayError as exc:
            if isinstance(exc, ray.exceptions.ActorDiedError):
                self.dead.add(sent.actor)
            return self._isolated(sent.docs, exc)
        results, unsaved, fatal, worker = pickle.loads(blob)
        if fatal is not None:  # a model that cannot load: stop, as the local engine does
            _raise(fatal)
        self.unsaved.update(unsaved)
        if self.stats is not None:
            self.stats.add(worker)
        return [r if isinstance(r, Document) else InputError(*r) for r in results]

    def _isolated(self, docs: list[Document], exc: BaseException) -> list[Item]:
        if len(docs) == 1:
            (doc,) = docs
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            logger.warning("document %s failed on Ray %d times: %s", doc.id, TRIES, reason)
            return [
                InputError(
                    doc.id or "?",
                    f"analysis failed: its Ray worker died on every try ({TRIES}): "
                    f"{type(exc).__name__}: {reason}",
                    E_STAGE_FAILED,
                )
            ]
        logger.info("a Ray worker died on a batch %d times; retrying one by one", TRIES)
        out: list[Item] = []
        for doc in docs:
            out.extend(self.results(self.send([doc])))
        return out


def analysed_on_ray(
    items: Iterable[Item], pool: ActorPool, *, batch_size: int = 16
) -> Iterator[Item]:
    """``items`` analysed by ``pool``'s actors, errors passed through, in input order.

    The local engine's batches (``batch_size`` documents, errors not counted) go out as
    they fill; results are yielded as soon as the oldest batch is back, and the driver
    stops reading while it holds :data:`AHEAD` batches per actor."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    slots: deque[Item | _Sent] = deque()  # in input order: errors, and batches sent
    held = 0  # batches in slots
    limit = AHEAD * pool.workers

    def ready() -> Iterator[Item]:
        nonlocal held
        while slots:
            head = slots[0]
            if isinstance(head, _Sent):
                if held <= limit and not pool.ready(head):
                    return
                held -= 1
                slots.popleft()
                yield from pool.results(head)
            else:
                yield slots.popleft()

    batch: list[Document] = []
    for item in items:
        if isinstance(item, Document):
            batch.append(item)
            if len(batch) < batch_size:
                continue
            slots.append(pool.send(batch))
            batch, held = [], held + 1
        else:
            slots.append(item)
        yield from ready()
    if batch:
        slots.append(pool.send(batch))
        held += 1
    limit = 0  # the end: wait for everything
    yield from ready()


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
    cpus_per_worker: int = 1,
    stats: WorkerStats | None = None,
    stage_names: list[str] | None = None,
    summaries: bool | None = None,
) -> BatchReport:
    """Analyse ``items`` on Ray into ``out`` (any format, or ``"parquet"``); the same
    report, records and files as the local engine's :func:`run_to_output`.

    ``stage_names``: the stages ``factory``'s pipeline has (the driver builds none), so
    that the report says what a local run's says (whether debunks were checked); without
    them it cannot say. ``summaries``: as for :func:`~narrascope.runner.run_batch`
    (``analyze --db`` without ``--out`` prints them, as locally)."""
    if resume and out is None and store is None:
        raise ValueError("resume needs an output (out=...) or a store")
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    if cpus_per_worker < 1:
        raise ValueError(f"cpus_per_worker must be at least 1, got {cpus_per_worker}")
    if fmt == PARQUET and out is not None:
        check_dataset_folder(out)  # before the cluster starts, not after
    skip = SkipDone(set(), store)
    if resume and out is not None:
        skip.done = done_ids(out, fmt)
    elif resume:  # a store only: the runner skips what the store holds with the same text
        skip.done = _AllIds()
    pending: Iterable[Item] = first_of_each_id(items)
    if resume:
        # the bar sees only what is left; run_to_output finds nothing more to skip
        pending, total = skip.left(pending, total)
    save_to = workers_save_to(store)
    with ray_session(address, workers, cpus_per_worker) as actors:
        pool = ActorPool(factory, actors, cpus_per_worker, stats, save_to)
        report = run_to_output(
            analysed_on_ray(pending, pool, batch_size=batch_size),
            Identity(stage_names),
            out=out,
            fmt=fmt,
            resume=resume,
            batch_size=batch_size,
            progress=progress,
            total=total,
            store=store if save_to is None or store is None else SavedByWorkers(store, pool),
            on_error=on_error,
            summaries=summaries,
        )
    report.skipped += skip.skipped
    return report


def workers_save_to(store: Store | None) -> str | None:
    """The URL the workers store their batches in: a PostgreSQL database, made for many
    writers (each worker's batch is one transaction; rows are locked in id order and a
    batch that loses a deadlock is retried), so the driver does not write every document
    itself. A SQLite file has one writer at a time: its driver writes, as locally."""
    from narrascope.store.postgres import PostgresStore

    return store.url if isinstance(store, PostgresStore) else None


class SavedByWorkers:
    """The driver's store when the workers write: reads (``--resume``'s ``contains``,
    counts) go to the database; ``save`` stores nothing more and reports the documents
    a worker's database refused, as the local engine's ``save`` would."""

    def __init__(self, store: Store, pool: ActorPool) -> None:
        self._store, self._pool = store, pool

    def save(self, docs: Iterable[Document]) -> int:
        from narrascope.store.base import DocumentsNotSaved

        docs = list(docs)
        failures = [
            (d.id, self._pool.unsaved.pop(d.id)) for d in docs if d.id in self._pool.unsaved
        ]
        if failures:
            raise DocumentsNotSaved(failures, saved=len(docs) - len(failures))
        return len(docs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


class _AllIds(set):
    """A ``done`` set holding every id: with a store alone, the store decides."""

    def __contains__(self, item: object) -> bool:
        return True
