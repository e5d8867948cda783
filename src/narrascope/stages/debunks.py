"""Stage: the known debunks each document restates (``doc.debunks``).

Why a stage over a database path: the debunks are the user's (``narrascope debunks add``)
and live in their corpus database; the stage only reads them (and keeps the e5 vectors it
computed for cross-lingual candidates). It runs after the claim stage when there is one:
a document is matched by its check-worthy claims, else by its paragraphs and sentences,
or whole and by its claims when it is a short post (``models.debunk_match``).

Reader comments are matched too (issue 25: a Telegram reply or a comment is where a
debunked claim gets repeated), each as the post it is: a stand-in document holding the
comment's text, language and date (the page's when it has none) and the claims the claim
stage listed for it, so a comment of up to ``SHORT_TEXT`` characters is read whole and by
its claims, as any post is (a longer one as an article is: by its claims, else by its
paragraphs). Every comment of the batch goes into the same ``match_many`` call as the
documents: one encoder call for all their units, one e5 call. A comment's matches go to
its ``annotations["debunks"]``, ``claim_span`` in the whole text and its id under
``"comment"``; ``doc.debunks`` stays the article's.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from narrascope.doc import COMMENT, Claim, CommentRecord, DebunkMatch, Document, Span
from narrascope.models.debunk_match import DebunkMatcher

PARAGRAPH_VECTORS = 60  # as many as the narrative stage encodes


def comment_document(doc: Document, comment: CommentRecord) -> Document:
    """A reader comment of ``doc`` as a document of its own, for the matcher: its text,
    language and date (else the page's: a reply is dated near its post) and the claims
    the claim stage listed for it, offsets moved into the comment's text."""
    text = doc.comment_text(comment)
    date = comment.date or doc.meta.get("date")
    own = Document(
        text=text,
        id=f"{doc.id}#{comment.id}",
        language=comment.language or doc.language,
        meta={"date": date} if date else {},
    )
    for c in comment.annotations.get("claims") or []:
        try:  # as the claim stage wrote it; one of another shape is no unit
            start, end = int(c["start"]) - comment.start, int(c["end"]) - comment.start
            score = float(c.get("score", 0.0))
        except (AttributeError, KeyError, TypeError, ValueError):
            continue
        if 0 <= start < end <= len(text):
            own.claims.append(Claim(Span.of(text, start, end), score))
    return own


def comment_match(match: DebunkMatch, comment: CommentRecord) -> dict[str, Any]:
    """A comment's match as its record: ``claim_span`` moved into the whole text, the
    comment's id under :data:`~narrascope.doc.COMMENT`."""
    span = match.claim_span
    if span is not None:
        span = Span(span.start + comment.start, span.end + comment.start, span.text)
    moved = DebunkMatch(
        match.id, match.claim, match.score, match.url, match.verdict, span, match.date
    )
    return {**moved.to_dict(), COMMENT: comment.id}


class DebunkStage:
    """Sets ``doc.debunks`` (the article's) and each reader comment's ``debunks``:
    matches at or above the matcher's one threshold, best first."""

    name = "debunks"

    def __init__(
        self,
        db: str | Path | None = None,
        *,
        matcher: DebunkMatcher | None = None,
        encoder: Any = None,
        threshold: float | None = None,
        max_matches: int = 5,
        use_reader: bool = True,
    ) -> None:
        if matcher is None:
            if db is None:
                raise ValueError("DebunkStage needs a debunk database (db=PATH) or a matcher")
            matcher = DebunkMatcher(
                db,
                encoder=encoder,
                threshold=threshold,
                max_matches=max_matches,
                use_reader=use_reader,
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
        # for the batch; a unit reads its paragraph's row (a comment has none: its units
        # are encoded with the rest of the batch's, in match_many's one encoder call)
        upto = [min(len(d.paragraphs), PARAGRAPH_VECTORS) for d in docs]
        encode_paragraphs(self.matcher.encoder, docs, upto)
        threads = [(doc, comment) for doc in docs for comment in doc.comments]
        own = [comment_document(doc, comment) for doc, comment in threads]
        found = self.matcher.match_many([*docs, *own])
        for doc, matches in zip(docs, found[: len(docs)], strict=True):
            doc.debunks = matches
        for (_, comment), matches in zip(threads, found[len(docs) :], strict=True):
            comment.annotations["debunks"] = [comment_match(m, comment) for m in matches]
        return docs
