"""Custom narratives after review (``taxonomy add | remove``, the stage): documents that
carry a narrative are no negatives of its refit, a parent's place does not depend on the
order narratives were added in, a removed parent frees its children, labels are one
narrative whatever their Unicode form, case or ``Custom:`` prefix, and example files are
read as written. Every text is our own (the storks of tests/test_custom_narratives.py)."""

from __future__ import annotations

import csv
import json
import sqlite3
import sys
import types
import unicodedata
from pathlib import Path

import numpy as np
import pytest

from narrascope.doc import Annotation, Document
from narrascope.errors import NarrascopeError
from narrascope.models.custom_narratives import (
    CUSTOM_PREFIX,
    add_custom_narrative,
    find_label,
    normalise_label,
)
from narrascope.stages.custom_narratives import CustomNarrativeStage, load_narratives
from narrascope.store.custom_narratives import CustomNarrativeStore
from test_custom_narratives import LABEL, MATCHING, STORKS, UNRELATED, _write_txt, main

PARENT = "URW: Discrediting Ukraine"
# posts that carry the stork story, as a corpus would hold them after it spread
SPREAD = [
    "Channel post: the storks over the airfield carry cameras, a reader writes.",
    "Пишут, что аисты над аэродромом носят камеры и передают снимки врагу.",
    "Another video of a stork with a transmitter near the barracks, the blogger says.",
    "Villagers again claim the storks on the church roof watch our soldiers for the enemy.",
]


def _corpus(db: Path, carried_by: str | None) -> list[Document]:
    """Unrelated documents, and the spread posts stored with ``carried_by`` as analyze
    would have written it (None: stored without it)."""
    docs = [Document(t, id=f"u{i}", language="en") for i, t in enumerate(UNRELATED)]
    for i, text in enumerate(SPREAD):
        doc = Document(text, id=f"s{i}", language="en")
        doc.groups["narratives"] = [Annotation(carried_by, 0.9)] if carried_by else []
        doc.groups["subnarratives"] = []
        docs.append(doc)
    from narrascope.store import open_store

    with open_store(db) as store:
        store.save(docs)
    return docs


# ---------------------------------------------------------------------- negatives (1)
def test_documents_stored_with_the_narrative_are_no_negatives_of_its_refit(
    tmp_path: Path,
) -> None:
    db = tmp_path / "corpus.db"
    _corpus(db, CUSTOM_PREFIX + LABEL)
    result = add_custom_narrative(db, LABEL, STORKS)
    assert result.counts["corpus_documents"] == len(UNRELATED)
    assert result.counts["carriers_left_out"] == len(SPREAD)
    # another narrative's documents are negatives as before
    other = tmp_path / "other.db"
    _corpus(other, CUSTOM_PREFIX + "Something else")
    result = add_custom_narrative(other, LABEL, STORKS)
    assert result.counts["corpus_documents"] == len(UNRELATED) + len(SPREAD)


def test_the_members_of_a_promoted_cluster_are_no_negatives(tmp_path: Path) -> None:
    """Promoted with source ``cluster D7`` (as --from-cluster and the web page record
    it): the cluster's documents stay out, at the promotion and at every refit."""
    from narrascope.store.discover import DiscoverStore

    db = tmp_path / "corpus.db"
    _corpus(db, None)
    members = [f"s{i}" for i in range(len(SPREAD))]
    with DiscoverStore(db) as dstore:
        record = {"id": "D7", "size": 4, "documents": 4, "doc_ids": members}
        dstore.save_run({}, 4, [("D7", np.ones(512, np.float32), ["k"], ["storks"], record)])
    first = add_custom_narrative(db, LABEL, STORKS, source="cluster D7")
    assert first.counts["corpus_documents"] == len(UNRELATED)
    with CustomNarrativeStore(db, create=False) as store:
        assert store.get(LABEL).source == "cluster D7"
    assert main(["taxonomy", "add", LABEL, "--db", str(db)]) == 0  # refit: stored source
    with CustomNarrativeStore(db, create=False) as store:
        negatives = store.get(LABEL).cv["negatives"]
    assert negatives == first.cv["negatives"]
    # given by hand (the API)
    again = add_custom_narrative(db, "Other storks", STORKS, exclude_ids=["u0", "u1"])
    assert again.counts["corpus_documents"] == len(UNRELATED) + len(SPREAD) - 2


# ---------------------------------------------------------------------- the stage (5)
@pytest.fixture(scope="module")
def narrated() -> object:
    from narrascope.pipeline.factory import build_pipeline

    return build_pipeline(stages=["language", "segment", "narratives"])


@pytest.fixture(scope="module")
def storks_model(tmp_path_factory: pytest.TempPathFactory):
    db = tmp_path_factory.mktemp("review") / "corpus.db"
    add_custom_narrative(db, LABEL, STORKS)
    return load_narratives(db)[0].model


