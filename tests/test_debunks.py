"""The debunk database (import, re-import, list, search) and matching documents to it.

Every text here was written for these tests (no dataset text); the CheckThat! check reads
../shared and skips when it is absent.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

from narrascope.doc import Claim, Document, Span
from narrascope.errors import StoreError
from narrascope.ingest.debunks import BadRow, FieldNames, read_debunks
from narrascope.models.artefact import bundled_path
from narrascope.models.debunk_match import SMALL_DATABASE
from narrascope.store.debunks import SCHEMA_VERSION, Debunk, DebunkStore, claim_id

SHARED_2A = (
    Path(__file__).resolve().parents[2] / "shared" / "datasets" / ("checkthat2022-task2a-en")
)
SHIPPED = bundled_path("debunks")
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from bench_debunks import make_claim  # noqa: E402  (made-up claims, no dataset text)

needs_artefact = pytest.mark.skipif(
    not (SHIPPED / "config.json").is_file(), reason="no shipped debunk matcher"
)

# our own English "debunks" (claims a fact-checker might have debunked)
DEBUNKS = [
    ("d-shelling", "Ukraine's army shelled its own city of Donetsk to blame Russia."),
    ("d-nato", "NATO promised in 1990 never to expand one inch to the east."),
    ("d-vaccine", "COVID-19 vaccines contain microchips to track people."),
    ("d-biolabs", "The Pentagon runs secret biolabs in Ukraine that make bioweapons."),
    ("d-crocus", "The attack on Crocus City Hall was a Western false flag operation."),
    ("d-grain", "Ukrainian grain exports go only to rich European countries, not to Africa."),
    ("d-nazis", "The government in Kyiv is controlled by neo-Nazis."),
    ("d-sanctions", "Western sanctions hurt Europe more than they hurt Russia."),
    ("d-fries", "A fast food chain sells any size of fries for one dollar this month."),
    ("d-moon", "The moon landing in 1969 was filmed in a studio."),
]

DATES = {"d-grain": "20 July 2023"}  # as fact-checks date themselves (CheckThat! vclaims)


class HashEncoder:
    """A stand-in for USE in store tests: a fixed vector per text, no model to load."""

    def encode(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), 512), np.float32)
        for i, t in enumerate(texts):
            out[i, hash(t) % 512] = 1.0
        return out

    __call__ = encode


# ----------------------------------------------------------------------------- store
def test_reimport_updates_and_never_duplicates(tmp_path: Path) -> None:
    db = tmp_path / "corpus.db"
    enc = HashEncoder()
    with DebunkStore(db) as store:
        first = store.add([Debunk(id=i, claim=c) for i, c in DEBUNKS], encode=enc)
        assert (first.added, first.updated, first.unchanged) == (len(DEBUNKS), 0, 0)
        again = store.add([Debunk(id=i, claim=c) for i, c in DEBUNKS], encode=enc)
        assert (again.added, again.updated, again.unchanged) == (0, 0, len(DEBUNKS))
        generation = store.generation()
        _, before = store.vectors()
        changed = store.add([Debunk(id="d-moon", claim=DEBUNKS[-1][1], verdict="false")])
        assert (changed.added, changed.updated) == (0, 1)
        assert store.generation() > generation
        assert store.count() == len(DEBUNKS)
        assert store.get("d-moon").verdict == "false"
        # the claim did not change: the vector is kept
        keys, after = store.vectors()
        assert len(keys) == len(DEBUNKS) and np.array_equal(before, after)
        # a new wording of a claim: the search index follows it
        store.add([Debunk(id="d-moon", claim="Astronauts never walked on the moon.")], encode=enc)
        assert store.search("astronaut walking")[0][0].id == "d-moon"
        assert not [d for d, _ in store.search("studio filmed") if d.id == "d-moon"]


def test_rows_without_id_get_a_stable_id_from_the_claim(tmp_path: Path) -> None:
    assert claim_id("NATO  promised ") == claim_id("nato promised")
    src = tmp_path / "checks.jsonl"
    src.write_text(json.dumps({"claim": "NATO promised not to expand."}) + "\n")
    for _ in range(2):
        with DebunkStore(tmp_path / "db.sqlite") as store:
            store.add(d for d in read_debunks(src) if isinstance(d, Debunk))
            assert store.count() == 1


def test_debunk_tables_live_beside_the_corpus(tmp_path: Path) -> None:
    from narrascope.store import open_store

    db = tmp_path / "corpus.db"
    with open_store(db) as corpus:
        corpus.save([Document(text="A text about sanctions.", id="doc-1", language="en")])
    with DebunkStore(db) as store:
        store.add([Debunk(id="x", claim="Sanctions hurt Europe more than Russia.")])
    with open_store(db) as corpus:  # the corpus store still opens and reads
        assert corpus.get_document("doc-1") is not None
    with DebunkStore(db) as store:
        assert store.count() == 1
        version = store._conn.execute("SELECT version FROM debunks_schema").fetchone()[0]
        assert version == SCHEMA_VERSION


def test_version_1_tables_gain_the_kept_index(tmp_path: Path) -> None:
    db = tmp_path / "old.db"
    with DebunkStore(db) as store:
        store.add([Debunk(id="x", claim="Sanctions hurt Europe more than Russia.")])
        store._conn.execute("DROP TABLE debunks_index")
        store._conn.execute("UPDATE debunks_schema SET version = 1")
    with DebunkStore(db) as store:  # migrated in place, the debunk kept
        assert store.count() == 1
        assert store.load_index(store.generation(), 1) is None
        store.save_index(store.generation(), 1, b"kept")
        assert store.load_index(store.generation(), 1) == b"kept"
        store.add([Debunk(id="y", claim="The moon landing was staged in a studio.")])
        assert store.load_index(store.generation(), 1) is None  # a new generation


def test_postgres_is_refused_clearly() -> None:
    with pytest.raises(StoreError, match="not supported yet"):
        DebunkStore("postgresql://user@localhost/db")


def test_an_id_repeated_in_one_import_is_one_debunk_the_last_kept(tmp_path: Path) -> None:
    """Wherever the repeats fall (one batch or the next), the last row wins and they count
    as duplicates, not as updates of a row the same import wrote; the counts add up."""
    rows = [
        Debunk(id="a", claim="Made-up claim A, first wording.", verdict="false"),
        Debunk(id="b", claim="Made-up claim B."),
        Debunk(id="a", claim="Made-up claim A, second wording."),
        Debunk(id="c", claim="Made-up claim C."),
        Debunk(id="a", claim="Made-up claim A, last wording."),
        Debunk(id="c", claim="Made-up claim C."),
    ]
    with DebunkStore(tmp_path / "db.sqlite") as store:
        report = store.add(rows, encode=HashEncoder(), batch_size=2)
        assert (report.added, report.updated, report.unchanged, report.duplicates) == (3, 0, 0, 3)
        assert store.count() == 3
        assert store.get("a").claim == "Made-up claim A, last wording."
        assert store.search("last wording")[0][0].id == "a"
        again = store.add(rows[:2], batch_size=2)  # another import: an update, no duplicate
        assert (again.added, again.updated, again.unchanged, again.duplicates) == (0, 1, 1, 0)


def test_search_finds_words_that_are_in_many_debunks(tmp_path: Path) -> None:
    """The matcher skips words in more than 5% of the debunks (its speed rule); the user's
    search must not: "Ukraine" is in most of a war desk's debunks, and is what they ask."""
    rows = [
        Debunk(id=f"c{n}", claim=f"Made-up claim {n} about Ukraine and topic{n}.")
        for n in range(80)
    ]
    rows.append(Debunk(id="other", claim="Made-up claim about the moon landing."))
    with DebunkStore(tmp_path / "db.sqlite") as store:
        store.add(rows)
        hits = store.search("Ukraine", limit=5)
        assert len(hits) == 5 and all(d.id.startswith("c") for d, _ in hits)
        assert store.search("topic7 Ukraine")[0][0].id == "c7"
        assert not store.bm25(["ukrain"])  # the matcher's shortlist still skips it


