"""Background jobs: one worker thread analyses queued documents batch by batch into the store.

Why one worker: the model is loaded once per server and a 2-core machine gains nothing from
running it twice at once. A job goes through :func:`narrascope.runner.run_batch`, like
``analyze --db``: each small batch is saved as soon as it is analysed (a stopped server
loses at most the batch in flight) and a document that fails costs only itself. Job state
lives in memory; the page polls ``/api/jobs/{id}``.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import shutil
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from narrascope.doc import Document
from narrascope.errors import InputError
from narrascope.pipeline import Pipeline
from narrascope.runner import run_batch
from narrascope.store import DocumentsNotSaved, Store, open_store

logger = logging.getLogger(__name__)

MAX_ERRORS = 1000  # per job; ``failed`` still counts every failure
MAX_JOBS = 500  # finished jobs kept in memory, oldest dropped first


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class SharedPipeline:
    """The one pipeline of the server, used by one caller at a time.

    Interactive analyses (``/api/analyze``) go before the next batch of a background job,
    so a long upload does not make the page wait for more than one batch.
    """

    def __init__(
        self, pipeline: Pipeline | None = None, loader: Callable[[], Pipeline] | None = None
    ) -> None:
        self._pipeline = pipeline
        self._loader = loader
        self._cond = threading.Condition()
        self._busy = False
        self._interactive_waiting = 0

    def _get(self) -> Pipeline:
        if self._pipeline is None:
            if self._loader is None:
                import narrascope

                self._loader = narrascope.load
            self._pipeline = self._loader()
        return self._pipeline

    @contextlib.contextmanager
    def _turn(self, interactive: bool) -> Iterator[Pipeline]:
        with self._cond:
            if interactive:
                self._interactive_waiting += 1
            try:
                while self._busy or (not interactive and self._interactive_waiting):
                    self._cond.wait()
            finally:
                if interactive:
                    self._interactive_waiting -= 1
            self._busy = True
        try:
            yield self._get()
        finally:
            with self._cond:
                self._busy = False
                self._cond.notify_all()

    def warm_up(self) -> None:
        """Load the models now (at start-up) rather than on the first request."""
        with self._turn(False):
            pass

    def analyse(self, doc: Document) -> Document:
        with self._turn(True) as pipeline:
            return pipeline(doc)

    def pipe(self, docs: Iterable[Document], *, batch_size: int = 16) -> Iterator[Document]:
        """One background batch (the runner passes a list), computed under the model's turn."""
        batch = list(docs)
        with self._turn(False) as pipeline:
            return iter(list(pipeline.pipe(batch, batch_size=batch_size)))


