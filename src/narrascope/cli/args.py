"""Argument types the commands share: a bad value is a usage error that names it."""

from __future__ import annotations

import argparse
from collections.abc import Callable


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


# what a report file's extension says it holds (campaigns, discover)
REPORT_SUFFIXES = {
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".csv": "csv",
    ".html": "html",
    ".htm": "html",
}


def report_format(args: argparse.Namespace) -> str:
    """``--format`` if given, else what ``--out``'s extension says, else jsonl."""
    if args.format:
        return str(args.format)
    if args.out is not None:
        return REPORT_SUFFIXES.get(args.out.suffix.lower(), "jsonl")
    return "jsonl"
