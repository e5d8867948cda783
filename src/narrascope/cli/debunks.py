"""``narrascope debunks add | list | search | remove``: the fact-checks a user matches
documents to."""

from __future__ import annotations

import argparse
import json
import sys
from itertools import chain
from typing import TYPE_CHECKING, Any

from narrascope.cli.args import whole_number
from narrascope.ingest.debunks import (
    MAX_CLAIM_CHARS,
    BadRow,
    FieldNames,
    Note,
    count_rows,
    read_debunks,
)

if TYPE_CHECKING:
    from narrascope.store.debunks import DebunkStore

FIELD_OPTIONS = ("claim", "id", "url", "verdict", "date", "title", "text", "language")
# without --reader/--no-reader, the debunk reader's vectors are made when the database holds
# at most this many debunks after the import (~3.5 minutes at most), or keeps them already
READER_AUTO = 20_000
READER_SECONDS = 0.011  # a debunk's reader vector: 10.6 ms measured (bench_debunks, idle)


def add_parser(sub: argparse._SubParsersAction, name: str) -> None:
    p = sub.add_parser(
        name,
        help="import fact-checks (known debunks) into a database; list, search and remove them",
        description="Documents analysed with --db are matched against the debunks kept "
        "in the same database.",
    )
    commands = p.add_subparsers(dest="debunks_command", required=True, metavar="ACTION")

    add = commands.add_parser(
        "add",
        help="import fact-checks from JSONL/CSV files, EUvsDisinfo dumps, vclaims folders "
        "or a fact-checker's RSS/Atom feed",
        description="Import fact-checks. JSONL and CSV need a claim field; id, url, "
        "verdict, date, title, text and language are optional (rename with --X-field; "
        "names match whatever their case and surrounding blanks). A CSV without the claim "
        "column is read as an EUvsDisinfo case dump (full_dataset.csv, posts.csv) when its "
        "header is one; a folder is read as CheckThat! vclaims/*.json; an .rss, .atom or "
        ".xml feed as one fact-check per item, its headline the claim (--claim-field text: "
        "its summary). The layout each "
        "file was read as is printed. A debunk is keyed by its id; without one, by its URL "
        "(or, without a URL, by its claim text): importing again updates, never "
        "duplicates, and a row that gains an id takes over the row its URL keyed. A "
        "missing language is detected from the claim; names such as 'Russian' or 'RU' "
        f"become codes. A claim over {MAX_CLAIM_CHARS:,} characters is a bad row (most "
        "likely another column read as the claim). Bad rows are reported (file:line: "
        "reason) and the import goes on. Values left out are warned about per row: a url "
        "that is not http(s), a date that names no day, a date that reads both ways "
        "(05/11/2022); a ClaimReview rating object gives its alternateName (or "
        "ratingValue), any other object or list refuses its row.",
    )
    add.add_argument("sources", nargs="+", metavar="SOURCE", help="file or folder")
    _db(add)
    for field in FIELD_OPTIONS:
        add.add_argument(
            f"--{field}-field",
            dest=f"{field}_field",
            default=field,
            metavar="NAME",
            help=f"the column/key holding the {field} (default {field})",
        )
    add.add_argument(
        "--no-vectors",
        action="store_true",
        help="skip the sentence vectors (faster; no cross-lingual matching); implies --no-reader",
    )
    reader = add.add_mutually_exclusive_group()
    reader.add_argument(
        "--reader",
        action="store_true",
        default=None,
        help="make every debunk's debunk-reader vector now, however many (about 95 a "
        "second; resumable: an interrupted run goes on where it stopped). The matcher "
        "reads restatements with the reader only when every debunk has one. Default: made "
        f"when the database holds at most {READER_AUTO:,} debunks, or already has them",
    )
    reader.add_argument(
        "--no-reader",
        dest="reader",
        action="store_false",
        help="make no reader vectors (those kept stay)",
    )
    add.add_argument(
        "--e5",
        action="store_true",
        help="also read every debunk with e5 now (about 150 a second; resumable), so "
        "documents in another language than the debunks never wait for it (without it, a "
        "debunk is read the first time it is a cross-lingual candidate, then kept)",
    )
    add.add_argument("--quiet", action="store_true", help="no progress bar")
    add.set_defaults(run=run)

    lst = commands.add_parser("list", help="list the debunks in a database")
    _db(lst)
    lst.add_argument(
        "--limit", type=whole_number(), default=20, metavar="N", help="at most N (default 20)"
    )
    lst.add_argument("--offset", type=int, default=0, metavar="N", help="skip the first N")
    lst.add_argument("--json", action="store_true", help="one JSON object per line")
    lst.set_defaults(run=run)

    search = commands.add_parser("search", help="find debunks by words (BM25), best first")
    _db(search)
    search.add_argument("query", help="words of the claim, any form, any order")
    search.add_argument("--limit", type=whole_number(), default=10, metavar="N", help="at most N")
    search.add_argument("--json", action="store_true", help="one JSON object per line")
    search.set_defaults(run=run)

    remove = commands.add_parser(
        "remove",
        help="remove debunks by id",
        description="Remove debunks by their id, as `debunks list` shows it (a debunk "
        "imported without an id has its URL or a claim-... id). An id that is not in the "
        "database is reported and the others are still removed (exit 1).",
    )
    remove.add_argument("ids", nargs="+", metavar="ID", help="the id of a debunk")
    _db(remove)
    remove.set_defaults(run=run)


