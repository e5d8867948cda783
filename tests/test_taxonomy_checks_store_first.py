"""`narrascope taxonomy add`: a --db that cannot take custom narratives (another
program's SQLite file, a file that is no database) is refused at once, before the
encoder loads or a model trains, and left exactly as it was."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from narrascope.cli import main
from narrascope.models.encoder import SentenceEncoder

EXAMPLES = "\n\n".join(
    f"Example {i}: the sanctions hurt farmers in Europe far more than anyone in Moscow."
    for i in range(12)
)


@pytest.fixture
def examples(tmp_path: Path) -> Path:
    path = tmp_path / "examples.txt"
    path.write_text(EXAMPLES, encoding="utf-8")
    return path


@pytest.fixture(autouse=True)
def no_encoder(monkeypatch: pytest.MonkeyPatch) -> None:
    def shared(*_: object, **__: object) -> SentenceEncoder:
        raise AssertionError("the encoder was loaded before the database was checked")

    monkeypatch.setattr(SentenceEncoder, "shared", shared)


def test_another_programs_sqlite_file_is_refused_before_the_encoder(
    tmp_path: Path, examples: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    foreign = tmp_path / "app.db"
    conn = sqlite3.connect(foreign)
    conn.execute("CREATE TABLE invoices (id INTEGER, total REAL)")
    conn.execute("INSERT INTO invoices VALUES (1, 9.5)")
    conn.commit()
    conn.close()
    before = foreign.read_bytes()
    argv = ["taxonomy", "add", "Sanctions hurt Europe", "--db", str(foreign)]
    assert main([*argv, "--examples", str(examples)]) == 2
    err = capsys.readouterr().err
    assert "is not a narrascope corpus database" in err and "invoices" in err
    assert foreign.read_bytes() == before
    assert main(argv) == 2  # a refit asks the same database
    assert foreign.read_bytes() == before


def test_a_file_that_is_no_database_is_refused_before_the_encoder(
    tmp_path: Path, examples: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    notes = tmp_path / "corpus.db"
    notes.write_text("these are my notes, not a database\n" * 20, encoding="utf-8")
    argv = ["taxonomy", "add", "Sanctions", "--db", str(notes), "--examples", str(examples)]
    assert main(argv) == 2
    assert f"cannot open {notes} as a corpus database" in capsys.readouterr().err
    assert notes.read_text(encoding="utf-8").startswith("these are my notes")


def test_a_new_database_is_not_created_before_the_examples_are_checked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    few = tmp_path / "few.txt"
    few.write_text("One example only.", encoding="utf-8")
    db = tmp_path / "new.db"
    assert main(["taxonomy", "add", "X", "--db", str(db), "--examples", str(few)]) == 2
    assert "needs at least 10" in capsys.readouterr().err
    assert not db.exists()
