"""``narrascope taxonomy add | list | remove``: the user's own narratives, kept in the
corpus database and reported by ``analyze --db`` like the built-in ones."""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from narrascope.errors import E_BAD_RECORD, E_INPUT, E_NOT_FOUND, NarrascopeError


def add_parser(sub: argparse._SubParsersAction, name: str) -> None:
    p = sub.add_parser(
        name,
        help="add your own narratives (from examples) to a corpus database; list, remove them",
        description="A custom narrative is learned from at least 10 example texts and kept "
        "in the corpus database; `analyze --db` then reports it on every document, with a "
        "score and evidence, as 'Custom: LABEL'.",
    )
    commands = p.add_subparsers(dest="taxonomy_command", required=True, metavar="ACTION")

    add = commands.add_parser(
        "add",
        help="learn a narrative from example texts (adding a label again updates it)",
        description="Examples: a .txt file (one example per paragraph, paragraphs "
        "separated by a blank line), a .jsonl or .csv file (one example per row, in the "
        "field --text-field), or --from-cluster ID (the texts of a cluster found by "
        "`narrascope discover`), or both. At least 10 distinct examples. Negatives are "
        "the corpus's own documents (and generic texts when it holds few), except those "
        "that carry the narrative (stored with it, or members of the cluster); "
        "cross-validation picks the threshold and its precision and recall are printed. "
        "Without --examples or --from-cluster, a stored narrative is fitted again on its "
        "own examples (after the corpus grew, or after an upgrade changed the model format).",
    )
    add.add_argument("label", help='the narrative\'s name, e.g. "Sanctions hurt only Europe"')
    add.add_argument("--examples", metavar="FILE", help=".txt, .jsonl or .csv examples")
    add.add_argument(
        "--from-cluster", metavar="ID", help="the texts of a cluster `narrascope discover` found"
    )
    _db(add)
    add.add_argument("--description", metavar="TEXT", help="what the narrative claims")
    add.add_argument(
        "--parent",
        metavar="NARRATIVE",
        help="report it as a sub-narrative of this narrative (a taxonomy label, e.g. "
        "'URW: Discrediting Ukraine', or another custom narrative) when the document has "
        'it; --parent "" clears a parent given before',
    )
    add.add_argument(
        "--text-field", default="text", metavar="NAME", help="JSONL/CSV field (default text)"
    )
    add.set_defaults(run=run)

    lst = commands.add_parser("list", help="the custom narratives of a database")
    _db(lst)
    lst.add_argument("--json", action="store_true", help="one JSON object per line")
    lst.set_defaults(run=run)

    remove = commands.add_parser(
        "remove",
        help="delete a custom narrative, and what analyze --db stored of it",
        description="Delete a custom narrative and its results in the corpus: the stored "
        "documents no longer carry 'Custom: LABEL' (stats and search stop counting it); "
        "its children become narratives of their own.",
    )
    remove.add_argument("label")
    _db(remove)
    remove.set_defaults(run=run)


def _db(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--db",
        required=True,
        metavar="PATH",
        help="the SQLite corpus database (the one of `analyze --db`)",
    )


def run(args: argparse.Namespace) -> int:
    return {"add": _add, "list": _list, "remove": _remove}[args.taxonomy_command](args)


# ---------------------------------------------------------------------- reading examples
def read_examples(path: str | Path, text_field: str = "text") -> list[str]:
    """The example texts of a file: .txt paragraphs (blank-line separated), or the
    ``text_field`` of each .jsonl/.csv row; blank ones left out, repeats kept once.

    Lines end at ``\n`` (``\r\n`` and ``\r`` read as it) and nowhere else: a U+2028
    inside a JSON string, or a NEL (``\x85``, the cp1252 "…" of mis-decoded text) inside
    a CSV field, is text, not a line break."""
    source = Path(path)
    if not source.is_file():
        raise NarrascopeError(E_NOT_FOUND, f"--examples {path}: no such file")
    suffix = source.suffix.lower()
    try:
        raw = source.read_bytes().decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise NarrascopeError(E_INPUT, f"{path}: cannot read it as UTF-8 text ({exc})") from exc
    texts: list[str] = []
    if suffix == ".csv":  # the csv module reads its own line ends, quoted ones included
        reader = csv.DictReader(io.StringIO(raw, newline=""))
        if text_field not in (reader.fieldnames or []):
            raise NarrascopeError(
                E_BAD_RECORD,
                f"{path}: no column {text_field!r} (columns: {reader.fieldnames}); "
                "name it with --text-field",
            )
        return _distinct(row.get(text_field) or "" for row in reader)
    lines = raw.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if suffix in (".jsonl", ".ndjson"):
        for lineno, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise NarrascopeError(E_BAD_RECORD, f"{path}:{lineno}: not JSON ({exc})") from exc
            texts.append(_field(row, text_field, f"{path}:{lineno}"))
    else:
        current: list[str] = []
        for line in lines:
            if line.strip():
                current.append(line.rstrip())
            elif current:
                texts.append("\n".join(current))
                current = []
        if current:
            texts.append("\n".join(current))
    return _distinct(texts)


