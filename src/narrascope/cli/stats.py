"""``narrascope stats``: narrative counts per day, week, month, source or language, or
(``--hate``) how many documents and reader comments are flagged hateful, offensive or
incitement per bucket, or (``--debunks``) how many documents repeat a known debunk."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from narrascope.cli.args import FILTER_OPTIONS, add_filter_options, filters_from
from narrascope.store import STATS_BY, DebunkStatsRow, HateStatsRow, StatsRow

# what the web dashboard's charts count from by default (dashboard.js DEFAULT_THRESHOLD)
DASHBOARD_THRESHOLD = 0.5


def add_parser(sub: argparse._SubParsersAction, name: str) -> None:
    p = sub.add_parser(
        name,
        help="count narratives in a corpus database, per time bucket, source or language",
        description="How many stored documents carry each narrative, per bucket. "
        "Fill the database with `narrascope analyze INPUT... --db PATH`.",
    )
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--db",
        metavar="PATH",
        help="corpus database: a SQLite file, or a sqlite:/// or postgresql:// URL",
    )
    source.add_argument(
        "--parquet",
        metavar="PATH",
        help="or the Parquet output of `analyze --out DIR/` (either engine): narrative counts only",
    )
    p.add_argument("--by", choices=STATS_BY, default="month", help="bucket (default: month)")
    # one count per run: --hate and --debunks each replace the narrative table
    what = p.add_mutually_exclusive_group()
    what.add_argument(
        "--hate",
        action="store_true",
        help="count documents and comments flagged hateful, offensive or incitement per "
        "bucket instead of narratives (a document counts when its article or any comment is)",
    )
    what.add_argument(
        "--debunks",
        action="store_true",
        help="count documents, and those repeating any known debunk, per bucket "
        "instead of narratives",
    )
    p.add_argument("--json", action="store_true", help="print JSON rows instead of a table")
    add_filter_options(
        p,
        min_score_help="count only the narratives scored at least X, from 0 to 1 (default: "
        "every narrative the analysis found, whatever its score: no threshold; the web "
        f"dashboard counts from {DASHBOARD_THRESHOLD}); with --hate or --debunks, count "
        "the documents with a narrative scored at least X",
    )
    p.set_defaults(run=run)


def format_stats_table(rows: list[StatsRow], by: str) -> str:
    """A plain-text table, one line per bucket and narrative, the bucket shown once."""
    if not rows:
        return "no narratives stored yet (fill the database with `analyze --db`)"
    missing = "(no date)" if by in ("day", "week", "month") else f"(no {by})"
    buckets = [row.bucket or missing for row in rows]
    width = max(len(by), *(len(b) for b in buckets))
    label_width = max(len("narrative"), *(len(row.narrative) for row in rows))
    lines = [f"{by:<{width}}  {'narrative':<{label_width}}  docs"]
    previous = None
    for bucket, row in zip(buckets, rows, strict=True):
        shown = bucket if bucket != previous else ""
        lines.append(f"{shown:<{width}}  {row.narrative:<{label_width}}  {row.documents:>4}")
        previous = bucket
    return "\n".join(lines)


HATE_COLUMNS = ("hateful", "offensive", "incitement")


def format_hate_table(rows: list[HateStatsRow], by: str) -> str:
    """A plain-text table, one line per bucket: documents, then comments, flagged of each."""
    if not rows:
        return "no documents stored yet (fill the database with `analyze --db`)"
    missing = "(no date)" if by in ("day", "week", "month") else f"(no {by})"
    buckets = [row.bucket or missing for row in rows]
    width = max(len(by), *(len(b) for b in buckets))
    names = ("all", *HATE_COLUMNS)
    cells = [len(name) for name in names]
    group = sum(cells) + 2 * (len(cells) - 1)
    lines = [
        f"{'':<{width}}  {'documents':<{group}}  comments",
        f"{by:<{width}}  " + "  ".join([*names, *names]),
    ]
    for bucket, row in zip(buckets, rows, strict=True):
        counts = (
            row.documents,
            row.hateful,
            row.offensive,
            row.incitement,
            row.comments,
            row.hateful_comments,
            row.offensive_comments,
            row.incitement_comments,
        )
        lines.append(
            f"{bucket:<{width}}  "
            + "  ".join(f"{n:>{w}}" for n, w in zip(counts, [*cells, *cells], strict=True))
        )
    return "\n".join(lines)


def format_debunk_table(rows: list[DebunkStatsRow], by: str) -> str:
    """A plain-text table, one line per bucket: documents, and those repeating a debunk."""
    if not rows:
        return "no documents stored yet (fill the database with `analyze --db`)"
    missing = "(no date)" if by in ("day", "week", "month") else f"(no {by})"
    buckets = [row.bucket or missing for row in rows]
    width = max(len(by), *(len(b) for b in buckets))
    lines = [f"{by:<{width}}  documents  repeating a known debunk"]
    lines += [
        f"{bucket:<{width}}  {row.documents:>9}  {row.debunked:>23}"
        for bucket, row in zip(buckets, rows, strict=True)
    ]
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from narrascope.errors import E_STORE_OPEN, StoreError
    from narrascope.store import open_store

    if args.parquet is not None:
        return _parquet(args)
    if "://" not in args.db and not Path(args.db).exists():
        raise StoreError(E_STORE_OPEN, f"no database at {args.db}; create it with analyze --db")
    filters = filters_from(args)
    if getattr(args, "debunks", False):
        with open_store(args.db) as store:
            debunk_rows = store.debunk_stats(args.by, filters)
        if args.json:
            found = [{args.by: r.bucket, **r.to_dict()} for r in debunk_rows]
            for row in found:
                del row["bucket"]
            print(json.dumps(found, ensure_ascii=False, indent=1))
        else:
            print(
                _none_match()
                if filters and not debunk_rows
                else format_debunk_table(debunk_rows, args.by)
            )
        return 0
    if args.hate:
        with open_store(args.db) as store:
            hate_rows = store.stats(args.by, filters, hate=True)
        if args.json:
            found = [
                {args.by: r.bucket, **{k: v for k, v in r.to_dict().items() if k != "bucket"}}
                for r in hate_rows
            ]
            print(json.dumps(found, ensure_ascii=False, indent=1))
        else:
            print(
                _none_match()
                if filters and not hate_rows
                else format_hate_table(hate_rows, args.by)
            )
        return 0
    with open_store(args.db) as store:
        rows = store.stats(args.by, filters)
    if filters and not rows and not args.json:
        print(_none_match())
    else:
        _print_narratives(rows, args)
    return 0


def _none_match() -> str:
    """The empty table under filters: the database is not empty, the selection is."""
    return "nothing to count: no stored document matches these filters"


def _print_narratives(rows: list[StatsRow], args: argparse.Namespace) -> None:
    if args.json:
        print(
            json.dumps(
                [
                    {args.by: r.bucket, "narrative": r.narrative, "documents": r.documents}
                    for r in rows
                ],
                ensure_ascii=False,
                indent=1,
            )
        )
    else:
        print(format_stats_table(rows, args.by))


def _parquet(args: argparse.Namespace) -> int:
    """Narrative counts from the Parquet output of ``analyze`` (no database needed)."""
    if args.hate or getattr(args, "debunks", False):
        print("narrascope: error: with --parquet, stats counts narratives only", file=sys.stderr)
        return 2
    given = [name for name in FILTER_OPTIONS if getattr(args, name) is not None]
    if given:
        flags = ", ".join("--" + name.removeprefix("date_").replace("_", "-") for name in given)
        print(
            f"narrascope: error: with --parquet, stats takes no filter ({flags}); "
            "store the results with `analyze --db` to filter them",
            file=sys.stderr,
        )
        return 2
    try:
        from narrascope.export.parquet import part_files, read_parquet_records
    except ImportError:
        print("narrascope: error: reading Parquet needs pyarrow (make scale)", file=sys.stderr)
        return 2
    from narrascope.corpus.stats import record_stats

    if not part_files(Path(args.parquet)):
        print(f"narrascope: error: no Parquet parts at {args.parquet}", file=sys.stderr)
        return 2
    _print_narratives(record_stats(read_parquet_records(args.parquet), args.by), args)
    return 0
