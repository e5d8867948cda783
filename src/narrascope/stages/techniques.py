"""Pipeline stage: persuasion techniques (SemEval-2023 Task 3) per paragraph, with spans.

Every non-blank line of a document is a paragraph, numbered as the shared task numbers
them; each gets the techniques whose probability reaches its language's threshold, and
each technique the span(s) that carry it (``models.techniques`` explains both choices).
The document's persuasion profile counts the paragraphs using each technique family.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from narrascope.doc import Document, Technique
from narrascope.models.encoder import warm_up_encoder
from narrascope.models.techniques import (
    ParagraphTechniques,
    TechniqueClassifier,
    persuasion_profile,
    technique_family,
)

DEFAULT_MODEL = ("resources", "models", "techniques")


def default_model_path() -> Path:
    """Where the bundled technique artefact lives inside the installed package."""
    return Path(str(resources.files("narrascope").joinpath(*DEFAULT_MODEL)))


class TechniqueStage:
    """Fills ``doc.techniques`` and ``doc.persuasion_profile``.

    ``predict`` is pure (documents in, per-paragraph decisions out) so it can be batched,
    evaluated and benchmarked alone; ``set_annotations`` writes them onto the documents.
    """

    name = "techniques"

    def __init__(
        self,
        model: TechniqueClassifier | None = None,
        *,
        model_path: str | Path | None = None,
        max_span_chars: int = 400,
    ) -> None:
        if model is None:
            # a missing or broken artefact is a clear ModelError (E201) from load()
            model = TechniqueClassifier.load(model_path or default_model_path())
        self.model = model
        self.max_span_chars = max_span_chars

    def warm_up(self) -> None:
        """Load the shared sentence encoder now rather than on the first document."""
        if self.model.config.sentence_encoder:
            warm_up_encoder()

    def __call__(self, docs: list[Document]) -> list[Document]:
        if docs:
            self.set_annotations(docs, self.predict(docs))
        return docs

    def predict(self, docs: list[Document]) -> list[list[ParagraphTechniques]]:
        """One :class:`ParagraphTechniques` per paragraph of each document."""
        return self.model.analyse_many([d.text for d in docs], [d.language for d in docs])

    def set_annotations(
        self, docs: list[Document], results: list[list[ParagraphTechniques]]
    ) -> None:
        for doc, paragraphs in zip(docs, results, strict=True):
            found: list[Technique] = []
            for para in paragraphs:
                for start, end, label, score in para.spans:
                    span = _trimmed(doc.text, start, end, self.max_span_chars)
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


def _trimmed(text: str, start: int, end: int, max_chars: int) -> tuple[int, int] | None:
    """The span without surrounding whitespace, cut at a word boundary when it is longer
    than ``max_chars`` (a line without sentence punctuation is one "sentence"); None when
    nothing but whitespace is left."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if start >= end:
        return None
    if end - start > max_chars:
        cut = text.rfind(" ", start, start + max_chars)
        end = cut if cut > start else start + max_chars
    return start, end