def _distinct(texts: Iterable[str]) -> list[str]:
    """Non-blank texts, stripped, each once, in order."""
    return list(dict.fromkeys(t.strip() for t in texts if t and t.strip()))


def _field(row: Any, name: str, where: str) -> str:
    if not isinstance(row, dict) or not isinstance(row.get(name), str):
        raise NarrascopeError(
            E_BAD_RECORD, f"{where}: no text field {name!r}; name it with --text-field"
        )
    return row[name]


def cluster_texts(db: str, cluster_id: str) -> list[str]:
    """The example texts of a discovered cluster (``narrascope discover``)."""
    import importlib

    try:  # written alongside; a narrascope without it says so
        discover = importlib.import_module("narrascope.corpus.discover")
    except ImportError as exc:
        raise NarrascopeError(
            E_NOT_FOUND,
            "--from-cluster needs `narrascope discover`, which this narrascope does not "
            "have; give the examples as a file with --examples",
        ) from exc
    missing = NarrascopeError(
        E_NOT_FOUND, f"no cluster {cluster_id!r} in {db}; run `narrascope discover --db {db}`"
    )
    try:
        found = discover.cluster_examples(db, cluster_id)  # unknown id: KeyError
    except KeyError as exc:
        raise missing from exc
    texts = [t if isinstance(t, str) else str(getattr(t, "text", t)) for t in found or []]
    if not texts:
        raise missing
    return _distinct(texts)


# ---------------------------------------------------------------------- commands
def _add(args: argparse.Namespace) -> int:
    from narrascope.models.custom_narratives import (
        MIN_EXAMPLES,
        add_custom_narrative,
        normalise_label,
    )

    label = normalise_label(args.label)  # empty: E100 before any file is read
    _check_store(args.db)  # before the examples are read and the encoder loads
    examples: list[str] = []
    source = None
    if args.from_cluster:
        examples = cluster_texts(args.db, args.from_cluster)
        source = f"cluster {args.from_cluster}"
        if len(examples) < MIN_EXAMPLES and not args.examples:
            raise NarrascopeError(
                E_INPUT,
                f"cluster {args.from_cluster} holds {len(examples)} distinct text(s) (copies "
                f"of one post count once); a custom narrative needs at least {MIN_EXAMPLES}: "
                "add examples of your own with --examples FILE next to --from-cluster",
            )
    if args.examples:
        examples = _distinct([*examples, *read_examples(args.examples, args.text_field)])
        source = source or args.examples
    if not args.examples and not args.from_cluster:
        label, examples, source = _stored_examples(args.db, label)
    if len(examples) < MIN_EXAMPLES:
        hint = ""
        if str(args.examples or "").lower().endswith(".txt"):
            hint = " (paragraphs of a .txt are separated by a blank line)"
        raise NarrascopeError(
            E_INPUT,
            f"{args.examples or source}: {len(examples)} distinct example(s); a custom "
            f"narrative needs at least {MIN_EXAMPLES}{hint}",
        )
    result = add_custom_narrative(
        args.db,
        label,
        examples,
        description=args.description,
        parent=args.parent,
        source=source,
    )
    cv = result.cv
    print(
        f"{'added' if result.new else 'updated'} {_printable(result.label)!r}: "
        f"{len(examples)} examples vs {cv['negatives']} negatives; cross-validated "
        f"({cv['folds']} folds) precision {cv['precision']:.2f}, recall {cv['recall']:.2f} "
        f"at threshold {result.threshold:.2f}"
    )
    for note in result.notes:
        print(f"note: {_printable(note)}", file=sys.stderr)
    if cv["precision"] < 0.5:
        print(
            f"note: in cross-validation {cv['precision']:.0%} of what reached the threshold "
            "were examples, the rest corpus texts (some may carry the narrative, unlabelled); "
            "more, or more distinct, examples make it sharper",
            file=sys.stderr,
        )
    return 0