def _db(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--db",
        required=True,
        metavar="PATH",
        help="the SQLite database (the corpus database of `analyze --db`)",
    )


def _printable(value: str | None, width: int | None = None) -> str:
    """Imported text is untrusted: no terminal control characters, long values cut."""
    text = "".join(
        c if c.isprintable() else (" " if c.isspace() else "\ufffd") for c in (value or "-")
    )
    return text if width is None or len(text) <= width else text[: width - 1] + "…"


def run(args: argparse.Namespace) -> int:
    commands = {"add": _add, "list": _list, "search": _search, "remove": _remove}
    return commands[args.debunks_command](args)


def _add(args: argparse.Namespace) -> int:
    from tqdm.auto import tqdm

    from narrascope.store.debunks import DebunkStore

    names = FieldNames(**{f: getattr(args, f"{f}_field") for f in FIELD_OPTIONS})
    encode = None
    if not args.no_vectors:
        from narrascope.models.encoder import SentenceEncoder

        encode = SentenceEncoder.shared().encode
    counts = [count_rows(s) for s in args.sources]
    total = sum(c for c in counts if c) if all(c is not None for c in counts) else None
    bad: list[BadRow] = []
    warnings = 0

    def tell(note: Note) -> None:
        nonlocal warnings
        warnings += note.warning
        tqdm.write(f"warning: {note}" if note.warning else str(note), file=sys.stderr)

    with DebunkStore(args.db) as store:
        before = store.count()
        had_reader = before - store.reader_missing()
        bar = tqdm(
            total=total,
            unit="row",
            file=sys.stderr,
            disable=args.quiet or None,
            dynamic_ncols=True,
            desc="debunks",
        )

        def good():
            read = (read_debunks(s, names, notes=tell) for s in args.sources)
            for item in chain.from_iterable(read):
                if isinstance(item, BadRow):
                    bad.append(item)
                    tqdm.write(f"error: {item}", file=sys.stderr)
                    bar.update(1)
                else:
                    yield item

        report = store.add(good(), encode=encode, progress=bar.update)
        bar.close()
        after = store.count()
        if args.e5:
            _read_with_e5(store, quiet=args.quiet)
        reader = _reader_pass(store, args, before=had_reader)
    repeats = f", {report.duplicates} duplicate rows (the last kept)" if report.duplicates else ""
    files = sum(1 for b in bad if not b.line)  # a whole file or folder that could not be read
    unread = f", {files} unreadable files" if files else ""
    warned = f", {warnings} warnings (values left out or doubtful)" if warnings else ""
    print(
        f"{report.added} added, {report.updated} updated, {report.unchanged} unchanged"
        f"{repeats}, {len(bad) - files} bad rows{unread}{warned}; {after} debunks in "
        f"{args.db} (was {before}); {reader}"
    )
    return 1 if bad else 0


def _read_with_e5(store: DebunkStore, *, quiet: bool) -> None:
    """e5 vectors of every debunk that has none, with a progress bar (resumable)."""
    from narrascope.models.hate import E5Sentences, e5_sentences_version
    from narrascope.store.debunks import fill_vectors

    version = e5_sentences_version()
    with _bar(store.e5_missing(version=version), "e5", quiet) as bar:
        fill_vectors(
            store.path,
            lambda n: store.without_e5(n, version=version),
            E5Sentences.shared,
            lambda vectors: store.set_e5_vectors(vectors, version=version),
            what="e5",
            progress=bar.update,
        )


