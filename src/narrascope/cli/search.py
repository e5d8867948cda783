"""``narrascope search``: find stored documents by words, narrative, language, source, date."""

from __future__ import annotations

import argparse
import json
from dataclasses import fields
from pathlib import Path

from narrascope.cli.args import whole_number
from narrascope.store import HATE_FILTERS, Filters, SearchHit
from narrascope.store.base import FilterError, parse_day, parse_score

TOP_NARRATIVES = 3  # in the table; --json lists them all


def _day(value: str) -> str:
    """An ISO day (2024-03-02), so a typo is a usage error and not an empty result."""
    try:
        return parse_day(value)
    except FilterError as error:
        raise argparse.ArgumentTypeError(error.reason) from None


def _score(value: str) -> float:
    try:
        return parse_score(value)
    except FilterError as error:
        raise argparse.ArgumentTypeError(error.reason) from None


QUERY_SYNTAX = """\
QUERY syntax (the same as the web API's q=), one argument: quote it in the shell.
  'Украины санкции'       every word, any order, each in any of its forms
                          (Украины finds Украина, sanção finds sanções)
  'sanction*'             the word in any form, or any word that begins with it
  'sanctions OR embargo'  either word; OR in capitals, and it binds first:
                          'NATO sanctions OR embargo' is NATO and (sanctions or embargo)
  '"new sanctions"'       these words next to each other, in this order, any form
  'sanctions -embargo'    without that word (-"a phrase" and -word* too); a query
                          that is only -word goes after --: search --db DB -- -embargo

Word forms come from the language of each document (Snowball stemmers; small ones
of our own for uk and bg); case and Latin accents do not matter (Russia finds Rússia).
No query is an error: a quote without its pair, OR without a word on each side, a lone
- or * and other punctuation are ignored, and pro-Russian is the phrase "pro russian".
"""


def add_parser(sub: argparse._SubParsersAction, name: str) -> None:
    p = sub.add_parser(
        name,
        help="search a corpus database by words, narrative, language, source and date",
        description="List stored documents that match every filter given, newest first.\n"
        "Fill the database with `narrascope analyze INPUT... --db PATH`.",
        epilog=QUERY_SYNTAX,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--db",
        required=True,
        metavar="PATH_OR_URL",
        help="corpus database: a SQLite file, or a sqlite:///PATH or postgresql://USER@HOST/DB URL",
    )
    p.add_argument(
        "query",
        nargs="?",
        help="words the text must contain, in any of their forms; also word*, OR, "
        '"a phrase", -word (see below)',
    )
    p.add_argument("--narrative", metavar="LABEL", help="a narrative or sub-narrative label")
    p.add_argument("--language", metavar="CODE", help="e.g. en, ru, uk, bg, pt, hi")
    p.add_argument("--source", help="the source exactly as stored")
    p.add_argument("--from", dest="date_from", type=_day, metavar="DATE", help="from this day")
    p.add_argument("--to", dest="date_to", type=_day, metavar="DATE", help="to this day (included)")
    p.add_argument(
        "--min-score",
        type=_score,
        metavar="X",
        help="score of --narrative at least X (without it: of any narrative)",
    )
    p.add_argument(
        "--hate",
        choices=HATE_FILTERS,
        help="documents whose article or any comment is flagged so (flagged: any flag)",
    )
    p.add_argument(
        "--debunk",
        metavar="ID|any",
        help="documents repeating the known debunk with this id (any: any known debunk)",
    )
    p.add_argument(
        "--limit", type=whole_number(), default=20, metavar="N", help="at most N (default 20)"
    )
    p.add_argument("--offset", type=int, default=0, metavar="N", help="skip the first N matches")
    p.add_argument("--json", action="store_true", help="print one JSON object per line")
    p.set_defaults(run=run)


def _printable(value: str | None, width: int | None = None) -> str:
    """Stored text is untrusted: no terminal control characters, long values cut."""
    text = "".join(
        c if c.isprintable() else (" " if c.isspace() else "\ufffd") for c in (value or "-")
    )
    return text if width is None or len(text) <= width else text[: width - 1] + "…"


def format_search_table(hits: list[SearchHit], total: int, offset: int = 0) -> str:
    """One line per document: id, date, source, language and its best narratives."""
    if not hits:
        return f"no documents match ({total} in all)" if total else "no documents match"
    cells = [
        [
            _printable(h.id, 40),
            _printable(h.date, 19),
            _printable(h.source, 24),
            _printable(h.language),
            "; ".join(
                f"{score:.2f} {_printable(label)}" for label, score in h.narratives[:TOP_NARRATIVES]
            )
            + (
                f"; … {len(h.narratives) - TOP_NARRATIVES} more"
                if len(h.narratives) > TOP_NARRATIVES
                else ""
            ),
        ]
        for h in hits
    ]
    header = ["id", "date", "source", "lang", "narratives"]
    widths = [max(len(row[i]) for row in [header, *cells]) for i in range(4)]
    lines = [
        "  ".join(
            [*(cell.ljust(w) for cell, w in zip(row[:4], widths, strict=True)), row[4]]
        ).rstrip()
        for row in [header, *cells]
    ]
    lines.append(f"{offset + 1}-{offset + len(hits)} of {total} documents")
    return "\n".join(lines)


def hit_record(hit: SearchHit) -> dict:
    return {
        "id": hit.id,
        "date": hit.date,
        "source": hit.source,
        "language": hit.language,
        "url": hit.url,
        "narratives": [{"label": label, "score": score} for label, score in hit.narratives],
    }


def run(args: argparse.Namespace) -> int:
    from narrascope.errors import E_STORE_OPEN, StoreError
    from narrascope.store import open_store

    if "://" not in args.db and not Path(args.db).exists():
        raise StoreError(E_STORE_OPEN, f"no database at {args.db}; create it with analyze --db")
    # the arguments are named as the filters are (query, narrative, ..., min_score)
    filters = Filters(**{f.name: getattr(args, f.name) for f in fields(Filters)})
    with open_store(args.db) as store:
        hits = store.search(filters, limit=args.limit, offset=max(args.offset, 0))
        total = None if args.json else store.search_count(filters)
    if args.json:
        for hit in hits:
            print(json.dumps(hit_record(hit), ensure_ascii=False))
    else:
        print(format_search_table(hits, total or 0, max(args.offset, 0)))
    return 0
