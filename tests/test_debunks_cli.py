"""`analyze` matched against known debunks (issue 25): a debunk database filled by
`narrascope debunks add`, the same database given as the corpus (--db), and a JSONL file
of fact-checks read for one run. Fact-checks and texts are our own."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from narrascope.cli import main

FACT_CHECKS = [
    {
        "id": "fc-shelling",
        "claim": "The Ukrainian army shelled its own city of Donetsk to blame Russia",
        "url": "https://example.org/fc-shelling",
        "verdict": "false",
    },
    {
        "id": "fc-chips",
        "claim": "Vaccines contain microchips for tracking people",
        "url": "https://example.org/fc-chips",
        "verdict": "false",
    },
]
# a Russian restatement of the English debunk, and a text that restates nothing
RESTATES = "Украинская армия сама обстреляла Донецк, чтобы обвинить Россию.\n"
UNRELATED = "The city council approved the new budget for schools and roads on Monday.\n"


def _records(path: Path) -> dict[str, dict]:
    return {r["id"]: r for r in map(json.loads, path.read_text().splitlines())}


def test_analyze_matches_the_debunks_of_a_database_or_a_file(tmp_path: Path, capsys) -> None:
    checks = tmp_path / "checks.jsonl"
    checks.write_text("".join(json.dumps(f) + "\n" for f in FACT_CHECKS))
    texts = tmp_path / "texts"
    texts.mkdir()
    (texts / "restates.txt").write_text(RESTATES)
    (texts / "unrelated.txt").write_text(UNRELATED)

    # 1. a corpus database that holds debunks matches every analysed document
    db = tmp_path / "corpus.db"
    assert main(["debunks", "add", str(checks), "--db", str(db), "--quiet"]) == 0
    out = tmp_path / "a.jsonl"
    args = ["analyze", str(texts), "--db", str(db), "--out", str(out), "--no-progress"]
    assert main(args) == 0
    got = _records(out)
    match = got["restates.txt"]["debunks"][0]
    assert match["id"] == "fc-shelling" and match["verdict"] == "false"
    assert match["url"] == "https://example.org/fc-shelling"
    assert match["claim_span"]["text"] == RESTATES.strip()
    assert [m["id"] for m in got["unrelated.txt"]["debunks"]] == []

    # 2. the same fact-checks read from the file for one run give the same match
    out2 = tmp_path / "b.jsonl"
    args = ["analyze", str(texts), "--debunks", str(checks), "--out", str(out2), "--no-progress"]
    assert main(args) == 0
    assert _records(out2)["restates.txt"]["debunks"][0]["id"] == "fc-shelling"

    # 3. a corpus database without debunks: nothing matched, and no debunk table made
    plain = tmp_path / "plain.db"
    args = ["analyze", str(texts), "--db", str(plain), "--out", str(tmp_path / "c.jsonl")]
    assert main([*args, "--no-progress"]) == 0
    assert all(not r["debunks"] for r in _records(tmp_path / "c.jsonl").values())
    tables = {r[0] for r in sqlite3.connect(plain).execute("SELECT name FROM sqlite_master")}
    assert "debunks" not in tables  # the debunk store's own table (store.debunks)

    # a missing --debunks file is a usage error, reported before any model loads
    assert main(["analyze", str(texts), "--debunks", str(tmp_path / "nope.jsonl")]) == 2
    assert "nope.jsonl" in capsys.readouterr().err


def test_debunks_add_e5_reads_every_debunk_now(tmp_path: Path, capsys) -> None:
    """With --e5 every debunk gets its e5 vector at import, so a document in another
    language never waits for it; a second run has nothing left to read."""
    from narrascope.doc import Document
    from narrascope.models.debunk_match import DebunkMatcher
    from narrascope.store.debunks import DebunkStore

    checks = tmp_path / "checks.jsonl"
    checks.write_text("".join(json.dumps(f) + "\n" for f in FACT_CHECKS))
    db = tmp_path / "corpus.db"
    assert main(["debunks", "add", str(checks), "--db", str(db), "--quiet"]) == 0
    from narrascope.models.hate import e5_sentences_version

    version = e5_sentences_version()
    with DebunkStore(db) as store:  # read lazily without --e5
        assert len(store.without_e5(version=version)) == store.e5_missing(version=version) == 2
    assert main(["debunks", "add", str(checks), "--db", str(db), "--quiet", "--e5"]) == 0
    capsys.readouterr()
    with DebunkStore(db) as store:
        assert store.without_e5(version=version) == []
        assert store.e5_missing(version=version) == 0 and store.e5_version() == version
        keys = [k for (k,) in store._conn.execute("SELECT key FROM debunks")]
        kept = store.e5_vectors(keys, version=version)
        assert len(kept) == 2 and all(abs(float(v @ v) - 1.0) < 1e-2 for v in kept.values())
        matcher = DebunkMatcher(store)
        (found,) = matcher.match(Document(text=RESTATES, id="ru", language="ru"))
        assert found.id == "fc-shelling"
        generation = store.generation()
    assert main(["debunks", "add", str(checks), "--db", str(db), "--quiet", "--e5"]) == 0
    with DebunkStore(db) as store:
        assert store.generation() == generation  # nothing changed, nothing re-read


def test_analyze_db_as_a_sqlite_url_matches_its_debunks(tmp_path: Path) -> None:
    """`--db sqlite:///corpus.db` is `--db corpus.db`: its debunks are matched too."""
    checks = tmp_path / "checks.jsonl"
    checks.write_text("".join(json.dumps(f) + "\n" for f in FACT_CHECKS))
    text = tmp_path / "restates.txt"
    text.write_text(RESTATES)
    db = tmp_path / "corpus.db"
    assert main(["debunks", "add", str(checks), "--db", str(db), "--quiet", "--no-vectors"]) == 0
    english = tmp_path / "en.txt"
    english.write_text(FACT_CHECKS[1]["claim"] + ", a blogger wrote.\n")
    out = tmp_path / "u.jsonl"
    url = f"sqlite:///{db}"
    args = ["analyze", str(english), "--db", url, "--out", str(out), "--no-progress"]
    assert main(args) == 0
    assert [m["id"] for m in _records(out)["en.txt"]["debunks"]] == ["fc-chips"]


def test_analyze_debunks_that_give_none_are_a_usage_error(tmp_path: Path, capsys) -> None:
    """An explicitly given debunk source that provides no debunks stops the run (exit 2,
    before the models load) with why, instead of a clean-looking run that matched nothing."""
    text = tmp_path / "t.txt"
    text.write_text(UNRELATED)
    out = ["--out", str(tmp_path / "o.jsonl"), "--no-progress"]

    def refused(given: str) -> str:
        assert main(["analyze", str(text), "--debunks", given, *out]) == 2
        return capsys.readouterr().err

    # a SQLite file without debunks, whatever its name: not read as a fact-check file
    from narrascope.store.debunks import DebunkStore

    DebunkStore(tmp_path / "empty.sqlite3").close()
    err = refused(str(tmp_path / "empty.sqlite3"))
    assert "holds no debunks" in err and "debunks add" in err and "unknown file type" not in err
    corpus = tmp_path / "corpus.db"
    sqlite3.connect(corpus).execute("CREATE TABLE documents (id TEXT)").connection.close()
    assert "holds no debunks" in refused(str(corpus))
    # a URL to a missing database: not found, and no database made
    missing = tmp_path / "nothere.db"
    assert "no such file" in refused(f"sqlite:///{missing}")
    assert not missing.exists()
    # a CSV whose claim column is named otherwise: import it with `debunks add`
    desk = tmp_path / "desk.csv"
    desk.write_text("Statement,Rating\nMade-up statement,false\n")
    err = refused(str(desk))
    assert "no 'claim' column" in err and "debunks add" in err
    assert "name it with --claim-field" not in err  # analyze has no such option


def test_analyze_says_which_fact_check_values_it_left_out(tmp_path: Path, capsys) -> None:
    checks = tmp_path / "checks.jsonl"
    doubtful = {**FACT_CHECKS[0], "url": "not a url", "date": "yesterday"}
    checks.write_text(json.dumps(doubtful) + "\n")
    text = tmp_path / "restates.txt"
    text.write_text(RESTATES)
    out = tmp_path / "a.jsonl"
    args = ["analyze", str(text), "--debunks", str(checks), "--out", str(out), "--no-progress"]
    assert main(args) == 0
    err = capsys.readouterr().err
    assert "checks.jsonl:1: url 'not a url'" in err and "date 'yesterday'" in err
    match = _records(out)["restates.txt"]["debunks"][0]
    assert match["id"] == "fc-shelling" and match["url"] is None
