"""``narrascope discover``: clusters of unexplained text, their names, stable ids (issue 26).

Fast tests run on the texts of tests/discover_texts.py (written for this project) through
the real USE encoder; the bar test on SemEval articles is ``shared`` + ``slow``.
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import io
import json
from pathlib import Path

import numpy as np
import pytest

from discover_texts import GROWN, INJECTED, TOPICS
from narrascope.cli import discover as cli
from narrascope.corpus.discover import (
    c_tf_idf,
    cluster_examples,
    discover,
    discover_run,
    explained,
    load_clusters,
    match_clusters,
)
from narrascope.doc import Annotation, Document
from narrascope.errors import NarrascopeError, StoreError
from narrascope.store import open_store
from narrascope.store.discover import DiscoverStore, has_discover_tables

ROOT = Path(__file__).resolve().parents[1]
SMALL = {"min_cluster_size": 4, "min_documents": 3}


def _docs(
    items: list[tuple[str, str]], prefix: str, *, day: str = "2025-03-0", label: str | None = None
) -> list[Document]:
    out = []
    for i, (lang, text) in enumerate(items):
        doc = Document(
            text=text,
            id=f"{prefix}-{i:02d}",
            language=lang,
            meta={"source": f"site{i % 3}", "date": f"{day}{1 + i % 9}"},
        )
        if label is not None:
            doc.groups["narratives"] = [Annotation(label, 0.3 if label != "Other" else 0.8)]
        out.append(doc)
    return out


def _corpus(path: Path, *, with_narratives: bool = True) -> Path:
    docs = _docs(INJECTED[:14], "water", label="Other" if with_narratives else None)
    for name, items in TOPICS.items():
        docs += _docs(items, name, label="URW: Discrediting Ukraine" if with_narratives else None)
    with open_store(path) as store:
        store.save(docs)
    return path


def _by_topic(clusters: list) -> dict[str, set[str]]:
    """Cluster id -> the topics (id prefixes) of its documents."""
    return {c.id: {d.split("-")[0] for d in c.doc_ids} for c in clusters}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = _corpus(tmp_path_factory.mktemp("discover") / "corpus.db")
    discover(path, **SMALL)  # warms the encoder and the vector cache for the module
    return path


def test_explained_needs_a_confident_narrative_other_than_other() -> None:
    assert explained([Annotation("URW: Praise of Russia", 0.9)], 0.7)
    assert not explained([Annotation("URW: Praise of Russia", 0.6)], 0.7)
    assert not explained([Annotation("Other", 0.99)], 0.7)
    assert not explained([], 0.7)
    assert explained([Annotation("Custom: Water plant hack hoax", 0.4)], 0.7)  # it fired


def test_each_topic_forms_its_own_cluster(corpus: Path) -> None:
    clusters = discover(corpus, **SMALL)
    topics = _by_topic(clusters)
    pure = {next(iter(t)) for t in topics.values() if len(t) == 1}
    assert {"water", "bakery", "football", "rail"} <= pure
    for c in clusters:
        assert c.size >= SMALL["min_cluster_size"] and c.documents >= 3
        assert 0.0 < c.confidence <= 1.0
        assert c.first_seen is not None and c.first_seen <= c.last_seen
        assert sum(g["documents"] for g in c.growth) == c.documents


def test_terms_name_the_story_and_exemplars_point_into_the_text(corpus: Path) -> None:
    clusters = {next(iter(t)): c for c in discover(corpus, **SMALL) for t in [_by_topic([c])[c.id]]}
    assert {"bread", "festival"} & set(clusters["bakery"].terms[:5])
    assert {"strike", "rail", "train", "trains"} & set(clusters["rail"].terms[:5])
    assert {"striker", "transfer", "club", "forward"} & set(clusters["football"].terms[:5])
    assert not {"the", "and", "said", "of"} & set(clusters["water"].terms)
    with open_store(corpus) as store:
        for c in clusters.values():
            assert len(c.exemplars) == 3
            assert len({e.doc_id for e in c.exemplars}) == 3  # distinct documents first
            for e in c.exemplars:
                assert store.get_document(e.doc_id).text[e.start : e.end] == e.text
                assert e.doc_id in c.doc_ids


def test_rerun_reads_vectors_from_the_cache_and_keeps_ids(corpus: Path) -> None:
    first = load_clusters(corpus)
    report = discover_run(corpus, **SMALL)
    assert report.encoded == 0
    assert {c.id: sorted(c.doc_ids) for c in report.clusters} == {
        c.id: sorted(c.doc_ids) for c in first
    }
    assert all(c.status == "persisting" and c.matched_by == "members" for c in report.clusters)


def test_ids_persist_when_the_corpus_grows(tmp_path: Path) -> None:
    path = _corpus(tmp_path / "grown.db")
    before = {next(iter(t)): cid for cid, t in _by_topic(discover(path, **SMALL)).items()}
    with open_store(path) as store:
        store.save(_docs(GROWN, "water-late", day="2025-03-2", label="Other"))
        store.save(_docs(TOPICS["rail"][:4], "rail-late", day="2025-03-2", label="Other"))
    report = discover_run(path, **SMALL)
    assert report.encoded == len(GROWN) + 4  # only the new paragraphs
    after = {next(iter(t)): cid for cid, t in _by_topic(report.clusters).items()}
    assert after["water"] == before["water"] and after["rail"] == before["rail"]
    assert after == before
    water = next(c for c in report.clusters if c.id == before["water"])
    assert any(d.startswith("water-late") for d in water.doc_ids)
    assert water.last_seen.startswith("2025-03-2")
    assert [c.id for c in load_clusters(path)] == [c.id for c in report.clusters]


def test_a_new_story_gets_a_new_id_and_old_ids_are_never_reused(tmp_path: Path) -> None:
    path = tmp_path / "c.db"
    with open_store(path) as store:
        store.save(_docs(TOPICS["bakery"], "bakery") + _docs(TOPICS["rail"], "rail"))
    first = {c.id for c in discover(path, **SMALL)}
    with open_store(path) as store:
        store.save(_docs(TOPICS["football"], "football"))
    second = discover(path, **SMALL)
    new = [c for c in second if c.status == "new"]
    assert len(new) == 1 and new[0].id not in first
    assert {c.id for c in second if c.status == "persisting"} == first


def test_matching_prefers_member_overlap_then_centroid() -> None:
    a, b = np.eye(3, dtype=np.float32)[0], np.eye(3, dtype=np.float32)[1]
    old = [(a, frozenset({"x", "y", "z"})), (b, frozenset({"p", "q"}))]
    got = match_clusters([(b, ["x", "y", "w"]), (b * 0.99, ["n"])], old)
    assert got == {0: (0, "members"), 1: (1, "centroid")}
    assert match_clusters([(a * 0 + b, ["n"])], old[:1]) == {}


def test_merged_clusters_keep_the_larger_ones_id_and_a_grown_one_its_own() -> None:
    c = np.eye(3, dtype=np.float32)
    old = [(c[0], frozenset("abc")), (c[1], frozenset("defgh"))]
    merged = [(c[2], list("abcdefghijklmnop"))]  # Jaccard with either old one < 0.35
    assert match_clusters(merged, old) == {0: (1, "members")}
    grown = [(c[2], [*"abc", *"123456789"]), (c[2], list("defgh"))]
    assert match_clusters(grown, old) == {0: (0, "members"), 1: (1, "members")}


def test_c_tf_idf_prefers_words_shared_by_the_cluster_documents() -> None:
    classes = [
        [("d1", "en", "Flood water rose in the valley"), ("d2", "en", "The flood hit the valley")],
        [("d3", "en", "The election results came late"), ("d4", "en", "Election night in town")],
    ]
    terms = c_tf_idf(classes)
    assert [w for w, _ in terms[0][:2]] == ["flood", "valley"]
    assert terms[1][0][0] == "election"
    assert "the" not in {w for t in terms for w, _ in t}


def test_documents_without_narratives_are_all_candidates(tmp_path: Path) -> None:
    path = _corpus(tmp_path / "plain.db", with_narratives=False)
    report = discover_run(path, **SMALL)
    assert report.unlabelled == report.documents == report.candidates
    assert {"water", "bakery", "football", "rail"} <= {
        next(iter(t)) for t in _by_topic(report.clusters).values() if len(t) == 1
    }
    assert all(c.narratives == [] for c in report.clusters)


def test_written_dates_are_read_as_the_database_reads_them(tmp_path: Path) -> None:
    # "05.03.2025" is a day (the database's day column, which --since filters on, says so);
    # "March 2025" pins none and is undated, as in the database's stats
    docs = []
    for name, items in TOPICS.items():
        docs += _docs(items, name, label="Other")
    for i, doc in enumerate(docs):
        doc.meta["date"] = "March 2025" if i % 5 == 0 else f"0{1 + i % 9}.03.2025"
    dates = {d.id: d.meta["date"] for d in docs}
    path = tmp_path / "c.db"
    with open_store(path) as store:
        store.save(docs)
    clusters = discover(path, **SMALL)
    assert clusters
    for c in clusters:
        days = sorted(f"2025-03-{dates[d][:2]}" for d in c.doc_ids if dates[d] != "March 2025")
        undated = len(c.doc_ids) - len(days)
        assert (c.first_seen, c.last_seen) == (days[0], days[-1])
        assert sum(g["documents"] for g in c.growth if g["bucket"] == "unknown") == undated
    since = discover_run(path, since="2025-03-01", **SMALL)
    assert since.candidates == sum(d != "March 2025" for d in dates.values())


def test_confident_documents_are_left_out(tmp_path: Path) -> None:
    path = tmp_path / "c.db"
    docs = _docs(TOPICS["rail"], "rail", label="URW: Praise of Russia")
    for doc in docs:
        doc.groups["narratives"] = [Annotation("URW: Praise of Russia", 0.95)]
    with open_store(path) as store:
        store.save(docs + _docs(TOPICS["bakery"], "bakery", label="Other"))
    report = discover_run(path, **SMALL)
    assert report.candidates == len(TOPICS["bakery"])
    assert all(not d.startswith("rail") for c in report.clusters for d in c.doc_ids)


def test_empty_and_missing_databases_say_what_to_do(tmp_path: Path) -> None:
    empty = tmp_path / "empty.db"
    open_store(empty).close()
    with pytest.raises(NarrascopeError, match=r"holds no documents.*analyze"):
        discover(empty)
    assert not has_discover_tables(empty)  # a failed run creates nothing
    with pytest.raises(StoreError, match="no database"):
        discover(tmp_path / "missing.db")
    assert load_clusters(empty) == []


def test_cluster_examples_are_member_texts(corpus: Path) -> None:
    cluster = next(c for c in load_clusters(corpus) if c.doc_ids[0].startswith("bakery"))
    examples = cluster_examples(corpus, cluster.id)
    assert len(examples) == cluster.size
    assert all(text in dict(TOPICS["bakery"]).values() or text for text in examples)
    assert set(examples) <= {text for _, text in TOPICS["bakery"]}
    with pytest.raises(KeyError):
        cluster_examples(corpus, "D999")


def test_round_trip_of_a_cluster_record(corpus: Path) -> None:
    from narrascope.corpus.discover import DiscoveredCluster

    for c in load_clusters(corpus):
        assert DiscoveredCluster.from_dict(json.loads(json.dumps(c.to_dict()))) == c


def test_vectors_of_deleted_documents_are_dropped(tmp_path: Path) -> None:
    path = _corpus(tmp_path / "c.db")
    discover(path, **SMALL)
    with DiscoverStore(path) as d:
        assert any(k[0] == "rail-00" for k in d.cached_keys())
    with open_store(path) as store:
        store.delete("rail-00")
    discover(path, **SMALL)
    with DiscoverStore(path) as d:
        assert not any(k[0] == "rail-00" for k in d.cached_keys())


# -- command line ----------------------------------------------------------------------------


def _run_cli(*argv: str) -> int:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers()
    cli.add_parser(sub, "discover")
    args = parser.parse_args(["discover", *argv])
    return args.run(args)


def test_cli_summary_and_outputs(
    corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run_cli("--db", str(corpus), "--min-cluster-size", "4") == 0
    out = capsys.readouterr().out
    assert "not explained by a narrative" in out and "terms:" in out
    for fmt in ("jsonl", "csv", "html"):
        target = tmp_path / f"out.{fmt}"
        assert _run_cli("--db", str(corpus), "--min-cluster-size", "4", "-o", str(target)) == 0
        text = target.read_text(encoding="utf-8")
        if fmt == "jsonl":
            rows = [json.loads(line) for line in text.splitlines()]
            assert rows and {"id", "terms", "exemplars", "growth"} <= set(rows[0])
        elif fmt == "csv":
            rows = list(csv.DictReader(io.StringIO(text)))
            assert rows and rows[0]["exemplar_1"]
        else:
            assert text.startswith("<!doctype html>") and "Emerging narratives" in text
    assert _run_cli("--db", str(corpus), "--min-cluster-size", "4", "--json") == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert all(json.loads(line)["id"].startswith("D") for line in lines)


def test_cli_rejects_bad_values(capsys: pytest.CaptureFixture[str]) -> None:
    for bad in (["--threshold", "2"], ["--since", "yesterday"], ["--min-cluster-size", "1"]):
        with pytest.raises(SystemExit):
            _run_cli("--db", "x.db", *bad)
    assert "error" in capsys.readouterr().err


def test_cli_says_when_nothing_is_unexplained(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "c.db"
    docs = _docs(TOPICS["rail"], "rail")
    for doc in docs:
        doc.groups["narratives"] = [Annotation("URW: Praise of Russia", 0.95)]
    with open_store(path) as store:
        store.save(docs)
    assert _run_cli("--db", str(path)) == 0
    assert "no unexplained text" in capsys.readouterr().out


# -- measured on data ------------------------------------------------------------------------


def _bench():
    spec = importlib.util.spec_from_file_location(
        "bench_discover", ROOT / "benchmarks" / "bench_discover.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.shared
@pytest.mark.slow
@pytest.mark.parametrize("split", ["train", "test"])
def test_injected_story_is_found_among_semeval_articles(semeval25: Path, split: str) -> None:
    """The issue's bar: one cluster holds >= 70% of the injected texts at >= 80% purity
    (300 SemEval articles, 60 per language, plus the 36 injected texts)."""
    result = _bench().bar(split, 60, "paragraph")
    assert result["coverage"] >= 0.70
    assert result["purity"] >= 0.80


@pytest.mark.shared
@pytest.mark.slow
def test_the_story_keeps_its_id_when_the_semeval_corpus_grows(semeval25: Path) -> None:
    """Two thirds of the bar's corpus, then all of it: the story's cluster keeps its id
    (in the first run it may be two clusters that merge: the larger one's id wins)."""
    result = _bench().stability("test", 60, seed=5)
    assert result["story_id_first"] == result["story_id_second"] is not None
    assert result["first_ids_kept"] >= 0.6
