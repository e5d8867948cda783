"""``narrascope analyze``: read inputs, run the pipeline, write results as they come."""

from __future__ import annotations

import argparse
import itertools
import sys
from pathlib import Path
from typing import Any

from narrascope.cli.args import reader_fields, whole_number
from narrascope.export import FORMATS, guess_format

# narrascope.ingest.options.INPUT_FORMATS (a test keeps them equal): importing it here
# would load the HTML extractor for every command
INPUT_FORMATS = (
    "txt",
    "md",
    "html",
    "jsonl",
    "csv",
    "tsv",
    "parquet",
    "telegram",
    "4cat",
    "subtitles",
    "pdf",
    "docx",
    "whatsapp",
    "feed",
    "eml",
)


def add_parser(sub: argparse._SubParsersAction, name: str) -> None:
    p = sub.add_parser(
        name,
        aliases=["analyse"],  # the spelling the help texts themselves use
        help="analyse documents for narratives, entity roles and persuasion techniques",
        description="Analyse files, folders (recursively) or stdin ('-') for propaganda "
        "narratives, the roles the text casts entities in and the persuasion techniques of "
        "each paragraph. Exit code 1 means some inputs failed (unreadable, or an id already "
        "used in this run: the first is kept; see the errors file).",
    )
    p.add_argument(
        "inputs",
        nargs="+",
        metavar="INPUT",
        help="file, folder, glob pattern (quoted: 'data/**/*.jsonl'), URL (s3://bucket/posts/, "
        "any filesystem pyarrow reads), or - for stdin",
    )
    p.add_argument(
        "-o",
        "--out",
        help="output file, - for stdout (any format but parquet; the counts go to stderr), "
        "or a folder (DIR/, an existing folder or x.parquet) for a partitioned Parquet "
        "dataset; without it, print a summary per document. Never an input named here, "
        "the --db or another SQLite file (refused: it would be overwritten)",
    )
    p.add_argument(
        "-f",
        "--format",
        choices=[*FORMATS, "parquet"],
        help="output format, with --out (default: from --out's extension, parquet for a "
        "folder, jsonl for a name without an extension; an extension that names no format "
        "is refused)",
    )
    p.add_argument(
        "--db",
        metavar="PATH",
        help="also store every analysed document in this corpus database: a SQLite file "
        "(created if missing), a sqlite:///PATH URL or a postgresql://USER@HOST/DB URL; "
        "for `narrascope stats`, `search` and `serve` (without --out the summary per "
        "document is printed too)",
    )
    p.add_argument(
        "--resume",
        action="store_true",
        help="skip documents already in --out (and, with --db, stored with the same text) "
        "and append the rest",
    )
    fields = reader_fields(p)
    fields.add_argument(
        "--parent-field",
        metavar="FIELD",
        help="group records into threads: a record whose FIELD is empty is a post, a record "
        "whose FIELD names another record's id replies to it; each post becomes one document "
        "with its replies as comments (the whole file is read before its first document)",
    )
    fields.add_argument(
        "--author-field",
        default="author",
        metavar="FIELD",
        help="with --parent-field: the field naming each comment's author (default: author)",
    )
    threads = p.add_argument_group("comment threads")
    threads.add_argument(
        "--no-threads",
        action="store_true",
        help="do not split reader comments from the article: a page or export is analysed "
        "as one text, comments included (by default comment sections in text dumps, HTML "
        "comment markup, Telegram and 4CAT replies are found and kept as comments)",
    )
    p.add_argument(
        "--input-format",
        choices=INPUT_FORMATS,
        help="force the input format instead of guessing it from the extension; telegram: "
        "a Telegram Desktop export (result.json), one document per post with its replies; "
        "4cat: a 4CAT NDJSON export, one document per thread (both are also recognised "
        "in .json/.ndjson files); parquet: one document per row, as a JSONL record "
        "(needs pip install 'narrascope[scale]'); subtitles: SRT or WebVTT (also "
        "recognised by .srt/.vtt), the spoken text with each cue's times in `cues`; pdf, "
        "docx: the text of a PDF's pages or a Word file's paragraphs (also recognised by "
        "their contents); whatsapp: a chat export, one document per message (also "
        "recognised by its first lines); feed: RSS or Atom, one document per item (also "
        "recognised by .rss/.atom, or .xml with a feed inside); eml: an e-mail, its "
        "subject and text",
    )
    p.add_argument(
        "--max-bytes",
        type=int,
        default=10_000_000,
        help="largest file (txt/html; a pdf/docx may be 20 times larger, its text not), "
        "record text (jsonl/csv) or thread (--parent-field, Telegram, 4CAT: the post and "
        "its replies) to read",
    )
    p.add_argument(
        "--mentions",
        type=Path,
        metavar="FILE",
        help="score exactly these entity mentions (SemEval subtask-1 entity-mentions file: "
        "id, mention, start, end inclusive) instead of detecting entities",
    )
    p.add_argument(
        "--entity-detector",
        choices=("crf", "packaged"),
        default="crf",
        help="crf: our tagger for every language (fast; trained on the annotations and on "
        "spaCy/natasha output); packaged: spaCy for English, natasha for Russian (slower)",
    )
    p.add_argument(
        "--context-entities",
        type=int,
        default=3,
        metavar="N",
        help="how many entities per document (the most framed) the fine-tuned transformer "
        "reads in context, ~0.05 s each; 0: n-gram model only (default 3)",
    )
    p.add_argument(
        "--debunks",
        metavar="FILE_OR_DB",
        help="match every document against these known debunks: a database filled by "
        "`narrascope debunks add`, or a JSONL/CSV file or vclaims folder read for this run "
        "(default: the debunks kept in --db, when it holds any)",
    )
    p.add_argument(
        "--no-debunk-reader",
        dest="debunk_reader",
        action="store_false",
        help="match posts without the debunk reader even when the database holds its "
        "vectors: about 12 ms less a post, and fewer restatements found (README)",
    )
    p.add_argument(
        "--batch-size",
        type=whole_number(),
        default=16,
        metavar="N",
        help="documents analysed together (default 16)",
    )
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    _add_engine_arguments(p)
    p.set_defaults(run=run)


