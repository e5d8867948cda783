"""``narrascope discover``: emerging narratives no taxonomy label explains (issue 26)."""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections.abc import Iterable
from html import escape
from pathlib import Path
from typing import Any, TextIO

from narrascope.cli.args import report_format, whole_number
from narrascope.corpus.discover import MIN_CLUSTER_SIZE, MIN_DOCUMENTS, THRESHOLD, UNITS

FORMATS = ("jsonl", "csv", "html")
TOP = 20  # clusters in the printed summary


def _score(value: str) -> float:
    from narrascope.store.base import FilterError, parse_score

    try:
        return parse_score(value)
    except FilterError as exc:
        raise argparse.ArgumentTypeError(exc.reason) from None


def _day(value: str) -> str:
    from narrascope.store.base import FilterError, parse_day

    try:
        return parse_day(value)
    except FilterError as exc:
        raise argparse.ArgumentTypeError(exc.reason) from None


def add_parser(sub: argparse._SubParsersAction, name: str) -> None:
    p = sub.add_parser(
        name,
        help="find new stories in a corpus database that no narrative label explains",
        description="Cluster the paragraphs of the stored documents that the narrative "
        "model does not explain with confidence (best narrative other than Other under "
        "--threshold, or only Other, or no narratives stored) by meaning (multilingual "
        "sentence vectors, HDBSCAN), and name each cluster by its distinctive terms and "
        "three exemplar sentences, with its languages, sources and growth over time. The "
        "clusters are stored in the database; a rerun on a grown corpus keeps the ids of "
        "the clusters that persist. Vectors are cached there too, so a rerun encodes only "
        "new text.",
    )
    p.add_argument("--db", required=True, metavar="PATH", help="corpus database (SQLite)")
    p.add_argument(
        "--since", type=_day, metavar="DATE", help="only documents dated this day or later"
    )
    p.add_argument(
        "--min-cluster-size",
        type=whole_number(2),
        default=MIN_CLUSTER_SIZE,
        metavar="N",
        help=f"smallest cluster, in paragraphs (default {MIN_CLUSTER_SIZE})",
    )
    p.add_argument(
        "--min-documents",
        type=whole_number(1),
        default=MIN_DOCUMENTS,
        metavar="N",
        help=f"a cluster needs paragraphs of at least N documents (default {MIN_DOCUMENTS})",
    )
    p.add_argument(
        "--threshold",
        type=_score,
        default=THRESHOLD,
        metavar="X",
        help="a narrative (not Other) scoring at least X explains its document, which is "
        f"then left out (default {THRESHOLD})",
    )
    p.add_argument(
        "--unit",
        choices=UNITS,
        default="paragraph",
        help="cluster paragraphs (default) or whole documents",
    )
    p.add_argument(
        "-o",
        "--out",
        type=Path,
        help="write the clusters here (.jsonl, .csv, .html); never the --db or another "
        "SQLite file (refused: it would be overwritten)",
    )
    p.add_argument(
        "-f", "--format", choices=FORMATS, help="output format (default: from --out's extension)"
    )
    p.add_argument("--json", action="store_true", help="print the clusters as JSON lines")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from narrascope.corpus.discover import discover_run
    from narrascope.runner import refuse_overwriting

    # before the run stores its clusters in --db: `-o corpus.db` must not empty the corpus
    refuse_overwriting(args.out, {"--db": args.db})
    fmt = report_format(args)  # an --out extension that names no format: before the work
    report = discover_run(
        args.db,
        since=args.since,
        min_cluster_size=args.min_cluster_size,
        min_documents=args.min_documents,
        threshold=args.threshold,
        unit=args.unit,
    )
    clusters = report.clusters
    if args.json:
        write_clusters(clusters, sys.stdout, "jsonl")
    elif args.out is None:
        print(format_summary(report))
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        with args.out.open("w", encoding="utf-8", newline="") as fh:
            write_clusters(clusters, fh, fmt)
        print(f"{len(clusters)} clusters -> {args.out}", file=sys.stderr)
    return 0


def format_summary(report: Any, top: int = TOP) -> str:
    """What was read, then one block per cluster: id, size, terms, growth, an exemplar."""
    custom = getattr(report, "custom", 0)
    head = (
        f"{report.documents} documents, {report.candidates} not explained by a narrative "
        f"({report.unlabelled} without narratives"
        + (f"; {custom} more explained by a custom narrative" if custom else "")
        + f"), {report.units} units ({report.encoded} newly encoded), "
        f"{len(report.clusters)} clusters, {report.noise} units in none"
    )
    if not report.clusters:
        if not report.candidates:
            return head + "\nno unexplained text: every document has a confident narrative"
        return head + (
            "\nno cluster found: no group of paragraphs stands out from the rest, neither "
            "beside other stories nor as the one story of the text; a smaller "
            "--min-cluster-size or --min-documents looks for smaller groups"
        )
    lines = [head]
    for c in report.clusters[:top]:
        langs = ", ".join(f"{k} {v}" for k, v in list(c.languages.items())[:5])
        growth = " ".join(f"{g['bucket']}:{g['documents']}" for g in c.growth[-6:])
        lines.append(
            f"\n{c.id} ({c.status}) {c.size} paragraphs, {c.documents} documents, "
            f"confidence {c.confidence:.2f}\n  terms: {', '.join(c.terms)}\n"
            f"  languages: {langs}; first seen {c.first_seen or 'unknown'}, "
            f"last {c.last_seen or 'unknown'}\n  growth: {growth}"
        )
        for e in c.exemplars:
            text = " ".join(e.text.split())
            text = "".join(ch if ch.isprintable() else "\ufffd" for ch in text)
            lines.append(f"  “{text[:150]}” ({e.doc_id} {e.start}-{e.end})")
    if len(report.clusters) > top:
        lines.append(f"\n… {len(report.clusters) - top} more clusters (write them with --out)")
    return "\n".join(lines)