def test_search_finds_debunks_in_their_own_language(tmp_path: Path) -> None:
    """A Russian debunk is indexed with Russian stems: the query is stemmed in each
    language the table holds, so its words match in any form."""
    rows = [
        Debunk(id="r1", claim="Выдуманное заявление о биолабораториях в Киеве.", language="ru"),
        Debunk(id="r2", claim="Выдуманная история о постановке в Буче.", language="ru"),
        Debunk(id="e1", claim="A made-up claim about biolabs.", language="en"),
    ]
    with DebunkStore(tmp_path / "db.sqlite") as store:
        store.add(rows)
        assert store.search("Буче")[0][0].id == "r2"
        assert store.search("Киев")[0][0].id == "r1"
        assert store.search("биолаборатории")[0][0].id == "r1"
        assert store.search("biolabs")[0][0].id == "e1"


# ----------------------------------------------------------------------------- readers
def test_jsonl_bad_rows_are_reported_with_line_and_reason(tmp_path: Path) -> None:
    src = tmp_path / "checks.jsonl"
    src.write_text(
        json.dumps({"id": "a", "claim": "The moon landing was staged.", "verdict": "false"})
        + "\n{not json\n"
        + json.dumps({"id": "b", "title": "no claim here"})
        + "\n\n"
        + json.dumps({"id": "c", "claim": "Vaccines hold microchips.", "language": "en"})
        + "\n"
    )
    items = list(read_debunks(src))
    bad = [i for i in items if isinstance(i, BadRow)]
    good = [i for i in items if isinstance(i, Debunk)]
    assert [g.id for g in good] == ["a", "c"]
    assert good[0].verdict == "false"
    assert [(b.line, "JSON" in b.reason or "claim" in b.reason) for b in bad] == [
        (2, True),
        (3, True),
    ]
    assert str(bad[0]).startswith(f"{src}:2: ")


def test_csv_with_renamed_fields(tmp_path: Path) -> None:
    src = tmp_path / "desk.csv"
    src.write_text(
        "case,statement,link,rating\n"
        "17,Kyiv is run by neo-Nazis.,https://example.org/17,false\n"
        "18,,https://example.org/18,false\n"
        '19,"Grain goes only to Europe, not Africa.",https://example.org/19,misleading\n'
    )
    names = FieldNames(id="case", claim="statement", url="link", verdict="rating")
    items = list(read_debunks(src, names))
    good = [i for i in items if isinstance(i, Debunk)]
    assert [(g.id, g.url, g.verdict) for g in good] == [
        ("17", "https://example.org/17", "false"),
        ("19", "https://example.org/19", "misleading"),
    ]
    (bad,) = [i for i in items if isinstance(i, BadRow)]
    assert bad.line == 3 and "statement" in bad.reason
    # without the field names, the missing claim column is one clear error
    (only,) = list(read_debunks(src))
    assert isinstance(only, BadRow) and "--claim-field" in str(only)
    assert "--claim-field" not in only.reason  # the hint is `debunks add`'s (analyze has none)