def _reader_pass(store: DebunkStore, args: argparse.Namespace, *, before: int) -> str:
    """Make the reader vectors the database lacks when asked, or by default when it is
    small enough (or kept them already: a complete reader index stays complete); what the
    summary line says of them. ``before``: the rows that had one before the import.

    Why not always: a vector costs ~11 ms, 1.5 hours for a 500k-row import nobody asked to
    wait for; the matcher then goes on without the reader, and one line says how to add it.
    """
    from tqdm.auto import tqdm

    from narrascope.models.debunk_reader import reader_version

    total = store.count()
    version = reader_version()
    missing = store.reader_missing() if store.reader_version() == version else total
    if args.no_vectors or args.reader is False:
        why = "--no-vectors" if args.no_vectors else "--no-reader"
    elif not version:
        why = "no debunk reader in this narrascope"
        tqdm.write(f"reader: skipped ({why})", file=sys.stderr)
    elif missing and not (
        args.reader or total <= READER_AUTO or (before and store.reader_version() == version)
    ):
        minutes = max(1, round(missing * READER_SECONDS / 60))
        why = f"over {READER_AUTO:,} debunks"
        tqdm.write(
            f"reader: skipped ({total:,} debunks, over {READER_AUTO:,}): the {missing:,} "
            f"missing vectors take about {minutes:,} minute{'s' * (minutes > 1)} "
            f"({READER_SECONDS * 1000:.0f} ms each); run again with --reader to make them "
            "(resumable)",
            file=sys.stderr,
        )
    else:
        _make_reader_vectors(store, version, quiet=args.quiet)
        why = ""
    have = total - store.reader_missing() if store.reader_version() == version else 0
    if total and have == total:
        return f"reader vectors: all {total:,}"
    told = f" ({why})" if why else ""
    return f"reader vectors: {f'{have:,} of {total:,}' if have else 'none'}{told}"


def _make_reader_vectors(store: DebunkStore, version: str, *, quiet: bool) -> None:
    """Reader vectors of every debunk that has none, with a progress bar (those of
    another reader version are dropped first, so all are made again)."""
    from narrascope.models.debunk_reader import make_debunk_vectors

    store.set_reader_vectors({}, version)  # the bar's total: after the drop
    with _bar(store.reader_missing(), "reader", quiet) as bar:
        make_debunk_vectors(store, progress=bar.update)


def _bar(total: int, desc: str, quiet: bool) -> Any:
    from tqdm.auto import tqdm

    return tqdm(total=total, unit="debunk", file=sys.stderr, disable=quiet or None, desc=desc)


def _open(db: str) -> DebunkStore:
    """The database read-only: listing or searching never creates a table in it."""
    from narrascope.store.debunks import DebunkStore

    return DebunkStore(db, create=False)


def _none_imported(db: str) -> str:
    return f"no debunks in {db}; import fact-checks with `narrascope debunks add FILE --db {db}`"


def _line(d, score: float | None = None) -> str:
    head = f"{score:6.2f}  " if score is not None else ""
    extra = "  ".join(_printable(v, 60) for v in (d.verdict, d.date, d.url) if v)
    return f"{head}{_printable(d.id, 48)}  {_printable(d.claim, 100)}" + (
        f"\n        {extra}" if extra else ""
    )


def _list(args: argparse.Namespace) -> int:
    with _open(args.db) as store:
        if not store.has_tables:
            if not args.json:
                print(_none_imported(args.db))
            return 0
        rows = list(store.iter_debunks(limit=args.limit, offset=max(args.offset, 0)))
        total = store.count()
    for d in rows:
        print(json.dumps(d.to_dict(), ensure_ascii=False) if args.json else _line(d))
    if not args.json:
        first = max(args.offset, 0)
        if rows:
            print(f"{first + 1}-{first + len(rows)} of {total} debunks")
        else:  # no "11-10 of 6": past the end there is no range to show
            past = f" (--offset {first} is past the last)" if first and first >= total else ""
            print(f"0 of {total} debunks{past}")
    return 0


def _search(args: argparse.Namespace) -> int:
    with _open(args.db) as store:
        if not store.has_tables:
            if not args.json:
                print(_none_imported(args.db))
            return 0
        hits = store.search(args.query, limit=args.limit)
    if args.json:
        for d, score in hits:
            print(json.dumps({**d.to_dict(), "score": round(score, 4)}, ensure_ascii=False))
    elif not hits:
        print("no debunks match")
    else:
        for d, score in hits:
            print(_line(d, score))
    return 0


def _remove(args: argparse.Namespace) -> int:
    from narrascope.store.debunks import DebunkStore, url_id

    with _open(args.db) as store:  # read-only first: a file without debunks stays as it was
        if not store.has_tables:
            print(_none_imported(args.db), file=sys.stderr)
            return 1
    with DebunkStore(args.db) as store:
        before = store.count()
        found: list[str] = []
        unknown: list[str] = []
        for given in dict.fromkeys(args.ids):
            # a URL as copied from a browser finds the debunk its URL keys
            tried = (given, url_id(given)) if "://" in given else (given,)
            known = next((i for i in tried if store.get(i) is not None), None)
            (found if known else unknown).append(known or given)
        gone = store.delete(found) if found else 0
        after = store.count()
    for given in unknown:
        print(
            f"narrascope: no debunk with id {_printable(given, 80)!r} in {args.db} "
            f"(`narrascope debunks list --db {args.db}` shows the ids)",
            file=sys.stderr,
        )
    print(f"{gone} removed; {after} debunks in {args.db} (was {before})")
    return 1 if unknown else 0