class StorePool:
    """One store connection per thread: SQLite connections must stay in their thread."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._local = threading.local()
        self._lock = threading.Lock()
        self._opened: list[Store] = []

    def get(self) -> Store:
        store: Store | None = getattr(self._local, "store", None)
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


@dataclass
class Job:
    id: str
    total: int
    items: Callable[[], Iterable[Document | InputError]]
    cleanup: Callable[[], None] = lambda: None
    created: str = field(default_factory=now)
    state: str = "queued"
    done: int = 0
    failed: int = 0
    errors: list[dict[str, str]] = field(default_factory=list)
    finished: str | None = None
    document_ids: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add_error(self, error: InputError) -> None:
        with self.lock:
            self.failed += 1
            if len(self.errors) < MAX_ERRORS:
                self.errors.append({"source": error.source, "reason": error.reason})

    def info(self) -> dict[str, Any]:
        with self.lock:
            return {
                "id": self.id,
                "state": self.state,
                "total": max(self.total, self.done + self.failed),
                "done": self.done,
                "failed": self.failed,
                "errors": list(self.errors),
                "created": self.created,
                "finished": self.finished,
                "document_ids": list(self.document_ids),
            }


class _JobSink:
    """The store as the runner sees it, counting what each saved batch adds to the job.

    A document the store refuses is left out of the batch by the store and reported by
    the runner (through ``on_error``), so only the stored ones are counted here.
    """

    def __init__(self, store: Store, job: Job) -> None:
        self.store = store
        self.job = job

    def contains(self, doc_id: str, content_hash: str) -> bool:
        return self.store.contains(doc_id, content_hash)

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
        with self.job.lock:
            self.job.done += len(saved)
            self.job.document_ids.extend(d.id for d in saved)


def unique_ids(items: Iterable[Document | InputError]) -> Iterator[Document | InputError]:
    """A repeated id in one job fails visibly instead of being skipped in silence."""
    seen: set[str] = set()
    for item in items:
        if isinstance(item, Document):
            if item.id in seen:
                yield InputError(item.id, "the same id appears earlier in this job; kept the first")
                continue
            seen.add(item.id)
        yield item


class JobManager:
    """The queue, its one worker thread, and the jobs' state (newest last in ``_jobs``)."""

    def __init__(self, pipeline: SharedPipeline, stores: StorePool, *, batch_size: int = 8):
        self.pipeline = pipeline
        self.stores = stores
        self.batch_size = batch_size
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._lock = threading.Lock()
        self._queue: queue.Queue[Job | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self.stopping = threading.Event()

    def start(self, *, warm_up: bool = True) -> None:
        if self._thread is None:
            self.stopping.clear()
            self._thread = threading.Thread(
                target=self._work, args=(warm_up,), name="narrascope-jobs", daemon=True
            )
            self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Let the running job finish its batch in flight (stored), then end the worker."""
        if self._thread is not None:
            self.stopping.set()
            self._queue.put(None)
            self._thread.join(timeout)
            self._thread = None

    def submit(
        self,
        items: Callable[[], Iterable[Document | InputError]],
        total: int,
        cleanup: Callable[[], None] = lambda: None,
    ) -> Job:
        job = Job(id=uuid.uuid4().hex[:12], total=total, items=items, cleanup=cleanup)
        with self._lock:
            self._jobs[job.id] = job
            finished = [j for j in self._jobs.values() if j.state in ("done", "failed")]
            for old in finished[: max(len(self._jobs) - MAX_JOBS, 0)]:
                del self._jobs[old.id]
        self.start()
        self._queue.put(job)
        return job

    def submit_files(self, folder: Path, paths: list[Path], total: int) -> Job:
        """Read uploaded files with the CLI's readers; ids and sources lose the temp folder."""
        from narrascope.ingest import read_inputs

        prefix = str(folder) + "/"

        def local(text: str) -> str:
            return text[len(prefix) :] if text.startswith(prefix) else text

        def items() -> Iterator[Document | InputError]:
            for item in read_inputs(paths):
                if isinstance(item, InputError):
                    yield InputError(local(item.source), item.reason, item.code)
                    continue
                item.id = local(item.id)
                if item.meta.get("path"):
                    item.meta["path"] = local(str(item.meta["path"]))
                yield item

        return self.submit(items, total, lambda: shutil.rmtree(folder, ignore_errors=True))

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id)

    def jobs(self) -> list[Job]:
        with self._lock:
            return list(reversed(self._jobs.values()))

    def _work(self, warm_up: bool) -> None:
        if warm_up:
            try:
                self.pipeline.warm_up()
            except Exception:
                logger.exception("loading the models failed")
        while (job := self._queue.get()) is not None:
            if self.stopping.is_set():
                break
            self._run(job)

    def _run(self, job: Job) -> None:
        with job.lock:
            job.state = "running"
        cut = False

        def until_stopped() -> Iterator[Document | InputError]:
            nonlocal cut
            for item in unique_ids(job.items()):
                if self.stopping.is_set():
                    cut = True
                    return
                yield item

        try:
            run_batch(
                until_stopped(),
                self.pipeline,
                out=None,
                fmt="jsonl",
                batch_size=self.batch_size,
                progress=False,
                on_error=job.add_error,
                store=_JobSink(self.stores.get(), job),  # type: ignore[arg-type]
            )
            state = "done"
            if cut:
                job.add_error(
                    InputError(
                        "job",
                        "the server stopped before the job was finished; "
                        "the documents stored so far stay, send the rest again",
                    )
                )
                state = "failed"
        except Exception as exc:  # the model or the database, not one document
            logger.exception("job %s failed", job.id)
            job.add_error(InputError("job", f"{type(exc).__name__}: {exc}"))
            state = "failed"
        finally:
            job.cleanup()
            job.items = tuple  # the job's texts are stored now; do not keep them in memory
        with job.lock:
            job.state = state
            job.finished = now()
            if state == "done":  # an upload's count ahead can be off (blank lines)
                job.total = job.done + job.failed