# --- engines (issue 27): --engine ray runs the same pipeline on a Ray cluster ---------------


def _add_engine_arguments(p: argparse.ArgumentParser) -> None:
    engine = p.add_argument_group("engine (docs/scale.md)")
    engine.add_argument(
        "--engine",
        choices=("local", "ray"),
        default="local",
        help="local: this process (default); ray: Ray actors that each load the "
        "models once (needs narrascope[scale]); records are identical",
    )
    engine.add_argument(
        "--address",
        metavar="ADDR",
        help="with --engine ray: join this cluster (auto, HOST:6379, or ray://HOST:10001 "
        "with ray[client]); without it a local Ray is started with --workers CPUs and "
        "stopped afterwards",
    )
    engine.add_argument(
        "--workers",
        type=int,
        metavar="N",
        help="with --engine ray: actors, each with its own pipeline (default: the CPUs of "
        "the cluster, or of this machine, over --cpus-per-worker)",
    )
    engine.add_argument(
        "--cpus-per-worker",
        type=int,
        metavar="N",
        help="with --engine ray: CPUs each actor reserves and its models' threads "
        "(default 1; more CPUs per worker means fewer copies of the models in memory)",
    )


def _engine_error(args: argparse.Namespace) -> str | None:
    """Why the engine flags cannot run, or None."""
    if args.engine != "ray":
        if (args.address, args.workers, args.cpus_per_worker) != (None, None, None):
            return "--address, --workers and --cpus-per-worker need --engine ray"
        return None
    if args.workers is not None and args.workers < 1:
        return "--workers must be at least 1"
    if args.cpus_per_worker is not None and args.cpus_per_worker < 1:
        return "--cpus-per-worker must be at least 1"
    from narrascope.engine import ray_available

    if not ray_available():
        return "--engine ray needs Ray: pip install 'narrascope[scale]'"
    return None


