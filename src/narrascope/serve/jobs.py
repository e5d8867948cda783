"""Where the server's analysis runs: a bounded pool of worker threads, and background jobs.

Why a pool with two lanes: one long text used to hold the server's only pipeline for
minutes while every other request queued behind it. The models are loaded once and shared
read-only by the workers (stages keep no per-call state; what a stage computes travels on
the document), and a text longer than :data:`LONG_CHARS` or a job's batch may use all
workers but one, so a short text always finds a worker free. On a 2-core machine two
workers are the sweet spot: a third only slices the same cores thinner.

Why cooperative cancellation: Python threads cannot be killed. Every piece of work carries
a ``should_stop`` that the pipeline asks between stages and between batches; a client
that leaves, a request past its time limit, a cancelled job and a stopping server all
answer it with "stop".

Jobs go through :func:`narrascope.runner.run_batch`, like ``analyze --db``: each small
batch is saved as soon as it is analysed and a document that fails costs only itself.
Each job has a folder (``<jobs dir>/<id>/``) with its record (``job.json``) and its inputs,
so after a restart the job list still shows it and an unfinished job can be resumed:
documents already stored (same id and content hash) are skipped.
"""

from __future__ import annotations

import contextlib
import copy
import json
import logging
import os
import queue
import shutil
import tempfile
import threading
import time
import uuid
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

from narrascope.doc import Document
from narrascope.errors import E_TOO_LARGE, InputError, StoreError
from narrascope.ingest.formats import FirstSeen, attach_split
from narrascope.pipeline import Pipeline
from narrascope.pipeline.pipeline import Cancelled, Progress
from narrascope.runner import run_batch
from narrascope.store import DocumentsNotSaved, Store, open_store

logger = logging.getLogger(__name__)

MAX_ERRORS = 1000  # per job; ``failed`` still counts every failure
MAX_JOBS = 500  # job records kept, oldest finished ones dropped first
LONG_CHARS = 50_000  # longer texts (seconds of work or more) go to the long lane
DEFAULT_WORKERS = 2
MAX_WAITING_SHORT = 64  # analyses waiting for a worker before the server answers 503
MAX_WAITING_LONG = 8
STOP_GRACE_S = 2.0  # how long a stopping server lets the work in flight finish its stage
SAVE_EVERY_S = 1.0  # a running job's record is written at most this often
JOB_FILE = "job.json"
# Jobs waiting or running, and the bytes of their stored inputs, past which a new job is
# refused (503): each queued job keeps its whole input on disk until it runs.
MAX_QUEUED_JOBS = 20
MAX_QUEUED_BYTES = 1_000_000_000
# Failed or cancelled jobs whose inputs are kept so that they can be resumed: the newest
# ones, within this many bytes; older ones keep their record and errors only.
MAX_KEPT_INPUTS = 10
MAX_KEPT_BYTES = 1_000_000_000
# What clients are told when the database fails; the details go to the server log only.
DATABASE_ERROR = "database error; see the server log"


def _is_database_error(exc: BaseException) -> bool:
    """Whether ``exc`` comes from the database (its message may name the server, a user
    or a password), so that clients get :data:`DATABASE_ERROR` instead of it."""
    module = type(exc).__module__.split(".", 1)[0]
    return isinstance(exc, StoreError) or module in ("psycopg", "sqlite3")


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class QueueFull(Exception):
    """Too many jobs, or too many bytes of their inputs, wait already; try again later."""


class Busy(Exception):
    """Too many analyses are waiting already; the client should try again shortly."""


@dataclass(eq=False)
class Task:
    """One piece of work for the pool: documents, where it runs, and how to stop it."""

    docs: list[Document]
    long: bool
    progress: Progress | None = None
    also_stop: threading.Event | None = None  # e.g. the job's own cancel switch
    cancel: threading.Event = field(default_factory=threading.Event)
    future: Future[list[Document]] = field(default_factory=Future)
    stopping: threading.Event = field(default_factory=threading.Event)  # the pool's

    def should_stop(self) -> bool:
        return (
            self.cancel.is_set()
            or self.stopping.is_set()
            or (self.also_stop is not None and self.also_stop.is_set())
        )


