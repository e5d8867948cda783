"""Command line: ``narrascope analyze | train | eval | stats | search | campaigns | discover |
debunks | taxonomy | serve``, one thin module each."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence

from narrascope import __version__
from narrascope.cli import (
    analyze,
    campaigns,
    debunks,
    discover,
    evaluate,
    search,
    serve,
    stats,
    taxonomy,
    train,
)
from narrascope.errors import NarrascopeError

SIGPIPE_EXIT = 141  # 128 + SIGPIPE: what a shell reports for a writer whose reader left

COMMANDS = {
    "analyze": analyze,
    "train": train,
    "eval": evaluate,
    "stats": stats,
    "search": search,
    "campaigns": campaigns,
    "discover": discover,
    "debunks": debunks,
    "taxonomy": taxonomy,
    "serve": serve,
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="narrascope",
        description="Find propaganda narratives in war-related media, with evidence.",
    )
    parser.add_argument("--version", action="version", version=f"narrascope {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, module in COMMANDS.items():
        module.add_parser(sub, name)
    _verbose_everywhere(parser)
    return parser


def _verbose_everywhere(parser: argparse.ArgumentParser) -> None:
    """``-v`` after the subcommand too (``narrascope analyze x.txt -v``, where users put
    it): every subcommand, nested ones included, takes it; SUPPRESS keeps the top-level
    value when a subcommand is not given it."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in {id(p): p for p in action.choices.values()}.values():  # aliases once
                sub.add_argument(
                    "-v",
                    "--verbose",
                    action="store_true",
                    default=argparse.SUPPRESS,
                    help="log progress details",
                )
                _verbose_everywhere(sub)


def _escape_unencodable_output() -> None:
    """Print what stdout's encoding lacks as ``\\u0431`` escapes instead of raising: a
    Windows console or a redirect in cp1252 meets Cyrillic ids and typographic quotes, and
    a print must not stop a batch halfway (Python's stderr already does this)."""
    reconfigure = getattr(sys.stdout, "reconfigure", None)  # not on every stand-in
    if reconfigure is not None:
        reconfigure(errors="backslashreplace")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the process exit code (0 ok, 1 some inputs failed, 2 usage,
    141 stdout closed early by its reader)."""
    _escape_unencodable_output()
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        code = int(args.run(args))
        sys.stdout.flush()  # here, where a closed pipe is caught, not at interpreter exit
        return code
    except BrokenPipeError:
        # the reader closed stdout early (``narrascope stats ... | head``): stop quietly.
        # stdout goes to devnull so that Python's final flush does not fail again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
        return SIGPIPE_EXIT
    except NarrascopeError as error:
        print(f"narrascope: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("narrascope: interrupted; rerun with --resume to continue", file=sys.stderr)
        return 130