def test_euvsdisinfo_layouts_are_told_apart_by_header(tmp_path: Path) -> None:
    kalkun = tmp_path / "full_dataset.csv"
    kalkun.write_text(
        '"issue";"date";"outlet";"language";"origin";"reported by";"keywords";"source";'
        '"title";"summary";"disproof"\n'
        '"1";"03.10.2017";"Outlet";"Russian";"X";"Y";"Z";"https://example.org/a";'
        '"Soldiers blew up their own depot";"A made-up summary.";"A made-up disproof."\n'
    )
    cknabs = tmp_path / "posts.csv"
    cknabs.write_text(
        "date,id,title,countries,keywords,languages,outlets\n"
        "2021-02-18,https://euvsdisinfo.eu/report/made-up-case/,A made-up case title,"
        "Russia,NATO,Russian,Some outlet\n"
    )
    (k,) = list(read_debunks(kalkun))
    assert k.claim == "Soldiers blew up their own depot" and k.date == "2017-10-03"
    assert k.verdict == "disinformation" and "made-up disproof" in (k.text or "")
    (c,) = list(read_debunks(cknabs))
    assert c.id == c.url == "https://euvsdisinfo.eu/report/made-up-case/"
    assert c.claim == "A made-up case title"


def test_vclaims_folder(tmp_path: Path) -> None:
    folder = tmp_path / "vclaims"
    folder.mkdir()
    (folder / "a.json").write_text(
        json.dumps({"vclaim_id": "vclaim-1", "vclaim": "Fries cost one dollar.", "title": "T"})
    )
    (folder / "b.json").write_text("{broken")
    items = list(read_debunks(tmp_path))  # the parent of vclaims/ works too
    good = [i for i in items if isinstance(i, Debunk)]
    assert [(g.id, g.title) for g in good] == [("vclaim-1", "T")]
    assert len([i for i in items if isinstance(i, BadRow)]) == 1


def test_training_builds_its_database_in_a_cache_folder_not_made_yet(tmp_path: Path) -> None:
    """`python -m narrascope.training.debunks` on a fresh machine: no cache folder yet."""
    from narrascope.training.debunks import CachedVectors, build_db

    (tmp_path / "data" / "vclaims").mkdir(parents=True)
    for n, claim in enumerate(["Fries cost one dollar.", "A made-up dam burst in Ashby."]):
        record = {"vclaim_id": f"vclaim-{n}", "vclaim": claim, "title": "T"}
        (tmp_path / "data" / "vclaims" / f"{n}.json").write_text(json.dumps(record))
    cache = tmp_path / "cache" / "debunks"
    use = CachedVectors("use", lambda texts: np.ones((len(texts), 4), np.float32), cache)
    store = build_db(tmp_path / "data", cache / "ct.db", use)
    assert [d.id for d, _ in store.search("dollar")] == ["vclaim-0"]
    store.close()


def test_training_remakes_e5_vectors_another_e5_kept(tmp_path: Path) -> None:
    """A stand-in's vectors kept in the training database (a research script once did
    this to 6,339 of the 14,231) made the cross head read nothing: they are remade."""
    from narrascope.training.debunks import refresh_stale_e5

    def e5(texts: list[str]) -> np.ndarray:  # one direction per text
        out = np.zeros((len(texts), 8), np.float32)
        for i, t in enumerate(texts):
            out[i, len(t) % 8] = 1.0
        return out

    store = DebunkStore(tmp_path / "ct.db")
    claims = ["Fries cost one dollar.", "A made-up dam burst in Ashby.", "Ten new parks."]
    store.add([Debunk(id=f"d{n}", claim=c) for n, c in enumerate(claims)])
    keys = sorted(store.claims_by_key())
    e5.version = "test-e5"  # type: ignore[attr-defined]
    store.set_e5_vectors(dict(zip(keys, e5(claims), strict=True)), version="test-e5")
    assert refresh_stale_e5(store, e5) == 0  # all agree: nothing remade
    # a stand-in's vector under the right stamp (a file from before the stamps, where
    # the research script wrote it): only a look at the vectors finds it
    stand_in = np.full(8, 8**-0.5, np.float16).tobytes()
    store._conn.execute("UPDATE debunks SET e5 = ? WHERE key = ?", (stand_in, keys[1]))
    assert refresh_stale_e5(store, e5) == 3
    kept = store.e5_vectors(keys, version="test-e5")
    np.testing.assert_allclose(kept[keys[1]], e5([claims[1]])[0])
    store.close()


@pytest.mark.parametrize(
    ("name", "encoding"),
    [("desk.csv", "cp1251"), ("desk.jsonl", "utf-16"), ("desk.json", "koi8_r")],
)
def test_a_file_not_in_utf8_is_decoded(tmp_path: Path, name: str, encoding: str) -> None:
    claim = "Выдуманное заявление о грязной бомбе в Киеве от одного эксперта."
    src = tmp_path / name
    if name.endswith(".csv"):
        text = f"id,claim\nx1,{claim}\n"
    elif name.endswith(".jsonl"):
        text = json.dumps({"id": "x1", "claim": claim}, ensure_ascii=False) + "\n"
    else:
        text = json.dumps([{"id": "x1", "claim": claim}], ensure_ascii=False)
    src.write_bytes(text.encode(encoding))
    (got,) = list(read_debunks(src))
    assert isinstance(got, Debunk) and got.claim == claim


@pytest.mark.parametrize("name", ["checks.csv", "checks.jsonl"])
def test_a_file_that_is_not_text_is_one_bad_row_naming_it(tmp_path: Path, name: str) -> None:
    src = tmp_path / name
    src.write_bytes(b"%PDF-1.7\n" + bytes(range(256)) * 4)
    (bad,) = list(read_debunks(src))
    assert isinstance(bad, BadRow) and bad.source == str(src)
    assert "binary file (looks like PDF)" in str(bad)


