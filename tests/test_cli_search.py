"""``narrascope search``: the table, JSON lines, every filter, usage errors, on both backends."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from narrascope.cli import main
from narrascope.doc import Annotation, Document
from narrascope.store import open_store
from pgtest import postgres_schema_url
from test_store import (  # the storage suite's documents and PostgreSQL fixtures
    BLAME,
    EN,
    HI,
    PUPPET,
    RU,
    UK,
    analysed,
)

SNEAKY = "evil\x1b[2J\x07id"


@pytest.fixture(params=["sqlite", "postgres"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A small multilingual corpus in a fresh database; its path or URL."""
    if request.param == "sqlite":
        target = str(tmp_path / "corpus.db")
        urls: Iterator[str] = iter([target])
    else:
        urls = postgres_schema_url(request.getfixturevalue("postgres_admin"))
        target = next(urls)
    plain = Document(text="The council approved the library budget.", id="en2", language="en")
    plain.meta = {"source": "paper", "date": "2024-03-20"}
    plain.groups["narratives"] = [Annotation("Other", 0.95)]
    with open_store(target) as store:
        store.save(
            [
                analysed(EN, "en1", "en", source="blog", date="2024-03-02"),
                analysed(RU, "ru1", "ru", source="канал", date="2024-04-10T08:30:00"),
                analysed(UK, "uk1", "uk", source="канал", date="2023-01-01"),
                analysed(HI, SNEAKY, "hi", source="blog\x1b[31m"),
                plain,
            ]
        )
    yield target
    for _ in urls:  # drops the PostgreSQL schema
        pass


def search(capsys: pytest.CaptureFixture[str], db: str, *args: str) -> list[str]:
    assert main(["search", "--db", db, *args]) == 0
    return capsys.readouterr().out.splitlines()


def ids(lines: list[str]) -> list[str]:
    return [line.split()[0] for line in lines[1:-1]]


def test_the_table_lists_newest_first_with_top_narratives(db: str, capsys) -> None:
    lines = search(capsys, db)
    assert lines[0].split() == ["id", "date", "source", "lang", "narratives"]
    assert ids(lines) == ["ru1", "en2", "en1", "uk1", "evil\ufffd[2J\ufffdid"]
    ru = lines[1]
    assert ru.split()[:4] == ["ru1", "2024-04-10T08:30:00", "канал", "ru"]
    assert ru.endswith(f"0.90 {PUPPET}; 0.40 {BLAME}")
    assert "0.95 Other" in lines[2]
    assert "\x1b" not in "\n".join(lines) and "\x07" not in "\n".join(lines)
    assert lines[-1] == "1-5 of 5 documents"
    column = lines[0].index("narratives")
    assert all(line[column - 2 : column] == "  " for line in lines[1:-1])  # aligned


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["марионетка"], ["ru1"]),
        (["нато"], ["ru1", "uk1"]),
        (["कठपुतली"], ["evil\ufffd[2J\ufffdid"]),
        (["library budget"], ["en2"]),
        (["--narrative", PUPPET, "--language", "uk"], ["uk1"]),
        (["--source", "канал"], ["ru1", "uk1"]),
        (["--from", "2024-03-02", "--to", "2024-03-31"], ["en2", "en1"]),
        (["--to", "2023-12-31"], ["uk1"]),
        (["--min-score", "0.92"], ["en2"]),
        (["--narrative", BLAME, "--min-score", "0.5"], []),
        # the query language (issue 23): word forms, prefix, OR, phrase, exclusion
        (["марионетки"], ["ru1"]),
        (["маріонетка"], ["uk1"]),
        (["puppets"], ["en1"]),
        (["provok*"], ["en1"]),
        (["puppet OR library"], ["en2", "en1"]),
        (['"puppets of the West"'], ["en1"]),
        (['"the West puppet"'], []),
        (["нато -Київ"], ["ru1"]),
        (["--", "-нато"], ["en2", "en1", "evil\ufffd[2J\ufffdid"]),
        (['"West'], ["en1"]),  # a quote without its pair is ignored
        (["НАТО", "--language", "uk"], ["uk1"]),
    ],
)
def test_filters(db: str, capsys, args: list[str], expected: list[str]) -> None:
    lines = search(capsys, db, *args)
    if expected:
        assert ids(lines) == expected
        assert lines[-1] == f"1-{len(expected)} of {len(expected)} documents"
    else:
        assert lines == ["no documents match"]