def _has_pyarrow() -> bool:
    import importlib.util

    return importlib.util.find_spec("pyarrow") is not None


def cli_pipeline(
    config: dict[str, dict[str, Any]], debunks: str | None, db: str | None, reader: bool = True
) -> Any:
    """The pipeline ``analyze`` builds, made where it runs (on each Ray actor): the
    debunk matcher of a ``--debunks`` file is built there, not shipped."""
    import narrascope

    config = dict(config)
    found = debunk_config(debunks, db, reader=reader)
    if found is not None:
        config["debunks"] = found
    return narrascope.load(config=config)


def cli_stage_names(
    config: dict[str, dict[str, Any]], debunks: str | None, db: str | None
) -> list[str]:
    """The stages :func:`cli_pipeline` builds, named where no model loads (the Ray
    driver, whose report says whether the documents were checked against known
    debunks): the debunk stage is there when ``--debunks`` is given (already checked by
    :func:`check_debunks`) or ``--db`` holds debunks."""
    from narrascope.pipeline.factory import corpus_debunks, stage_plan

    planned = dict(config)
    if debunks is not None or corpus_debunks(db) is not None:
        planned["debunks"] = {}
    return stage_plan(config=planned)


def _flags(message: str) -> str:
    """ReadOptions speaks of its fields; the user typed flags."""
    for name in ("parent_field", "author_field", "text_field", "threads=True"):
        flag = "--no-threads off" if name == "threads=True" else "--" + name.replace("_", "-")
        message = message.replace(name, flag)
    return message


def custom_narrative_config(db: str | None) -> dict[str, Any] | None:
    """The custom-narrative stage's parameters: the user's own narratives kept in ``--db``
    (`narrascope taxonomy add`), read once here so Ray actors get them with the config;
    None when it holds none (a read-only look: such a database is left untouched)."""
    from narrascope.stages.custom_narratives import load_narratives

    found = load_narratives(db) if db is not None else []
    return {"narratives": found} if found else None


def debunk_config(
    given: str | None, db: str | None, *, reader: bool = True
) -> dict[str, Any] | None:
    """The debunk stage's parameters: ``--debunks`` (a debunk database, or a file or
    folder of fact-checks read into memory for this run), else ``--db`` (a path or a
    ``sqlite:///`` URL alike) when it is a SQLite file that already holds debunks; None:
    no matching. ``reader=False`` (``--no-debunk-reader``): posts are matched without the
    debunk reader, whatever vectors the database holds."""
    if given is not None:
        if _debunk_database(given):
            found: dict[str, Any] | None = {"db": given}
        else:
            return {"matcher": _matcher_from_files(given, reader=reader)}
    else:
        from narrascope.pipeline.factory import corpus_debunks

        found = corpus_debunks(db)  # the web server's too: a document is matched alike
    if found is not None and not reader:
        found = {**found, "use_reader": False}
    return found


def check_debunks(given: str | None) -> None:
    """Refuse a ``--debunks`` that provides no debunks, before any model loads (a usage
    error, exit 2: a run that silently matches nothing looks like a clean corpus)."""
    if given is not None and not _debunk_database(given):
        _fact_checks(given, report=False)


# what a file named as a database ends in: one that is no SQLite file is a mistake (a
# damaged copy, another program's file), never fact-checks to read
DATABASE_SUFFIXES = (".db", ".sqlite", ".sqlite3")