@pytest.mark.parametrize(
    ("name", "text", "bad_line", "good"),
    [
        # a quote never closed: it would swallow the rest of the file
        ("open.csv", 'id,claim\nu1,"Made-up claim one\nu2,Made-up claim two\n', 2, ["u2"]),
        # a stray quote at the start of a TSV field, closed by no later one
        (
            "stray.tsv",
            'id\tclaim\tverdict\nt1\t"Made-up claim, one\tfalse\n'
            't2\tMade-up claim two\tfalse\nt3\tSomeone "fled" somewhere\tfalse\n',
            2,
            ["t2", "t3"],
        ),
    ],
)
def test_a_stray_quote_is_a_bad_row_and_the_next_rows_are_read(
    tmp_path: Path, name: str, text: str, bad_line: int, good: list[str]
) -> None:
    src = tmp_path / name
    src.write_text(text)
    items = list(read_debunks(src))
    (bad,) = [i for i in items if isinstance(i, BadRow)]
    assert bad.line == bad_line and "quote" in bad.reason
    rows = [i for i in items if isinstance(i, Debunk)]
    assert [r.id for r in rows] == good
    assert all("\n" not in r.claim for r in rows)


def test_a_quoted_field_over_several_lines_is_still_one_row(tmp_path: Path) -> None:
    src = tmp_path / "checks.csv"
    src.write_text(
        'id,claim,text\nm1,Made-up claim,"First line, with a comma\nsecond ""quoted"" line"\n'
        "m2,Another made-up claim,\n"
    )
    items = list(read_debunks(src))
    assert [(i.id, i.text) for i in items if isinstance(i, Debunk)] == [
        ("m1", 'First line, with a comma\nsecond "quoted" line'),
        ("m2", None),
    ]
    assert not [i for i in items if isinstance(i, BadRow)]


# ----------------------------------------------------------------------------- CLI
def _cli(argv: list[str]) -> int:
    from narrascope.cli import debunks

    parser = argparse.ArgumentParser()
    debunks.add_parser(parser.add_subparsers(dest="command"), "debunks")
    args = parser.parse_args(["debunks", *argv])
    return args.run(args)


