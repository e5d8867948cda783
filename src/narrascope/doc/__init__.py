"""The document model every stage reads and writes.

A :class:`Document` owns the text; everything else is a character-offset view over it
(:class:`Span`) or a label with a score and the spans that justify it (:class:`Annotation`),
kept in named groups so that stages never overwrite each other's results. A page with
reader comments keeps its comments as :class:`CommentRecord` spans after the article.
"""

from narrascope.doc.document import (
    COMMENT,
    RESERVED_KEYS,
    Annotation,
    Claim,
    CommentRecord,
    DebunkMatch,
    Document,
    Entity,
    Paragraph,
    Span,
    Technique,
)

__all__ = [
    "COMMENT",
    "RESERVED_KEYS",
    "Annotation",
    "Claim",
    "CommentRecord",
    "DebunkMatch",
    "Document",
    "Entity",
    "Paragraph",
    "Span",
    "Technique",
]
