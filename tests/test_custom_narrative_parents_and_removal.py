"""Custom narratives after the evidence and new-user reviews: a custom sub-narrative never
scores above the parent it is shown under (the narrative stage's rule), its evidence is
the paragraph without the white space that indents it, and ``taxonomy remove`` takes
the narrative's stored results with it, so ``stats`` and ``search`` stop counting it.
Every text is our own; the stage is fed scores directly (no encoder is loaded)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from narrascope.cli import main
from narrascope.doc import Annotation, Document, Span
from narrascope.models.custom_narratives import CUSTOM_PREFIX
from narrascope.stages.custom_narratives import CustomNarrativeStage, LoadedNarrative
from narrascope.store import Filters, open_store
from narrascope.store.custom_narratives import CustomNarrative, CustomNarrativeStore
from narrascope.text.segment import segment

PARENT = "URW: Discrediting Ukraine"
STORKS = CUSTOM_PREFIX + "Storks spy for the enemy"
BIRDS = CUSTOM_PREFIX + "Birds as weapons"
TEXT = (
    "Notes from the border villages\n"
    "    The Pentagon trains storks to carry cameras over our airfields.   \n"
    "\tFarmers say the birds circle the barracks every morning.\n"
    "The weather stays dry this week."
)


def _narrative(label: str, parent: str | None, threshold: float = 0.5) -> LoadedNarrative:
    """A narrative as the stage reads it; only its threshold is used when fed scores."""
    return LoadedNarrative(label, SimpleNamespace(threshold_=threshold), parent)  # type: ignore[arg-type]


def _doc(parent_score: float) -> Document:
    doc = Document(TEXT, id="d1", language="en")
    segment(doc)
    doc.groups["narratives"] = [Annotation(PARENT, parent_score), Annotation("Other", 0.2)]
    doc.groups["subnarratives"] = []
    return doc


def _evidence_ok(doc: Document, spans: list[Span]) -> None:
    for span in spans:
        assert doc.text[span.start : span.end] == span.text
        assert span.text == span.text.strip() and span.text


def test_a_custom_child_never_scores_above_its_taxonomy_parent() -> None:
    doc = _doc(0.5787)
    storks = _narrative(STORKS, PARENT)
    paragraphs = np.array([0.1, 0.994, 0.7, 0.05])
    stage = CustomNarrativeStage(narratives=[storks])
    stage.set_annotations([doc], [[(0.994, paragraphs)]])
    (child,) = doc.subnarratives
    (parent,) = [a for a in doc.narratives if a.label == PARENT]
    assert (child.label, child.parent, child.score) == (STORKS, PARENT, 0.994)
    assert parent.score == pytest.approx(0.994)  # raised to its child, as narratives.py does
    assert [a.label for a in doc.narratives] == [PARENT, "Other"]
    # the evidence: the paragraphs without their indent or trailing blanks
    assert [s.text for s in child.evidence] == [
        "The Pentagon trains storks to carry cameras over our airfields.",
        "Farmers say the birds circle the barracks every morning.",
    ]
    _evidence_ok(doc, child.evidence)


def test_a_parent_above_its_child_keeps_its_score_and_a_chain_is_raised_all_the_way() -> None:
    doc = _doc(0.9)
    stage = CustomNarrativeStage(narratives=[_narrative(STORKS, PARENT)])
    stage.set_annotations([doc], [[(0.6, np.array([0.1, 0.6, 0.2, 0.0]))]])
    assert doc.narratives[0].score == 0.9

    # storks under birds under the taxonomy narrative: each level at least its child
    doc = _doc(0.3)
    chain = [_narrative(STORKS, "Birds as weapons"), _narrative(BIRDS, PARENT)]
    stage = CustomNarrativeStage(narratives=chain)
    scores = [(0.95, np.array([0.1, 0.95, 0.3, 0.0])), (0.55, np.array([0.1, 0.55, 0.6, 0.0]))]
    stage.set_annotations([doc], [scores])
    shown = {a.label: (a.score, a.parent) for a in [*doc.narratives, *doc.subnarratives]}
    assert shown[STORKS] == (0.95, BIRDS)
    assert shown[BIRDS] == (pytest.approx(0.95), PARENT)
    assert shown[PARENT][0] == pytest.approx(0.95)
    for a in doc.subnarratives:
        _evidence_ok(doc, a.evidence)


# ---------------------------------------------------------------------- taxonomy remove
def _stored_corpus(db: Path) -> None:
    """Three stored documents as ``analyze --db`` wrote them: one carries the storks
    narrative with a custom child under it, one carries it under a taxonomy narrative,
    one neither; and the narratives themselves (model bytes are not read by remove)."""
    text = "Storks with cameras circle the airfield. Farmers count them every morning."
    docs = []
    for doc_id in ("a", "b", "c"):
        doc = Document(text, id=doc_id, language="en")
        segment(doc)
        docs.append(doc)
    evidence = [Span.of(text, 0, 40)]
    a, b, c = docs
    a.groups["narratives"] = [Annotation(STORKS, 0.9, evidence, [0.9]), Annotation(PARENT, 0.4)]
    a.groups["subnarratives"] = [Annotation(BIRDS, 0.7, evidence, [0.7], parent=STORKS)]
    a.explanation = f"The text advances the narrative «{STORKS}» (90%)."
    b.groups["narratives"] = [Annotation(PARENT, 0.8)]
    b.groups["subnarratives"] = [Annotation(STORKS, 0.8, evidence, [0.8], parent=PARENT)]
    c.groups["narratives"] = [Annotation(PARENT, 0.6)]
    c.groups["subnarratives"] = []
    with open_store(db) as store:
        store.save(docs)
    with CustomNarrativeStore(db) as store:
        store.put(CustomNarrative("Storks spy for the enemy", ["x"] * 10, b"model"))
        store.put(
            CustomNarrative(
                "Birds as weapons", ["x"] * 10, b"model", parent="Storks spy for the enemy"
            )
        )


def test_taxonomy_remove_takes_the_stored_results_with_it(tmp_path: Path, capsys) -> None:
    db = tmp_path / "corpus.db"
    _stored_corpus(db)
    with open_store(db) as store:
        assert store.search_count(Filters(narrative=STORKS)) == 2
    assert main(["taxonomy", "remove", "Storks spy for the enemy", "--db", str(db)]) == 0
    assert "and its results on 2 stored document(s)" in capsys.readouterr().out
    with open_store(db) as store:
        assert store.search_count(Filters(narrative=STORKS)) == 0
        assert STORKS not in {row.narrative for row in store.stats(by="language")}
        # the child it had is a narrative of its own, in rows and record alike
        assert store.search_count(Filters(narrative=BIRDS)) == 1
        a = store.get_document("a")
        b = store.get_document("b")
        c = store.get_document("c")
    assert a is not None and b is not None and c is not None
    assert [(n.label, n.parent) for n in a.narratives] == [(BIRDS, None), (PARENT, None)]
    assert a.subnarratives == []
    assert a.explanation is not None and STORKS not in a.explanation
    assert BIRDS in a.explanation  # composed again from what is left
    assert [n.label for n in b.narratives] == [PARENT] and b.subnarratives == []
    assert [n.label for n in c.narratives] == [PARENT]
    conn = sqlite3.connect(db)
    try:
        rows = conn.execute("SELECT doc_id, level, label, parent FROM narratives ORDER BY 1, 3")
        assert rows.fetchall() == [
            ("a", "narrative", BIRDS, None),
            ("a", "narrative", PARENT, None),
            ("b", "narrative", PARENT, None),
            ("c", "narrative", PARENT, None),
        ]
        evidence = conn.execute("SELECT doc_id, level, label FROM evidence ORDER BY 1").fetchall()
        assert evidence == [("a", "narrative", BIRDS)]
        (raw,) = conn.execute("SELECT record FROM documents WHERE id = 'b'").fetchone()
        record = json.loads(raw)
    finally:
        conn.close()
    assert STORKS not in json.dumps(record, ensure_ascii=False)
    with CustomNarrativeStore(db, create=False) as store:
        assert [n.label for n in store.narratives()] == ["Birds as weapons"]
        assert store.get("Birds as weapons").parent is None  # type: ignore[union-attr]