def test_cli_add_list_search(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "checks.jsonl"
    rows = [{"id": i, "claim": c, "url": f"https://example.org/{i}"} for i, c in DEBUNKS]
    src.write_text("\n".join(json.dumps(r) for r in rows) + "\n{oops\n")
    db = str(tmp_path / "corpus.db")
    assert _cli(["add", str(src), "--db", db, "--no-vectors", "--quiet"]) == 1  # one bad row
    out = capsys.readouterr()
    assert f"{len(DEBUNKS)} added" in out.out and f"{src}:{len(DEBUNKS) + 1}:" in out.err
    assert _cli(["add", str(src), "--db", db, "--no-vectors", "--quiet"]) == 1
    assert f"0 added, 0 updated, {len(DEBUNKS)} unchanged" in capsys.readouterr().out
    assert _cli(["list", "--db", db, "--limit", "3"]) == 0
    listed = capsys.readouterr().out
    assert "d-shelling" in listed and f"1-3 of {len(DEBUNKS)} debunks" in listed
    assert _cli(["search", "microchips vaccine", "--db", db, "--json"]) == 0
    first = json.loads(capsys.readouterr().out.splitlines()[0])
    assert first["id"] == "d-vaccine" and first["url"] == "https://example.org/d-vaccine"
    with pytest.raises(StoreError, match="no database"):
        _cli(["list", "--db", str(tmp_path / "missing.db")])


def _add_three_and_a_repeat(tmp_path: Path) -> str:
    src = tmp_path / "checks.jsonl"
    rows = [{"id": i, "claim": c} for i, c in DEBUNKS[:3]] + [{"id": DEBUNKS[0][0], "claim": "x"}]
    src.write_text("".join(json.dumps(r) + "\n" for r in rows))
    db = str(tmp_path / "corpus.db")
    assert _cli(["add", str(src), "--db", db, "--no-vectors", "--quiet"]) == 0
    return db


def test_cli_add_counts_duplicate_rows(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _add_three_and_a_repeat(tmp_path)
    out = capsys.readouterr().out
    assert "3 added, 0 updated, 0 unchanged, 1 duplicate rows (the last kept), 0 bad rows" in out


def test_cli_list_past_the_end_shows_no_range(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = _add_three_and_a_repeat(tmp_path)
    capsys.readouterr()
    assert _cli(["list", "--db", db, "--offset", "10"]) == 0
    assert capsys.readouterr().out == "0 of 3 debunks (--offset 10 is past the last)\n"


# ----------------------------------------------------------------------------- matching
@pytest.fixture(scope="module")
def matcher(tmp_path_factory: pytest.TempPathFactory):
    if not (SHIPPED / "config.json").is_file():
        pytest.skip("no shipped debunk matcher")
    from narrascope.models.debunk_match import DebunkMatcher
    from narrascope.models.encoder import SentenceEncoder

    db = tmp_path_factory.mktemp("debunks") / "corpus.db"
    store = DebunkStore(db)
    rows = [
        Debunk(id=i, claim=c, url=f"https://example.org/{i}", language="en", date=DATES.get(i))
        for i, c in DEBUNKS
    ]
    # a database of a few hundred claims, as a user's is (the scorer reads each pair
    # against its rivals: among ten, the best of unrelated ones stands out)
    rng = random.Random(5)
    rows += [Debunk(id=f"filler-{n}", claim=make_claim(rng), language="en") for n in range(300)]
    store.add(rows, encode=SentenceEncoder.shared().encode)
    return DebunkMatcher(store)


@needs_artefact
@pytest.mark.parametrize(
    ("language", "text", "expected"),
    [
        (
            "en",
            "Kyiv's troops fired on Donetsk, their own city, so Russia would be blamed.",
            "d-shelling",
        ),
        (
            "ru",
            "Украинская армия обстреляла собственный город Донецк, чтобы обвинить Россию.",
            "d-shelling",
        ),
        ("uk", "Вакцини від COVID-19 містять мікрочипи, щоб стежити за людьми.", "d-vaccine"),
        (
            "pt",
            "O exército ucraniano bombardeou a sua própria cidade de Donetsk para culpar a Rússia.",
            "d-shelling",
        ),
        (
            "ru",
            "Пентагон держит на Украине секретные биолаборатории, где создают "
            "биологическое оружие.",
            "d-biolabs",
        ),
    ],
)
def test_restatements_match_across_languages(matcher, language, text, expected) -> None:
    doc = Document(text=text, id="t", language=language)
    found = matcher.match(doc)
    assert found and found[0].id == expected, [(m.id, m.score) for m in found]
    assert found[0].score >= matcher.threshold
    span = found[0].claim_span
    assert span is not None and text[span.start : span.end] == span.text


@needs_artefact
@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("en", "The weather in Lisbon was sunny today and people walked in the park."),
        ("en", "Fans gathered in the square to watch the final on a big screen."),
        ("ru", "Сегодня в Москве прошёл концерт симфонического оркестра."),
        ("pt", "A seleção brasileira venceu o jogo de ontem por dois a zero."),
    ],
)
def test_unrelated_text_matches_nothing(matcher, language, text) -> None:
    assert matcher.match(Document(text=text, id="t", language=language)) == []


@needs_artefact
def test_pairs_are_read_with_the_bent_cosine(matcher) -> None:
    assert matcher.scorer.pair_map is not None
    texts = ["Kyiv's troops fired on Donetsk so Russia would be blamed.", "Vaccines track you."]
    found = matcher.candidates(texts, "en")
    for unit in (0, 1):
        mine = [c for c in found if c.unit == unit]
        assert mine and max(c.pair_gap for c in mine) == 0.0
        assert any(abs(c.pair_cos - c.use_cos) > 0.01 for c in mine)  # bent, not plain
    best = max((c for c in found if c.unit == 0), key=lambda c: c.pair_cos)
    assert matcher.store.by_keys([best.key])[best.key].id == "d-shelling"


@pytest.fixture(scope="module")
def ten_debunks(tmp_path_factory: pytest.TempPathFactory):
    """A newsroom's own short list: ten debunks, most of them on the war."""
    if not (SHIPPED / "config.json").is_file():
        pytest.skip("no shipped debunk matcher")
    from narrascope.models.debunk_match import DebunkMatcher
    from narrascope.models.encoder import SentenceEncoder

    store = DebunkStore(tmp_path_factory.mktemp("ten") / "corpus.db")
    rows = [Debunk(id=i, claim=c, language="en") for i, c in DEBUNKS]
    store.add(rows, encode=SentenceEncoder.shared().encode)
    return DebunkMatcher(store)


@needs_artefact
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Kyiv's troops fired on Donetsk, their own city, so Russia would be blamed.",
            "d-shelling",
        ),
        ("Vaccines against COVID-19 hide microchips that track everyone.", "d-vaccine"),
        ("Ukrainian grain is shipped only to wealthy European states, never to Africa.", "d-grain"),
        # on the war, restating none of the ten: the best of ten is not a match (the fast
        # head, trained on 14,231 debunks, showed d-shelling at 0.59 and d-grain at 0.41)
        ("NATO leaders met in Brussels to discuss more air defence for Ukraine.", None),
        ("Ukraine shipped more grain through the Black Sea corridor this month.", None),
        pytest.param(
            "Russian forces took a village near Donetsk after heavy fighting, the ministry said.",
            None,
            marks=pytest.mark.xfail(strict=True, reason="known: d-shelling is shown"),
        ),
    ],
)
def test_a_small_database_shows_restatements_not_the_best_of_a_few(
    ten_debunks, text, expected
) -> None:
    assert ten_debunks.index().size < SMALL_DATABASE  # read by the small head
    found = [m.id for m in ten_debunks.match(Document(text=text, id="t", language="en"))]
    assert found[:1] == ([expected] if expected else []), found


@needs_artefact
def test_a_debunk_dated_near_the_text_counts_more_and_far_away_never_less(matcher) -> None:
    text = "Most of the grain Ukraine ships goes to wealthy EU states rather than to Africa."

    def score(text: str, date: str | None = None) -> float:
        doc = Document(text=text, id="t", language="en", meta={"date": date} if date else {})
        return {m.id: m.score for m in matcher.match(doc, threshold=0.0)}["d-grain"]

    undated = score(text)
    assert score(text, "2023-07-25") > undated + 0.02  # five days after the fact-check
    # two years before it: no evidence either way (false claims come back years later)
    assert score(text, "2021-03-02") == pytest.approx(undated)
    # a post embedded in a page carries its own day, whatever the page's
    near = text + " — Grain Watch (@grainwatch) July 22, 2023"
    far = text + " — Grain Watch (@grainwatch) July 22, 2019"
    assert score(near) > score(far) + 0.02
    assert score(near, "2019-01-01") == pytest.approx(score(near))


