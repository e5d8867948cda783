"""Argument types the commands share: a bad value is a usage error that names it."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from narrascope.store import Filters


def reader_fields(p: argparse.ArgumentParser) -> argparse._ArgumentGroup:
    """The record field names the readers take (``analyze``, ``campaigns``): the group,
    for a command to add its own."""
    fields = p.add_argument_group("jsonl/csv fields")
    for name in ("text", "id", "date", "source", "url"):
        fields.add_argument(f"--{name}-field", default=name)
    return fields


def whole_number(least: int = 1) -> Callable[[str], int]:
    """An argparse ``type``: a whole number of at least ``least``."""

    def parse(value: str) -> int:
        if not value.isdigit() or int(value) < least:
            what = (
                "a positive whole number" if least == 1 else f"a whole number of at least {least}"
            )
            raise argparse.ArgumentTypeError(f"{what}, got {value!r}")
        return int(value)

    return parse


def iso_day(value: str) -> str:
    """An argparse ``type``: an ISO day (2024-03-02), so a typo is a usage error and
    not an empty result."""
    from narrascope.store.base import FilterError, parse_day

    try:
        return parse_day(value)
    except FilterError as error:
        raise argparse.ArgumentTypeError(error.reason) from None


def score(value: str) -> float:
    """An argparse ``type``: a score, from 0 to 1."""
    from narrascope.store.base import FilterError, parse_score

    try:
        return parse_score(value)
    except FilterError as error:
        raise argparse.ArgumentTypeError(error.reason) from None


# the options add_filter_options adds, as Filters names them
FILTER_OPTIONS = ("language", "source", "date_from", "date_to", "min_score")


def add_filter_options(p: argparse.ArgumentParser, *, min_score_help: str) -> None:
    """``--language``, ``--source``, ``--from``, ``--to`` and ``--min-score``: the store's
    :class:`~narrascope.store.Filters` of the same names (see :func:`filters_from`)."""
    group = p.add_argument_group("filters (documents must match every one given)")
    group.add_argument("--language", metavar="CODE", help="e.g. en, ru, uk, bg, pt, hi")
    group.add_argument("--source", help="the source exactly as stored")
    group.add_argument(
        "--from", dest="date_from", type=iso_day, metavar="DATE", help="from this day"
    )
    group.add_argument(
        "--to", dest="date_to", type=iso_day, metavar="DATE", help="to this day (included)"
    )
    group.add_argument("--min-score", type=score, metavar="X", help=min_score_help)


def filters_from(args: argparse.Namespace) -> Filters | None:
    """The :class:`~narrascope.store.Filters` of the options :func:`add_filter_options`
    added (None: none was given)."""
    from narrascope.store import Filters

    given = {name: getattr(args, name) for name in FILTER_OPTIONS}
    if all(value is None for value in given.values()):
        return None
    return Filters(**given)


# what a report file's extension says it holds (campaigns, discover)
REPORT_SUFFIXES = {
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".csv": "csv",
    ".html": "html",
    ".htm": "html",
}


def report_format(args: argparse.Namespace) -> str:
    """``--format`` if given, else what ``--out``'s extension says, else jsonl (no
    ``--out``, or a name without an extension such as ``/dev/null``).

    An extension that names no format is a usage error (E100, exit 2): ``-o
    clusters.parquet`` wrote JSON text into a file no Parquet reader could open. Call it
    before the work, so that nothing is computed, nor any file opened, in vain.
    """
    from narrascope.errors import E_INPUT, NarrascopeError

    if args.format:
        return str(args.format)
    if args.out is None or not args.out.suffix:
        return "jsonl"
    found = REPORT_SUFFIXES.get(args.out.suffix.lower())
    if found is None:
        known = ", ".join(sorted(REPORT_SUFFIXES))
        raise NarrascopeError(
            E_INPUT,
            f"--out {args.out}: no format is written as {args.out.suffix}; end the file "
            f"name in one of {known}, or give the format with -f",
        )
    return found
