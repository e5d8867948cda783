"""Pipeline stage: the named entities a document talks about and the role it casts them in.

Two modes, one shape (batch in, batch out):

* ``mode="detect"`` (default): find mentions (``text.mentions``, with the ``detector``
  named: ``"crf"`` or ``"packaged"``), group the mentions of one entity
  (``text.aliases``), score every mention's role (``models.entities``) and aggregate per
  entity. An entity whose mentions are probably not framed gets no role.
* ``mode="given"`` (what ``analyze --mentions`` uses): the shared task's evaluation mode.
  ``doc.entities`` already holds one entity per given mention; each gets its most
  probable role, because the task scores every listed mention.

When the fine-tuned encoder model (``models.encoder_roles``, shipped as ``entity-context``)
is present, it reads the words around the mentions that matter: every given mention, and
in detect mode the ``context_mentions`` most framed mentions of each of the
``context_entities`` most framed entities of a document (reading costs ~0.1 s a window). Its
role probabilities are averaged with the TF-IDF model's (weight ``context_weight``, by
default the one chosen on held-out documents); other mentions keep the TF-IDF scores.
It reads only where the TF-IDF model is unsure (its most probable main role below
``context_below``): where that model is sure, the average did not change one main role on
a held-out fold, and skipping those reads (about half of them) cut the stage's time by
about a third (docs/benchmarks.md).

Models trained with narrative features read each document's narrative probabilities from
the narrative stage, which runs first (``stages.narratives.narrative_probabilities``);
when it did not run for a document, a ``narrative_model`` given to the stage computes
them, otherwise the model uses its training mean (slightly less accurate, never wrong).
The USE vectors of the mentions' paragraphs come from ``doc.tensor``, where the narrative
stage left them; only paragraphs it did not encode are encoded here.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from narrascope.doc import Annotation, Document, Entity, Span
from narrascope.doc.document import wording
from narrascope.errors import E_STAGE_CONFIG, NarrascopeError
from narrascope.models.artefact import bundled_path
from narrascope.models.encoder import SentenceEncoder, document_vectors
from narrascope.models.encoder_roles import FINE as CONTEXT_FINE
from narrascope.models.encoder_roles import EncoderRoleModel
from narrascope.models.entities import EntityRoleClassifier, RoleScores, mention_paragraph_vectors
from narrascope.taxonomy import MAIN_ROLES
from narrascope.text.aliases import canonical_name, group_mentions
from narrascope.text.mentions import FAST, PACKAGED, Mention, MentionDetector
from narrascope.text.segment import segment

if TYPE_CHECKING:
    from narrascope.models.narratives import NarrativeClassifier

# Which mention detectors run: the CRF (distilled from spaCy/natasha and the annotations,
# fast, every language) or the packaged spaCy (en) / natasha (ru) models themselves.
DETECTORS = {"crf": FAST, "packaged": PACKAGED}
MODES = ("detect", "given")
CONTEXT = "entity-context"  # the shipped fine-tuned encoder model's artefact
# The context model reads an entity only when the TF-IDF model's main role is less sure than
# this. On the held-out fold of 1,162 mentions, skipping the surer 44% left main-role accuracy
# unchanged in every language (0.777) and EMR at 0.377 (0.378 reading all); on 134 test
# documents no read entity above it changed its main role (docs/benchmarks.md).
CONTEXT_BELOW = 0.85


class EntityStage:
    """Fills ``doc.entities`` (see the module docstring for the two modes).

    ``min_framed``: one framed-probability threshold for every language (default: the
    model's own, chosen in CV per language, falling back to its pooled one);
    ``max_evidence``: sentences quoted per entity; ``encoder`` defaults to
    ``SentenceEncoder.shared()``. ``context``: read mentions with the fine-tuned encoder
    model (``context_model``, else the shipped one) when it is installed;
    ``context_weight`` overrides its blend weight; in detect mode it reads the
    ``context_mentions`` most framed mentions of each of the ``context_entities`` most
    framed entities of a document (the rest keep the TF-IDF scores); ``context_below``:
    only entities (given mentions) whose TF-IDF main-role probability is below it are read
    (None: all of them).
    """

    name = "entities"

    def __init__(
        self,
        model: EntityRoleClassifier | None = None,
        *,
        model_path: str | Path | None = None,
        encoder: SentenceEncoder | None = None,
        detector: str = "crf",
        mode: str = "detect",
        min_framed: float | None = None,
        max_evidence: int = 2,
        narrative_model: NarrativeClassifier | None = None,
        context: bool = True,
        context_model: EncoderRoleModel | None = None,
        context_weight: float | None = None,
        context_mentions: int = 1,
        context_entities: int = 3,
        context_below: float | None = CONTEXT_BELOW,
    ) -> None:
        if detector not in DETECTORS:
            msg = f"stage 'entities': detector must be one of {sorted(DETECTORS)}, not {detector!r}"
            raise NarrascopeError(E_STAGE_CONFIG, msg)
        if mode not in MODES:
            msg = f"stage 'entities': mode must be one of {list(MODES)}, not {mode!r}"
            raise NarrascopeError(E_STAGE_CONFIG, msg)
        if model is None:
            # a missing or broken artefact is a clear ModelError (E201) from load()
            model = EntityRoleClassifier.load(model_path or bundled_path("entities"))
        self.model = model
        self.encoder = encoder or SentenceEncoder.shared()
        self.detector = detector
        self.mode = mode
        self.min_framed = min_framed
        self.max_evidence = max_evidence
        # only consulted for documents the narrative stage did not score (see module doc)
        self.narrative_model = narrative_model
        self._detector = MentionDetector(backends=DETECTORS[detector])
        if context and context_model is None and bundled_path(CONTEXT).is_dir():
            context_model = EncoderRoleModel.load(bundled_path(CONTEXT))
        self.context_model = context_model if context else None
        self.context_weight = context_weight
        self.context_mentions = context_mentions
        self.context_entities = context_entities
        self.context_below = context_below

    def warm_up(self) -> None:
        """Load the mention detector (and the encoder the model reads) now rather than on
        the first document."""
        self._detector.warm_up(("bg",))  # any CRF language; packaged backends load lazily
        if self.model.uses_paragraphs:
            self.encoder.warm_up()
        if self.context_model is not None:
            self.context_model.runtime()

    def __call__(self, docs: list[Document]) -> list[Document]:
        if self.mode == "given":
            self._score_given([d for d in docs if d.entities])
        elif docs:
            self._detect_and_score(docs)
        return docs

    def predict(
        self,
        docs: Sequence[Document],
        mentions: Sequence[Sequence[tuple[int, int]]],
        *,
        given: bool,
    ) -> RoleScores:
        """Role scores of ``mentions`` (per document, character spans), flattened. Pure but
        for segmenting the documents and leaving paragraph vectors on ``doc.tensor``
        (``given``: see ``EntityRoleClassifier.predict_proba``)."""
        return self._predict(docs, mentions, self._narratives(docs), given=given)

    def _predict(
        self,
        docs: Sequence[Document],
        mentions: Sequence[Sequence[tuple[int, int]]],
        narratives: list[dict[str, float] | None] | None,
        *,
        given: bool,
    ) -> RoleScores:
        for doc in docs:
            segment(doc)  # evidence quotes sentences; paragraph vectors are per paragraph
        model = self.model
        vectors = None
        if model.uses_paragraphs:
            vectors = mention_paragraph_vectors(
                docs, mentions, model.paragraph_languages, encoder=self.encoder
            )
        return model.predict_proba(
            [d.text for d in docs],
            [d.language for d in docs],
            mentions,
            narratives if model.narrative_labels_ else None,
            paragraph_vectors=vectors,
            given=given,
        )

    # ------------------------------------------------------------------ given mentions

    def _score_given(self, docs: list[Document]) -> None:
        if not docs:
            return
        spans = [[(m.start, m.end) for e in d.entities for m in e.mentions] for d in docs]
        narratives = self._narratives(docs)  # once: both role models read them
        scores = self._predict(docs, spans, narratives, given=True)
        rows = np.arange(len(scores.main))
        if self.context_below is not None:
            rows = rows[scores.main.max(axis=1) < self.context_below]
        context = self._read_context(docs, spans, narratives, rows)
        row = 0
        for doc in docs:
            starts = _sentence_index(doc)
            for entity in doc.entities:
                rows = np.arange(row, row + len(entity.mentions))
                row += len(entity.mentions)
                self._set_role(
                    doc, entity, scores, rows, starts, framed=1.0, weights=None, context=context
                )

    # --------------------------------------------------------------------- detection

    def _detect_and_score(self, docs: list[Document]) -> None:
        found = self._detector.detect_many([d.text for d in docs], [d.language for d in docs])
        spans = [[(m.start, m.end) for m in mentions] for mentions in found]
        narratives = self._narratives(docs)  # once: both role models read them
        scores = self._predict(docs, spans, narratives, given=False)
        offset = 0
        grouped: list[list[tuple[Entity, np.ndarray, float]]] = []
        read: list[np.ndarray] = []  # rows the context model reads
        for doc, mentions in zip(docs, found, strict=True):
            entities = []
            candidates: list[tuple[float, int, np.ndarray]] = []
            for group in group_mentions(mentions, doc.language):
                rows = np.asarray([offset + i for i in group], dtype=int)
                entity = Entity(
                    name=canonical_name(mentions, group),
                    mentions=[doc.span(mentions[i].start, mentions[i].end) for i in group],
                    kind=_kind([mentions[i] for i in group]),
                )
                weights = None if scores.framed is None else scores.framed[rows]
                framed = 1.0 if weights is None else float(weights.max())
                if framed >= self.min_framed_for(doc.language):
                    most = rows if weights is None else rows[np.argsort(-weights, kind="stable")]
                    sure = float(_mean_roles(scores, rows, weights)[0].max())
                    candidates.append((-framed, -len(rows), most[: self.context_mentions], sure))
                entities.append((entity, rows, framed))
            candidates.sort(key=lambda c: (c[0], c[1], int(c[2][0])))
            below = np.inf if self.context_below is None else self.context_below
            read += [c[2] for c in candidates[: self.context_entities] if c[3] < below]
            offset += len(mentions)
            grouped.append(entities)
        rows = np.sort(np.concatenate(read)) if read else None
        context = self._read_context(docs, spans, narratives, rows)
        for doc, entities in zip(docs, grouped, strict=True):
            starts = _sentence_index(doc)  # once per document, not per entity
            for entity, rows, framed in entities:
                if framed >= self.min_framed_for(doc.language):
                    weights = None if scores.framed is None else scores.framed[rows]
                    self._set_role(
                        doc,
                        entity,
                        scores,
                        rows,
                        starts,
                        framed=framed,
                        weights=weights,
                        context=context,
                    )
                else:
                    entity.score = 1.0 - framed  # confidence that it is *not* framed
            doc.entities = sorted(
                (e for e, _, _ in entities), key=lambda e: (not e.framed, e.mentions[0].start)
            )

    def _read_context(
        self,
        docs: Sequence[Document],
        spans: Sequence[Sequence[tuple[int, int]]],
        narratives: list[dict[str, float] | None],
        rows: np.ndarray | None,
    ) -> dict[int, tuple[np.ndarray, np.ndarray]]:
        """The context model's (main, fine) probabilities of the flat mention ``rows``
        (sorted), fine columns in the TF-IDF model's order; empty without a context model."""
        model = self.context_model
        if model is None or rows is None or not len(rows):
            return {}
        starts = np.concatenate([[0], np.cumsum([len(s) for s in spans])])
        chosen = set(rows.tolist())
        wanted = [
            [sp for k, sp in enumerate(s) if starts[i] + k in chosen] for i, s in enumerate(spans)
        ]
        main, fine = model.predict_proba([d.text for d in docs], wanted, narratives)
        cols = [CONTEXT_FINE.index(f) for f in self.model.fine_labels_]
        return {int(r): (main[k], fine[k, cols]) for k, r in enumerate(rows)}

    def _narratives(self, docs: Sequence[Document]) -> list[dict[str, float] | None]:
        """Per document, the narrative probabilities the role models read (all None when
        neither reads them, so nothing is computed for nobody)."""
        if not self.model.narrative_labels_ and self.context_model is None:
            return [None] * len(docs)
        return self._document_narratives(docs)

    def _document_narratives(self, docs: Sequence[Document]) -> list[dict[str, float] | None]:
        """Per document, the narrative stage's probabilities (or ``narrative_model``'s)."""
        from narrascope.stages.narratives import narrative_probabilities

        out = [narrative_probabilities(d) for d in docs]
        missing = [docs[i] for i, p in enumerate(out) if p is None]
        if missing and self.narrative_model is not None:
            model = self.narrative_model
            probs = model.predict_proba(
                [d.text for d in missing],
                [d.language for d in missing],
                embeddings=document_vectors(self.encoder, missing),
            )
            rows = iter(probs)
            out = [
                p if p is not None else dict(zip(model.labels_, next(rows).tolist(), strict=True))
                for p in out
            ]
        return out

    def min_framed_for(self, language: str | None) -> float:
        """The framed-probability threshold for entities of a text in ``language``: the
        stage's ``min_framed`` if given, else the model's for that language, else its
        pooled one."""
        if self.min_framed is not None:
            return self.min_framed
        by_language = self.model.min_framed_by_language or {}
        return by_language.get(language or "", self.model.min_framed)

    # ----------------------------------------------------------------------- helpers

    def _set_role(
        self,
        doc: Document,
        entity: Entity,
        scores: RoleScores,
        rows: np.ndarray,
        starts: list[int],
        *,
        framed: float,
        weights: np.ndarray | None,
        context: dict[int, tuple[np.ndarray, np.ndarray]] | None = None,
    ) -> None:
        """Aggregate the mentions' role probabilities, each weighted by how framed it looks,
        then average in what the context model read about this entity (the mean over its
        mentions it read, weight ``context_weight``). ``starts``: the document's sentence
        starts (:func:`_sentence_index`), where evidence sentences are looked up.

        ``score`` = P(framed) x P(main role | framed): how sure we are that the text casts
        the entity in that role, not just how the role compares with the other two; each
        fine role's, the part of it that falls to that fine role (never more).
        """
        main, fine, weights = _mean_roles(scores, rows, weights)
        per_mention = scores.main[rows].copy()  # what each mention's evidence is worth
        read = [k for k, r in enumerate(rows) if context and int(r) in context]
        if read and context and self.context_model is not None:
            w = self.context_model.blend if self.context_weight is None else self.context_weight
            seen = [context[int(rows[k])] for k in read]
            main = (1 - w) * main + w * np.mean([m for m, _ in seen], axis=0)
            fine = (1 - w) * fine + w * np.mean([f for _, f in seen], axis=0)
            per_mention[read] = (1 - w) * per_mention[read] + w * np.array([m for m, _ in seen])
        one = RoleScores(main[None, :], fine[None, :], None, np.zeros(1, dtype=int))
        ((role, fine_roles),) = self.model.decide(one)
        j = MAIN_ROLES.index(role)
        entity.main_role = role
        entity.score = float(main[j] * framed)
        # evidence: the sentences of the mentions that carry this role most, a sentence
        # repeated word for word (a refrain, a signature) once
        strength = per_mention[:, j] * weights
        evidence: list[Span] = []
        evidence_scores: list[float] = []
        said: set[str] = set()
        for k in np.argsort(-strength, kind="stable"):
            sentence = _sentence_of(doc, starts, entity.mentions[int(k)])
            if wording(sentence.text) not in said:
                said.add(wording(sentence.text))
                evidence.append(sentence)
                evidence_scores.append(float(per_mention[k, j]))
            if len(evidence) >= self.max_evidence:
                break
        entity.evidence, entity.evidence_scores = evidence, evidence_scores
        # a fine role's score is P(framed, fine role) = score x P(fine role | main role):
        # the children of a role share its score, so "Guardian" never reads surer than
        # the "Protagonist" it refines (the fine head alone put it at 0.80 under 0.46)
        labels = self.model.fine_labels_
        siblings = max(float(fine[self.model.parent_ == j].sum()), 1e-9)
        entity.fine_roles = [
            Annotation(
                f,
                entity.score * float(fine[labels.index(f)]) / siblings,
                evidence[:1],
                evidence_scores[:1],
                parent=role,
            )
            for f in fine_roles
        ]


def _mean_roles(
    scores: RoleScores, rows: np.ndarray, weights: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """An entity's TF-IDF (main, fine) probabilities: its mentions' mean, each weighted by
    how framed it looks (``weights``; None: equally), and the normalised weights."""
    weights = np.ones(len(rows)) if weights is None else np.asarray(weights) + 1e-6
    weights = weights / weights.sum()
    main = (scores.main[rows] * weights[:, None]).sum(axis=0)
    fine = (scores.fine[rows] * weights[:, None]).sum(axis=0)
    return main, fine, weights


def _kind(mentions: list[Mention]) -> str | None:
    kinds = Counter(m.kind for m in mentions if m.kind and m.kind != "ENT")
    return kinds.most_common(1)[0][0] if kinds else None


def _sentence_index(doc: Document) -> list[int]:
    return [s.start for s in doc.sentences]


def _sentence_of(doc: Document, starts: list[int], mention: Span) -> Span:
    """The sentence holding a mention (the mention itself when there are no sentences)."""
    k = bisect_right(starts, mention.start) - 1
    if k < 0:
        return mention
    sentence = doc.sentences[k]
    if sentence.end < mention.end:
        return doc.span(sentence.start, mention.end)
    return sentence