def test_limit_offset_and_json_lines(db: str, capsys) -> None:
    lines = search(capsys, db, "--limit", "2", "--offset", "1")
    assert ids(lines) == ["en2", "en1"] and lines[-1] == "2-3 of 5 documents"
    assert search(capsys, db, "--offset", "9") == ["no documents match (5 in all)"]
    lines = search(capsys, db, "--json", "--narrative", PUPPET)
    assert "\x1b" not in "".join(lines)  # JSON escapes control characters: exact and safe
    records = [json.loads(line) for line in lines]
    assert [r["id"] for r in records] == ["ru1", "en1", "uk1", SNEAKY]
    assert records[0] == {
        "id": "ru1",
        "date": "2024-04-10T08:30:00",
        "source": "канал",
        "language": "ru",
        "url": None,
        "narratives": [{"label": PUPPET, "score": 0.9}, {"label": BLAME, "score": 0.4}],
    }
    assert search(capsys, db, "--json", "no such words") == []


def test_analyze_into_the_database_never_prints_its_password(
    db: str, tmp_path: Path, capsys
) -> None:
    text = tmp_path / "en3.txt"
    text.write_text("NATO provoked this war. Kyiv is only a puppet of Washington.\n")
    assert main(["analyze", str(text), "--db", db, "--no-progress"]) == 0
    err = capsys.readouterr().err
    assert "1 analysed, 0 skipped" in err
    if "://" in db:  # postgresql://user:password@host/db
        password = db.split("://", 1)[1].split("@", 1)[0].partition(":")[2]
        assert password and password not in err and ":***@" in err
    else:
        assert db in err
    assert "en3.txt" in ids(search(capsys, db, "puppet"))


def test_help_documents_the_query_syntax(capsys) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["search", "--help"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    for example in ("'sanction*'", "'sanctions OR embargo'", "'\"new sanctions\"'", "-embargo"):
        assert example in out
    assert "Украины finds Украина" in out and "No query is an error" in out


def test_usage_errors(tmp_path: Path, capsys) -> None:
    assert main(["search", "--db", str(tmp_path / "none.db"), "x"]) == 2
    assert "no database at" in capsys.readouterr().err
    assert not (tmp_path / "none.db").exists()
    for bad in (["--from", "March"], ["--min-score", "2"], ["--limit", "0"]):
        with pytest.raises(SystemExit) as exited:
            main(["search", "--db", str(tmp_path / "none.db"), *bad])
        assert exited.value.code == 2
    err = capsys.readouterr().err
    assert "not a date" in err and "from 0 to 1" in err and "positive whole number" in err
    assert main(["search", "--db", "postgresql://u:pw@127.0.0.1:1/x"]) == 2
    assert "[E303] cannot connect to PostgreSQL" in capsys.readouterr().err


def test_an_offset_past_64_bits_is_an_empty_page_not_a_traceback(db: str, capsys) -> None:
    assert search(capsys, db, "--offset", "99999999999999999999") == [
        "no documents match (5 in all)"
    ]


def test_a_sqlite_file_of_another_program_is_refused_untouched(tmp_path: Path, capsys) -> None:
    import sqlite3

    foreign = tmp_path / "notes.db"
    with sqlite3.connect(foreign) as conn:
        conn.execute("CREATE TABLE notes (x TEXT)")
    assert main(["search", "--db", str(foreign)]) == 2
    err = capsys.readouterr().err
    assert "not a narrascope corpus database" in err and "--resume" not in err
    with sqlite3.connect(foreign) as conn:
        assert [n for (n,) in conn.execute("SELECT name FROM sqlite_master")] == ["notes"]
