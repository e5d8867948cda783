"""Near-duplicate campaigns (issue 26): edited, reordered, truncated copies cluster; distinct
texts on the same topic do not; unknown sources and dates; boilerplate; the CLI's outputs."""

from __future__ import annotations

import argparse
import csv
import importlib.util
import json
from pathlib import Path

import pytest

from narrascope.cli import campaigns as cli
from narrascope.corpus import CampaignRecord, find_campaigns
from narrascope.corpus.campaigns import coordination, signatures, similarity, timestamp
from narrascope.doc import Annotation, Document
from narrascope.store import open_store

ROOT = Path(__file__).resolve().parents[1]

# Three texts we wrote on one topic (grain exports through a port), distinct in wording.
PORT = [
    "The harbour authority in Northbay said on Monday that grain exports resumed after a "
    "three week pause caused by damage to the main loading terminal.",
    "Officials told reporters that twelve cargo ships had already left the port carrying "
    "wheat and barley bound for buyers in North Africa and the Middle East.",
    "Insurance companies had raised premiums sharply during the pause, and several shipping "
    "firms warned that they would not return until the terminal was fully repaired.",
    "The regional governor thanked the dock workers who repaired the cranes in record time "
    "and promised that the harbour would be protected by new air defence systems.",
    "Analysts expect the reopening to lower bread prices in importing countries, although "
    "they cautioned that further attacks on the port could reverse the gains within days.",
]
SILOS = [
    "Farmers near Northbay complained this week that their silos are still full of last "
    "year's harvest because the railway to the coast has been closed since spring.",
    "A cooperative leader said members were selling wheat at a loss to traders who move it "
    "by truck, a slow and expensive route that eats most of the profit.",
    "The ministry of agriculture announced subsidies for storage but did not say when the "
    "railway line would reopen or who would pay for the repairs to the bridges.",
    "Some growers said they would plant sunflowers instead of wheat next season, since the "
    "crop is easier to store and sells for more on the domestic market.",
]
PRICES = [
    "Bread prices in the capital rose again in October, the statistics office reported, "
    "adding to pressure on households already struggling with heating bills.",
    "Bakers blamed the cost of flour and electricity, while the government pointed to "
    "speculation by middlemen and promised inspections of large wholesalers.",
    "Economists said the link between port closures and bread prices is real but weaker "
    "than politicians claim, because most flour sold at home is milled from local grain.",
    "Consumer groups asked for a temporary cut in value added tax on basic foods until the "
    "winter is over and the shipping routes are stable again.",
]


def text(paragraphs: list[str]) -> str:
    return "\n\n".join(paragraphs)


def edited(paragraphs: list[str]) -> list[str]:
    """A light rewrite: a few words changed in two paragraphs, a phrase added."""
    out = list(paragraphs)
    out[0] = out[0].replace("said on Monday", "announced on Monday").replace("three", "3")
    out[2] = out[2].replace("sharply", "dramatically") + " Prices remain high."
    return out


