"""The Store interface every backend implements, and what its reads return."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Literal, Protocol, overload

from narrascope.doc import Document
from narrascope.errors import E_STORE_DOCUMENT, E_STORE_FILTER, StoreError

StatsBy = Literal["day", "week", "month", "source", "language"]
STATS_BY: tuple[str, ...] = ("day", "week", "month", "source", "language")
FACETS: tuple[str, ...] = ("language", "source", "narrative", "subnarrative", "debunk")
# Filters.debunk: this value selects the documents repeating any known debunk
ANY_DEBUNK = "any"
# Filters.hate: documents whose article or any comment is flagged so ("flagged": any)
HATE_FILTERS: tuple[str, ...] = ("hateful", "offensive", "incitement", "flagged")


class FilterError(StoreError):
    """A filter value the store cannot use (a date that is no day, a score outside 0-1).

    ``reason`` is the message without its code, for a command line to show as a usage error.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(E_STORE_FILTER, reason)
        self.reason = reason


def parse_day(value: str) -> str:
    """``value`` as an ISO day (2024-03-02), so a typo is refused, not an empty result;
    other ISO spellings of a day (20240302) are written back as stored dates are."""
    try:
        day = date.fromisoformat(value)
    except (TypeError, ValueError):
        raise FilterError(f"not a date (YYYY-MM-DD): {value!r}") from None
    return day.isoformat()


def parse_score(value: str | float) -> float:
    """``value`` (a number or its text) as a score, which is from 0 to 1."""
    try:
        score = float(value)
    except (TypeError, ValueError):
        score = -1.0
    if isinstance(value, bool) or not 0.0 <= score <= 1.0:  # NaN is refused too
        raise FilterError(f"a score is a number from 0 to 1, got {value!r}")
    return score


@dataclass(frozen=True, slots=True)
class Filters:
    """Which documents a read selects: every filter given must match (None: no filter).

    Why one object: ``search``, ``search_count``, ``iter_documents``, ``stats`` and
    ``stats_undated`` select the same documents for the same filters (a page, its total,
    its export and its chart agree), so the filters travel together, are checked once here
    and turned into SQL in one place. ``query`` is search words (all of them, any order,
    each in any of its forms; ``word*``, ``a OR b``, ``"a phrase"`` and ``-word`` too, see
    :mod:`narrascope.store.query`; it is never an error, and blank is no filter);
    ``min_score`` applies to ``narrative`` if given, else to any narrative of the
    document; dates are ISO days compared by day (``date_to`` included). ``hate``
    (one of :data:`HATE_FILTERS`) keeps the documents whose article or any reader comment
    the hate stage flagged so: ``hateful``, ``offensive``, ``incitement``, or
    ``flagged`` for any of them (the labels are thresholded by the model already).
    ``debunk`` keeps the documents that repeat the known debunk with this id (as the
    debunk stage matched it, at or above its threshold), or any known debunk for
    ``"any"`` (:data:`ANY_DEBUNK`).
    """

    query: str | None = None
    narrative: str | None = None
    language: str | None = None
    source: str | None = None
    date_from: str | None = None
    date_to: str | None = None
    min_score: float | None = None
    hate: str | None = None
    debunk: str | None = None

    def __post_init__(self) -> None:
        if self.debunk is not None:
            debunk = str(self.debunk).strip() or None
            if debunk is not None and debunk.lower() == ANY_DEBUNK:
                debunk = ANY_DEBUNK
            object.__setattr__(self, "debunk", debunk)
        if self.hate is not None:
            hate = str(self.hate).strip().lower() or None
            if hate is not None and hate not in HATE_FILTERS:
                raise FilterError(f"hate is one of {', '.join(HATE_FILTERS)}, got {self.hate!r}")
            object.__setattr__(self, "hate", hate)
        for name in ("date_from", "date_to"):
            day = getattr(self, name)
            if day is not None:
                object.__setattr__(self, name, parse_day(day))
        if self.min_score is not None:
            object.__setattr__(self, "min_score", parse_score(self.min_score))


