"""Pipeline stage: narratives and sub-narratives with scores and evidence sentences."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from narrascope.doc import Annotation, Document, Span
from narrascope.doc.document import has_words, wording
from narrascope.models.artefact import bundled_path
from narrascope.models.encoder import SentenceEncoder, document_vectors
from narrascope.models.narratives import NarrativeClassifier
from narrascope.taxonomy import OTHER, parent_narrative
from narrascope.text.segment import segment

# a text of fewer words says too little to push a narrative (SemEval's shortest has 45)
MIN_WORDS = 3


def narrative_probabilities(doc: Document) -> dict[str, float] | None:
    """Label -> probability of every label, as the narrative stage computed them for
    ``doc`` (kept in ``doc.cats``; ``doc.groups`` keep only the chosen labels); ``None``
    when the stage has not scored this document."""
    return dict(doc.cats) if doc.cats else None


class NarrativeStage:
    """Annotates ``doc.groups["narratives"]`` and ``doc.groups["subnarratives"]``.

    ``predict`` is pure (documents in, probabilities out; it only leaves the encoder's
    paragraph vectors on ``doc.tensor`` for the later stages) so it can be batched, tested
    and benchmarked alone; ``set_annotations`` turns probabilities into annotations and
    picks up to ``max_evidence`` supporting sentences per label. ``encoder`` defaults to
    ``SentenceEncoder.shared()``.
    """

    name = "narratives"

    def __init__(
        self,
        model: NarrativeClassifier | None = None,
        *,
        model_path: str | Path | None = None,
        encoder: SentenceEncoder | None = None,
        max_evidence: int = 3,
    ) -> None:
        if model is None:
            # a missing or broken artefact is a clear ModelError (E201) from load()
            model = NarrativeClassifier.load(model_path or bundled_path("narratives"))
        self.model = model
        self.encoder = encoder or SentenceEncoder.shared()
        self.max_evidence = max_evidence

    def warm_up(self) -> None:
        """Load everything the first document would otherwise wait for."""
        self.encoder.warm_up()

    def __call__(self, docs: list[Document]) -> list[Document]:
        if docs:
            scores = self.predict(docs)
            labels = self.model.labels_
            for doc, row in zip(docs, scores, strict=True):
                doc.cats.update(zip(labels, row.tolist(), strict=True))
            self.set_annotations(docs, scores)
        return docs

    def predict(self, docs: list[Document]) -> np.ndarray:
        """Calibrated label probabilities, one row per document (columns = model.labels_)."""
        for doc in docs:
            segment(doc)
        vectors = document_vectors(self.encoder, docs)
        return self.model.predict_proba(
            [d.text for d in docs], [d.language for d in docs], embeddings=vectors
        )

    def set_annotations(self, docs: list[Document], scores: np.ndarray) -> None:
        """Write the decided labels, with their probability and evidence, onto each doc."""
        model = self.model
        column = {lab: j for j, lab in enumerate(model.labels_)}
        nc = model.n_coarse_
        for doc, row, (narratives, subnarratives) in zip(
            docs, scores, model.decide(scores), strict=True
        ):
            if not has_words(doc.text) or _words(doc.text) < MIN_WORDS:
                # nothing to read (blank, or only "—", emoji, zero-width spaces), or too
                # little ("ok", "+1 agreed": a chat's or a thread's reply): no narrative
                # can have evidence there, so say so plainly rather than show the label
                # the model leans to for any text (it put "ok" under "Discrediting the West")
                doc.groups["narratives"] = [Annotation(OTHER, 1.0)]
                doc.groups["subnarratives"] = [Annotation(OTHER, 1.0, parent=OTHER)]
                continue
            sentences = _sentences(doc)
            wanted = [lab for lab in [*narratives, *subnarratives] if lab != OTHER]
            # fine labels are columns after the coarse ones; coarse "Other" has no evidence
            index = {
                lab: (column[lab] if lab in narratives else nc + model.fine_labels_.index(lab))
                for lab in wanted
            }
            evidence = self._evidence(sentences, doc.language, index)
            # Labels are calibrated one by one, so a chosen sub-narrative can score above
            # its narrative; report the narrative at least as high as its best chosen
            # child so the two levels never contradict each other (decisions unchanged).
            shown = {lab: float(row[column[lab]]) for lab in narratives}
            for lab in subnarratives:
                if lab != OTHER:
                    parent = parent_narrative(lab, narratives)
                    if parent in shown:
                        shown[parent] = max(shown[parent], float(row[index[lab]]))
            doc.groups["narratives"] = [
                Annotation(lab, shown[lab], *evidence.get(lab, ([], [])))
                for lab in sorted(narratives, key=lambda lab: -shown[lab])
            ]
            subs = []
            for lab in subnarratives:
                if lab == OTHER:
                    subs.append(Annotation(OTHER, float(row[column[OTHER]]), parent=OTHER))
                    continue
                parent = parent_narrative(lab, narratives)
                score = float(row[index[lab]])
                subs.append(Annotation(lab, score, *evidence.get(lab, ([], [])), parent=parent))
            doc.groups["subnarratives"] = sorted(subs, key=lambda a: -a.score)

    def _evidence(
        self, sentences: list[Span], language: str | None, index: dict[str, int]
    ) -> dict[str, tuple[list[Span], list[float]]]:
        if not index or not sentences or self.max_evidence <= 0:
            return {}
        labels = list(index)
        s = self.model.sentence_scores(
            [sp.text for sp in sentences], language, [index[lab] for lab in labels]
        )
        out: dict[str, tuple[list[Span], list[float]]] = {}
        for j, lab in enumerate(labels):
            if lab.endswith(": " + OTHER):
                # "Narrative: Other": the evidence is the parent narrative's
                continue
            best = _distinct(sentences, np.argsort(-s[:, j], kind="stable"), self.max_evidence)
            out[lab] = ([sentences[i] for i in best], [float(s[i, j]) for i in best])
        for lab in labels:
            if lab.endswith(": " + OTHER):
                parent = lab[: -len(": " + OTHER)]
                out[lab] = out.get(parent, ([], []))
        return out


def _words(text: str) -> int:
    return sum(1 for word in text.split() if has_words(word))


def _distinct(sentences: list[Span], ranked: np.ndarray, k: int) -> list[int]:
    """The first ``k`` of the ``ranked`` sentence indices, each worded differently: a
    slogan repeated three times is one piece of evidence, not three."""
    chosen: list[int] = []
    seen: set[str] = set()
    for i in ranked.tolist():
        said = wording(sentences[i].text)
        if said not in seen:
            seen.add(said)
            chosen.append(i)
            if len(chosen) == k:
                break
    return chosen


def _sentences(doc: Document) -> list[Span]:
    """The document's sentences that hold a word, or the whole text as one sentence when
    none were set (none for a text without a letter or digit: white space, "—", "***" or
    emoji are no evidence)."""
    if doc.sentences:
        return [s for s in doc.sentences if s.has_words]
    return [Span(0, len(doc.text), doc.text)] if has_words(doc.text) else []