def _debunk_database(given: str) -> bool:
    """Whether ``--debunks`` names a debunk database (else fact-check files). A SQLite
    file is told by its header, not its name, and must hold debunks; a missing file is
    an error, never a new empty database (as a ``sqlite:///`` URL would make)."""
    from narrascope.errors import E_EMPTY, E_NOT_FOUND, E_STORE_OPEN, NarrascopeError
    from narrascope.store.debunks import debunk_db_path

    path = debunk_db_path(given)  # the file of a sqlite:/// URL; PostgreSQL is refused
    url = path != Path(given)
    if not path.exists():
        raise NarrascopeError(E_NOT_FOUND, f"--debunks {given}: no such file or folder")
    from narrascope.runner import is_sqlite_file

    if not is_sqlite_file(path):  # a folder or other files: read as fact-check files
        if url:
            raise NarrascopeError(E_NOT_FOUND, f"--debunks {given}: not a SQLite database")
        if path.is_file() and path.suffix.lower() in DATABASE_SUFFIXES:  # named as one
            raise NarrascopeError(
                E_STORE_OPEN,
                f"--debunks {given}: not a SQLite debunk database (`narrascope debunks "
                "add FILE --db DB` makes one); or give the fact-check file itself (JSONL, "
                "CSV or a vclaims folder)",
            )
        return False
    if not _holds_debunks(path):
        raise NarrascopeError(
            E_EMPTY,
            f"--debunks {given}: this database holds no debunks; import fact-checks into "
            f"it with `narrascope debunks add FILE --db {given}`",
        )
    return True


def _holds_debunks(target: str | Path) -> bool:
    """Whether ``target`` (a path or ``sqlite:///`` URL) is a SQLite file with a non-empty
    debunk table (read-only look: a corpus database without debunks is left untouched)."""
    from narrascope.store.own_tables import holds_rows

    return holds_rows(target, "debunks")


def _fact_checks(given: str, *, report: bool) -> list[Any]:
    """The good rows of a fact-check file or folder (bad ones on stderr with ``report``);
    none is an error naming why, in analyze's terms (it has no --claim-field)."""
    from narrascope.errors import E_EMPTY, NarrascopeError
    from narrascope.ingest.debunks import BadRow, Note, read_debunks

    def warn(note: Note) -> None:
        if report and note.warning:
            print(f"narrascope: warning: {note}", file=sys.stderr)

    good, bad = [], []
    for item in read_debunks(given, notes=warn):
        if isinstance(item, BadRow):
            bad.append(item)
            if report:
                print(f"narrascope: {item.source}:{item.line}: {item.reason}", file=sys.stderr)
        else:
            good.append(item)
    if good:
        return good
    if not bad:
        raise NarrascopeError(E_EMPTY, f"--debunks {given}: holds no fact-checks")
    first = bad[0]
    message = (
        f"--debunks {given}: no debunk could be read ({len(bad)} bad "
        f"{'row' if len(bad) == 1 else 'rows'}; the first: {first.source}:{first.line}: "
        f"{first.reason})"
    )
    if any(b.hint or b.reason.startswith("no 'claim'") for b in bad):
        message += (
            "; analyze reads the claim from a 'claim' field: import a file that names it "
            f"otherwise with `narrascope debunks add {given} --db DB --claim-field NAME`, "
            "then give --debunks DB"
        )
    raise NarrascopeError(E_EMPTY, message)


def _matcher_from_files(given: str, *, reader: bool = True) -> Any:
    """A matcher over the fact-checks of a file or folder, held in memory for the run;
    bad rows are reported on stderr, as `debunks add` does."""
    from narrascope.models.debunk_match import DebunkMatcher
    from narrascope.models.encoder import SentenceEncoder
    from narrascope.store.debunks import DebunkStore

    good = _fact_checks(given, report=True)  # before the encoder loads
    store = DebunkStore(":memory:")
    store.add(good, encode=SentenceEncoder.shared().encode)
    if reader:
        _read_with_reader(store)
    return DebunkMatcher(store, use_reader=reader)


def _read_with_reader(store: Any) -> None:
    """The debunk reader's vectors of fact-checks read for this run, when the matcher
    would read with them (a database of ``SMALL_DATABASE`` debunks or more) and
    ``debunks add`` would make them by default (``READER_AUTO`` at most): the same
    matches as from a database made of the same file, at ~11 ms a debunk each run."""
    from narrascope.cli.debunks import READER_AUTO, READER_SECONDS
    from narrascope.models.debunk_match import SMALL_DATABASE
    from narrascope.models.debunk_reader import make_debunk_vectors, reader_version

    count = store.count()
    if not (SMALL_DATABASE <= count <= READER_AUTO and reader_version()):
        return
    print(
        f"reading {count:,} debunks with the debunk reader (about "
        f"{count * READER_SECONDS:.0f} s; `narrascope debunks add` keeps them in a database)",
        file=sys.stderr,
    )
    make_debunk_vectors(store)


