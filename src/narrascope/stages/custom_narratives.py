"""Stage: the user's own narratives (``narrascope taxonomy add``), reported like the
built-in ones.

Why a stage over the corpus database: the narratives are the user's and live with their
corpus (``--db``); the stage only reads them. It runs after the narrative stage and reads
the paragraph vectors that stage left on ``doc.tensor``, so a custom narrative costs one
dot product per paragraph. A narrative that fires joins ``doc.groups["narratives"]`` as
``Custom: LABEL`` (a label no taxonomy holds) with its score and, as evidence, the
paragraphs that scored highest (without the white space that indents them); one added
with a parent narrative joins ``doc.groups["subnarratives"]`` under that parent when the
document has it, and the parent is then shown at least as high as its child, as the
narrative stage shows a narrative and its sub-narratives.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from narrascope.doc import Annotation, Document, Span
from narrascope.models.custom_narratives import (
    PARAGRAPHS,
    CustomNarrativeModel,
    custom_label,
)


@dataclass(frozen=True, slots=True)
class LoadedNarrative:
    """A custom narrative ready to score: its record label, parent and fitted model."""

    label: str
    model: CustomNarrativeModel
    parent: str | None = None


def load_narratives(db: str | Path) -> list[LoadedNarrative]:
    """Every custom narrative of the database ``db``, read-only (no table is created)."""
    from narrascope.store.custom_narratives import CustomNarrativeStore, holds_custom_narratives

    if not holds_custom_narratives(db):
        return []
    with CustomNarrativeStore(db, create=False) as store:
        return [
            LoadedNarrative(
                custom_label(n.label),
                CustomNarrativeModel.from_bytes(n.model, where=f"{db} ({n.label!r})"),
                n.parent,
            )
            for n in store.narratives()
        ]


def fired_labels(narratives: Sequence[LoadedNarrative], paragraphs: np.ndarray | None) -> list[str]:
    """The labels of the narratives that fire on a document whose paragraph vectors are
    ``paragraphs`` (its first :data:`PARAGRAPHS`, as the stage reads ``doc.tensor``):
    the stage's test, for stored documents that were analysed before a narrative was
    added (``narrascope discover`` leaves them out)."""
    rows = None if paragraphs is None else paragraphs[:PARAGRAPHS]
    return [n.label for n in narratives if n.model.score_document(rows)[0] >= n.model.threshold_]


class CustomNarrativeStage:
    """Adds each custom narrative that fires to ``doc.groups["narratives"]``.

    ``predict`` is pure (documents in; per document and narrative the score and the
    paragraphs' scores out; it only leaves the encoder's vectors on ``doc.tensor``);
    ``set_annotations`` adds the narratives at or above their threshold.
    """

    name = "custom_narratives"

    def __init__(
        self,
        db: str | Path | None = None,
        *,
        narratives: Sequence[LoadedNarrative] | None = None,
        encoder: Any = None,
        max_evidence: int = 3,
        follow: bool = False,
    ) -> None:
        if narratives is None:
            if db is None:
                raise ValueError("CustomNarrativeStage needs a database (db=PATH) or narratives")
            narratives = load_narratives(db)
        self.narratives = list(narratives)
        self.encoder = encoder
        self.max_evidence = max_evidence
        # follow=True (the web server, where a cluster may be promoted while it runs):
        # before each batch, reload when the database's narratives changed
        self.db = db if follow else None
        self._seen = self._fingerprint()

    def _fingerprint(self) -> str | None:
        if self.db is None:
            return None
        from narrascope.store.custom_narratives import fingerprint

        return fingerprint(self.db)

    def _follow(self) -> None:
        now = self._fingerprint()
        if now != self._seen:
            self.narratives = load_narratives(self.db) if now is not None else []
            self._seen = now

    def warm_up(self) -> None:
        if self.encoder is not None:
            self.encoder.warm_up()

    def __call__(self, docs: list[Document]) -> list[Document]:
        if self.db is not None:
            self._follow()
        narratives = self.narratives  # one list for the batch, whatever a reload does
        if docs and narratives:
            self.set_annotations(docs, self.predict(docs, narratives), narratives)
        return docs

    def predict(
        self, docs: list[Document], narratives: Sequence[LoadedNarrative] | None = None
    ) -> list[list[tuple[float, np.ndarray]]]:
        """Per document, per narrative: (score, each paragraph's score)."""
        narratives = self.narratives if narratives is None else narratives
        from narrascope.models.encoder import SentenceEncoder, encode_paragraphs
        from narrascope.text.segment import segment

        for doc in docs:
            segment(doc)
        if self.encoder is None:
            self.encoder = SentenceEncoder.shared()
        # free after the narrative stage: it encoded these rows already
        encode_paragraphs(self.encoder, docs, [PARAGRAPHS] * len(docs))
        out = []
        for doc in docs:
            rows = doc.tensor[:PARAGRAPHS] if doc.tensor is not None else None
            out.append([n.model.score_document(rows) for n in narratives])
        return out

    def set_annotations(
        self,
        docs: list[Document],
        scores: list[list[tuple[float, np.ndarray]]],
        narratives: Sequence[LoadedNarrative] | None = None,
    ) -> None:
        """Add each narrative that fired; one with a parent the document has (a built-in
        narrative, or a custom one that fired too, wherever it is placed) goes under it
        in ``subnarratives``. Where each goes is decided once every narrative that fired
        is known, so the order the narratives were added in does not matter."""
        loaded = self.narratives if narratives is None else narratives
        for doc, row in zip(docs, scores, strict=True):
            fired: dict[str, tuple[Annotation, str | None]] = {}
            for narrative, (score, each) in zip(loaded, row, strict=True):
                if score < narrative.model.threshold_:
                    continue
                best = np.argsort(-each, kind="stable")[: self.max_evidence]
                best = [int(i) for i in best if each[i] >= narrative.model.threshold_] or [
                    int(i) for i in best[:1]
                ]
                annotation = Annotation(
                    narrative.label,
                    float(score),
                    [_trimmed(doc.text, doc.paragraphs[i]) for i in best],
                    [float(each[i]) for i in best],
                )
                fired[narrative.label] = (annotation, narrative.parent)
            if not fired:
                continue
            narratives = list(doc.groups.get("narratives", []))
            subnarratives = list(doc.groups.get("subnarratives", []))
            placed = _placements(fired, {a.label for a in narratives})
            for label, (annotation, _parent) in fired.items():
                annotation.parent = placed[label]
                (narratives if placed[label] is None else subnarratives).append(annotation)
            _raise_parents(placed, narratives + subnarratives)
            doc.groups["narratives"] = sorted(narratives, key=lambda a: -a.score)
            if any(p is not None for p in placed.values()):
                doc.groups["subnarratives"] = sorted(subnarratives, key=lambda a: -a.score)


def _trimmed(text: str, span: Span) -> Span:
    """``span`` without the white space at its ends (an indented paragraph's evidence
    starts at its first word), its offsets still into ``text``."""
    lead = len(span.text) - len(span.text.lstrip())
    end = span.start + len(span.text.rstrip())
    return Span.of(text, span.start + lead, max(end, span.start + lead))


def _raise_parents(placed: dict[str, str | None], shown: list[Annotation]) -> None:
    """Show each parent at least as high as its best custom child, up the chain (a custom
    child of a custom child of a taxonomy narrative): the rule the narrative stage keeps
    for a narrative and its sub-narratives, so the two levels never contradict each
    other. Decisions and the children's scores are unchanged."""
    by_label = {a.label: a for a in shown}
    for label, parent in placed.items():
        score, seen = by_label[label].score, {label}
        while parent is not None and parent in by_label and parent not in seen:
            above = by_label[parent]
            above.score = max(above.score, score)
            score, seen = above.score, seen | {parent}
            parent = placed.get(parent)


def _placements(
    fired: dict[str, tuple[Annotation, str | None]], builtin: set[str]
) -> dict[str, str | None]:
    """Each fired narrative's parent on this document (None: a narrative of its own).

    A stored parent names a custom narrative by its bare label (preferred, as ``add``
    resolves it) or a taxonomy narrative; it counts when the document has it: a built-in
    narrative, or a custom one that fired (placed anywhere, so a custom chain under a
    taxonomy narrative nests). The members of a loop of parents (written before ``add``
    refused them) are narratives of their own rather than under each other."""

    def parent_of(label: str) -> str | None:
        parent = fired[label][1]
        if parent is None:
            return None
        if custom_label(parent) in fired:
            return custom_label(parent)
        return parent if parent in builtin or parent in fired else None

    out: dict[str, str | None] = {}
    for label in fired:
        parent, seen = parent_of(label), {label}
        above = parent
        while above is not None and above in fired and above not in seen:
            seen.add(above)
            above = parent_of(above)
        out[label] = None if above == label else parent
    return out
