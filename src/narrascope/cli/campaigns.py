"""``narrascope campaigns``: near-duplicate clusters across sources and time (issue 26)."""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections.abc import Iterable, Iterator
from html import escape
from pathlib import Path
from typing import Any, TextIO

from narrascope.cli.args import whole_number
from narrascope.corpus.campaigns import CONTAINMENT, HALF_LIFE_HOURS, JACCARD

FORMATS = ("jsonl", "csv", "html")
_BY_SUFFIX = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".html": "html", ".htm": "html"}
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
    try:
        number = float(value)
    except ValueError:
        number = -1.0
    if number <= 0:
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
        "cluster; those fields read 'unknown'.",
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
    p.add_argument("-o", "--out", type=Path, help="write the clusters here; else print a summary")
    p.add_argument(
        "-f", "--format", choices=FORMATS, help="output format (default: from --out's extension)"
    )
    fields = p.add_argument_group("jsonl/csv fields")
    fields.add_argument("--text-field", default="text")
    fields.add_argument("--id-field", default="id")
    fields.add_argument("--date-field", default="date")
    fields.add_argument("--source-field", default="source")
    p.add_argument(
        "--input-format",
        choices=("txt", "md", "html", "jsonl", "csv", "tsv", "telegram", "4cat"),
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


def _format(args: argparse.Namespace) -> str:
    if args.format:
        return args.format
    if args.out is not None:
        return _BY_SUFFIX.get(args.out.suffix.lower(), "jsonl")
    return "jsonl"


def run(args: argparse.Namespace) -> int:
    from narrascope.corpus import find_campaigns

    if bool(args.inputs) == bool(args.db):
        print("narrascope: error: give INPUT files or folders, or --db", file=sys.stderr)
        return 2
    failed: list[str] = []
    if args.db:
        campaigns = find_campaigns(
            _stored(args.db),
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
                max_bytes=args.max_bytes,
                input_format=args.input_format,
            )
        except ValueError as exc:
            print(f"narrascope: error: {exc}", file=sys.stderr)
            return 2
        campaigns = find_campaigns(
            _read(args.inputs, options, failed),
            min_size=args.min_size,
            jaccard=args.jaccard,
            containment=args.containment,
            half_life_hours=args.half_life_hours,
        )
        attach_narratives(campaigns, args.inputs, options)
    if args.out is None:
        print(format_summary(campaigns))
    else:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        with args.out.open("w", encoding="utf-8", newline="") as fh:
            write_campaigns(campaigns, fh, _format(args))
        members = sum(c.size for c in campaigns)
        print(f"{len(campaigns)} clusters ({members} documents) -> {args.out}", file=sys.stderr)
    for line in failed[:20]:
        print(f"skipped: {line}", file=sys.stderr)
    if len(failed) > 20:
        print(f"... and {len(failed) - 20} more inputs skipped", file=sys.stderr)
    return 1 if failed else 0


def _read(inputs: list[str], options: Any, failed: list[str]) -> Iterator[Any]:
    """Documents from the readers; a bad input is noted and skipped (the batch goes on)."""
    from narrascope.doc import Document
    from narrascope.ingest import read_inputs

    for item in read_inputs(inputs, options):
        if isinstance(item, Document):
            yield item
        else:
            failed.append(str(item))


def _stored(db: str) -> Iterator[Any]:
    from narrascope.errors import E_STORE_OPEN, StoreError
    from narrascope.store import Filters, open_store

    if "://" not in db and not Path(db).exists():
        raise StoreError(E_STORE_OPEN, f"no database at {db}; create it with analyze --db")
    with open_store(db) as store:
        yield from store.iter_documents(Filters())


def attach_narratives(campaigns: list, inputs: list[str], options: Any) -> None:
    """Narratives of the clustered documents from JSONL inputs that carry them.

    The readers keep text, id, source and date only, so the ``narratives`` of
    ``narrascope analyze`` output are read in a second pass, for cluster members alone.
    """
    from narrascope.corpus.campaigns import narrative_labels, set_narratives
    from narrascope.ingest import discover

    wanted = {m.id for c in campaigns for m in c.members}
    if not wanted:
        return
    found: dict[str, list[str]] = {}
    for item in discover(inputs):
        path = Path(item)
        if item == "-" or path.suffix.lower() not in _RECORD_SUFFIXES or not path.is_file():
            continue
        with path.open(encoding="utf-8", errors="replace") as fh:
            for lineno, line in enumerate(fh, 1):
                if '"narratives"' not in line:
                    continue
                try:
                    record = json.loads(line)
                except json.JSONDecodeError:
                    continue
                if not isinstance(record, dict):
                    continue
                key = record.get(options.id_field) if options.id_field else None
                doc_id = str(key) if key not in (None, "") else f"{path.name}:{lineno}"
                if doc_id in wanted and isinstance(record.get("narratives"), list):
                    found.setdefault(doc_id, narrative_labels(record["narratives"]))
    set_narratives(campaigns, found)


# -- output ----------------------------------------------------------------------------------


def write_campaigns(campaigns: Iterable[Any], fh: TextIO, fmt: str) -> None:
    """JSONL (one cluster a line), CSV (one row per member) or a self-contained HTML page."""
    if fmt == "jsonl":
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
    lines = ["cluster      size  sources  first seen           coord  shared passage"]
    for c in campaigns[:top]:
        d = c.to_dict()
        passage = " ".join(c.shared_passage.split())
        passage = "".join(ch if ch.isprintable() else "\ufffd" for ch in passage)
        passage = passage if len(passage) <= 60 else passage[:59] + "…"
        first = "".join(ch if ch.isprintable() else "\ufffd" for ch in c.first_seen)[:19]
        lines.append(
            f"{c.id:<12} {c.size:>4}  {d['source_count']:>7}  {first:<19}  "
            f"{c.coordination:5.2f}  {passage}"
        )
    if len(campaigns) > top:
        lines.append(f"… {len(campaigns) - top} more clusters (write them all with --out)")
    return "\n".join(lines)