def _loaded(label: str, model, parent: str | None):
    from narrascope.stages.custom_narratives import LoadedNarrative

    return LoadedNarrative(CUSTOM_PREFIX + label, model, parent)


def test_a_custom_child_sits_under_its_custom_parent_whatever_their_order(
    storks_model, narrated
) -> None:
    child = _loaded("Spy storks", storks_model, "Birds as weapons")
    parent = _loaded("Birds as weapons", storks_model, None)
    for order in ([parent, child], [child, parent]):
        doc = narrated(Document(MATCHING))
        doc.groups["narratives"] = [Annotation(PARENT, 0.3)]
        doc.groups["subnarratives"] = []
        CustomNarrativeStage(narratives=order, encoder=narrated.encoder)([doc])
        assert [a.label for a in doc.narratives] == [CUSTOM_PREFIX + "Birds as weapons", PARENT]
        assert [(a.label, a.parent) for a in doc.subnarratives] == [
            (CUSTOM_PREFIX + "Spy storks", CUSTOM_PREFIX + "Birds as weapons")
        ]


def test_a_custom_chain_under_a_taxonomy_narrative_nests(storks_model, narrated) -> None:
    child = _loaded("Spy storks", storks_model, "Birds as weapons")
    middle = _loaded("Birds as weapons", storks_model, PARENT)
    loop = [_loaded("A", storks_model, "B"), _loaded("B", storks_model, "A")]
    doc = narrated(Document(MATCHING))
    doc.groups["narratives"] = [Annotation(PARENT, 0.3)]
    doc.groups["subnarratives"] = []
    CustomNarrativeStage(narratives=[child, middle, *loop], encoder=narrated.encoder)([doc])
    placed = {a.label: a.parent for a in doc.subnarratives}
    assert placed == {
        CUSTOM_PREFIX + "Spy storks": CUSTOM_PREFIX + "Birds as weapons",
        CUSTOM_PREFIX + "Birds as weapons": PARENT,
    }
    # a loop of parents (refused by add since) leaves both narratives of their own
    assert {CUSTOM_PREFIX + "A", CUSTOM_PREFIX + "B"} <= {a.label for a in doc.narratives}


# ---------------------------------------------------------------------- parents (6)
def test_removing_a_parent_frees_its_children(tmp_path: Path, capsys) -> None:
    db = tmp_path / "corpus.db"
    examples = str(_write_txt(tmp_path / "storks.txt", STORKS))
    add = ["taxonomy", "add", "--examples", examples, "--db", str(db)]
    assert main([*add[:2], "Birds as weapons", *add[2:]]) == 0
    assert main([*add[:2], "Spy storks", *add[2:], "--parent", "Birds as weapons"]) == 0
    capsys.readouterr()
    assert main(["taxonomy", "remove", "Birds as weapons", "--db", str(db)]) == 0
    assert "'Spy storks' had it as its parent" in capsys.readouterr().err
    # the child is refitted without its parent: no E100 about it
    assert main(["taxonomy", "add", "Spy storks", "--db", str(db)]) == 0
    with CustomNarrativeStore(db, create=False) as store:
        assert store.get("Spy storks").parent is None


def test_a_parent_gone_is_dropped_with_a_note_and_an_empty_parent_clears_it(
    tmp_path: Path, capsys
) -> None:
    db = tmp_path / "corpus.db"
    examples = str(_write_txt(tmp_path / "storks.txt", STORKS))
    add = ["taxonomy", "add", "Spy storks", "--examples", examples, "--db", str(db)]
    assert main([*add, "--parent", PARENT]) == 0
    assert main([*add, "--parent", ""]) == 0
    with CustomNarrativeStore(db, create=False) as store:
        assert store.get("Spy storks").parent is None
    # a parent that vanished without the store's remove (a database of an older version)
    assert main(["taxonomy", "add", "Birds", "--examples", examples, "--db", str(db)]) == 0
    assert main([*add, "--parent", "Birds"]) == 0
    conn = sqlite3.connect(db)
    conn.execute("DELETE FROM custom_narratives WHERE label = 'Birds'")
    conn.commit()
    conn.close()
    capsys.readouterr()
    assert main(["taxonomy", "add", "Spy storks", "--db", str(db)]) == 0
    assert "the parent 'Birds' of 'Spy storks' is no longer" in capsys.readouterr().err
    with CustomNarrativeStore(db, create=False) as store:
        assert store.get("Spy storks").parent is None


def test_a_parent_loop_is_refused(tmp_path: Path, capsys) -> None:
    db = tmp_path / "corpus.db"
    examples = str(_write_txt(tmp_path / "storks.txt", STORKS))
    assert main(["taxonomy", "add", "A", "--examples", examples, "--db", str(db)]) == 0
    assert main(["taxonomy", "add", "B", "--examples", examples, "--db", str(db)]) == 0
    assert main(["taxonomy", "add", "B", "--db", str(db), "--parent", "Custom: A"]) == 0
    capsys.readouterr()
    assert main(["taxonomy", "add", "A", "--db", str(db), "--parent", "B"]) == 2
    assert "its own ancestor" in capsys.readouterr().err
    assert main(["taxonomy", "add", "A", "--db", str(db), "--parent", "A"]) == 2