@needs_artefact
def test_stage_sets_debunks_with_the_claim_span(matcher) -> None:
    from narrascope.stages.debunks import DebunkStage

    intro = "Yesterday the city council met to discuss the new bus timetable for the spring. "
    claim = "Everyone should know that the vaccines against COVID-19 carry microchips to track us."
    tail = " The meeting ended late in the evening after a long debate about parking fees."
    text = intro * 4 + claim + tail * 4  # longer than a post: matched by sentence
    start = text.index(claim)
    doc = Document(text=text, id="long", language="en")
    stage = DebunkStage(matcher=matcher)
    assert stage.name == "debunks"
    (out,) = stage([doc])
    assert out.debunks and out.debunks[0].id == "d-vaccine"
    span = out.debunks[0].claim_span
    assert span is not None and span.start == start and text[span.start : span.end] == claim
    assert out.debunks[0].url == "https://example.org/d-vaccine"
    record = out.to_dict()["debunks"][0]
    assert record["id"] == "d-vaccine" and record["claim_span"]["start"] == start
    # with claims from the claim stage, only they are matched
    doc2 = Document(text=text, id="long2", language="en")
    doc2.claims = [Claim(span=Span.of(text, 0, len(intro.strip())), score=0.9)]
    assert "d-vaccine" not in [m.id for m in stage([doc2])[0].debunks]
    doc3 = Document(text=text, id="long3", language="en")
    doc3.claims = [Claim(span=Span.of(text, start, start + len(claim)), score=0.9)]
    (match,) = [m for m in stage([doc3])[0].debunks if m.id == "d-vaccine"]
    assert match.claim_span == doc3.claims[0].span


@needs_artefact
def test_a_longer_document_is_read_by_the_article_head(matcher, monkeypatch) -> None:
    from narrascope.models import debunk_match
    from narrascope.models.debunk_match import article_features

    monkeypatch.setattr(debunk_match, "SMALL_DATABASE", 0)  # as with 5,000 debunks or more
    intro = "Yesterday the city council met to discuss the new bus timetable for the spring. "
    claim = "Everyone should know that the vaccines against COVID-19 carry microchips to track us."
    doc = Document(text=intro * 8 + claim, id="long", language="en")
    assert matcher.is_article(doc) and not matcher.is_article(Document(text=claim, id="post"))
    found = matcher.match(doc)
    assert found and found[0].id == "d-vaccine", [(m.id, m.score) for m in found]
    texts = [u.text for u in matcher.units(doc)]
    scored = matcher.score(texts, "en", article=True)
    candidates = [c for c, _ in scored]
    x = article_features(matcher.features(texts, "en", candidates), texts, candidates)
    np.testing.assert_allclose(
        [p for _, p in scored], matcher.scorer.proba("article", x), rtol=1e-9
    )


@needs_artefact
def test_a_post_in_a_larger_database_is_read_by_the_fast_head_shifted(matcher, monkeypatch) -> None:
    from narrascope.models import debunk_match

    monkeypatch.setattr(debunk_match, "SMALL_DATABASE", 0)  # as with 5,000 debunks or more
    post = "Everyone should know that the vaccines against COVID-19 carry microchips to track us."
    scored = matcher.score([post], "en")
    candidates = [c for c, _ in scored]
    x = matcher.features([post], "en", candidates)
    # the fast head learned from unrelated posts too: its own scale is lower, and the
    # shift puts its operating point on the one shown threshold (the ranking is its own)
    assert matcher.scorer.fast_shift_ > 0
    want = matcher.scorer.shifted(matcher.scorer.proba("fast", x), "fast")
    np.testing.assert_allclose([p for _, p in scored], want, rtol=1e-9)
    found = matcher.match(Document(text=post, id="post", language="en"))
    assert found and found[0].id == "d-vaccine"


@needs_artefact
def test_in_a_small_database_the_e5_reread_only_lowers(matcher) -> None:
    from narrascope.models.debunk_match import RERANK_GATE, DebunkMatcher

    reread = DebunkMatcher(matcher.store, rerank=True)
    texts = ["Kyiv's troops fired on Donetsk, their own city, so Russia would be blamed."]
    plain = {c.key: p for c, p in matcher.score(texts, "en")}
    again = {c.key: p for c, p in reread.score(texts, "en")}
    assert plain.keys() == again.keys()
    assert all(again[k] <= plain[k] + 1e-12 for k in plain)  # the full head never raises
    assert max(plain.values()) >= RERANK_GATE  # so e5 did reread the best pairs


@needs_artefact
def test_a_short_post_is_matched_whole_even_with_claims(matcher) -> None:
    lead = "Big news from the clinic today."
    claim = "Everyone should know that the vaccines against COVID-19 carry microchips to track us."
    text = f"{lead} {claim}"
    doc = Document(text=text, id="post", language="en")
    doc.claims = [Claim(span=Span.of(text, 0, len(lead)), score=0.9)]  # the wrong sentence
    # tweet-sized, as trained; its listed claims too (test_debunk_match_units.py)
    assert [s.text for s in matcher.units(doc)] == [text, lead]
    found = matcher.match(doc)
    assert found and found[0].id == "d-vaccine"
    assert found[0].claim_span is not None and found[0].claim_span.text == claim


