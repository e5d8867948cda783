"""`narrascope stats` with the store's filters: a score threshold, language, source and
dates, as the web dashboard counts with them; and one count per run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from narrascope.cli import main
from narrascope.doc import Annotation, Document
from narrascope.store import open_store

PUPPET = "URW: Discrediting Ukraine"
BLAME = "URW: Blaming the war on others rather than the invader"


def _doc(doc_id: str, text: str, language: str, source: str, date: str, blame: float) -> Document:
    """A document as the pipeline leaves it: one sure narrative, one weak (``blame``)."""
    doc = Document(text=text, id=doc_id, language=language, meta={"source": source, "date": date})
    doc.sentences = [doc.span(0, len(text))]
    doc.groups["narratives"] = [
        Annotation(PUPPET, 0.9, [doc.sentences[0]], [0.8]),
        Annotation(BLAME, blame, [doc.sentences[0]], [0.3]),
    ]
    return doc


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    db = tmp_path / "corpus.db"
    with open_store(db) as store:
        store.save(
            [
                _doc("a", "Kyiv is a puppet of the West.", "en", "blog", "2024-03-02", 0.17),
                _doc("b", "NATO provoked this war, Kyiv obeys.", "en", "tg", "2024-04-10", 0.6),
                _doc("c", "Киев лишь марионетка Запада.", "ru", "tg", "2024-04-20", 0.3),
            ]
        )
    return db


def _counts(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[tuple[str, str], int]:
    assert main(["stats", *argv, "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    return {(r["month"], r["narrative"]): r["documents"] for r in rows}


def test_stats_filters_map_onto_the_store(corpus: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = ["--db", str(corpus)]
    # no threshold by default: the weak 0.17 and 0.3 labels count
    assert _counts(capsys, *db) == {
        ("2024-03", PUPPET): 1,
        ("2024-03", BLAME): 1,
        ("2024-04", PUPPET): 2,
        ("2024-04", BLAME): 2,
    }
    # the dashboard's threshold: only labels scored 0.5 or more
    assert _counts(capsys, *db, "--min-score", "0.5") == {
        ("2024-03", PUPPET): 1,
        ("2024-04", PUPPET): 2,
        ("2024-04", BLAME): 1,
    }
    assert _counts(capsys, *db, "--language", "ru") == {
        ("2024-04", PUPPET): 1,
        ("2024-04", BLAME): 1,
    }
    assert _counts(capsys, *db, "--source", "tg", "--min-score", "0.5") == {
        ("2024-04", PUPPET): 2,
        ("2024-04", BLAME): 1,
    }
    assert _counts(capsys, *db, "--from", "2024-04-01", "--to", "2024-04-15") == {
        ("2024-04", PUPPET): 1,
        ("2024-04", BLAME): 1,
    }
    # the hate and debunk tables take the same filters (documents selected as in search)
    assert main(["stats", *db, "--debunks", "--language", "ru", "--json"]) == 0
    assert [r["documents"] for r in json.loads(capsys.readouterr().out)] == [1]
    assert main(["stats", *db, "--hate", "--source", "tg", "--by", "source", "--json"]) == 0
    assert [(r["source"], r["documents"]) for r in json.loads(capsys.readouterr().out)] == [
        ("tg", 2)
    ]
    # a selection without a document says so, not "no narratives stored yet"
    assert main(["stats", *db, "--language", "hi"]) == 0
    assert "no stored document matches these filters" in capsys.readouterr().out


def test_stats_help_names_the_default_threshold(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["stats", "--help"])
    shown = " ".join(capsys.readouterr().out.split())
    assert "--min-score X" in shown and "no threshold" in shown and "from 0.5" in shown


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--hate", "--debunks"], "argument --debunks: not allowed with argument --hate"),
        (["--min-score", "1.5"], "a score is a number from 0 to 1"),
        (["--from", "2024-13-01"], "not a date (YYYY-MM-DD)"),
    ],
)
def test_stats_usage_errors(
    corpus: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["stats", "--db", str(corpus), *argv])
    assert exit_.value.code == 2
    assert message in capsys.readouterr().err


def test_stats_parquet_takes_no_filter(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(["stats", "--parquet", str(tmp_path), "--language", "en", "--to", "2024-01-01"]) == 2
    )
    err = capsys.readouterr().err
    assert "with --parquet, stats takes no filter (--language, --to)" in err


def test_a_padded_source_is_stored_stripped_and_a_blank_one_as_none(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """CSV exports pad cells: "spaced source " was a bucket of its own that looked like
    "spaced source", and the name ``campaigns`` reports found nothing (review D6)."""
    db = tmp_path / "corpus.db"
    with open_store(db) as store:
        store.save(
            [
                _doc(
                    "a", "Kyiv is a puppet of the West.", "en", "spaced source ", "2024-03-02", 0.6
                ),
                _doc("b", "NATO provoked this war.", "en", "spaced source", "2024-03-03", 0.6),
                _doc("c", "Киев лишь марионетка Запада.", "ru", "   ", "2024-03-04", 0.6),
            ]
        )
    argv = ["--db", str(db), "--json"]
    assert main(["stats", *argv, "--source", "spaced source"]) == 0
    assert [r["documents"] for r in json.loads(capsys.readouterr().out)] == [2, 2]
    assert main(["stats", *argv, "--by", "source"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {(r["source"], r["documents"]) for r in rows} == {("spaced source", 2), (None, 1)}
