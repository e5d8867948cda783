"""``narrascope campaigns``: near-duplicate clusters across sources and time (issue 26)."""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import math
import os
import re
import sys
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from html import escape
from pathlib import Path
from typing import Any, TextIO

from narrascope.cli.analyze import INPUT_FORMATS
from narrascope.cli.args import reader_fields, report_format, whole_number
from narrascope.corpus.campaigns import CONTAINMENT, HALF_LIFE_HOURS, JACCARD

FORMATS = ("jsonl", "csv", "html", "stix")
_RECORD_SUFFIXES = (".jsonl", ".ndjson", ".json")
TOP = 20  # clusters in the printed summary


def _fraction(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        number = -1.0
    if not 0.0 < number <= 1.0:
        raise argparse.ArgumentTypeError(f"a number in (0, 1], got {value!r}")
    return number


def _positive(value: str) -> float:
    """A finite number above 0: NaN passes ``<= 0`` and would zero every score (and store
    invalid JSON), infinity would make every score k - 1."""
    try:
        number = float(value)
    except ValueError:
        number = -1.0
    if not (math.isfinite(number) and number > 0):
        raise argparse.ArgumentTypeError(f"a positive number, got {value!r}")
    return number


def add_parser(sub: argparse._SubParsersAction, name: str) -> None:
    p = sub.add_parser(
        name,
        help="find near-duplicate texts pushed by several sources (copy-paste campaigns)",
        description="Group documents whose text is the same or lightly edited (words "
        "changed, paragraphs reordered or cut, truncated, a site's header or footer added) "
        "and say, per cluster, who posted it when, how tightly together (coordination), "
        "the passage they share and, for `narrascope analyze` JSONL or --db, their "
        "narratives. Needs no analysis: raw .txt folders, JSONL/CSV records with source and "
        "date fields, or a corpus database. Documents without a source or date still "
        "cluster; those fields read 'unknown'. With --db the clusters are also stored in "
        "that database (the latest run replaces the previous one; --no-save to skip), "
        "where the web view and --stored read them. --format stix writes a STIX 2.1 bundle "
        "(built with the stix2 package).",
        epilog="Coordination = max over k >= 2 of (k - 1) * 2^(-t_k / H): t_k is the "
        "shortest time in which k distinct sources first posted the text, H the half-life "
        "(--half-life-hours). Five sources within the hour score about 4; one source 0.",
    )
    p.add_argument(
        "inputs", nargs="*", metavar="INPUT", help="file or folder (.txt, .html, .jsonl, .csv...)"
    )
    p.add_argument(
        "--db",
        metavar="PATH_OR_URL",
        help="read the documents of this corpus database (filled by analyze --db) instead",
    )
    p.add_argument(
        "-o",
        "--out",
        type=Path,
        help="write the clusters here (replaced only once complete), else print a summary; "
        "never an INPUT, the --db, --save-to or another SQLite file (refused: it would be "
        "overwritten)",
    )
    p.add_argument(
        "-f",
        "--format",
        choices=FORMATS,
        help="output format (default: from --out's extension; stix: a STIX 2.1 bundle, JSON)",
    )
    storage = p.add_argument_group("storage")
    saving = storage.add_mutually_exclusive_group()
    saving.add_argument(
        "--no-save",
        action="store_true",
        help="with --db: do not store the clusters in the database (it is only read)",
    )
    saving.add_argument(
        "--save-to",
        metavar="PATH_OR_URL",
        help="store the clusters in this database (created if missing) instead of --db's; "
        "the way to store clusters of INPUT files",
    )
    storage.add_argument(
        "--stored",
        action="store_true",
        help="with --db: read the clusters stored by the latest run instead of clustering "
        "again (e.g. to export them with --format stix)",
    )
    reader_fields(p)
    p.add_argument(
        "--input-format",
        choices=INPUT_FORMATS,
        help="force the input format instead of guessing it from the extension",
    )
    p.add_argument("--max-bytes", type=int, default=10_000_000, help="largest file or record text")
    tuning = p.add_argument_group("clustering")
    tuning.add_argument(
        "--min-size",
        type=whole_number(2),
        default=2,
        metavar="N",
        help="smallest cluster (default 2)",
    )
    tuning.add_argument(
        "--jaccard",
        type=_fraction,
        default=JACCARD,
        metavar="X",
        help="two texts are near-duplicates when their word 5-gram sets overlap at least "
        f"this much (Jaccard, default {JACCARD}) ...",
    )
    tuning.add_argument(
        "--containment",
        type=_fraction,
        default=CONTAINMENT,
        metavar="X",
        help="... or the shorter one lies at least this much inside the longer "
        f"(truncated copies; default {CONTAINMENT})",
    )
    tuning.add_argument(
        "--half-life-hours",
        type=_positive,
        default=HALF_LIFE_HOURS,
        metavar="H",
        help="coordination halves for every H hours the sources took "
        f"(default {HALF_LIFE_HOURS:g})",
    )
    p.set_defaults(run=run)


def _out_problem(args: argparse.Namespace) -> str | None:
    """Why ``--out`` cannot be written, or None. A database there (the ``--db`` or
    ``--save-to`` file, or any SQLite file) is refused by raising (E100, exit 2): writing
    the clusters would destroy it. Checked before anything is read or stored."""
    from narrascope.runner import refuse_overwriting

    if args.out is None:
        return None
    refuse_overwriting(args.out, {"--db": args.db, "--save-to": args.save_to})
    if args.out.is_dir():
        return f"--out {args.out} is a folder; the clusters are written to a file"
    return None


def _usage(message: str) -> int:
    print(f"narrascope: error: {message}", file=sys.stderr)
    return 2


def run(args: argparse.Namespace) -> int:
    from narrascope.corpus import find_campaigns

    if args.inputs and args.db:
        return _usage("give INPUT files or folders, or --db, not both")
    if not args.inputs and not args.db:
        return _usage("give INPUT files or folders, or --db")
    if args.stored and not args.db:
        return _usage("--stored reads the clusters stored in --db: give --db")
    if args.stored and args.save_to:
        return _usage("--stored reads clusters already stored: leave out --save-to")
    if args.no_save and not args.db:
        return _usage("--no-save goes with --db (INPUT files are stored only with --save-to)")
    problem = _out_problem(args)  # first: `-o corpus.db` is refused as the database it is
    if problem is not None:
        return _usage(problem)
    fmt = report_format(args)
    if fmt == "stix":  # before the clustering: say it now if stix2 is missing
        from narrascope.export.stix import require_stix2

        require_stix2()
    if args.stored:
        return _run_stored(args, fmt)
    failed: list[str] = []
    counter = _Counter()
    if args.db:
        campaigns = find_campaigns(
            counter.count(_stored(args.db)),
            min_size=args.min_size,
            jaccard=args.jaccard,
            containment=args.containment,
            half_life_hours=args.half_life_hours,
        )
    else:
        from narrascope.ingest import ReadOptions

        try:
            options = ReadOptions(
                text_field=args.text_field,
                id_field=args.id_field or None,
                date_field=args.date_field or None,
                source_field=args.source_field or None,
                url_field=args.url_field or None,
                max_bytes=args.max_bytes,
                input_format=args.input_format,
            )
        except ValueError as exc:
            print(f"narrascope: error: {exc}", file=sys.stderr)
            return 2
        from narrascope.runner import gather_inputs

        datasets = [i for i in args.inputs if _is_parquet(i)]
        # folders and patterns expanded, less this run's --out (an input named as --out
        # is refused: writing the clusters would destroy it)
        gathered = gather_inputs([i for i in args.inputs if i not in datasets], args.out)
        if not datasets and not gathered.paths:  # nothing at all to read: say so
            for name in gathered.empty:
                print(f"narrascope: error: no files found in {name}", file=sys.stderr)
            return 1
        failed.extend(f"{e.source}: {e.reason}" for e in gathered.errors())
        campaigns = find_campaigns(
            counter.count(_read(datasets, gathered.paths, options, failed)),
            min_size=args.min_size,
            jaccard=args.jaccard,
            containment=args.containment,
            half_life_hours=args.half_life_hours,
        )
        attach_narratives(campaigns, gathered.paths, options)
    as_of = datetime.now(UTC)
    first_created: dict[str, datetime] = {}
    target = args.save_to or (None if args.no_save else args.db)
    if target:
        from narrascope.store.campaigns import first_stored, save_campaigns

        saved = save_campaigns(
            target,
            campaigns,
            documents=counter.n,
            parameters=_parameters(args),
            input=args.db or ", ".join(args.inputs),
        )
        as_of = datetime.fromisoformat(saved.created)
        first_created = {k: datetime.fromisoformat(v) for k, v in first_stored(target).items()}
        print(
            f"stored {saved.clusters} clusters of {saved.documents} documents in "
            f"{_shown(target)} (run {saved.run_id})",
            file=sys.stderr,
        )
    _output(args, fmt, campaigns, as_of, first_created)
    for line in failed[:20]:
        print(f"skipped: {line}", file=sys.stderr)
    if len(failed) > 20:
        print(f"... and {len(failed) - 20} more inputs skipped", file=sys.stderr)
    return 1 if failed else 0


class _Counter:
    """How many documents a stream yielded (the run's document count)."""

    def __init__(self) -> None:
        self.n = 0

    def count(self, items: Iterable[Any]) -> Iterator[Any]:
        for item in items:
            self.n += 1
            yield item


def _parameters(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "min_size": args.min_size,
        "jaccard": args.jaccard,
        "containment": args.containment,
        "half_life_hours": args.half_life_hours,
    }


def _shown(target: str) -> str:
    """A database for messages: a URL without its password."""
    return re.sub(r"(://[^:@/]*):[^@/]*@", r"\1:***@", str(target))


def _output(
    args: argparse.Namespace,
    fmt: str,
    campaigns: list[Any],
    as_of: datetime,
    first_created: dict[str, datetime],
) -> None:
    if args.out is None:
        if fmt == "stix" and args.format:
            write_campaigns(campaigns, sys.stdout, fmt, as_of=as_of, first_created=first_created)
        else:
            print(format_summary(campaigns))
        return
    with _replacing(args.out) as fh:
        write_campaigns(campaigns, fh, fmt, as_of=as_of, first_created=first_created)
    members = sum(c.size for c in campaigns)
    print(f"{len(campaigns)} clusters ({members} documents) -> {args.out}", file=sys.stderr)


@contextlib.contextmanager
def _replacing(out: Path) -> Iterator[TextIO]:
    """A text file that becomes ``out`` only once fully written: it is written to
    ``OUT.tmp`` beside it and moved onto ``out`` at the end (:func:`os.replace`), so a
    failure midway leaves the previous ``out`` (or none), never an empty or half file.
    What is no regular file (``/dev/null``, a pipe) is written directly."""
    if out.exists() and not out.is_file():
        with out.open("w", encoding="utf-8", newline="") as fh:
            yield fh
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    try:
        with tmp.open("w", encoding="utf-8", newline="") as fh:
            yield fh
        os.replace(tmp, out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _run_stored(args: argparse.Namespace, fmt: str) -> int:
    """The clusters the latest run stored in --db, written as asked (no clustering)."""
    from narrascope.errors import E_STORE_OPEN, StoreError
    from narrascope.store import open_store
    from narrascope.store.campaigns import get_campaign, latest_run, list_campaigns

    if "://" not in args.db and not Path(args.db).exists():
        raise StoreError(E_STORE_OPEN, f"no database at {args.db}; create it with analyze --db")
    with open_store(args.db) as store:  # one connection for the run, the list, each cluster
        run = latest_run(store)
        listed = [] if run is None else list_campaigns(store, min_size=args.min_size, limit=None)
        campaigns = [c for c in (get_campaign(store, x.id) for x in listed) if c is not None]
    if run is None:
        print(
            f"narrascope: error: {_shown(args.db)} holds no stored clusters; run "
            "narrascope campaigns --db without --stored first",
            file=sys.stderr,
        )
        return 2
    first_created = {
        c.id: datetime.fromisoformat(c.first_stored) for c in campaigns if c.first_stored
    }
    _output(args, fmt, campaigns, datetime.fromisoformat(run.created), first_created)
    return 0


def _read(
    datasets: list[str], inputs: list[str | Path], options: Any, failed: list[str]
) -> Iterator[Any]:
    """The records of Parquet datasets (``analyze --out DIR/``, local or Ray: they carry
    their narratives and techniques), then the documents the readers make of ``inputs``;
    a bad input is noted and skipped (the batch goes on)."""
    from narrascope.doc import Document
    from narrascope.ingest import read_inputs

    for dataset in datasets:
        yield from _parquet_records(dataset, failed)
    if not inputs:
        return
    for item in read_inputs(inputs, options):
        if isinstance(item, Document):
            yield item
        else:
            failed.append(str(item))


def _is_parquet(item: str) -> bool:
    """Whether ``item`` is narrascope's own Parquet output, read back as its records: a
    folder holding the parts ``analyze --out DIR/`` writes (its ``_journal.jsonl`` and
    ``_errors.jsonl`` are not documents), or one file with their ``record`` column. Any
    other Parquet file or folder is the user's documents, read as ``analyze`` reads
    them (one document per row)."""
    path = Path(item)
    if not (path.is_dir() or (path.is_file() and path.suffix.lower() == ".parquet")):
        return False
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq

        from narrascope.export.parquet import part_files
    except ImportError:  # the readers say that Parquet needs pyarrow
        return False
    if path.is_dir():
        return bool(part_files(path))
    try:
        names = pq.read_schema(path).names
    except (pa.ArrowException, OSError, ValueError):  # damaged: the reader says why
        return False
    return "text" in names and "record" in names


def _parquet_records(dataset: str, failed: list[str]) -> Iterator[dict[str, Any]]:
    try:
        from narrascope.export.parquet import read_parquet_records
    except ImportError:
        failed.append(f"{dataset}: reading Parquet needs pyarrow (make scale)")
        return
    try:
        yield from read_parquet_records(dataset)
    except (OSError, ValueError) as exc:  # a damaged part: say which, keep what was read
        failed.append(f"{dataset}: {exc}")


def _stored(db: str) -> Iterator[Any]:
    from narrascope.errors import E_STORE_OPEN, StoreError
    from narrascope.store import Filters, open_store

    if "://" not in db and not Path(db).exists():
        raise StoreError(E_STORE_OPEN, f"no database at {db}; create it with analyze --db")
    with open_store(db) as store:
        yield from store.iter_documents(Filters())


def attach_narratives(campaigns: list, inputs: Sequence[str | Path], options: Any) -> None:
    """Narratives and techniques of the clustered documents from JSONL inputs that carry
    them.

    The readers keep text, id, source, url and date only, so the ``narratives`` and
    ``techniques`` of ``narrascope analyze`` output are read in a second pass, for cluster
    members alone.
    """
    from narrascope.corpus.campaigns import narrative_labels, set_narratives
    from narrascope.ingest import discover

    wanted = {m.id for c in campaigns for m in c.members}
    if not wanted:
        return
    found: dict[str, list[str]] = {}
    techniques: dict[str, list[str]] = {}
    for item in discover(inputs):
        path = Path(item)
        if item == "-" or path.suffix.lower() not in _RECORD_SUFFIXES or not path.is_file():
            continue
        with path.open(encoding="utf-8", errors="replace") as fh:
            for lineno, line in enumerate(fh, 1):
                if '"narratives"' not in line and '"techniques"' not in line:
                    continue
                try:
                    record = json.loads(line)
                except json.JSONDecodeError:
                    continue
                if not isinstance(record, dict):
                    continue
                key = record.get(options.id_field) if options.id_field else None
                doc_id = str(key) if key not in (None, "") else f"{path.name}:{lineno}"
                if doc_id not in wanted:
                    continue
                if isinstance(record.get("narratives"), list):
                    found.setdefault(doc_id, narrative_labels(record["narratives"]))
                if isinstance(record.get("techniques"), list):
                    techniques.setdefault(doc_id, narrative_labels(record["techniques"]))
    set_narratives(campaigns, found, techniques)


# -- output ----------------------------------------------------------------------------------


def write_campaigns(
    campaigns: Iterable[Any],
    fh: TextIO,
    fmt: str,
    *,
    as_of: datetime | None = None,
    first_created: dict[str, datetime] | None = None,
) -> None:
    """JSONL (one cluster a line), CSV (one row per member), a self-contained HTML page or
    a STIX 2.1 bundle (``as_of``: the run time, see :mod:`narrascope.export.stix`)."""
    if fmt == "stix":
        from narrascope.export.stix import write_stix

        write_stix(campaigns, fh, as_of=as_of or datetime.now(UTC), first_created=first_created)
    elif fmt == "jsonl":
        for campaign in campaigns:
            fh.write(json.dumps(campaign.to_dict(), ensure_ascii=False) + "\n")
    elif fmt == "csv":
        _write_csv(campaigns, fh)
    elif fmt == "html":
        fh.write(_html(list(campaigns)))
    else:
        raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")


CSV_COLUMNS = [
    "campaign",
    "size",
    "first_seen",
    "last_seen",
    "time_span_hours",
    "source_count",
    "coordination",
    "coordinated_sources",
    "coordination_window_hours",
    "campaign_narratives",
    "shared_passage",
    "id",
    "source",
    "date",
    "similarity",
    "containment",
    "narratives",
]


def _write_csv(campaigns: Iterable[Any], fh: TextIO) -> None:
    from narrascope.export.table import _cell  # the spreadsheet-formula guard

    writer = csv.writer(fh, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for campaign in campaigns:
        c = campaign.to_dict()
        head = [
            c["id"],
            c["size"],
            c["first_seen"],
            c["last_seen"],
            c["time_span_hours"],
            c["source_count"],
            c["coordination"],
            c["coordinated_sources"],
            c["coordination_window_hours"],
            "; ".join(f"{n['label']} ({n['count']})" for n in c["narratives"]),
            c["shared_passage"],
        ]
        for m in c["members"]:
            tail = [m["id"], m["source"], m["date"], m["similarity"], m["containment"]]
            row = head + tail + ["; ".join(m["narratives"])]
            writer.writerow([_cell(v) for v in row])


def _html(campaigns: list[Any]) -> str:
    from narrascope.export.display import visible_bidi

    def show(value: Any) -> str:
        return escape(visible_bidi("unknown" if value is None else str(value)))

    parts = []
    for c in (x.to_dict() for x in campaigns):
        narratives = ", ".join(f"{show(n['label'])} ({n['count']})" for n in c["narratives"])
        rows = "".join(
            f"<tr><td>{show(m['id'])}</td><td>{show(m['source'])}</td><td>{show(m['date'])}</td>"
            f"<td>{m['similarity']:.2f}</td><td>{m['containment']:.2f}</td>"
            f"<td>{show('; '.join(m['narratives']))}</td></tr>"
            for m in c["members"]
        )
        window = c["coordination_window_hours"]
        parts.append(
            f"<section><h2>{show(c['id'])}: {c['size']} documents, "
            f"{c['source_count']} sources</h2>"
            f"<p>First seen {show(c['first_seen'])}, last {show(c['last_seen'])}, span "
            f"{show(c['time_span_hours'])} h. Coordination {c['coordination']:.2f} "
            f"({c['coordinated_sources']} sources within {show(window)} h).</p>"
            + (f"<p>Narratives: {narratives}</p>" if narratives else "")
            + f"<blockquote>{escape(c['shared_passage'])}</blockquote>"
            f"<p class=note>shared by {c['shared_by']} of {c['size']}</p>"
            "<table><tr><th>id</th><th>source</th><th>date</th><th>similarity</th>"
            f"<th>containment</th><th>narratives</th></tr>{rows}</table></section>"
        )
    body = "".join(parts) or "<p>No near-duplicate clusters found.</p>"
    return (
        "<!doctype html><html><head><meta charset=utf-8>"
        "<meta http-equiv=Content-Security-Policy content=\"default-src 'none'; "
        "style-src 'unsafe-inline'\"><title>Narrascope campaigns</title><style>"
        "body{font:14px system-ui,sans-serif;margin:2em;max-width:70em}"
        "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 6px;"
        "text-align:left}blockquote{background:#f5f5f5;padding:.5em 1em;white-space:pre-wrap}"
        ".note{color:#666}</style></head><body>"
        f"<h1>Near-duplicate campaigns ({len(campaigns)})</h1>{body}</body></html>\n"
    )


def format_summary(campaigns: list[Any], top: int = TOP) -> str:
    """One line per cluster, largest first: size, sources, first seen, coordination, passage."""
    if not campaigns:
        return "no near-duplicate clusters found"
    lines = ["cluster            size  sources  first seen            coord  shared passage"]
    for c in campaigns[:top]:
        d = c.to_dict()
        passage = " ".join(c.shared_passage.split())
        passage = "".join(ch if ch.isprintable() else "\ufffd" for ch in passage)
        passage = passage if len(passage) <= 60 else passage[:59] + "…"
        # whole: cut to 19 characters, "2024-04-01T06:00:00+03:00" (a run stored before
        # first seen was written in UTC) read as 06:00 UTC
        first = "".join(ch if ch.isprintable() else "\ufffd" for ch in c.first_seen)
        lines.append(
            f"{c.id:<18} {c.size:>4}  {d['source_count']:>7}  {first:<20}  "
            f"{c.coordination:5.2f}  {passage}"
        )
    if len(campaigns) > top:
        lines.append(f"… {len(campaigns) - top} more clusters (write them all with --out)")
    return "\n".join(lines)