class AnalysisPool:
    """``workers`` threads over one pipeline; long work never takes the last free worker.

    Short texts are served first. Waiting work is bounded (:class:`Busy` beyond it), so
    a flood of requests cannot pile up memory.
    """

    def __init__(
        self,
        pipeline: Pipeline | None = None,
        loader: Callable[[], Pipeline] | None = None,
        *,
        workers: int = DEFAULT_WORKERS,
        long_chars: int = LONG_CHARS,
    ) -> None:
        if workers < 1:
            raise ValueError(f"workers must be at least 1, got {workers}")
        self._pipeline = pipeline
        self._loader = loader
        self._load_lock = threading.Lock()
        self.workers = workers
        self.long_chars = long_chars
        self._cond = threading.Condition()
        self._short: deque[Task] = deque()
        self._long: deque[Task] = deque()
        self._running_long = 0
        self._running: set[Task] = set()
        self._threads: list[threading.Thread] = []
        self.stopping = threading.Event()

    def pipeline(self) -> Pipeline:
        """The shared pipeline, loaded on first use (once, whichever thread asks first)."""
        with self._load_lock:
            if self._pipeline is None:
                if self._loader is None:
                    import narrascope

                    self._loader = narrascope.load
                self._pipeline = self._loader()
            return self._pipeline

    def warm_up(self) -> None:
        """Load the models now (at start-up) rather than on the first request."""
        self.pipeline()

    def is_long(self, docs: Iterable[Document]) -> bool:
        return sum(len(d.text) for d in docs) > self.long_chars

    def start(self) -> None:
        with self._cond:
            if self._threads:
                return
            self.stopping.clear()
            self._threads = [
                threading.Thread(target=self._work, name=f"narrascope-worker-{n}", daemon=True)
                for n in range(self.workers)
            ]
        for thread in self._threads:
            thread.start()

    def submit(
        self,
        docs: list[Document],
        *,
        long: bool | None = None,
        progress: Progress | None = None,
        also_stop: threading.Event | None = None,
    ) -> Task:
        """Queue ``docs`` for analysis; ``long=None`` decides by their length."""
        long = self.is_long(docs) if long is None else long
        task = Task(docs, long, progress, also_stop, stopping=self.stopping)
        with self._cond:
            lane, limit = (
                (self._long, MAX_WAITING_LONG) if long else (self._short, MAX_WAITING_SHORT)
            )
            if self.stopping.is_set():
                raise Cancelled("the server is stopping")
            if len(lane) >= limit:
                raise Busy(f"{len(lane)} {'long' if long else 'short'} analyses are waiting")
            lane.append(task)
            self._cond.notify_all()
        self.start()
        return task

    def run(
        self,
        docs: list[Document],
        *,
        long: bool | None = None,
        progress: Progress | None = None,
        also_stop: threading.Event | None = None,
    ) -> list[Document]:
        """Analyse ``docs`` in the pool and wait for them (the job thread's call).

        :class:`Busy` is waited out here: a job has nobody to answer 503 to.
        """
        while True:
            try:
                task = self.submit(docs, long=long, progress=progress, also_stop=also_stop)
                break
            except Busy:
                if self.stopping.wait(0.2):
                    raise Cancelled("the server is stopping") from None
        try:
            while True:
                try:
                    return task.future.result(timeout=0.2)
                except TimeoutError:
                    pass
                if self.stopping.is_set():
                    # let the stage in flight end (the pipeline stops before the next)
                    return task.future.result(timeout=STOP_GRACE_S)
        except TimeoutError:
            raise Cancelled("the server is stopping") from None
        finally:
            task.cancel.set()  # a no-op once finished; stops it otherwise

    def stop(self, timeout: float = STOP_GRACE_S) -> None:
        """Stop taking work, cancel what waits, give the work in flight ``timeout`` to end.

        A worker still busy after that is left behind (a daemon thread): the pipeline
        stops it at its next stage, or the process ends first.
        """
        with self._cond:
            self.stopping.set()
            waiting = [*self._short, *self._long]
            self._short.clear()
            self._long.clear()
            self._cond.notify_all()
            threads, self._threads = self._threads, []
        for task in waiting:
            task.future.set_exception(Cancelled("the server is stopping"))
        deadline = time.monotonic() + timeout
        for thread in threads:
            thread.join(max(deadline - time.monotonic(), 0))

    def _next(self) -> Task | None:
        """The next task this worker may run: short ones first, long ones while a
        worker stays free for short texts (with one worker, whenever it is free)."""
        with self._cond:
            while True:
                if self.stopping.is_set():
                    return None
                if self._short:
                    task = self._short.popleft()
                elif self._long and self._running_long < max(self.workers - 1, 1):
                    task = self._long.popleft()
                    self._running_long += 1
                else:
                    self._cond.wait()
                    continue
                self._running.add(task)
                return task

    def _work(self) -> None:
        while (task := self._next()) is not None:
            try:
                if task.should_stop():
                    raise Cancelled("stopped before it started")
                docs = self.pipeline().pipe(
                    task.docs,
                    batch_size=max(len(task.docs), 1),
                    should_stop=task.should_stop,
                    progress=task.progress,
                )
                task.future.set_result(list(docs))
            except (Exception, Cancelled) as exc:  # the waiter decides what it means
                task.future.set_exception(exc)
            finally:
                with self._cond:
                    self._running.discard(task)
                    if task.long:
                        self._running_long -= 1
                    self._cond.notify_all()


