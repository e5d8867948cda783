"""Stage: the user's own narratives (``narrascope taxonomy add``), reported like the
built-in ones.

Why a stage over the corpus database: the narratives are the user's and live with their
corpus (``--db``); the stage only reads them. It runs after the narrative stage and reads
the paragraph vectors that stage left on ``doc.tensor``, so a custom narrative costs one
dot product per paragraph. A narrative that fires joins ``doc.groups["narratives"]`` as
``Custom: LABEL`` (a label no taxonomy holds) with its score and, as evidence, the
paragraphs that scored highest; one added with a parent narrative joins
``doc.groups["subnarratives"]`` under that parent when the document has it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from narrascope.doc import Annotation, Document
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
        loaded = self.narratives if narratives is None else narratives
        for doc, row in zip(docs, scores, strict=True):
            narratives = list(doc.groups.get("narratives", []))
            subnarratives = list(doc.groups.get("subnarratives", []))
            present = {a.label for a in narratives}
            added_sub = False
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
                    [doc.paragraphs[i] for i in best],
                    [float(each[i]) for i in best],
                )
                parent = narrative.parent
                if parent is not None and custom_label(parent) in present:
                    parent = custom_label(parent)
                if parent is not None and parent in present:
                    annotation.parent = parent
                    subnarratives.append(annotation)
                    added_sub = True
                else:
                    narratives.append(annotation)
                    present.add(annotation.label)
            if len(narratives) > len(doc.groups.get("narratives", [])):
                doc.groups["narratives"] = sorted(narratives, key=lambda a: -a.score)
            if added_sub:
                doc.groups["subnarratives"] = sorted(subnarratives, key=lambda a: -a.score)