# ---------------------------------------------------------------------- labels (7)
def test_normalise_label() -> None:
    nfd = unicodedata.normalize("NFD", "Café spies")
    assert normalise_label(nfd) == unicodedata.normalize("NFC", "Café spies")
    assert normalise_label("  Custom:   Storks \n spy ") == "Storks spy"
    assert normalise_label("Custom:Storks spy") == "Storks spy"
    for empty in ("", "   ", "Custom: ", "Custom:", "Custom: Custom:"):
        with pytest.raises(NarrascopeError, match="empty"):
            normalise_label(empty)
    stored = ["Storks spy", unicodedata.normalize("NFD", "Old café")]
    assert normalise_label("Storks  spy", stored) == "Storks spy"  # the same: an update
    assert normalise_label("Old café", stored) == stored[1]  # a row kept in NFD
    with pytest.raises(NarrascopeError, match="'Storks spy' exists already"):
        normalise_label("storks SPY", stored)
    assert find_label("Custom: Storks spy", stored) == "Storks spy"
    assert find_label("storks spy", stored) is None


def test_labels_that_look_the_same_are_one_narrative(tmp_path: Path, capsys) -> None:
    db = tmp_path / "corpus.db"
    examples = str(_write_txt(tmp_path / "storks.txt", STORKS))
    nfc, nfd = (unicodedata.normalize(f, "Café spies") for f in ("NFC", "NFD"))
    assert main(["taxonomy", "add", nfc, "--examples", examples, "--db", str(db)]) == 0
    assert main(["taxonomy", "add", nfd, "--examples", examples, "--db", str(db)]) == 0
    assert "updated" in capsys.readouterr().out.splitlines()[-1]
    assert main(["taxonomy", "add", "café SPIES", "--examples", examples, "--db", str(db)]) == 2
    assert f"{nfc!r} exists already" in capsys.readouterr().err
    assert main(["taxonomy", "add", "Custom: ", "--examples", examples, "--db", str(db)]) == 2
    assert "empty" in capsys.readouterr().err
    with CustomNarrativeStore(db, create=False) as store:
        assert [n.label for n in store.narratives()] == [nfc]
    assert main(["taxonomy", "remove", "Custom: " + nfd, "--db", str(db)]) == 0
    with CustomNarrativeStore(db, create=False) as store:
        assert store.narratives() == []


# ---------------------------------------------------------------------- files (8)
def test_example_files_keep_line_separators_inside_their_texts(tmp_path: Path) -> None:
    from narrascope.cli.taxonomy import read_examples

    texts = list(STORKS)
    texts[3] = texts[3].replace(" to spy", "\u2028to spy")  # U+2028 in a JSON string
    texts[5] = texts[5] + "\x85Source: a channel"  # NEL, cp1252's "…" mis-decoded
    jsonl = tmp_path / "ex.jsonl"
    jsonl.write_text(
        "".join(json.dumps({"text": t}, ensure_ascii=False) + "\n" for t in texts),
        encoding="utf-8",
    )
    assert read_examples(jsonl) == texts
    table = tmp_path / "ex.csv"
    with table.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["id", "text"])
        writer.writerows([i, t] for i, t in enumerate(texts))
    assert read_examples(table) == texts
    txt = tmp_path / "ex.txt"
    txt.write_text("\r\n\r\n".join(texts) + "\r\n", encoding="utf-8", newline="")
    assert read_examples(txt) == texts


# ---------------------------------------------------------------------- clusters (9)
def _fake_discover(monkeypatch, texts: list[str]) -> None:
    fake = types.ModuleType("narrascope.corpus.discover")
    fake.cluster_examples = lambda db, cluster_id: texts  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "narrascope.corpus.discover", fake)


def test_a_cluster_of_copies_says_so_and_takes_examples_beside_it(
    tmp_path: Path, monkeypatch, capsys
) -> None:
    _fake_discover(monkeypatch, [STORKS[0]] * 14 + [STORKS[1]])  # one post copied
    db = tmp_path / "corpus.db"
    args = ["taxonomy", "add", LABEL, "--from-cluster", "D2", "--db", str(db)]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "cluster D2 holds 2 distinct text(s)" in err and "--examples" in err
    assert ".txt" not in err
    examples = _write_txt(tmp_path / "more.txt", STORKS[2:])
    assert main([*args, "--examples", str(examples)]) == 0
    with CustomNarrativeStore(db, create=False) as store:
        stored = store.get(LABEL)
    assert stored.source == "cluster D2" and len(stored.examples) == len(STORKS)
