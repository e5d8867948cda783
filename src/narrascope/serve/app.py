"""The workspace's HTTP API and page, over one store and one pool of analysis workers.

A thin layer: documents are analysed by the library's pipeline (in the worker pool of
:mod:`narrascope.serve.jobs`, never on the event loop), stored and queried through the
store (bound parameters only), read from uploads by ``narrascope.ingest`` and exported by
``narrascope.export`` — the same code paths as the command line.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import json
import logging
import queue
import re
import threading
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from datetime import UTC, date, datetime
from pathlib import Path, PurePosixPath
from typing import Annotated, Any, Literal
from urllib.parse import quote

import anyio
from fastapi import APIRouter, Depends, FastAPI, File, HTTPException, Query, Request, UploadFile
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import (
    FileResponse,
    HTMLResponse,
    JSONResponse,
    Response,
    StreamingResponse,
)
from pydantic import BeforeValidator
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.formparsers import MultiPartException
from starlette.staticfiles import StaticFiles

from narrascope import __version__
from narrascope.doc import Document
from narrascope.errors import E_TOO_LARGE, InputError, ModelError, NarrascopeError, StoreError
from narrascope.export import get_format
from narrascope.ingest import estimate_count
from narrascope.ingest.formats import attach_split, compose_nfc, empty, meta
from narrascope.pipeline import Pipeline
from narrascope.pipeline.pipeline import Cancelled
from narrascope.serve import models as m
from narrascope.serve.jobs import (
    DATABASE_ERROR,
    DEFAULT_WORKERS,
    MAX_JOBS,
    AnalysisPool,
    Busy,
    JobManager,
    QueueFull,
    StorePool,
    Task,
)
from narrascope.serve.security import (
    TOKEN_COOKIE,
    BodyLimit,
    SameOrigin,
    SecurityHeaders,
    Sessions,
    TokenAuth,
)
from narrascope.store import ANY_DEBUNK, DocumentsNotSaved, FilterError, Filters, open_store
from narrascope.text.language import normalize_language

logger = logging.getLogger(__name__)

STATIC = Path(__file__).parent / "static"
DEFAULT_MAX_BODY = 20_000_000
DEFAULT_MAX_TEXT = 10_000_000  # UTF-8 bytes of one text: the CLI's --max-bytes default
DEFAULT_TIMEOUT = 120.0  # seconds for one /api/analyze request
QUEUE_RETRY_S = 30  # Retry-After of a job refused because the queue is full
POLL_S = 0.25  # how often a waiting request looks whether its client is still there
MAX_LIMIT = 500
MAX_OFFSET = 2**53  # databases keep 64-bit integers; a bigger offset is a 422, not a 500
EXPORT_CHUNK = 64 * 1024
EXPORT_MEDIA = {"jsonl": "application/x-ndjson; charset=utf-8", "csv": "text/csv; charset=utf-8"}
PLACEHOLDER = """<!doctype html><meta charset="utf-8"><title>Narrascope</title>
<p>The Narrascope web page is not installed in this copy yet. The HTTP API is at
<code>/api</code>; its schema is at <a href="/openapi.json">/openapi.json</a>.</p>"""


class RecordJSON(JSONResponse):
    """JSON as UTF-8; a value with lone surrogates falls back to ASCII escapes, not a 500."""

    def render(self, content: Any) -> bytes:
        try:
            return json.dumps(content, ensure_ascii=False, allow_nan=False).encode("utf-8")
        except UnicodeEncodeError:
            return json.dumps(content, allow_nan=False).encode("ascii")


def _blank_is_none(value: Any) -> Any:
    """The page sends ``language=`` for "any"; an empty parameter means no filter."""
    if isinstance(value, str) and len(value) > 2000:
        raise ValueError("at most 2000 characters")
    return None if isinstance(value, str) and not value.strip() else value


def _language_filter(value: Any) -> Any:
    """A language filter in the form documents are stored in ("RU", "rus" -> "ru"); a
    code naming no language is a 422 saying what to give, not an empty result."""
    value = _blank_is_none(value)
    return normalize_language(value) if isinstance(value, str) else value


Opt = Annotated[str | None, BeforeValidator(_blank_is_none)]
OptLanguage = Annotated[str | None, BeforeValidator(_language_filter)]
OptDate = Annotated[date | None, BeforeValidator(_blank_is_none)]
OptScore = Annotated[float | None, BeforeValidator(_blank_is_none)]


def filters(
    q: Annotated[Opt, Query(description="words of the text (all, any order)")] = None,
    narrative: Annotated[Opt, Query(description="exact narrative label")] = None,
    language: Annotated[
        OptLanguage, Query(description="ISO 639-1 code, e.g. ru (rus, RU, ru-RU read too)")
    ] = None,
    source: Annotated[Opt, Query()] = None,
    date_from: Annotated[OptDate, Query(description="ISO date, included")] = None,
    date_to: Annotated[OptDate, Query(description="ISO date, included")] = None,
    min_score: Annotated[
        OptScore, Query(ge=0, le=1, description="of `narrative` if given, else of any narrative")
    ] = None,
    hate: Annotated[
        Opt,
        Query(description="hateful | offensive | incitement | flagged: the article or a comment"),
    ] = None,
    debunk: Annotated[
        Opt,
        Query(description="a known debunk's id: the documents repeating it; any: any debunk"),
    ] = None,
) -> Filters:
    """The corpus endpoints' (list, stats, export) shared query parameters, as store filters."""
    days = [None if day is None else day.isoformat() for day in (date_from, date_to)]
    return Filters(q, narrative, language, source, *days, min_score, hate=hate, debunk=debunk)