@needs_artefact
def test_an_article_with_claims_is_matched_by_the_post_it_embeds_too(matcher) -> None:
    post = (
        "Everyone should know that the vaccines against COVID-19 carry microchips to track "
        "us. pic.twitter.com/abc123 — Jane Roe (@janeroe) March 3, 2021"
    )
    paragraphs = [
        "Council approves the spring bus timetable",
        "Yesterday the city council met to discuss the new bus timetable for the spring.",
        "The mayor said 40 new buses would run from April, at a cost of 12 million euros.",
        post,
        "It ended late in the evening after a long debate about parking fees in the centre.",
        "Several residents asked for more benches along the river and for better lighting.",
        "The next meeting, on the school year's calendar, is planned for the end of May.",
        "Tickets for the new lines go on sale next week at every station and on the website.",
    ]
    text = "\n\n".join(paragraphs)
    doc = Document(text=text, id="article", language="en")
    assert matcher.is_article(doc)
    budget = paragraphs[2]
    start = text.index(budget)
    inside = text.index("pic.twitter")  # a claim sentence of the post: read with the post
    doc.claims = [
        Claim(span=Span.of(text, start, start + len(budget)), score=0.8),
        Claim(span=Span.of(text, text.index(post), inside - 1), score=0.6),
    ]
    assert [u.text for u in matcher.units(doc)] == [post, budget]
    (found,) = [m for m in matcher.match(doc) if m.id == "d-vaccine"]
    assert found.claim_span is not None and found.claim_span.start >= text.index(post)


@needs_artefact
def test_an_article_is_matched_by_paragraph_and_shown_the_sentence(matcher) -> None:
    claim = "Everyone should know that the vaccines against COVID-19 carry microchips to track us."
    paragraphs = [
        "Yesterday the city council met to discuss the new bus timetable for the spring.",
        "The meeting was long. " + claim,
        "It ended late in the evening after a long debate about parking fees in the centre.",
        "Several residents asked for more benches along the river and for better lighting.",
    ] * 2
    text = "\n\n".join(paragraphs)
    doc = Document(text=text, id="article", language="en")
    units = matcher.units(doc)
    assert [u.text for u in units] == paragraphs  # tweet-sized paragraphs, whole
    (found,) = [m for m in matcher.match(doc) if m.id == "d-vaccine"]
    assert found.claim_span is not None and found.claim_span.text == claim


def test_a_document_date_that_pins_no_day_gives_its_units_no_day() -> None:
    from narrascope.models.debunk_match import DebunkMatcher
    from narrascope.text.dates import day_of

    text = "NATO promised never to expand to the east."
    unit = Span.of(text, 0, len(text))
    for date, day in (("March 2022", None), ("2022", None), ("2022-03-05", day_of("2022-03-05"))):
        doc = Document(text=text, id="d", language="en", meta={"date": date})
        assert DebunkMatcher.unit_days(doc, [unit]) == [day]


def test_the_claim_span_is_the_unit_when_no_sentence_stands_out() -> None:
    from narrascope.models.debunk_match import DebunkMatcher
    from narrascope.text.segment import split_sentences

    def spans(text: str) -> tuple[Span, list[Span]]:
        return Span.of(text, 0, len(text)), [Span.of(text, a, b) for a, b in split_sentences(text)]

    claim = "The US runs secret biolabs in Ukraine."
    # a debunk in another language shares no word with any sentence: not the first one
    unit, sentences = spans("Погода сьогодні гарна. США мають секретні біолабораторії в Україні.")
    assert DebunkMatcher.narrowest(unit, claim, sentences, "uk") == unit
    # the same language: the sentence that restates it
    unit, sentences = spans("The weather is fine today. Secret US biolabs run in Ukraine.")
    assert DebunkMatcher.narrowest(unit, claim, sentences, "en").text == (
        "Secret US biolabs run in Ukraine."
    )
    # two sentences share as much: neither is singled out
    unit, sentences = spans("Ukraine has biolabs, they say. Ukraine hides biolabs.")
    assert DebunkMatcher.narrowest(unit, claim, sentences, "en") == unit


