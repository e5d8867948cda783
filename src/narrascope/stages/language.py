"""Stage: set ``doc.language`` unless the input already said it."""

from __future__ import annotations

from narrascope.doc import Document
from narrascope.text import detect_language
from narrascope.text.language import warm_up


class LanguageStage:
    name = "language"

    def warm_up(self) -> None:
        warm_up()

    def __call__(self, docs: list[Document]) -> list[Document]:
        for doc in docs:
            if not doc.language:
                code, confidence = detect_language(doc.text)
                doc.language = code
                doc.meta["language_confidence"] = round(confidence, 3)
        return docs
