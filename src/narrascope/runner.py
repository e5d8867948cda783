"""Run a pipeline over a stream of inputs and write the results durably, resumably, atomically.

Why it is built this way: batches of real media take hours, machines get killed, and one
bad document must not cost the others. So

* every analysed document is appended to a journal, ``<out>.partial.jsonl``, which is
  fsynced after each batch — a ``kill -9`` loses at most the batch in flight;
* at the end the requested format is rendered from the journal into ``<out>.tmp`` and
  moved onto ``<out>`` with :func:`os.replace`, so ``<out>`` is always either the previous
  complete output or the new complete one, never half a file; then the journal goes;
* ``resume=True`` skips ids already in the journal or in an existing ``<out>`` (every
  format can read its own output back: html embeds one JSON record per document; ids are
  compared in the form the format writes them) and the final output holds old and new
  records, each id once: a document analysed again (``--db`` found its text changed)
  keeps only its newest record;
* a run without ``resume`` replaces ``<out>``, and says so in ``<out>.fresh`` until it is
  done: resuming an interrupted fresh run finishes it, never mixing in the old output;
* the run's own files (``<out>``, its journal, errors and temporary files) are never
  read as its inputs (:func:`gather_inputs`) when a folder or pattern finds them; an
  input *named* on the command line that the run would write over (``-o posts.csv`` with
  ``posts.csv`` an input, or a file in a Parquet ``--out`` folder) is refused instead, as
  is an ``--out`` that is the ``--db`` or any SQLite file (:func:`refuse_overwriting`):
  one slip of a flag must not replace what the user has;
* ``out`` ``-`` (:data:`STDOUT`) writes the format to stdout, for a pipe: JSONL record by
  record, the other formats rendered from a journal in a temporary folder at the end;
  there is nothing to resume from there;
* with a ``store`` (``analyze --db``), each batch's documents are also saved to the corpus
  database in one transaction, right after the journal's fsync — another sink of the same
  loop, not a second code path; ``resume`` then also skips documents whose id *and* text
  (content hash) are already stored;
* input errors, documents on which a stage raises and documents the store refuses are
  reported at once, logged to ``<out>.errors.jsonl`` and the run goes on (a failing batch
  is re-run one document at a time to find the culprit);
* an id that comes twice in one run is such an error too: the first document is analysed
  and kept, the repeat is reported (``id 'x' repeated: first seen in a.jsonl``), never
  dropped in silence — "skipped" counts only what ``resume`` found done;
* what a record cannot say is told to the writers that show it (:func:`_run_facts`): how
  many inputs failed and where they are listed (the html report says so in its header:
  the report is what gets shared), and whether the pipeline matched known debunks at all
  (else the report and the CSV must not read "0 repeat known debunks");
* a summary (no ``out``, and no ``store`` unless the caller asks: ``analyze --db`` shows
  what it stored, the web server's jobs print nothing) is printed with what the console
  cannot encode escaped
  (``\\u0431``): a cp1252 console meets Cyrillic text, and must not stop the batch;
* a batch holding a long text (``LONG_TEXT_BYTES``) takes minutes, not milliseconds, so
  the progress bar then also shows the stage running (``entities 3/6``), from the
  pipeline's ``progress`` callback.
  :class:`~narrascope.errors.ModelError` is not per-document, so it stops the run.

The exit code is the CLI's decision: by convention it exits 1 when ``BatchReport.failed``
is non-empty (see :attr:`BatchReport.exit_code`).
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import inspect
import json
import logging
import os
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import IO, Any, Literal, Protocol

from tqdm.auto import tqdm

from narrascope.doc import Document
from narrascope.errors import (
    E_EMPTY,
    E_INPUT,
    E_STAGE_FAILED,
    E_STORE_DOCUMENT,
    InputError,
    ModelError,
    NarrascopeError,
)
from narrascope.export import Format, format_terminal_summary, get_format
from narrascope.export.records import dumps_record, iter_jsonl
from narrascope.export.semeval import read_back_id
from narrascope.export.terminal import terminal_width
from narrascope.ingest import discover
from narrascope.ingest.formats import repeated_id
from narrascope.ingest.remote import has_magic, is_url
from narrascope.store import DocumentsNotSaved, Store

logger = logging.getLogger(__name__)

STAGE_FAILED = E_STAGE_FAILED  # kept as the runner's public name
# A text from this size (UTF-8 bytes) takes long enough per stage that the progress bar
# says which stage is running; shorter ones finish a whole batch in about a second.
LONG_TEXT_BYTES = 200_000
STDOUT = "-"  # ``--out -``: the output goes to stdout
SQLITE_HEADER = b"SQLite format 3\x00"
StageProgress = Callable[[str, int, int], None]  # (stage name, stages done, stages in all)


class SupportsPipe(Protocol):
    """Anything with ``Pipeline.pipe``'s shape, so tests and wrappers can stand in.

    A ``pipe`` that also takes ``progress=`` (as :meth:`Pipeline.pipe` does) is told to
    report its stages when a batch holds a long text; one that does not still works.
    """

    def pipe(self, texts: Iterable[Document], *, batch_size: int = ...) -> Iterator[Document]: ...


def _reports_stages(pipeline: SupportsPipe) -> bool:
    try:
        return "progress" in inspect.signature(pipeline.pipe).parameters
    except (TypeError, ValueError):  # a builtin or C callable: no signature to read
        return False


def _is_long(doc: Document) -> bool:
    if len(doc.text) >= LONG_TEXT_BYTES:  # characters never outnumber UTF-8 bytes
        return True
    if len(doc.text) * 4 < LONG_TEXT_BYTES:  # nor are there more than 4 bytes each
        return False
    return len(doc.text.encode("utf-8", "surrogatepass")) >= LONG_TEXT_BYTES


@dataclass
class BatchReport:
    """What a run did. ``failed`` non-empty means the CLI should exit with status 1."""

    processed: int
    skipped: int
    failed: list[InputError]
    output: Path | None
    errors_file: Path | None

    @property
    def exit_code(self) -> int:
        return 1 if self.failed else 0


def journal_path(out: Path) -> Path:
    return out.with_name(out.name + ".partial.jsonl")


def errors_path(out: Path) -> Path:
    return out.with_name(out.name + ".errors.jsonl")


def fresh_path(out: Path) -> Path:
    """The marker of a run that replaces ``out``: while it is there, ``resume`` finishes
    that run and ignores what ``out`` held before it."""
    return out.with_name(out.name + ".fresh")


def mark_fresh(marker: Path) -> None:
    """Create ``marker`` durably (before the journal: a resume must never miss it)."""
    marker.touch()
    _fsync_dir(marker.parent)


def own_files(out: Path, *, folder: bool = False) -> Callable[[Path], bool]:
    """Whether a path is one of the files a run into ``out`` writes (``folder``: a Parquet
    dataset, all of whose files are the run's), compared as resolved paths."""
    where = out.resolve()
    if folder:
        return lambda path: path.resolve().is_relative_to(where)
    suffixes = ("", ".partial.jsonl", ".errors.jsonl", ".tmp", ".fresh")
    names = {where.with_name(where.name + s) for s in suffixes}
    return lambda path: path.resolve() in names


def writes_to_stdout(out: Path | str | None) -> bool:
    """Whether ``out`` is :data:`STDOUT` (``--out -``)."""
    return out is not None and str(out) == STDOUT


def is_device(out: Path | str) -> bool:
    """Whether ``out`` names something that exists and is neither a file nor a folder."""
    if writes_to_stdout(out):
        return False
    path = Path(out)
    return path.exists() and not path.is_file() and not path.is_dir()


def is_sqlite_file(path: Path) -> bool:
    """Whether ``path`` is a SQLite database, told by its header (not its name)."""
    try:
        with path.open("rb") as handle:
            return handle.read(len(SQLITE_HEADER)) == SQLITE_HEADER
    except OSError:  # missing, a folder, unreadable
        return False


def _same_file(a: Path, b: Path) -> bool:
    """Whether two paths name one file: the same inode when both exist (links, ``..``),
    else the same resolved path (both still to be created)."""
    if a.exists() and b.exists():
        try:
            return a.samefile(b)
        except OSError:
            return False
    return a.resolve() == b.resolve()


def _database_file(value: str | Path) -> Path | None:
    """The local file a ``--db``-like value names (a path or ``sqlite:///`` URL); None
    for a database that is no local file (PostgreSQL)."""
    from narrascope.store.own_tables import sqlite_file

    try:
        return sqlite_file(value, "")
    except NarrascopeError:
        return None


def refuse_overwriting(out: Path | None, named: Mapping[str, str | Path | None]) -> None:
    """Refuse an ``--out`` whose writing would destroy data: the file of one of the
    ``named`` options (flag -> value: ``{"--db": "corpus.db"}``), or any SQLite database
    (a corpus or debunk database typed after ``-o`` instead of ``--db``). A usage error
    (E100, exit 2) before anything is opened, so nothing is touched."""
    if out is None or writes_to_stdout(out):
        return
    for flag, value in named.items():
        target = None if value is None else _database_file(value)
        if target is not None and _same_file(out, target):
            raise NarrascopeError(
                E_INPUT,
                f"--out {out} is the {flag} file; writing the output there would destroy "
                "it: give --out another path",
            )
    if out.is_file() and is_sqlite_file(out):
        raise NarrascopeError(
            E_INPUT,
            f"--out {out} is a SQLite database (a corpus or debunk database?); writing the "
            "output there would destroy it: give --out another path (the database goes "
            "after --db)",
        )


def _named_file(raw: str | Path) -> bool:
    """Whether an input is a path the user named itself (a file or a folder), not a
    pattern's matches nor stdin or a URL."""
    name = str(raw)
    if name == STDOUT or is_url(name):
        return False
    return Path(raw).exists() or not has_magic(name)


@dataclass
class GatheredInputs:
    """What :func:`gather_inputs` found: the inputs to read, and the named folders and
    patterns that hold no file to read (``analyze emptydir`` must not be a silent no-op)."""

    paths: list[str | Path]
    empty: list[str]

    def errors(self) -> list[InputError]:
        """An input error for each empty folder or pattern, reported like a bad file."""
        return [InputError(name, "no files found", E_EMPTY) for name in self.empty]


def gather_inputs(
    inputs: Sequence[str | Path], out: Path | None, *, folder: bool = False
) -> GatheredInputs:
    """``inputs`` with local folders and patterns expanded into their files, less the
    files of the run into ``out`` (:func:`own_files`): an ``--out`` inside an input
    folder must not be read back as input, nor its journal as it grows. Stdin and URLs
    are left as they are (they cannot be the run's own files).

    Only files a folder or pattern finds are left out in silence; an input named on the
    command line that the run writes (``folder``: that lies in the output folder) is a
    usage error (E100): reading nothing from it and then writing over it loses it."""
    own = own_files(out, folder=folder) if out is not None and not writes_to_stdout(out) else None
    kept: list[str | Path] = []
    empty: list[str] = []
    for raw in inputs:
        if str(raw) == STDOUT or is_url(str(raw)):
            kept.append(raw)
            continue
        named = _named_file(raw)
        if own is not None and named and own(Path(raw)):
            what = (
                f"the input {raw} lies in the --out folder {out}, where the run writes"
                if folder
                else f"--out {out} would write over the input {raw}"
            )
            raise NarrascopeError(E_INPUT, f"{what}: give --out another path")
        before = len(kept)
        for found in discover([raw]):
            if own is not None and isinstance(found, Path) and own(found):
                logger.info("not reading %s: it is this run's output", found)
                continue
            kept.append(found)
        if len(kept) == before:  # a folder or pattern with nothing to read
            empty.append(str(raw))
    return GatheredInputs(kept, empty)


def inputs_without_outputs(
    inputs: Sequence[str | Path], out: Path | None, *, folder: bool = False
) -> list[str | Path]:
    """The inputs to read of :func:`gather_inputs` (the same refusals)."""
    return gather_inputs(inputs, out, folder=folder).paths


class _ByteSink(Protocol):
    def write(self, data: bytes, /) -> int: ...

    def flush(self) -> None: ...


def _stdout_bytes() -> _ByteSink:
    """stdout for UTF-8 JSON lines (its text layer flushed first, to keep the order);
    its text layer itself when it has no bytes below (a stand-in)."""
    sys.stdout.flush()
    return getattr(sys.stdout, "buffer", None) or _TextAsBytes(sys.stdout)


class _TextAsBytes:
    """A text stream that takes the UTF-8 bytes :func:`dumps_record` makes."""

    def __init__(self, text: IO[str]) -> None:
        self._text = text

    def write(self, data: bytes) -> int:
        return self._text.write(data.decode("utf-8"))

    def flush(self) -> None:
        self._text.flush()


def _print_error(error: InputError) -> None:
    tqdm.write(f"error: {error.source}: {error.reason}", file=sys.stderr)


def _print_summary(doc: Document) -> None:
    """The document's summary on stdout, at the terminal's width; characters stdout's
    encoding lacks are escaped, never an error that stops the batch."""
    text = format_terminal_summary(doc, width=terminal_width()) + "\n"
    encoding = getattr(sys.stdout, "encoding", None) or "utf-8"
    with contextlib.suppress(LookupError):  # an encoding Python does not know: as it is
        text = text.encode(encoding, "backslashreplace").decode(encoding, "replace")
    tqdm.write(text, file=sys.stdout)


def checks_debunks(pipeline: SupportsPipe) -> bool | None:
    """Whether ``pipeline`` matches documents against known debunks (it has the
    ``debunks`` stage); None when it cannot say: it lists no ``stage_names`` (a stand-in,
    or the Ray engine's driver, whose documents arrive analysed)."""
    names = getattr(pipeline, "stage_names", None)
    return None if names is None else "debunks" in names


def _run_facts(write: Callable[..., Any], facts: dict[str, Any]) -> dict[str, Any]:
    """The facts of the run (see the module docstring) that a format's ``write`` takes
    as keyword arguments; a writer that takes none gets none."""
    try:
        accepted = inspect.signature(write).parameters
    except (TypeError, ValueError):  # a builtin or C callable: no signature to read
        return {}
    return {name: value for name, value in facts.items() if name in accepted}


def _fsync(fh: IO[Any]) -> None:
    fh.flush()
    os.fsync(fh.fileno())


def _fsync_dir(path: Path) -> None:
    """Make a rename durable; not every platform can open a directory, which is fine."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _recover_journal(path: Path) -> set[str]:
    """Ids of the complete records in a journal; cuts off a last line a crash left unfinished.

    The cut matters: appending after half a line would glue two records into one bad line.
    """
    ids: set[str] = set()
    if not path.exists():
        return ids
    good_end = 0
    with path.open("r+b") as fh:
        for line in fh:
            if not line.endswith(b"\n"):
                break
            good_end += len(line)
            try:
                record = json.loads(line)
            except ValueError:
                logger.warning("skipping an unreadable line in %s", path)
                continue
            if isinstance(record, dict) and record.get("id"):
                ids.add(str(record["id"]))
        fh.truncate(good_end)
    return ids


def _ids_in_output(out: Path, fmt: Format) -> set[str]:
    """Ids of an earlier output, as its reader gives them back (see :func:`read_back_id`)."""
    if not out.exists():
        return set()
    with out.open(encoding="utf-8", errors="replace", newline="") as fh:
        return {str(r["id"]) for r in fmt.read(fh) if r.get("id")}


class _ErrorLog:
    """Appends failures to ``<out>.errors.jsonl``; the file exists only if something failed."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._fh: IO[str] | None = None
        if path is not None:
            path.unlink(missing_ok=True)  # errors of an earlier run are retried, so stale

    def add(self, error: InputError) -> None:
        if self.path is None:
            return
        if self._fh is None:
            self._fh = self.path.open("a", encoding="utf-8", errors="replace")
        entry = {
            "source": error.source,
            "reason": error.reason,
            "code": error.code,
            "time": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        self._fh.write(json.dumps(entry, ensure_ascii=False) + "\n")

    def commit(self) -> None:
        if self._fh is not None:
            _fsync(self._fh)

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()


def _analyse(
    pipeline: SupportsPipe, batch: list[Document], progress: StageProgress | None = None
) -> list[Document | InputError]:
    """Run one batch; if it raises, re-run its documents one by one to isolate the bad one."""
    # a pipeline that never annotates in place (``copies_needed = False``: the Ray engine's
    # driver, whose documents arrive analysed) is spared the pristine copies, 3/4 of its time
    needs_copies = len(batch) > 1 and getattr(pipeline, "copies_needed", True)
    pristine = [copy.deepcopy(d) for d in batch] if needs_copies else batch
    extra = {} if progress is None else {"progress": progress}
    try:
        return list(pipeline.pipe(batch, batch_size=len(batch), **extra))
    except ModelError:
        raise
    except Exception as exc:
        if len(batch) == 1:
            return [_stage_error(batch[0], exc)]
        logger.debug("batch failed, isolating the document", exc_info=True)
    results: list[Document | InputError] = []
    for doc in pristine:  # fresh copies: stages that ran before the crash annotated in place
        try:
            results.extend(pipeline.pipe([doc], batch_size=1, **extra))
        except ModelError:
            raise
        except Exception as exc:
            results.append(_stage_error(doc, exc))
    return results


def _stage_error(doc: Document, exc: Exception) -> InputError:
    logger.debug("document %s failed", doc.id, exc_info=exc)
    source = doc.id or str(doc.meta.get("source") or doc.meta.get("path") or "?")
    return InputError(source, f"analysis failed: {type(exc).__name__}: {exc}", STAGE_FAILED)


def _journal_records(journal: Path, *, dedupe: bool) -> Iterator[dict]:
    """The journal's records, streamed; with ``dedupe`` only the last one of each id (a
    resumed run may analyse again a document the interrupted run had journaled)."""
    last: dict[str, int] = {}
    if dedupe:
        with journal.open("rb") as fh:
            for i, record in enumerate(iter_jsonl(fh)):
                if record.get("id"):
                    last[str(record["id"])] = i
    with journal.open("rb") as fh:
        for i, record in enumerate(iter_jsonl(fh)):
            if not dedupe or last.get(str(record.get("id") or ""), i) == i:
                yield record


def _merged_records(
    out: Path, fmt: Format, journal: Path, *, carry: bool, dedupe: bool
) -> Iterator[dict]:
    """Records of the earlier output not redone in this run, then the journal's, streamed."""
    if carry:
        key = partial(read_back_id, fmt.name)
        with journal.open("rb") as fh:
            redone = {key(str(r["id"])) for r in iter_jsonl(fh) if r.get("id")}
        with out.open(encoding="utf-8", errors="replace", newline="") as fh:
            yield from (r for r in fmt.read(fh) if key(str(r.get("id") or "")) not in redone)
    yield from _journal_records(journal, dedupe=dedupe)


def _render(
    out: Path,
    fmt: Format,
    journal: Path,
    *,
    carry: bool,
    dedupe: bool,
    facts: dict[str, Any] | None = None,
) -> None:
    """Write the final output next to ``out`` and move it into place in one atomic step;
    ``facts``: what the run knows beyond the records (see :func:`_run_facts`)."""
    if fmt.name == "jsonl" and not carry and not dedupe:
        os.replace(journal, out)  # the journal already is the output, fsynced batch by batch
        _fsync_dir(out.parent)
        return
    tmp = out.with_name(out.name + ".tmp")
    options = _run_facts(fmt.write, facts or {})
    try:
        with tmp.open("w", encoding="utf-8", errors="replace", newline="") as fh:
            records = _merged_records(out, fmt, journal, carry=carry, dedupe=dedupe)
            fmt.write(records, fh, **options)
            _fsync(fh)
        os.replace(tmp, out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(out.parent)
    journal.unlink(missing_ok=True)


def run_batch(
    items: Iterable[Document | InputError],
    pipeline: SupportsPipe,
    *,
    out: Path | None,
    fmt: str,
    resume: bool = False,
    batch_size: int = 16,
    progress: bool | Literal["always"] = True,
    on_error: Callable[[InputError], None] | None = None,
    total: int | None = None,
    store: Store | None = None,
    summaries: bool | None = None,
) -> BatchReport:
    """Analyse ``items`` into ``out`` in format ``fmt`` (``out`` ``-``: to stdout); with
    ``out=None`` print summaries.

    ``progress=True`` shows a bar on stderr when it is a terminal, ``"always"`` forces it,
    ``False`` hides it. ``total`` (the number of inputs, if known) gives the bar an ETA.
    Documents are skipped when their id was already written (``resume``); a document
    repeating an id of this run is an error (the first is kept); documents without an id
    are never skipped. With ``store``, every analysed
    document is saved there too (and ``resume`` needs it in every sink to skip it).

    ``summaries``: print each document's summary on stdout (only without ``out``); by
    default when there is neither ``out`` nor ``store``: a library caller that stores
    (the web server's jobs) has no terminal, and the CLI asks for them (``analyze --db``
    shows what it stored).
    """
    if out is not None and is_device(out):
        # /dev/null, a named pipe: written as a stream, as stdout is (the finished file
        # moved onto it would replace the device itself)
        if resume:
            raise ValueError(f"resume needs an output file: {out} cannot be read back")
        with (
            open(out, "w", encoding="utf-8", newline="") as stream,
            contextlib.redirect_stdout(stream),
        ):
            report = run_batch(
                items,
                pipeline,
                out=Path(STDOUT),
                fmt=fmt,
                batch_size=batch_size,
                progress=progress,
                on_error=on_error,
                total=total,
                store=store,
                summaries=summaries,
            )
        return dataclasses.replace(report, output=Path(out))
    writer = get_format(fmt)
    if resume and out is None and store is None:
        raise ValueError("resume needs an output file (out=...) or a store")
    to_stdout = writes_to_stdout(out)
    if resume and to_stdout:
        raise ValueError("resume needs an output file: stdout cannot be read back")
    file_out = None if to_stdout else out  # the file the run writes, if any
    if summaries is None:
        summaries = out is None and store is None
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    report_error = on_error or _print_error
    failed: list[InputError] = []
    processed = skipped = 0
    # ids finished by an earlier run, in the form ``out`` holds them (SemEval cleans them)
    done: set[str] = set()
    key = partial(read_back_id, fmt)
    seen: dict[str, str] = {}  # ids of this run → where each was first seen
    journal = journal_path(file_out) if file_out is not None else None
    carry = False
    journaled: set[str] = set()  # ids in the journal an earlier run left
    if file_out is not None and journal is not None:
        file_out.parent.mkdir(parents=True, exist_ok=True)
        if resume:
            journaled = _recover_journal(journal)
            done |= {key(i) for i in journaled}
            if not fresh_path(file_out).exists():  # else: finish a run that replaces it
                carry = file_out.exists()
                done |= _ids_in_output(file_out, writer)
        else:
            mark_fresh(fresh_path(file_out))
            journal.unlink(missing_ok=True)
    errors = _ErrorLog(errors_path(file_out) if file_out is not None else None)
    # stdout: JSONL goes out record by record; another format is rendered at the end from
    # a journal in a temporary folder (``scratch``, removed however the run ends)
    scratch = contextlib.ExitStack()
    if to_stdout and fmt != "jsonl":
        folder = scratch.enter_context(tempfile.TemporaryDirectory(prefix="narrascope-"))
        journal = Path(folder) / "records.jsonl"
    if journal is not None:
        journal_fh: IO[bytes] | _ByteSink | None = journal.open("ab")
    else:
        journal_fh = _stdout_bytes() if to_stdout else None
    disable = progress is False or (None if progress is True else False)
    bar = tqdm(total=total, unit="doc", file=sys.stderr, disable=disable, dynamic_ncols=True)
    reports_stages = _reports_stages(pipeline)

    def finished(doc: Document) -> bool:
        """Done by an earlier run in every sink this run writes to."""
        in_out = out is None or key(doc.id) in done
        return in_out and (store is None or store.contains(doc.id, doc.content_hash))

    def fail(error: InputError) -> None:
        failed.append(error)
        errors.add(error)
        report_error(error)

    def stage_progress(batch: list[Document]) -> StageProgress | None:
        """For a batch with a long text: show each stage as it starts, on the bar and in
        the log (``-v``), so minutes on one text do not look like a hang."""
        long = [d for d in batch if _is_long(d)]
        if not long or not reports_stages:
            return None
        size = max(len(d.text) for d in long)
        what = f"{long[0].id or 'a text'} ({size:,} characters)"

        def show(stage: str, done: int, stages: int) -> None:
            step = f"{stage} {done + 1}/{stages}"
            bar.set_postfix(failed=len(failed), skipped=skipped, stage=step, refresh=True)
            logger.info("%s: %s", what, step)

        return show

    def flush(batch: list[Document]) -> None:
        nonlocal processed
        analysed: list[Document] = []
        for result in _analyse(pipeline, batch, stage_progress(batch)):
            if isinstance(result, InputError):
                fail(result)
                continue
            analysed.append(result)
            processed += 1
            if journal_fh is not None:
                journal_fh.write(dumps_record(result.to_dict()))
            elif summaries:
                _print_summary(result)
        if journal_fh is not None:
            if file_out is not None:  # the journal of a file: durable batch by batch
                _fsync(journal_fh)
            else:  # stdout, or a scratch journal: nothing to keep after a crash
                journal_fh.flush()
        if store is not None and analysed:
            try:
                store.save(analysed)
            except DocumentsNotSaved as exc:  # the rest of the batch is stored
                for doc_id, reason in exc.failures:
                    processed -= 1
                    fail(InputError(doc_id, f"not stored: {reason}", E_STORE_DOCUMENT))
        errors.commit()
        bar.update(len(batch))
        bar.set_postfix(failed=len(failed), skipped=skipped, refresh=False)

    completed = False
    try:
        batch: list[Document] = []
        # 1-based: to say where a repeated id was first seen when no file says it
        for position, item in enumerate(items, 1):
            if isinstance(item, InputError):
                fail(item)
                errors.commit()
                bar.update()
                continue
            if item.id in seen:
                path = item.meta.get("path")
                fail(repeated_id(item.id, str(path or item.id), seen[item.id]))
                errors.commit()
                bar.update()
                continue
            if item.id:
                seen[item.id] = str(item.meta.get("path") or f"input {position} of this run")
            if item.id and resume and finished(item):
                skipped += 1
                bar.update()
                continue
            batch.append(item)
            if len(batch) >= batch_size:
                flush(batch)
                batch = []
        if batch:
            flush(batch)
        completed = True
    finally:
        bar.close()
        errors.close()
        if journal_fh is not None:
            if journal is None:  # stdout's: not ours to close
                journal_fh.flush()
            else:
                journal_fh.close()
        if not completed:
            scratch.close()
    facts = {
        "failed": len(failed),
        "errors_file": errors.path.name if failed and errors.path is not None else None,
        "debunks_checked": checks_debunks(pipeline),
    }
    if file_out is not None and journal is not None:
        # an earlier run's journal may hold ids that were analysed again
        _render(file_out, writer, journal, carry=carry, dedupe=bool(journaled), facts=facts)
        fresh_path(file_out).unlink(missing_ok=True)
    elif to_stdout and journal is not None:
        with scratch:
            records = _journal_records(journal, dedupe=False)
            writer.write(records, sys.stdout, **_run_facts(writer.write, facts))
            sys.stdout.flush()
    return BatchReport(
        processed=processed,
        skipped=skipped,
        failed=failed,
        output=out,
        errors_file=errors.path if failed and errors.path is not None else None,
    )
