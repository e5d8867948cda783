"""Document, Span and Annotation, with a lossless JSON round-trip."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from narrascope.text.language import normalize_language

if TYPE_CHECKING:
    from narrascope.ingest.threads import Thread

# Keys of a document record that are never annotation groups.
RESERVED_KEYS = frozenset(
    {
        "id",
        "language",
        "text",
        "sentences",
        "explanation",
        "content_hash",
        "entities",
        "claims",
        "debunks",
        "techniques",
        "persuasion_profile",
        "article",
        "comments",
        "hate",
        "incitement",
    }
)


def has_words(text: str) -> bool:
    """Whether ``text`` holds a letter or digit: a line of "—", "***", emoji or zero-width
    spaces says nothing, so it is never evidence, and a text of nothing else is blank."""
    return any(c.isalnum() for c in text)


def wording(text: str) -> str:
    """``text``'s words, case-folded and single-spaced: two spans with the same wording are
    one sentence repeated (a refrain, a channel's signature), worth one piece of evidence."""
    return " ".join(text.split()).casefold()


@dataclass(frozen=True, slots=True)
class Span:
    """A half-open character range ``[start, end)`` of a document's text.

    The text is copied in so a span read back from JSON is still self-explaining
    without its document.
    """

    start: int
    end: int
    text: str

    @classmethod
    def of(cls, doc_text: str, start: int, end: int) -> Span:
        return cls(start, end, doc_text[start:end])

    @property
    def has_words(self) -> bool:
        """Whether the span can be evidence (see :func:`has_words`)."""
        return has_words(self.text)

    def to_dict(self) -> dict[str, Any]:
        return {"start": self.start, "end": self.end, "text": self.text}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Span:
        return cls(int(data["start"]), int(data["end"]), str(data["text"]))


@dataclass(frozen=True, slots=True)
class Paragraph(Span):
    """A non-blank line of the document, numbered as SemEval-2023 numbers lines
    (``line`` 1 is the title; blank lines keep their number but are no paragraph)."""

    line: int = 0


@dataclass(slots=True)
class Annotation:
    """One label a stage gives a document, with its confidence and evidence.

    ``score`` is a calibrated probability in [0, 1]. ``evidence`` lists the spans that
    support the label most, best first, each with its own score in ``evidence_scores``.
    ``parent`` links a fine label to its coarse one (a sub-narrative to its narrative).
    """

    label: str
    score: float
    evidence: list[Span] = field(default_factory=list)
    evidence_scores: list[float] = field(default_factory=list)
    parent: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"label": self.label, "score": round(float(self.score), 4)}
        if self.parent is not None:
            out["parent"] = self.parent
        out["evidence"] = [
            {**span.to_dict(), "score": round(float(score), 4)}
            for span, score in zip(self.evidence, self.evidence_scores, strict=False)
        ]
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Annotation:
        evidence = [Span.from_dict(e) for e in data.get("evidence", [])]
        scores = [float(e.get("score", 0.0)) for e in data.get("evidence", [])]
        return cls(data["label"], float(data["score"]), evidence, scores, data.get("parent"))


@dataclass(slots=True)
class Entity:
    """A named entity the document talks about, with the role the text casts it in.

    ``mentions`` are every place the entity is named (``Putin``, ``Vladimir Putin``,
    ``Путина`` grouped together). ``main_role`` is Protagonist, Antagonist or Innocent, or
    None when the text names the entity without framing it; ``score`` is the calibrated
    probability of that role (of "no role" when ``main_role`` is None). ``fine_roles`` are
    Annotations whose ``parent`` is the main role. ``evidence`` holds the sentences that
    frame the entity most, best first.
    """

    name: str
    mentions: list[Span] = field(default_factory=list)
    main_role: str | None = None
    score: float = 0.0
    fine_roles: list[Annotation] = field(default_factory=list)
    evidence: list[Span] = field(default_factory=list)
    evidence_scores: list[float] = field(default_factory=list)
    kind: str | None = None

    @property
    def framed(self) -> bool:
        return self.main_role is not None

    @property
    def fine_labels(self) -> list[str]:
        return [a.label for a in self.fine_roles]

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "main_role": self.main_role,
            "score": round(float(self.score), 4),
            "fine_roles": [a.to_dict() for a in self.fine_roles],
            "mentions": [m.to_dict() for m in self.mentions],
            "evidence": [
                {**span.to_dict(), "score": round(float(score), 4)}
                for span, score in zip(self.evidence, self.evidence_scores, strict=False)
            ],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Entity:
        evidence = data.get("evidence", [])
        return cls(
            name=str(data.get("name", "")),
            mentions=[Span.from_dict(m) for m in data.get("mentions", [])],
            main_role=data.get("main_role"),
            score=float(data.get("score", 0.0)),
            fine_roles=[Annotation.from_dict(a) for a in data.get("fine_roles", [])],
            evidence=[Span.from_dict(e) for e in evidence],
            evidence_scores=[float(e.get("score", 0.0)) for e in evidence],
            kind=data.get("kind"),
        )