# ----------------------------------------------------------------------------- CheckThat!
@pytest.fixture(scope="module")
def checkthat_2a_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The 14,231 vclaims imported as `debunks add` imports them, reader vectors and all."""
    if not (SHARED_2A / "vclaims").is_dir():
        pytest.skip("../shared/datasets/checkthat2022-task2a-en is not available")
    from narrascope.models.artefact import user_cache_dir
    from narrascope.models.debunk_reader import make_debunk_vectors, reader_version
    from narrascope.models.encoder import SentenceEncoder
    from narrascope.training.debunks import CachedVectors, build_db

    use = CachedVectors("use", SentenceEncoder.shared().encode, user_cache_dir() / "debunks")
    path = tmp_path_factory.mktemp("ct2a") / "ct.db"
    store = build_db(SHARED_2A, path, use)
    make_debunk_vectors(store)  # as `debunks add` makes them for 14,231 debunks (~2 min)
    assert store.reader_matrix(reader_version()) is not None
    store.close()
    return path


@pytest.mark.slow
@pytest.mark.shared
@needs_artefact
def test_checkthat_2a_dev_map_at_5(tmp_path: Path, checkthat_2a_db: Path) -> None:
    """Dev MAP@5 of what users see (doc.debunks, thresholded) after importing the vclaims,
    through `narrascope analyze` (the claim stage first, as users run it)."""
    from narrascope.cli import main
    from narrascope.training.debunks import map_at, read_qrels, read_queries

    shutil.copy(checkthat_2a_db, tmp_path / "ct.db")
    queries, dev = read_queries(SHARED_2A), read_qrels(SHARED_2A, "dev")
    source = tmp_path / "dev.jsonl"
    source.write_text("".join(json.dumps({"id": q, "text": queries[q]}) + "\n" for q in dev))
    out = tmp_path / "out.jsonl"
    argv = ["analyze", str(source), "--debunks", str(tmp_path / "ct.db"), "-o", str(out)]
    assert main([*argv, "--no-progress"]) == 0
    shown = {}
    for line in out.read_text().splitlines():
        record = json.loads(line)
        shown[record["id"]] = [d["id"] for d in record.get("debunks", [])]
    # the bar is 0.90: 0.967 measured with the debunk reader (0.960 before
    # its read head learned from unrelated posts), 0.927 without (0.916 before the fast
    # head did; the tweets' own days read by the dated head; 0.884 when a tweet's claim
    # sentences were matched in place of the tweet)
    print(f"2A dev through analyze: MAP@5 {map_at(shown, dev):.4f}")
    assert map_at(shown, dev) >= 0.90, map_at(shown, dev)


@pytest.mark.slow
@pytest.mark.shared
@needs_artefact
def test_in_a_large_archive_restatements_are_shown_and_news_that_restates_none_mostly_not(
    tmp_path: Path, checkthat_2a_db: Path
) -> None:
    """Our own six fact-checks added to the 14,231 Snopes ones: posts that restate them are
    shown them; war-news posts that restate nothing are mostly shown nothing (before the
    read head learned from unrelated posts, 7 of these 8 were shown a fact-check, and the
    call-up paraphrase a wrong Snopes one)."""
    from narrascope.models.debunk_match import DebunkMatcher
    from narrascope.models.debunk_reader import make_debunk_vectors
    from narrascope.models.encoder import SentenceEncoder
    from test_debunk_match_reader import DEBUNKS  # written for the tests

    russian = [
        ("ru-bridge", "Крымский мост закрыли навсегда после шторма на прошлой неделе."),
        ("ru-grain", "Зерновозы из Одессы везут в Африку оружие."),
        ("ru-trains", "В марте отменили все ночные поезда между Софией и Бухарестом."),
    ]
    shutil.copy(checkthat_2a_db, tmp_path / "ct.db")
    store = DebunkStore(tmp_path / "ct.db")
    store.add(
        [Debunk(id=i, claim=c, language="en") for i, c in DEBUNKS]
        + [Debunk(id=i, claim=c, language="ru") for i, c in russian],
        encode=SentenceEncoder.shared().encode,
    )
    make_debunk_vectors(store)
    matcher = DebunkMatcher(store)

    def shown(text: str, language: str = "en") -> list[str]:
        return [m.id for m in matcher.match(Document(text=text, language=language))]

    restated = {
        "BREAKING: the Kerch bridge to Crimea has been shut forever after last week's gale": (
            "r-bridge"
        ),
        "They say the freighters out of Odesa hide guns for Africa under the wheat": "r-grain",
        "An American firm secretly owns and operates all of Kyiv's power plants.": "r-power",
        "Portugal will swap the euro for gold coins in 2025, insiders say.": "r-coins",
        "Night trains from Sofia to Bucharest were all cancelled in March.": "r-trains",
    }
    for text, debunk in restated.items():
        # first: the fact-check, or its Russian twin below (the same claim)
        assert shown(text)[:1] in ([debunk], [debunk.replace("r-", "ru-", 1)]), text
    # no word in common with r-draft: not found, but not shown a wrong fact-check either
    assert (
        shown("Fathers of grown-up children are now getting call-up papers, my neighbour says.")
        == []
    )
    unrelated = [
        "Russian artillery shelled villages near Kupiansk through the night, the army said.",
        "The European Commission proposed a new package of sanctions on Russian metals.",
        "Thousands of volunteers in Lviv sorted donated winter clothes for the front.",
        "A court in Kyiv jailed a former official for taking bribes on army food contracts.",
        "Ukraine's parliament passed the budget for next year after a long debate on Tuesday.",
        "The bridge across the river in Kherson was damaged by shelling, local officials said.",
        "Farmers in Odesa region say grain prices have fallen by a third since the spring.",
        "Power cuts hit Kyiv again as engineers repair the grid after the latest strikes.",
    ]
    # today 2 of 8 (the Kherson bridge and the power cuts: our own debunks' neighbours)
    assert sum(bool(shown(text)) for text in unrelated) <= 3
    # the same in Russian against Russian fact-checks (before: the budget shown ru-bridge)
    assert shown("СРОЧНО: Керченский мост в Крым перекрыт навсегда после урагана", "ru")[:1] == [
        "ru-bridge"
    ]
    assert shown("Говорят, корабли из Одессы под пшеницей прячут оружие для Африки", "ru")[:1] == [
        "ru-grain"
    ]
    for text in [
        "Верховная рада приняла бюджет на следующий год после долгих дебатов во вторник.",
        "Российская артиллерия всю ночь обстреливала сёла под Купянском, сообщили военные.",
        "Волонтёры во Львове сортировали тёплую одежду для фронта.",
    ]:
        assert shown(text, "ru") == [], text
    # the fast path (the same archive read without the reader): its head learned from
    # unrelated posts too. Before, 4 of these 8 (and the call-up paraphrase) were shown a
    # Snopes fact-check; now none. The price: an undated paraphrase can go unshown (the
    # American firm: 0.97 before; the others are shown theirs or the Russian twin)
    fast = DebunkMatcher(store, use_reader=False)

    def fast_shown(text: str, language: str = "en") -> list[str]:
        return [m.id for m in fast.match(Document(text=text, language=language))]

    firsts = [(fast_shown(t)[:1], d) for t, d in restated.items()]
    assert sum(f in ([d], [d.replace("r-", "ru-", 1)]) for f, d in firsts) >= 4, firsts
    assert sum(bool(fast_shown(text)) for text in unrelated) <= 1
    assert fast_shown("Говорят, корабли из Одессы под пшеницей прячут оружие для Африки", "ru")[
        :1
    ] == ["ru-grain"]
    store.close()