def _connection_lost(store: Store) -> bool:
    """Whether the store's connection is broken or closed (psycopg says so; a SQLite
    connection, which has no such state, never is)."""
    conn = getattr(store, "_conn", None)
    return bool(getattr(conn, "broken", False) or getattr(conn, "closed", False))


class StorePool:
    """One store connection per thread: SQLite connections must stay in their thread."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._local = threading.local()
        self._lock = threading.Lock()
        self._opened: list[Store] = []

    def get(self) -> Store:
        """This thread's store; a new connection when its last one was lost (a server
        restart, a network cut), so one failure does not fail every later request."""
        store: Store | None = getattr(self._local, "store", None)
        if store is not None and _connection_lost(store):
            logger.warning("the database connection was lost; connecting again")
            with self._lock:
                self._opened = [s for s in self._opened if s is not store]
            with contextlib.suppress(Exception):
                store.close()
            store = self._local.store = None
        if store is None:
            store = open_store(self.url)
            self._local.store = store
            with self._lock:
                self._opened.append(store)
        return store

    def close_all(self) -> None:
        with self._lock:
            opened, self._opened = self._opened, []
        for store in opened:
            with contextlib.suppress(Exception):  # another thread's SQLite connection
                store.close()


@dataclass(eq=False)
class Job:
    """A job's state, as ``/api/jobs`` shows it and ``job.json`` keeps it."""

    id: str
    kind: str  # "documents" (documents.jsonl) or "upload" (the files in files/)
    total: int
    inputs: list[str] = field(default_factory=list)  # upload: file names, in order
    created: str = field(default_factory=now)
    order: int = field(default_factory=time.time_ns)  # ``created`` is in whole seconds
    state: str = "queued"
    done: int = 0
    failed: int = 0
    errors: list[dict[str, str]] = field(default_factory=list)
    finished: str | None = None
    document_ids: list[str] = field(default_factory=list)
    resumable: bool = False
    resume: bool = False  # this run skips documents already stored
    stage: str | None = None  # the stage the batch in flight is in
    batch: int = 0  # documents in flight
    stage_fraction: float = 0.0  # of the batch in flight
    run: int = 0  # which run of it the queue holds: a resumed job's older entry is stale
    cancel: threading.Event = field(default_factory=threading.Event, repr=False)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _listed: set[str] | None = field(default=None, repr=False)  # document_ids, as a set

    RECORD: ClassVar[tuple[str, ...]] = (
        *("id", "kind", "total", "inputs", "created", "order", "state", "done", "failed"),
        *("errors", "finished", "document_ids", "resumable"),
    )

    def add_error(self, error: InputError) -> None:
        with self.lock:
            self.failed += 1
            if len(self.errors) < MAX_ERRORS:
                self.errors.append({"source": error.source, "reason": error.reason})

    def add_stored(self, ids: Iterable[str]) -> bool:
        """Count documents stored for the job, each once: a resumed run meets again those
        an earlier run stored after its record was last written (a crash). Whether any
        was new."""
        with self.lock:
            if self._listed is None:
                self._listed = set(self.document_ids)
            new = [doc_id for doc_id in dict.fromkeys(ids) if doc_id not in self._listed]
            self._listed.update(new)
            self.document_ids.extend(new)
            self.done += len(new)
            return bool(new)

    def add_job_error(self, reason: str) -> None:
        """What happened to the job as a whole (cancelled, server stopped, model failed):
        listed with the errors under source ``job``, never counted as a failed document."""
        with self.lock:
            self.errors.append({"source": "job", "reason": reason})

    def on_stage(self, stage: str, done: int, total: int) -> None:
        """The pipeline's progress callback: the batch in flight enters ``stage``."""
        with self.lock:
            self.stage = stage
            self.stage_fraction = done / total if total else 0.0

    def info(self) -> dict[str, Any]:
        with self.lock:
            total = max(self.total, self.done + self.failed)
            running = self.state == "running"
            counted = self.done + self.failed + (self.batch * self.stage_fraction if running else 0)
            progress = min(counted / total, 1.0) if total else 0.0
            if self.state == "done":
                progress = 1.0
            return {
                "id": self.id,
                "state": self.state,
                "total": total,
                "done": self.done,
                "failed": self.failed,
                "errors": list(self.errors),
                "created": self.created,
                "finished": self.finished,
                "document_ids": list(self.document_ids),
                "stage": self.stage if running else None,
                "progress": round(progress, 4),
                "resumable": self.resumable,
            }

    def record(self) -> dict[str, Any]:
        with self.lock:
            return {name: copy.copy(getattr(self, name)) for name in self.RECORD}

    @classmethod
    def from_record(cls, data: dict[str, Any]) -> Job:
        return cls(**{k: data[k] for k in cls.RECORD if k in data})