@dataclass(slots=True)
class Technique:
    """One persuasion technique (SemEval-2023 Task 3) found in a paragraph.

    ``span`` is the stretch of the document that carries it (a few words for loaded
    language, a sentence for doubt); ``score`` is the paragraph's probability of the
    technique, lowered for a span that scores below the paragraph's best one.
    ``paragraph`` is the official line number of the paragraph (1 = the title line) and
    ``family`` one of the six SemEval-2023 families (``attack_on_reputation``...).
    Techniques overlap each other freely, so they are a flat list, not a partition.
    """

    label: str
    span: Span
    score: float
    paragraph: int = 0
    family: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "family": self.family,
            "score": round(float(self.score), 4),
            "paragraph": self.paragraph,
            **self.span.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Technique:
        return cls(
            label=str(data["label"]),
            span=Span.from_dict(data),
            score=float(data.get("score", 0.0)),
            paragraph=int(data.get("paragraph", 0)),
            family=data.get("family"),
        )


@dataclass(slots=True)
class Claim:
    """A check-worthy statement: a sentence (or clause) stating a fact someone can check
    (a number, an event, an attribution, a cause). ``score`` is the model's probability
    that it is check-worthy; a document lists only claims at or above the claim stage's
    threshold, best first."""

    span: Span
    score: float

    @property
    def text(self) -> str:
        return self.span.text

    def to_dict(self) -> dict[str, Any]:
        return {"score": round(float(self.score), 4), **self.span.to_dict()}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Claim:
        return cls(span=Span.from_dict(dict(data)), score=float(data.get("score", 0.0)))


@dataclass(slots=True)
class DebunkMatch:
    """A known debunk (a fact-check the user imported) that the document restates.

    ``id``/``claim``/``url``/``verdict``/``date`` come from the debunk database (``date``
    as imported: a reader weighs whether the fact-check came before or after the post, and
    the matcher counts a debunk dated just before the text's day as more likely); ``score``
    is the matcher's confidence that the document (at ``claim_span``, the stretch that
    restates it; None when the document as a whole matched) repeats the debunked claim."""

    id: str
    claim: str
    score: float
    url: str | None = None
    verdict: str | None = None
    claim_span: Span | None = None
    date: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "claim": self.claim,
            "url": self.url,
            "verdict": self.verdict,
            "date": self.date,
            "score": round(float(self.score), 4),
            "claim_span": None if self.claim_span is None else self.claim_span.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DebunkMatch:
        span = data.get("claim_span")
        return cls(
            id=str(data["id"]),
            claim=str(data.get("claim") or ""),
            score=float(data.get("score", 0.0)),
            url=data.get("url"),
            verdict=data.get("verdict"),
            claim_span=None if not span else Span.from_dict(dict(span)),
            date=None if data.get("date") is None else str(data["date"]),
        )


# the key of a comment's claim and debunk records that names the comment (its ``id``):
# their offsets count in the page's whole text, and a record read alone (a CSV row, a
# stored match) still says which comment restates what
COMMENT = "comment"

_COMMENT_FIELDS = frozenset(
    {"id", "parent", "author", "date", "start", "end", "depth", "language", "language_confidence"}
)