@dataclass(frozen=True, slots=True)
class SearchHit:
    """One document found by :meth:`Store.search`: its metadata and narratives, best first.

    Not the whole Document, so a page of results stays cheap; ``get_document`` has the rest.
    """

    id: str
    language: str | None
    source: str | None
    url: str | None
    date: str | None
    narratives: list[tuple[str, float]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class StatsRow:
    """How many documents of one bucket (a day, a source...) carry one narrative."""

    bucket: str | None
    narrative: str
    documents: int


@dataclass(frozen=True, slots=True)
class HateStatsRow:
    """One bucket of ``stats(hate=True)``: its documents and comments, and the flagged ones.

    A document counts as hateful (offensive, incitement) when its article or any of its
    comments is, as ``Filters(hate=...)`` selects it, so the ``day`` rows' ``hateful``
    add up to ``search_count(Filters(hate="hateful"))``. Comments count in their
    document's bucket.
    """

    bucket: str | None
    documents: int
    hateful: int
    offensive: int
    incitement: int
    comments: int
    hateful_comments: int
    offensive_comments: int
    incitement_comments: int

    def to_dict(self) -> dict[str, int | str | None]:
        return {
            "bucket": self.bucket,
            "documents": self.documents,
            "hateful": self.hateful,
            "offensive": self.offensive,
            "incitement": self.incitement,
            "comments": self.comments,
            "hateful_comments": self.hateful_comments,
            "offensive_comments": self.offensive_comments,
            "incitement_comments": self.incitement_comments,
        }


@dataclass(frozen=True, slots=True)
class DebunkStatsRow:
    """One bucket of ``stats(debunks=True)``: its documents, and those that repeat any
    known debunk (as ``Filters(debunk="any")`` selects them, so the ``day`` rows'
    ``debunked`` add up to that search's count)."""

    bucket: str | None
    documents: int
    debunked: int

    def to_dict(self) -> dict[str, int | str | None]:
        return {"bucket": self.bucket, "documents": self.documents, "debunked": self.debunked}


@dataclass(frozen=True, slots=True)
class DebunkSummary:
    """A known debunk that documents of the corpus repeat, and how many do
    (``Store.debunk_summary``, for a dashboard and a filter's choices)."""

    id: str
    claim: str | None
    verdict: str | None
    url: str | None
    documents: int
    # of those, the documents where a reader comment repeats it (the article may too)
    in_comments: int = 0


class DocumentsNotSaved(StoreError):
    """Some documents of a batch could not be stored; the others were (and are committed).

    Why a separate error: one bad document must not cost its batch, yet the caller (the
    runner) has to report each failed id, so the failures travel with the exception.
    """

    def __init__(self, failures: list[tuple[str, str]], saved: int) -> None:
        self.failures = failures  # (document id, reason), in batch order
        self.saved = saved
        listed = "; ".join(f"{doc_id}: {reason}" for doc_id, reason in failures)
        super().__init__(
            E_STORE_DOCUMENT,
            f"{len(failures)} document(s) not stored ({saved} stored): {listed}",
        )


class Store(Protocol):
    """A corpus database of analysed documents. Writes go through ``save`` and ``delete``."""

    where: str  # the database as messages may show it: a path, or a URL without password

    def save(self, docs: Iterable[Document]) -> int:
        """Store ``docs`` in one transaction, replacing earlier results of the same ids.

        A document the database refuses is left out and the rest committed, then
        :class:`DocumentsNotSaved` names it. Returns how many were written (new or
        replaced); one stored already with the same content hash and record is left as
        it is and not counted. Safe with many writers on one database (retried on
        deadlock or lock contention).
        """
        ...

    def contains(self, doc_id: str, content_hash: str) -> bool:
        """Whether this id is stored with this text (so ``--resume`` can skip it)."""
        ...

    def get_document(self, doc_id: str) -> Document | None: ...

    def search(
        self, filters: Filters | None = None, *, limit: int = 50, offset: int = 0
    ) -> list[SearchHit]: ...

    def search_count(self, filters: Filters | None = None) -> int:
        """How many documents ``search`` with these filters finds in all (for pagination)."""
        ...

    def iter_documents(
        self, filters: Filters | None = None, *, batch_size: int = 500
    ) -> Iterator[Document]:
        """Every full Document ``search`` would find, newest first, ``batch_size`` at a time."""
        ...

    def facets(self) -> dict[str, list[tuple[str, int]]]:
        """Distinct languages, sources, narratives (and sub-narratives) with document counts."""
        ...

    @overload
    def stats(
        self,
        by: StatsBy = "month",
        filters: Filters | None = None,
        *,
        hate: Literal[False] = False,
    ) -> list[StatsRow]: ...

    @overload
    def stats(
        self, by: StatsBy = "month", filters: Filters | None = None, *, hate: Literal[True]
    ) -> list[HateStatsRow]: ...

    def stats(
        self, by: StatsBy = "month", filters: Filters | None = None, *, hate: bool = False
    ) -> list[StatsRow] | list[HateStatsRow]:
        """Documents per bucket and narrative; with ``hate``, flagged documents and comments."""
        ...

    def stats_undated(self, filters: Filters | None = None) -> int:
        """How many documents ``stats`` counts with these filters that have no date."""
        ...

    def debunk_stats(
        self, by: StatsBy = "month", filters: Filters | None = None
    ) -> list[DebunkStatsRow]:
        """Per bucket, the selected documents and those repeating any known debunk."""
        ...

    def debunk_summary(self) -> list[DebunkSummary]:
        """Every known debunk the stored documents repeat, most repeated first."""
        ...

    def debunked_in_comments(self) -> int:
        """How many stored documents repeat a known debunk in a reader comment."""
        ...

    def delete(self, doc_id: str) -> bool:
        """Remove a document and all its results; False if it was not stored."""
        ...

    def count(self) -> int: ...

    def close(self) -> None: ...

    def __enter__(self) -> Store: ...

    def __exit__(self, *exc: object) -> None: ...
