"""Stage: the known debunks each document restates (``doc.debunks``).

Why a stage over a database path: the debunks are the user's (``narrascope debunks add``)
and live in their corpus database; the stage only reads them (and keeps the e5 vectors it
computed for cross-lingual candidates). It runs after the claim stage when there is one:
a document is matched by its check-worthy claims, else by its paragraphs and sentences,
or whole and by its claims when it is a short post (``models.debunk_match``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from narrascope.doc import Document
from narrascope.models.debunk_match import DebunkMatcher

PARAGRAPH_VECTORS = 60  # as many as the narrative stage encodes


class DebunkStage:
    """Sets ``doc.debunks``: matches at or above the matcher's one threshold, best first."""

    name = "debunks"

    def __init__(
        self,
        db: str | Path | None = None,
        *,
        matcher: DebunkMatcher | None = None,
        encoder: Any = None,
        threshold: float | None = None,
        max_matches: int = 5,
    ) -> None:
        if matcher is None:
            if db is None:
                raise ValueError("DebunkStage needs a debunk database (db=PATH) or a matcher")
            matcher = DebunkMatcher(
                db, encoder=encoder, threshold=threshold, max_matches=max_matches
            )
        self.matcher = matcher

    def warm_up(self) -> None:
        self.matcher.warm_up()

    def __call__(self, docs: list[Document]) -> list[Document]:
        from narrascope.models.encoder import encode_paragraphs
        from narrascope.text.segment import segment

        for doc in docs:
            if not doc.paragraphs:
                segment(doc)
        # the paragraph vectors the narrative stage made (free then), else made once here
        # for the batch; a unit reads its paragraph's row
        upto = [min(len(d.paragraphs), PARAGRAPH_VECTORS) for d in docs]
        encode_paragraphs(self.matcher.encoder, docs, upto)
        for doc, matches in zip(docs, self.matcher.match_many(docs), strict=True):
            doc.debunks = matches
        return docs