def corpus() -> list[dict]:
    """An original, its edited, reordered and truncated copies, two distinct texts."""
    whole = text(PORT)
    return [
        {"id": "orig", "text": whole, "source": "north-news", "date": "2024-05-06T08:00:00"},
        {"id": "edit", "text": text(edited(PORT)), "source": "daily", "date": "2024-05-06T09:30"},
        {
            "id": "reorder",
            "text": text([PORT[0], PORT[3], PORT[1], PORT[4], PORT[2]]),
            "source": "channel-7",
            "date": "2024-05-06",
        },
        {"id": "cut", "text": whole[: len(whole) * 2 // 5], "source": "blog", "date": "2024-05-08"},
        {"id": "silos", "text": text(SILOS), "source": "north-news", "date": "2024-05-06"},
        {"id": "prices", "text": text(PRICES), "source": "daily", "date": "2024-05-07"},
    ]


def test_edited_reordered_and_truncated_copies_cluster_distinct_texts_do_not() -> None:
    campaigns = find_campaigns(corpus())
    assert len(campaigns) == 1
    (campaign,) = campaigns
    assert {m.id for m in campaign.members} == {"orig", "edit", "reorder", "cut"}
    assert campaign.size == 4


def test_members_come_earliest_first_with_their_similarity_to_it() -> None:
    (campaign,) = find_campaigns(corpus())
    members = campaign.members
    # "reorder" is dated 2024-05-06 (midnight, UTC): earlier than the original's 08:00
    assert [m.id for m in members] == ["reorder", "orig", "edit", "cut"]
    assert members[0].similarity == 1.0
    by_id = {m.id: m for m in members}
    assert by_id["orig"].similarity > 0.9  # only the moved paragraph boundaries differ
    assert 0.35 <= by_id["edit"].similarity < 0.9
    assert by_id["cut"].similarity < 0.5 and by_id["cut"].containment > 0.9
    assert campaign.first_seen == "2024-05-06"
    assert campaign.last_seen == "2024-05-08"
    assert campaign.time_span_hours == pytest.approx(48.0)
    assert campaign.sources == ["channel-7", "north-news", "daily", "blog"]
    # three sources within 9.5 hours: 2 * 2^(-9.5/24)
    assert campaign.coordinated_sources == 3
    assert campaign.coordination == pytest.approx(2 * 2 ** (-9.5 / 24))


def test_the_shared_passage_is_text_every_member_holds() -> None:
    records = corpus()
    (campaign,) = find_campaigns(records)
    passage = campaign.shared_passage
    assert len(passage.split()) >= 20
    texts = {r["id"]: r["text"] for r in records}
    for member in campaign.members:
        assert passage in texts[member.id]
    assert campaign.shared_by == campaign.size


def test_documents_without_dates_or_sources_still_cluster_as_unknown() -> None:
    records = [CampaignRecord(id=r["id"], text=r["text"]) for r in corpus()]
    (campaign,) = find_campaigns(records)
    assert {m.id for m in campaign.members} == {"orig", "edit", "reorder", "cut"}
    # a missing source is None (a source may be named "unknown"), and shown as unknown
    assert {(m.source, m.date) for m in campaign.members} == {(None, "unknown")}
    record = campaign.to_dict()
    assert {m["source"] for m in record["members"]} == {"unknown"}
    assert record["first_seen"] == "unknown" and record["time_span_hours"] is None
    assert record["sources"] == ["unknown"] and record["source_count"] == 0
    assert record["coordination"] == 0.0
    # the document id decides among undated members (not the reading order: the cluster
    # id is the earliest member's, and must not change when the corpus is read otherwise)
    assert [m["id"] for m in record["members"]] == ["cut", "edit", "orig", "reorder"]
    (again,) = find_campaigns(list(reversed(records)))
    assert again.id == campaign.id and [m.id for m in again.members] == [
        "cut",
        "edit",
        "orig",
        "reorder",
    ]


def test_a_sources_footer_does_not_tie_its_unrelated_posts_together() -> None:
    footer = (
        "Subscribe to the Northbay Morning channel for news every hour.\n"
        "Share this post with your friends and family and support independent journalism "
        "in our region, because without your donations we cannot keep reporting on the "
        "things that the big newspapers ignore every single day."
    )
    posts = [*PORT, *SILOS[:2]]
    records = [
        {"id": f"p{i}", "text": f"{post}\n{footer}", "source": "northbay-morning"}
        for i, post in enumerate(posts)
    ]
    assert find_campaigns(records) == []
    # the same posts with the footer kept do merge: the rule is what keeps them apart
    merged = find_campaigns(records, boilerplate_min_docs=100)
    assert merged and merged[0].size == len(posts)


def test_a_paragraph_copied_into_documents_without_a_source_is_not_their_footer() -> None:
    # six sourceless copies (a .txt folder): the shared paragraphs are the copied text, not
    # the footer of one pseudo-source "unknown"
    intros = [
        "Morning bulletin from the coast.",
        "Forwarded by a reader this afternoon.",
        "A friend sent us this report.",
        "Read this before it gets deleted.",
        "Important news from the harbour today.",
        "Our evening summary starts here.",
    ]
    body = text(PORT[:2])
    records = [CampaignRecord(f"t{i}", f"{intro}\n{body}") for i, intro in enumerate(intros)]
    (campaign,) = find_campaigns(records)
    assert campaign.size == 6
    assert PORT[0] in campaign.shared_passage and campaign.shared_by == 6


def test_dates_are_read_as_the_database_reads_them() -> None:
    # written dates the corpus database files under a day are dated here too; a date that
    # pins no day is undated, as in the database's stats
    records = [
        {"id": "n1", "text": text(PORT), "source": "a", "date": "05.03.2024"},
        {"id": "n2", "text": text(PORT), "source": "b", "date": "06.03.2024"},
        {"id": "n3", "text": text(PORT), "source": "c", "date": "March 7, 2024"},
        {"id": "n4", "text": text(PORT), "source": "d", "date": "March 2024"},
    ]
    (campaign,) = find_campaigns(records)
    assert [m.id for m in campaign.members] == ["n1", "n2", "n3", "n4"]
    assert (campaign.first_seen, campaign.last_seen) == ("2024-03-05", "2024-03-07")
    assert campaign.time_span_hours == pytest.approx(48.0)
    assert campaign.coordination == pytest.approx(0.5)  # max(1 * 2^-1, 2 * 2^-2)
    assert campaign.members[0].date == "05.03.2024"  # a member's date stays as given
    day = 1709596800.0  # 2024-03-05T00:00:00Z
    assert timestamp("05.03.2024") == timestamp("2024-03-05") == day
    assert timestamp("2024-03-05T10:30:00Z") == day + 10.5 * 3600  # the time is kept
    assert timestamp("2024-03-05T10:30:00+02:00") == day + 8.5 * 3600
    assert timestamp("March 2024") is None and timestamp("2024") is None
    assert timestamp("2024-02-30") is None and timestamp("soon") is None


def test_narratives_of_members_are_counted_per_cluster() -> None:
    records = corpus()
    label = "URW: Praise of Russia"
    records[0]["narratives"] = [{"label": label, "score": 0.8}]
    records[1]["narratives"] = [{"label": label, "score": 0.6}, {"label": "Other", "score": 0.1}]
    (campaign,) = find_campaigns(records)
    assert campaign.narratives == [(label, 2), ("Other", 1)]
    assert {m.id: m.narratives for m in campaign.members}["edit"] == [label, "Other"]


def test_coordination_rewards_many_sources_in_a_short_window() -> None:
    hour = 3600.0
    fast = [("a", 0.0), ("b", hour), ("c", 2 * hour), ("a", 100 * hour)]
    score, k, window = coordination(fast, half_life_hours=24)
    assert (k, window) == (3, 2.0)
    assert score == pytest.approx(2 * 2 ** (-2 / 24))
    daily = [(source, day * 24 * hour) for day, source in enumerate("abcde")]
    assert coordination(daily)[:2] == (0.5, 2)  # max(1/2, 2/4, 3/8, 4/16)
    slow = [("a", 0.0), ("b", 240 * hour), ("c", 480 * hour)]
    assert coordination(slow)[0] < 0.01
    assert coordination([("a", 0.0), ("a", hour)]) == (0.0, 1, None)
    assert coordination([(None, 0.0), ("b", None)]) == (0.0, 0, None)


def test_minhash_signatures_estimate_jaccard() -> None:
    import numpy as np

    rng = np.random.default_rng(0)
    a = np.unique(rng.integers(0, 2**32, 400, dtype=np.uint64)).astype(np.uint32)
    b = np.unique(np.concatenate([a[:200], rng.integers(0, 2**32, 200, dtype=np.uint64)]))
    b = b.astype(np.uint32)
    sig = signatures([a, b, np.zeros(0, np.uint32)], num_perm=256)
    estimate = float(np.mean(sig[0] == sig[1]))
    assert estimate == pytest.approx(similarity(a, b)[0], abs=0.08)
    assert (sig[2] == 2**32 - 1).all()


def test_min_size_is_checked() -> None:
    with pytest.raises(ValueError, match="min_size"):
        find_campaigns([], min_size=1)
    assert find_campaigns([]) == []


# -- the command -----------------------------------------------------------------------------


def run_cli(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="narrascope")
    cli.add_parser(parser.add_subparsers(dest="command"), "campaigns")
    args = parser.parse_args(["campaigns", *argv])
    return args.run(args)


def test_cli_reads_text_files_and_writes_jsonl(tmp_path: Path) -> None:
    folder = tmp_path / "texts"
    folder.mkdir()
    for record in corpus():
        (folder / f"{record['id']}.txt").write_text(record["text"], encoding="utf-8")
    out = tmp_path / "c.jsonl"
    assert run_cli(str(folder), "--out", str(out)) == 0
    (line,) = out.read_text(encoding="utf-8").splitlines()
    record = json.loads(line)
    assert {m["id"] for m in record["members"]} == {
        "orig.txt",
        "edit.txt",
        "reorder.txt",
        "cut.txt",
    }
    assert {m["source"] for m in record["members"]} == {"unknown"}


def test_cli_reads_records_with_named_fields_and_their_narratives(tmp_path: Path) -> None:
    path = tmp_path / "analysed.jsonl"
    label = "URW: Discrediting Ukraine"
    with path.open("w", encoding="utf-8") as fh:
        for record in corpus():
            row = {"id": record["id"], "text": record["text"], "outlet": record["source"]}
            row["published"] = record["date"]
            if record["id"] in ("orig", "cut"):
                row["narratives"] = [{"label": label, "score": 0.7, "evidence": []}]
            fh.write(json.dumps(row) + "\n")
    out = tmp_path / "c.csv"
    code = run_cli(
        str(path), "--source-field", "outlet", "--date-field", "published", "-o", str(out)
    )
    assert code == 0
    with out.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == cli.CSV_COLUMNS
    assert [r["id"] for r in rows] == ["reorder", "orig", "edit", "cut"]
    assert rows[0]["source"] == "channel-7" and rows[3]["date"] == "2024-05-08"
    assert {r["campaign_narratives"] for r in rows} == {f"{label} (2)"}
    assert {r["id"]: r["narratives"] for r in rows}["cut"] == label


def test_cli_reads_the_parquet_output_of_analyze(tmp_path: Path) -> None:
    """``analyze --out DIR/`` (either engine) writes Parquet parts: campaigns reads the
    folder, with the records' sources, dates and narratives; its journal is no document."""
    pytest.importorskip("pyarrow")
    from narrascope.export.parquet import write_parquet_records

    label = "URW: Discrediting Ukraine"
    records = []
    for record in corpus():
        row = {**record, "language": "en"}
        if record["id"] in ("orig", "cut"):
            row["narratives"] = [{"label": label, "score": 0.7, "evidence": []}]
        records.append(row)
    folder = tmp_path / "results"
    write_parquet_records(records[:3], folder)
    write_parquet_records(records[3:], folder)  # a second part, as a resumed run adds
    (folder / "_journal.jsonl").write_text(json.dumps(records[0]) + "\n", encoding="utf-8")
    out = tmp_path / "c.jsonl"
    assert run_cli(str(folder), "-o", str(out)) == 0
    (campaign,) = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    members = {m["id"]: m for m in campaign["members"]}
    assert set(members) == {"orig", "edit", "reorder", "cut"}  # each once: the journal skipped
    assert members["reorder"]["source"] == "channel-7"
    assert members["cut"]["narratives"] == [label]


def test_cli_html_escapes_what_the_texts_say(tmp_path: Path) -> None:
    sneaky = "<script>alert(1)</script> " + PORT[0]
    records = [
        {"id": "<b>x</b>", "text": text([sneaky, *PORT[1:]]), "source": "<i>s</i>"},
        {"id": "y", "text": text([sneaky, *PORT[1:]]), "source": "t"},
    ]
    path = tmp_path / "in.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    out = tmp_path / "c.html"
    assert run_cli(str(path), "--out", str(out)) == 0
    page = out.read_text(encoding="utf-8")
    assert "<script" not in page.split("</style>")[1] and "&lt;/script&gt;" in page
    assert "&lt;b&gt;x&lt;/b&gt;" in page and "<i>s</i>" not in page


def test_cli_reads_a_corpus_database(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "corpus.db"
    docs = []
    for record in corpus():
        doc = Document(text=record["text"], id=record["id"], language="en")
        doc.meta = {"source": record["source"], "date": record["date"]}
        doc.groups["narratives"] = [Annotation("CC: Criticism of institutions", 0.5)]
        docs.append(doc)
    with open_store(db) as store:
        store.save(docs)
    assert run_cli("--db", str(db)) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split()[:3] == ["cluster", "size", "sources"]
    assert out[1].split()[1:3] == ["4", "4"]
    target = tmp_path / "c.jsonl"
    assert run_cli("--db", str(db), "-o", str(target)) == 0
    (record,) = [json.loads(line) for line in target.read_text().splitlines()]
    assert record["narratives"] == [{"label": "CC: Criticism of institutions", "count": 4}]


def test_cli_usage_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli() == 2
    assert "INPUT" in capsys.readouterr().err
    from narrascope.errors import StoreError

    with pytest.raises(StoreError, match="no database"):
        run_cli("--db", str(tmp_path / "missing.db"))
    with pytest.raises(SystemExit):
        run_cli("x.txt", "--jaccard", "1.5")


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "0", "-1"])
def test_cli_half_life_must_be_a_finite_positive_number(
    value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # NaN passed "<= 0" and zeroed every score; infinity made every score k - 1
    with pytest.raises(SystemExit) as exit_:
        run_cli("x.txt", f"--half-life-hours={value}")
    assert exit_.value.code == 2
    assert "--half-life-hours: a positive number" in capsys.readouterr().err


def test_cli_reports_unreadable_inputs_and_goes_on(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = tmp_path / "a.jsonl"
    good.write_text(json.dumps({"id": "a", "text": text(PORT)}) + "\nnot json\n", encoding="utf-8")
    assert run_cli(str(good), str(tmp_path / "missing.txt")) == 1
    captured = capsys.readouterr()
    assert "no near-duplicate clusters found" in captured.out
    assert captured.err.count("skipped:") == 2


# -- measured on data ------------------------------------------------------------------------


def _bench():
    spec = importlib.util.spec_from_file_location(
        "bench_campaigns", ROOT / "benchmarks" / "bench_campaigns.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_synthetic_planted_groups_are_found() -> None:
    bench = _bench()
    pairs = list(bench.synthetic(1500, seed=3))
    campaigns = find_campaigns(record for record, _ in pairs)
    truth = [label for _, label in pairs]
    _, _, f1 = bench.pairwise_f1(truth, bench.labels_of(campaigns, [r["id"] for r, _ in pairs]))
    assert f1 >= 0.95


@pytest.mark.shared
def test_semeval_articles_with_edited_copies_pairwise_f1(semeval25: Path) -> None:
    """The issue's bar (pairwise F1 >= 0.90); the benchmark prints the numbers."""
    bench = _bench()
    records, truth = bench.semeval_corpus(300, 90, seed=101)
    campaigns = find_campaigns(records)
    _, _, f1 = bench.pairwise_f1(truth, bench.labels_of(campaigns, [r["id"] for r in records]))
    assert f1 >= 0.95
