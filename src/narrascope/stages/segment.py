"""Stage: split the text into sentences with character offsets; evidence points at them."""

from __future__ import annotations

from narrascope.doc import Document, Span
from narrascope.text import split_sentences


class SentenceStage:
    name = "sentences"

    def __call__(self, docs: list[Document]) -> list[Document]:
        for doc in docs:
            if not doc.sentences:
                doc.sentences = [Span.of(doc.text, s, e) for s, e in split_sentences(doc.text)]
        return docs
