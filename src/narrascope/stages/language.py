"""Stage: set ``doc.language`` unless the input already said it."""

from __future__ import annotations

from narrascope.doc import Document
from narrascope.text import detect_language
from narrascope.text.language import warm_up

# below this, a comment (often a line or two) takes its document's language
COMMENT_MIN_CONFIDENCE = 0.5


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
            for comment in doc.comments:  # a reply may be in another language than the post
                if not comment.language:
                    code, confidence = detect_language(doc.comment_text(comment))
                    sure = code is not None and confidence >= COMMENT_MIN_CONFIDENCE
                    comment.language = code if sure else doc.language
        return docs