def _utf8_size(text: str) -> int:
    return len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))


def too_long_reason(size: int, limit: int) -> str:
    return (
        f"the text is {size / 1e6:.1f} MB (UTF-8), over this server's per-text limit of "
        f"{limit / 1e6:g} MB; split it into parts, or start the server with a larger "
        "--max-text-mb"
    )


class _ClientGone(Exception):
    pass


async def _outcome(task: Task, request: Request, timeout: float) -> list[Document]:
    """Wait for ``task`` without holding a thread; stop it when the client leaves or the
    time is up (then a 504). The worker sees the stop before its next stage."""
    loop = asyncio.get_running_loop()
    ready = asyncio.Event()

    def wake(_: object) -> None:
        with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
            loop.call_soon_threadsafe(ready.set)

    task.future.add_done_callback(wake)
    deadline = loop.time() + timeout
    try:
        while not task.future.done():
            left = deadline - loop.time()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(ready.wait(), max(min(POLL_S, left), 0))
            if task.future.done():
                break
            if task.stopping.is_set():  # the server is stopping: do not wait for the stage
                raise Cancelled("the server is stopping")
            if await request.is_disconnected():
                raise _ClientGone
            if loop.time() >= deadline:
                raise HTTPException(
                    504,
                    f"the analysis took longer than this server's limit of {timeout:g} s per "
                    "request and was stopped; send long texts as a job (POST /api/documents: "
                    "no time limit, progress in /api/jobs), or start the server with a larger "
                    "--timeout",
                )
    finally:
        if not task.future.done():
            task.cancel.set()
    return task.future.result()


def _document(body: m.DocumentIn) -> Document:
    doc = Document(
        text=body.text,
        language=body.language,
        meta=meta(None, body.source, body.url, body.date),
    )
    doc.id = body.id or f"doc-{doc.content_hash}"
    attach_split(doc)  # a pasted page with its reader comments: the article read alone
    compose_nfc(doc)  # as every file and upload is: decomposed letters defeat the models
    return doc


_UNSAFE = re.compile(r"[\x00-\x1f\x7f/\\:*?\"<>|]")


def _file_name(raw: str | None, n: int, used: set[str]) -> str:
    """A plain file name for an upload: no folders, no control characters, unique here.

    The name becomes the document id (as on the command line) and picks the reader by
    its extension.
    """
    name = PurePosixPath((raw or "").replace("\\", "/")).name
    name = _UNSAFE.sub("_", name).strip().lstrip(".") or f"upload-{n}.txt"
    stem, dot, suffix = name.rpartition(".")
    if not dot:
        stem, suffix = name, ""
    suffix = suffix[:16]
    while len(stem.encode()) > 180:  # file systems allow 255 bytes, not characters
        stem = stem[:-1]
    name = f"{stem}.{suffix}" if dot else stem
    candidate, k = name, 2
    while candidate in used:
        candidate = f"{stem}-{k}.{suffix}" if dot else f"{stem}-{k}"
        k += 1
    used.add(candidate)
    return candidate


def _error_detail(exc: RequestValidationError) -> dict[str, Any]:
    """A readable sentence first, then the fields; never the input itself echoed back."""
    errors = []
    for error in exc.errors():
        loc = [str(part) for part in error.get("loc", ())]
        if error.get("type") == "json_invalid":
            reason = (error.get("ctx") or {}).get("error", "invalid JSON")
            where = loc[1] if len(loc) > 1 else "?"
            errors.append({"loc": "body", "msg": f"body is not valid JSON ({reason} at {where})"})
            continue
        msg = str(error.get("msg", "invalid value")).removeprefix("Value error, ")
        errors.append({"loc": ".".join(loc), "msg": msg})
    detail = "; ".join(
        e["msg"] if e["loc"] == "body" else f"{e['loc']}: {e['msg']}" for e in errors
    )
    return {"detail": detail or "invalid request", "errors": errors}