def resolve_format(fmt: str | None, out: Path | None, *, as_dir: bool = False) -> str:
    """``-f`` if given, else what ``--out`` says: parquet for a folder, the format of its
    extension, jsonl without one (``-o -``, ``/dev/null``) or without ``--out``.

    An extension that names no format is a usage error (E100, exit 2), as for
    ``campaigns``: ``-o results.json`` wrote JSON lines, which a JSON reader cannot
    open. Called before any model loads.
    """
    if fmt:
        return fmt
    from narrascope.engine.outputs import PARQUET, wants_parquet

    if wants_parquet(out, None, as_dir=as_dir):
        return PARQUET
    if out is None or not out.suffix:
        return "jsonl"
    found = guess_format(out)
    if found is None:
        from narrascope.errors import E_INPUT, NarrascopeError

        suffixes = {s for f in FORMATS.values() for s in f.suffixes} | {".parquet"}
        raise NarrascopeError(
            E_INPUT,
            f"--out {out}: no format is written as {out.suffix}; end the file name in "
            f"one of {', '.join(sorted(suffixes))}, or give the format with -f",
        )
    return found


def _count(inputs: list[Any], options: Any, empty: list[str]) -> int | None:
    """The documents for the progress bar: those of ``inputs`` and one failure for each
    ``empty`` folder or pattern."""
    from narrascope.ingest import estimate_count

    found = estimate_count(inputs, options)
    return None if found is None else found + len(empty)