@dataclass(slots=True)
class CommentRecord:
    """One reader comment of a document's thread: its body is ``text[start:end]``.

    The structure comes from :mod:`narrascope.ingest.threads` (``parent`` is the id of
    the comment it replies to, None for a reply to the article; ``depth`` 0 is
    top-level). ``language`` and ``annotations`` are for the stages: a comment is
    analysed on its own, and each analysis is kept under its name (``"hate"``,
    ``"incitement"``, ``"claims"``, ``"debunks"``) as a JSON-ready value, written into the
    comment's record next to its structure, the way a document's groups are written next
    to its text. ``claims`` and ``debunks`` are lists shaped as a document's
    (:class:`Claim` / :class:`DebunkMatch` ``to_dict``), offsets in the whole text, each
    with the comment's id under :data:`COMMENT`.
    """

    id: str
    parent: str | None
    author: str | None
    start: int
    end: int
    depth: int = 0
    date: str | None = None
    language: str | None = None
    # the language detector's confidence in its own answer for this comment (None when the
    # input gave the language); low with the post's language: taken from the post
    language_confidence: float | None = None
    annotations: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "parent": self.parent,
            "author": self.author,
            "date": self.date,
            "start": self.start,
            "end": self.end,
            "depth": self.depth,
            "language": self.language,
        }
        if self.language_confidence is not None:  # written once a stage measured it
            out["language_confidence"] = self.language_confidence
        for name, value in self.annotations.items():
            if name not in out:  # an analysis never hides the structure
                out[name] = value.to_dict() if hasattr(value, "to_dict") else value
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CommentRecord:
        confidence = data.get("language_confidence")
        return cls(
            id=str(data["id"]),
            parent=None if data.get("parent") is None else str(data["parent"]),
            author=data.get("author"),
            start=int(data["start"]),
            end=int(data["end"]),
            depth=int(data.get("depth", 0)),
            date=data.get("date"),
            language=data.get("language"),
            language_confidence=None if confidence is None else float(confidence),
            annotations={k: v for k, v in data.items() if k not in _COMMENT_FIELDS},
        )


