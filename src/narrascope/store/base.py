"""The Store interface every backend implements, and what its reads return."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal, Protocol

from narrascope.doc import Document

StatsBy = Literal["day", "week", "month", "source", "language"]
STATS_BY: tuple[str, ...] = ("day", "week", "month", "source", "language")


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


class Store(Protocol):
    """A corpus database of analysed documents. Writes go through ``save`` only."""

    def save(self, docs: Iterable[Document]) -> int:
        """Store ``docs`` in one transaction, replacing earlier results of the same ids."""
        ...

    def contains(self, doc_id: str, content_hash: str) -> bool:
        """Whether this id is stored with this text (so ``--resume`` can skip it)."""
        ...

    def get_document(self, doc_id: str) -> Document | None: ...

    def search(
        self,
        query: str | None = None,
        *,
        narrative: str | None = None,
        language: str | None = None,
        source: str | None = None,
        date_from: str | None = None,
        date_to: str | None = None,
        min_score: float | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> list[SearchHit]: ...

    def stats(self, by: StatsBy = "month") -> list[StatsRow]: ...

    def count(self) -> int: ...

    def close(self) -> None: ...

    def __enter__(self) -> Store: ...

    def __exit__(self, *exc: object) -> None: ...