class _JobSink:
    """The store as the runner sees it, counting what each saved batch adds to the job.

    A document the store refuses is left out of the batch by the store and reported by
    the runner (through ``on_error``), so only the stored ones are counted here.
    """

    def __init__(self, store: Store, job: Job, saved: Callable[[], None]) -> None:
        self.store = store
        self.job = job
        self.saved = saved

    def contains(self, doc_id: str, content_hash: str) -> bool:
        """Whether the document is stored already (a resumed run skips it); one the job's
        record does not list yet (stored after its last write, before a crash) is
        counted now, so ``done`` and ``document_ids`` hold every document of the job."""
        if not self.store.contains(doc_id, content_hash):
            return False
        if self.job.add_stored([doc_id]):
            self.saved()
        return True

    def save(self, docs: Iterable[Document]) -> int:
        docs = list(docs)
        try:
            self.store.save(docs)
        except DocumentsNotSaved as exc:
            refused = {doc_id for doc_id, _ in exc.failures}
            self._count([d for d in docs if d.id not in refused])
            raise
        self._count(docs)
        return len(docs)

    def _count(self, saved: list[Document]) -> None:
        self.job.add_stored(d.id for d in saved)
        with self.job.lock:
            self.job.batch = 0
        self.saved()


class _JobPipe:
    """The pool as the runner's pipeline: each batch runs in the long lane, reporting its
    stage to the job and stopping when the job is cancelled or the server stops."""

    def __init__(self, pool: AnalysisPool, job: Job) -> None:
        self.pool = pool
        self.job = job

    def pipe(self, docs: Iterable[Document], *, batch_size: int = 16) -> Iterator[Document]:
        batch = list(docs)
        with self.job.lock:
            self.job.batch, self.job.stage_fraction = len(batch), 0.0
        done = self.pool.run(
            batch, long=True, progress=self.job.on_stage, also_stop=self.job.cancel
        )
        return iter(done)


