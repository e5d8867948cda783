"""Pipeline stage: persuasion techniques (SemEval-2023 Task 3) per paragraph, with spans.

Every non-blank line of a document is a paragraph (``doc.paragraphs``), numbered as the
shared task numbers them; each gets the techniques whose probability reaches its
language's threshold, and each technique the span(s) that carry it (``models.techniques``
explains both choices). The document's persuasion profile counts the paragraphs using
each technique family.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from narrascope.doc import Document, Technique
from narrascope.models.artefact import bundled_path
from narrascope.models.encoder import WIDTH, SentenceEncoder, encode_paragraphs
from narrascope.models.techniques import TechniqueClassifier
from narrascope.taxonomy import TECHNIQUES, persuasion_profile, technique_family
from narrascope.text.function_words import content_bounds
from narrascope.text.segment import segment


@dataclass(frozen=True, slots=True)
class ParagraphTechniques:
    """One paragraph of a document: its official line number, document offsets, the
    chosen techniques with probabilities, and spans ``(start, end, technique, score)`` in
    document offsets."""

    line: int
    start: int
    end: int
    labels: tuple[tuple[str, float], ...]
    spans: tuple[tuple[int, int, str, float], ...]


class TechniqueStage:
    """Fills ``doc.techniques`` and ``doc.persuasion_profile``.

    ``predict`` is pure (documents in, per-paragraph decisions out; it only leaves the
    encoder's paragraph vectors on ``doc.tensor``) so it can be batched, evaluated and
    benchmarked alone; ``set_annotations`` writes them onto the documents. ``encoder``
    defaults to ``SentenceEncoder.shared()``; a span longer than ``max_span_chars`` is cut
    at a word boundary.
    """

    name = "techniques"

    def __init__(
        self,
        model: TechniqueClassifier | None = None,
        *,
        model_path: str | Path | None = None,
        encoder: SentenceEncoder | None = None,
        max_span_chars: int = 400,
    ) -> None:
        if model is None:
            # a missing or broken artefact is a clear ModelError (E201) from load()
            model = TechniqueClassifier.load(model_path or bundled_path("techniques"))
        self.model = model
        self.encoder = encoder or SentenceEncoder.shared()
        self.max_span_chars = max_span_chars

    def warm_up(self) -> None:
        """Load the sentence encoder now rather than on the first document."""
        self.encoder.warm_up()

    def __call__(self, docs: list[Document]) -> list[Document]:
        if docs:
            self.set_annotations(docs, self.predict(docs))
        return docs

    def predict(self, docs: list[Document]) -> list[list[ParagraphTechniques]]:
        """One :class:`ParagraphTechniques` per paragraph of each document, from one
        probability pass over the paragraphs of the whole batch."""
        for doc in docs:
            segment(doc)
        # a language with a student reads no vector: its documents are not encoded
        students = self.model.students_
        encode_paragraphs(self.encoder, [d for d in docs if d.language not in students])
        texts, langs, vectors = [], [], []
        for doc in docs:
            texts += [p.text for p in doc.paragraphs]
            langs += [doc.language] * len(doc.paragraphs)
            if doc.language in students or doc.tensor is None:
                vectors.append(np.zeros((len(doc.paragraphs), WIDTH), np.float32))
            else:
                vectors.append(doc.tensor[: len(doc.paragraphs)])
        if not texts:
            return [[] for _ in docs]
        probs = self.model.predict_proba(texts, langs, embeddings=np.vstack(vectors))
        decided = self.model.decide(probs, langs)
        out: list[list[ParagraphTechniques]] = []
        row = 0
        for doc in docs:
            found = []
            for para in doc.paragraphs:
                p, chosen = probs[row], decided[row]
                row += 1
                labels = tuple((t, float(p[TECHNIQUES.index(t)])) for t in chosen)
                spans = tuple(
                    (para.start + s, para.start + e, t, score)
                    for s, e, t, score in self.model.spans(para.text, doc.language, labels)
                )
                found.append(ParagraphTechniques(para.line, para.start, para.end, labels, spans))
            out.append(found)
        return out

    def set_annotations(
        self, docs: list[Document], results: list[list[ParagraphTechniques]]
    ) -> None:
        for doc, paragraphs in zip(docs, results, strict=True):
            found: list[Technique] = []
            for para in paragraphs:
                for start, end, label, score in para.spans:
                    span = _trimmed(doc.text, start, end, self.max_span_chars, doc.language)
                    if span is not None:
                        found.append(
                            Technique(
                                label, doc.span(*span), score, para.line, technique_family(label)
                            )
                        )
            found.sort(key=lambda t: (t.span.start, t.span.end, t.label))
            doc.techniques = found
            doc.persuasion_profile = persuasion_profile(
                [(p.line, label) for p in paragraphs for label, _ in p.labels]
            )


def _trimmed(
    text: str, start: int, end: int, max_chars: int, language: str | None = None
) -> tuple[int, int] | None:
    """The span without surrounding whitespace, cut at a word boundary when it is longer
    than ``max_chars`` (a line without sentence punctuation is one "sentence"), then
    ending on a content word again (``text.function_words``); None when nothing but
    whitespace is left."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if start >= end:
        return None
    if end - start > max_chars:
        cut = text.rfind(" ", start, start + max_chars)
        end = cut if cut > start else start + max_chars
        return content_bounds(text, start, end, language) or (start, end)
    return start, end