def _errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI entries of these error statuses: every error answers an ``ErrorOut``
    (FastAPI would declare its own 422 shape, which this server's handler does not send)."""
    return {code: {"model": m.ErrorOut} for code in codes}


def _unparsable_body(exc: StarletteHTTPException) -> str | None:
    """Why the body could not be parsed, when that is what this 400 of FastAPI's or
    Starlette's says (they name no reason); None for any other error."""
    if exc.status_code != 400:
        return None
    cause = exc.__cause__ or exc.__context__
    if isinstance(cause, UnicodeDecodeError):
        return (
            f"body is not valid JSON (not UTF-8: byte {cause.object[cause.start]:#04x} at "
            f"{cause.start}); send the JSON encoded as UTF-8"
        )
    if isinstance(cause, RecursionError):
        return "body is not valid JSON (nested too deeply to read)"
    if isinstance(cause, MultiPartException):
        return (
            f"body is not valid multipart/form-data ({cause.message.rstrip('.')}); send "
            "each file as a form field named files"
        )
    return None


class _Static(StaticFiles):
    """Static files, or a JSON 404 while the page is not installed (no 500 at start-up)."""

    async def check_config(self) -> None:
        if self.directory is None or not Path(self.directory).is_dir():
            raise HTTPException(404, "the web page's files are not installed")
        await super().check_config()


def _loader(store: Any) -> Callable[[], Pipeline] | None:
    """The bundled pipeline, plus what a SQLite corpus adds to it, as ``analyze --db``
    does: its own narratives and its known debunks. Both are followed, so a narrative
    promoted from a discovered cluster (or added with ``narrascope taxonomy add``) and
    debunks added with ``narrascope debunks add`` count from the next batch on."""
    path = getattr(store, "path", None)
    if not isinstance(path, Path) or str(path) == ":memory:":
        return None

    def load() -> Pipeline:
        import narrascope
        from narrascope.pipeline.factory import FollowedDebunkStage
        from narrascope.stages.custom_narratives import CustomNarrativeStage

        pipeline = narrascope.load()
        names = pipeline.stage_names
        if "narratives" in names and "custom_narratives" not in names:  # right after it
            stage = CustomNarrativeStage(path, encoder=pipeline.encoder, follow=True)
            pipeline.stages.insert(names.index("narratives") + 1, stage)
        if "debunks" not in names:  # last, after the claims it matches by
            debunks = FollowedDebunkStage(path, encoder=pipeline.encoder)
            debunks.warm_up()  # when it holds debunks: the first request does not wait
            pipeline.stages.append(debunks)
        return pipeline

    return load


MIN_TOKEN_CHARS = 16  # a short token can be guessed; 16 random characters cannot


def create_app(
    store_url: str | Path = "narrascope.db",
    *,
    token: str | None = None,
    max_body_bytes: int = DEFAULT_MAX_BODY,
    max_text_bytes: int = DEFAULT_MAX_TEXT,
    timeout: float = DEFAULT_TIMEOUT,
    workers: int = DEFAULT_WORKERS,
    jobs_dir: str | Path | None = None,
    pipeline: Pipeline | None = None,
    batch_size: int = 8,
    allowed_hosts: Sequence[str] | None = None,
) -> FastAPI:
    """The server's ASGI app; ``pipeline=None`` loads the bundled models once, at start-up.

    The store is opened (created, migrated) here, so a bad ``store_url`` fails before the
    server starts listening. ``allowed_hosts`` restricts the Host header (``narrascope
    serve`` passes the loopback names when it runs on loopback without a token).
    ``max_text_bytes`` bounds one text (UTF-8), ``timeout`` one ``/api/analyze`` request
    (seconds), ``workers`` the analysis threads. Job records and inputs go to
    ``jobs_dir``; by default ``<database file>.jobs`` next to a SQLite database, else a
    temporary folder (jobs are then forgotten when the server stops).
    """
    if max_text_bytes <= 0 or timeout <= 0:
        raise ValueError("max_text_bytes and timeout must be positive")
    if token is not None and len(token) < MIN_TOKEN_CHARS:
        raise ValueError(
            f"the token is {len(token)} characters long; use at least {MIN_TOKEN_CHARS} "
            "(a short token can be guessed)"
        )
    url = str(store_url)
    store = open_store(url)
    store.close()
    if jobs_dir is None and isinstance(getattr(store, "path", None), Path):
        db_path: Path = store.path  # type: ignore[attr-defined]
        jobs_dir = None if str(db_path) == ":memory:" else db_path.with_name(db_path.name + ".jobs")
    stores = StorePool(url)
    pool = AnalysisPool(pipeline, loader=_loader(store), workers=workers)
    jobs = JobManager(
        pool, stores, batch_size=batch_size, folder=jobs_dir, max_text_bytes=max_text_bytes
    )

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        jobs.start()
        try:
            yield
        finally:
            await anyio.to_thread.run_sync(jobs.stop)
            stores.close_all()

    app = FastAPI(
        title="Narrascope workspace API",
        version=__version__,
        description="Analyse, store, search, count and export war-media documents. "
        "See docs/api.md.",
        default_response_class=RecordJSON,
        docs_url=None,  # Swagger UI and ReDoc load scripts from a CDN: offline, blocked by CSP
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.jobs = jobs
    app.state.pool = pool
    app.state.stores = stores

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        return RecordJSON(_error_detail(exc), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        reason = _unparsable_body(exc)
        if reason is None:
            return await http_exception_handler(request, exc)
        # a malformed body is the request's fault, whatever failed to read it: a 422 with
        # its reason, as for broken JSON, not a bare 400 "error parsing the body"
        return RecordJSON({"detail": reason, "errors": [{"loc": "body", "msg": reason}]}, 422)

    @app.exception_handler(DocumentsNotSaved)
    async def refused(_: Request, exc: DocumentsNotSaved) -> JSONResponse:
        reasons = "; ".join(reason for _, reason in exc.failures)
        return RecordJSON({"detail": f"the database refused the document: {reasons}"}, 422)

    @app.exception_handler(FilterError)
    async def bad_filter(_: Request, exc: FilterError) -> JSONResponse:
        # a filter value the store cannot use is the request's fault (hate=xx), like a bad
        # date: nothing is wrong with the database, and asking again will not help
        return RecordJSON({"detail": exc.reason}, status_code=422)

    @app.exception_handler(StoreError)
    async def store_failed(_: Request, exc: StoreError) -> JSONResponse:
        # the details (the database's address, its own message) stay in the server log:
        # they can hold a host, a user or a password no client should see
        logger.error("database error: %s", exc)
        return RecordJSON({"detail": DATABASE_ERROR}, status_code=503)

    @app.exception_handler(QueueFull)
    async def queue_full(_: Request, exc: QueueFull) -> JSONResponse:
        return RecordJSON(
            {"detail": f"the job queue is full: {exc}"},
            status_code=503,
            headers={"Retry-After": str(QUEUE_RETRY_S)},
        )

    @app.exception_handler(Exception)
    async def crashed(_: Request, exc: Exception) -> JSONResponse:
        logger.exception("unhandled error", exc_info=exc)
        return RecordJSON(
            {"detail": f"internal error ({type(exc).__name__}); see the server log"},
            status_code=500,
        )

    api = APIRouter(prefix="/api", responses=_errors(503))  # the database, on any of them

    @api.post(
        "/analyze",
        response_model=m.DocumentRecord,
        responses=_errors(413, 422, 504),
        summary="Analyse one text now",
    )
    async def analyze(body: m.AnalyzeRequest, request: Request) -> Response:
        size = _utf8_size(body.text)
        if size > max_text_bytes:
            raise HTTPException(413, too_long_reason(size, max_text_bytes))
        doc = _document(body)
        try:
            task = pool.submit([doc])
            doc = (await _outcome(task, request, timeout))[0]
        except _ClientGone:
            logger.info("the client left; the analysis of %s was stopped", doc.id)
            return Response(status_code=499)  # nobody reads it (nginx's "client closed")
        except Busy as exc:
            raise HTTPException(
                503, f"the server is busy ({exc}); try again in a few seconds", {"Retry-After": "5"}
            ) from exc
        except Cancelled as exc:
            raise HTTPException(503, "the server is stopping; try again later") from exc
        except HTTPException:
            raise
        except ModelError as exc:
            raise HTTPException(503, f"the models cannot be used: {exc}") from exc
        except Exception as exc:
            logger.exception("analysis of %s failed", doc.id)
            raise HTTPException(
                500, f"analysis failed ({type(exc).__name__}); see the server log"
            ) from exc
        if body.store:
            await anyio.to_thread.run_sync(lambda: stores.get().save([doc]))
        # a long text's record takes a while to write: not on the event loop
        return await anyio.to_thread.run_sync(lambda: RecordJSON(doc.to_dict()))

    @api.post(
        "/documents",
        status_code=202,
        response_model=m.JobResponse,
        responses=_errors(413, 422),
        summary="Analyse and store documents in a background job",
    )
    def add_documents(body: m.DocumentsRequest) -> dict[str, Any]:
        items: list[Document | InputError] = []
        for n, given in enumerate(body.documents):
            if not given.text.strip():
                items.append(empty(given.id or f"documents[{n}]"))
            elif (size := _utf8_size(given.text)) > max_text_bytes:
                reason = too_long_reason(size, max_text_bytes)
                items.append(InputError(given.id or f"documents[{n}]", reason, E_TOO_LARGE))
            else:
                items.append(_document(given))
        return {"job": jobs.submit_documents(items).info()}

    @api.post(
        "/documents/upload",
        status_code=202,
        response_model=m.JobResponse,
        responses=_errors(413, 422),
        summary="Upload files (txt, md, html, jsonl, csv, srt, pdf, docx…) for a background job",
    )
    def upload(
        files: Annotated[list[UploadFile], File(description="one or more files")],
    ) -> dict[str, Any]:
        job_id, folder = jobs.upload_folder()
        used: set[str] = set()
        paths = []
        try:
            for n, upload in enumerate(files, start=1):
                path = folder / _file_name(upload.filename, n, used)
                with path.open("wb") as out:
                    while chunk := upload.file.read(1 << 20):
                        out.write(chunk)
                paths.append(path)
            total = estimate_count(paths) or len(paths)
        except BaseException:
            jobs.discard(job_id)
            raise
        return {"job": jobs.submit_upload(job_id, [p.name for p in paths], total).info()}

    @api.get("/jobs", response_model=m.JobList, summary="Jobs, newest first")
    def list_jobs() -> dict[str, Any]:
        return {"jobs": [job.info() for job in jobs.jobs()]}

    def known(job: Any, job_id: str) -> Any:
        if job is None:
            raise HTTPException(404, f"no job {job_id!r} (the last {MAX_JOBS} jobs are kept)")
        return job

    @api.get("/jobs/{job_id}", response_model=m.JobInfo, responses=_errors(404, 422))
    def get_job(job_id: str) -> dict[str, Any]:
        return known(jobs.get(job_id), job_id).info()

    @api.post(
        "/jobs/{job_id}/cancel",
        response_model=m.JobInfo,
        responses=_errors(404, 409, 422),
        summary="Stop a queued or running job (what it stored stays)",
    )
    def cancel_job(job_id: str) -> dict[str, Any]:
        try:
            return known(jobs.cancel(job_id), job_id).info()
        except ValueError as exc:
            raise HTTPException(409, str(exc)) from exc

    @api.post(
        "/jobs/{job_id}/resume",
        status_code=202,
        response_model=m.JobInfo,
        responses=_errors(404, 409, 422),
        summary="Run a stopped or failed job again, skipping the documents it stored",
    )
    def resume_job(job_id: str) -> dict[str, Any]:
        try:
            return known(jobs.resume(job_id), job_id).info()
        except ValueError as exc:
            raise HTTPException(409, str(exc)) from exc

    @api.get(
        "/documents",
        response_model=m.DocumentPage,
        responses=_errors(422),
        summary="Search and filter documents",
    )
    def list_documents(
        f: Annotated[Filters, Depends(filters)],
        limit: Annotated[int, Query(ge=1, description=f"page size, at most {MAX_LIMIT}")] = 50,
        offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
    ) -> dict[str, Any]:
        store = stores.get()
        hits = store.search(f, limit=min(limit, MAX_LIMIT), offset=offset)
        return {
            "total": store.search_count(f),
            "items": [
                {
                    "id": h.id,
                    "language": h.language,
                    "source": h.source,
                    "url": h.url,
                    "date": h.date,
                    "narratives": [{"label": label, "score": s} for label, s in h.narratives],
                }
                for h in hits
            ],
        }

    @api.get(
        "/documents/{doc_id:path}",
        response_model=m.DocumentRecord,
        responses=_errors(404, 422),
        summary="One document's full analysis",
    )
    def get_document(doc_id: str) -> JSONResponse:
        doc = stores.get().get_document(doc_id)
        if doc is None:
            raise HTTPException(404, f"no document with id {doc_id!r}")
        return RecordJSON(doc.to_dict())

    @api.delete("/documents/{doc_id:path}", response_model=m.Deleted, responses=_errors(404, 422))
    def delete_document(doc_id: str) -> dict[str, Any]:
        if not stores.get().delete(doc_id):
            raise HTTPException(404, f"no document with id {doc_id!r}")
        return {"id": doc_id, "deleted": True}

    @api.get(
        "/stats",
        response_model=m.StatsOut,
        responses=_errors(422),
        summary="Documents per bucket and narrative",
    )
    def stats(
        f: Annotated[Filters, Depends(filters)],
        by: Annotated[m.StatsBy, Query()] = "month",
    ) -> dict[str, Any]:
        store = stores.get()
        rows = store.stats(by, f)
        return {
            "by": by,
            "rows": [
                {"bucket": r.bucket, "narrative": r.narrative, "documents": r.documents}
                for r in rows
            ],
            "undated": store.stats_undated(f),
        }

    @api.get(
        "/stats/hate",
        response_model=m.HateStatsOut,
        responses=_errors(422),
        summary="Documents and comments per bucket, and those flagged hateful, offensive or "
        "inciting (as `narrascope stats --hate`)",
    )
    def hate_stats(
        f: Annotated[Filters, Depends(filters)],
        by: Annotated[m.StatsBy, Query()] = "month",
    ) -> dict[str, Any]:
        rows = stores.get().stats(by, f, hate=True)
        return {"by": by, "rows": [r.to_dict() for r in rows]}

    @api.get(
        "/stats/debunks",
        response_model=m.DebunkStatsOut,
        responses=_errors(422),
        summary="Documents per bucket, and those repeating a known debunk (as `narrascope "
        "stats --debunks`)",
    )
    def debunk_stats(
        f: Annotated[Filters, Depends(filters)],
        by: Annotated[m.StatsBy, Query()] = "month",
    ) -> dict[str, Any]:
        rows = stores.get().debunk_stats(by, f)
        return {"by": by, "rows": [r.to_dict() for r in rows]}

    @api.get("/facets", response_model=m.Facets, summary="Filter values with document counts")
    def facets() -> dict[str, Any]:
        store = stores.get()
        out: dict[str, Any] = {
            name: [{"value": v, "count": n} for v, n in values]
            for name, values in store.facets().items()
        }
        for name in ("language", "source", "narrative"):
            out.setdefault(name, [])
        out["documents"] = store.count()
        # the dashboard's "documents repeating known debunks" and the debunk filter's choices
        out["debunked"] = store.search_count(Filters(debunk=ANY_DEBUNK))
        # of those, the ones a reader comment of which repeats one ("in a comment")
        out["debunked_in_comments"] = store.debunked_in_comments()
        out["debunks"] = [
            {
                "id": d.id,
                "claim": d.claim,
                "verdict": d.verdict,
                "url": d.url,
                "documents": d.documents,
                "in_comments": d.in_comments,
            }
            for d in store.debunk_summary()
        ]
        return out

    @api.get(
        "/export",
        response_class=StreamingResponse,
        responses={200: {"content": {v: {} for v in EXPORT_MEDIA.values()}}, **_errors(422)},
        summary="Download the filtered documents as JSONL or CSV",
    )
    def export(
        f: Annotated[Filters, Depends(filters)],
        format: Annotated[Literal["jsonl", "csv"], Query()] = "jsonl",
    ) -> StreamingResponse:
        return StreamingResponse(
            _export_stream(url, format, f),
            media_type=EXPORT_MEDIA[format],
            headers={"content-disposition": f'attachment; filename="narrascope-export.{format}"'},
        )

    # -- campaigns and discovered clusters (issue 26): read from tables of their own in the
    # corpus database, written by `narrascope campaigns` / `discover` / `taxonomy add`;
    # reading never creates them. Their modules are imported here, when asked for, so a
    # copy without them still serves everything else (and says so with a 501).

    @api.get(
        "/campaigns",
        response_model=m.CampaignPage,
        responses=_errors(422, 501),
        summary="Stored near-duplicate clusters (narrascope campaigns), by size or coordination",
    )
    def list_campaigns(
        order: Annotated[Literal["size", "coordination"], Query()] = "size",
        min_size: Annotated[int, Query(ge=2, le=MAX_OFFSET, description="documents")] = 2,
        source: Annotated[Opt, Query(description="only clusters with a post of it")] = None,
        limit: Annotated[int, Query(ge=1, description=f"page size, at most {MAX_LIMIT}")] = 50,
        offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
    ) -> dict[str, Any]:
        stored = _module(
            "narrascope.store.campaigns", "has_campaigns", "list_campaigns", "latest_run"
        )
        store = stores.get()
        if not stored.has_campaigns(store):
            return {"stored": False, "run": None, "more": False, "items": []}
        size = min(limit, MAX_LIMIT)
        found = stored.list_campaigns(
            store, min_size=min_size, source=source, order=order, limit=size + 1, offset=offset
        )
        run = stored.latest_run(store)
        return {
            "stored": True,
            "run": None if run is None else run.to_dict(),
            "more": len(found) > size,
            "items": [_without_members(c.to_dict()) for c in found[:size]],
        }

    @api.get(
        "/campaigns/{cluster_id}",
        response_model=m.CampaignDetail,
        responses=_errors(404, 422, 501),
        summary="One stored cluster with its members, earliest first",
    )
    def get_campaign(cluster_id: str) -> dict[str, Any]:
        stored = _module("narrascope.store.campaigns", "has_campaigns", "get_campaign")
        store = stores.get()
        campaign = stored.get_campaign(store, cluster_id) if stored.has_campaigns(store) else None
        if campaign is None:
            raise HTTPException(
                404,
                f"no stored campaign {cluster_id!r}; `narrascope campaigns --db` stores the "
                "clusters of the corpus (the latest run's are kept)",
            )
        out = campaign.to_dict()
        present = _stored_ids(store, [member["id"] for member in out["members"]])
        moment = _module("narrascope.corpus.campaigns", "timestamp").timestamp
        for member in out["members"]:
            member["timestamp"] = _member_timestamp(member["date"], moment)
            member["in_corpus"] = member["id"] in present
            member["view"] = (
                f"/#/doc/{quote(member['id'], safe='')}" if member["in_corpus"] else None
            )
        return out

    @api.get(
        "/discover",
        response_model=m.DiscoverPage,
        responses=_errors(501),
        summary="The clusters of unexplained text of the latest narrascope discover run",
    )
    def list_discovered() -> dict[str, Any]:
        path = _sqlite_file(url, "discover")
        found = _module("narrascope.corpus.discover", "load_clusters").load_clusters(path)
        if not found:  # no run yet, or a run that found no cluster (it is still said)
            stored = _has_discover_run(path)
            return {"stored": stored, "run": _discover_run(path) if stored else None, "items": []}
        promoted = _promoted(path)
        items = []
        for cluster in found:
            record = cluster.to_dict()
            record.pop("members", None)  # every paragraph's offsets: the detail is the CLI's
            record.pop("doc_ids", None)
            record["promoted"] = promoted.get(str(record["id"]), [])
            items.append(record)
        return {"stored": True, "run": _discover_run(path), "items": items}

    @api.post(
        "/discover/{cluster_id}/promote",
        response_model=m.PromoteResult,
        responses=_errors(404, 409, 413, 422, 501),
        summary="Make a discovered cluster a custom narrative (as taxonomy add --from-cluster)",
    )
    def promote(cluster_id: str, body: m.PromoteRequest) -> dict[str, Any]:
        path = _sqlite_file(url, "custom narratives")
        discover = _module("narrascope.corpus.discover", "cluster_examples")
        models = _module(
            "narrascope.models.custom_narratives", "add_custom_narrative", "normalise_label"
        )
        prefix = str(getattr(models, "CUSTOM_PREFIX", "Custom: "))
        stored = _custom_labels(path)
        try:  # as `taxonomy add` keeps it: NFC, no "Custom:", a stored spelling reused
            label = models.normalise_label(body.label, stored)
        except NarrascopeError as exc:  # empty, or a stored label but for case (E100)
            raise HTTPException(422, str(exc)) from exc
        try:
            texts = discover.cluster_examples(path, cluster_id)
        except KeyError as exc:
            raise HTTPException(
                404, f"no discovered cluster {cluster_id!r}; `narrascope discover --db` finds them"
            ) from exc
        texts = [t if isinstance(t, str) else str(getattr(t, "text", t)) for t in texts or []]
        examples = list(dict.fromkeys(t.strip() for t in texts if t.strip()))
        least = int(getattr(models, "MIN_EXAMPLES", 10))
        if len(examples) < least:
            raise HTTPException(
                422,
                f"cluster {cluster_id} has {len(examples)} distinct text(s); a custom "
                f"narrative needs at least {least} (add examples with `narrascope taxonomy add "
                "--examples`)",
            )
        if not body.replace and label in stored:
            raise HTTPException(
                409,
                f"a custom narrative {label!r} exists already; choose another label, or "
                "send replace: true to learn it again from this cluster",
            )
        try:
            result = models.add_custom_narrative(
                path, label, examples, description=body.description, source=f"cluster {cluster_id}"
            )
        except ModelError as exc:
            raise HTTPException(503, f"the encoder cannot be used: {exc}") from exc
        except StoreError:
            raise
        except NarrascopeError as exc:  # what `taxonomy add` refuses (a bad label, too few)
            raise HTTPException(422, str(exc)) from exc
        kept = str(result.label)  # the label the store keeps (a stored spelling reused)
        return {
            "label": kept,
            "reported_as": prefix + kept,
            "cluster": cluster_id,
            "examples": len(examples),
            "new": bool(result.new),
            "threshold": float(result.threshold),
            "cv": dict(result.cv),
        }

    @api.get("/health", response_model=m.Health)
    def health() -> dict[str, Any]:
        return {"status": "ok", "documents": stores.get().count(), "version": __version__}

    app.include_router(api)

    @app.get("/", include_in_schema=False)
    def page() -> Any:
        index = STATIC / "index.html"
        if index.is_file():
            return FileResponse(index, media_type="text/html; charset=utf-8")
        return HTMLResponse(PLACEHOLDER)

    app.mount("/static", _Static(directory=STATIC, check_dir=False), name="static")
    if token:
        _declare_token(app)

    # added innermost first: headers on every answer, then origin, token, body size
    app.add_middleware(BodyLimit, limit=max_body_bytes)
    if token:
        app.state.sessions = Sessions()  # the page's logins; a restart ends them
        app.add_middleware(TokenAuth, token=token, sessions=app.state.sessions)
    app.add_middleware(SameOrigin, allowed_hosts=allowed_hosts)
    app.add_middleware(SecurityHeaders)
    return app


def _declare_token(app: FastAPI) -> None:
    """Say in the OpenAPI schema how to present the token (the middleware checks it)."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = build()
            schema.setdefault("components", {})["securitySchemes"] = {
                "bearer": {"type": "http", "scheme": "bearer"},
                "tokenHeader": {"type": "apiKey", "in": "header", "name": "X-Narrascope-Token"},
                "pageCookie": {"type": "apiKey", "in": "cookie", "name": TOKEN_COOKIE},
            }
            schema["security"] = [{"bearer": []}, {"tokenHeader": []}, {"pageCookie": []}]
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


# -- issue 26: campaigns, discover, custom narratives ---------------------------------------


def _module(name: str, *functions: str) -> Any:
    """The module ``name`` with ``functions``, or a 501 saying what this copy lacks."""
    try:
        module = importlib.import_module(name)
    except ImportError as exc:
        raise HTTPException(
            501, f"this narrascope has no {name} ({exc}); update narrascope"
        ) from exc
    missing = [f for f in functions if not callable(getattr(module, f, None))]
    if missing:
        raise HTTPException(
            501, f"this narrascope's {name} has no {', '.join(missing)}; update narrascope"
        )
    return module


def _sqlite_file(url: str, what: str) -> Path:
    """The SQLite file of the server's database: discover and custom narratives keep
    their tables only there (the URL itself is never echoed: it may hold a password)."""
    scheme, sep, rest = url.partition("://")
    if not sep or len(scheme) < 2:
        return Path(url)
    if scheme.lower() == "sqlite" and rest.startswith("/") and rest != "/":
        return Path(rest[1:])
    raise HTTPException(
        501,
        f"{what} needs a SQLite corpus database; this server's is {scheme.lower()} "
        "(export the corpus to a SQLite file and serve that)",
    )


def _without_members(record: dict[str, Any]) -> dict[str, Any]:
    record.pop("members", None)
    return record


def _member_timestamp(value: Any, moment: Callable[[Any], float | None]) -> str | None:
    """A campaign member's date as the clustering read it, ISO 8601 in UTC
    ("05.03.2024" -> "2024-03-05T00:00:00Z"); None when undated ("unknown", "soon").

    ``moment`` is :func:`narrascope.corpus.campaigns.timestamp`, which reads a stored date
    as the clustering read it (an epoch number stored as its digits included, seconds or
    milliseconds and finer; "20240305" is a date, "2024" a year).
    """
    seconds = moment(str(value or "").strip())
    if seconds is None:
        return None
    iso = datetime.fromtimestamp(seconds, UTC).isoformat()
    return iso.removesuffix("+00:00") + "Z"


def _stored_ids(store: Any, ids: Sequence[str]) -> set[str]:
    """Which of ``ids`` are documents of the corpus (bound parameters, 500 at a time)."""
    found: set[str] = set()
    unique = list(dict.fromkeys(ids))
    for k in range(0, len(unique), 500):
        chunk = unique[k : k + 500]
        marks = ", ".join("?" * len(chunk))
        rows = store._rows(f"SELECT id FROM documents WHERE id IN ({marks})", chunk)
        found.update(str(r[0]) for r in rows)
    return found


def _has_discover_run(path: Path) -> bool:
    try:
        from narrascope.store.discover import has_discover_tables
    except ImportError:
        return False
    return bool(has_discover_tables(path))


def _discover_run(path: Path) -> dict[str, Any] | None:
    """The latest discover run (when, on how many units, with which settings), or None."""
    try:
        from narrascope.store.discover import DiscoverStore
    except ImportError:
        return None
    try:
        with DiscoverStore(path) as dstore:
            runs = dstore.runs()
    except (AttributeError, StoreError):
        logger.warning("the discover runs of %s cannot be read", path, exc_info=True)
        return None
    return runs[-1] if runs else None


def _custom_narratives(path: Path) -> list[Any]:
    """The corpus's custom narratives, read-only (no table is created); [] without them."""
    try:
        from narrascope.store.custom_narratives import (
            CustomNarrativeStore,
            holds_custom_narratives,
        )
    except ImportError:
        return []
    if not holds_custom_narratives(path):
        return []
    with CustomNarrativeStore(path, create=False) as store:
        return list(store.narratives())


def _custom_labels(path: Path) -> set[str]:
    return {str(n.label) for n in _custom_narratives(path)}


def _promoted(path: Path) -> dict[str, list[str]]:
    """Discovered cluster id -> the custom narratives made from it (``cluster ID`` source)."""
    out: dict[str, list[str]] = {}
    try:
        narratives = _custom_narratives(path)
    except StoreError:
        logger.warning("the custom narratives of %s cannot be read", path, exc_info=True)
        return out
    for n in narratives:
        source = str(n.source or "")
        if source.startswith("cluster "):
            out.setdefault(source.removeprefix("cluster "), []).append(str(n.label))
    return out


class _Cancelled(Exception):
    pass


class ExportFailed(Exception):
    """The export stopped part way: the response is cut off, so it is no download."""


class _ChunkWriter:
    """A text file whose writes become chunks in a bounded queue (the download's backlog)."""

    def __init__(
        self, chunks: queue.Queue[bytes | ExportFailed | None], cancel: threading.Event
    ) -> None:
        self.chunks = chunks
        self.cancel = cancel
        self.buffer: list[str] = []
        self.size = 0

    def write(self, text: str) -> int:
        self.buffer.append(text)
        self.size += len(text)
        if self.size >= EXPORT_CHUNK:
            self.flush()
        return len(text)

    def flush(self) -> None:
        if self.buffer:
            data = "".join(self.buffer).encode("utf-8", "surrogatepass")
            self.buffer, self.size = [], 0
            self.put(data)

    def put(self, item: bytes | ExportFailed | None) -> None:
        while not self.cancel.is_set():
            try:
                self.chunks.put(item, timeout=0.5)
                return
            except queue.Full:
                continue
        raise _Cancelled


def _export_stream(url: str, fmt: str, f: Filters) -> AsyncIterator[bytes]:
    """Stream the export: a thread with its own store connection writes, the response reads.

    The thread walks ``iter_documents`` (a batch of documents at a time) through the
    export format's own writer, so memory stays bounded whatever the corpus size, and it
    stops when the client goes away. When it fails part way, what it wrote is sent and
    then the body raises: the transfer is aborted (no last chunk), so the client sees an
    incomplete download rather than a whole one that merely holds fewer documents.
    """
    chunks: queue.Queue[bytes | ExportFailed | None] = queue.Queue(maxsize=16)
    cancel = threading.Event()
    writer = _ChunkWriter(chunks, cancel)

    def produce() -> None:
        try:
            with open_store(url) as store:
                docs = store.iter_documents(f)
                records: Iterator[dict[str, Any]] = (d.to_dict() for d in docs)
                get_format(fmt).write(records, writer)  # type: ignore[arg-type]
            writer.flush()
        except _Cancelled:
            return
        except Exception as exc:
            logger.exception("export failed; the download is cut short")
            with contextlib.suppress(Exception):
                writer.flush()  # the documents written before it still reach the client
            with contextlib.suppress(_Cancelled):
                writer.put(ExportFailed(f"the export failed part way ({type(exc).__name__})"))
            return
        with contextlib.suppress(_Cancelled):
            writer.put(None)

    def take() -> bytes | ExportFailed | None:
        while not cancel.is_set():
            try:
                return chunks.get(timeout=0.5)
            except queue.Empty:
                continue
        return None

    async def body() -> AsyncIterator[bytes]:
        thread = threading.Thread(target=produce, name="narrascope-export", daemon=True)
        thread.start()
        try:
            while (chunk := await anyio.to_thread.run_sync(take)) is not None:
                if isinstance(chunk, ExportFailed):
                    raise chunk  # aborts the response: the client sees it cut off
                yield chunk
        finally:
            cancel.set()

    return body()