def unique_ids(
    items: Iterable[tuple[str, Document | InputError]],
) -> Iterator[Document | InputError]:
    """A repeated id in one job is an error naming both places, as on the command line
    (:func:`~narrascope.ingest.formats.repeated_id`): the first document is kept."""
    first = FirstSeen()
    for where, item in items:
        yield first.check(item, where)


def _write_atomic(path: Path, data: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(data, encoding="utf-8", errors="surrogatepass")
    os.replace(tmp, path)


class JobManager:
    """The job queue, the thread that drives it through the pool, and the job records.

    ``folder`` holds one sub-folder per job; ``None`` means a temporary folder removed when
    the server stops (jobs are then forgotten with it).
    """

    def __init__(
        self,
        pool: AnalysisPool,
        stores: StorePool,
        *,
        batch_size: int = 8,
        folder: str | Path | None = None,
        max_text_bytes: int = 10_000_000,
        max_queued_jobs: int = MAX_QUEUED_JOBS,
        max_queued_bytes: int = MAX_QUEUED_BYTES,
    ) -> None:
        self.pool = pool
        self.max_queued_jobs = max_queued_jobs
        self.max_queued_bytes = max_queued_bytes
        self.stores = stores
        self.batch_size = batch_size
        self.max_text_bytes = max_text_bytes
        self.temporary = folder is None
        self.folder = Path(
            tempfile.mkdtemp(prefix="narrascope-jobs-") if folder is None else folder
        )
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._lock = threading.Lock()
        self._saved_at: dict[str, float] = {}
        self._queue: queue.Queue[tuple[Job, int] | None] = queue.Queue()  # (job, its run)
        self._thread: threading.Thread | None = None
        self.stopping = threading.Event()
        self._load()
        self._prune_inputs()

    # -- records --------------------------------------------------------------------------

    def _dir(self, job_id: str) -> Path:
        return self.folder / job_id

    def _load(self) -> None:
        """Jobs of an earlier run; one that was queued or running then is resumable now."""
        if not self.folder.is_dir():
            return
        found = []
        for path in self.folder.glob(f"*/{JOB_FILE}"):
            try:
                job = Job.from_record(json.loads(path.read_text(encoding="utf-8")))
            except (OSError, ValueError, TypeError, KeyError):
                logger.warning("skipping an unreadable job record %s", path)
                continue
            was = (job.state, job.resumable)
            if job.state in ("queued", "running"):
                job.add_job_error(self._stopped_reason(job))
                job.state, job.finished = "failed", now()
            job.resumable = job.state == "failed" and self._has_inputs(job)
            if (job.state, job.resumable) != was:
                self._save(job)
            found.append(job)
        for job in sorted(found, key=lambda j: j.order):
            self._jobs[job.id] = job

    def _has_inputs(self, job: Job) -> bool:
        if job.kind == "upload":
            return all((self._dir(job.id) / "files" / name).is_file() for name in job.inputs)
        return (self._dir(job.id) / "documents.jsonl").is_file()

    def _save(self, job: Job, *, throttle: bool = False) -> None:
        """Write ``job.json`` (atomically); ``throttle`` skips it if written a moment ago."""
        moment = time.monotonic()
        if throttle and moment - self._saved_at.get(job.id, 0.0) < SAVE_EVERY_S:
            return
        self._saved_at[job.id] = moment
        folder = self._dir(job.id)
        try:
            folder.mkdir(parents=True, exist_ok=True)
            _write_atomic(folder / JOB_FILE, json.dumps(job.record(), ensure_ascii=False))
        except OSError:
            logger.exception("cannot write the record of job %s", job.id)

    def _cancelled_reason(self, job: Job) -> str:
        return (
            "the job was cancelled; the documents stored so far stay: resume it "
            f"(POST /api/jobs/{job.id}/resume) to analyse the rest"
        )

    def _stopped_reason(self, job: Job) -> str:
        return (
            "the server stopped before the job was finished; the documents stored so far "
            f"stay: resume the job (POST /api/jobs/{job.id}/resume) to analyse the rest"
        )

    # -- the worker thread ----------------------------------------------------------------

    def start(self, *, warm_up: bool = True) -> None:
        if self._thread is None:
            self.stopping.clear()
            self.pool.start()
            self._thread = threading.Thread(
                target=self._work, args=(warm_up,), name="narrascope-jobs", daemon=True
            )
            self._thread.start()

    def stop_soon(self) -> None:
        """Tell every analysis to stop at its next stage and refuse new ones, now (the
        server got SIGTERM); :meth:`stop` then waits for them, briefly."""
        self.stopping.set()
        self.pool.stopping.set()

    def stop(self, timeout: float = STOP_GRACE_S + 1) -> None:
        """Stop within seconds: the stage in flight may end (and its batch be stored if it
        was the last stage); every unfinished job is recorded as resumable."""
        self.stopping.set()
        self._queue.put(None)
        self.pool.stop(STOP_GRACE_S)
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        with self._lock:
            jobs = list(self._jobs.values())
        for job in jobs:
            if job.state == "queued":
                job.add_job_error(self._stopped_reason(job))
                job.state, job.finished, job.resumable = "failed", now(), True
                self._save(job)
        if self.temporary:
            shutil.rmtree(self.folder, ignore_errors=True)

    def _work(self, warm_up: bool) -> None:
        if warm_up:
            try:
                self.pool.warm_up()
            except Exception:
                logger.exception("loading the models failed")
        while (entry := self._queue.get()) is not None:
            if self.stopping.is_set():
                break
            job, run = entry
            if run == job.run:  # else a stale entry: the job was cancelled and resumed
                self._run(job)

    # -- submitting -----------------------------------------------------------------------

    def _input_bytes(self, job_id: str) -> int:
        """Bytes of the inputs stored for a job (its record not counted)."""
        total = 0
        for path in self._dir(job_id).rglob("*"):
            with contextlib.suppress(OSError):
                if path.name != JOB_FILE and path.is_file():
                    total += path.stat().st_size
        return total

    def _check_room(self, job_id: str) -> None:
        """Raise :class:`QueueFull` if ``job_id`` (its inputs as stored so far) would pass
        :data:`MAX_QUEUED_JOBS` or :data:`MAX_QUEUED_BYTES`; the caller holds ``_lock``."""
        waiting = [
            j.id for j in self._jobs.values() if j.state in ("queued", "running") and j.id != job_id
        ]
        if len(waiting) >= self.max_queued_jobs:
            raise QueueFull(
                f"{len(waiting)} jobs are queued or running, this server's limit; "
                "try again when one has finished"
            )
        held = sum(self._input_bytes(j) for j in waiting) + self._input_bytes(job_id)
        if held > self.max_queued_bytes:
            raise QueueFull(
                f"the queued jobs' inputs would take {held / 1e6:.0f} MB, over this server's "
                f"limit of {self.max_queued_bytes / 1e6:g} MB; try again when some have finished"
            )

    def check_room(self) -> None:
        """Refuse a new job before its inputs are written (:class:`QueueFull`)."""
        with self._lock:
            self._check_room("")

    def _add(self, job: Job) -> Job:
        with self._lock:
            try:
                self._check_room(job.id)
            except QueueFull:
                shutil.rmtree(self._dir(job.id), ignore_errors=True)
                raise
            self._jobs[job.id] = job
            finished = [j for j in self._jobs.values() if j.state in ("done", "failed")]
            for old in finished[: max(len(self._jobs) - MAX_JOBS, 0)]:
                del self._jobs[old.id]
                shutil.rmtree(self._dir(old.id), ignore_errors=True)
        self._save(job)
        self.start()
        self._queue.put((job, job.run))
        return job

    def submit_documents(self, items: list[Document | InputError]) -> Job:
        """A job over documents sent in a request; they are written to its folder first."""
        self.check_room()
        job_id = uuid.uuid4().hex[:12]
        folder = self._dir(job_id)
        folder.mkdir(parents=True)
        with (folder / "documents.jsonl").open("w", encoding="utf-8", errors="surrogatepass") as fh:
            for item in items:
                if isinstance(item, InputError):
                    line = {"error": [item.source, item.reason, item.code]}
                else:
                    line = {"doc": [item.id, item.text, item.language, item.meta]}
                fh.write(json.dumps(line, ensure_ascii=False) + "\n")
        return self._add(Job(id=job_id, kind="documents", total=len(items)))

    def upload_folder(self) -> tuple[str, Path]:
        """A new job id and the folder its uploaded files go to (before :meth:`submit_upload`)."""
        self.check_room()
        job_id = uuid.uuid4().hex[:12]
        files = self._dir(job_id) / "files"
        files.mkdir(parents=True)
        return job_id, files

    def discard(self, job_id: str) -> None:
        """Remove a job folder that never became a job (the upload failed)."""
        shutil.rmtree(self._dir(job_id), ignore_errors=True)

    def submit_upload(self, job_id: str, names: list[str], total: int) -> Job:
        return self._add(Job(id=job_id, kind="upload", total=total, inputs=names))

    def _items(self, job: Job) -> Iterator[tuple[str, Document | InputError]]:
        """The job's inputs, each with where it came from (for a repeated id's error)."""
        folder = self._dir(job.id)
        if job.kind == "upload":
            for item in self._read_files(folder / "files", job.inputs):
                if isinstance(item, InputError):
                    yield item.source, item
                else:
                    yield str(item.meta.get("path") or item.id), item
            return
        with (folder / "documents.jsonl").open(encoding="utf-8", errors="surrogatepass") as fh:
            for n, line in enumerate(fh):
                data = json.loads(line)
                if "error" in data:
                    yield f"documents[{n}]", InputError(*data["error"])
                    continue
                doc_id, text, language, meta = data["doc"]
                doc = Document(text=text, id=doc_id, language=language, meta=meta)
                attach_split(doc)
                yield f"documents[{n}]", doc

    def _read_files(self, files: Path, names: list[str]) -> Iterator[Document | InputError]:
        """Read uploaded files with the CLI's readers; ids and sources lose the folder."""
        from narrascope.ingest import ReadOptions, read_inputs

        prefix = str(files) + "/"

        def local(text: str) -> str:
            return text[len(prefix) :] if text.startswith(prefix) else text

        options = ReadOptions(max_bytes=self.max_text_bytes)
        for item in read_inputs([files / name for name in names], options):
            if isinstance(item, InputError):
                # the folder may sit inside a reason too ("first seen in <folder>/a.jsonl:1")
                reason = item.reason.replace(prefix, "")
                if item.code == E_TOO_LARGE:
                    reason = reason.replace("--max-bytes (ReadOptions.max_bytes)", "--max-text-mb")
                yield InputError(local(item.source), reason, item.code)
                continue
            item.id = local(item.id)
            if item.meta.get("path"):
                item.meta["path"] = local(str(item.meta["path"]))
            yield item

    # -- looking at and steering jobs -----------------------------------------------------

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id)

    def jobs(self) -> list[Job]:
        with self._lock:
            return list(reversed(self._jobs.values()))

    def cancel(self, job_id: str) -> Job | None:
        """Stop a running job after its stage in flight, and a queued one now (it has no
        stage in flight: it fails at once and frees its place in the queue); ``None`` if
        unknown.

        Raises ``ValueError`` (why) for a job that has already ended.
        """
        job = self.get(job_id)
        if job is None:
            return None
        kept = self._has_inputs(job)
        with job.lock:
            if job.state not in ("queued", "running"):
                raise ValueError(f"job {job_id!r} has already ended ({job.state})")
            job.cancel.set()
            queued = job.state == "queued"
            if queued:  # the job thread skips it: it runs only a queued job
                job.state, job.finished, job.resumable = "failed", now(), kept
                job.errors.append({"source": "job", "reason": self._cancelled_reason(job)})
        if queued:
            self._save(job)
            self._prune_inputs()
        return job

    def resume(self, job_id: str) -> Job | None:
        """Queue a failed job again; documents it stored already are skipped.

        ``None`` if unknown; raises ``ValueError`` (why) if it cannot be resumed, and
        :class:`QueueFull` if the queue has no room for it now.
        """
        job = self.get(job_id)
        if job is None:
            return None
        with self._lock:
            if job.state == "failed" and job.resumable:
                self._check_room(job_id)  # QueueFull: its inputs wait on disk again
        with job.lock:
            if job.state != "failed":
                raise ValueError(f"job {job_id!r} is {job.state}; only a failed job resumes")
            if not job.resumable:
                raise ValueError(f"job {job_id!r} cannot be resumed: its inputs are gone")
            job.state, job.finished, job.resume, job.resumable = "queued", None, True, False
            job.failed, job.errors = 0, []  # every input is read again, its errors too
            job.cancel = threading.Event()
            job.run += 1
        self._save(job)
        self.start()
        self._queue.put((job, job.run))
        return job

    # -- running one job ------------------------------------------------------------------

    def _run(self, job: Job) -> None:
        with job.lock:
            if job.state != "queued":  # cancelled while it waited
                return
            job.state = "running"
        self._save(job)
        cut = ""

        def until_stopped() -> Iterator[Document | InputError]:
            nonlocal cut
            for item in unique_ids(self._items(job)):
                if self.stopping.is_set() or job.cancel.is_set():
                    cut = "stopped"
                    return
                yield item

        state = "failed"
        try:
            run_batch(
                until_stopped(),
                _JobPipe(self.pool, job),
                out=None,
                fmt="jsonl",
                resume=job.resume,
                batch_size=self.batch_size,
                progress=False,
                on_error=job.add_error,
                store=_JobSink(  # type: ignore[arg-type]
                    self.stores.get(), job, lambda: self._save(job, throttle=True)
                ),
            )
            state = "failed" if cut else "done"
        except Cancelled:
            cut = "stopped"
        except Exception as exc:  # the model or the database, not one document
            logger.exception("job %s failed", job.id)
            job.add_job_error(
                DATABASE_ERROR if _is_database_error(exc) else f"{type(exc).__name__}: {exc}"
            )
        if cut:
            if job.cancel.is_set() and not self.stopping.is_set():
                reason = self._cancelled_reason(job)
            else:
                reason = self._stopped_reason(job)
            job.add_job_error(reason)
        with job.lock:
            job.state = state
            job.finished = now()
            job.stage, job.batch = None, 0
            job.resumable = state == "failed"
            if state == "done" and job.kind == "upload":  # counted ahead: can be off
                job.total = job.done + job.failed
        if state == "done":  # the texts are in the database now
            self._remove_inputs(job)
        self._save(job)
        self._prune_inputs()

    def _remove_inputs(self, job: Job) -> None:
        shutil.rmtree(self._dir(job.id) / "files", ignore_errors=True)
        (self._dir(job.id) / "documents.jsonl").unlink(missing_ok=True)

    def _prune_inputs(self) -> None:
        """Delete the inputs of failed or cancelled jobs but the newest few (within
        :data:`MAX_KEPT_BYTES`): they could fill the disk; the records and errors stay."""
        with self._lock:
            kept = [j for j in reversed(self._jobs.values()) if j.state == "failed"]
        held = 0
        for n, job in enumerate(j for j in kept if j.resumable):
            held += self._input_bytes(job.id)
            if n < MAX_KEPT_INPUTS and held <= MAX_KEPT_BYTES:
                continue
            self._remove_inputs(job)
            with job.lock:
                job.resumable = False
            job.add_job_error(
                "its inputs were deleted to keep the disk from filling up (only the newest "
                f"{MAX_KEPT_INPUTS} failed or cancelled jobs keep theirs); send them again"
            )
            self._save(job)
