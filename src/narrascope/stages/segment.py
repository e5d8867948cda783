"""Stage: cut the text into sentences and paragraphs with character offsets; evidence
points at sentences, techniques and the encoder's vectors at paragraphs."""

from __future__ import annotations

from narrascope.doc import Document
from narrascope.text.segment import segment


class SegmentStage:
    name = "segment"

    def __call__(self, docs: list[Document]) -> list[Document]:
        for doc in docs:
            segment(doc)
        return docs
