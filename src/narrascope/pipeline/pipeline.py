"""Pipeline and the Stage protocol (batch in, batch out), in the spirit of spaCy's Language."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import islice
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from narrascope.doc import Document
from narrascope.errors import E_NOT_A_TEXT, E_STAGE_CONTRACT, NarrascopeError

if TYPE_CHECKING:
    from narrascope.models.encoder import SentenceEncoder


# ``progress(stage_name, stages_done, stages_total)``, called before each stage of a batch
Progress = Callable[[str, int, int], None]


class Cancelled(BaseException):
    """The caller's ``should_stop`` said stop; raised between stages and between batches.

    A ``BaseException``, like ``asyncio.CancelledError``: code that catches ``Exception``
    to isolate a failing document (the runner) must not take a stop for a broken text.
    """


@runtime_checkable
class Stage(Protocol):
    """What every analysis step looks like.

    A stage annotates documents in place and returns the same list, so stages compose
    and batching is the pipeline's business, not theirs.
    """

    name: str

    def __call__(self, docs: list[Document]) -> list[Document]: ...


class Pipeline:
    """Runs stages over documents, one batch at a time."""

    def __init__(
        self,
        stages: Sequence[Stage],
        *,
        encoder: SentenceEncoder | None = None,
        meta: dict | None = None,
    ) -> None:
        self.stages = list(stages)
        # the sentence encoder the stages share (built by the factory; None without one)
        self.encoder = encoder
        self.meta = dict(meta or {})

    @property
    def stage_names(self) -> list[str]:
        return [s.name for s in self.stages]

    def get_stage(self, name: str) -> Stage:
        for stage in self.stages:
            if stage.name == name:
                return stage
        raise KeyError(f"no stage named {name!r}; stages are {self.stage_names}")

    def make_doc(self, text: str | Document, *, id: str = "") -> Document:
        if isinstance(text, Document):
            return text
        if not isinstance(text, str):
            raise NarrascopeError(
                E_NOT_A_TEXT, f"expected str or Document, got {type(text).__name__}"
            )
        from narrascope.ingest.formats import attach_split  # only when a str comes in

        doc = Document(text=text, id=id)
        attach_split(doc)  # a pasted page with its reader thread
        return doc

    def __call__(
        self,
        text: str | Document,
        *,
        should_stop: Callable[[], bool] | None = None,
        progress: Progress | None = None,
    ) -> Document:
        """Analyse one text. ``should_stop`` is asked before each stage (a true answer
        raises :class:`Cancelled`); ``progress`` hears which stage starts."""
        return self._run([self.make_doc(text)], should_stop, progress)[0]

    def pipe(
        self,
        texts: Iterable[str | Document],
        *,
        batch_size: int = 16,
        should_stop: Callable[[], bool] | None = None,
        progress: Progress | None = None,
    ) -> Iterator[Document]:
        """Analyse a stream lazily; memory stays bounded by one batch.

        ``should_stop`` and ``progress`` work as in :meth:`__call__`, for every batch; a
        server uses them to drop work whose client left and to show how far it got.
        """
        iterator = iter(texts)
        while batch := [self.make_doc(t) for t in islice(iterator, batch_size)]:
            yield from self._run(batch, should_stop, progress)

    def _run(
        self,
        docs: list[Document],
        should_stop: Callable[[], bool] | None = None,
        progress: Progress | None = None,
    ) -> list[Document]:
        # a page with a reader thread: the stages read the article alone (comments are
        # analysed on their own), with the offsets of the whole text kept
        whole = [_show_article_only(doc) for doc in docs]
        try:
            return self._stages(docs, should_stop, progress)
        finally:
            for doc, text in zip(docs, whole, strict=True):
                if text is not None:
                    doc.text, doc.whole_text = text, None

    def _stages(
        self,
        docs: list[Document],
        should_stop: Callable[[], bool] | None,
        progress: Progress | None,
    ) -> list[Document]:
        for n, stage in enumerate(self.stages):
            if should_stop is not None and should_stop():
                raise Cancelled(f"stopped before stage {stage.name!r}")
            if progress is not None:
                progress(stage.name, n, len(self.stages))
            returned = stage(docs)
            if returned is None or len(returned) != len(docs):
                raise NarrascopeError(
                    E_STAGE_CONTRACT, f"stage {stage.name!r} must return the batch it was given"
                )
            docs = returned
        return docs


def _show_article_only(doc: Document) -> str | None:
    """Blank out what is not the article (the comments after it, a header before it) and
    return the whole text to put back afterwards; None when there is nothing to hide.

    Blanking, not cutting, keeps every offset a stage writes valid in the whole text, and
    line breaks are kept so paragraph numbers stay those of the whole text. A thread with
    no article text (replies whose post is not in the input) is read whole.
    """
    if doc.article is None:
        return None
    start, end = doc.article
    text = doc.text
    if not text[start:end].strip() or (start == 0 and end >= len(text)):
        return None
    head = "".join(c if c == "\n" else " " for c in text[:start]) if start else ""
    doc.text, doc.whole_text = head + text[start:end], text
    return text
