"""`narrascope debunks add | remove`: what a fact-checking desk's own files turn into.

A desk's CSV is read as it wrote it (never as a dump that shares column names with it),
whatever the case of its header; a row without an id is keyed by its URL, so an edited file
updates instead of duplicating; values that cannot be right are warned about, never stored
as Python's repr. Every fact-check here is made up for these tests.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from narrascope.cli import main
from narrascope.ingest.debunks import MAX_CLAIM_CHARS, BadRow, Note, read_debunks
from narrascope.store.debunks import Debunk, DebunkStore, claim_id

RU_CLAIM = "Гуманитарные конвои в Пеллмур перевозили оружие, спрятанное в мешках с мукой."


def _add(tmp_path: Path, name: str, text: str, db: str = "c.db", *options: str) -> Path:
    src = tmp_path / name
    src.write_text(text, encoding="utf-8")
    path = tmp_path / db
    main(["debunks", "add", str(src), "--db", str(path), "--no-vectors", "--quiet", *options])
    return path


def _listed(db: Path) -> list[dict]:
    with DebunkStore(db) as store:
        return [d.to_dict() for d in store.iter_debunks()]


def _read(src: Path, **kwargs) -> tuple[list[Debunk], list[BadRow], list[Note]]:
    notes: list[Note] = []
    items = list(read_debunks(src, notes=notes.append, **kwargs))
    good = [i for i in items if isinstance(i, Debunk)]
    return good, [i for i in items if isinstance(i, BadRow)], notes


# ----------------------------------------------------------------- layouts (#1)
@pytest.mark.parametrize(
    "text",
    [
        "id,claim,title,summary,disproof,url,verdict,date,language\n"
        "DESK-1,Vaccines in Eastvale carry tracking chips.,Chip rumour,A post says so.,"
        "No chips.,https://desk.example/1,false,2021-05-02,en\n",
        "id,claim,title,url,verdict,date,languages,outlets\n"
        "DESK-1,Vaccines in Eastvale carry tracking chips.,Chip rumour,"
        'https://desk.example/1,false,2021-05-02,"English, German",outlet.example\n',
    ],
)
def test_a_desk_csv_with_a_claim_column_is_read_as_fact_checks_not_a_dump(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str
) -> None:
    db = _add(tmp_path, "desk.csv", text)
    err = capsys.readouterr().err
    (row,) = _listed(db)
    assert row["id"] == "DESK-1" and row["claim"] == "Vaccines in Eastvale carry tracking chips."
    assert (row["verdict"], row["url"], row["title"]) == (
        "false",
        "https://desk.example/1",
        "Chip rumour",
    )
    assert "read as a table of fact-checks (the claim in column 'claim')" in err
    assert "EUvsDisinfo" not in err


def test_a_dump_is_still_recognised_and_says_so(tmp_path: Path) -> None:
    src = tmp_path / "posts.csv"
    src.write_text(
        "date,id,title,countries,keywords,languages,outlets\n"
        "2021-02-18,https://euvsdisinfo.eu/report/made-up/,A made-up case,X,Y,Russian,Z\n"
    )
    (case,), bad, notes = _read(src)
    assert not bad and case.claim == "A made-up case" and case.verdict == "disinformation"
    assert any("EUvsDisinfo case dump (posts.csv)" in n.message and not n.warning for n in notes)


# ----------------------------------------------------------------- field names (#5)
@pytest.mark.parametrize(
    ("name", "text"),
    [
        (
            "upper.csv",
            "Claim,URL,Verdict,Date,ID\n"
            '"Bridges in Oakford were blown up by the guard.",https://fc.example/oak,false,'
            "2022-04-04,up-1\n",
        ),
        (
            "spaced.csv",
            " claim , url ,verdict ,date, id\n"
            "Bridges in Oakford were blown up by the guard.,https://fc.example/oak,false,"
            "2022-04-04,up-1\n",
        ),
        (
            "upper.jsonl",
            json.dumps(
                {
                    "CLAIM": "Bridges in Oakford were blown up by the guard.",
                    "Url": "https://fc.example/oak",
                    "Verdict": "false",
                    "Date": "2022-04-04",
                    "Id": "up-1",
                }
            )
            + "\n",
        ),
    ],
)
def test_field_names_match_whatever_their_case_and_blanks(
    tmp_path: Path, name: str, text: str
) -> None:
    (row,) = _listed(_add(tmp_path, name, text))
    assert (row["id"], row["url"], row["verdict"], row["date"]) == (
        "up-1",
        "https://fc.example/oak",
        "false",
        "2022-04-04",
    )


def test_a_renamed_claim_field_matches_in_another_case(tmp_path: Path) -> None:
    text = "Statement,Link\nKyiv is run by made-up rulers.,https://fc.example/k\n"
    db = _add(
        tmp_path, "desk.csv", text, "c.db", "--claim-field", "statement", "--url-field", "LINK"
    )
    (row,) = _listed(db)
    assert row["claim"] == "Kyiv is run by made-up rulers." and row["url"] == "https://fc.example/k"


# ----------------------------------------------------------------- keys and remove (#6)
V1 = (
    "claim,url,verdict\n"
    "Hospitals in Redmarsh are used as miltary depots.,https://fc.example.net/redmarsh,false\n"
    "The Oakford bridge was blown up by the guard.,https://fc.example.net/oakford,false\n"
)
V2 = V1.replace("miltary", "military").replace(
    "guard.,https://fc.example.net/oakford,false",
    ("guard.,https://fc.example.net/oakford,mostly false"),
)
V3 = "id," + V2.replace("\nHospitals", "\nRM-1,Hospitals").replace("\nThe Oakford", "\nOF-2,The")


def test_an_edited_file_without_ids_updates_the_rows_its_urls_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = _add(tmp_path, "v1.csv", V1)
    db = _add(tmp_path, "v2.csv", V2)
    assert "0 added, 2 updated, 0 unchanged, 0 bad rows; 2 debunks" in capsys.readouterr().out
    rows = {r["id"]: r for r in _listed(db)}
    assert set(rows) == {"https://fc.example.net/redmarsh", "https://fc.example.net/oakford"}
    assert "military" in rows["https://fc.example.net/redmarsh"]["claim"]
    assert rows["https://fc.example.net/oakford"]["verdict"] == "mostly false"
    # the same file with an id column added: the rows take the ids, none is added
    _add(tmp_path, "v3.csv", V3.replace("The Oakford", "The Oakford"))
    assert "0 added, 2 updated" in capsys.readouterr().out
    assert sorted(r["id"] for r in _listed(db)) == ["OF-2", "RM-1"]
    assert main(["debunks", "list", "--db", str(db)]) == 0
    assert "1-2 of 2 debunks" in capsys.readouterr().out


def test_a_row_keyed_by_its_claim_text_is_taken_over_by_its_url(tmp_path: Path) -> None:
    """A database filled before URLs keyed rows: re-importing its file updates it."""
    claim = "The Oakford bridge was blown up by the guard."
    db = tmp_path / "c.db"
    with DebunkStore(db) as store:
        store.add([Debunk(id=claim_id(claim), claim=claim, url="https://fc.example.net/oakford")])
    _add(tmp_path, "v.csv", f"claim,url,verdict\n{claim},https://fc.example.net/oakford/,false\n")
    (row,) = _listed(db)
    assert row["id"] == "https://fc.example.net/oakford" and row["verdict"] == "false"


def test_a_row_that_gains_an_id_takes_over_the_row_its_claim_keyed(tmp_path: Path) -> None:
    claim = "The Oakford bridge was blown up by the guard."
    db = _add(tmp_path, "a.csv", f"claim,verdict\n{claim},false\n")
    _add(tmp_path, "b.csv", f"id,claim,verdict\nOF-2,{claim},mostly false\n")
    (row,) = _listed(db)
    assert (row["id"], row["verdict"]) == ("OF-2", "mostly false")


def test_the_same_claim_checked_on_another_page_is_another_fact_check(tmp_path: Path) -> None:
    claim = "The Oakford bridge was blown up by the guard."
    db = _add(tmp_path, "a.csv", f"claim,url\n{claim},https://one.example/1\n")
    _add(tmp_path, "b.csv", f"id,claim,url\nX-1,{claim},https://other.example/1\n")
    assert sorted(r["id"] for r in _listed(db)) == ["X-1", "https://one.example/1"]


def test_claims_sharing_a_url_without_ids_are_all_kept(tmp_path: Path) -> None:
    src = tmp_path / "page.csv"
    src.write_text(
        "claim,url\n"
        "Ashford's dam was opened on purpose.,https://fc.example/ashford\n"
        "Ashford's mayor fled the floods.,https://fc.example/ashford\n"
    )
    good, _, notes = _read(src)
    assert len({g.id for g in good}) == 2
    assert all(g.id.startswith("https://fc.example/ashford#claim-") for g in good)
    assert any("2 claims without an id share the url" in n.message for n in notes)


def test_remove_deletes_by_id_and_names_the_unknown(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = _add(tmp_path, "v1.csv", V1)
    capsys.readouterr()
    gone = ["debunks", "remove", "https://www.fc.example.net/redmarsh/", "nope", "--db", str(db)]
    assert main(gone) == 1  # an unknown id: the known one is still removed
    out = capsys.readouterr()
    assert "1 removed; 1 debunks in" in out.out
    assert "no debunk with id 'nope'" in out.err and "debunks list" in out.err
    assert [r["id"] for r in _listed(db)] == ["https://fc.example.net/oakford"]
    assert main(["debunks", "remove", "https://fc.example.net/oakford", "--db", str(db)]) == 0
    assert _listed(db) == []


# ----------------------------------------------------------------- claim length (#9)
def test_a_claim_longer_than_the_limit_is_a_bad_row_with_a_hint(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    article = "The made-up article goes on. " * (MAX_CLAIM_CHARS // 20)
    rows = [{"id": "long", "claim": article}, {"id": "ok", "claim": "A short made-up claim."}]
    text = "".join(json.dumps(r) + "\n" for r in rows)
    db = _add(tmp_path, "c.jsonl", text)
    err = capsys.readouterr().err
    assert [r["id"] for r in _listed(db)] == ["ok"]
    assert f"c.jsonl:1: the claim is {len(article.strip()):,} characters" in err
    assert "is --claim-field the right column?" in err
    with pytest.raises(SystemExit):
        main(["debunks", "add", "--help"])
    assert f"{MAX_CLAIM_CHARS:,} characters is a bad row" in " ".join(
        capsys.readouterr().out.split()
    )


# ----------------------------------------------------------------- language (#10)
@pytest.mark.parametrize("given", [None, "ru", "RU", "Russian", "русский", "rus"])
def test_a_missing_or_spelled_out_language_becomes_a_code(tmp_path: Path, given) -> None:
    row = {"id": "ru-4", "claim": RU_CLAIM} | ({"language": given} if given else {})
    db = _add(tmp_path, "ru.jsonl", json.dumps(row, ensure_ascii=False) + "\n")
    (stored,) = _listed(db)
    assert stored["language"] == "ru"
    with DebunkStore(db) as store:  # stemmed as Russian: another case of the words finds it
        assert [d.id for d, _ in store.search("конвоях оружия")] == ["ru-4"]


def test_a_language_that_names_none_is_detected_and_warned(tmp_path: Path) -> None:
    src = tmp_path / "c.jsonl"
    src.write_text(json.dumps({"claim": RU_CLAIM, "language": "Klingon"}) + "\n")
    (got,), _, notes = _read(src)
    assert got.language == "ru"
    assert any("'Klingon' not understood; detected as 'ru'" in n.message for n in notes)


# ----------------------------------------------------------------- values (#11)
def test_bad_values_are_warned_about_and_never_stored_as_python(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rating = {"@type": "Rating", "ratingValue": 1, "bestRating": 5, "alternateName": "False"}
    rows = [
        {"id": "a", "claim": "Tanks crossed the made-up river.", "url": "not a url"},
        {"id": "b", "claim": "A made-up plant was shelled.", "url": "javascript:alert(1)"},
        {"id": "c", "claim": "A made-up convoy carried arms.", "date": "yesterday"},
        {"id": "d", "claim": "A made-up mayor resigned.", "date": "2023-02-30"},
        {"id": "e", "claim": "A made-up statue was toppled.", "verdict": rating},
        {
            "id": "f",
            "claim": "A made-up bridge fell.",
            "verdict": {"ratingValue": 2, "bestRating": 5},
        },
        {"id": "g", "claim": "A made-up port closed.", "url": {"a": 1}},
        {"id": "h", "claim": ["a", "list"]},
        {
            "id": "i",
            "claim": "A made-up dam broke.",
            "url": "www.fc.example/dam",
            "date": "05/11/2022",
        },
    ]
    db = _add(tmp_path, "m.jsonl", "".join(json.dumps(r) + "\n" for r in rows))
    out = capsys.readouterr()
    stored = {r["id"]: r for r in _listed(db)}
    assert set(stored) == set("abcdefi")
    assert stored["a"]["url"] is stored["b"]["url"] is None
    assert stored["c"]["date"] is stored["d"]["date"] is None
    assert (stored["e"]["verdict"], stored["f"]["verdict"]) == ("False", "2/5")
    assert (
        stored["i"]["url"] == "https://www.fc.example/dam" and stored["i"]["date"] == "05/11/2022"
    )
    assert not any("{" in str(v) or "[" in str(v) for r in stored.values() for v in r.values())
    err = out.err
    assert "warning: " in err and "m.jsonl:1: url 'not a url' is not an http(s) link" in err
    assert "m.jsonl:2: url 'javascript:alert(1)'" in err
    assert "m.jsonl:3: date 'yesterday' not understood" in err
    assert "m.jsonl:4: date '2023-02-30' not understood" in err
    assert "m.jsonl:9: date '05/11/2022' reads as day-month or month-day" in err
    assert "m.jsonl:7: the url field is an object, not text" in err
    assert "m.jsonl:8: the claim field is a list of 2 values" in err
    assert "7 added" in out.out and "2 bad rows, 5 warnings" in out.out
    assert "7 debunks in" in out.out