@dataclass(slots=True)
class Document:
    """A text plus everything the pipeline learned about it.

    ``meta`` holds what the input said about the document (source, url, date, path).
    ``groups`` holds annotations by name (``"narratives"``, ``"subnarratives"``...),
    the way spaCy keeps ``doc.spans``; the properties below are shortcuts to them.

    A page with reader comments keeps one text, with ``article`` the ``(start, end)``
    of the article in it and ``comments`` the spans of the comments after it (see
    :meth:`set_thread`): the article must be analysed as the article and each comment
    on its own. Without a thread ``article`` is None and ``comments`` empty.
    """

    text: str
    id: str = ""
    language: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    sentences: list[Span] = field(default_factory=list)
    # set by the segment stage with the sentences; not written to outputs (the text and
    # the technique annotations' line numbers say where they are)
    paragraphs: list[Paragraph] = field(default_factory=list)
    # the sentence encoder's vectors of the first ``len(tensor)`` paragraphs (spaCy's
    # ``Doc.tensor``): what the model stages share, and never written to outputs
    tensor: np.ndarray | None = field(default=None, repr=False, compare=False)
    groups: dict[str, list[Annotation]] = field(default_factory=dict)
    explanation: str | None = None
    entities: list[Entity] = field(default_factory=list)
    techniques: list[Technique] = field(default_factory=list)
    # technique family -> paragraphs using a technique of it (set by the techniques stage)
    persuasion_profile: dict[str, int] = field(default_factory=dict)
    # every label's probability from the document classifier (set by the narrative stage,
    # read by later stages, like spaCy's Doc.cats); not written to outputs: the chosen
    # labels in ``groups`` are what a reader needs
    cats: dict[str, float] = field(default_factory=dict)
    article: tuple[int, int] | None = None
    comments: list[CommentRecord] = field(default_factory=list)
    # the hate stage's reading of the article (or the whole text): JSON-ready
    # ``{"label": "hateful"|"offensive"|"none", "score", "target", "evidence"}`` and
    # ``{"label": bool, "score", "evidence"}``; None until a hate stage ran
    hate: dict[str, Any] | None = None
    incitement: dict[str, Any] | None = None
    # check-worthy claims, best first (the claim stage), and the known debunks the
    # document restates (the debunk stage, with a debunk database)
    claims: list[Claim] = field(default_factory=list)
    debunks: list[DebunkMatch] = field(default_factory=list)
    # while the stages run on a page with a thread, ``text`` shows the article alone and
    # this holds the whole page (set and cleared by the pipeline; never written out)
    whole_text: str | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        # one spelling of each language, whatever the input wrote ("RU", "ru-RU", "rus"):
        # the stages look languages up by it; an unknown code is a ValueError here
        self.language = normalize_language(self.language)

    @property
    def has_thread(self) -> bool:
        return self.article is not None

    @property
    def article_text(self) -> str:
        """The article alone: what narratives, entities and techniques should read."""
        if self.article is None:
            return self.text
        return self.text[self.article[0] : self.article[1]]

    def comment_text(self, comment: CommentRecord) -> str:
        return (self.whole_text or self.text)[comment.start : comment.end]

    def set_thread(self, thread: Thread | None) -> None:
        """Attach a thread found in this document's text; None leaves it untouched.

        The thread's warnings (a dump that could only partly be read) go to
        ``meta["thread_warnings"]``: the document is still analysed, and the reader
        learns why its comments may be incomplete.
        """
        if thread is None:
            return
        self.article = (thread.article[0], thread.article[1])
        self.comments = [
            CommentRecord(c.id, c.parent, c.author, c.start, c.end, c.depth, c.date)
            for c in thread.comments
        ]
        self.meta["thread_kind"] = thread.kind
        if thread.warnings:
            self.meta["thread_warnings"] = list(thread.warnings)

    @property
    def content_hash(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8", "surrogatepass")).hexdigest()[:16]

    @property
    def narratives(self) -> list[Annotation]:
        return self.groups.get("narratives", [])

    @property
    def subnarratives(self) -> list[Annotation]:
        return self.groups.get("subnarratives", [])

    def subnarratives_of(self, narrative: str) -> list[Annotation]:
        return [a for a in self.subnarratives if a.parent == narrative]

    def span(self, start: int, end: int) -> Span:
        return Span.of(self.text, start, end)

    def to_dict(self, *, include_text: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "language": self.language}
        out.update({k: v for k, v in self.meta.items() if v is not None})
        out["content_hash"] = self.content_hash
        if include_text:
            out["text"] = self.text
        out["sentences"] = [[s.start, s.end] for s in self.sentences]
        for name, group in self.groups.items():
            out[name] = [a.to_dict() for a in group]
        out["explanation"] = self.explanation
        out["entities"] = [e.to_dict() for e in self.entities]
        out["techniques"] = [t.to_dict() for t in self.techniques]
        out["persuasion_profile"] = dict(self.persuasion_profile)
        out["claims"] = [c.to_dict() for c in self.claims]
        out["debunks"] = [d.to_dict() for d in self.debunks]
        if self.hate is not None:
            out["hate"] = self.hate
        if self.incitement is not None:
            out["incitement"] = self.incitement
        if self.article is not None:
            out["article"] = {"start": self.article[0], "end": self.article[1]}
            out["comments"] = [c.to_dict() for c in self.comments]
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Document:
        text = data.get("text", "")
        reserved = RESERVED_KEYS
        groups = {
            name: [Annotation.from_dict(a) for a in value]
            for name, value in data.items()
            if name not in reserved
            and isinstance(value, list)
            and all(isinstance(a, dict) and "label" in a for a in value)
        }
        meta = {k: v for k, v in data.items() if k not in reserved and k not in groups}
        sentences = [Span.of(text, s, e) for s, e in data.get("sentences", [])]
        article = data.get("article")
        return cls(
            text=text,
            id=data.get("id", ""),
            language=data.get("language"),
            meta=meta,
            sentences=sentences,
            groups=groups,
            explanation=data.get("explanation"),
            entities=[Entity.from_dict(e) for e in data.get("entities") or []],
            techniques=[Technique.from_dict(t) for t in data.get("techniques") or []],
            persuasion_profile={
                str(k): int(v) for k, v in (data.get("persuasion_profile") or {}).items()
            },
            article=None if article is None else (int(article["start"]), int(article["end"])),
            comments=[CommentRecord.from_dict(c) for c in data.get("comments") or []],
            hate=data.get("hate"),
            incitement=data.get("incitement"),
            claims=[Claim.from_dict(c) for c in data.get("claims") or []],
            debunks=[DebunkMatch.from_dict(d) for d in data.get("debunks") or []],
        )