def _check_store(db: str) -> None:
    """Open the database ``add`` writes to, now: a PostgreSQL URL, another program's
    SQLite file, a file that is no database or tables newer than this narrascope are
    refused at once (E302, E303, E301), not after the encoder has loaded and the model
    trained. A file that does not exist yet is left to be created by ``add`` itself."""
    from narrascope.store.custom_narratives import CustomNarrativeStore, db_path

    if db_path(db).exists():
        with CustomNarrativeStore(db):  # refuses before it writes anything
            pass


def _stored_examples(db: str, label: str) -> tuple[str, list[str], str | None]:
    """The stored label, and the examples (and their source) it was fitted on, to fit
    it again."""
    from narrascope.models.custom_narratives import find_label
    from narrascope.store.custom_narratives import CustomNarrativeStore, db_path

    stored = None
    if db_path(db).is_file():
        with CustomNarrativeStore(db, create=False) as store:
            rows = {n.label: n for n in store.narratives()}
        found = find_label(label, rows)
        stored = rows[found] if found is not None else None
    if stored is None:
        raise NarrascopeError(
            E_NOT_FOUND,
            f"no custom narrative {label!r} in {db} to fit again; give its examples with "
            "--examples FILE or --from-cluster ID",
        )
    return stored.label, stored.examples, stored.source


def _printable(value: str | None, width: int | None = None) -> str:
    """Stored text is the user's: no terminal control characters, long values cut."""
    text = "".join(
        c if c.isprintable() else (" " if c.isspace() else "\ufffd") for c in (value or "-")
    )
    return text if width is None or len(text) <= width else text[: width - 1] + "…"


def _list(args: argparse.Namespace) -> int:
    from narrascope.store.custom_narratives import CustomNarrativeStore, db_path

    if not db_path(args.db).is_file():
        raise NarrascopeError(E_NOT_FOUND, f"no database at {args.db}")
    with CustomNarrativeStore(args.db, create=False) as store:
        rows = store.narratives()
    for n in rows:
        if args.json:
            print(json.dumps(n.summary(), ensure_ascii=False))
            continue
        cv = n.cv
        print(
            f"{_printable(n.label, 48):48s}  {len(n.examples):4d} examples  "
            f"added {n.added}  CV precision {cv.get('precision', 0):.2f} "
            f"recall {cv.get('recall', 0):.2f}"
            + (f"\n      under {_printable(n.parent, 80)}" if n.parent else "")
            + (f"\n      {_printable(n.description, 100)}" if n.description else "")
        )
    if not args.json:
        print(f"{len(rows)} custom narrative(s) in {args.db}")
    return 0


def _remove(args: argparse.Namespace) -> int:
    from narrascope.models.custom_narratives import custom_label, find_label
    from narrascope.store.custom_narratives import CustomNarrativeStore, db_path

    if not db_path(args.db).is_file():
        raise NarrascopeError(E_NOT_FOUND, f"no database at {args.db}")
    with CustomNarrativeStore(args.db, create=False) as store:
        label = find_label(args.label, [n.label for n in store.narratives()])
        carriers = len(store.documents_labelled(custom_label(label))) if label else 0
    if label is None:
        print(
            f"narrascope: no custom narrative {_printable(args.label)!r} in {args.db}",
            file=sys.stderr,
        )
        return 1
    with CustomNarrativeStore(args.db) as store:
        children = store.children(label)
        store.remove(label)
    print(
        f"removed {_printable(label)!r} from {args.db}"
        + (f", and its results on {carriers} stored document(s)" if carriers else "")
    )
    for child in children:
        print(
            f"note: {_printable(child)!r} had it as its parent and is now a narrative of its "
            "own; give it another with `taxonomy add LABEL --db DB --parent NARRATIVE`",
            file=sys.stderr,
        )
    return 0