def write_clusters(clusters: Iterable[Any], fh: TextIO, fmt: str) -> None:
    """JSONL (one cluster a line), CSV (one row per cluster) or a self-contained HTML page."""
    if fmt == "jsonl":
        for c in clusters:
            fh.write(json.dumps(c.to_dict(), ensure_ascii=False) + "\n")
    elif fmt == "csv":
        _write_csv(clusters, fh)
    elif fmt == "html":
        fh.write(_html(list(clusters)))
    else:
        raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")


CSV_COLUMNS = [
    "cluster",
    "status",
    "size",
    "documents",
    "confidence",
    "terms",
    "first_seen",
    "last_seen",
    "languages",
    "sources",
    "growth",
    "exemplar_1",
    "exemplar_2",
    "exemplar_3",
    "doc_ids",
]


def _write_csv(clusters: Iterable[Any], fh: TextIO) -> None:
    from narrascope.export.table import _cell  # the spreadsheet-formula guard

    writer = csv.writer(fh, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for c in clusters:
        exemplars = [e.text for e in c.exemplars] + [""] * 3
        row = [
            c.id,
            c.status,
            c.size,
            c.documents,
            round(c.confidence, 4),
            "; ".join(c.terms),
            c.first_seen or "unknown",
            c.last_seen or "unknown",
            "; ".join(f"{k} {v}" for k, v in c.languages.items()),
            "; ".join(f"{k} {v}" for k, v in c.sources.items()),
            "; ".join(f"{g['bucket']} {g['documents']}" for g in c.growth),
            *exemplars[:3],
            "; ".join(c.doc_ids),
        ]
        writer.writerow([_cell(v) for v in row])


def _html(clusters: list[Any]) -> str:
    from narrascope.export.display import visible_bidi

    def show(value: Any) -> str:
        return escape(visible_bidi("unknown" if value is None else str(value)))

    parts = []
    for c in clusters:
        peak = max((g["documents"] for g in c.growth), default=1)
        bars = "".join(
            f"<div class=bar title='{show(g['bucket'])}: {g['documents']}'>"
            f"<span style='height:{round(100 * g['documents'] / peak)}%'></span>"
            f"<small>{show(g['bucket'])}</small></div>"
            for g in c.growth
        )
        exemplars = "".join(
            f"<blockquote>{show(e.text)}<br><small>{show(e.doc_id)} "
            f"{e.start}-{e.end}</small></blockquote>"
            for e in c.exemplars
        )
        langs = ", ".join(f"{show(k)} {v}" for k, v in c.languages.items())
        sources = ", ".join(f"{show(k)} {v}" for k, v in c.sources.items())
        parts.append(
            f"<section><h2>{show(c.id)}: {show(', '.join(c.terms[:6]))}</h2>"
            f"<p>{c.size} paragraphs in {c.documents} documents ({show(c.status)}), "
            f"confidence {c.confidence:.2f}. First seen {show(c.first_seen)}, last "
            f"{show(c.last_seen)}.</p><p>Languages: {langs}. Sources: {sources}.</p>"
            f"<div class=growth>{bars}</div>{exemplars}</section>"
        )
    body = "".join(parts) or "<p>No clusters found.</p>"
    return (
        "<!doctype html><html><head><meta charset=utf-8>"
        "<meta http-equiv=Content-Security-Policy content=\"default-src 'none'; "
        "style-src 'unsafe-inline'\"><title>Narrascope discover</title><style>"
        "body{font:14px system-ui,sans-serif;margin:2em;max-width:70em}"
        "blockquote{background:#f5f5f5;padding:.5em 1em;white-space:pre-wrap}"
        ".growth{display:flex;gap:2px;align-items:flex-end;height:80px}"
        ".bar{display:flex;flex-direction:column;justify-content:flex-end;height:100%;"
        "width:3em}.bar span{background:#4a78b5;display:block}.bar small{font-size:9px}"
        "</style></head><body>"
        f"<h1>Emerging narratives ({len(clusters)} clusters)</h1>{body}</body></html>\n"
    )