def run(args: argparse.Namespace) -> int:
    import narrascope
    from narrascope.engine.outputs import run_to_output
    from narrascope.ingest import ReadOptions, read_inputs
    from narrascope.ingest.mentions import attach_mentions, read_mentions_file
    from narrascope.runner import (
        gather_inputs,
        is_device,
        refuse_overwriting,
        run_batch,
        writes_to_stdout,
    )
    from narrascope.store import open_store

    if args.resume and args.out is None and args.db is None:
        print("narrascope: error: --resume needs --out or --db", file=sys.stderr)
        return 2
    to_stdout = writes_to_stdout(args.out)
    if args.resume and (to_stdout or (args.out is not None and is_device(args.out))):
        where = "stdout" if to_stdout else str(args.out)
        print(
            f"narrascope: error: --resume needs --out FILE: {where} cannot be read back",
            file=sys.stderr,
        )
        return 2
    if args.format not in (None, "parquet") and args.out is None:  # parquet: below
        print(
            f"narrascope: error: -f {args.format} needs --out FILE (or -o - for stdout); "
            "without --out a summary per document is printed",
            file=sys.stderr,
        )
        return 2
    problem = _engine_error(args)
    if problem is not None:
        print(f"narrascope: error: {problem}", file=sys.stderr)
        return 2
    raw_out = None if args.out is None else str(args.out)
    out = None if raw_out is None else Path(raw_out)
    # nothing the run reads is written over: the --db, a SQLite file (first: `-o corpus.db`
    # is refused as the database it is, not for its extension); inputs: gather_inputs
    refuse_overwriting(
        out, {"--db": args.db, "--debunks": args.debunks, "--mentions": args.mentions}
    )
    fmt = resolve_format(args.format, out, as_dir=raw_out is not None and raw_out.endswith("/"))
    if fmt == "parquet" and not _has_pyarrow():
        need = "pip install 'narrascope[scale]'"
        print(f"narrascope: error: Parquet output needs pyarrow: {need}", file=sys.stderr)
        return 2
    if fmt == "parquet" and (out is None or to_stdout):
        print("narrascope: error: -f parquet needs --out DIR", file=sys.stderr)
        return 2
    if fmt == "parquet" and out is not None and out.is_file():
        print(f"narrascope: error: {out} is a file; Parquet goes to a folder", file=sys.stderr)
        return 2
    if fmt != "parquet" and out is not None and not to_stdout and out.is_dir():
        print(f"narrascope: error: {out} is a folder; -f {fmt} writes a file", file=sys.stderr)
        return 2
    try:
        options = ReadOptions(
            text_field=args.text_field,
            id_field=args.id_field,
            date_field=args.date_field,
            source_field=args.source_field,
            url_field=args.url_field,
            max_bytes=args.max_bytes,
            input_format=args.input_format,
            parent_field=args.parent_field,
            author_field=args.author_field or None,
            threads=not args.no_threads,
        )
    except ValueError as exc:
        print(f"narrascope: error: {_flags(str(exc))}", file=sys.stderr)
        return 2
    # the run's own output, journal and errors are never its inputs
    gathered = gather_inputs(args.inputs, out, folder=fmt == "parquet")
    if gathered.empty and not gathered.paths:
        for name in gathered.empty:  # nothing at all to read: say so before any model loads
            print(f"narrascope: error: no files found in {name}", file=sys.stderr)
        return 1
    inputs = gathered.paths
    given = read_mentions_file(args.mentions) if args.mentions is not None else None
    # a folder or pattern without files is one more failed input, reported in its place
    items = itertools.chain(gathered.errors(), read_inputs(inputs, options))
    check_debunks(args.debunks)  # fails before the slow load, as the store does
    store = open_store(args.db) if args.db is not None else None  # fails before the slow load
    try:
        entities = {"detector": args.entity_detector}
        if args.context_entities <= 0:
            entities["context"] = False
        else:
            entities["context_entities"] = args.context_entities
        if given is not None:
            # evaluation mode: score exactly the listed mentions, detect nothing else
            entities["mode"] = "given"
            items = attach_mentions(items, given)
        config: dict[str, dict[str, Any]] = {"entities": entities}
        custom = custom_narrative_config(args.db)
        if custom is not None:
            config["custom_narratives"] = custom
        common: dict[str, Any] = {
            "out": out,
            "fmt": fmt,
            "resume": args.resume,
            "batch_size": args.batch_size,
            "progress": not args.no_progress,
            "total": None if args.no_progress else _count(inputs, options, gathered.empty),
            "store": store,
        }
        if args.engine == "ray":
            from functools import partial

            from narrascope.engine.ray_engine import run_ray

            factory = partial(cli_pipeline, config, args.debunks, args.db, args.debunk_reader)
            try:
                report = run_ray(
                    items,
                    factory,
                    address=args.address,
                    workers=args.workers,
                    cpus_per_worker=args.cpus_per_worker or 1,
                    stage_names=cli_stage_names(config, args.debunks, args.db),
                    summaries=out is None,  # also of what --db stores, as locally
                    **common,
                )
            except ConnectionError as exc:  # ray.init: no cluster at --address
                print(f"narrascope: error: Ray: {exc}", file=sys.stderr)
                return 2
        else:
            debunks = debunk_config(args.debunks, args.db, reader=args.debunk_reader)
            if debunks is not None:
                config["debunks"] = debunks
            pipeline = narrascope.load(config=config)
            if out is None:  # the summaries, also of what --db stores
                report = run_batch(items, pipeline, summaries=True, **common)
            else:
                report = run_to_output(items, pipeline, **common)
    finally:
        if store is not None:
            store.close()
    if args.out is not None or args.db is not None:
        db = None if store is None else store.where  # a URL's password is never printed
        shown = "stdout" if to_stdout else out
        where = " and ".join(str(x) for x in (shown, db) if x is not None)
        print(
            f"{report.processed} analysed, {report.skipped} skipped (already done), "
            f"{len(report.failed)} failed -> {where}",
            file=sys.stderr,
        )
        if report.failed and report.errors_file is not None:
            print(f"failures are listed in {report.errors_file}", file=sys.stderr)
    return 1 if report.failed else 0
