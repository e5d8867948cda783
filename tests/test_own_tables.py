"""The tables narrascope keeps beside the corpus (debunks, custom narratives, discover):
never written into another program's SQLite file, and never created by a command that
only reads."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from narrascope.cli import main
from narrascope.errors import StoreError

CHECK = {"id": "fc-grain", "claim": "Ukraine sold its grain reserves to pay for weapons"}


def _foreign(path: Path) -> Path:
    """A small SQLite file of another program: one table of its own."""
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE users (id INTEGER, name TEXT)")
    conn.execute("INSERT INTO users VALUES (1, 'Olena')")
    conn.commit()
    conn.close()
    return path


def _tables(path: Path) -> list[str]:
    conn = sqlite3.connect(path)
    try:
        return sorted(r[0] for r in conn.execute("SELECT name FROM sqlite_master"))
    finally:
        conn.close()


@pytest.mark.parametrize(
    "command",
    [
        ["debunks", "list"],
        ["debunks", "search", "grain"],
        ["debunks", "add", "CHECKS", "--no-vectors", "--quiet"],
    ],
)
def test_a_foreign_sqlite_file_is_refused_and_left_as_it_was(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    checks = tmp_path / "checks.jsonl"
    checks.write_text(json.dumps(CHECK) + "\n", encoding="utf-8")
    app = _foreign(tmp_path / "app.db")
    before = app.read_bytes()
    argv = [str(checks) if part == "CHECKS" else part for part in command]
    assert main([*argv, "--db", str(app)]) == 2
    err = capsys.readouterr().err
    assert "[E303]" in err and "not a narrascope corpus database" in err and "users" in err
    assert _tables(app) == ["users"]
    assert app.read_bytes() == before
    # and the corpus store still refuses it afterwards (it held no narrascope table)
    assert main(["stats", "--db", str(app)]) == 2


def test_a_read_only_look_leaves_a_foreign_file_as_it_was(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    app = _foreign(tmp_path / "app.db")
    before = app.read_bytes()
    main(["taxonomy", "list", "--db", str(app)])
    assert _tables(app) == ["users"] and app.read_bytes() == before


def test_the_own_tables_stores_refuse_a_foreign_file_before_writing(tmp_path: Path) -> None:
    from narrascope.store.custom_narratives import CustomNarrativeStore
    from narrascope.store.debunks import DebunkStore
    from narrascope.store.discover import DiscoverStore

    app = _foreign(tmp_path / "app.db")
    for opened in (DebunkStore, CustomNarrativeStore, DiscoverStore):
        with pytest.raises(StoreError, match=r"E303.*holds other tables: users"):
            opened(app)
    assert _tables(app) == ["users"]


def test_listing_debunks_of_a_corpus_without_any_creates_no_table(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    texts = tmp_path / "post.txt"
    texts.write_text("The harvest in Odesa was larger than last year.\n", encoding="utf-8")
    db = tmp_path / "corpus.db"
    assert main(["analyze", str(texts), "--db", str(db), "--no-progress"]) == 0
    capsys.readouterr()
    corpus_tables = _tables(db)
    assert "debunks_schema" not in corpus_tables

    assert main(["debunks", "list", "--db", str(db)]) == 0
    assert "no debunks in" in capsys.readouterr().out
    assert main(["debunks", "search", "harvest", "--db", str(db), "--json"]) == 0
    assert capsys.readouterr().out == ""
    assert _tables(db) == corpus_tables  # a read created nothing

    # once imported, the same commands read them
    checks = tmp_path / "checks.jsonl"
    checks.write_text(json.dumps(CHECK) + "\n", encoding="utf-8")
    assert main(["debunks", "add", str(checks), "--db", str(db), "--no-vectors", "--quiet"]) == 0
    capsys.readouterr()
    assert main(["debunks", "search", "grain weapons", "--db", str(db)]) == 0
    assert "fc-grain" in capsys.readouterr().out
